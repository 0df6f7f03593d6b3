//! Every registered detector on real captures from `../shared/testdata`, with the baseline learned
//! robustly from the capture itself (single-capture mode). Checks: no errors; `off_hours` stays low;
//! on NjRAT the C&C host is blamed by a C&C finding with its Algerian peer named, and its chatty
//! but ordinary DNS is not called a tunnel; on CTU-Normal-40 the hosts behind the `Malicious` label
//! (read from the raw log, not through flowhound) rank above the benign ones. Skipped when absent.

mod common;

use common::testdata;
use flowhound::baseline::learn;
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::{run, DetectCtx, REGISTRY};
use flowhound::findings::{host_ranking, Finding, Severity};
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::{Cidr, InternalNets};
use flowhound_geo::GeoStack;
use std::collections::BTreeSet;

const CAPTURES: [&str; 5] = [
    "zeek/strato-001-njrat-cc/conn.log.labeled",
    "zeek/strato-002-nmap-portscans/conn.log",
    "zeek/slips-test9-mixed/conn.log",
    "binetflow/test5-mixed.binetflow",
    "binetflow/test2-malicious.binetflow",
];

/// CTU-Normal-40: one Windows PC on a public address, attacked from the Internet.
const CTU40: &str = "zeek/strato-008-ctu-normal-40/conn.log.labeled";
const CTU40_HOST: &str = "147.32.81.167";

/// The capture's path, or None (after a "skipped" line) when the shared data or the file is absent.
fn path_of(c: &str) -> Option<String> {
    let path = testdata(c)?.join(c);
    if path.is_file() {
        Some(path.display().to_string())
    } else {
        eprintln!("skipped: {} is absent", path.display());
        None
    }
}

fn analyze(path: &str, nets: &InternalNets, config: &Config) -> Vec<Finding> {
    let batches = read_all(&[path.to_string()], &ReadOptions::default())
        .unwrap()
        .0;
    let flows = Flows::from_batches(&batches).unwrap();
    let geo = GeoStack::from_options(&[], &[], true).unwrap();
    let baseline = learn(
        &flows,
        nets,
        &geo,
        &config.baseline,
        vec![path.into()],
        true,
    )
    .unwrap();
    let ctx = DetectCtx::new(&batches, &flows, &baseline, &geo, nets, config);
    let all: Vec<String> = REGISTRY.iter().map(|d| d.name().to_string()).collect();
    let findings = run(&ctx, &all).unwrap();
    eprintln!("{path}: {} findings", findings.len());
    for f in findings.iter().take(10) {
        eprintln!(
            "  {} {:?} {:.2} {:?}: {}",
            f.kind, f.hosts, f.score, f.severity, f.evidence.explanation
        );
    }
    findings
}

#[test]
fn real_captures_single_capture_mode() {
    for c in CAPTURES {
        let Some(path) = path_of(c) else { continue };
        let findings = analyze(&path, &InternalNets::default(), &Config::default());
        for f in findings.iter().filter(|f| f.kind == "off_hours") {
            assert_eq!(f.severity, Severity::Low, "{f:#?}");
        }
        if c.contains("njrat") {
            // one device: rarity among hosts means nothing, so the C&C must be named by a C&C finding
            let f = findings.iter().find(|f| {
                matches!(f.kind.as_str(), "cnc_beacon" | "cnc_channel")
                    && f.hosts == ["192.168.1.115"]
            });
            let f = f.unwrap_or_else(|| panic!("no C&C finding for the NjRAT host: {findings:#?}"));
            assert!(
                f.peers.iter().any(|p| p == "41.108.179.197"),
                "the zero-byte C&C peer (237 flows) is named: {:?}",
                f.peers
            );
            let tunnels: Vec<_> = findings.iter().filter(|f| f.kind == "dns_tunnel").collect();
            assert!(
                tunnels.is_empty(),
                "331 regular 35-byte lookups are not a tunnel: {tunnels:#?}"
            );
        }
    }
}

/// `(label, source address)` of every data line of a labelled Zeek TSV conn.log.
fn zeek_labels(path: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut fields: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("#fields\t") {
            fields = h.split('\t').collect();
        } else if !line.starts_with('#') && !line.is_empty() {
            let v: Vec<&str> = line.split('\t').collect();
            let col = |name: &str| fields.iter().position(|f| *f == name).map(|i| v[i]);
            out.push((
                col("label").unwrap().into(),
                col("id.orig_h").unwrap().into(),
            ));
        }
    }
    out
}

#[test]
fn ctu_normal_40_ranks_malicious_hosts_first() {
    let Some(path) = path_of(CTU40) else { return };
    let labels = zeek_labels(&path);
    let set = |l: &str| -> BTreeSet<String> {
        labels
            .iter()
            .filter(|(x, _)| x == l)
            .map(|(_, s)| s.clone())
            .collect()
    };
    let (malicious, benign) = (set("Malicious"), set("Benign"));
    assert_eq!(benign, BTreeSet::from([CTU40_HOST.to_string()]));
    assert!(malicious.len() > 100, "{}", malicious.len());
    let nets = InternalNets::new(vec![Cidr::parse(&format!("{CTU40_HOST}/32")).unwrap()]);
    let toml = format!("[detectors.server_abuse]\npublic_ranges = [\"{CTU40_HOST}/32\"]\n");
    let config = Config::from_toml(&toml, "test config").unwrap();
    let findings = analyze(&path, &nets, &config);
    // inbound_attack names the attacked host (the victim) in `hosts` and its attackers as peers:
    // it is not a verdict on the host, so the culprit ranking leaves it out
    let attack: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.kind == "inbound_attack")
        .collect();
    assert_eq!(attack.len(), 1, "{attack:#?}");
    assert_eq!(attack[0].hosts, [CTU40_HOST]);
    assert!(attack[0].peers.iter().all(|p| malicious.contains(p)));
    // the attackers that also broke the PC's per-client normal (server_abuse, with public_ranges set)
    // are the attack's sources: listed in it, not reported one finding per source
    let listed: Vec<String> = attack[0].evidence.details["server_abuse_sources"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert!(listed.len() >= 3, "attackers listed: {listed:?}");
    assert!(listed.iter().all(|s| malicious.contains(s)), "{listed:?}");
    let culprits: Vec<Finding> = findings
        .into_iter()
        .filter(|f| f.kind != "inbound_attack")
        .collect();
    let ranking = host_ranking(&culprits);
    eprintln!("host ranking: {ranking:#?}");
    let pos = |set: &BTreeSet<String>| -> Vec<usize> {
        (0..ranking.len())
            .filter(|i| set.contains(&ranking[*i].host))
            .collect()
    };
    let (bad, good) = (pos(&malicious), pos(&benign));
    let first_good = good.first().copied().unwrap_or(usize::MAX);
    assert!(
        bad.iter().all(|b| *b < first_good),
        "malicious at {bad:?}, benign at {good:?}"
    );
}
