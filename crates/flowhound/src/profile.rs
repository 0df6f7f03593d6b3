//! `flowhound profile`: the analysts' `describe()` and first plots, as numbers. One streaming pass with
//! per-worker accumulators (merged at the end); exact quantiles need the byte columns kept in memory
//! (16 bytes per flow).

use crate::error::Result;
use crate::ingest::{FlowSink, IngestReport};
use crate::ip;
use crate::net::InternalNets;
use crate::schema::Proto;
use crate::stats::Describe;
use crate::topk::{CappedMap, Ranked, DEFAULT_MAX_HOSTS};
use ahash::AHashMap;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    Decimal128Type, TimestampMicrosecondType, UInt16Type, UInt64Type,
};
use serde::Serialize;

/// flows, up bytes, down bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    flows: u64,
    up: u64,
    down: u64,
}

impl Tally {
    fn add(&mut self, up: u64, down: u64) {
        self.flows += 1;
        self.up = self.up.saturating_add(up);
        self.down = self.down.saturating_add(down);
    }

    fn merge(&mut self, o: &Tally) {
        self.flows += o.flows;
        self.up = self.up.saturating_add(o.up);
        self.down = self.down.saturating_add(o.down);
    }
}

impl Ranked for Tally {
    fn flows(&self) -> u64 {
        self.flows
    }
    fn bytes(&self) -> u64 {
        self.up.saturating_add(self.down)
    }
    fn merge(&mut self, other: &Self) {
        Tally::merge(self, other)
    }
}

/// Direction classes of the internal/external split.
const DIRECTIONS: [&str; 4] = [
    "internal->internal",
    "internal->external",
    "external->internal",
    "external->external",
];

/// Accumulates one worker's share of the profile.
#[derive(Clone)]
pub struct ProfileSink {
    internal: InternalNets,
    up: Vec<u64>,
    down: Vec<u64>,
    ts_min: i64,
    ts_max: i64,
    src: CappedMap<Tally>,
    dst: CappedMap<Tally>,
    ports: AHashMap<(Proto, u16), Tally>,
    protos: [Tally; 4],
    hours: [Tally; 24],
    dirs: [Tally; 4],
}

impl ProfileSink {
    /// An empty accumulator classifying addresses with `internal`.
    pub fn new(internal: InternalNets) -> Self {
        Self::with_max_hosts(internal, DEFAULT_MAX_HOSTS)
    }

    /// An empty accumulator holding at most `max_hosts` distinct sources (and as many destinations):
    /// past that the top-host lists are approximate (see [`crate::topk`]).
    pub fn with_max_hosts(internal: InternalNets, max_hosts: usize) -> Self {
        ProfileSink {
            internal,
            up: Vec::new(),
            down: Vec::new(),
            ts_min: i64::MAX,
            ts_max: i64::MIN,
            src: CappedMap::new(max_hosts),
            dst: CappedMap::new(max_hosts),
            ports: AHashMap::new(),
            protos: Default::default(),
            hours: Default::default(),
            dirs: Default::default(),
        }
    }

    /// Adds another worker's accumulator.
    pub fn merge(&mut self, o: ProfileSink) {
        self.up.extend_from_slice(&o.up);
        self.down.extend_from_slice(&o.down);
        self.ts_min = self.ts_min.min(o.ts_min);
        self.ts_max = self.ts_max.max(o.ts_max);
        self.src.merge(&o.src);
        self.dst.merge(&o.dst);
        merge_map(&mut self.ports, &o.ports);
        merge_arr(&mut self.protos, &o.protos);
        merge_arr(&mut self.hours, &o.hours);
        merge_arr(&mut self.dirs, &o.dirs);
    }

    fn add_batch(&mut self, b: &RecordBatch) {
        let ts = b
            .column(0)
            .as_primitive::<TimestampMicrosecondType>()
            .values();
        let src = b.column(1).as_primitive::<Decimal128Type>().values();
        let dst = b.column(2).as_primitive::<Decimal128Type>().values();
        let proto = b.column(3).as_string::<i32>();
        let port = b.column(5).as_primitive::<UInt16Type>().values();
        let up = b.column(6).as_primitive::<UInt64Type>().values();
        let down = b.column(7).as_primitive::<UInt64Type>().values();
        self.up.extend_from_slice(up);
        self.down.extend_from_slice(down);
        let mut cache: Option<(i128, bool)> = None;
        for i in 0..b.num_rows() {
            let (u, d) = (up[i], down[i]);
            self.ts_min = self.ts_min.min(ts[i]);
            self.ts_max = self.ts_max.max(ts[i]);
            self.src.entry(src[i]).add(u, d);
            self.dst.entry(dst[i]).add(u, d);
            let p = Proto::parse(proto.value(i));
            self.ports.entry((p, port[i])).or_default().add(u, d);
            self.protos[p.index()].add(u, d);
            self.hours[ts[i].div_euclid(3_600_000_000).rem_euclid(24) as usize].add(u, d);
            let si = self.is_internal(src[i], &mut cache);
            let di = self.internal.contains(ip::from_i128(dst[i]));
            self.dirs[(!si as usize) * 2 + (!di as usize)].add(u, d);
        }
    }

    /// Internal test with a one-entry cache (consecutive flows often share a source).
    fn is_internal(&self, a: i128, cache: &mut Option<(i128, bool)>) -> bool {
        match cache {
            Some((k, v)) if *k == a => *v,
            _ => {
                let v = self.internal.contains(ip::from_i128(a));
                *cache = Some((a, v));
                v
            }
        }
    }
}

fn merge_map<K: std::hash::Hash + Eq + Copy>(
    into: &mut AHashMap<K, Tally>,
    from: &AHashMap<K, Tally>,
) {
    for (k, v) in from {
        into.entry(*k).or_default().merge(v);
    }
}

fn merge_arr<const N: usize>(into: &mut [Tally; N], from: &[Tally; N]) {
    into.iter_mut().zip(from).for_each(|(a, b)| a.merge(b));
}

impl FlowSink for ProfileSink {
    fn push(&mut self, _unit: usize, batch: RecordBatch) -> Result<()> {
        self.add_batch(&batch);
        Ok(())
    }
}

/// One host in a top-N list.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HostRow {
    /// Address.
    pub ip: String,
    /// Flows.
    pub flows: u64,
    /// Up + down bytes.
    pub bytes: u64,
}

/// Top-N hosts, by flow count and by bytes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TopHosts {
    /// Ranked by flows (ties: bytes, then address).
    pub by_flows: Vec<HostRow>,
    /// Ranked by bytes (ties: flows, then address).
    pub by_bytes: Vec<HostRow>,
}

/// A destination port.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PortRow {
    /// Protocol.
    pub proto: &'static str,
    /// Destination port.
    pub port: u16,
    /// Flows.
    pub flows: u64,
    /// Up + down bytes.
    pub bytes: u64,
}

/// Flows and bytes of one class (protocol, hour, direction).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassRow {
    /// The class.
    pub key: String,
    /// Flows.
    pub flows: u64,
    /// Bytes from sources.
    pub up_bytes: u64,
    /// Bytes from destinations.
    pub down_bytes: u64,
}

/// Time covered by the flows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Span {
    /// First flow start (RFC 3339, UTC).
    pub first: String,
    /// Last flow start.
    pub last: String,
    /// Seconds between them.
    pub seconds: f64,
}

/// Per-column statistics.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ByteStats {
    /// Upload bytes.
    pub up_bytes: Describe,
    /// Download bytes.
    pub down_bytes: Describe,
}

/// The whole profile (`--json` output; shape documented in `docs/profile.md`).
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// Flows profiled.
    pub flows: u64,
    /// Rows skipped as bad.
    pub skipped_rows: u64,
    /// Time span, when there are flows.
    pub time_span: Option<Span>,
    /// `describe()` of the byte columns.
    pub stats: ByteStats,
    /// Top source addresses.
    pub top_src: TopHosts,
    /// Top destination addresses.
    pub top_dst: TopHosts,
    /// Top destination ports by flows.
    pub top_dst_ports: Vec<PortRow>,
    /// Protocol mix.
    pub protocols: Vec<ClassRow>,
    /// Traffic by hour of day (UTC), 24 rows.
    pub by_hour: Vec<ClassRow>,
    /// Internal/external split.
    pub direction: Vec<ClassRow>,
    /// The internal networks used for the split.
    pub internal_networks: Vec<String>,
    /// What was read.
    pub input: IngestReport,
    /// Set when more distinct addresses were met than the cap holds: the top-host lists are then
    /// approximate (absent when they are exact).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approximate_top_hosts: Option<Approximation>,
}

/// How the top-host lists were approximated.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Approximation {
    /// The cap on distinct addresses per list (`--max-hosts`).
    pub max_hosts: usize,
    /// Source addresses dropped (their counts are lost; a dropped address met again restarts at 0).
    pub evicted_src: u64,
    /// Destination addresses dropped.
    pub evicted_dst: u64,
}

fn rfc3339(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us).map_or_else(
        || us.to_string(),
        |d| d.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
    )
}

fn top_hosts(m: &CappedMap<Tally>, n: usize) -> TopHosts {
    let mut rows: Vec<(i128, u64, u64)> = m
        .iter()
        .map(|(k, t)| (*k, t.flows, t.up.saturating_add(t.down)))
        .collect();
    let pick = |rows: &mut Vec<(i128, u64, u64)>, by_flows: bool| -> Vec<HostRow> {
        rows.sort_by(|a, b| {
            let key = |r: &(i128, u64, u64)| if by_flows { (r.1, r.2) } else { (r.2, r.1) };
            key(b)
                .cmp(&key(a))
                .then(ip::from_i128(a.0).cmp(&ip::from_i128(b.0)))
        });
        rows.iter()
            .take(n)
            .map(|r| HostRow {
                ip: ip::format(ip::from_i128(r.0)),
                flows: r.1,
                bytes: r.2,
            })
            .collect()
    };
    TopHosts {
        by_flows: pick(&mut rows, true),
        by_bytes: pick(&mut rows, false),
    }
}

fn class_row(key: String, t: &Tally) -> ClassRow {
    ClassRow {
        key,
        flows: t.flows,
        up_bytes: t.up,
        down_bytes: t.down,
    }
}

impl ProfileSink {
    /// Turns the merged accumulator into the profile, keeping `top` rows per ranking.
    pub fn finish(mut self, top: usize, input: IngestReport) -> Profile {
        let flows = self.up.len() as u64;
        let approximate_top_hosts =
            (self.src.evicted() + self.dst.evicted() > 0).then(|| Approximation {
                max_hosts: self.src.cap(),
                evicted_src: self.src.evicted(),
                evicted_dst: self.dst.evicted(),
            });
        let mut ports: Vec<PortRow> = self
            .ports
            .iter()
            .map(|((p, port), t)| PortRow {
                proto: p.as_str(),
                port: *port,
                flows: t.flows,
                bytes: t.up.saturating_add(t.down),
            })
            .collect();
        ports.sort_by(|a, b| {
            b.flows
                .cmp(&a.flows)
                .then(b.bytes.cmp(&a.bytes))
                .then((a.proto, a.port).cmp(&(b.proto, b.port)))
        });
        ports.truncate(top);
        Profile {
            flows,
            skipped_rows: input.rows_skipped(),
            time_span: (flows > 0).then(|| Span {
                first: rfc3339(self.ts_min),
                last: rfc3339(self.ts_max),
                // i128: the difference of two far-apart i64 timestamps overflows i64.
                seconds: (i128::from(self.ts_max) - i128::from(self.ts_min)) as f64 / 1e6,
            }),
            stats: ByteStats {
                up_bytes: Describe::of(&mut self.up),
                down_bytes: Describe::of(&mut self.down),
            },
            top_src: top_hosts(&self.src, top),
            top_dst: top_hosts(&self.dst, top),
            top_dst_ports: ports,
            protocols: Proto::ALL
                .iter()
                .map(|p| class_row(p.as_str().to_string(), &self.protos[p.index()]))
                .filter(|r| r.flows > 0)
                .collect(),
            by_hour: self
                .hours
                .iter()
                .enumerate()
                .map(|(h, t)| class_row(format!("{h:02}"), t))
                .collect(),
            direction: DIRECTIONS
                .iter()
                .zip(&self.dirs)
                .map(|(d, t)| class_row(d.to_string(), t))
                .collect(),
            internal_networks: self
                .internal
                .blocks()
                .iter()
                .map(|c| c.to_string())
                .collect(),
            input,
            approximate_top_hosts,
        }
    }
}

/// Profiles the planned inputs.
pub fn run(
    plan: &crate::ingest::Plan,
    opts: &crate::ingest::ReadOptions,
    internal: InternalNets,
    top: usize,
) -> Result<Profile> {
    run_capped(plan, opts, internal, top, DEFAULT_MAX_HOSTS)
}

/// Profiles the planned inputs holding at most `max_hosts` distinct addresses per top-host counter.
pub fn run_capped(
    plan: &crate::ingest::Plan,
    opts: &crate::ingest::ReadOptions,
    internal: InternalNets,
    top: usize,
    max_hosts: usize,
) -> Result<Profile> {
    let sink = || ProfileSink::with_max_hosts(internal.clone(), max_hosts);
    let (sinks, report) = crate::ingest::scan(plan, opts, sink)?;
    let mut it = sinks.into_iter();
    let mut acc = it.next().unwrap_or_else(sink);
    it.for_each(|s| acc.merge(s));
    Ok(acc.finish(top, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::builder::{FlowBuilder, FlowRow};

    #[test]
    fn time_span_of_extreme_timestamps_does_not_overflow() {
        let mut b = FlowBuilder::new();
        for ts_us in [i64::MIN, i64::MAX] {
            b.push(&FlowRow {
                ts_us,
                ..Default::default()
            });
        }
        let mut sink = ProfileSink::new(InternalNets::default());
        sink.push(0, b.finish()).unwrap();
        let span = sink.finish(5, IngestReport::default()).time_span.unwrap();
        let want = (i64::MAX as f64 - i64::MIN as f64) / 1e6;
        assert!((span.seconds - want).abs() <= want * 1e-12, "{span:?}");
    }
}
