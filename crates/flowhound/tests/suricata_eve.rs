//! Suricata eve.json input: every flow/netflow event checked against an independent reading of the
//! file (serde_json values, std's IP parser, chrono), the totals against Suricata's own stats counters,
//! on the committed fixture (written by Suricata from a crafted pcap) and, when Suricata and
//! ../shared/testdata are present, on eve.json written at test time from a real third-party pcap.

mod common;

use common::{fixture, read, read_err, rows, testdata, Row};
use flowhound::ingest::{Format, ReadOptions};
use flowhound::FlowError;
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

fn opts() -> ReadOptions {
    ReadOptions::default()
}

fn ip_int(text: &str) -> u128 {
    match text.parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => (0xffffu128 << 32) | u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn micros(text: &str) -> i64 {
    chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.6f%z")
        .unwrap()
        .timestamp_micros()
}

/// What the oracle expects of one event: (ts, src, dst, dst_port, up, down, packets, duration_us).
type Want = (i64, u128, u128, u16, u64, u64, u64, i64);

/// The events of an eve.json file as parsed JSON values.
fn events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The expected row of a flow or netflow event, from the generic JSON value.
fn want(e: &Value) -> Option<Want> {
    let kind = e["event_type"].as_str()?;
    if kind != "flow" && kind != "netflow" {
        return None;
    }
    let s = &e[kind];
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let (up, down, pkts) = if kind == "flow" {
        (
            n(&s["bytes_toserver"]),
            n(&s["bytes_toclient"]),
            n(&s["pkts_toserver"]) + n(&s["pkts_toclient"]),
        )
    } else {
        (n(&s["bytes"]), 0, n(&s["pkts"]))
    };
    let start = micros(s["start"].as_str().unwrap());
    let port = e.get("dest_port").or(e.get("icmp_type")).map_or(0, n) as u16;
    Some((
        start,
        ip_int(e["src_ip"].as_str().unwrap()),
        ip_int(e["dest_ip"].as_str().unwrap()),
        port,
        up,
        down,
        pkts,
        micros(s["end"].as_str().unwrap()) - start,
    ))
}

fn got(r: &Row) -> Want {
    (
        r.ts_us,
        r.src_ip,
        r.dst_ip,
        r.dst_port,
        r.up_bytes,
        r.down_bytes,
        r.packets.unwrap(),
        (r.duration.unwrap() * 1e6).round() as i64,
    )
}

/// Suricata's own counters from the stats event: (decoder.bytes, decoder.pkts, flow.total).
fn suricata_stats(evs: &[Value]) -> (u64, u64, u64) {
    let s = &evs
        .iter()
        .rfind(|e| e["event_type"] == "stats")
        .expect("a stats event")["stats"];
    let n = |v: &Value| v.as_u64().unwrap();
    (
        n(&s["decoder"]["bytes"]),
        n(&s["decoder"]["pkts"]),
        n(&s["flow"]["total"]),
    )
}

/// The flow type a file is read as: that of its first flow or netflow event.
fn first_kind(evs: &[Value]) -> &str {
    evs.iter()
        .filter_map(|e| e["event_type"].as_str())
        .find(|k| *k == "flow" || *k == "netflow")
        .unwrap()
}

/// Reads `path`, checks every row against its event and the totals against Suricata's stats; returns
/// the rows and the type read.
fn check_against_oracle(path: &Path) -> (Vec<Row>, String) {
    let evs = events(path);
    let kind = first_kind(&evs).to_string();
    let wanted: Vec<Want> = evs
        .iter()
        .filter(|e| e["event_type"] == kind.as_str())
        .filter_map(want)
        .collect();
    let (batches, report) = read(&[path.to_string_lossy().into_owned()], &opts());
    let rows = rows(&batches);
    assert_eq!(report.files[0].format, Format::SuricataEve);
    assert_eq!(report.rows_skipped(), 0);
    assert_eq!(rows.len(), wanted.len(), "one row per {kind} event");
    for (i, (r, w)) in rows.iter().zip(&wanted).enumerate() {
        assert_eq!(got(r), *w, "{kind} event {i}");
    }
    let others = evs.len() - wanted.len();
    let skipped = report.files[0].other_events.values().sum::<u64>() as usize;
    assert_eq!(skipped, others, "every other event counted");
    let (bytes, pkts, flows) = suricata_stats(&evs);
    let sum = |f: &dyn Fn(&Row) -> u64| -> u64 { rows.iter().map(f).sum() };
    assert_eq!(
        sum(&|r| r.up_bytes + r.down_bytes),
        bytes,
        "bytes = decoder.bytes"
    );
    assert_eq!(sum(&|r| r.packets.unwrap()), pkts, "packets = decoder.pkts");
    if kind == "flow" {
        assert_eq!(
            rows.len() as u64,
            flows,
            "flow events = Suricata's flow.total"
        );
    } else {
        assert_eq!(
            sum(&|r| r.down_bytes),
            0,
            "netflow events are one direction"
        );
    }
    (rows, kind)
}

/// A copy of `src` in `dir` without the events of type `drop`.
fn without(src: &Path, dir: &Path, drop: &str) -> PathBuf {
    let text = std::fs::read_to_string(src).unwrap();
    let pat = format!("\"event_type\":\"{drop}\"");
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains(&pat)).collect();
    let out = dir.join(format!("eve-no-{drop}.json"));
    std::fs::write(&out, kept.join("\n")).unwrap();
    out
}

#[test]
fn eve_fixture_matches_events_and_suricata_stats() {
    let path = PathBuf::from(fixture("eve/eve.json"));
    let (rows, kind) = check_against_oracle(&path);
    assert_eq!((rows.len(), kind.as_str()), (9, "flow"));
    let (_, report) = read(&[fixture("eve/eve.json")], &opts());
    let other: Vec<(&str, u64)> = report.files[0]
        .other_events
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        other,
        [("dns", 4), ("http", 1), ("netflow", 15), ("stats", 1)]
    );
    let summary = report.summary_lines().join("\n");
    let line = "skipped 21 event(s) not read as flows: dns 4, http 1, netflow 15, stats 1";
    assert!(summary.contains(line), "{summary}");
    // IPv6: the TCP exchange to [2001:db8:1::20]:8080, Suricata's zero-padded addresses included.
    let v6 = rows
        .iter()
        .find(|r| r.dst_ip == ip_int("2001:db8:1::20") && r.dst_port == 8080)
        .expect("the IPv6 TCP flow");
    assert_eq!(
        (v6.proto.as_str(), v6.up_bytes, v6.down_bytes),
        ("tcp", 724, 596)
    );
    assert_eq!(v6.src_port, Some(50100));
    let icmp6 = rows
        .iter()
        .find(|r| r.dst_port == 128)
        .expect("ICMPv6 echo");
    assert_eq!((icmp6.proto.as_str(), icmp6.src_port), ("icmp", None));
}

#[test]
fn netflow_events_are_one_direction_each() {
    let dir = tempdir("netflow");
    let path = without(Path::new(&fixture("eve/eve.json")), &dir, "flow");
    let (rows, kind) = check_against_oracle(&path);
    assert_eq!((rows.len(), kind.as_str()), (15, "netflow"));
    // The HTTP exchange: one row each way, the reply's addresses and ports swapped.
    let http: Vec<(u16, Option<u16>, u64)> = rows
        .iter()
        .filter(|r| r.src_port == Some(80) || r.dst_port == 80)
        .map(|r| (r.dst_port, r.src_port, r.up_bytes))
        .collect();
    assert_eq!(http, [(80, Some(50000), 397), (50000, Some(80), 894)]);
    let _ = std::fs::remove_dir_all(&dir);
}

const GOOD: &str = r#"{"timestamp":"2026-03-01T10:00:05.000000+0000","event_type":"flow","src_ip":"10.0.0.1","src_port":1234,"dest_ip":"10.0.0.2","dest_port":443,"proto":"TCP","app_proto":"tls","flow":{"pkts_toserver":2,"pkts_toclient":2,"bytes_toserver":150,"bytes_toclient":3000,"start":"2026-03-01T10:00:00.000000+0000","end":"2026-03-01T10:00:05.000000+0000"}}"#;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowhound-eve-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn malformed_lines_are_bad_rows_naming_line_and_field() {
    let bad_bytes = GOOD.replace("\"bytes_toserver\":150", "\"bytes_toserver\":-5");
    let bad_ip = GOOD.replace("\"dest_ip\":\"10.0.0.2\"", "\"dest_ip\":\"10.0.0.999\"");
    let no_section = r#"{"event_type":"flow","src_ip":"10.0.0.1","dest_ip":"10.0.0.2"}"#;
    let text = [
        GOOD,
        "{\"event_type\":\"alert\",\"alert\":{}}",
        &bad_bytes,
        "not json at all",
        &GOOD[..80],
        &bad_ip,
        no_section,
        GOOD,
    ]
    .join("\n");
    let dir = tempdir("bad");
    let path = dir.join("eve.json");
    std::fs::write(&path, text).unwrap();
    let input = [path.to_string_lossy().into_owned()];
    let (batches, report) = read(&input, &opts());
    assert_eq!(rows(&batches).len(), 2);
    assert_eq!(report.rows_skipped(), 5);
    let seen: Vec<(String, String)> = report
        .bad_rows
        .samples
        .iter()
        .map(|b| (b.location.to_string(), b.column.clone()))
        .collect();
    let want = [
        ("line 3", "flow.bytes_toserver"),
        ("line 4", "(line)"),
        ("line 5", "(line)"),
        ("line 6", "dest_ip"),
        ("line 7", "flow"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(seen, want);
    let strict = ReadOptions {
        strict: true,
        ..opts()
    };
    let e = read_err(&input, &strict);
    assert!(matches!(e, FlowError::BadRow { .. }));
    let msg = e.to_string();
    for part in [
        "eve.json: line 3, column 'flow.bytes_toserver'",
        "not a whole non-negative number (value '-5')",
        "Remove --strict",
    ] {
        assert!(msg.contains(part), "{msg}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn eve_without_flow_events_says_how_to_enable_them() {
    let dir = tempdir("alerts");
    let path = dir.join("eve.json");
    let alert = r#"{"timestamp":"2026-03-01T10:00:00.000000+0000","event_type":"alert","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","alert":{"signature":"x"}}"#;
    std::fs::write(&path, format!("{alert}\n{alert}\n")).unwrap();
    let msg = read_err(&[path.to_string_lossy().into_owned()], &opts()).to_string();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        msg.contains("without flow or netflow events (it has alert 2)"),
        "{msg}"
    );
    assert!(msg.contains("types: [flow, netflow]"), "{msg}");
}

/// Runs Suricata (when installed) over a real third-party pcap and reads its eve.json.
#[test]
fn suricata_over_real_netflow_export_pcap() {
    let Some(data) = testdata("suricata_over_real_netflow_export_pcap") else {
        return;
    };
    if Command::new("suricata").arg("-V").output().is_err() {
        println!("skipped: suricata_over_real_netflow_export_pcap: suricata is not installed (apt-get install -t bookworm-backports suricata)");
        return;
    }
    let out = tempdir("real");
    let status = Command::new("suricata")
        .arg("-c")
        .arg(fixture("eve/suricata.yaml"))
        .arg("-r")
        .arg(data.join("netflow/netflow_v5_v9_ipfix_exports.pcap"))
        .args(["-k", "none", "-S", "/dev/null", "-l"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(status.status.success(), "{:?}", status);
    let eve = out.join("eve.json");
    let (rows, kind) = check_against_oracle(&eve);
    // 89 export datagrams from about 40 exporters: one UDP flow per exporter/collector pair.
    assert_eq!(kind, "flow");
    assert!(rows.len() >= 40, "{} flows", rows.len());
    assert!(rows.iter().all(|r| r.proto == "udp"));
    let (rows, kind) = check_against_oracle(&without(&eve, &out, "flow"));
    assert!(kind == "netflow" && rows.len() >= 40);
    let _ = std::fs::remove_dir_all(&out);
}
