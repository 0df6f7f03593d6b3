//! `dns_anomaly`: DNS (udp/tcp 53) to resolvers the baseline did not learn, and per-host DNS
//! volume/size outliers, the shape of tunnelling (kind `dns_tunnel`).

use super::behaviour::{describe_peer, is_dns, saturate, Span};
use super::volume::Cell;
use super::{DetectCtx, Detector};
use crate::baseline::Baseline;
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{score_from_ratio, Evidence, Finding};
use crate::ip;
use ahash::{AHashMap, AHashSet};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The detector.
pub struct DnsAnomaly;

/// `[detectors.dns_anomaly]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsAnomalyConfig {
    /// An external resolver used by at least this many baseline hosts is known.
    pub known_resolver_min_hosts_count: u64,
    /// DNS flows a host needs before the tunnelling rules apply.
    pub min_tunnel_flows_count: u64,
    /// Mean upload size, as a multiple of the population's typical query size, that looks like tunnelling.
    pub k_query_size: f64,
    /// DNS flows per active window, as a multiple of the host's own baseline rate, that looks like tunnelling.
    pub k_rate: f64,
    /// Baseline DNS flows per window assumed for hosts without a profile.
    pub default_rate_per_window_count: f64,
    /// Flows to unknown resolvers before a host is reported for them alone.
    pub min_unknown_resolver_flows_count: u64,
    /// Tunnel shape: mean query size at least this multiple of the typical one...
    pub min_query_size_ratio: f64,
    /// ...or query sizes at least this variable (coefficient of variation).
    pub min_query_size_cv: f64,
}

impl Default for DnsAnomalyConfig {
    fn default() -> Self {
        DnsAnomalyConfig {
            known_resolver_min_hosts_count: 3,
            min_tunnel_flows_count: 50,
            k_query_size: 1.8,
            k_rate: 8.0,
            default_rate_per_window_count: 5.0,
            min_unknown_resolver_flows_count: 3,
            min_query_size_ratio: 1.25,
            min_query_size_cv: 0.25,
        }
    }
}

static SETTINGS: [Setting; 8] = [
    Setting { key: "known_resolver_min_hosts_count", doc: "an external resolver used by this many baseline hosts is known", range: Range::Int(1, 1_000_000) },
    Setting { key: "min_tunnel_flows_count", doc: "DNS flows a host needs before the tunnelling rules apply", range: Range::Int(1, 1_000_000_000) },
    Setting { key: "k_query_size", doc: "mean upload size as a multiple of the typical query size that looks like tunnelling", range: Range::Float(1.0, 100.0) },
    Setting { key: "k_rate", doc: "DNS flows per active window as a multiple of the host's baseline rate that looks like tunnelling", range: Range::Float(1.0, 10_000.0) },
    Setting { key: "default_rate_per_window_count", doc: "baseline DNS flows per window assumed for hosts without a profile", range: Range::Float(0.01, 1_000_000.0) },
    Setting { key: "min_unknown_resolver_flows_count", doc: "flows to unknown resolvers before a host is reported for them alone", range: Range::Int(1, 1_000_000_000) },
    Setting { key: "min_query_size_ratio", doc: "tunnel shape: mean query size at least this multiple of the typical one (or varying sizes, below); a high rate of ordinary, regular queries is a chatty client, not a tunnel", range: Range::Float(0.0, 100.0) },
    Setting { key: "min_query_size_cv", doc: "tunnel shape: or query sizes varying at least this much (coefficient of variation)", range: Range::Float(0.0, 100.0) },
];

/// DNS statistics of one host over the test.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DnsStats {
    /// DNS flows it originated.
    pub flows: u64,
    /// Mean upload (query) size, bytes.
    pub mean_up: f64,
    /// Coefficient of variation of the upload size (std / mean, population std).
    pub cv_up: f64,
    /// Windows of the test in which the host had any flow.
    pub active_windows: u64,
    /// Flows to resolvers the baseline does not know.
    pub unknown_flows: u64,
}

/// Mean and coefficient of variation (population std / mean) of sizes; zeros when empty.
pub fn mean_cv(sizes: &[u64]) -> (f64, f64) {
    if sizes.is_empty() {
        return (0.0, 0.0);
    }
    let n = sizes.len() as f64;
    let mean = sizes.iter().map(|x| *x as f64).sum::<f64>() / n;
    let var = sizes
        .iter()
        .map(|x| (*x as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, if mean > 0.0 { var.sqrt() / mean } else { 0.0 })
}

/// The tunnelling ratios of a host: `(size_ratio, rate_ratio)` with `size_ratio = mean_up / typical`
/// and `rate_ratio = (flows / active_windows) / baseline_rate`.
pub fn tunnel_ratios(s: &DnsStats, typical_query: f64, baseline_rate: f64) -> (f64, f64) {
    let size = if typical_query > 0.0 {
        s.mean_up / typical_query
    } else {
        0.0
    };
    let rate = s.flows as f64 / s.active_windows.max(1) as f64 / baseline_rate.max(1e-9);
    (size, rate)
}

/// The size ratio of the queries beyond a host's usual ones: when its DNS flows are at least twice
/// its baseline rate (`rate_ratio >= 2`), the usual share (its baseline rate of typical-size queries)
/// is taken out and the rest is measured on its own, `(rate size - 1) / (rate - 1)`; else (or when
/// that is smaller) `size_ratio` itself. A busy client's thousands of ordinary lookups an hour halve
/// the mean query of a tunnel running through the same resolver; below twice the usual rate, the
/// rest is too small a part to be measured this way (the noise of the usual sizes would be
/// amplified by `1 / (rate - 1)`).
pub fn beyond_usual_size_ratio(size_ratio: f64, rate_ratio: f64) -> f64 {
    if rate_ratio < 2.0 || !rate_ratio.is_finite() {
        return size_ratio;
    }
    ((rate_ratio * size_ratio - 1.0) / (rate_ratio - 1.0)).max(size_ratio)
}

/// The tunnelling score: `score_from_ratio(max(size/k_size, rate max(size, 1)/k_rate)) + 0.15 [unknown
/// resolver] + 0.1 min(cv / 0.3, 1)`, clamped; `None` when neither ratio crosses its multiple. The
/// rate counts query bytes: a tunnel's throughput is its queries' size times their number, so twice
/// the typical size at four times the usual rate carries eight times the usual data.
pub fn tunnel_score(
    size_ratio: f64,
    rate_ratio: f64,
    k_size: f64,
    k_rate: f64,
    unknown: bool,
    cv: f64,
) -> Option<f64> {
    let bytes_ratio = rate_ratio * size_ratio.max(1.0);
    let r = (size_ratio / k_size).max(bytes_ratio / k_rate);
    (r > 1.0).then(|| {
        (score_from_ratio(r) + if unknown { 0.15 } else { 0.0 } + 0.1 * (cv / 0.3).clamp(0.0, 1.0))
            .clamp(0.0, 1.0)
    })
}

/// True when the queries have a tunnel's shape: larger than typical (`size_ratio >= min_ratio`) or
/// varying (`cv >= min_cv`). Encoded payloads make queries long and uneven; a client that merely
/// repeats ordinary lookups (same small size, cv near 0) does not qualify, however high its rate.
/// DNS that goes to the network's own resolvers (`to_own_resolvers`: some of the flows judged) is
/// ordinary infrastructure: there the queries must be long (`size_ratio >= min_ratio`); names of
/// varying length alone are what any client sends. Varying sizes count only for flows that all went
/// to unknown resolvers (a host's flows to them are judged on their own as well).
pub fn tunnel_shaped(
    size_ratio: f64,
    cv: f64,
    min_ratio: f64,
    min_cv: f64,
    to_own_resolvers: bool,
) -> bool {
    size_ratio >= min_ratio || (!to_own_resolvers && cv >= min_cv)
}

/// The score of DNS to unknown resolvers alone: `0.25 + 0.2 * n / (n + 20)`.
pub fn unknown_resolver_score(flows: u64) -> f64 {
    0.25 + 0.2 * saturate(flows as f64, 20.0)
}

#[derive(Default)]
struct HostAcc {
    span: Span,
    sizes: Vec<u64>,
    /// DNS flows that got bytes back.
    answered: u64,
    unknown: AHashSet<u128>,
    unknown_flows: u64,
    /// Query sizes of the flows to unknown resolvers, and how many of them got bytes back.
    unknown_sizes: Vec<u64>,
    unknown_answered: u64,
    /// Per flow (parallel to `sizes` and `span.rows`): its window (of `baseline.window_secs`),
    /// whether it got bytes back, whether it went to an unknown resolver.
    per_flow: Vec<(i64, bool, bool)>,
}

impl Detector for DnsAnomaly {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = DnsAnomalyConfig;
    fn name(&self) -> &'static str {
        "dns_anomaly"
    }
    fn description(&self) -> &'static str {
        "DNS to resolvers the baseline did not learn, and DNS volume/size outliers per host (tunnelling)"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn run(&self, cfg: &DnsAnomalyConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let accs = accumulate(cfg, ctx);
        let typical = ctx.globals().typical_dns_query();
        // bidirectional flows (Zeek, Argus, IPFIX biflows) show whether a query was answered;
        // unidirectional NetFlow records never do, and then nothing is held against the host
        let answers_seen = ctx.globals().dns_answered;
        let cells = &ctx.host_windows().cells;
        let mut out = Vec::new();
        for (h, a) in accs {
            let active = active_windows(cells, h);
            out.extend(judge(cfg, ctx, h, a, (active, answers_seen), typical));
        }
        out.sort_by(|a, b| a.hosts.cmp(&b.hosts));
        Ok(out)
    }
}

/// True when `peer` is one of the network's resolvers (an internal address: the site's DNS server or
/// its router) or one the baseline knows (a popular external one).
fn known_resolver(cfg: &DnsAnomalyConfig, b: &Baseline, peer: &str, internal: bool) -> bool {
    internal
        || b.servers
            .iter()
            .any(|s| s.ip == peer && s.port.is_none_or(|p| p == 53))
        || b.external
            .destinations
            .get(peer)
            .is_some_and(|p| p.hosts >= cfg.known_resolver_min_hosts_count)
}

/// Windows of the test in which `host` had any flow (1 when none): its cells in the shared
/// per-(host, window) table, which is sorted by host.
fn active_windows(cells: &[Cell], host: u128) -> u64 {
    let lo = cells.partition_point(|c| c.host < host);
    let hi = cells.partition_point(|c| c.host <= host);
    match hi - lo {
        0 => 1,
        n => n as u64,
    }
}

fn accumulate(cfg: &DnsAnomalyConfig, ctx: &DetectCtx) -> AHashMap<u128, HostAcc> {
    let f = ctx.flows;
    let mut known: AHashMap<u128, bool> = AHashMap::new();
    let mut accs: AHashMap<u128, HostAcc> = AHashMap::new();
    for i in 0..f.len() {
        let Some(v) = f.host_view(i, ctx.nets) else {
            continue;
        };
        if !v.originator || !is_dns(f.proto[i], f.dst_port[i]) {
            continue;
        }
        let k = *known.entry(v.peer).or_insert_with(|| {
            let internal = ctx.nets.contains(v.peer);
            known_resolver(cfg, ctx.baseline, &ip::format(v.peer), internal)
        });
        let a = accs.entry(v.host).or_default();
        a.span.add(i, f.ts[i], v.peer, v.sent);
        a.sizes.push(v.sent);
        a.answered += u64::from(v.received > 0);
        let unknown = !k && !ctx.baseline.is_server(&ip::format(v.host), 53);
        let window = crate::baseline::window_of(f.ts[i], ctx.baseline.window_secs);
        a.per_flow.push((window, v.received > 0, unknown));
        if unknown {
            a.unknown.insert(v.peer);
            a.unknown_flows += 1;
            a.unknown_sizes.push(v.sent);
            a.unknown_answered += u64::from(v.received > 0);
        }
    }
    accs
}

fn baseline_rate(cfg: &DnsAnomalyConfig, b: &Baseline, host: u128) -> f64 {
    let Some(p) = b.host(host).filter(|p| p.active_windows > 0 && !b.robust()) else {
        return cfg.default_rate_per_window_count;
    };
    let dns: u64 = p
        .usual_dst_ports
        .iter()
        .filter(|k| k.key == "udp/53" || k.key == "tcp/53")
        .map(|k| k.flows)
        .sum();
    (dns as f64 / p.active_windows as f64).max(0.1)
}

/// The tunnelling verdict on one set of DNS flows of a host (all of them, or those to unknown
/// resolvers): its statistics, ratios, and score when it is a tunnel.
struct Verdict {
    stats: DnsStats,
    size_r: f64,
    rate_r: f64,
    /// The size ratio the score took: beyond the host's usual queries when they are among `sizes`
    /// ([`beyond_usual_size_ratio`]), else `size_r`.
    scored_size_r: f64,
    score: Option<f64>,
}

/// Judges `sizes` (with `answered` of them answered) as a possible tunnel; `unknown_flows` of them
/// went to unknown resolvers. `with_usual`: the host's usual lookups are among `sizes` (all its DNS,
/// or all of it in some windows), not a subset of them.
fn verdict(
    cfg: &DnsAnomalyConfig,
    (sizes, answered, unknown_flows): (&[u64], u64, u64),
    (active, answers_seen): (u64, bool),
    (typical, rate, with_usual): (f64, f64, bool),
) -> Verdict {
    let (mean_up, cv_up) = mean_cv(sizes);
    let stats = DnsStats {
        flows: sizes.len() as u64,
        mean_up,
        cv_up,
        active_windows: active,
        unknown_flows,
    };
    let (size_r, rate_r) = tunnel_ratios(&stats, typical, rate);
    let unknown = unknown_flows > 0;
    let shaped = tunnel_shaped(
        size_r,
        cv_up,
        cfg.min_query_size_ratio,
        cfg.min_query_size_cv,
        unknown_flows < stats.flows,
    );
    // a tunnel needs a resolver that answers: unanswered queries en masse are a flood (`dos`)
    let answered = !answers_seen || answered * 2 >= stats.flows;
    let scored_size_r = if with_usual {
        beyond_usual_size_ratio(size_r, rate_r)
    } else {
        size_r
    };
    let (k_size, k_rate) = (cfg.k_query_size, cfg.k_rate);
    let score = (stats.flows >= cfg.min_tunnel_flows_count && shaped && answered)
        .then(|| tunnel_score(scored_size_r, rate_r, k_size, k_rate, unknown, cv_up))
        .flatten();
    Verdict {
        stats,
        size_r,
        rate_r,
        scored_size_r,
        score,
    }
}

/// The windows where a host's DNS queries are long: their mean (over `(window, query size)` flows)
/// at least `min_ratio` times the typical query. A tunnel of a few hours hides in a day of ordinary
/// lookups when the host is judged as a whole.
pub fn long_query_windows(flows: &[(i64, u64)], typical: f64, min_ratio: f64) -> AHashSet<i64> {
    let mut sums: AHashMap<i64, (u64, u64)> = AHashMap::new();
    for (w, size) in flows {
        let e = sums.entry(*w).or_default();
        (e.0, e.1) = (e.0 + 1, e.1 + size);
    }
    sums.into_iter()
        .filter(|(_, (n, sum))| typical > 0.0 && *sum as f64 / *n as f64 >= min_ratio * typical)
        .map(|(w, _)| w)
        .collect()
}

/// A host's DNS in its windows of long queries, when those are some of its active windows but not
/// all.
struct LongQueries {
    sizes: Vec<u64>,
    answered: u64,
    unknown: u64,
    windows: u64,
    rows: Vec<u32>,
}

fn long_query_part(
    cfg: &DnsAnomalyConfig,
    a: &HostAcc,
    typical: f64,
    active: u64,
) -> Option<LongQueries> {
    let flows: Vec<(i64, u64)> = a
        .per_flow
        .iter()
        .zip(&a.sizes)
        .map(|(p, s)| (p.0, *s))
        .collect();
    let long = long_query_windows(&flows, typical, cfg.min_query_size_ratio);
    if long.is_empty() || long.len() as u64 >= active {
        return None;
    }
    let mut part = LongQueries {
        sizes: Vec::new(),
        answered: 0,
        unknown: 0,
        windows: long.len() as u64,
        rows: Vec::new(),
    };
    let flows = a.per_flow.iter().zip(&a.sizes).zip(&a.span.rows);
    for (((w, ans, unk), size), row) in flows {
        if long.contains(w) {
            part.sizes.push(*size);
            part.answered += u64::from(*ans);
            part.unknown += u64::from(*unk);
            part.rows.push(*row);
        }
    }
    Some(part)
}

/// On a baseline learned from the capture itself, the host's own usual DNS flows per window (the
/// median over the windows where it used DNS): a device resolving 200 names in the hour it boots is
/// judged against its other hours, not against `default_rate_per_window_count`. 0 otherwise.
fn own_level(ctx: &DetectCtx, a: &HostAcc) -> f64 {
    if !ctx.baseline.robust() {
        return 0.0;
    }
    let mut per_window: AHashMap<i64, f64> = AHashMap::new();
    for p in &a.per_flow {
        *per_window.entry(p.0).or_default() += 1.0;
    }
    let mut counts: Vec<f64> = per_window.into_values().collect();
    super::beacon_math::median(&mut counts)
}

/// The span of the given DNS rows of a host (its flows behind a finding).
fn span_of(ctx: &DetectCtx, rows: &[u32]) -> Span {
    let f = ctx.flows;
    let mut span = Span::default();
    for &i in rows {
        if let Some(v) = f.host_view(i as usize, ctx.nets) {
            span.add(i as usize, f.ts[i as usize], v.peer, v.sent);
        }
    }
    span
}

/// The verdict on all of a host's DNS, or the one on its flows to unknown resolvers (`own`, then
/// `true`) when that scores higher.
fn stronger(all: Verdict, own: Option<Verdict>) -> (Verdict, bool) {
    match own {
        Some(v) if v.score.is_some_and(|s| all.score.is_none_or(|a| s > a)) => (v, true),
        _ => (all, false),
    }
}

fn judge(
    cfg: &DnsAnomalyConfig,
    ctx: &DetectCtx,
    host: u128,
    a: HostAcc,
    seen: (u64, bool),
    typical: f64,
) -> Option<Finding> {
    let rate = baseline_rate(cfg, ctx.baseline, host);
    let unknown = a.unknown_flows;
    // the network's resolvers relay their clients' lookups: what goes beyond their usual relaying
    // is a client's tunnel, judged in that client
    let resolver = ctx.baseline.is_server(&ip::format(host), 53);
    let sizes = (&a.sizes[..], a.answered, unknown);
    let all = verdict(cfg, sizes, seen, (typical, rate, !resolver));
    // the flows to unknown resolvers judged on their own: a busy host's ordinary DNS dilutes a tunnel
    // through a resolver nobody else uses (the stronger verdict stands)
    let own = (!a.unknown_sizes.is_empty()).then(|| {
        let u = (&a.unknown_sizes[..], a.unknown_answered, unknown);
        verdict(cfg, u, seen, (typical, rate, false))
    });
    let (v, subset) = stronger(all, own);
    // the hours of long queries judged apart: a tunnel of a few hours in a day of ordinary lookups;
    // not for the network's resolvers, whose hours of long queries relay a client's tunnel (the
    // client is judged in its own)
    let part = (!resolver)
        .then(|| long_query_part(cfg, &a, typical, seen.0))
        .flatten();
    let long = part.as_ref().map(|p| {
        let rate = own_level(ctx, &a).max(rate);
        let flows = (&p.sizes[..], p.answered, p.unknown);
        verdict(cfg, flows, (p.windows, seen.1), (typical, rate, true))
    });
    let (v, hours) = stronger(v, long);
    let (s, size_r, rate_r, cv_up, mean_up) =
        (&v.stats, v.size_r, v.rate_r, v.stats.cv_up, v.stats.mean_up);
    let judged = match (hours, subset) {
        (true, _) => format!(
            " in its {} windows of long queries (judged apart from its other DNS)",
            s.active_windows
        ),
        (false, true) => " to unknown resolvers (judged apart from its other DNS)".to_string(),
        (false, false) => String::new(),
    };
    let (kind, score) = match v.score {
        Some(sc) => ("dns_tunnel", sc),
        None if s.unknown_flows >= cfg.min_unknown_resolver_flows_count => (
            "dns_unknown_resolver",
            unknown_resolver_score(s.unknown_flows),
        ),
        None => return None,
    };
    let mut resolvers: Vec<u128> = a.unknown.iter().copied().collect();
    resolvers.sort_unstable();
    let named: Vec<String> = resolvers
        .iter()
        .take(3)
        .map(|r| describe_peer(ctx.geo, *r))
        .collect();
    let mut explanation = format!(
        "{} DNS flows{}, mean query {:.0} B (typical {:.0} B, cv {:.2}), {:.1} per active window (baseline {:.1}); {} to resolvers the baseline does not know{}",
        s.flows,
        judged,
        mean_up,
        typical,
        cv_up,
        s.flows as f64 / s.active_windows.max(1) as f64,
        rate,
        s.unknown_flows,
        if named.is_empty() { String::new() } else { format!(": {}", named.join(", ")) },
    );
    if v.score.is_some() && v.scored_size_r > size_r {
        explanation.push_str(&format!(
            "; beyond its usual lookups the extra {:.0} queries average {:.0} B",
            s.flows as f64 * (1.0 - 1.0 / rate_r),
            v.scored_size_r * typical
        ));
    }
    let mut details = serde_json::Map::new();
    details.insert("size_ratio".into(), json!(size_r));
    details.insert("rate_ratio".into(), json!(rate_r));
    details.insert("beyond_usual_size_ratio".into(), json!(v.scored_size_r));
    details.insert("cv_up".into(), json!(cv_up));
    details.insert("unknown_resolver_flows".into(), json!(s.unknown_flows));
    details.insert(
        "unknown_resolvers".into(),
        json!(resolvers.iter().map(|r| ip::format(*r)).collect::<Vec<_>>()),
    );
    let evidence = Evidence {
        metric: "DNS flows and mean query size per host".into(),
        observed: mean_up,
        baseline: Some(typical),
        threshold: Some(typical * cfg.k_query_size),
        explanation,
        details,
    };
    let span = match (hours, part) {
        (true, Some(p)) => span_of(ctx, &p.rows),
        _ => a.span,
    };
    Some(span.finding(kind, "dns_anomaly", score, vec![ip::format(host)], evidence))
}

/// Documentation for `docs/detectors.md`.
pub const DOC: &str = r#"## `dns_anomaly`

**Looks at** the DNS flows (udp or tcp to port 53) each internal host originates.

**Unknown resolvers.** A resolver is known when it is an internal address (the site's DNS server, or
the home or branch router every device asks), when the baseline discovered it as an internal server on
port 53, or when at least `known_resolver_min_hosts_count` baseline hosts used it. A host that is itself
a known internal resolver (forwarding upstream) is exempt. A host with at least
`min_unknown_resolver_flows_count` flows to unknown resolvers and no tunnelling shape gets a
`dns_unknown_resolver` finding scored `0.25 + 0.2 * n / (n + 20)` (low on its own).

**Tunnelling (`dns_tunnel`).** With `typical` the median over hosts of their median query (upload)
size in the test, `size = mean_up / typical`; with the host's baseline DNS rate (flows to `udp/53`
and `tcp/53` in its profile per active window, `default_rate_per_window_count` without a profile),
`rate = (flows / active windows) / baseline_rate`. Hosts with at least `min_tunnel_flows_count` DNS
flows and `r = max(size / k_query_size, rate x max(size, 1) / k_rate) > 1` are flagged with
`score = score_from_ratio(r) + 0.15 [unknown resolver] + 0.1 min(cv / 0.3, 1)`, `cv` being the
coefficient of variation of the query sizes (tunnels vary their payload). The rate term counts query
bytes, not queries: a tunnel's throughput is its queries' size times their number, so queries twice
the typical size at four times the host's usual rate carry eight times its usual data (a tunnel at
0.7-3 queries a second through the internal resolver stays under `k_rate` in queries alone). The queries must also have a
tunnel's shape: `size >= min_query_size_ratio` (1.25) or `cv >= min_query_size_cv` (0.25). A client
repeating ordinary lookups at a high rate (on the NjRAT capture, 331 queries of 35 B with cv 0.10 to the
home router) is chatty, not tunnelling. DNS to the network's own (known) resolvers is ordinary
infrastructure: flows that went there, all or in part, need long queries (`size >= min_query_size_ratio`)
for the shape, since an IoT device's names of varying length give a cv of 0.3-0.5 with 33-35 B queries
(IoT-23 capture 42-1; an IoT-style Gafgyt device resolving 81 names an hour through its router and a few
through 8.8.8.8 was a high tunnel by the cv of the mix). Varying sizes alone make the shape only for
flows that all went to unknown resolvers: a host's flows to them are judged on their own (below).
A tunnel needs a resolver that answers (even "no such name" is an answer): when the input shows
answers at all (bidirectional flows), a host whose DNS flows are mostly unanswered is not tunnelling;
thousands of unanswered queries to one address are a flood, `dos`'s. Unidirectional NetFlow never
shows answers, and there this condition is dropped.

When some of the host's DNS goes to unknown resolvers, those flows are judged again on their own,
with the same formula (the rate against the host's whole baseline DNS rate), and the stronger verdict
stands. A busy host's ordinary lookups dilute a mean: at 30k flows a host and day, 1,400 tunnel queries
of 180 B among 5,000 ordinary ones of 62 B give a mean of 92 B, under the size threshold, while the
tunnel's own flows are three times the typical query. The explanation then says so.

A tunnel of a few hours hides in a day of a busy host's ordinary lookups too (a tunnel at 0.7 queries
a second for 4 hours through the internal resolver, among 150 ordinary lookups an hour: mean query 168
B, twice the typical, and 3.6 times the host's rate over its 24 active windows, low). So the host's
windows where its mean query is long (at least `min_query_size_ratio` times the typical one) are judged
apart as well, when they are some of its active windows but not all: their flows, against the same
typical size and the host's baseline rate per window, over those windows only (on a baseline learned
from the capture itself, at least the host's own median DNS flows per window: a device resolving 218
names in the hour it boots, IoT-23 capture 21-1, is judged against its other hours). The stronger verdict
stands; the finding then spans those windows' DNS flows, and the explanation says so. A window with a
couple of long names among ordinary lookups does not reach `min_tunnel_flows_count` or the rate. Not
for the network's own resolvers (servers on 53 in the baseline): their hours of long queries are a
client's tunnel relayed upstream, and the client is judged in its own hours (on the corporate
simulator, the domain controllers relaying 6 tunnels rose to medium and high before this exemption).

**Blind spots.** Tunnels through the internal resolver that keep query sizes and rates normal (slow,
small-label exfiltration); DNS over HTTPS is invisible (port 443). The typical size is learned on the
test input itself, so a network where most hosts tunnel would hide them.

**Tuning.** Lower `k_query_size` (e.g. 1.5) for sensitive sites; raise `k_rate` on networks with
bursty resolvers; list corporate external resolvers by lowering `known_resolver_min_hosts_count`.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_cv_table() {
        let cases: [(&[u64], f64, f64); 3] = [
            (&[], 0.0, 0.0),
            (&[10, 10], 10.0, 0.0),
            (&[2, 4, 4, 4, 5, 5, 7, 9], 5.0, 0.4),
        ];
        for (xs, m, cv) in cases {
            let (gm, gcv) = mean_cv(xs);
            assert!(
                (gm - m).abs() < 1e-12 && (gcv - cv).abs() < 1e-12,
                "{xs:?}: {gm} {gcv}"
            );
        }
    }

    #[test]
    fn ratios_table() {
        let s = DnsStats {
            flows: 100,
            mean_up: 180.0,
            cv_up: 0.3,
            active_windows: 4,
            unknown_flows: 100,
        };
        assert_eq!(tunnel_ratios(&s, 60.0, 2.5), (3.0, 10.0));
        assert_eq!(tunnel_ratios(&s, 0.0, 2.5).0, 0.0);
    }

    #[test]
    fn shape_table() {
        let cases = [
            (1.0, 0.10, false), // the NjRAT host's IPv6 side: 331 lookups of 35 B, cv 0.10
            (2.9, 0.36, true),  // a tunnel: 180 B queries, lognormal sigma 0.35
            (1.3, 0.0, true),
            (1.0, 0.3, true),
            (1.2, 0.2, false),
        ];
        for (size, cv, want) in cases {
            assert_eq!(
                tunnel_shaped(size, cv, 1.25, 0.25, false),
                want,
                "{size} {cv}"
            );
            // to the network's own resolvers only long queries count
            assert_eq!(
                tunnel_shaped(size, cv, 1.25, 0.25, true),
                size >= 1.25,
                "{size} {cv}"
            );
        }
    }

    #[test]
    fn a_tunnel_diluted_by_busy_lookups_is_seen_on_its_own_flows() {
        // a busy host (sweep configuration 37 at 1M rows): 5,000 ordinary lookups of 62 B to known
        // resolvers and 1,400 tunnel queries of 170-190 B to one unknown resolver, over 24 windows
        // with a baseline of 300 DNS flows a window
        let cfg = DnsAnomalyConfig::default();
        let tunnel: Vec<u64> = (0..1400).map(|i| 170 + i % 21).collect();
        let mut all: Vec<u64> = vec![62; 5000];
        all.extend(&tunnel);
        let seen = (24, true);
        let whole = verdict(
            &cfg,
            (&all, all.len() as u64, 1400),
            seen,
            (62.0, 300.0, true),
        );
        // mean (5000 * 62 + 1400 * 180) / 6400 = 87.8 B: size 1.42 < 1.8, rate 0.89 < 8: not a
        // tunnel as a whole (configuration 37: 92 B)
        assert!(
            (whole.stats.mean_up - 87.8).abs() < 0.1,
            "{}",
            whole.stats.mean_up
        );
        assert!(whole.score.is_none());
        let own = verdict(&cfg, (&tunnel, 1400, 1400), seen, (62.0, 300.0, false));
        // its own flows: mean 180 B, size 2.9 > 1.8
        assert!(own.size_r > 2.8 && own.score.is_some(), "{}", own.size_r);
        // unanswered, the same queries are a flood's, not a tunnel's
        let unanswered = verdict(&cfg, (&tunnel, 100, 1400), seen, (62.0, 300.0, false));
        assert!(unanswered.score.is_none());
    }

    #[test]
    fn beyond_usual_size_ratio_table() {
        // (size ratio, rate ratio) -> size ratio of the queries beyond the usual ones
        let cases = [
            (2.2, 2.72, 2.9), // a tunnel through a busy client's resolver (dense configuration 303)
            (2.0, 2.0, 3.0),  // twice the usual flows: the extra half averages 3 x typical
            (1.5, 1.9, 1.5),  // below twice the usual rate: not measured apart
            (1.5, 100.0, 1.5), // a host new since the baseline: nearly all of it is extra
            (0.8, 4.0, 0.8),  // short queries: never below the plain ratio
            (1.5, f64::INFINITY, 1.5),
        ];
        for (size, rate, want) in cases {
            let got = beyond_usual_size_ratio(size, rate);
            assert!((got - want).abs() < 0.01, "{size} {rate}: {got}");
        }
    }

    #[test]
    fn a_tunnel_through_a_busy_clients_resolver_is_judged_beyond_its_usual_lookups() {
        // a client of 4,500 lookups of 82 B an hour (baseline) runs a tunnel of 7,700 queries of
        // 240 B an hour through the network's resolver for 6 hours: mean 182 B, 2.7 x its rate
        let cfg = DnsAnomalyConfig::default();
        let hour: Vec<u64> = (0..4500)
            .map(|_| 82)
            .chain((0..7700).map(|i| 230 + i % 21))
            .collect();
        let sizes: Vec<u64> = hour.iter().copied().cycle().take(6 * hour.len()).collect();
        let seen = (6, true);
        let n = sizes.len() as u64;
        let plain = verdict(&cfg, (&sizes, n, 0), seen, (82.0, 4500.0, false));
        let beyond = verdict(&cfg, (&sizes, n, 0), seen, (82.0, 4500.0, true));
        assert!(plain.score.unwrap() < 0.4, "{:?}", plain.score);
        assert!(beyond.scored_size_r > 2.9, "{}", beyond.scored_size_r);
        assert!(beyond.score.unwrap() >= 0.4, "{:?}", beyond.score);
        // the same client at twice its rate, every other query 140 B (mean 1.35 x typical): beyond
        // its usual ones 1.7 x, no tunnel
        let busy: Vec<u64> = (0..6 * 9000)
            .map(|i| if i % 2 == 0 { 82 } else { 140 })
            .collect();
        let n = busy.len() as u64;
        let v = verdict(&cfg, (&busy, n, 0), seen, (82.0, 4500.0, true));
        assert!(v.score.is_none(), "{:?} {}", v.score, v.scored_size_r);
    }

    #[test]
    fn long_query_windows_table() {
        let day: Vec<(i64, u64)> = (0..12)
            .flat_map(|w| (0..40).map(move |_| (w, 60)))
            .collect();
        let mut tunnel = day.clone();
        tunnel.extend((5..7).flat_map(|w| (0..120).map(move |_| (w, 180))));
        let mut few_long = day.clone();
        few_long.extend([(9, 400), (9, 400)]); // two long names among 40 lookups: 78 B
                                               // (flows, typical) -> windows whose mean query is at least 1.25 x typical
        type Case<'a> = (&'a [(i64, u64)], f64, Vec<i64>);
        let cases: [Case; 5] = [
            (&day, 60.0, vec![]),
            (&tunnel, 60.0, vec![5, 6]), // (40 x 60 + 120 x 180) / 160 = 150 B
            (&few_long, 60.0, vec![9]),  // long in one window: its count decides (the flow floor)
            (&tunnel, 0.0, vec![]),      // no typical query: nothing is long
            (&[], 60.0, vec![]),
        ];
        for (flows, typical, want) in cases {
            let mut got: Vec<i64> = long_query_windows(flows, typical, 1.25)
                .into_iter()
                .collect();
            got.sort_unstable();
            assert_eq!(got, want, "{typical}");
        }
    }

    #[test]
    fn the_stronger_verdict_stands() {
        let v = |score: Option<f64>| Verdict {
            stats: DnsStats::default(),
            size_r: 0.0,
            rate_r: 0.0,
            scored_size_r: 0.0,
            score,
        };
        let rows = [
            // (all, own, own chosen)
            (None, None, false),
            (None, Some(0.5), true),
            // a weak tunnel as a whole (ordinary lookups dilute it) and a strong one on its own
            (Some(0.39), Some(0.62), true),
            (Some(0.62), Some(0.39), false),
            (Some(0.5), None, false),
            (Some(0.5), Some(0.5), false),
        ];
        for (all, own, want) in rows {
            let (chosen, subset) = stronger(v(all), Some(v(own)));
            assert_eq!(subset, want, "{all:?} {own:?}");
            assert_eq!(chosen.score, if want { own } else { all });
        }
        assert!(!stronger(v(Some(0.4)), None).1);
    }

    #[test]
    fn score_table() {
        // r = max(size/1.5, rate max(size, 1)/5) = 2 -> score_from_ratio(2) = 0.1 + 0.9 (1 - 1/1.5) = 0.4
        let cases = [
            (3.0, 1.0, true, 0.3, Some(0.4 + 0.15 + 0.1)),
            (2.0, 5.0, false, 0.0, Some(0.4)),
            (1.0, 10.0, false, 0.0, Some(0.4)),
            // smaller queries than typical do not discount the rate
            (0.5, 10.0, false, 0.0, Some(0.4)),
            (1.0, 1.0, true, 1.0, None),
            // 1.2 x 4 = 4.8 query bytes: under both multiples
            (1.2, 4.0, true, 1.0, None),
            // neither 1.5 x the size nor 5 x the queries, but 1.45 x 4.5 = 6.5 x the bytes
            (
                1.45,
                4.5,
                false,
                0.0,
                Some(score_from_ratio(1.45 * 4.5 / 5.0)),
            ),
        ];
        for (sr, rr, unk, cv, want) in cases {
            let got = tunnel_score(sr, rr, 1.5, 5.0, unk, cv);
            assert_eq!(got.is_some(), want.is_some(), "{sr} {rr}");
            if let (Some(g), Some(w)) = (got, want) {
                assert!((g - w).abs() < 1e-12, "{g} {w}");
            }
        }
        assert!((unknown_resolver_score(20) - 0.35).abs() < 1e-12);
    }
}
