//! One incident, one finding. Detectors look at the same flows from different angles, so one bot can
//! raise a beacon, a reconnect-storm channel and an unusual country over the very same connections.
//! [`fold_incidents`] folds findings of the same host(s) that hold (almost) the same flows:
//!
//! - **A C&C channel is one channel.** A `cnc_beacon` and a `cnc_channel` finding over the same
//!   connections become one: `cnc_channel` when most of its connections failed (a reconnect storm:
//!   nothing is checked in, the bot is trying to reach its C&C), `cnc_beacon` when they carry data.
//! - **What a server sends its attackers is the attack.** An `exfiltration` finding whose flows are
//!   (almost) all held by an `inbound_attack` finding of the same host is the victim answering the
//!   attack's connections (a brute-forced login's banners and prompts): it becomes evidence of the
//!   attack, which stays the finding (and still says how much went out).
//! - **A spam run is not a scan.** A `port_scan` finding of a host with a `spam` finding becomes
//!   evidence of it when it is a horizontal scan whose busiest port is 25/tcp, or when the spam
//!   finding holds most of its flows: the delivery to many mail servers looks like a sweep of 25/tcp.
//! - **A flood to random ports is not a scan.** A `port_scan` finding whose flows are mostly held by
//!   a `dos` finding of the same host (a UDP flood spraying a target's ports) becomes its evidence.
//! - **A crowd against one server is one attack.** A `server_abuse` finding (one external client over
//!   a public server's normal) whose flows are (almost) all held by an `inbound_attack` finding on that
//!   server is one of the attack's sources: it is listed in the attack's
//!   `details.server_abuse_sources`, not reported once per source.
//! - **A place or a time is context, not an activity.** An `unusual_country` or `off_hours` finding
//!   whose flows are mostly held by another finding of the host (the C&C is in that country, the
//!   exfiltration ran at night) becomes evidence of that finding, when that finding is evidence
//!   enough on its own (medium or above); a low one (faint periodicity over a few visits) becomes
//!   evidence of the place instead.
//!
//! The folded finding keeps the higher score of the two, unites detectors, peers, flows and time
//! span, and carries the other's evidence in `other_evidence`.

use super::Finding;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Kinds that describe where or when, not what: folded into the finding that holds their flows.
pub const CONTEXT_KINDS: [&str; 2] = ["unusual_country", "off_hours"];
/// Share of each other's flows two activity findings must hold to be one incident.
pub const SAME_INCIDENT_SHARE: f64 = 0.9;
/// Share of a context finding's flows an activity must hold to explain it: most of them (the rest are
/// the host's stray visits to rare places, which alone would not be worth a finding).
pub const CONTEXT_HELD_SHARE: f64 = 0.5;
/// Share of failed connections that makes a C&C channel a reconnect storm rather than a beacon.
pub const STORM_FAILED_SHARE: f64 = 0.5;

/// Folds the findings that describe one incident (see the module docs); the order of the others is kept.
pub fn fold_incidents(findings: Vec<Finding>) -> Vec<Finding> {
    let mut by_hosts: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let mut hosts = f.hosts.clone();
        hosts.sort();
        by_hosts.entry(hosts).or_default().push(i);
    }
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    for group in by_hosts.values().filter(|g| g.len() > 1) {
        fold_group(&mut slots, group);
    }
    fold_crowds(&mut slots);
    slots.into_iter().flatten().collect()
}

/// Folds each `server_abuse` finding whose flows an `inbound_attack` on its server holds into that
/// attack (see the module docs).
fn fold_crowds(slots: &mut [Option<Finding>]) {
    let of_kind = |slots: &[Option<Finding>], k: &str| -> Vec<usize> {
        (0..slots.len())
            .filter(|&i| slots[i].as_ref().is_some_and(|f| f.kind == k))
            .collect()
    };
    let attacks = of_kind(slots, "inbound_attack");
    for i in of_kind(slots, "server_abuse") {
        let holder = attacks.iter().copied().find(|&a| {
            let (Some(sa), Some(ia)) = (&slots[i], &slots[a]) else {
                return false;
            };
            sa.peers.iter().any(|p| ia.hosts.contains(p))
                && share_held(sa, ia) >= SAME_INCIDENT_SHARE
        });
        if let Some(a) = holder {
            let source = slots[i].take().unwrap_or_default();
            if let Some(attack) = slots[a].as_mut() {
                add_crowd_source(attack, source);
            }
        }
    }
}

/// Lists a `server_abuse` finding's client among an `inbound_attack`'s sources.
fn add_crowd_source(attack: &mut Finding, source: Finding) {
    attack.score = attack.score.max(source.score);
    attack.detector = unite_detectors(&attack.detector, &source.detector);
    let details = &mut attack.evidence.details;
    if !details.contains_key("server_abuse_sources") {
        attack.evidence.explanation.push_str(
            "; sources that also broke the server's per-client normal (server_abuse) are listed in details.server_abuse_sources",
        );
    }
    let list = details
        .entry("server_abuse_sources")
        .or_insert_with(|| serde_json::json!([]));
    if let Some(v) = list.as_array_mut() {
        v.extend(source.hosts.into_iter().map(serde_json::Value::from));
    }
}

/// Folds within one group of findings of the same host(s).
fn fold_group(slots: &mut [Option<Finding>], group: &[usize]) {
    for &i in group {
        for &j in group {
            if i == j {
                continue;
            }
            let (Some(a), Some(b)) = (&slots[i], &slots[j]) else {
                continue;
            };
            if let Some(keep_first) = fold_order(a, b) {
                let (keep, gone) = if keep_first { (i, j) } else { (j, i) };
                let other = slots[gone].take().unwrap_or_default();
                if let Some(k) = slots[keep].as_mut() {
                    absorb(k, other);
                }
            }
        }
    }
}

/// Whether `a` and `b` are one incident, and if so whether `a` is the one kept (`Some(true)`).
fn fold_order(a: &Finding, b: &Finding) -> Option<bool> {
    if a.kind == b.kind {
        return None;
    }
    let channel = |f: &Finding| f.kind == "cnc_beacon" || f.kind == "cnc_channel";
    if channel(a) && channel(b) {
        if overlap(a, b) < SAME_INCIDENT_SHARE {
            return None;
        }
        let storm = if a.kind == "cnc_channel" { a } else { b };
        let failed = storm.evidence.details.get("failed_share");
        let is_storm = failed.and_then(|v| v.as_f64()).unwrap_or(0.0) >= STORM_FAILED_SHARE;
        return Some((a.kind == "cnc_channel") == is_storm);
    }
    match (a.kind.as_str(), b.kind.as_str()) {
        ("inbound_attack", "exfiltration") if share_held(b, a) >= SAME_INCIDENT_SHARE => {
            return Some(true)
        }
        ("exfiltration", "inbound_attack") if share_held(a, b) >= SAME_INCIDENT_SHARE => {
            return Some(false)
        }
        ("spam", "port_scan") if spam_run(b, a) => return Some(true),
        ("port_scan", "spam") if spam_run(a, b) => return Some(false),
        ("dos", "port_scan") if share_held(b, a) >= CONTEXT_HELD_SHARE => return Some(true),
        ("port_scan", "dos") if share_held(a, b) >= CONTEXT_HELD_SHARE => return Some(false),
        _ => {}
    }
    let context = |f: &Finding| CONTEXT_KINDS.contains(&f.kind.as_str());
    match (context(a), context(b)) {
        (false, true) if held_by(b, a) => Some(names_incident(a)),
        (true, false) if held_by(a, b) => Some(!names_incident(b)),
        _ => None,
    }
}

/// True when a `port_scan` finding is the run of a `spam` finding of the same host: a horizontal scan
/// whose busiest port is SMTP's (the windows it flags also hold the host's ordinary traffic), or
/// mostly the spam finding's flows.
fn spam_run(scan: &Finding, spam: &Finding) -> bool {
    let d = &scan.evidence.details;
    let text = |k: &str| d.get(k).and_then(|v| v.as_str());
    let smtp_sweep =
        text("scan_type") == Some("horizontal") && text("top_horizontal_port") == Some("25/tcp");
    smtp_sweep || share_held(scan, spam) >= CONTEXT_HELD_SHARE
}

/// Whether an activity finding names the incident a context finding of the same flows belongs to:
/// when it is evidence enough on its own for the default table (medium or above). Ten visits to a
/// rare country that happen to look faintly periodic (a low beacon) are the country's finding, with
/// the beacon as its other evidence, not a C&C raised to the country's score.
fn names_incident(activity: &Finding) -> bool {
    super::severity(activity.score) >= super::Severity::Medium
}

/// Share of the smaller finding's flows that the other holds (0 without flows).
fn overlap(a: &Finding, b: &Finding) -> f64 {
    let (small, big) = if a.flow_rows.len() <= b.flow_rows.len() {
        (a, b)
    } else {
        (b, a)
    };
    share_held(small, big)
}

/// True when `holder` holds more than [`CONTEXT_HELD_SHARE`] of `f`'s flows.
fn held_by(f: &Finding, holder: &Finding) -> bool {
    share_held(f, holder) > CONTEXT_HELD_SHARE
}

fn share_held(f: &Finding, holder: &Finding) -> f64 {
    if f.flow_rows.is_empty() {
        return 0.0;
    }
    let sorted: std::borrow::Cow<[u32]> = if holder.flow_rows.is_sorted() {
        (&holder.flow_rows[..]).into()
    } else {
        let mut v = holder.flow_rows.clone();
        v.sort_unstable();
        v.into()
    };
    let held = f
        .flow_rows
        .iter()
        .filter(|r| sorted.binary_search(r).is_ok())
        .count();
    held as f64 / f.flow_rows.len() as f64
}

/// The detectors of two comma-separated lists, united and sorted.
fn unite_detectors(a: &str, b: &str) -> String {
    let all: BTreeSet<&str> = a.split(',').chain(b.split(',')).collect();
    all.into_iter().collect::<Vec<_>>().join(",")
}

/// Folds `other` into `into`: the higher score, detectors, peers, flows, time span and enrichment
/// united, `other`'s evidence (and what it had folded) appended to `other_evidence`.
pub fn absorb(into: &mut Finding, other: Finding) {
    into.score = into.score.max(other.score);
    into.detector = unite_detectors(&into.detector, &other.detector);
    let mut seen: HashSet<String> = into.peers.iter().cloned().collect();
    for p in other.peers {
        if seen.insert(p.clone()) {
            into.peers.push(p);
        }
    }
    into.first_seen = super::min_opt(into.first_seen.take(), other.first_seen);
    into.last_seen = super::max_opt(into.last_seen.take(), other.last_seen);
    let mut rows: BTreeSet<u32> = into.flow_rows.iter().copied().collect();
    rows.extend(other.flow_rows);
    into.flows = into.flows.max(other.flows).max(rows.len() as u64);
    into.flow_rows = rows.into_iter().collect();
    into.evidence_at.extend(other.evidence_at);
    into.evidence_at.sort_unstable();
    into.evidence_at.dedup();
    into.other_evidence.push(other.evidence);
    into.other_evidence.extend(other.other_evidence);
    for (k, v) in other.enrichment {
        into.enrichment.entry(k).or_insert(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Evidence;
    use serde_json::{json, Value};

    fn f(kind: &str, score: f64, rows: std::ops::Range<u32>, failed_share: Option<f64>) -> Finding {
        let mut details = serde_json::Map::new();
        if let Some(s) = failed_share {
            details.insert("failed_share".into(), json!(s));
        }
        Finding {
            kind: kind.into(),
            detector: kind.into(),
            score,
            hosts: vec!["10.0.0.5".into()],
            peers: vec![format!("198.51.100.{}", rows.start % 200)],
            flow_rows: rows.collect(),
            evidence: Evidence {
                explanation: kind.into(),
                details,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_crowds_sources_fold_into_the_attack_on_their_server() {
        let attack = Finding {
            hosts: vec!["200.0.0.94".into()],
            ..f("inbound_attack", 0.9, 0..1000, None)
        };
        let source = |ip: &str, server: &str, rows: std::ops::Range<u32>| Finding {
            hosts: vec![ip.into()],
            peers: vec![server.into()],
            ..f("server_abuse", 0.5, rows, None)
        };
        let out = fold_incidents(vec![
            attack,
            source("1.1.1.1", "200.0.0.94", 10..50), // in the crowd
            source("2.2.2.2", "200.0.0.94", 990..1100), // mostly outside it: its own finding
            source("3.3.3.3", "200.0.0.25", 50..90), // flows held, but another server
            source("4.4.4.4", "200.0.0.94", 100..140), // in the crowd
        ]);
        let hosts: Vec<&str> = out.iter().map(|f| f.hosts[0].as_str()).collect();
        assert_eq!(hosts, ["200.0.0.94", "2.2.2.2", "3.3.3.3"]);
        let listed = &out[0].evidence.details["server_abuse_sources"];
        assert_eq!(listed, &json!(["1.1.1.1", "4.4.4.4"]));
        assert_eq!(out[0].detector, "inbound_attack,server_abuse");
        assert!(out[0].evidence.explanation.contains("server_abuse_sources"));
    }

    fn kinds(v: &[Finding]) -> Vec<(&str, f64)> {
        v.iter().map(|f| (f.kind.as_str(), f.score)).collect()
    }

    #[test]
    fn one_channel_one_finding() {
        // (beacon score, channel score, failed share, kept kind, kept score)
        let cases = [
            (0.5, 0.43, 1.0, "cnc_channel", 0.5),
            (0.7, 0.3, 0.1, "cnc_beacon", 0.7),
            (0.3, 0.6, 0.2, "cnc_beacon", 0.6),
        ];
        for (sb, sc, failed, kind, score) in cases {
            let out = fold_incidents(vec![
                f("cnc_beacon", sb, 0..300, None),
                f("cnc_channel", sc, 0..300, Some(failed)),
            ]);
            assert_eq!(kinds(&out), vec![(kind, score)], "{failed}");
            assert_eq!(out[0].detector, "cnc_beacon,cnc_channel");
            assert_eq!(out[0].other_evidence.len(), 1);
        }
        // different connections: two findings
        let apart = fold_incidents(vec![
            f("cnc_beacon", 0.5, 0..300, None),
            f("cnc_channel", 0.4, 1000..1300, Some(1.0)),
        ]);
        assert_eq!(apart.len(), 2);
    }

    #[test]
    fn context_folds_into_the_activity_that_holds_its_flows() {
        // 300 of 301 unusual-country flows are the storm's: one incident, even when the place scores higher
        let out = fold_incidents(vec![
            f("unusual_country", 0.79, 0..301, None),
            f("cnc_channel", 0.43, 0..300, Some(1.0)),
        ]);
        assert_eq!(kinds(&out), vec![("cnc_channel", 0.79)]);
        assert_eq!(out[0].flows, 301);
        // a low beacon (faint periodicity over a few visits) does not name it: the place does
        let faint = fold_incidents(vec![
            f("cnc_beacon", 0.28, 0..10, None),
            f("unusual_country", 0.67, 0..15, None),
        ]);
        assert_eq!(kinds(&faint), vec![("unusual_country", 0.67)]);
        assert_eq!(faint[0].other_evidence.len(), 1);
        assert_eq!(faint[0].detector, "cnc_beacon,unusual_country");
        // a country visited mostly apart from the activity stays its own finding
        let apart = fold_incidents(vec![
            f("unusual_country", 0.6, 0..100, None),
            f("exfiltration", 0.9, 50..400, None),
        ]);
        assert_eq!(apart.len(), 2);
        let most = fold_incidents(vec![
            f("unusual_country", 0.6, 0..100, None),
            f("exfiltration", 0.9, 40..400, None),
        ]);
        assert_eq!(kinds(&most), vec![("exfiltration", 0.9)]);
        assert_eq!(apart.len(), 2);
        // two context kinds never fold into each other; a finding without flows never folds
        let ctx = fold_incidents(vec![
            f("unusual_country", 0.6, 0..100, None),
            f("off_hours", 0.5, 0..100, None),
            f("dos", 0.5, 0..0, None),
        ]);
        assert_eq!(ctx.len(), 3);
    }

    #[test]
    fn uploads_to_the_attackers_fold_into_the_attack() {
        // the victim's answers to the brute force: the same flows
        let out = fold_incidents(vec![
            f("exfiltration", 0.41, 0..1000, None),
            f("inbound_attack", 0.94, 0..1000, None),
        ]);
        assert_eq!(kinds(&out), vec![("inbound_attack", 0.94)]);
        assert_eq!(out[0].other_evidence.len(), 1);
        assert_eq!(out[0].detector, "exfiltration,inbound_attack");
        // uploads mostly elsewhere stay an exfiltration of their own
        let apart = fold_incidents(vec![
            f("inbound_attack", 0.94, 0..1000, None),
            f("exfiltration", 0.8, 850..2000, None),
        ]);
        assert_eq!(apart.len(), 2);
    }

    #[test]
    fn a_spam_run_is_not_a_scan() {
        // (spam rows, scan rows, kept kinds): the scan folds when the spam holds most of its flows
        let smtp = json!({"scan_type": "horizontal", "top_horizontal_port": "25/tcp"});
        let other = json!({"scan_type": "horizontal", "top_horizontal_port": "445/tcp"});
        let both = json!({"scan_type": "vertical+horizontal", "top_horizontal_port": "25/tcp"});
        type Case<'a> = (
            std::ops::Range<u32>,
            std::ops::Range<u32>,
            &'a Value,
            &'a [&'a str],
        );
        let cases: [Case; 5] = [
            (0..6667, 0..7514, &other, &["spam"]),
            (0..280, 200..300, &other, &["spam"]),
            (0..280, 250..400, &smtp, &["spam"]), // its busiest port is SMTP's
            (0..280, 250..400, &other, &["spam", "port_scan"]), // a scan of its own
            (0..280, 250..400, &both, &["spam", "port_scan"]), // it probed ports of hosts too
        ];
        for (spam, scan, details, want) in cases {
            let mut scan_f = f("port_scan", 0.72, scan.clone(), None);
            scan_f.evidence.details = details.as_object().unwrap().clone();
            let out = fold_incidents(vec![f("spam", 0.87, spam.clone(), None), scan_f]);
            let got: Vec<&str> = out.iter().map(|f| f.kind.as_str()).collect();
            assert_eq!(got, want, "{spam:?} {scan:?}");
            assert_eq!(out[0].score, 0.87);
        }
    }

    #[test]
    fn a_flood_to_random_ports_is_not_a_scan() {
        // (flood rows, scan rows, kept kinds)
        let cases: [(std::ops::Range<u32>, std::ops::Range<u32>, &[&str]); 2] = [
            (0..900, 0..1000, &["dos"]),
            (0..300, 200..1000, &["dos", "port_scan"]), // a scan beside a small flood
        ];
        for (flood, scan, want) in cases {
            let out = fold_incidents(vec![
                f("dos", 0.8, flood.clone(), None),
                f("port_scan", 0.85, scan.clone(), None),
            ]);
            let got: Vec<&str> = out.iter().map(|f| f.kind.as_str()).collect();
            assert_eq!(got, want, "{flood:?} {scan:?}");
            assert_eq!(out[0].score, if want.len() == 1 { 0.85 } else { 0.8 });
        }
    }

    #[test]
    fn other_hosts_never_fold() {
        let mut b = f("cnc_channel", 0.4, 0..300, Some(1.0));
        b.hosts = vec!["10.0.0.6".into()];
        let out = fold_incidents(vec![f("cnc_beacon", 0.5, 0..300, None), b]);
        assert_eq!(out.len(), 2);
    }
}
