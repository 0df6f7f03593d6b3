//! `off_hours`: internal hosts active at hours when the whole network (and the host itself) is
//! normally idle. Low severity on its own; it adds weight to a host's combined rank when other
//! findings blame the same host (the findings model links them through `related` and
//! `host_ranking` combines their scores with a noisy-or).

use super::behaviour::{saturate, Span};
use super::{DetectCtx, Detector};
use crate::baseline::{hour_of, Baseline};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{Evidence, Finding};
use crate::ip;
use ahash::AHashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The detector.
pub struct OffHours;

/// `[detectors.off_hours]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OffHoursConfig {
    /// An hour is idle when the network's baseline flows in it are below this fraction of the busiest hour.
    pub idle_fraction_of_peak: f64,
    /// Weight, in flows, of the network's idle-hour share in a host's expected share (Bayesian prior).
    pub prior_flows_count: f64,
    /// Idle-hour flows a host needs in the test before it is reported.
    pub min_off_hours_flows_count: u64,
    /// Observed / expected idle-hour flows needed.
    pub min_excess_ratio: f64,
    /// Largest Poisson tail probability P(X >= observed | expected) that is reported.
    pub max_p_value: f64,
    /// Highest score (the detector stays low on its own).
    pub max_score: f64,
}

impl Default for OffHoursConfig {
    fn default() -> Self {
        OffHoursConfig {
            idle_fraction_of_peak: 0.15,
            prior_flows_count: 50.0,
            min_off_hours_flows_count: 20,
            min_excess_ratio: 3.0,
            max_p_value: 1e-6,
            max_score: 0.35,
        }
    }
}

static SETTINGS: [Setting; 6] = [
    Setting { key: "idle_fraction_of_peak", doc: "an hour is idle when the network's baseline flows in it are below this fraction of the busiest hour", range: Range::Float(0.0, 1.0) },
    Setting { key: "prior_flows_count", doc: "weight in flows of the network's idle share in a host's expected share", range: Range::Float(0.0, 1e9) },
    Setting { key: "min_off_hours_flows_count", doc: "idle-hour flows a host needs before it is reported", range: Range::Int(1, 1_000_000_000) },
    Setting { key: "min_excess_ratio", doc: "observed / expected idle-hour flows needed", range: Range::Float(1.0, 1e6) },
    Setting { key: "max_p_value", doc: "largest Poisson tail probability P(X >= observed | expected) reported", range: Range::Float(0.0, 1.0) },
    Setting { key: "max_score", doc: "highest score of an off-hours finding (low severity below 0.4)", range: Range::Float(0.0, 1.0) },
];

/// The idle hours: those whose flow count is below `fraction * max(counts)` (none when all are zero).
pub fn idle_hours(counts: &[u64], fraction: f64) -> [bool; 24] {
    let peak = counts.iter().copied().max().unwrap_or(0) as f64;
    let mut out = [false; 24];
    for (h, c) in counts.iter().take(24).enumerate() {
        out[h] = peak > 0.0 && (*c as f64) < fraction * peak;
    }
    out
}

/// A host's expected idle-hour share: `(own_idle + prior * net_share) / (own_total + prior)`.
pub fn expected_share(own_idle: u64, own_total: u64, net_share: f64, prior: f64) -> f64 {
    let den = own_total as f64 + prior;
    if den <= 0.0 {
        return net_share;
    }
    (own_idle as f64 + prior * net_share) / den
}

/// `ln(n!)`: exact sum below 256, Stirling's series above.
pub fn ln_factorial(n: u64) -> f64 {
    if n < 256 {
        return (2..=n).map(|k| (k as f64).ln()).sum();
    }
    let x = n as f64;
    x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x.powi(3))
}

/// The Poisson upper tail `P(X >= k)` for mean `lambda` (scipy's `poisson.sf(k - 1, lambda)`).
pub fn poisson_sf(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda.is_nan() || lambda <= 0.0 {
        return 0.0;
    }
    let term = |j: u64| (-lambda + j as f64 * lambda.ln() - ln_factorial(j)).exp();
    if (k as f64) > lambda {
        let (mut t, mut sum, mut j) = (term(k), 0.0, k);
        while t > sum * 1e-17 && j < k + 100_000 {
            sum += t;
            j += 1;
            t *= lambda / j as f64;
        }
        return sum.min(1.0);
    }
    let cdf: f64 = (0..k).map(term).sum();
    (1.0 - cdf).clamp(0.0, 1.0)
}

/// The score: `max_score * ((r - 1) / (r - 1 + 4))` for the excess ratio `r` (low on its own).
pub fn score(ratio: f64, max_score: f64) -> f64 {
    max_score * saturate(ratio - 1.0, 4.0)
}

struct Network {
    idle: [bool; 24],
    share: f64,
}

fn network(cfg: &OffHoursConfig, b: &Baseline) -> Network {
    let mut counts = [0u64; 24];
    for p in b.hosts.values() {
        for (h, c) in p.active_hours.iter().take(24).enumerate() {
            counts[h] += c;
        }
    }
    let idle = idle_hours(&counts, cfg.idle_fraction_of_peak);
    let total: u64 = counts.iter().sum();
    let idle_n: u64 = counts
        .iter()
        .zip(idle)
        .filter(|(_, i)| *i)
        .map(|(c, _)| c)
        .sum();
    Network {
        idle,
        share: if total > 0 {
            idle_n as f64 / total as f64
        } else {
            0.0
        },
    }
}

#[derive(Default)]
struct HostAcc {
    total: u64,
    span: Span,
}

impl Detector for OffHours {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = OffHoursConfig;
    fn name(&self) -> &'static str {
        "off_hours"
    }
    fn description(&self) -> &'static str {
        "hosts active at hours when the network and the host are normally idle (low on its own)"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn run(&self, cfg: &OffHoursConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let net = network(cfg, ctx.baseline);
        if !net.idle.iter().any(|i| *i) {
            return Ok(Vec::new());
        }
        let f = ctx.flows;
        let mut accs: AHashMap<u128, HostAcc> = AHashMap::new();
        for i in 0..f.len() {
            let Some(v) = f.host_view(i, ctx.nets) else {
                continue;
            };
            let a = accs.entry(v.host).or_default();
            a.total += 1;
            if net.idle[hour_of(f.ts[i])] {
                a.span.add(i, f.ts[i], v.peer, v.sent + v.received);
            }
        }
        let mut out: Vec<Finding> = accs
            .into_iter()
            .filter_map(|(h, a)| judge(cfg, ctx, &net, h, a))
            .collect();
        out.sort_by(|a, b| a.hosts.cmp(&b.hosts));
        Ok(out)
    }
}

fn judge(
    cfg: &OffHoursConfig,
    ctx: &DetectCtx,
    net: &Network,
    host: u128,
    a: HostAcc,
) -> Option<Finding> {
    let observed = a.span.rows.len() as u64;
    if observed < cfg.min_off_hours_flows_count {
        return None;
    }
    let (own_idle, own_total) = ctx
        .baseline
        .host(host)
        .filter(|_| !ctx.baseline.robust())
        .map_or((0, 0), |p| {
            let idle: u64 = p
                .active_hours
                .iter()
                .zip(net.idle)
                .filter(|(_, i)| *i)
                .map(|(c, _)| c)
                .sum();
            (idle, p.active_hours.iter().sum())
        });
    let p = expected_share(own_idle, own_total, net.share, cfg.prior_flows_count);
    let expected = p * a.total as f64;
    let ratio = observed as f64 / expected.max(1e-9);
    if ratio < cfg.min_excess_ratio {
        return None;
    }
    let pv = poisson_sf(observed, expected);
    if pv > cfg.max_p_value {
        return None;
    }
    let hours: Vec<String> = (0..24)
        .filter(|h| net.idle[*h])
        .map(|h| format!("{h:02}"))
        .collect();
    let explanation = format!(
        "{observed} of its {} flows fell in hours the network is normally idle ({} UTC); expected {expected:.1} from its own profile ({:.1} % idle-hour share), {ratio:.1}x, Poisson p = {pv:.1e}",
        a.total,
        hours.join(","),
        p * 100.0
    );
    let mut details = serde_json::Map::new();
    details.insert(
        "idle_hours_utc".into(),
        json!((0..24).filter(|h| net.idle[*h]).collect::<Vec<_>>()),
    );
    details.insert("expected_share".into(), json!(p));
    details.insert("network_idle_share".into(), json!(net.share));
    details.insert("p_value".into(), json!(pv));
    details.insert(
        "note".into(),
        json!("low on its own; weighs in the host's combined rank with its related findings"),
    );
    let evidence = Evidence {
        metric: "flows in network-idle hours".into(),
        observed: observed as f64,
        baseline: Some(expected),
        threshold: Some(expected * cfg.min_excess_ratio),
        explanation,
        details,
    };
    Some(a.span.finding(
        "off_hours",
        "off_hours",
        score(ratio, cfg.max_score),
        vec![ip::format(host)],
        evidence,
    ))
}

/// Documentation for `docs/detectors.md`.
pub const DOC: &str = r#"## `off_hours`

**Looks at** when each internal host is active. The baseline's per-host `active_hours` (flows per UTC
hour of day) are summed into a network profile; an hour is *idle* when its flows are below
`idle_fraction_of_peak` of the busiest hour.

**Formula.** A host's expected idle-hour share blends its own baseline habit with the network's:
`p = (own_idle + prior * net_share) / (own_total + prior)` (`prior = prior_flows_count`; hosts without
a profile get the network share). With `N` its test flows and `O` those in idle hours, `E = p * N`.
The host is reported when `O >= min_off_hours_flows_count`, `O / E >= min_excess_ratio` and the
Poisson tail `P(X >= O | E) <= max_p_value`.
`score = max_score * (r - 1) / (r - 1 + 4)` with `r = O / E`: at most `max_score` (0.35, low).

**Correlation.** On its own an off-hours host is only low severity. When other detectors blame the same
host, the findings are linked (`related`) and the host's combined rank (`top_hosts`, a noisy-or of its
findings' scores) rises accordingly; the off-hours finding itself stays low.

**Blind spots.** Hours are UTC: a site in another time zone shifts its idle hours (the baseline learns
them, so this only matters for reading). Hosts that are always on (servers, update pollers) have a high
own share and are not reported. Attacks during office hours are not seen.

**Tuning.** Raise `idle_fraction_of_peak` to widen the idle hours; lower `max_p_value` on big networks.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_hours_table() {
        let mut counts = [100u64; 24];
        counts[3] = 10;
        counts[4] = 15;
        let idle = idle_hours(&counts, 0.15);
        assert!(idle[3] && !idle[4] && !idle[12]);
        assert_eq!(idle_hours(&[0; 24], 0.5), [false; 24]);
    }

    #[test]
    fn expected_share_table() {
        let cases = [
            (0, 0, 0.05, 50.0, 0.05),
            (10, 100, 0.05, 0.0, 0.1),
            (10, 50, 0.1, 50.0, 0.15),
            (0, 0, 0.2, 0.0, 0.2),
        ];
        for (oi, ot, ns, pr, want) in cases {
            assert!(
                (expected_share(oi, ot, ns, pr) - want).abs() < 1e-12,
                "{oi} {ot}"
            );
        }
    }

    #[test]
    fn ln_factorial_is_continuous_at_the_switch() {
        let exact: f64 = (2..=300u64).map(|k| (k as f64).ln()).sum();
        assert!((ln_factorial(300) - exact).abs() < 1e-9 * exact);
        assert_eq!(ln_factorial(0), 0.0);
        assert_eq!(ln_factorial(1), 0.0);
    }

    #[test]
    fn score_table() {
        let cases = [(1.0, 0.0), (5.0, 0.175), (0.5, 0.0), (f64::INFINITY, 0.35)];
        for (r, want) in cases {
            assert!((score(r, 0.35) - want).abs() < 1e-12, "{r}");
        }
    }
}
