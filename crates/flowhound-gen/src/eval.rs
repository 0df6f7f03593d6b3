//! [`evaluate`]: host-level scoring of detector findings against the ground
//! truth (definitions in `docs/generator.md`).
//!
//! * Per scenario kind `k` present in the truth: `T_k` = its hosts, `B_k` = hosts
//!   blamed by findings whose `kind` is `k`; precision = |B_k ∩ T_k| / |B_k|,
//!   recall = |B_k ∩ T_k| / |T_k|, F1 their harmonic mean.
//! * Totals over all findings, whatever their kind: `S` = hosts of every
//!   scenario, `B` = every distinct blamed host; precision = |B ∩ S| / |B|,
//!   recall = |B ∩ S| / |S|. Kinds without a scenario (e.g. `volume_outlier`)
//!   thus count only in the totals, and are listed separately.

use crate::config::{DecoyKind, Scenario};
use crate::ip::canonical_host;
use crate::truth::Truth;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// One detector finding; fields other than these are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Scenario name (`botnet`, ...) or another kind (`volume_outlier`, ...).
    pub kind: String,
    /// Hosts the finding blames.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Confidence in [0, 1] (not used by the scoring).
    #[serde(default)]
    pub score: f64,
}

/// The findings document produced by the detectors.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FindingsDoc {
    /// All findings.
    #[serde(default)]
    pub findings: Vec<Finding>,
}

impl FindingsDoc {
    /// Parses a findings JSON document.
    pub fn from_json(s: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(s)
    }
}

/// Scores of one scenario kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindScore {
    /// Scenario kind.
    pub kind: Scenario,
    /// |T_k|.
    pub truth_hosts: usize,
    /// |B_k|.
    pub blamed_hosts: usize,
    /// |B_k ∩ T_k|.
    pub true_positives: usize,
    /// |B_k ∩ T_k| / |B_k|; `None` when nothing of this kind was reported.
    pub precision: Option<f64>,
    /// |B_k ∩ T_k| / |T_k|.
    pub recall: Option<f64>,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: Option<f64>,
    /// T_k \ B_k.
    pub missed: Vec<String>,
    /// B_k \ T_k.
    pub false_positives: Vec<String>,
}

/// A finding kind that has no scenario in the truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtherKind {
    /// The kind as written in the findings.
    pub kind: String,
    /// Distinct hosts it blamed.
    pub blamed_hosts: usize,
    /// How many of them belong to some scenario.
    pub scenario_hosts: usize,
}

/// A blamed host that belongs to no scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FalsePositive {
    /// The host.
    pub host: String,
    /// Finding kinds that blamed it.
    pub kinds: Vec<String>,
    /// The decoy it belongs to, if any.
    pub decoy: Option<DecoyKind>,
}

/// A scenario host that no finding blamed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissedHost {
    /// The host.
    pub host: String,
    /// Scenarios it takes part in.
    pub scenarios: Vec<Scenario>,
}

/// Totals over all findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Findings read.
    pub findings: usize,
    /// |S|: hosts of all scenarios.
    pub scenario_hosts: usize,
    /// |B|: distinct hosts blamed by any finding.
    pub blamed_hosts: usize,
    /// |B ∩ S|.
    pub true_positives: usize,
    /// |B ∩ S| / |B| (`None` when nothing was blamed).
    pub precision: Option<f64>,
    /// |B ∩ S| / |S| (`None` when the truth has no scenario).
    pub recall: Option<f64>,
    /// Harmonic mean.
    pub f1: Option<f64>,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// One row per scenario kind of the truth, in canonical order.
    pub per_kind: Vec<KindScore>,
    /// Finding kinds without a scenario in the truth, sorted by name.
    pub other_kinds: Vec<OtherKind>,
    /// Blamed hosts outside every scenario (decoys named).
    pub false_positives: Vec<FalsePositive>,
    /// Scenario hosts no finding blamed.
    pub missed: Vec<MissedHost>,
    /// Totals.
    pub totals: Totals,
}

type HostSet = BTreeSet<String>;

/// Scores `findings` against `truth` (host level; see the module docs).
pub fn evaluate(truth: &Truth, findings: &FindingsDoc) -> Evaluation {
    evaluate_min_score(truth, findings, f64::NEG_INFINITY)
}

/// Like [`evaluate`], keeping only findings whose `score >= min_score`
/// (`totals.findings` counts the kept ones).
pub fn evaluate_min_score(truth: &Truth, findings: &FindingsDoc, min_score: f64) -> Evaluation {
    let kept = FindingsDoc {
        findings: findings
            .findings
            .iter()
            .filter(|f| f.score >= min_score)
            .cloned()
            .collect(),
    };
    let findings = &kept;
    let truth_by_kind = truth_hosts(truth);
    let blamed_by_kind = blamed_hosts(findings);
    let all_truth: HostSet = truth_by_kind.values().flatten().cloned().collect();
    let all_blamed: HostSet = blamed_by_kind.values().flatten().cloned().collect();
    let empty = HostSet::new();
    let per_kind = truth_by_kind
        .iter()
        .map(|(k, t)| kind_score(*k, t, blamed_by_kind.get(k.name()).unwrap_or(&empty)))
        .collect();
    let other_kinds = blamed_by_kind
        .iter()
        .filter(|(k, _)| !truth_by_kind.keys().any(|s| s.name() == k.as_str()))
        .map(|(k, b)| OtherKind {
            kind: k.clone(),
            blamed_hosts: b.len(),
            scenario_hosts: b.intersection(&all_truth).count(),
        })
        .collect();
    let tp = all_blamed.intersection(&all_truth).count();
    Evaluation {
        per_kind,
        other_kinds,
        false_positives: false_positives(truth, &blamed_by_kind, &all_blamed, &all_truth),
        missed: missed(&truth_by_kind, &all_blamed),
        totals: Totals {
            findings: findings.findings.len(),
            scenario_hosts: all_truth.len(),
            blamed_hosts: all_blamed.len(),
            true_positives: tp,
            precision: ratio(tp, all_blamed.len()),
            recall: ratio(tp, all_truth.len()),
            f1: f1(ratio(tp, all_blamed.len()), ratio(tp, all_truth.len())),
        },
    }
}

fn truth_hosts(truth: &Truth) -> BTreeMap<Scenario, HostSet> {
    let mut m: BTreeMap<Scenario, HostSet> = BTreeMap::new();
    for s in &truth.scenarios {
        m.entry(s.kind)
            .or_default()
            .extend(s.hosts.iter().map(|h| canonical_host(h)));
    }
    m
}

fn blamed_hosts(findings: &FindingsDoc) -> BTreeMap<String, HostSet> {
    let mut m: BTreeMap<String, HostSet> = BTreeMap::new();
    for f in &findings.findings {
        let kind = f.kind.trim().to_ascii_lowercase();
        let set = m.entry(kind).or_default();
        set.extend(
            f.hosts
                .iter()
                .map(|h| canonical_host(h))
                .filter(|h| !h.is_empty()),
        );
    }
    m.retain(|_, v| !v.is_empty());
    m
}

/// Orders hosts by address (IPv4 before IPv6), non-IP strings last.
fn host_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |h: &str| (h.parse::<std::net::IpAddr>().map_err(|_| ()), h.to_string());
    key(a).cmp(&key(b))
}

fn sorted_hosts<'a>(hosts: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut v: Vec<String> = hosts.cloned().collect();
    v.sort_by(|a, b| host_cmp(a, b));
    v
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn f1(p: Option<f64>, r: Option<f64>) -> Option<f64> {
    let (p, r) = (p?, r?);
    Some(if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    })
}

fn kind_score(kind: Scenario, t: &HostSet, b: &HostSet) -> KindScore {
    let tp = b.intersection(t).count();
    let (p, r) = (ratio(tp, b.len()), ratio(tp, t.len()));
    KindScore {
        kind,
        truth_hosts: t.len(),
        blamed_hosts: b.len(),
        true_positives: tp,
        precision: p,
        recall: r,
        f1: f1(p, r),
        missed: sorted_hosts(t.difference(b)),
        false_positives: sorted_hosts(b.difference(t)),
    }
}

fn false_positives(
    truth: &Truth,
    blamed: &BTreeMap<String, HostSet>,
    all_blamed: &HostSet,
    all_truth: &HostSet,
) -> Vec<FalsePositive> {
    let decoy_of = |h: &str| {
        truth
            .decoys
            .iter()
            .find(|d| d.hosts.iter().any(|x| canonical_host(x) == h))
            .map(|d| d.kind)
    };
    sorted_hosts(all_blamed.difference(all_truth))
        .into_iter()
        .map(|h| FalsePositive {
            kinds: blamed
                .iter()
                .filter(|(_, b)| b.contains(&h))
                .map(|(k, _)| k.clone())
                .collect(),
            decoy: decoy_of(&h),
            host: h,
        })
        .collect()
}

fn missed(truth_by_kind: &BTreeMap<Scenario, HostSet>, all_blamed: &HostSet) -> Vec<MissedHost> {
    let mut m: BTreeMap<String, Vec<Scenario>> = BTreeMap::new();
    for (k, hosts) in truth_by_kind {
        for h in hosts.iter().filter(|h| !all_blamed.contains(*h)) {
            m.entry(h.clone()).or_default().push(*k);
        }
    }
    let mut v: Vec<MissedHost> = m
        .into_iter()
        .map(|(host, scenarios)| MissedHost { host, scenarios })
        .collect();
    v.sort_by(|a, b| host_cmp(&a.host, &b.host));
    v
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", v * 100.0))
}

impl Evaluation {
    /// A plain-text report (table per kind, totals, misses, false positives).
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<16} {:>6} {:>7} {:>4} {:>9} {:>7} {:>7}",
            "scenario", "truth", "blamed", "tp", "precision", "recall", "f1"
        );
        for k in &self.per_kind {
            let _ = writeln!(
                s,
                "{:<16} {:>6} {:>7} {:>4} {:>9} {:>7} {:>7}",
                k.kind.name(),
                k.truth_hosts,
                k.blamed_hosts,
                k.true_positives,
                pct(k.precision),
                pct(k.recall),
                pct(k.f1)
            );
        }
        let t = &self.totals;
        let _ = writeln!(
            s,
            "{:<16} {:>6} {:>7} {:>4} {:>9} {:>7} {:>7}",
            "TOTAL (any kind)",
            t.scenario_hosts,
            t.blamed_hosts,
            t.true_positives,
            pct(t.precision),
            pct(t.recall),
            pct(t.f1)
        );
        let _ = writeln!(s, "findings read: {}", t.findings);
        self.render_lists(&mut s);
        s
    }

    fn render_lists(&self, s: &mut String) {
        for o in &self.other_kinds {
            let _ = writeln!(
                s,
                "kind without scenario: {} blamed {} host(s), {} in some scenario",
                o.kind, o.blamed_hosts, o.scenario_hosts
            );
        }
        for m in &self.missed {
            let kinds: Vec<&str> = m.scenarios.iter().map(|k| k.name()).collect();
            let _ = writeln!(s, "missed: {} ({})", m.host, kinds.join(", "));
        }
        for f in &self.false_positives {
            let decoy = f
                .decoy
                .map(|d| format!(" [decoy: {d}]"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "false positive: {} by {}{decoy}",
                f.host,
                f.kinds.join(", ")
            );
        }
    }

    /// The evaluation as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
