//! `port_scan`: vertical scans (many ports on one host) and horizontal scans (one port on many hosts),
//! measured per source and time window with failed and tiny probes weighing most. One finding per
//! source, with the counts, the port range and the targets.

use super::{DetectCtx, Detector};
use crate::baseline::window_of;
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{format_ts, Evidence, Finding};
use crate::ip;
use ahash::AHashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;

/// The detector.
pub struct PortScan;

/// `[detectors.port_scan]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortScanConfig {
    /// Window over which a source's probes are counted.
    pub window_secs: u64,
    /// Weighted distinct ports on one host that make a vertical scan.
    pub vertical_min_ports_count: f64,
    /// Weighted distinct hosts on one port that make a horizontal scan.
    pub horizontal_min_hosts_count: f64,
    /// A flow with at most this many bytes (up + down) is tiny.
    pub tiny_flow_bytes: u64,
    /// Weight of a tiny flow that got an answer (a failed flow, with nothing back, weighs 1).
    pub answered_tiny_weight_ratio: f64,
    /// Weight of an ordinary (established, carrying data) flow.
    pub established_weight_ratio: f64,
    /// Also report external sources scanning internal hosts (named in `hosts`).
    pub external_sources: bool,
}

impl Default for PortScanConfig {
    fn default() -> Self {
        PortScanConfig {
            window_secs: 300,
            vertical_min_ports_count: 15.0,
            horizontal_min_hosts_count: 10.0,
            tiny_flow_bytes: 128,
            answered_tiny_weight_ratio: 0.25,
            established_weight_ratio: 0.1,
            external_sources: false,
        }
    }
}

static SETTINGS: [Setting; 7] = [
    Setting {
        key: "window_secs",
        doc: "window over which a source's probes are counted",
        range: Range::Int(1, 86_400),
    },
    Setting {
        key: "vertical_min_ports_count",
        doc: "weighted distinct ports on one host that make a vertical scan",
        range: Range::Float(2.0, 65_536.0),
    },
    Setting {
        key: "horizontal_min_hosts_count",
        doc: "weighted distinct hosts on one port that make a horizontal scan",
        range: Range::Float(2.0, 1e9),
    },
    Setting {
        key: "tiny_flow_bytes",
        doc: "a flow with at most this many bytes (up + down) is a tiny probe",
        range: Range::Int(0, 1_000_000),
    },
    Setting {
        key: "answered_tiny_weight_ratio",
        doc: "weight of a tiny flow that got an answer (a failed flow weighs 1)",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "established_weight_ratio",
        doc: "weight of an ordinary flow carrying data",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "external_sources",
        doc: "also report external sources scanning internal hosts",
        range: Range::Bool,
    },
];

/// The markdown section of `docs/detectors.md`.
pub const DOC: &str = r#"## port_scan

**Looks at** every source (internal, and external ones reaching internal hosts when
`external_sources`), per window of `window_secs`.

**Formula.** Each distinct probe (destination, protocol, port) gets the weight of its strongest flow:
1 for a failed flow (nothing came back), `answered_tiny_weight_ratio` for a tiny flow
(up + down <= `tiny_flow_bytes`) that got an answer, `established_weight_ratio` for an ordinary flow.
Then per window:

- vertical `V` = max over destinations of the summed weights of its distinct ports;
- horizontal `H` = max over (protocol, port) of the summed weights of its distinct destinations;
- a window is a scan when `V >= vertical_min_ports_count` or `H >= horizontal_min_hosts_count`;
- ratio `r = max(V / vertical_min_ports_count, H / horizontal_min_hosts_count)`, failed share `f` (probes
  with nothing back), `score = 0.3 + 0.5 (1 - 1 / (1 + log2 r)) + 0.2 f`.

One finding per source (the strongest window is the evidence) with `scan_type` (`vertical`,
`horizontal` or `vertical+horizontal`), distinct targets and ports, the port range, the windows and
the top targets in `evidence.details`. For an external scanner `hosts` names the scanner itself.
`external_sources` is off by default: `inbound_attack` reports external scanners once per attacked
host, with its top sources.

**Blind spots**: slow scans spreading fewer than the thresholds' probes over each window; scans
through many source addresses; application-level scans of ports that all answer with data (they
weigh `established_weight_ratio` each).

**Tuning**: raise `window_secs` to catch slow scans (more noise from busy clients); raise the
minimum counts on networks with service discovery (SSDP, NetBIOS) or busy resolvers.
"#;

impl Detector for PortScan {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = PortScanConfig;
    fn name(&self) -> &'static str {
        "port_scan"
    }
    fn description(&self) -> &'static str {
        "vertical (many ports on one host) and horizontal (one port on many hosts) scans per source and window"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn run(&self, c: &PortScanConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let mut flagged: AHashMap<(u128, i64), WindowScan> = AHashMap::new();
        for (key, probes) in gather(ctx, c) {
            let shape = shape(&probes.probes);
            if shape.v_max >= c.vertical_min_ports_count
                || shape.h_max >= c.horizontal_min_hosts_count
            {
                let scan = WindowScan {
                    window: key.1,
                    shape,
                    rows: Vec::new(),
                    first: probes.first,
                    last: probes.last,
                };
                flagged.insert(key, scan);
            }
        }
        // the rows of flagged windows only (keeping every row of every window costs memory)
        let f = ctx.flows;
        for i in (0..f.len()).filter(|i| keep(ctx, c, *i)) {
            if let Some(s) = flagged.get_mut(&(f.src[i], window_of(f.ts[i], c.window_secs))) {
                s.rows.push(i as u32);
            }
        }
        let mut by_src: AHashMap<u128, Vec<WindowScan>> = AHashMap::new();
        for ((src, _), scan) in flagged {
            by_src.entry(src).or_default().push(scan);
        }
        let mut out: Vec<Finding> = by_src
            .into_iter()
            .map(|(src, scans)| finding(ctx, c, src, scans))
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.hosts.cmp(&b.hosts))
        });
        Ok(out)
    }
}

/// The weight of a probe: 1 when nothing came back, `tiny_w` for a tiny answered flow, else `est_w`.
pub fn probe_weight(up: u64, down: u64, tiny_bytes: u64, tiny_w: f64, est_w: f64) -> f64 {
    if down == 0 {
        1.0
    } else if up.saturating_add(down) <= tiny_bytes {
        tiny_w
    } else {
        est_w
    }
}

/// A probe: destination, protocol index, port, weight.
pub type Probe = (u128, u8, u16, f64);

/// The shape of one source's probes in one window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shape {
    /// Vertical count: max over destinations of the weighted distinct ports.
    pub v_max: f64,
    /// The destination reaching it.
    pub v_dst: u128,
    /// Horizontal count: max over (protocol, port) of the weighted distinct destinations.
    pub h_max: f64,
    /// The (protocol, port) reaching it.
    pub h_port: (u8, u16),
    /// Distinct destinations.
    pub targets: BTreeSet<u128>,
    /// Distinct ports (any protocol).
    pub ports: BTreeSet<u16>,
    /// Share of distinct probes that failed (weight 1).
    pub failed_ratio: f64,
}

/// Deduplicates probes (keeping each one's strongest weight) and measures the vertical and
/// horizontal counts.
pub fn shape(probes: &[Probe]) -> Shape {
    let mut best: AHashMap<(u128, u8, u16), f64> = AHashMap::new();
    for &(d, p, port, w) in probes {
        let e = best.entry((d, p, port)).or_insert(w);
        *e = e.max(w);
    }
    let mut per_dst: AHashMap<u128, f64> = AHashMap::new();
    let mut per_port: AHashMap<(u8, u16), f64> = AHashMap::new();
    let mut s = Shape::default();
    let mut failed = 0usize;
    for (&(d, p, port), &w) in &best {
        *per_dst.entry(d).or_default() += w;
        *per_port.entry((p, port)).or_default() += w;
        s.targets.insert(d);
        s.ports.insert(port);
        failed += usize::from(w >= 1.0);
    }
    if let Some((d, v)) = per_dst
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
    {
        (s.v_dst, s.v_max) = (d, v);
    }
    if let Some((p, h)) = per_port
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
    {
        (s.h_port, s.h_max) = (p, h);
    }
    s.failed_ratio = if best.is_empty() {
        0.0
    } else {
        failed as f64 / best.len() as f64
    };
    s
}

/// `vertical`, `horizontal` or `vertical+horizontal` for counts against their minimums.
pub fn classify(v: f64, h: f64, v_min: f64, h_min: f64) -> &'static str {
    match (v >= v_min, h >= h_min) {
        (true, true) => "vertical+horizontal",
        (true, false) => "vertical",
        (false, true) => "horizontal",
        (false, false) => "none",
    }
}

/// `0.3 + 0.5 (1 - 1 / (1 + log2 r)) + 0.2 f` for a ratio `r >= 1` to the threshold and a failed
/// share `f`; in [0, 1].
pub fn scan_score(ratio: f64, failed_ratio: f64) -> f64 {
    let l = if ratio.is_finite() && ratio > 1.0 {
        ratio.log2()
    } else if ratio > 1.0 {
        1e9
    } else {
        0.0
    };
    (0.3 + 0.5 * (1.0 - 1.0 / (1.0 + l)) + 0.2 * failed_ratio.clamp(0.0, 1.0)).clamp(0.0, 1.0)
}

#[derive(Default)]
struct WindowProbes {
    probes: Vec<Probe>,
    first: i64,
    last: i64,
}

struct WindowScan {
    window: i64,
    shape: Shape,
    rows: Vec<u32>,
    first: i64,
    last: i64,
}

/// Probes per (source, window); sources with too few flows in a window are dropped first.
fn gather(ctx: &DetectCtx, c: &PortScanConfig) -> AHashMap<(u128, i64), WindowProbes> {
    let f = ctx.flows;
    let min_flows = c
        .vertical_min_ports_count
        .min(c.horizontal_min_hosts_count)
        .floor()
        .max(1.0) as u64;
    let mut counts: AHashMap<(u128, i64), u64> = AHashMap::new();
    for i in (0..f.len()).filter(|i| keep(ctx, c, *i)) {
        *counts
            .entry((f.src[i], window_of(f.ts[i], c.window_secs)))
            .or_default() += 1;
    }
    counts.retain(|_, n| *n >= min_flows);
    let mut out: AHashMap<(u128, i64), WindowProbes> = AHashMap::new();
    for i in (0..f.len()).filter(|i| keep(ctx, c, *i)) {
        let key = (f.src[i], window_of(f.ts[i], c.window_secs));
        if !counts.contains_key(&key) {
            continue;
        }
        let w = probe_weight(
            f.up[i],
            f.down[i],
            c.tiny_flow_bytes,
            c.answered_tiny_weight_ratio,
            c.established_weight_ratio,
        );
        let e = out.entry(key).or_insert_with(|| WindowProbes {
            first: f.ts[i],
            last: f.ts[i],
            ..Default::default()
        });
        e.probes
            .push((f.dst[i], f.proto[i].index() as u8, f.dst_port[i], w));
        e.first = e.first.min(f.ts[i]);
        e.last = e.last.max(f.ts[i]);
    }
    out
}

/// A flow counts when its source is internal, or (with `external_sources`) its destination is.
fn keep(ctx: &DetectCtx, c: &PortScanConfig, i: usize) -> bool {
    let f = ctx.flows;
    ctx.nets.contains(f.src[i]) || (c.external_sources && ctx.nets.contains(f.dst[i]))
}

fn ratio_of(s: &Shape, c: &PortScanConfig) -> f64 {
    (s.v_max / c.vertical_min_ports_count).max(s.h_max / c.horizontal_min_hosts_count)
}

fn finding(ctx: &DetectCtx, c: &PortScanConfig, src: u128, mut scans: Vec<WindowScan>) -> Finding {
    scans.sort_by_key(|s| s.window);
    let best = scans
        .iter()
        .max_by(|a, b| ratio_of(&a.shape, c).total_cmp(&ratio_of(&b.shape, c)))
        .map(|s| s.shape.clone())
        .unwrap_or_default();
    let (mut targets, mut ports, mut rows) = (BTreeSet::new(), BTreeSet::new(), Vec::new());
    let (mut v, mut h) = (0.0f64, 0.0f64);
    for s in &scans {
        targets.extend(s.shape.targets.iter().copied());
        ports.extend(s.shape.ports.iter().copied());
        rows.extend(s.rows.iter().copied());
        (v, h) = (v.max(s.shape.v_max), h.max(s.shape.h_max));
    }
    rows.sort_unstable();
    let kind = classify(
        v,
        h,
        c.vertical_min_ports_count,
        c.horizontal_min_hosts_count,
    );
    let first = scans.iter().map(|s| s.first).min().unwrap_or(0);
    let last = scans.iter().map(|s| s.last).max().unwrap_or(0);
    let ratio = ratio_of(&best, c);
    let score = scan_score(ratio, best.failed_ratio);
    let (pmin, pmax) = (
        ports.first().copied().unwrap_or(0),
        ports.last().copied().unwrap_or(0),
    );
    let top: Vec<String> = targets
        .iter()
        .take(ctx.config.analysis.max_peers_count as usize)
        .map(|t| ip::format(*t))
        .collect();
    let proto = crate::schema::Proto::ALL
        .get(best.h_port.0 as usize)
        .map_or("other", |p| p.as_str());
    let explanation = format!(
        "{} {kind} port scan: {} ports (range {pmin}-{pmax}) on {} hosts {}; at most {:.0} ports on {} and {:.0} hosts on {}/{} in one {} s window, {:.0} % of probes unanswered",
        ip::format(src), ports.len(), targets.len(), super::behaviour::span_text(first, last), v, ip::format(best.v_dst), h,
        best.h_port.1, proto, c.window_secs, best.failed_ratio * 100.0
    );
    let details = json!({
        "scan_type": kind, "ports_count": ports.len(), "targets_count": targets.len(), "port_min": pmin, "port_max": pmax,
        "vertical_max": v, "horizontal_max": h, "windows": scans.len(), "failed_ratio": best.failed_ratio,
        "top_vertical_target": ip::format(best.v_dst), "top_horizontal_port": format!("{}/{proto}", best.h_port.1),
        "targets": top, "source_internal": ctx.nets.contains(src),
    });
    Finding {
        kind: "port_scan".into(),
        detector: "port_scan".into(),
        score,
        hosts: vec![ip::format(src)],
        peers: targets.iter().map(|t| ip::format(*t)).collect(),
        first_seen: Some(format_ts(first)),
        last_seen: Some(format_ts(last)),
        flows: rows.len() as u64,
        flow_rows: rows,
        evidence: Evidence {
            metric: format!(
                "weighted distinct ports per host / hosts per port per {} s window",
                c.window_secs
            ),
            observed: ratio,
            baseline: None,
            threshold: Some(1.0),
            explanation,
            details: details.as_object().cloned().unwrap_or_default(),
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_table() {
        let cases = [
            ((0, 0), 1.0),
            ((60, 0), 1.0),
            ((40, 40), 0.25),
            ((64, 64), 0.25),
            ((800, 600), 0.1),
        ];
        for ((up, down), want) in cases {
            assert_eq!(probe_weight(up, down, 128, 0.25, 0.1), want, "{up} {down}");
        }
    }

    #[test]
    fn shape_counts_vertical_and_horizontal() {
        // host 1: ports 1..=20 failed (+ a duplicate of port 1 answered); port 80 on hosts 2..=5: two
        // failed, two established -> 2.2 weighted hosts, more than any port of host 1 (1.0)
        let mut p: Vec<Probe> = (1..=20).map(|port| (1, 0, port, 1.0)).collect();
        p.push((1, 0, 1, 0.1));
        p.extend((2..=5).map(|d| (d, 0, 80, if d < 4 { 1.0 } else { 0.1 })));
        let s = shape(&p);
        assert_eq!((s.v_max, s.v_dst), (20.0, 1));
        assert_eq!(s.h_port, (0, 80));
        assert!((s.h_max - 2.2).abs() < 1e-12);
        assert_eq!((s.targets.len(), s.ports.len()), (5, 21));
        assert!((s.failed_ratio - 22.0 / 24.0).abs() < 1e-12);
    }

    #[test]
    fn classify_and_score_table() {
        assert_eq!(classify(20.0, 1.0, 15.0, 10.0), "vertical");
        assert_eq!(classify(1.0, 12.0, 15.0, 10.0), "horizontal");
        assert_eq!(classify(20.0, 12.0, 15.0, 10.0), "vertical+horizontal");
        let cases = [
            (1.0, 0.0, 0.3),
            (2.0, 0.0, 0.55),
            (4.0, 1.0, 0.3 + 0.5 * (2.0 / 3.0) + 0.2),
            (0.5, 0.5, 0.4),
        ];
        for (r, f, want) in cases {
            assert!(
                (scan_score(r, f) - want).abs() < 1e-12,
                "{r} {f}: {}",
                scan_score(r, f)
            );
        }
        assert!((scan_score(f64::INFINITY, 1.0) - 1.0).abs() < 1e-6);
    }
}
