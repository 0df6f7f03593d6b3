//! Conformance against real traffic: the answers recorded in real Zeek
//! dns.log files (third-party captures in /work/shared/testdata) are
//! replayed by a loopback hickory-server, every recorded query is resolved
//! through flowhound's resolver, and the outcome must match what Zeek logged
//! (status, answer data, TTLs). Skipped when the test data is absent.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flowhound_dns::{sanitize_for_terminal, DnsConfig, Outcome, RecordKind, Resolver};
use hickory_server::proto::rr::rdata::{A, AAAA, PTR, TXT};
use hickory_server::proto::rr::{RData, Record};
use hickory_server::zone_handler::Catalog;
use serde_json::Value;

const LOGS: [&str; 3] = [
    "zeek/parsezeeklogs/c2_dns_txt/json/dns.log",
    "zeek/zat/json/dns.log",
    "zeek/slips-test9-mixed/dns.log",
];

/// What Zeek saw for one (name, type): the expected outcome.
#[derive(Clone, Debug)]
enum Seen {
    /// Answer data (names with trailing dot) and TTLs.
    Answers(Vec<(String, u32)>),
    NoData,
    NxDomain,
    ServFail,
}

fn testdata() -> Option<PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ));
    dir.is_dir().then(|| dir.to_path_buf())
}

/// First observation per (lower-case fqdn, kind) from JSON dns.log lines.
fn observations(dir: &Path) -> HashMap<(String, RecordKind), Seen> {
    let mut seen = HashMap::new();
    for log in LOGS {
        let text = std::fs::read_to_string(dir.join(log)).expect("read dns.log");
        for line in text.lines().filter(|l| l.starts_with('{')) {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if let Some((key, s)) = observation(&v) {
                seen.entry(key).or_insert(s);
            }
        }
    }
    seen
}

/// One log entry as ((name, kind), outcome), for the types and codes replayed.
fn observation(v: &Value) -> Option<((String, RecordKind), Seen)> {
    let kind = match v["qtype_name"].as_str()? {
        "A" => RecordKind::A,
        "AAAA" => RecordKind::Aaaa,
        "PTR" => RecordKind::Ptr,
        "TXT" => RecordKind::Txt,
        _ => return None,
    };
    let name = format!("{}.", v["query"].as_str()?.to_ascii_lowercase());
    let seen = match v["rcode_name"].as_str()? {
        "NXDOMAIN" => Seen::NxDomain,
        "SERVFAIL" => Seen::ServFail,
        "NOERROR" => answers(v, kind)?,
        _ => return None,
    };
    Some(((name, kind), seen))
}

/// The answers of a NOERROR entry in flowhound's presentation form; None
/// when they cannot be replayed unambiguously (CNAME chains, multi-string TXT).
fn answers(v: &Value, kind: RecordKind) -> Option<Seen> {
    let (Some(list), Some(ttls)) = (v["answers"].as_array(), v["TTLs"].as_array()) else {
        return Some(Seen::NoData);
    };
    if list.len() != ttls.len() {
        return None;
    }
    let mut out = Vec::new();
    for (a, t) in list.iter().zip(ttls) {
        let data = answer_data(a.as_str()?, kind)?;
        out.push((data, t.as_f64()? as u32));
    }
    Some(if out.is_empty() {
        Seen::NoData
    } else {
        Seen::Answers(out)
    })
}

/// One Zeek answer string converted to flowhound's `data`.
fn answer_data(a: &str, kind: RecordKind) -> Option<String> {
    match kind {
        RecordKind::A | RecordKind::Aaaa => {
            let ip: IpAddr = a.parse().ok()?;
            (ip.is_ipv4() == (kind == RecordKind::A)).then(|| ip.to_string())
        }
        RecordKind::Ptr => (!a.contains(['\\', ' '])).then(|| format!("{a}.")),
        RecordKind::Txt => {
            // Zeek writes "TXT <byte length> <text>".
            let rest = a.strip_prefix("TXT ")?;
            let (len, text) = rest.split_once(' ')?;
            (len.parse::<usize>().ok()? == text.len() && !text.contains('\\'))
                .then(|| text.to_string())
        }
        _ => None,
    }
}

/// Wire records for an answer set.
fn records(name: &str, kind: RecordKind, answers: &[(String, u32)]) -> Vec<Record> {
    let owner = common::name(name);
    answers
        .iter()
        .map(|(data, ttl)| {
            let rdata = match kind {
                RecordKind::A => RData::A(A(data.parse().expect("checked"))),
                RecordKind::Aaaa => RData::AAAA(AAAA(data.parse().expect("checked"))),
                RecordKind::Ptr => RData::PTR(PTR(common::name(data))),
                _ => RData::TXT(TXT::new(vec![data.clone()])),
            };
            Record::from_rdata(owner.clone(), *ttl, rdata)
        })
        .collect()
}

/// Keeps negative expectations the replayed zone can reproduce: NXDOMAIN
/// only for names with no records at or below them, NODATA only for names
/// that exist (records of another type, or below them).
fn drop_conflicts(seen: &mut HashMap<(String, RecordKind), Seen>) {
    let owners: HashSet<String> = seen
        .iter()
        .filter(|(_, s)| matches!(s, Seen::Answers(_)))
        .map(|((n, _), _)| n.clone())
        .collect();
    let exists = |n: &str| {
        let suffix = format!(".{n}");
        owners.contains(n) || owners.iter().any(|o| o.ends_with(&suffix))
    };
    seen.retain(|(n, _), s| match s {
        Seen::NxDomain => !exists(n),
        Seen::NoData => exists(n),
        Seen::Answers(_) | Seen::ServFail => true,
    });
}

/// A root zone holding every recorded answer, and the SERVFAIL set.
fn replay(seen: &HashMap<(String, RecordKind), Seen>) -> (Catalog, HashSet<(String, String)>) {
    let mut recs = Vec::new();
    let mut servfail = HashSet::new();
    for ((name, kind), s) in seen {
        match s {
            Seen::Answers(a) => recs.extend(records(name, *kind, a)),
            Seen::ServFail => {
                servfail.insert((name.clone(), kind.as_str().to_string()));
            }
            Seen::NoData | Seen::NxDomain => {}
        }
    }
    let mut catalog = Catalog::new();
    let (origin, zone) = common::zone(".", recs);
    catalog.upsert(origin, vec![zone]);
    (catalog, servfail)
}

/// Checks one outcome against the log.
fn check(name: &str, kind: RecordKind, want: &Seen, got: &Outcome) {
    match (want, got) {
        (Seen::Answers(w), Outcome::Answer(g)) => {
            let mut w = w.clone();
            let mut g: Vec<(String, u32)> = g.iter().map(|a| (a.data.clone(), a.ttl)).collect();
            w.sort();
            g.sort();
            assert_eq!(g, w, "{name} {kind}");
        }
        (Seen::NoData, Outcome::NoData)
        | (Seen::NxDomain, Outcome::NxDomain)
        | (Seen::ServFail, Outcome::ServFail) => {}
        _ => panic!("{name} {kind}: expected {want:?}, got {got:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_zeek_dns_logs_resolve_as_recorded() {
    let Some(dir) = testdata() else {
        println!("skipped: ../shared/testdata not found (real Zeek dns.log files)");
        return;
    };
    let mut seen = observations(&dir);
    drop_conflicts(&mut seen);
    let (catalog, servfail) = replay(&seen);
    let server = common::start_with(catalog, servfail, Duration::from_secs(1)).await;
    let resolver = Resolver::new(DnsConfig::with_nameservers(vec![server.addr])).unwrap();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for ((name, kind), want) in &seen {
        let got = resolver.resolve(name, *kind).await;
        check(name, *kind, want, &got);
        for a in got.answers() {
            let shown = sanitize_for_terminal(&a.data);
            assert!(shown.chars().all(|c| !c.is_control()));
        }
        *counts
            .entry(format!("{kind} {}", got.status()))
            .or_default() += 1;
    }
    println!("replayed {} real queries: {counts:?}", seen.len());
    // The captures hold all four kinds of result.
    for case in ["A ok", "PTR ok", "TXT ok", "PTR nxdomain", "TXT servfail"] {
        assert!(counts.get(case).copied().unwrap_or(0) > 0, "no {case} case");
    }
}
