//! The shared engine of the volume detectors (`sigma`, `iqr`, `zscore`, `mad`): per internal host and
//! window against the host's own profile (or the population), and per flow against the global
//! statistics. Each detector only supplies its threshold rule (a pure function of [`MetricStats`]).

use super::behaviour::{geo_suffix, span_text, window_text};
use super::corroborate::is_download;
use super::flows::Flows;
use super::volume_config::Common;
use super::DetectCtx;
use crate::baseline::habits::Peak;
use crate::baseline::stats::MetricStats;
use crate::baseline::{window_of, ByteStats};
use crate::error::Result;
use crate::findings::{format_ts, score_from_ratio, Evidence, Finding};
use crate::ip;
use crate::net::InternalNets;
use crate::output::table::human_bytes;
use ahash::AHashMap;
use serde_json::json;

/// Per (internal host, window) sums of flows, bytes sent and bytes received by the host.
#[derive(Debug, Clone, Default)]
pub struct HostWindows {
    /// Window length, seconds.
    pub window_secs: u64,
    /// One cell per (host, window) with at least one flow, sorted by host then window.
    pub cells: Vec<Cell>,
}

/// One (host, window) cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cell {
    /// The internal host.
    pub host: u128,
    /// Window index (`ts / window_secs`).
    pub window: i64,
    /// Flows.
    pub flows: u64,
    /// Bytes the host sent.
    pub up: u64,
    /// Bytes the host received.
    pub down: u64,
}

impl HostWindows {
    /// Aggregates `flows` per internal host and window.
    pub fn of(flows: &Flows, nets: &InternalNets, window_secs: u64) -> HostWindows {
        let mut sums = CellSums::default();
        sums.add(flows, nets, window_secs);
        sums.finish(window_secs)
    }
}

/// [`HostWindows`] being summed over parts of the flows (the out-of-core runner's routing pass).
#[derive(Debug, Clone, Default)]
pub struct CellSums(AHashMap<(u128, i64), Cell>);

impl CellSums {
    /// Adds flows, in windows of `window_secs`.
    pub fn add(&mut self, flows: &Flows, nets: &InternalNets, window_secs: u64) {
        for i in 0..flows.len() {
            let Some(v) = flows.host_view(i, nets) else {
                continue;
            };
            let w = window_of(flows.ts[i], window_secs);
            let c = self.0.entry((v.host, w)).or_insert(Cell {
                host: v.host,
                window: w,
                ..Default::default()
            });
            c.flows += 1;
            c.up += v.sent;
            c.down += v.received;
        }
    }

    /// Merges another part in.
    pub fn merge(&mut self, o: CellSums) {
        for (k, c) in o.0 {
            let m = self.0.entry(k).or_insert(Cell {
                flows: 0,
                up: 0,
                down: 0,
                ..c
            });
            m.flows += c.flows;
            m.up += c.up;
            m.down += c.down;
        }
    }

    /// The cells, sorted by host then window.
    pub fn finish(self, window_secs: u64) -> HostWindows {
        let mut cells: Vec<Cell> = self.0.into_values().collect();
        cells.sort_by_key(|c| (c.host, c.window));
        HostWindows { window_secs, cells }
    }
}

/// A volume metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Bytes sent (by the host per window; by the flow source per flow).
    Up,
    /// Bytes received (by the host per window; by the flow destination per flow).
    Down,
}

impl Metric {
    /// Parses `up_bytes` / `down_bytes`.
    pub fn parse(s: &str) -> Option<Metric> {
        match s {
            "up_bytes" => Some(Metric::Up),
            "down_bytes" => Some(Metric::Down),
            _ => None,
        }
    }

    /// The metric's name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Up => "up_bytes",
            Metric::Down => "down_bytes",
        }
    }

    fn of_cell(self, c: &Cell) -> u64 {
        match self {
            Metric::Up => c.up,
            Metric::Down => c.down,
        }
    }

    fn stats(self, s: &ByteStats) -> &MetricStats {
        match self {
            Metric::Up => &s.up_bytes,
            Metric::Down => &s.down_bytes,
        }
    }
}

/// What the thresholds are learned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// The baseline (host profile, else population; global per flow).
    Baseline,
    /// The test data itself (scipy's `zscore` semantics).
    TestSelf,
}

/// A threshold rule: the upper limit for values described by the stats (`robust` selects median/MAD
/// centre and scale where the rule uses mean/std).
pub type Rule<'a> = &'a dyn Fn(&MetricStats, bool) -> Option<f64>;

/// What one volume detector runs with: its shared settings, parsed.
#[derive(Debug, Clone)]
pub struct VolumeParams {
    /// Detector name.
    pub detector: &'static str,
    /// Metrics checked (parsed from `c.metrics`).
    pub metrics: Vec<Metric>,
    /// The shared settings (thresholds, guards, per host / per flow).
    pub c: Common,
    /// Baseline or test-self thresholds.
    pub reference: Reference,
    /// Human description of the rule, e.g. `mean + 3 std`.
    pub rule_text: String,
}

impl VolumeParams {
    /// Parameters of `detector` from its shared settings.
    pub fn new(
        detector: &'static str,
        c: Common,
        reference: Reference,
        rule_text: String,
    ) -> Result<VolumeParams> {
        Ok(VolumeParams {
            detector,
            metrics: metrics(&c.metrics)?,
            c,
            reference,
            rule_text,
        })
    }
}

/// How far beyond its threshold a value is, relative to the centre: `(x - c) / (t - c)` when `t > c`,
/// else `x / t` (1 at the threshold).
pub fn excess_ratio(x: f64, center: f64, threshold: f64) -> f64 {
    if threshold > center {
        (x - center) / (threshold - center)
    } else if threshold > 0.0 {
        x / threshold
    } else {
        f64::INFINITY
    }
}

/// One flagged (host, window) or flow.
#[derive(Debug, Clone)]
struct Hit {
    value: f64,
    threshold: f64,
    center: f64,
    /// The reference's tail quantile the guard multiplies: p99, or p90 on a self-learned baseline.
    tail: f64,
    /// Its name, for the explanation.
    tail_name: &'static str,
    reference: &'static str,
    /// Which limit bound: `rule`, `p99` or `tail`.
    bound: &'static str,
    /// The baseline peak the value stays within (habitual behaviour), if any.
    habit: Option<Peak>,
}

/// The binding limit: the detector's rule, the p99 guard, the heavy-tail guard, or the smallest
/// volume ever flagged (`floor`), whichever is highest (ties go to the first). Returns the limit and
/// its name. The floor binds where the reference never had that traffic (a host whose every
/// baseline window downloaded nothing has a limit of 0 B by every rule): its first megabytes are
/// then measured against the floor, not found infinitely beyond nothing.
pub fn binding_limit(
    rule: f64,
    p99_guard: f64,
    tail_guard: Option<f64>,
    floor: f64,
) -> (f64, &'static str) {
    let mut best = (rule, "rule");
    if p99_guard > best.0 {
        best = (p99_guard, "p99");
    }
    if let Some(t) = tail_guard.filter(|t| *t > best.0) {
        best = (t, "tail");
    }
    if floor > best.0 {
        best = (floor, "floor");
    }
    best
}

/// The heavy-tail guard's ratio to the reference median: the network-wide tail quantile that
/// ordinary windows exceed `expected` times among `cells` windows (`None`: guard off or unfitted).
fn tail_ratio(ctx: &DetectCtx, p: &VolumeParams, m: Metric, cells: usize) -> Option<f64> {
    if p.reference == Reference::TestSelf || p.c.tail_expected_false_windows <= 0.0 || cells == 0 {
        return None;
    }
    let tails = &ctx.baseline.relative_tail;
    let model = if m == Metric::Up {
        &tails.up_bytes
    } else {
        &tails.down_bytes
    };
    model.quantile(p.c.tail_expected_false_windows / cells as f64)
}

/// Runs the per-host and per-flow checks of one detector.
pub fn run(ctx: &DetectCtx, p: &VolumeParams, rule: Rule) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    for m in &p.metrics {
        if p.c.per_host {
            out.extend(per_host(ctx, p, *m, rule));
        }
        if p.c.per_flow {
            out.extend(per_flow(ctx, p, *m, rule));
        }
    }
    for f in out.iter_mut().filter(|f| is_download(f)) {
        hold_fleet(ctx, &p.c, f);
    }
    Ok(out)
}

/// Whether `hosts` of the network's `active` hosts reaching one peer make it a fleet's: at least
/// `min_hosts` and `share` of them (`share` 0: never).
pub fn is_fleet(hosts: u64, active: u64, share: f64, min_hosts: u64) -> bool {
    share > 0.0 && super::behaviour::prevalent(hosts, active, share, min_hosts)
}

/// Holds a download from a peer that a fleet of the network's hosts reached too at low, saying so.
fn hold_fleet(ctx: &DetectCtx, c: &Common, f: &mut Finding) {
    let Some(peer) = f.peers.first().and_then(|p| ip::parse(p)) else {
        return;
    };
    let g = ctx.globals();
    let (hosts, active) = (g.hosts_of(peer), g.internal_hosts.len() as u64);
    if !is_fleet(hosts, active, c.fleet_share_ratio, c.fleet_min_hosts_count) {
        return;
    }
    f.score = f.score.min(HABITUAL_SCORE);
    f.evidence.explanation.push_str(&format!(
        "; {hosts} of the network's {active} active hosts reached {} too: a fleet-wide download (an update rollout, a popular CDN), reported low",
        f.peers[0]
    ));
    f.evidence
        .details
        .insert("fleet_hosts".into(), json!(hosts));
}

fn reference_stats<'b>(
    ctx: &'b DetectCtx,
    p: &VolumeParams,
    m: Metric,
    host: u128,
    test_ref: &'b MetricStats,
) -> (&'b MetricStats, &'static str) {
    if p.reference == Reference::TestSelf {
        return (test_ref, "test");
    }
    let own = ctx
        .baseline
        .host(host)
        .filter(|h| !ctx.baseline.robust() && h.active_windows >= p.c.min_history_windows_count);
    match own {
        Some(h) => (m.stats(&h.per_window), "host"),
        None => (m.stats(&ctx.baseline.host_windows), "population"),
    }
}

fn per_host(ctx: &DetectCtx, p: &VolumeParams, m: Metric, rule: Rule) -> Vec<Finding> {
    let hw = ctx.host_windows();
    let test_ref = if p.reference == Reference::TestSelf {
        MetricStats::of(&mut hw.cells.iter().map(|c| m.of_cell(c)).collect::<Vec<_>>())
    } else {
        MetricStats::default()
    };
    let tail = tail_ratio(ctx, p, m, hw.cells.len());
    let mut hits: AHashMap<(u128, i64), Hit> = AHashMap::new();
    for c in &hw.cells {
        let value = m.of_cell(c);
        if value < p.c.min_window_bytes {
            continue;
        }
        let (s, reference) = reference_stats(ctx, p, m, c.host, &test_ref);
        let robust = ctx.baseline.robust() && reference != "test";
        let Some(by_rule) = rule(s, robust) else {
            continue;
        };
        let tail_guard = tail.filter(|_| s.median > 0.0).map(|q| q * s.median);
        let (threshold, bound) = binding_limit(
            by_rule,
            p.c.min_p99_ratio * s.tail(robust),
            tail_guard,
            p.c.min_window_bytes as f64,
        );
        if value as f64 > threshold {
            let hit = Hit {
                value: value as f64,
                threshold,
                center: s.center(robust),
                tail: s.tail(robust),
                tail_name: MetricStats::tail_name(robust),
                reference,
                bound,
                habit: habitual_peak(ctx, p, m, c.host, value as f64),
            };
            hits.insert((c.host, c.window), hit);
        }
    }
    collect(ctx, p, m, &hits, hw.window_secs)
}

fn per_flow(ctx: &DetectCtx, p: &VolumeParams, m: Metric, rule: Rule) -> Vec<Finding> {
    let f = ctx.flows;
    let values = if m == Metric::Up { &f.up } else { &f.down };
    let (s, reference, robust) = match p.reference {
        Reference::TestSelf => (MetricStats::of(&mut values.clone()), "test", false),
        Reference::Baseline => (
            m.stats(&ctx.baseline.global).clone(),
            "global",
            ctx.baseline.robust(),
        ),
    };
    let Some((thr, bound)) = rule(&s, robust).map(|t| {
        let p99 = p.c.min_p99_ratio * s.tail(robust);
        binding_limit(t, p99, None, p.c.min_flow_bytes as f64)
    }) else {
        return Vec::new();
    };
    // per host: the largest flagged flow (every other field is the same for all) and the rows, ascending
    let mut by_host: AHashMap<u128, (Hit, Vec<usize>)> = AHashMap::new();
    for (i, &v) in values.iter().enumerate() {
        if v < p.c.min_flow_bytes || v as f64 <= thr {
            continue;
        }
        let host = f.host_view(i, ctx.nets).map_or(f.src[i], |h| h.host);
        let (hit, rows) = by_host.entry(host).or_insert_with(|| {
            let h = Hit {
                value: v as f64,
                threshold: thr,
                center: s.center(robust),
                tail: s.tail(robust),
                tail_name: MetricStats::tail_name(robust),
                reference,
                bound,
                habit: None,
            };
            (h, Vec::new())
        });
        hit.value = hit.value.max(v as f64);
        rows.push(i);
    }
    by_host
        .into_iter()
        .map(|(host, (hit, rows))| flow_finding(ctx, p, m, host, &hit, &rows))
        .collect()
}

/// Groups the flows of flagged (host, window) keys into one `volume_outlier` finding per host.
fn collect(
    ctx: &DetectCtx,
    p: &VolumeParams,
    m: Metric,
    hits: &AHashMap<(u128, i64), Hit>,
    window_secs: u64,
) -> Vec<Finding> {
    if hits.is_empty() {
        return Vec::new();
    }
    let mut groups: AHashMap<u128, Group> = AHashMap::new();
    for i in 0..ctx.flows.len() {
        let Some(v) = ctx.flows.host_view(i, ctx.nets) else {
            continue;
        };
        let k = (v.host, window_of(ctx.flows.ts[i], window_secs));
        let Some(hit) = hits.get(&k) else { continue };
        let g = groups.entry(v.host).or_default();
        g.add(i, &v, ctx.flows.ts[i], m, hit);
    }
    let mut out: Vec<Finding> = groups
        .into_iter()
        .map(|(h, g)| g.finding(ctx, p, m, h))
        .collect();
    out.sort_by(|a, b| a.hosts.cmp(&b.hosts));
    out
}

#[derive(Default)]
struct Group {
    rows: Vec<u32>,
    peers: AHashMap<u128, u64>,
    /// Bytes per external client, of the flows it opened to the host (the host answered).
    served: AHashMap<u128, u64>,
    total: u64,
    first: i64,
    last: i64,
    best: Option<Hit>,
}

impl Group {
    fn add(&mut self, i: usize, v: &super::flows::HostView, ts: i64, m: Metric, hit: &Hit) {
        let bytes = if m == Metric::Up { v.sent } else { v.received };
        if self.rows.is_empty() {
            (self.first, self.last) = (ts, ts);
        }
        self.rows.push(i as u32);
        *self.peers.entry(v.peer).or_default() += bytes;
        if !v.originator && bytes > 0 {
            *self.served.entry(v.peer).or_default() += bytes;
        }
        self.total += bytes;
        self.first = self.first.min(ts);
        self.last = self.last.max(ts);
        if self.best.as_ref().is_none_or(|b| {
            (hit.habit.is_none(), excess_of(hit)) > (b.habit.is_none(), excess_of(b))
        }) {
            self.best = Some(hit.clone());
        }
    }

    fn finding(self, ctx: &DetectCtx, p: &VolumeParams, m: Metric, host: u128) -> Finding {
        let hit = self.best.unwrap_or(Hit {
            value: 0.0,
            threshold: 0.0,
            center: 0.0,
            tail: 0.0,
            tail_name: "p99",
            reference: "",
            bound: "rule",
            habit: None,
        });
        let mut peers: Vec<(u128, u64)> = self.peers.into_iter().collect();
        peers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let window_text = window_text(ctx.baseline.window_secs);
        let explanation = explain(
            ctx,
            m,
            self.total,
            &peers,
            self.first,
            self.last,
            &hit,
            &window_text,
        );
        let mut explanation = format!("{explanation} ({})", bound_label(&hit, p));
        if let Some(peak) = &hit.habit {
            explanation.push_str(&format!("; {}", habit_text(m, peak)));
        }
        let mut details = serde_json::Map::new();
        details.insert("metric".into(), json!(m.name()));
        details.insert("reference".into(), json!(hit.reference));
        details.insert("limit_by".into(), json!(hit.bound));
        details.insert("rule".into(), json!(p.rule_text));
        details.insert("total_bytes".into(), json!(self.total));
        details.insert(format!("reference_{}", hit.tail_name), json!(hit.tail));
        if let Some(peak) = &hit.habit {
            details.insert("habitual".into(), json!(peak));
        }
        let evidence = Evidence {
            metric: format!(
                "{} per {} s window (host {})",
                m.name(),
                ctx.baseline.window_secs,
                if m == Metric::Up { "sent" } else { "received" }
            ),
            observed: hit.value,
            baseline: Some(hit.center),
            threshold: Some(hit.threshold),
            explanation,
            details,
        };
        let mut f = finding(
            p,
            "volume_outlier",
            host,
            &peers,
            self.first,
            self.last,
            self.rows,
            evidence,
            &hit,
        );
        if hit.reference == "population" {
            let served: Vec<u64> = self.served.into_values().collect();
            hold_serving(&p.c, &served, self.total, &mut f);
        }
        f
    }
}

/// Holds a population-judged finding low when its bytes are the host's service ([`is_serving`]),
/// saying so: a server is not compared with the network's clients.
fn hold_serving(c: &Common, served: &[u64], total: u64, f: &mut Finding) {
    let (min, share) = (
        c.serving_min_clients_count,
        c.serving_max_client_share_ratio,
    );
    if !is_serving(served, total, min, share) {
        return;
    }
    f.evidence
        .explanation
        .push_str(&serving_text(served, total));
    f.evidence
        .details
        .insert("served_clients".into(), json!(served.len()));
    f.score = f.score.min(HABITUAL_SCORE);
}

/// Whether a host's flagged bytes are its service rather than its own doing: more than half of
/// `total` were answers to external clients that opened the flows (`served`, bytes per client), at
/// least `min_clients` of them (0: never), none with more than `max_share` of `total`.
pub fn is_serving(served: &[u64], total: u64, min_clients: u64, max_share: f64) -> bool {
    let sum: u64 = served.iter().sum();
    let top = served.iter().copied().max().unwrap_or(0);
    min_clients > 0
        && served.len() as u64 >= min_clients
        && sum.saturating_mul(2) > total
        && top as f64 <= max_share * total as f64
}

/// "; 95.1 MB of it answered 1471 external clients that connected to the host (...)".
fn serving_text(served: &[u64], total: u64) -> String {
    let sum: u64 = served.iter().sum();
    let top = served.iter().copied().max().unwrap_or(0);
    format!(
        "; {} of it answered {} external clients that connected to the host (the largest took {:.0} %): a server's service, not compared with the network's clients, reported low",
        human_bytes(sum as f64),
        served.len(),
        100.0 * top as f64 / total.max(1) as f64
    )
}

/// What set the limit, for the explanation: the rule, the p99 guard or the heavy-tail guard.
fn bound_label(h: &Hit, p: &VolumeParams) -> String {
    match h.bound {
        "p99" => format!("{} x the reference {}", p.c.min_p99_ratio, h.tail_name),
        "tail" => "the network's heavy-tail limit".into(),
        "floor" => "min_window_bytes: nothing like it in the reference".into(),
        _ => p.rule_text.clone(),
    }
}

fn excess_of(h: &Hit) -> f64 {
    excess_ratio(h.value, h.center, h.threshold)
}

#[allow(clippy::too_many_arguments)]
fn finding(
    p: &VolumeParams,
    kind: &str,
    host: u128,
    peers: &[(u128, u64)],
    first: i64,
    last: i64,
    rows: Vec<u32>,
    evidence: Evidence,
    hit: &Hit,
) -> Finding {
    let score = score_from_ratio(excess_of(hit));
    Finding {
        kind: kind.into(),
        detector: p.detector.into(),
        score: if hit.habit.is_some() {
            score.min(HABITUAL_SCORE)
        } else {
            score
        },
        hosts: vec![ip::format(host)],
        peers: peers.iter().map(|(p, _)| ip::format(*p)).collect(),
        first_seen: Some(format_ts(first)),
        last_seen: Some(format_ts(last)),
        flows: rows.len() as u64,
        flow_rows: rows,
        evidence,
        ..Default::default()
    }
}

fn flow_finding(
    ctx: &DetectCtx,
    p: &VolumeParams,
    m: Metric,
    host: u128,
    hit: &Hit,
    rows: &[usize],
) -> Finding {
    let f = ctx.flows;
    let mut peers: AHashMap<u128, u64> = AHashMap::new();
    let values = if m == Metric::Up { &f.up } else { &f.down };
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for &i in rows {
        let peer = if f.src[i] == host { f.dst[i] } else { f.src[i] };
        *peers.entry(peer).or_default() += values[i];
        first = first.min(f.ts[i]);
        last = last.max(f.ts[i]);
    }
    let mut peers: Vec<(u128, u64)> = peers.into_iter().collect();
    peers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let explanation = format!(
        "{} flow(s) with {} above {} (largest {}; a normal flow carries {}, {} {})",
        rows.len(),
        m.name(),
        human_bytes(hit.threshold),
        human_bytes(hit.value),
        human_bytes(hit.center),
        hit.tail_name,
        human_bytes(hit.tail)
    );
    let mut details = serde_json::Map::new();
    details.insert("metric".into(), json!(m.name()));
    details.insert("reference".into(), json!(hit.reference));
    details.insert("rule".into(), json!(p.rule_text));
    let evidence = Evidence {
        metric: format!("{} per flow", m.name()),
        observed: hit.value,
        baseline: Some(hit.center),
        threshold: Some(hit.threshold),
        explanation,
        details,
    };
    finding(
        p,
        "flow_outlier",
        host,
        &peers,
        first,
        last,
        rows.iter().map(|r| *r as u32).collect(),
        evidence,
        hit,
    )
}

#[allow(clippy::too_many_arguments)]
fn explain(
    ctx: &DetectCtx,
    m: Metric,
    total: u64,
    peers: &[(u128, u64)],
    first: i64,
    last: i64,
    hit: &Hit,
    window: &str,
) -> String {
    let (verb, prep, noun) = if m == Metric::Up {
        ("uploaded", "to", "upload")
    } else {
        ("downloaded", "from", "download")
    };
    let peer = peers.first().map_or_else(String::new, |(p, _)| {
        format!("{}{}", ip::format(*p), geo_suffix(ctx.geo, *p))
    });
    let others = match peers.len() {
        0 | 1 => String::new(),
        2 => " and 1 other peer".into(),
        n => format!(" and {} other peers", n - 1),
    };
    let whose = match hit.reference {
        "host" => format!("its normal {window} {noun} is"),
        "population" => format!("a host's normal {window} {noun} on this network is"),
        _ => format!("the typical {window} {noun} per host in this capture is"),
    };
    format!(
        "{verb} {} {prep} {peer}{others} {}; {whose} {} ({} {}), limit {}",
        human_bytes(total as f64),
        span_text(first, last),
        human_bytes(hit.center),
        hit.tail_name,
        human_bytes(hit.tail),
        human_bytes(hit.threshold)
    )
}

/// The highest score of behaviour the baseline already holds (low: out of the default table).
pub const HABITUAL_SCORE: f64 = 0.3;

/// The host's baseline peak of metric `m` when `value` stays within `habit_peak_ratio` times it.
fn habitual_peak(
    ctx: &DetectCtx,
    p: &VolumeParams,
    m: Metric,
    host: u128,
    value: f64,
) -> Option<Peak> {
    if p.c.habit_peak_ratio <= 0.0 || p.reference == Reference::TestSelf {
        return None;
    }
    let h = ctx.baseline.habits.host(host)?;
    let peak = if m == Metric::Up {
        &h.peak_up
    } else {
        &h.peak_down
    };
    peak.as_ref()
        .filter(|pk| pk.value > 0.0 && value <= p.c.habit_peak_ratio * pk.value)
        .cloned()
}

/// "as in the baseline: 1.4 GB sent (mostly to 203.0.113.7) in the window starting ...".
pub fn habit_text(m: Metric, peak: &Peak) -> String {
    let verb = if m == Metric::Up { "sent" } else { "received" };
    let to = match (&peak.peer, m) {
        (Some(p), Metric::Up) => format!(" (mostly to {p})"),
        _ => String::new(),
    };
    format!(
        "as in the baseline: {} {verb}{to} in the window starting {}",
        human_bytes(peak.value),
        peak.at.as_deref().unwrap_or("?")
    )
}

/// Parses the `metrics` list.
pub fn metrics(names: &[String]) -> Result<Vec<Metric>> {
    names
        .iter()
        .map(|n| {
            Metric::parse(n).ok_or_else(|| {
                crate::error::FlowError::Config(format!(
                    "unknown metric '{n}': use up_bytes or down_bytes"
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_serving_table() {
        // (bytes per client, total, min clients, max share, serving)
        let many: Vec<u64> = vec![1_000; 30];
        let cases: [(&[u64], u64, u64, f64, bool); 7] = [
            (&many, 40_000, 20, 0.2, true),
            (&many, 40_000, 0, 0.2, false),
            (&many, 40_000, 31, 0.2, false),
            // mostly the host's own uploads
            (&many, 70_000, 20, 0.2, false),
            (&many[..19], 19_000, 20, 0.2, false),
            // one client took most of it: a dump fetched through the server
            (&[50_000, 1_000, 1_000], 52_000, 2, 0.2, false),
            (&[], 0, 20, 0.2, false),
        ];
        for (served, total, min, share, want) in cases {
            assert_eq!(
                is_serving(served, total, min, share),
                want,
                "{} clients, {total}, {min}, {share}",
                served.len()
            );
        }
    }

    #[test]
    fn is_fleet_table() {
        // (hosts reaching the peer, active hosts, share, min hosts) -> a fleet's?
        let cases = [
            (20, 26, 0.25, 3, true),    // an update on 20 of 26 clients
            (1, 26, 0.25, 3, false),    // one host's own download
            (6, 26, 0.25, 3, false),    // under a quarter
            (2, 4, 0.25, 3, false),     // half of a tiny network, but two hosts
            (500, 2000, 0.25, 3, true), // a quarter of a big one
            (26, 26, 0.0, 3, false),    // off
        ];
        for (hosts, active, share, min, want) in cases {
            assert_eq!(
                is_fleet(hosts, active, share, min),
                want,
                "{hosts} {active}"
            );
        }
    }

    #[test]
    fn excess_table() {
        let cases = [
            (16.0, 10.0, 13.0, 2.0),
            (13.0, 10.0, 13.0, 1.0),
            (20.0, 10.0, 10.0, 2.0),
            (5.0, 0.0, 0.0, f64::INFINITY),
        ];
        for (x, c, t, want) in cases {
            assert_eq!(excess_ratio(x, c, t), want, "{x} {c} {t}");
        }
    }

    #[test]
    fn binding_limit_table() {
        let cases = [
            (10.0, 5.0, None, 1.0, (10.0, "rule")),
            (10.0, 12.0, None, 1.0, (12.0, "p99")),
            (10.0, 12.0, Some(11.0), 1.0, (12.0, "p99")),
            (10.0, 12.0, Some(50.0), 1.0, (50.0, "tail")),
            (10.0, 0.0, Some(10.0), 1.0, (10.0, "rule")),
            // a reference that never had the traffic: every rule says 0 B
            (0.0, 0.0, None, 1e6, (1e6, "floor")),
            (10.0, 12.0, Some(50.0), 50.0, (50.0, "tail")),
        ];
        for (rule, p99, tail, floor, want) in cases {
            assert_eq!(
                binding_limit(rule, p99, tail, floor),
                want,
                "{rule} {p99} {tail:?} {floor}"
            );
        }
    }
}
