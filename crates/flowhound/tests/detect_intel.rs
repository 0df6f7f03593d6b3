//! `threat_intel` on a small committed conn.log and blocklist fixtures in each format
//! (`tests/fixtures/intel/`: plain IP/CIDR, Spamhaus DROP, CSV with a header, a FireHOL netset that
//! holds the bogons). The expected matches are worked out by hand from the fixtures.

mod common;

use common::fixture;
use flowhound::baseline::learn;
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::{run, DetectCtx};
use flowhound::findings::{Finding, Severity};
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::InternalNets;
use flowhound_geo::GeoStack;

const LISTS: [&str; 4] = [
    "intel/plain.txt",
    "intel/drop.txt",
    "intel/feodo.csv",
    "intel/firehol_level1.netset",
];

fn findings(lists: &[&str], extra: &str) -> flowhound::error::Result<Vec<Finding>> {
    let path = fixture("intel/conn.log");
    let batches = read_all(std::slice::from_ref(&path), &ReadOptions::default())
        .unwrap()
        .0;
    let flows = Flows::from_batches(&batches).unwrap();
    let nets = InternalNets::default();
    let geo = GeoStack::new();
    let files: Vec<String> = lists
        .iter()
        .map(|l| format!("\"{}\"", fixture(l)))
        .collect();
    let toml = format!(
        "[analysis]\nmin_severity = \"low\"\n[detectors.threat_intel]\nfiles = [{}]\n{extra}",
        files.join(", ")
    );
    let config = Config::from_toml(&toml, "test").unwrap();
    let baseline = learn(&flows, &nets, &geo, &config.baseline, vec![path], true).unwrap();
    let ctx = DetectCtx::new(&batches, &flows, &baseline, &geo, &nets, &config);
    run(&ctx, &["threat_intel".to_string()])
}

fn lists_of(f: &Finding) -> Vec<String> {
    let mut v: Vec<String> = f.evidence.details["matches"][0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}={}",
                m["list"].as_str().unwrap(),
                m["entry"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_format_matches_and_severity_follows_the_exchange() {
    let got = findings(&LISTS, "").unwrap();
    let by_host = |h: &str| {
        got.iter()
            .find(|f| f.hosts == [h])
            .unwrap_or_else(|| panic!("no finding for {h}: {got:#?}"))
    };
    // data exchanged both ways with a listed address: high, named by the plain list and DROP
    let f = by_host("192.168.1.20");
    assert_eq!(
        (f.kind.as_str(), f.severity, f.flows),
        ("threat_intel", Severity::High, 2)
    );
    assert_eq!(f.peers, ["45.9.148.3"]);
    assert_eq!(lists_of(f), ["drop=45.9.148.0/22", "plain=45.9.148.3"]);
    assert!(
        f.evidence.explanation.contains("SBL483123"),
        "{}",
        f.evidence.explanation
    );
    // the host's own unanswered attempts: medium; CSV (header skipped) and FireHOL
    let f = by_host("192.168.1.21");
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(
        lists_of(f),
        ["feodo=91.215.85.209", "firehol_level1=91.215.85.0/24"]
    );
    assert!(
        f.evidence.explanation.contains("QakBot"),
        "{}",
        f.evidence.explanation
    );
    // a listed scanner refused: low
    assert_eq!(by_host("192.168.1.22").severity, Severity::Low);
    // IPv6 entry of the plain list, exchange: high
    let f = by_host("fd00::25");
    assert_eq!(
        (f.severity, lists_of(f)),
        (Severity::High, vec!["plain=2a0e:1c80::/29".to_string()])
    );
    // the bogons of FireHOL (10/8 internal, 224/3 multicast) never match; 8.8.8.8 is not listed
    assert_eq!(got.len(), 4, "{got:#?}");
}

#[test]
fn bad_lines_stop_with_file_line_and_fix_or_are_skipped() {
    let e = findings(&["intel/bad.txt"], "").unwrap_err().to_string();
    assert!(
        e.contains("bad.txt: line 3: '45.9.148.300' is not an IP address")
            && e.contains("skip_bad_lines = true"),
        "{e}"
    );
    let got = findings(&["intel/bad.txt"], "skip_bad_lines = true\n").unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].evidence.details["lists"][0]["skipped_lines"], 1);
    let e = findings(&["intel/absent.txt"], "").unwrap_err().to_string();
    assert!(e.contains("absent.txt") && e.contains("--intel"), "{e}");
}

#[test]
fn no_lists_no_findings() {
    assert!(findings(&[], "").unwrap().is_empty());
}
