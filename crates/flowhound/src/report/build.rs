//! Report numbers: pure functions (log and linear histograms, intervals, rankings) and the adapters
//! that apply them to flows, the baseline and the findings.

use super::{Bin, Count, FindingChart, GraphEdge, ReportData, Threshold};
use crate::baseline::stats::{robust_scale, sigma_threshold, MetricStats};
use crate::baseline::{hour_of, window_of, Baseline};
use crate::detect::beacon_math::{quantile, sorted_gaps_secs};
use crate::detect::flows::Flows;
use crate::detect::rows::GeoCache;
use crate::findings::{Finding, FindingsDoc};
use crate::ip;
use crate::net::InternalNets;
use crate::schema::Proto;
use flowhound_geo::GeoStack;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;

/// Bins per decade of the log-scale byte histograms.
pub const BINS_PER_DECADE: u32 = 4;
/// Bins of the inter-arrival histograms.
pub const INTERVAL_BINS_COUNT: usize = 20;
/// Rows kept in each top-N list.
pub const TOP_COUNT: usize = 15;
/// Most points of an upload series (windows are merged beyond that).
pub const MAX_POINTS_COUNT: usize = 400;
/// Most edges of the internal graph and of a member graph.
pub const MAX_EDGES_COUNT: usize = 300;

/// Lower edge of log bin `k >= 1`: `10^((k-1)/BINS_PER_DECADE)`; bin 0 is `[0, 1)`.
pub fn log_edge(k: u32) -> f64 {
    if k == 0 {
        return 0.0;
    }
    let e = k - 1;
    if e.is_multiple_of(BINS_PER_DECADE) {
        10f64.powi((e / BINS_PER_DECADE) as i32)
    } else {
        10f64.powf(e as f64 / BINS_PER_DECADE as f64)
    }
}

/// The log bin of `x`: 0 for 0, else the `k` with `log_edge(k) <= x < log_edge(k + 1)`.
pub fn log_bin(x: u64) -> u32 {
    if x == 0 {
        return 0;
    }
    let v = x as f64;
    let mut k = 1 + (v.log10() * BINS_PER_DECADE as f64).floor().max(0.0) as u32;
    while k > 1 && log_edge(k) > v {
        k -= 1;
    }
    while log_edge(k + 1) <= v {
        k += 1;
    }
    k
}

/// Log-scale histogram of byte counts, from the first to the last non-empty bin.
pub fn log_histogram(values: &[u64]) -> Vec<Bin> {
    let mut counts: BTreeMap<u32, u64> = BTreeMap::new();
    for v in values {
        *counts.entry(log_bin(*v)).or_default() += 1;
    }
    let (Some(first), Some(last)) = (
        counts.keys().next().copied(),
        counts.keys().next_back().copied(),
    ) else {
        return Vec::new();
    };
    (first..=last)
        .map(|k| Bin {
            lo: log_edge(k),
            hi: log_edge(k + 1),
            count: counts.get(&k).copied().unwrap_or(0),
        })
        .collect()
}

/// Histogram over `n` equal bins from min to max, the last bin closed (numpy's `histogram`).
/// Non-finite values are ignored.
pub fn linear_histogram(values: &[f64], n: usize) -> Vec<Bin> {
    let vals: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (Some(lo), Some(hi)) = (
        vals.iter().copied().reduce(f64::min),
        vals.iter().copied().reduce(f64::max),
    ) else {
        return Vec::new();
    };
    let n = n.max(1);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let width = (hi - lo) / n as f64;
    let mut bins: Vec<Bin> = (0..n)
        .map(|i| Bin {
            lo: lo + width * i as f64,
            hi: lo + width * (i + 1) as f64,
            count: 0,
        })
        .collect();
    let norm = n as f64 / (hi - lo);
    for v in vals {
        let mut i = (((v - lo) * norm).floor().max(0.0) as usize).min(n - 1);
        // numpy's edge correction: the computed index must agree with the edges themselves.
        if i > 0 && v < bins[i].lo {
            i -= 1;
        } else if i + 1 < n && v >= bins[i].hi {
            i += 1;
        }
        bins[i].count += 1;
    }
    bins
}

/// Seconds between consecutive timestamps (microseconds) once sorted, smallest gap first: the beacon
/// detector's [`sorted_gaps_secs`] of the sorted timestamps.
pub fn inter_arrivals_secs(ts_us: &[i64]) -> Vec<f64> {
    let mut t = ts_us.to_vec();
    t.sort_unstable();
    sorted_gaps_secs(&t)
}

/// Median with linear interpolation (the beacon detector's [`quantile`] at 0.5); NaNs are ignored;
/// NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5).unwrap_or(f64::NAN)
}

/// The `n` largest entries by bytes (then flows, then key), as [`Count`]s.
pub fn top_counts<K: Ord>(
    map: &HashMap<K, (u64, u64)>,
    n: usize,
    label: impl Fn(&K) -> String,
) -> Vec<Count> {
    let mut rows: Vec<(&K, &(u64, u64))> = map.iter().collect();
    rows.sort_by(|a, b| {
        (b.1 .1, b.1 .0)
            .cmp(&(a.1 .1, a.1 .0))
            .then_with(|| a.0.cmp(b.0))
    });
    rows.into_iter()
        .take(n)
        .map(|(k, (f, b))| Count {
            key: label(k),
            flows: *f,
            bytes: *b,
        })
        .collect()
}

/// Merges consecutive points so that at most `max` remain (sums of `factor` windows).
pub fn coarsen(points: &[(i64, u64)], window_secs: u64, max: usize) -> (Vec<(i64, u64)>, u64) {
    let factor = points.len().div_ceil(max.max(1)).max(1);
    if factor == 1 {
        return (points.to_vec(), window_secs);
    }
    let step = window_secs.saturating_mul(factor as u64).max(1) as i64;
    let mut out: BTreeMap<i64, u64> = BTreeMap::new();
    let origin = points.first().map_or(0, |p| p.0);
    for (t, b) in points {
        let k = origin + (t - origin).div_euclid(step) * step;
        let sum = out.entry(k).or_default();
        *sum = sum.saturating_add(*b);
    }
    (out.into_iter().collect(), step as u64)
}

fn add<K: Hash + Eq>(m: &mut HashMap<K, (u64, u64)>, k: K, bytes: u64) {
    let e = m.entry(k).or_default();
    e.0 += 1;
    e.1 = e.1.saturating_add(bytes);
}

/// Traffic numbers of one set of flows, for the charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Traffic {
    /// Flows.
    pub flows: u64,
    /// First flow (RFC 3339).
    pub first_seen: Option<String>,
    /// Last flow (RFC 3339).
    pub last_seen: Option<String>,
    /// Log histogram of `up_bytes` per flow.
    pub up_hist: Vec<Bin>,
    /// Log histogram of `down_bytes` per flow.
    pub down_hist: Vec<Bin>,
    /// Flows per hour of day (UTC), 24 entries.
    pub by_hour_flows: Vec<u64>,
    /// Bytes per hour of day (UTC), 24 entries.
    pub by_hour_bytes: Vec<u64>,
    /// Sources with the most bytes.
    pub top_talkers: Vec<Count>,
    /// Destination ports (`proto/port`) with the most bytes.
    pub ports: Vec<Count>,
    /// Protocol mix.
    pub protocols: Vec<Count>,
    /// Countries of the external ends.
    pub countries: Vec<Count>,
    /// AS of the external ends (`AS123 Org`).
    pub asns: Vec<Count>,
}

#[derive(Default)]
struct TrafficAcc {
    hours_f: [u64; 24],
    hours_b: [u64; 24],
    talkers: HashMap<u128, (u64, u64)>,
    ports: HashMap<(Proto, u16), (u64, u64)>,
    protos: HashMap<Proto, (u64, u64)>,
    countries: HashMap<String, (u64, u64)>,
    asns: HashMap<(u32, String), (u64, u64)>,
}

impl TrafficAcc {
    fn add_flow(
        &mut self,
        f: &Flows,
        i: usize,
        nets: &InternalNets,
        geo: &GeoStack,
        cache: &mut GeoCache,
    ) {
        let bytes = f.up[i].saturating_add(f.down[i]);
        let h = hour_of(f.ts[i]);
        self.hours_f[h] += 1;
        self.hours_b[h] = self.hours_b[h].saturating_add(bytes);
        add(&mut self.talkers, f.src[i], bytes);
        add(&mut self.ports, (f.proto[i], f.dst_port[i]), bytes);
        add(&mut self.protos, f.proto[i], bytes);
        let ext = [f.dst[i], f.src[i]]
            .into_iter()
            .find(|a| !nets.contains(*a));
        if let Some(a) = ext {
            let g = cache.get(geo, a);
            add(
                &mut self.countries,
                g.country
                    .map_or_else(|| "??".to_string(), |c| c.to_string()),
                bytes,
            );
            if let Some(asn) = g.asn {
                add(
                    &mut self.asns,
                    (asn, g.org.as_deref().unwrap_or("").to_string()),
                    bytes,
                );
            }
        }
    }
}

impl Traffic {
    /// Computes the numbers of `flows`; external ends are located with `geo`.
    pub fn of(flows: &Flows, nets: &InternalNets, geo: &GeoStack) -> Traffic {
        let mut acc = TrafficAcc::default();
        let mut cache = GeoCache::default();
        for i in 0..flows.len() {
            acc.add_flow(flows, i, nets, geo, &mut cache);
        }
        Traffic {
            flows: flows.len() as u64,
            first_seen: flows
                .ts
                .iter()
                .min()
                .map(|t| crate::findings::format_ts(*t)),
            last_seen: flows
                .ts
                .iter()
                .max()
                .map(|t| crate::findings::format_ts(*t)),
            up_hist: log_histogram(&flows.up),
            down_hist: log_histogram(&flows.down),
            by_hour_flows: acc.hours_f.to_vec(),
            by_hour_bytes: acc.hours_b.to_vec(),
            top_talkers: top_counts(&acc.talkers, TOP_COUNT, |a| ip::format(*a)),
            ports: top_counts(&acc.ports, TOP_COUNT, |(p, n)| {
                format!("{}/{n}", p.as_str())
            }),
            protocols: top_counts(&acc.protos, 8, |p| p.as_str().to_string()),
            countries: top_counts(&acc.countries, TOP_COUNT, String::clone),
            asns: top_counts(&acc.asns, TOP_COUNT, |(n, o)| {
                format!("AS{n} {o}").trim_end().to_string()
            }),
        }
    }
}

/// The per-flow thresholds learned in the baseline, for both byte metrics.
pub fn thresholds(b: &Baseline) -> Vec<Threshold> {
    let mut out = Vec::new();
    for (metric, s) in [
        ("up_bytes", &b.global.up_bytes),
        ("down_bytes", &b.global.down_bytes),
    ] {
        out.extend(metric_thresholds(metric, s, b.robust()));
    }
    out
}

fn metric_thresholds(metric: &str, s: &MetricStats, robust: bool) -> Vec<Threshold> {
    if s.count == 0 {
        return Vec::new();
    }
    let t = |rule: &str, v: f64| Threshold {
        metric: metric.into(),
        rule: rule.into(),
        value_bytes: v,
    };
    let centre = if robust {
        t("median + 3 MAD (scaled)", s.median + 3.0 * robust_scale(s))
    } else {
        t("mean + 3 std", sigma_threshold(s.mean, s.std, 3.0))
    };
    vec![centre, t("Q3 + 1.5 IQR", s.iqr_upper), t("p99", s.p99)]
}

/// Internal-to-internal edges of the test flows; `new` when the pair is not in the baseline graph.
/// Keeps every new edge and the busiest known ones, at most [`MAX_EDGES_COUNT`].
pub fn internal_graph(
    flows: &Flows,
    nets: &InternalNets,
    baseline: Option<&Baseline>,
) -> Vec<GraphEdge> {
    let mut pairs: HashMap<(u128, u128), u64> = HashMap::new();
    for i in 0..flows.len() {
        if nets.contains(flows.src[i]) && nets.contains(flows.dst[i]) {
            *pairs.entry((flows.src[i], flows.dst[i])).or_default() += 1;
        }
    }
    let known: BTreeSet<(String, String)> = baseline
        .map(|b| {
            b.internal_graph
                .iter()
                .map(|e| (e.src.clone(), e.dst.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut edges: Vec<GraphEdge> = pairs
        .into_iter()
        .map(|((s, d), n)| {
            let (src, dst) = (ip::format(s), ip::format(d));
            let new = baseline.is_some() && !known.contains(&(src.clone(), dst.clone()));
            GraphEdge {
                src,
                dst,
                flows: n,
                new,
            }
        })
        .collect();
    edges.sort_by(|a, b| {
        b.new
            .cmp(&a.new)
            .then(b.flows.cmp(&a.flows))
            .then_with(|| (&a.src, &a.dst).cmp(&(&b.src, &b.dst)))
    });
    edges.truncate(MAX_EDGES_COUNT);
    edges
}

/// What the per-finding charts are computed from.
pub struct ChartInputs<'a> {
    /// The test flows (row numbers of the findings index them).
    pub flows: &'a Flows,
    /// The baseline, for the normal level of a host.
    pub baseline: Option<&'a Baseline>,
    /// Bytes each charted host sent per window of [`chart_window_secs`], by window start (seconds):
    /// [`upload_sums`] of the hosts of [`upload_host`].
    pub uploads: &'a HashMap<u128, BTreeMap<i64, u64>>,
}

/// The window of the upload charts: the baseline's, else one hour.
pub fn chart_window_secs(baseline: Option<&Baseline>) -> u64 {
    baseline.map_or(3600, |b| b.window_secs).max(1)
}

/// The host whose upload [`finding_chart`] draws for `f`; `None` when another chart applies.
pub fn upload_host(f: &Finding) -> Option<u128> {
    if chart_from_details(f).is_some() || f.kind.contains("beacon") || f.kind.contains("botnet") {
        return None;
    }
    ip::parse(f.hosts.first()?)
}

/// In one pass over the flows, the bytes each of `hosts` sent per window of `window` seconds (by
/// window start, seconds): `up_bytes` of the flows it started, `down_bytes` of the flows it answered.
/// Hosts without flows are absent.
pub fn upload_sums(
    flows: &Flows,
    hosts: &HashSet<u128>,
    window: u64,
) -> HashMap<u128, BTreeMap<i64, u64>> {
    let mut out: HashMap<u128, BTreeMap<i64, u64>> = HashMap::new();
    if hosts.is_empty() {
        return out;
    }
    let window = window.max(1);
    for i in 0..flows.len() {
        let (src, dst) = (flows.src[i], flows.dst[i]);
        let sent = if hosts.contains(&src) {
            Some((src, flows.up[i]))
        } else {
            None
        };
        let received = if src != dst && hosts.contains(&dst) {
            Some((dst, flows.down[i]))
        } else {
            None
        };
        let start = window_of(flows.ts[i], window) * window as i64;
        for (host, bytes) in sent.into_iter().chain(received) {
            let sum = out.entry(host).or_default().entry(start).or_default();
            *sum = sum.saturating_add(bytes);
        }
    }
    out
}

/// The chart of one finding, chosen by its kind: intervals for beacons, members for botnets, the
/// host's upload over time otherwise.
pub fn finding_chart(f: &Finding, inp: &ChartInputs) -> Option<FindingChart> {
    if let Some(c) = chart_from_details(f) {
        return Some(c);
    }
    let rows: Vec<usize> = f
        .flow_rows
        .iter()
        .map(|r| *r as usize)
        .filter(|r| *r < inp.flows.len())
        .collect();
    if f.kind.contains("beacon") {
        let ts: Vec<i64> = rows.iter().map(|r| inp.flows.ts[*r]).collect();
        return intervals_chart(&inter_arrivals_secs(&ts));
    }
    if f.kind.contains("botnet") {
        return (!rows.is_empty()).then(|| members_chart(f, inp.flows, &rows));
    }
    upload_chart(f, inp)
}

fn intervals_chart(gaps: &[f64]) -> Option<FindingChart> {
    (!gaps.is_empty()).then(|| FindingChart::Intervals {
        bins: linear_histogram(gaps, INTERVAL_BINS_COUNT),
        median_secs: median(gaps),
    })
}

fn chart_from_details(f: &Finding) -> Option<FindingChart> {
    let gaps: Vec<f64> = f
        .evidence
        .details
        .get("inter_arrival_secs")?
        .as_array()?
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    intervals_chart(&gaps)
}

/// Charts the detectors left in the evidence `details` (used when flows are not at hand).
pub fn charts_from_details(findings: &[Finding]) -> BTreeMap<String, FindingChart> {
    findings
        .iter()
        .filter_map(|f| chart_from_details(f).map(|c| (f.id.clone(), c)))
        .collect()
}

fn members_chart(f: &Finding, flows: &Flows, rows: &[usize]) -> FindingChart {
    let mut pairs: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in rows {
        *pairs
            .entry((ip::format(flows.src[*r]), ip::format(flows.dst[*r])))
            .or_default() += 1;
    }
    let mut edges: Vec<(String, String, u64)> =
        pairs.into_iter().map(|((a, b), n)| (a, b, n)).collect();
    edges.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1))));
    edges.truncate(MAX_EDGES_COUNT);
    let mut nodes: Vec<String> = f.hosts.clone();
    for (a, b, _) in &edges {
        for n in [a, b] {
            if !nodes.contains(n) {
                nodes.push(n.clone());
            }
        }
    }
    FindingChart::Members { nodes, edges }
}

fn upload_chart(f: &Finding, inp: &ChartInputs) -> Option<FindingChart> {
    let host_text = f.hosts.first()?;
    let host = ip::parse(host_text)?;
    let window = chart_window_secs(inp.baseline);
    let points: Vec<(i64, u64)> = inp
        .uploads
        .get(&host)?
        .iter()
        .map(|(t, b)| (*t, *b))
        .collect();
    if points.is_empty() {
        return None;
    }
    let (points, window_secs) = coarsen(&points, window, MAX_POINTS_COUNT);
    let factor = (window_secs / window) as f64;
    let baseline_bytes = inp
        .baseline
        .and_then(|b| host_centre(b, host))
        .map(|c| c * factor);
    // The crossed limit is drawn only over sums of the same windows as the finding's.
    let per_window = f.evidence.metric.starts_with("up_bytes")
        && evidence_window_secs(&f.evidence.metric) == Some(window);
    let threshold_bytes = if per_window && factor == 1.0 {
        f.evidence.threshold
    } else {
        None
    };
    Some(FindingChart::Upload {
        host: host_text.clone(),
        window_secs,
        points,
        baseline_bytes,
        threshold_bytes,
    })
}

/// The window of a per-window evidence metric (`up_bytes per 600 s window (host sent)` -> 600).
pub fn evidence_window_secs(metric: &str) -> Option<u64> {
    let words: Vec<&str> = metric.split_whitespace().collect();
    words.windows(4).find_map(|w| match w {
        ["per", n, "s", "window"] => n.parse().ok(),
        _ => None,
    })
}

fn host_centre(b: &Baseline, host: u128) -> Option<f64> {
    let s = b
        .host(host)
        .map(|p| &p.per_window.up_bytes)
        .unwrap_or(&b.host_windows.up_bytes);
    (s.count > 0).then(|| s.center(b.robust()))
}

impl ReportData {
    /// A full report: the document plus traffic of the flows at hand, thresholds and graph of the
    /// baseline, flow-based charts per finding (the findings must still carry their `flow_rows`).
    pub fn build(
        doc: FindingsDoc,
        test: &Flows,
        normal: Option<&Flows>,
        baseline: Option<&Baseline>,
        nets: &InternalNets,
        geo: &GeoStack,
    ) -> Self {
        let hosts: HashSet<u128> = doc.findings.iter().filter_map(upload_host).collect();
        let uploads = upload_sums(test, &hosts, chart_window_secs(baseline));
        let inputs = ChartInputs {
            flows: test,
            baseline,
            uploads: &uploads,
        };
        let charts = doc
            .findings
            .iter()
            .filter_map(|f| finding_chart(f, &inputs).map(|c| (f.id.clone(), c)))
            .collect();
        ReportData {
            title: "flowhound report".into(),
            settings: Vec::new(),
            normal: normal.map(|n| Traffic::of(n, nets, geo)),
            test: Some(Traffic::of(test, nets, geo)),
            thresholds: baseline.map(thresholds).unwrap_or_default(),
            graph: internal_graph(test, nets, baseline),
            charts,
            attribution: geo.attributions(),
            doc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_bins_table() {
        // edges: bin 0 = [0,1), bin 1 = [1, 10^0.25 = 1.778), bin 5 = [10, 17.78), bin 9 = [100, 177.8)
        let cases = [
            (0u64, 0u32),
            (1, 1),
            (2, 2),
            (9, 4),
            (10, 5),
            (17, 5),
            (18, 6),
            (99, 8),
            (100, 9),
            (1_000_000, 25),
        ];
        for (x, want) in cases {
            assert_eq!(log_bin(x), want, "{x}");
            assert!(
                log_edge(want) <= x as f64 && (x as f64) < log_edge(want + 1),
                "{x}"
            );
        }
        assert_eq!(log_bin(u64::MAX), log_bin(u64::MAX - 1));
    }

    #[test]
    fn log_histogram_fills_gaps() {
        let h = log_histogram(&[0, 10, 10, 1000]);
        assert_eq!(h.first().map(|b| (b.lo, b.count)), Some((0.0, 1)));
        assert_eq!(h.len(), 14); // bins 0..=13 (1000 is bin 13)
        assert_eq!(h.iter().map(|b| b.count).sum::<u64>(), 4);
        assert!(log_histogram(&[]).is_empty());
    }

    #[test]
    fn linear_histogram_edges() {
        let h = linear_histogram(&[0.0, 1.0, 2.0, 3.0, 4.0], 4);
        assert_eq!(h.iter().map(|b| b.count).collect::<Vec<_>>(), [1, 1, 1, 2]);
        let one = linear_histogram(&[5.0, 5.0], 3);
        assert_eq!(one.iter().map(|b| b.count).sum::<u64>(), 2);
        assert!(linear_histogram(&[f64::NAN], 3).is_empty());
    }

    #[test]
    fn intervals_and_median() {
        assert_eq!(
            inter_arrivals_secs(&[3_000_000, 1_000_000, 2_000_000]),
            [1.0, 1.0]
        );
        assert!(inter_arrivals_secs(&[1]).is_empty());
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
    }

    #[test]
    fn coarsen_sums() {
        let pts: Vec<(i64, u64)> = (0..10).map(|i| (i * 60, 1)).collect();
        let (out, w) = coarsen(&pts, 60, 4);
        assert_eq!(w, 180);
        assert_eq!(out.iter().map(|p| p.1).sum::<u64>(), 10);
        assert!(out.len() <= 4);
    }

    /// The per-finding scan `upload_chart` did before the one-pass sums: the reference.
    fn upload_by_scan(fl: &Flows, host: u128, window: u64) -> Vec<(i64, u64)> {
        let step = (window * 1_000_000) as i64;
        let mut sums: BTreeMap<i64, u64> = BTreeMap::new();
        for i in 0..fl.len() {
            let sent = if fl.src[i] == host {
                fl.up[i]
            } else if fl.dst[i] == host {
                fl.down[i]
            } else {
                continue;
            };
            *sums
                .entry(fl.ts[i].div_euclid(step) * (window as i64))
                .or_default() += sent;
        }
        sums.into_iter().collect()
    }

    #[test]
    fn upload_charts_match_a_per_host_scan() {
        let h = |n: u32| ip::v4_to_u128((10 << 24) + n); // 10.0.0.n
        let hosts = [h(1), h(2), h(3), h(9)];
        let ext = ip::v4_to_u128((8 << 24) + 8);
        let mut fl = Flows::default();
        for i in 0..600i64 {
            let pick = |k: i64| hosts[(k.rem_euclid(hosts.len() as i64)) as usize];
            let (src, dst) = match i % 5 {
                0 => (pick(i), ext),
                1 => (ext, pick(i)),
                2 => (pick(i), pick(i + 1)),
                3 => (pick(i), pick(i)), // a host talking to itself counts its up bytes once
                _ => (ext, ext),
            };
            fl.ts.push(-7_200_000_000 + i * 97_000_000);
            fl.src.push(src);
            fl.dst.push(dst);
            fl.proto.push(Proto::Tcp);
            fl.dst_port.push(443);
            fl.up.push(1000 + i as u64 * 7);
            fl.down.push(50 + i as u64 * 3);
        }
        let finding = |id: &str, host: u128, kind: &str| Finding {
            id: id.into(),
            kind: kind.into(),
            hosts: vec![ip::format(host)],
            ..Finding::default()
        };
        let doc = FindingsDoc {
            findings: vec![
                finding("F1", h(1), "volume_outlier"),
                finding("F2", h(2), "exfiltration"),
                finding("F3", h(3), "volume_outlier"),
                finding("F4", h(7), "volume_outlier"), // no flows: no chart
                finding("F5", h(9), "cnc_beacon"),     // another chart kind
            ],
            ..FindingsDoc::default()
        };
        let nets = InternalNets::new(Vec::new());
        let geo = GeoStack::from_options(&[], &[], true).expect("embedded geo");
        let data = ReportData::build(doc, &fl, None, None, &nets, &geo);
        for (id, host) in [("F1", h(1)), ("F2", h(2)), ("F3", h(3))] {
            let Some(FindingChart::Upload {
                points,
                window_secs,
                ..
            }) = data.charts.get(id)
            else {
                panic!("{id}: no upload chart: {:?}", data.charts.get(id));
            };
            assert_eq!(*window_secs, 3600, "{id}");
            let want = upload_by_scan(&fl, host, 3600);
            assert!(want.len() > 10, "{id}: several windows");
            assert_eq!(points, &want, "{id}");
        }
        assert!(!data.charts.contains_key("F4"));
        assert!(!matches!(
            data.charts.get("F5"),
            Some(FindingChart::Upload { .. })
        ));
    }

    #[test]
    fn evidence_windows() {
        for (metric, want) in [
            ("up_bytes per 600 s window (host sent)", Some(600)),
            ("up_bytes per 3600 s window (host sent)", Some(3600)),
            ("weighted external upload per 60 s window", Some(60)),
            ("up_bytes per flow", None),
            ("up_bytes per x s window", None),
            ("flows in network-idle hours", None),
        ] {
            assert_eq!(evidence_window_secs(metric), want, "{metric}");
        }
    }

    #[test]
    fn byte_sums_saturate() {
        let big = u64::MAX / 2 + 1;
        let (out, _) = coarsen(&[(0, big), (60, big), (120, 1)], 60, 1);
        assert_eq!(out, [(0, u64::MAX)]);
        let host = ip::v4_to_u128((10 << 24) + 1);
        let fl = Flows {
            ts: vec![0, 1_000_000],
            src: vec![host, host],
            dst: vec![host + 1, host + 1],
            proto: vec![Proto::Tcp; 2],
            dst_port: vec![443; 2],
            up: vec![big, big],
            down: vec![0, 0],
            ..Default::default()
        };
        let sums = upload_sums(&fl, &[host].into_iter().collect(), 3600);
        assert_eq!(
            sums[&host].values().copied().collect::<Vec<_>>(),
            [u64::MAX]
        );
    }

    #[test]
    fn top_counts_order() {
        let m: HashMap<&str, (u64, u64)> = [("b", (1, 10)), ("a", (2, 10)), ("c", (9, 5))]
            .into_iter()
            .collect();
        let keys: Vec<String> = top_counts(&m, 2, |k| k.to_string())
            .into_iter()
            .map(|c| c.key)
            .collect();
        assert_eq!(keys, ["a", "b"]);
    }
}
