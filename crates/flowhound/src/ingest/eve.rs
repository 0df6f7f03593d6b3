//! Suricata `eve.json`: `flow` and `netflow` events mapped to the canonical schema (see `docs/suricata.md`).
//!
//! A `flow` event is bidirectional: `bytes_toserver` is the upload, `bytes_toclient` the download. A
//! `netflow` event is one direction of a flow (Suricata writes two per flow, the second with the
//! addresses swapped): its `bytes` are the upload and the download is 0. A file holding both types is
//! read as the type of its first flow event, so no flow is counted three times. Every other event
//! (alert, dns, http, stats, ..., and the other flow type) is skipped and counted per type for the run
//! summary. `app_proto` has no canonical column and is dropped.

use super::builder::FlowRow;
use super::fields::{FieldError, TextSink};
use super::text::{text_line, NOT_UTF8};
use super::ReadOptions;
use crate::error::{FlowError, Result};
use crate::ip;
use crate::schema::Proto;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

/// The fields the reader takes, named as bad rows report them (index = `FieldError` column).
const FIELDS: [&str; 17] = [
    "(line)",
    "event_type",
    "src_ip",
    "dest_ip",
    "proto",
    "src_port",
    "dest_port",
    "icmp_type",
    "start",
    "end",
    "bytes_toserver",
    "bytes_toclient",
    "pkts_toserver",
    "pkts_toclient",
    "bytes",
    "pkts",
    "",
];

/// The names bad rows report for events of `kind`: section fields prefixed (`flow.start`), the section
/// itself by its name.
fn headers(kind: Kind) -> Vec<String> {
    let sec = kind.section();
    FIELDS
        .iter()
        .enumerate()
        .map(|(i, name)| match i {
            i if i == F::Section as usize => sec.to_string(),
            i if i >= F::Start as usize => format!("{sec}.{name}"),
            _ => name.to_string(),
        })
        .collect()
}

/// Index of a field in [`FIELDS`].
#[derive(Clone, Copy)]
enum F {
    EventType = 1,
    SrcIp,
    DestIp,
    Proto,
    SrcPort,
    DestPort,
    IcmpType,
    Start,
    End,
    BytesToServer,
    BytesToClient,
    PktsToServer,
    PktsToClient,
    Bytes,
    Pkts,
    /// The `flow`/`netflow` object itself.
    Section,
}

/// The event types read as flows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Bidirectional `flow` events.
    Flow = 0,
    /// Unidirectional `netflow` events.
    Netflow,
}

impl Kind {
    fn of(event_type: &str) -> Option<Kind> {
        match event_type {
            "flow" => Some(Kind::Flow),
            "netflow" => Some(Kind::Netflow),
            _ => None,
        }
    }

    fn section(self) -> &'static str {
        match self {
            Kind::Flow => "flow",
            Kind::Netflow => "netflow",
        }
    }
}

/// The top-level keys of an event that matter; everything else (alert, dns, tcp, ...) is skipped unread.
#[derive(Deserialize)]
struct Event {
    event_type: Option<Value>,
    src_ip: Option<Value>,
    dest_ip: Option<Value>,
    proto: Option<Value>,
    src_port: Option<Value>,
    dest_port: Option<Value>,
    icmp_type: Option<Value>,
    flow: Option<Value>,
    netflow: Option<Value>,
}

/// Why a line that is not an event is skipped.
const NOT_EVENT: &str =
    "not a JSON object with distinct keys (Suricata writes one event object per line)";

/// Reads the events of an eve.json stream into `sink`; returns the other events skipped, by type.
pub fn read(
    path: &Path,
    mut reader: Box<dyn BufRead + Send>,
    opts: &ReadOptions,
    sink: &mut TextSink,
) -> Result<BTreeMap<String, u64>> {
    let names = [headers(Kind::Flow), headers(Kind::Netflow)];
    let mut other: BTreeMap<String, u64> = BTreeMap::new();
    // The flow type read: the first met; the other type is skipped (each flow is one `flow` event and
    // two `netflow` events).
    let mut chosen: Option<Kind> = None;
    let (mut buf, mut line_no) = (Vec::new(), 0u64);
    let cap = opts.limits.max_line_bytes;
    while let Some(text) = text_line(path, &mut *reader, &mut buf, cap, &mut line_no, sink)? {
        let Ok(line) = std::str::from_utf8(text) else {
            sink.malformed(line_no, NOT_UTF8, &String::from_utf8_lossy(text))?;
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        let Ok(ev) = serde_json::from_str::<Event>(line) else {
            sink.malformed(line_no, NOT_EVENT, line)?;
            continue;
        };
        match event_kind(&ev) {
            Ok(Some(kind)) if *chosen.get_or_insert(kind) == kind => {
                sink.accept(line_no, to_row(&ev, kind), &names[kind as usize])?
            }
            Ok(_) => *other.entry(event_name(&ev)).or_insert(0) += 1,
            Err(e) => sink.accept(line_no, Err(e), &names[0])?,
        }
    }
    if sink.rows_read == 0 && sink.bad.count == 0 && !other.is_empty() {
        return Err(no_flows(path, &other));
    }
    Ok(other)
}

/// The error for an eve.json file with events but none of them flows.
fn no_flows(path: &Path, other: &BTreeMap<String, u64>) -> FlowError {
    FlowError::Corrupt {
        path: path.to_path_buf(),
        why: format!(
            "Suricata eve.json without flow or netflow events (it has {}); enable them in suricata.yaml: outputs: - eve-log: types: [flow, netflow]",
            summarise(other)
        ),
    }
}

/// "alert 3, dns 120, stats 2"
pub fn summarise(counts: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    parts.join(", ")
}

fn event_name(ev: &Event) -> String {
    match &ev.event_type {
        Some(Value::String(s)) => s.chars().take(40).collect(),
        _ => "(no event_type)".to_string(),
    }
}

fn event_kind(ev: &Event) -> Result<Option<Kind>, FieldError> {
    match &ev.event_type {
        Some(Value::String(s)) => Ok(Kind::of(s)),
        None => Ok(None),
        Some(v) => Err(bad(F::EventType, v, "not a string")),
    }
}

fn bad(f: F, v: &Value, why: &'static str) -> FieldError {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    (f as usize, text, why)
}

fn missing(f: F, why: &'static str) -> FieldError {
    (f as usize, String::new(), why)
}

/// Maps one `flow` or `netflow` event to a canonical row.
fn to_row(ev: &Event, kind: Kind) -> Result<FlowRow, FieldError> {
    let sec = match kind {
        Kind::Flow => &ev.flow,
        Kind::Netflow => &ev.netflow,
    };
    let Some(Value::Object(sec)) = sec else {
        return Err(missing(
            F::Section,
            "the event has no flow/netflow object (Suricata writes one in every such event)",
        ));
    };
    let (ts_us, duration) = times(sec)?;
    let (up, down, packets) = counters(sec, kind)?;
    let proto = ev.proto.as_ref().map(proto).transpose()?;
    let dst_port =
        port(ev.dest_port.as_ref(), F::DestPort)?.or(port(ev.icmp_type.as_ref(), F::IcmpType)?);
    Ok(FlowRow {
        ts_us,
        src: address(ev.src_ip.as_ref(), F::SrcIp)?,
        dst: address(ev.dest_ip.as_ref(), F::DestIp)?,
        proto,
        src_port: port(ev.src_port.as_ref(), F::SrcPort)?,
        dst_port: dst_port.unwrap_or(0),
        up,
        down,
        duration,
        packets,
        label: None,
    })
}

fn address(v: Option<&Value>, f: F) -> Result<u128, FieldError> {
    match v {
        Some(Value::String(s)) => {
            ip::parse(s).ok_or_else(|| bad(f, v.unwrap_or(&Value::Null), "not an IP address"))
        }
        Some(other) => Err(bad(f, other, "not an IP address")),
        None => Err(missing(
            f,
            "missing (every Suricata flow event has src_ip and dest_ip)",
        )),
    }
}

fn proto(v: &Value) -> Result<Proto, FieldError> {
    match v {
        Value::String(s) => Ok(Proto::parse(s)),
        Value::Number(n) => n
            .as_i64()
            .map(Proto::from_number)
            .ok_or_else(|| bad(F::Proto, v, "not a protocol name or number")),
        other => Err(bad(F::Proto, other, "not a protocol name or number")),
    }
}

fn port(v: Option<&Value>, f: F) -> Result<Option<u16>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(val) => match val.as_u64() {
            Some(p) if p <= 65_535 => Ok(Some(p as u16)),
            _ => Err(bad(f, val, "not a port number (0-65535)")),
        },
    }
}

/// A non-negative integer counter of the section; `required` counters must be present.
fn count(sec: &Map<String, Value>, f: F, required: bool) -> Result<Option<u64>, FieldError> {
    match sec.get(FIELDS[f as usize]) {
        None | Some(Value::Null) if required => Err(missing(
            f,
            "missing (Suricata writes the byte counters in every flow/netflow event)",
        )),
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(f, v, "not a whole non-negative number")),
    }
}

/// Up bytes, down bytes and packets.
fn counters(sec: &Map<String, Value>, kind: Kind) -> Result<(u64, u64, Option<u64>), FieldError> {
    if kind == Kind::Netflow {
        let up = count(sec, F::Bytes, true)?.unwrap_or(0);
        return Ok((up, 0, count(sec, F::Pkts, false)?));
    }
    let up = count(sec, F::BytesToServer, true)?.unwrap_or(0);
    let down = count(sec, F::BytesToClient, true)?.unwrap_or(0);
    let packets = match (
        count(sec, F::PktsToServer, false)?,
        count(sec, F::PktsToClient, false)?,
    ) {
        (None, None) => None,
        (a, b) => a.unwrap_or(0).checked_add(b.unwrap_or(0)),
    };
    Ok((up, down, packets))
}

/// Start (UTC microseconds) and duration (end - start, seconds) of the section.
fn times(sec: &Map<String, Value>) -> Result<(i64, Option<f64>), FieldError> {
    let start = match sec.get("start") {
        Some(v) => timestamp(v, F::Start)?,
        None => {
            return Err(missing(
                F::Start,
                "missing (Suricata writes flow.start/netflow.start)",
            ))
        }
    };
    let Some(v) = sec.get("end").filter(|v| !v.is_null()) else {
        return Ok((start, None));
    };
    let end = timestamp(v, F::End)?;
    if end < start {
        return Err(bad(F::End, v, "the flow ends before it starts"));
    }
    Ok((start, Some((end - start) as f64 / 1e6)))
}

/// Suricata's `2026-03-01T10:00:00.123456+0000` (any offset), or RFC 3339.
fn timestamp(v: &Value, f: F) -> Result<i64, FieldError> {
    const WHY: &str = "not a timestamp (Suricata writes 2026-03-01T10:00:00.000000+0000)";
    let Value::String(s) = v else {
        return Err(bad(f, v, WHY));
    };
    chrono::DateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f%z")
        .map(|d| d.timestamp_micros())
        .ok()
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(s.trim())
                .ok()
                .map(|d| d.timestamp_micros())
        })
        .ok_or_else(|| bad(f, v, WHY))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(text: &str) -> Event {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn timestamps_with_offsets() {
        let cases = [
            (
                "2026-03-01T10:00:00.000000+0000",
                Some(1_772_359_200_000_000),
            ),
            ("2026-03-01T11:00:00.5+0100", Some(1_772_359_200_500_000)),
            ("2026-03-01T10:00:00Z", Some(1_772_359_200_000_000)),
            (
                "2026-03-01T05:00:00.000001-05:00",
                Some(1_772_359_200_000_001),
            ),
            ("yesterday", None),
        ];
        for (text, want) in cases {
            assert_eq!(
                timestamp(&Value::String(text.into()), F::Start).ok(),
                want,
                "{text}"
            );
        }
        assert!(timestamp(&serde_json::json!(1772359200), F::Start).is_err());
    }

    #[test]
    fn flow_and_netflow_rows() {
        let flow = ev(
            r#"{"event_type":"flow","src_ip":"10.0.0.1","src_port":5,"dest_ip":"2001:0db8::1","dest_port":80,"proto":"TCP","app_proto":"http","flow":{"pkts_toserver":2,"pkts_toclient":3,"bytes_toserver":100,"bytes_toclient":900,"start":"2026-03-01T10:00:00.000000+0000","end":"2026-03-01T10:00:01.250000+0000"}}"#,
        );
        let r = to_row(&flow, Kind::Flow).unwrap();
        assert_eq!(
            (r.up, r.down, r.packets, r.duration),
            (100, 900, Some(5), Some(1.25))
        );
        assert_eq!(
            (r.src_port, r.dst_port, r.proto),
            (Some(5), 80, Some(Proto::Tcp))
        );
        assert_eq!(r.dst, ip::parse("2001:db8::1").unwrap());
        let nf = ev(
            r#"{"event_type":"netflow","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"ICMP","icmp_type":8,"netflow":{"pkts":3,"bytes":222,"start":"2026-03-01T10:00:00.000000+0000"}}"#,
        );
        let r = to_row(&nf, Kind::Netflow).unwrap();
        assert_eq!(
            (r.up, r.down, r.packets, r.duration),
            (222, 0, Some(3), None)
        );
        assert_eq!(
            (r.src_port, r.dst_port, r.proto),
            (None, 8, Some(Proto::Icmp))
        );
    }

    #[test]
    fn bad_fields_name_the_field() {
        let cases = [
            (
                r#"{"src_ip":"10.0.0.1","dest_ip":"x","flow":{"bytes_toserver":1,"bytes_toclient":1,"start":"2026-03-01T10:00:00Z"}}"#,
                "dest_ip",
            ),
            (
                r#"{"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","flow":{"bytes_toserver":-1,"bytes_toclient":1,"start":"2026-03-01T10:00:00Z"}}"#,
                "flow.bytes_toserver",
            ),
            (
                r#"{"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","flow":{"bytes_toserver":1,"start":"2026-03-01T10:00:00Z"}}"#,
                "flow.bytes_toclient",
            ),
            (
                r#"{"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","dest_port":70000,"flow":{"bytes_toserver":1,"bytes_toclient":1,"start":"2026-03-01T10:00:00Z"}}"#,
                "dest_port",
            ),
            (
                r#"{"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","flow":{"bytes_toserver":1,"bytes_toclient":1,"start":"2026-03-01T10:00:00Z","end":"2026-03-01T09:00:00Z"}}"#,
                "flow.end",
            ),
            (
                r#"{"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","flow":{"bytes_toserver":1,"bytes_toclient":1}}"#,
                "flow.start",
            ),
            (r#"{"src_ip":"10.0.0.1","dest_ip":"10.0.0.2"}"#, "flow"),
        ];
        for (text, field) in cases {
            let (col, _, _) = to_row(&ev(text), Kind::Flow).unwrap_err();
            assert_eq!(headers(Kind::Flow)[col], field, "{text}");
        }
    }
}
