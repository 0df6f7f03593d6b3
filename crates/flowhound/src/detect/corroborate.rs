//! `critical` needs corroboration: a finding scored critical stays critical only when something other
//! than its own measure stands with it:
//! - a **new or rare peer**: an external peer absent from the baseline's destinations, or (on a
//!   self-learned baseline of at least [`MIN_HOSTS_FOR_RARITY`] hosts talking to located external
//!   places, [`external_population`]) contacted by one host only;
//! - an **unusual place**: an external peer whose country the baseline never saw, or saw from one host
//!   only (same host-count condition);
//! - **several detectors agreeing**: another finding of a different kind, at high or above, blames one
//!   of the same hosts.
//!
//! Otherwise it is held at high ([`HELD_SCORE`]) and the explanation says why.
//!
//! On a baseline learned from the capture itself novelty cannot be judged, and a statistical deviation
//! of one device against its own day is weak evidence: an uncorroborated volume finding
//! ([`DEVIATION_KINDS`]) is held at medium ([`HELD_DEVIATION_SCORE`]) there, and an uncorroborated
//! beacon ([`PERIODIC_KINDS`]) at low ([`HELD_LOW_SCORE`]): an IoT device's cloud heartbeat is as
//! regular as a C&C, and a device's capture with nothing else wrong in it is a benign device's.
//!
//! A held finding lands just under its cap ([`held_score`]), so held findings keep their order.

use super::DetectCtx;
use crate::baseline::Baseline;
use crate::findings::score::SEVERITY_BOUNDS;
use crate::findings::Finding;
use crate::ip;
use crate::net::InternalNets;
use flowhound_geo::GeoStack;
use std::collections::{BTreeMap, BTreeSet};

/// The score an uncorroborated critical finding is held at (the top of high).
pub const HELD_SCORE: f64 = 0.79;
/// The score an uncorroborated deviation is held at on a self-learned baseline (the top of medium).
pub const HELD_DEVIATION_SCORE: f64 = 0.64;
/// The score an uncorroborated volume deviation is held at when its top peer is one of the network's
/// own hosts, or, for a download, a destination the normal-period baseline already knows (the top of
/// low: out of the default table).
pub const HELD_LOW_SCORE: f64 = 0.39;
/// Kinds whose only evidence is periodic timing: on a self-learned baseline an uncorroborated one is
/// held at low (a device's cloud heartbeat is as regular as a beacon; an infected device shows more:
/// its scans, floods or C&C channel at high corroborate the beacon).
pub const PERIODIC_KINDS: [&str; 1] = ["cnc_beacon"];
/// How far below its cap a held finding lands, per unit of score it had left below 1: held findings
/// keep their order (the strongest beacon of a capture stays first).
pub const HOLD_SPREAD: f64 = 0.05;
/// Kinds whose only evidence is a statistical deviation of volume.
pub const DEVIATION_KINDS: [&str; 2] = ["volume_outlier", "flow_outlier"];
/// A self-learned baseline needs this many internal hosts before "one host only" means rare.
pub const MIN_HOSTS_FOR_RARITY: usize = 3;

/// Internal hosts of the baseline that talked to at least one located external place: the population
/// among which a peer or a country can be rare.
pub fn external_population(b: &Baseline) -> u64 {
    b.hosts
        .values()
        .filter(|h| h.countries.iter().any(|c| c.key != "??"))
        .count() as u64
}

/// Why a finding is corroborated, if it is: another detector on the same host (among
/// `kinds_by_host`), else a new or rare peer or an unusual place ([`peer_or_place`]).
pub fn corroboration(
    f: &Finding,
    kinds_by_host: &BTreeMap<String, BTreeSet<String>>,
    b: &Baseline,
    geo: &GeoStack,
    nets: &InternalNets,
) -> Option<String> {
    other_detector(f, kinds_by_host).or_else(|| peer_or_place(f, b, geo, nets))
}

/// "also KIND on the same host" for the first other kind `kinds_by_host` holds for a host of `f`.
fn other_detector(
    f: &Finding,
    kinds_by_host: &BTreeMap<String, BTreeSet<String>>,
) -> Option<String> {
    let others: BTreeSet<&String> = f
        .hosts
        .iter()
        .filter_map(|h| kinds_by_host.get(h))
        .flatten()
        .filter(|k| **k != f.kind)
        .collect();
    others.first().map(|k| format!("also {k} on the same host"))
}

/// Why a finding's own peers corroborate it, if they do: a new or rare peer, or an unusual place.
pub fn peer_or_place(
    f: &Finding,
    b: &Baseline,
    geo: &GeoStack,
    nets: &InternalNets,
) -> Option<String> {
    let rarity_counts = !b.robust() || external_population(b) >= MIN_HOSTS_FOR_RARITY as u64;
    // a volume deviation is carried by its top peer: a new site among the others is daily browsing
    let judged = if DEVIATION_KINDS.contains(&f.kind.as_str()) {
        1
    } else {
        f.peers.len()
    };
    for p in f.peers.iter().take(judged) {
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

/// Kinds per host among findings at high or above.
fn kinds_by_host(findings: &[Finding]) -> BTreeMap<String, BTreeSet<String>> {
    kinds_by_host_where(findings, |_| true)
}

/// Kinds per host among the findings at high or above that `keep` (by index) accepts.
fn kinds_by_host_where(
    findings: &[Finding],
    keep: impl Fn(usize) -> bool,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let high = |(i, f): &(usize, &Finding)| f.score >= SEVERITY_BOUNDS[1] && keep(*i);
    for (_, f) in findings.iter().enumerate().filter(high) {
        for h in &f.hosts {
            m.entry(h.clone()).or_default().insert(f.kind.clone());
        }
    }
    m
}

/// True for a volume deviation of received bytes (`details.metric` is `down_bytes`): a download. Alone
/// it is weak evidence: data theft uploads, and a dropper's downloads are `dropper`'s; a big update or
/// a video from the usual CDNs is the common case.
pub fn is_download(f: &Finding) -> bool {
    DEVIATION_KINDS.contains(&f.kind.as_str())
        && f.evidence.details.get("metric").and_then(|m| m.as_str()) == Some("down_bytes")
}

/// Where a finding's top peer (the one that carried most of it) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopPeer {
    /// One of the network's own hosts: the bytes stayed inside (a file share, a backup).
    Internal,
    /// A multicast or broadcast address: the bytes stayed on the local segment (discovery, streaming
    /// to a group), which no exfiltration or download goes through.
    Segment,
    /// An external destination the normal-period baseline already knows (a self-learned baseline
    /// knows every peer of the capture, so never there).
    Known,
    /// Anything else, or no peer.
    Other,
}

/// Where the finding's top peer stands.
pub fn top_peer(f: &Finding, b: &Baseline, nets: &InternalNets) -> TopPeer {
    let Some(p) = f.peers.first() else {
        return TopPeer::Other;
    };
    let addr = ip::parse(p);
    if addr.is_some_and(|v| super::infrastructure::address_label(v, nets).is_some()) {
        TopPeer::Segment
    } else if addr.is_some_and(|v| nets.contains(v)) {
        TopPeer::Internal
    } else if !b.robust() && b.external.destinations.contains_key(p) {
        TopPeer::Known
    } else {
        TopPeer::Other
    }
}

/// The score an uncorroborated finding is held at, if it is above it, and why: [`HELD_SCORE`] (for
/// critical), or [`HELD_DEVIATION_SCORE`] for a deviation on a self-learned baseline or a download,
/// [`HELD_LOW_SCORE`] for a download from a peer the baseline knows, a deviation whose top peer is
/// one of the network's own hosts, or a beacon on a self-learned baseline.
pub fn held_at(f: &Finding, robust: bool, top: TopPeer) -> (f64, &'static str) {
    let deviation = DEVIATION_KINDS.contains(&f.kind.as_str());
    if deviation && top == TopPeer::Internal {
        (
            HELD_LOW_SCORE,
            "a volume deviation towards the network's own hosts",
        )
    } else if deviation && top == TopPeer::Segment {
        (
            HELD_LOW_SCORE,
            "a volume deviation towards multicast or broadcast, which stays on the local segment",
        )
    } else if is_download(f) && top == TopPeer::Known {
        (
            HELD_LOW_SCORE,
            "a download deviation from a destination the baseline already knows",
        )
    } else if robust && deviation {
        (
            HELD_DEVIATION_SCORE,
            "a deviation learned from the capture itself",
        )
    } else if robust && PERIODIC_KINDS.contains(&f.kind.as_str()) {
        (
            HELD_LOW_SCORE,
            "periodic timing alone, with nothing learned from normal traffic,",
        )
    } else if is_download(f) {
        (HELD_DEVIATION_SCORE, "a download deviation")
    } else {
        (HELD_SCORE, "critical")
    }
}

/// The score a finding scored `score` (above `cap`) is held at: just under `cap`, by
/// [`HOLD_SPREAD`] of what it had left below 1, so that held findings keep their order and their
/// severity.
pub fn held_score(cap: f64, score: f64) -> f64 {
    cap - HOLD_SPREAD * (1.0 - score).clamp(0.0, 1.0)
}

/// Holds every uncorroborated finding above [`held_at`] there, saying so; records the corroboration
/// of the others in `evidence.details.corroboration`. Another detector at high corroborates a finding
/// when it stands on its own (within its cap, or corroborated by a peer or a place), or when the
/// finding is at high too (each corroborates the other): a volume deviation that is itself held does
/// not lift a faint beacon of the same device.
pub fn hold_uncorroborated(findings: &mut [Finding], ctx: &DetectCtx) {
    let robust = ctx.baseline.robust();
    let caps: Vec<(f64, &str)> = findings
        .iter()
        .map(|f| held_at(f, robust, top_peer(f, ctx.baseline, ctx.nets)))
        .collect();
    // the peers' and places' word, once per finding above its cap
    let own: Vec<Option<String>> = findings
        .iter()
        .zip(&caps)
        .map(|(f, (cap, _))| {
            (f.score > *cap)
                .then(|| peer_or_place(f, ctx.baseline, ctx.geo, ctx.nets))
                .flatten()
        })
        .collect();
    let stands = |i: usize| findings[i].score <= caps[i].0 || own[i].is_some();
    let all = kinds_by_host(findings);
    let standing = kinds_by_host_where(findings, stands);
    for ((f, (cap, what)), own) in findings.iter_mut().zip(caps).zip(own) {
        if f.score <= cap {
            continue;
        }
        let kinds = if f.score >= SEVERITY_BOUNDS[1] {
            &all
        } else {
            &standing
        };
        match other_detector(f, kinds).or(own) {
            Some(why) => {
                f.evidence
                    .details
                    .insert("corroboration".into(), serde_json::json!(why));
            }
            None => {
                f.score = held_score(cap, f.score);
                f.severity = crate::findings::severity(f.score);
                f.evidence.explanation.push_str(&format!(
                    "; held at {}: {} needs corroboration (a new or rare peer, an unusual place, or another detector on the host at high)",
                    f.severity.as_str(),
                    what
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::Prevalence;

    /// On a self-learned baseline: a faint beacon (medium) beside a volume deviation at high that is
    /// itself held stays held low; beside a channel at high that stands on its own it is corroborated;
    /// a beacon and a volume deviation both at high corroborate each other.
    #[test]
    fn a_held_finding_lifts_only_a_finding_at_high() {
        let (nets, config, geo) = (
            InternalNets::default(),
            crate::config::Config::default(),
            GeoStack::new(),
        );
        let flows = crate::detect::flows::Flows::default();
        let mut b = Baseline::default();
        b.source.self_learned = true;
        let ctx = DetectCtx::new(&[], &flows, &b, &geo, &nets, &config);
        let host = "10.0.0.1";
        let volume = || {
            let mut f = finding("volume_outlier", host, &[], 0.7);
            f.evidence
                .details
                .insert("metric".into(), serde_json::json!("up_bytes"));
            f
        };
        let scores = |fs: Vec<Finding>| {
            let mut fs = fs;
            hold_uncorroborated(&mut fs, &ctx);
            fs.iter().map(|f| f.score).collect::<Vec<f64>>()
        };
        let faint = || finding("cnc_beacon", host, &[], 0.5);
        let got = scores(vec![faint(), volume()]);
        assert!(got[0] < SEVERITY_BOUNDS[0], "{got:?}");
        assert!(
            got[1] < SEVERITY_BOUNDS[1],
            "the deviation is held too: {got:?}"
        );
        let channel = finding("cnc_channel", host, &[], 0.7);
        assert_eq!(scores(vec![faint(), channel])[0], 0.5);
        let strong = finding("cnc_beacon", host, &[], 0.7);
        assert_eq!(scores(vec![strong, volume()]), vec![0.7, 0.7]);
    }

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
            let mut h = crate::baseline::HostProfile::default();
            h.countries.push(crate::baseline::KeyCount {
                key: "US".into(),
                flows: 1,
            });
            b.hosts.insert(format!("10.0.0.{i}"), h);
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
    fn held_at_table() {
        let with_metric = |kind: &str, metric: &str| {
            let mut f = finding(kind, "10.0.0.1", &[], 0.9);
            f.evidence
                .details
                .insert("metric".into(), serde_json::json!(metric));
            f
        };
        // (finding, self-learned baseline) -> held at
        let cases = [
            (
                finding("cnc_beacon", "10.0.0.1", &[], 0.9),
                false,
                HELD_SCORE,
            ),
            (
                finding("cnc_beacon", "10.0.0.1", &[], 0.9),
                true,
                HELD_LOW_SCORE,
            ),
            // a channel is not mere periodicity
            (
                finding("cnc_channel", "10.0.0.1", &[], 0.9),
                true,
                HELD_SCORE,
            ),
            (with_metric("volume_outlier", "up_bytes"), false, HELD_SCORE),
            (
                with_metric("volume_outlier", "up_bytes"),
                true,
                HELD_DEVIATION_SCORE,
            ),
            (
                with_metric("volume_outlier", "down_bytes"),
                false,
                HELD_DEVIATION_SCORE,
            ),
            (
                with_metric("flow_outlier", "down_bytes"),
                false,
                HELD_DEVIATION_SCORE,
            ),
            (with_metric("flow_outlier", "up_bytes"), false, HELD_SCORE),
            // a download measured by another kind is not a volume deviation
            (with_metric("exfiltration", "down_bytes"), false, HELD_SCORE),
        ];
        for (i, (f, robust, want)) in cases.iter().enumerate() {
            assert_eq!(held_at(f, *robust, TopPeer::Other).0, *want, "case {i}");
        }
        // a download from a peer the baseline knows: low; an upload there is judged as before
        let down = with_metric("volume_outlier", "down_bytes");
        let low = HELD_LOW_SCORE;
        assert_eq!(held_at(&down, false, TopPeer::Known).0, low);
        let up = with_metric("volume_outlier", "up_bytes");
        assert_eq!(held_at(&up, false, TopPeer::Known).0, HELD_SCORE);
        // bytes that stayed inside, either way: low; another kind is judged as before
        assert_eq!(held_at(&up, false, TopPeer::Internal).0, low);
        let beacon = finding("cnc_beacon", "10.0.0.1", &[], 0.9);
        assert_eq!(held_at(&beacon, false, TopPeer::Internal).0, HELD_SCORE);
        // known to a normal-period baseline only
        let nets = InternalNets::new(vec![crate::net::Cidr::parse("10.0.0.0/8").unwrap()]);
        let mut f = down.clone();
        f.peers = vec!["17.1.2.3".into()];
        let b = baseline(false, 3, &[("17.1.2.3", 9)], &[]);
        assert_eq!(top_peer(&f, &b, &nets), TopPeer::Known);
        let self_learned = baseline(true, 3, &[("17.1.2.3", 9)], &[]);
        assert_eq!(top_peer(&f, &self_learned, &nets), TopPeer::Other);
        f.peers = vec!["203.0.113.9".into()];
        assert_eq!(top_peer(&f, &b, &nets), TopPeer::Other);
        f.peers = vec!["10.1.2.3".into()];
        assert_eq!(top_peer(&f, &b, &nets), TopPeer::Internal);
        // multicast, broadcast and an internal /24's broadcast stay on the segment: low
        for p in [
            "239.255.255.250",
            "224.0.0.251",
            "255.255.255.255",
            "10.1.2.255",
            "ff02::fb",
        ] {
            f.peers = vec![p.into()];
            assert_eq!(top_peer(&f, &b, &nets), TopPeer::Segment, "{p}");
        }
        assert_eq!(held_at(&up, true, TopPeer::Segment).0, low);
        assert_eq!(held_at(&beacon, false, TopPeer::Segment).0, HELD_SCORE);
        assert_eq!(
            crate::findings::severity(HELD_SCORE),
            crate::findings::Severity::High
        );
        assert_eq!(
            crate::findings::severity(HELD_DEVIATION_SCORE),
            crate::findings::Severity::Medium
        );
    }

    #[test]
    fn held_score_keeps_order_and_severity() {
        use crate::findings::severity;
        // (cap, score) -> held
        let cases = [
            (HELD_SCORE, 1.0, HELD_SCORE),
            (HELD_SCORE, 0.9, HELD_SCORE - 0.005),
            (HELD_DEVIATION_SCORE, 0.7, HELD_DEVIATION_SCORE - 0.015),
            (HELD_LOW_SCORE, 0.4, HELD_LOW_SCORE - 0.03),
        ];
        for (cap, score, want) in cases {
            let got = held_score(cap, score);
            assert!((got - want).abs() < 1e-12, "{cap} {score}: {got}");
            assert_eq!(severity(got), severity(cap), "{cap} {score}");
        }
        assert!(held_score(HELD_SCORE, 0.95) > held_score(HELD_SCORE, 0.85));
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
            // another kind on the host at high
            (
                baseline(false, 5, &known, &us),
                vec![
                    finding("cnc_beacon", "10.0.0.1", &["8.8.8.8"], 0.9),
                    finding("exfiltration", "10.0.0.1", &[], 0.7),
                ],
                true,
            ),
            // another kind but medium: not enough
            (
                baseline(false, 5, &known, &us),
                vec![
                    finding("cnc_beacon", "10.0.0.1", &["8.8.8.8"], 0.9),
                    finding("off_hours", "10.0.0.1", &[], 0.5),
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
        // a volume deviation is judged on its top peer: a new site among the others is no corroboration
        let b = baseline(false, 5, &known, &us);
        let mut down = finding("volume_outlier", "10.0.0.1", &["8.8.8.8", "8.8.4.4"], 0.9);
        down.evidence
            .details
            .insert("metric".into(), serde_json::json!("down_bytes"));
        assert_eq!(
            corroboration(&down, &BTreeMap::new(), &b, &geo, &nets),
            None
        );
        down.peers.reverse();
        assert!(corroboration(&down, &BTreeMap::new(), &b, &geo, &nets).is_some());
        // another kind: every peer counts
        let beacon = finding("cnc_beacon", "10.0.0.1", &["8.8.8.8", "8.8.4.4"], 0.9);
        assert!(corroboration(&beacon, &BTreeMap::new(), &b, &geo, &nets).is_some());
    }
}
