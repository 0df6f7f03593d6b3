//! The findings model: what detectors report, in a versioned JSON document (`docs/findings.md`).
//!
//! Detectors emit raw [`Finding`]s; [`finalize`] merges those of one host and kind, fills the geo
//! enrichment of every address, sorts by score, numbers them and links the findings sharing a host
//! (`related`). Scores live in [0, 1] and map to a severity through the one shared [`severity`].

pub mod export;
pub mod fold;
pub mod score;

pub use score::{score_from_ratio, severity, Severity};

use crate::detect::rows::GeoCache;
use crate::enrich::IpFacts;
use crate::ip;
use flowhound_geo::GeoStack;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Version of the findings JSON schema.
pub const SCHEMA_VERSION: u32 = 1;

/// Machine-readable evidence plus a one-line human explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Evidence {
    /// What was measured, e.g. `up_bytes per 3600 s window`.
    pub metric: String,
    /// The observed value.
    pub observed: f64,
    /// The normal value (baseline centre), when there is one.
    pub baseline: Option<f64>,
    /// The limit that was crossed, when there is one.
    pub threshold: Option<f64>,
    /// One line for people.
    pub explanation: String,
    /// Detector-specific extra fields (periods, ports, reference used, ...).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// What is known about one address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct IpInfo {
    /// ISO country code.
    pub country: Option<String>,
    /// AS number.
    pub asn: Option<u32>,
    /// AS organisation.
    pub org: Option<String>,
    /// Reverse DNS name (filled by DNS enrichment, when enabled).
    pub name: Option<String>,
}

impl From<IpFacts> for IpInfo {
    /// Country, AS and organisation; no name (DNS enrichment fills it).
    fn from(f: IpFacts) -> Self {
        IpInfo {
            country: f.country,
            asn: f.asn,
            org: f.org,
            name: None,
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Finding {
    /// Stable within a document: `F1`, `F2`, ... in rank order.
    pub id: String,
    /// What kind of problem, e.g. `volume_outlier`.
    pub kind: String,
    /// The detector(s) that reported it (comma-separated when merged).
    pub detector: String,
    /// Strength in [0, 1].
    pub score: f64,
    /// Derived from the score by [`severity`].
    pub severity: Severity,
    /// Internal addresses blamed.
    pub hosts: Vec<String>,
    /// Remote addresses involved.
    pub peers: Vec<String>,
    /// First flow involved (RFC 3339, UTC).
    pub first_seen: Option<String>,
    /// Last flow involved (RFC 3339, UTC).
    pub last_seen: Option<String>,
    /// Number of flows involved.
    pub flows: u64,
    /// The main evidence.
    pub evidence: Evidence,
    /// Evidence of merged findings (other detectors or windows), strongest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_evidence: Vec<Evidence>,
    /// Address -> country, AS, organisation, name, for every host and peer.
    #[serde(default)]
    pub enrichment: BTreeMap<String, IpInfo>,
    /// Ids of other findings concerning one of the same hosts.
    #[serde(default)]
    pub related: Vec<String>,
    /// Row numbers (over the test input) of the flows behind the finding; not serialised.
    #[serde(skip)]
    pub flow_rows: Vec<u32>,
    /// When and whom the flows behind the finding involve: (start second, blamed host) of each, sorted
    /// and distinct ([`crate::verdicts::stamp`]); the windows it blames in `--verdicts`. Not serialised.
    #[serde(skip)]
    pub evidence_at: Vec<(i64, u128)>,
}

/// Formats microseconds since the epoch as RFC 3339 UTC with microseconds (sorts as text).
pub fn format_ts(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .unwrap_or_else(|| us.to_string())
}

/// The key findings are merged on: kind and the sorted host list.
fn merge_key(f: &Finding) -> (String, Vec<String>) {
    let mut hosts = f.hosts.clone();
    hosts.sort();
    (f.kind.clone(), hosts)
}

/// Merges findings of one host (set) and kind: the strongest keeps its evidence, the others' evidence
/// goes to `other_evidence`; detectors, peers, time span and flows are united. A finding at medium or
/// above does not take in the low ones: a device's faint periodicity (its NTP, discounted as
/// infrastructure) next to its C&C beacon would list the time servers as C&C peers and blame the
/// hours of their flows; the low ones merge among themselves.
pub fn merge(findings: Vec<Finding>) -> Vec<Finding> {
    let mut groups: BTreeMap<(String, Vec<String>), Vec<Finding>> = BTreeMap::new();
    for f in findings {
        groups.entry(merge_key(&f)).or_default().push(f);
    }
    groups.into_values().flat_map(merge_group).collect()
}

fn merge_group(mut group: Vec<Finding>) -> Vec<Finding> {
    // the ranking order is total: of equal scores, the same one keeps its evidence whatever order
    // the detectors, shards and hash maps gave
    group.sort_by(ranked);
    let (strong, faint): (Vec<Finding>, Vec<Finding>) = group
        .into_iter()
        .partition(|f| severity(f.score) >= Severity::Medium);
    [strong, faint].into_iter().filter_map(absorb_all).collect()
}

/// The first finding of `group` with the others absorbed into it (`None` when it is empty).
fn absorb_all(group: Vec<Finding>) -> Option<Finding> {
    let mut it = group.into_iter();
    let mut top = it.next()?;
    for f in it {
        fold::absorb(&mut top, f);
    }
    Some(top)
}

fn min_opt(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Merges (a NaN score counting as 0), caps each finding's peers at `max_peers` (the first ones kept), enriches the hosts and the
/// kept peers, sorts by score (then kind and hosts), numbers `F1..` and links related findings.
pub fn finalize(mut findings: Vec<Finding>, geo: &GeoStack, max_peers: usize) -> Vec<Finding> {
    // A NaN score would survive the clamp, rank first and serialise as null: it counts as 0.
    for f in &mut findings {
        if f.score.is_nan() {
            f.score = 0.0;
        }
    }
    let mut out = merge(findings);
    let mut cache = GeoCache::default();
    for f in &mut out {
        f.peers.truncate(max_peers);
        f.score = f.score.clamp(0.0, 1.0);
        f.severity = severity(f.score);
        enrich(f, geo, &mut cache);
    }
    rank(out, Severity::Low)
}

/// The ranking order, total so that findings come out the same whatever order detectors, shards and
/// hash maps produced them in: score (highest first), then kind, hosts, peers, first flow and
/// explanation.
pub fn ranked(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.hosts.cmp(&b.hosts))
        .then_with(|| a.peers.cmp(&b.peers))
        .then_with(|| a.first_seen.cmp(&b.first_seen))
        .then_with(|| a.evidence.explanation.cmp(&b.evidence.explanation))
}

/// Keeps the findings at `min` severity or above (re-deriving each severity from its score), sorts
/// them in the [`ranked`] order, numbers them `F1..` and links related findings.
pub fn rank(findings: Vec<Finding>, min: Severity) -> Vec<Finding> {
    let mut out: Vec<Finding> = findings
        .into_iter()
        .map(|mut f| {
            f.severity = severity(f.score);
            f
        })
        .filter(|f| f.severity >= min)
        .collect();
    out.sort_by(ranked);
    for (i, f) in out.iter_mut().enumerate() {
        f.id = format!("F{}", i + 1);
    }
    link_related(&mut out);
    out
}

fn enrich(f: &mut Finding, geo: &GeoStack, cache: &mut GeoCache) {
    for addr in f.hosts.iter().chain(&f.peers) {
        if f.enrichment.contains_key(addr) {
            continue;
        }
        let Some(v) = ip::parse(addr) else { continue };
        let facts = IpFacts::from(cache.get(geo, v));
        f.enrichment.insert(addr.clone(), facts.into());
    }
}

fn link_related(findings: &mut [Finding]) {
    let mut by_host: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in findings.iter() {
        for h in &f.hosts {
            by_host.entry(h.clone()).or_default().push(f.id.clone());
        }
    }
    for f in findings.iter_mut() {
        let mut rel: BTreeSet<String> = BTreeSet::new();
        for h in &f.hosts {
            rel.extend(
                by_host
                    .get(h)
                    .into_iter()
                    .flatten()
                    .filter(|id| **id != f.id)
                    .cloned(),
            );
        }
        let mut rel: Vec<String> = rel.into_iter().collect();
        rel.sort_by_key(|id| {
            id.trim_start_matches('F')
                .parse::<u64>()
                .unwrap_or(u64::MAX)
        });
        f.related = rel;
    }
}

/// A host's combined rank: `1 - prod(1 - score)` over its findings, with the finding count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRank {
    /// The internal address.
    pub host: String,
    /// Combined score in [0, 1].
    pub score: f64,
    /// Findings naming it.
    pub findings: u64,
    /// Their kinds, sorted.
    pub kinds: Vec<String>,
}

/// Hosts ranked by combined score (noisy-or of their findings' scores, the strongest of each kind and
/// host set), strongest first.
pub fn host_ranking(findings: &[Finding]) -> Vec<HostRank> {
    // per host, the strongest finding of each merge key (kind and host set: a host's faint findings
    // of a kind are kept apart from its strong one by `merge`, but count once, as they did merged)
    // and its number of findings
    type Keys = BTreeMap<(String, Vec<String>), f64>;
    let mut acc: BTreeMap<&str, (Keys, u64)> = BTreeMap::new();
    for f in findings {
        for h in &f.hosts {
            let e = acc.entry(h).or_default();
            let best = e.0.entry(merge_key(f)).or_insert(0.0);
            *best = best.max(f.score.clamp(0.0, 1.0));
            e.1 += 1;
        }
    }
    let mut out: Vec<HostRank> = acc
        .into_iter()
        .map(|(h, (keys, n))| HostRank {
            host: h.to_string(),
            score: 1.0 - keys.values().map(|s| 1.0 - s).product::<f64>(),
            findings: n,
            kinds: keys
                .into_keys()
                .map(|k| k.0)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.host.cmp(&b.host))
    });
    out
}

/// Findings per severity, in `low, medium, high, critical` order.
pub fn per_severity(findings: &[Finding]) -> BTreeMap<Severity, u64> {
    let mut m: BTreeMap<Severity, u64> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
    for f in findings {
        *m.entry(f.severity).or_default() += 1;
    }
    m
}

/// Where the baseline came from, as stated in the document and the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BaselineRef {
    /// `file` (a saved baseline), `normal` (learned from --normal) or `self` (learned robustly from the test input).
    pub source: String,
    /// The baseline file or the normal inputs.
    pub inputs: Vec<String>,
    /// Flows it was learned from.
    pub flows: u64,
}

/// What was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct InputSummary {
    /// The test inputs.
    pub files: Vec<String>,
    /// Rows read.
    pub rows_read: u64,
    /// Rows skipped as bad.
    pub rows_skipped: u64,
    /// First flow (RFC 3339).
    pub first_seen: Option<String>,
    /// Last flow (RFC 3339).
    pub last_seen: Option<String>,
}

/// The findings document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FindingsDoc {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `flowhound <version>`.
    pub generator: String,
    /// The test input.
    pub input: InputSummary,
    /// The baseline used.
    pub baseline: BaselineRef,
    /// Detectors that ran.
    pub detectors: Vec<String>,
    /// Findings per severity.
    pub per_severity: BTreeMap<Severity, u64>,
    /// Hosts by combined score.
    pub top_hosts: Vec<HostRank>,
    /// The findings, by decreasing score.
    pub findings: Vec<Finding>,
}

impl FindingsDoc {
    /// Builds the document around finalized findings.
    pub fn new(
        input: InputSummary,
        baseline: BaselineRef,
        detectors: Vec<String>,
        findings: Vec<Finding>,
    ) -> Self {
        FindingsDoc {
            schema_version: SCHEMA_VERSION,
            generator: format!("flowhound {}", env!("CARGO_PKG_VERSION")),
            input,
            baseline,
            detectors,
            per_severity: per_severity(&findings),
            top_hosts: host_ranking(&findings),
            findings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(
        kind: &str,
        det: &str,
        host: &str,
        score: f64,
        peers: &[&str],
        first: &str,
        rows: &[u32],
    ) -> Finding {
        Finding {
            kind: kind.into(),
            detector: det.into(),
            score,
            hosts: vec![host.into()],
            peers: peers.iter().map(|p| p.to_string()).collect(),
            first_seen: Some(first.into()),
            last_seen: Some(first.into()),
            flows: rows.len() as u64,
            flow_rows: rows.to_vec(),
            evidence: Evidence {
                metric: det.into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn merging_equal_scores_does_not_depend_on_their_order() {
        let beacon = |peer: &str, first: &str, rows: &[u32]| {
            f(
                "cnc_beacon",
                "cnc_beacon",
                "10.0.0.1",
                0.3,
                &[peer],
                first,
                rows,
            )
        };
        let a = beacon("162.125.37.79", "2026-01-01T00:00:31Z", &[1, 2]);
        let b = beacon("52.4.116.109", "2026-01-01T00:00:00Z", &[3, 4]);
        let one = finalize(vec![a.clone(), b.clone()], &GeoStack::new(), 10);
        let other = finalize(vec![b, a], &GeoStack::new(), 10);
        assert_eq!(one, other);
        // ties go by peers: 162.125.37.79 sorts first and keeps its evidence
        assert_eq!(one[0].peers, ["162.125.37.79", "52.4.116.109"]);
        assert_eq!(one[0].other_evidence.len(), 1);
    }

    #[test]
    fn a_strong_finding_does_not_take_in_faint_ones_of_its_kind() {
        let beacon = |peer: &str, score: f64, rows: &[u32]| {
            let first = "2026-01-01T00:00:00Z";
            f(
                "cnc_beacon",
                "cnc_beacon",
                "10.0.0.1",
                score,
                &[peer],
                first,
                rows,
            )
        };
        let cnc = beacon("94.156.4.77", 0.82, &[1, 2]);
        let ntp = beacon("77.78.107.252", 0.22, &[5]);
        let ntp2 = beacon("213.199.225.40", 0.21, &[6]);
        let out = finalize(vec![ntp, cnc, ntp2], &GeoStack::new(), 10);
        let got: Vec<(&[String], &[u32])> = out
            .iter()
            .map(|f| (&f.peers[..], &f.flow_rows[..]))
            .collect();
        let (c, n, n2) = (
            ["94.156.4.77".to_string()],
            ["77.78.107.252".to_string(), "213.199.225.40".to_string()],
            [1u32, 2],
        );
        assert_eq!(got, [(&c[..], &n2[..]), (&n[..], &[5u32, 6][..])]);
        assert!(out[0].other_evidence.is_empty());
        // the host counts its strongest beacon once, as when they were merged
        let ranks = host_ranking(&out);
        assert_eq!((ranks[0].score, ranks[0].findings), (0.82, 2));
    }

    #[test]
    fn merges_one_host_and_kind() {
        let a = f(
            "volume_outlier",
            "sigma",
            "10.0.0.1",
            0.5,
            &["8.8.8.8"],
            "2026-01-01T02:00:00Z",
            &[1, 2],
        );
        let b = f(
            "volume_outlier",
            "mad",
            "10.0.0.1",
            0.9,
            &["1.1.1.1"],
            "2026-01-01T01:00:00Z",
            &[2, 3],
        );
        let c = f(
            "cnc_beacon",
            "cnc_beacon",
            "10.0.0.1",
            0.7,
            &[],
            "2026-01-01T03:00:00Z",
            &[9],
        );
        let out = finalize(vec![a, b, c], &GeoStack::new(), 10);
        assert_eq!(out.len(), 2);
        let m = &out[0];
        assert_eq!(
            (m.id.as_str(), m.detector.as_str(), m.score),
            ("F1", "mad,sigma", 0.9)
        );
        assert_eq!(m.evidence.metric, "mad");
        assert_eq!(m.other_evidence.len(), 1);
        assert_eq!(m.peers, ["1.1.1.1", "8.8.8.8"]);
        assert_eq!(m.first_seen.as_deref(), Some("2026-01-01T01:00:00Z"));
        assert_eq!(m.last_seen.as_deref(), Some("2026-01-01T02:00:00Z"));
        assert_eq!((m.flows, m.flow_rows.clone()), (3, vec![1, 2, 3]));
        assert_eq!(m.related, ["F2"]);
        assert_eq!(out[1].related, ["F1"]);
        assert!(m.enrichment.contains_key("8.8.8.8") && m.enrichment.contains_key("10.0.0.1"));
        let ranks = host_ranking(&out);
        assert!((ranks[0].score - (1.0 - 0.1 * 0.3)).abs() < 1e-12);
    }

    #[test]
    fn peers_capped_before_enrichment() {
        let peers = ["8.8.8.8", "1.1.1.1", "9.9.9.9"];
        let a = f(
            "k",
            "d",
            "10.0.0.1",
            0.5,
            &peers,
            "2026-01-01T00:00:00Z",
            &[1],
        );
        let out = finalize(vec![a], &GeoStack::new(), 2);
        assert_eq!(out[0].peers, ["8.8.8.8", "1.1.1.1"]);
        let keys: Vec<&str> = out[0].enrichment.keys().map(String::as_str).collect();
        assert_eq!(keys, ["1.1.1.1", "10.0.0.1", "8.8.8.8"]);
    }

    #[test]
    fn nan_scores_count_as_zero() {
        let t = "2026-01-01T00:00:00Z";
        let nan = f("k", "a", "10.0.0.1", f64::NAN, &[], t, &[1]);
        let weak = f("k", "b", "10.0.0.1", 0.2, &[], t, &[2]);
        let other = f("j", "c", "10.0.0.2", 0.1, &[], t, &[3]);
        let inf = f("i", "d", "10.0.0.3", f64::INFINITY, &[], t, &[4]);
        let out = finalize(vec![nan.clone(), other, inf], &GeoStack::new(), 10);
        let scores: Vec<(&str, f64)> = out.iter().map(|x| (x.kind.as_str(), x.score)).collect();
        assert_eq!(scores, [("i", 1.0), ("j", 0.1), ("k", 0.0)]);
        assert_eq!(out[2].severity, severity(0.0));
        let json = serde_json::to_value(&out[2]).unwrap();
        assert_eq!(json["score"], serde_json::json!(0.0));
        let merged = finalize(vec![nan, weak], &GeoStack::new(), 10);
        assert_eq!(
            (merged[0].score, merged[0].evidence.metric.as_str()),
            (0.2, "b")
        );
    }

    #[test]
    fn ts_format_sorts_as_text() {
        assert_eq!(format_ts(0), "1970-01-01T00:00:00.000000Z");
        assert!(format_ts(1_000_000) < format_ts(10_000_000));
    }
}
