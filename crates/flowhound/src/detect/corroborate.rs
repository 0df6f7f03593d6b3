//! `critical` needs corroboration: a finding scored critical stays critical only when something other
//! than its own measure stands with it:
//! - a **new or rare peer**: an external peer absent from the baseline's destinations, or (on a
//!   self-learned baseline of at least [`MIN_HOSTS_FOR_RARITY`] hosts) contacted by one host only;
//! - an **unusual place**: an external peer whose country the baseline never saw, or saw from one host
//!   only (same host-count condition);
//! - **several detectors agreeing**: another finding of a different kind, at medium or above, blames one
//!   of the same hosts.
//!
//! Otherwise it is held at high ([`HELD_SCORE`]) and the explanation says why.

use super::DetectCtx;
use crate::baseline::Baseline;
use crate::findings::score::SEVERITY_BOUNDS;
use crate::findings::{Finding, Severity};
use crate::ip;
use crate::net::InternalNets;
use flowhound_geo::GeoStack;
use std::collections::{BTreeMap, BTreeSet};

/// The score an uncorroborated critical finding is held at (the top of high).
pub const HELD_SCORE: f64 = 0.79;
/// A self-learned baseline needs this many internal hosts before "one host only" means rare.
pub const MIN_HOSTS_FOR_RARITY: usize = 3;

/// Why a finding is corroborated, if it is.
pub fn corroboration(
    f: &Finding,
    kinds_by_host: &BTreeMap<String, BTreeSet<String>>,
    b: &Baseline,
    geo: &GeoStack,
    nets: &InternalNets,
) -> Option<String> {
    let others: BTreeSet<&String> = f
        .hosts
        .iter()
        .filter_map(|h| kinds_by_host.get(h))
        .flatten()
        .filter(|k| **k != f.kind)
        .collect();
    if let Some(k) = others.first() {
        return Some(format!("also {k} on the same host"));
    }
    let rarity_counts = !b.robust() || b.hosts.len() >= MIN_HOSTS_FOR_RARITY;
    for p in &f.peers {
        let Some(v) = ip::parse(p).filter(|v| !nets.contains(*v)) else {
            continue;
        };
        match b.external.destinations.get(p) {
            None if !b.robust() => return Some(format!("{p} is new since the baseline")),
            Some(d) if rarity_counts && b.robust() && d.hosts <= 1 => {
                return Some(format!("{p} is contacted by this host only"))
            }
            _ => {}
        }
        let cc = geo
            .country_u128(v)
            .map_or("??".to_string(), |c| c.to_string());
        match b.external.countries.get(&cc) {
            None if cc != "??" => {
                return Some(format!("{p} is in {cc}, never seen in the baseline"))
            }
            Some(c) if rarity_counts && c.hosts <= 1 && cc != "??" => {
                return Some(format!("{p} is in {cc}, seen from one host only"))
            }
            _ => {}
        }
    }
    None
}

/// Kinds per host among findings at medium or above.
fn kinds_by_host(findings: &[Finding]) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.score >= SEVERITY_BOUNDS[0]) {
        for h in &f.hosts {
            m.entry(h.clone()).or_default().insert(f.kind.clone());
        }
    }
    m
}

/// Holds every uncorroborated critical finding at high, saying so; records the corroboration of the
/// others in `evidence.details.corroboration`.
pub fn hold_uncorroborated(findings: &mut [Finding], ctx: &DetectCtx) {
    let kinds = kinds_by_host(findings);
    for f in findings
        .iter_mut()
        .filter(|f| f.score >= SEVERITY_BOUNDS[2])
    {
        match corroboration(f, &kinds, ctx.baseline, ctx.geo, ctx.nets) {
            Some(why) => {
                f.evidence
                    .details
                    .insert("corroboration".into(), serde_json::json!(why));
            }
            None => {
                f.score = HELD_SCORE;
                f.severity = Severity::High;
                f.evidence.explanation.push_str(
                    "; held at high: critical needs corroboration (a new or rare peer, an unusual place, or another detector on the host)",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::Prevalence;

    fn finding(kind: &str, host: &str, peers: &[&str], score: f64) -> Finding {
        Finding {
            kind: kind.into(),
            score,
            hosts: vec![host.into()],
            peers: peers.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        }
    }

    fn baseline(
        robust: bool,
        hosts: usize,
        dests: &[(&str, u64)],
        countries: &[(&str, u64)],
    ) -> Baseline {
        let mut b = Baseline::default();
        b.source.self_learned = robust;
        for i in 0..hosts {
            b.hosts.insert(format!("10.0.0.{i}"), Default::default());
        }
        let prev = |hosts| Prevalence {
            hosts,
            flows: 1,
            org: None,
        };
        for (d, n) in dests {
            b.external.destinations.insert(d.to_string(), prev(*n));
        }
        for (c, n) in countries {
            b.external.countries.insert(c.to_string(), prev(*n));
        }
        b
    }

    #[test]
    fn corroboration_table() {
        let geo = GeoStack::new();
        let nets = InternalNets::default();
        let us = [("US", 5), ("??", 5)];
        let known = [("8.8.8.8", 4)];
        let cases: [(Baseline, Vec<Finding>, bool); 7] = [
            // known peer, usual country, nothing else: held
            (
                baseline(false, 5, &known, &us),
                vec![finding("cnc_beacon", "10.0.0.1", &["8.8.8.8"], 0.9)],
                false,
            ),
            // new peer
            (
                baseline(false, 5, &known, &us),
                vec![finding("cnc_beacon", "10.0.0.1", &["8.8.4.4"], 0.9)],
                true,
            ),
            // another kind on the host at medium
            (
                baseline(false, 5, &known, &us),
                vec![
                    finding("cnc_beacon", "10.0.0.1", &["8.8.8.8"], 0.9),
                    finding("exfiltration", "10.0.0.1", &[], 0.5),
                ],
                true,
            ),
            // another kind but low: not enough
            (
                baseline(false, 5, &known, &us),
                vec![
                    finding("cnc_beacon", "10.0.0.1", &["8.8.8.8"], 0.9),
                    finding("off_hours", "10.0.0.1", &[], 0.2),
                ],
                false,
            ),
            // internal peers only (a scan): held
            (
                baseline(false, 5, &known, &us),
                vec![finding("port_scan", "10.0.0.1", &["10.0.0.2"], 0.9)],
                false,
            ),
            // self-learned, one host only: rarity means nothing
            (
                baseline(true, 1, &[("8.8.8.8", 1)], &[("US", 1)]),
                vec![finding("cnc_beacon", "10.0.0.1", &["8.8.8.8"], 0.9)],
                false,
            ),
            // self-learned, five hosts, peer seen by one only: rare
            (
                baseline(true, 5, &[("8.8.8.8", 1)], &us),
                vec![finding("cnc_beacon", "10.0.0.1", &["8.8.8.8"], 0.9)],
                true,
            ),
        ];
        for (i, (b, fs, want)) in cases.into_iter().enumerate() {
            let kinds = kinds_by_host(&fs);
            let got = corroboration(&fs[0], &kinds, &b, &geo, &nets);
            assert_eq!(got.is_some(), want, "case {i}: {got:?}");
        }
    }
}
