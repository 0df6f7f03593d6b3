//! The behavioural detectors on real captures from `../shared/testdata` with a baseline learned
//! robustly from the capture itself (single-capture mode): they run without error, `off_hours` stays
//! low, and the NjRAT capture's C&C host is blamed by `unusual_country`. Skipped when absent.

use flowhound::baseline::learn;
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::{run, DetectCtx};
use flowhound::findings::{Finding, Severity};
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::InternalNets;
use flowhound_geo::GeoStack;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata");

const CAPTURES: [&str; 6] = [
    "zeek/strato-001-njrat-cc/conn.log.labeled",
    "zeek/strato-002-nmap-portscans/conn.log",
    "zeek/strato-008-ctu-normal-40/conn.log.labeled",
    "zeek/slips-test9-mixed/conn.log",
    "binetflow/test5-mixed.binetflow",
    "binetflow/test2-malicious.binetflow",
];

const MINE: [&str; 5] = [
    "exfiltration",
    "unusual_country",
    "dns_anomaly",
    "server_abuse",
    "off_hours",
];

fn analyze(path: &str) -> Vec<Finding> {
    let batches = read_all(&[path.to_string()], &ReadOptions::default())
        .unwrap()
        .0;
    let flows = Flows::from_batches(&batches).unwrap();
    let (nets, config) = (InternalNets::default(), Config::default());
    let geo = GeoStack::from_options(&[], &[], true).unwrap();
    let baseline = learn(
        &flows,
        &nets,
        &geo,
        &config.baseline,
        vec![path.into()],
        true,
    )
    .unwrap();
    let ctx = DetectCtx::new(&batches, &flows, &baseline, &geo, &nets, &config);
    run(&ctx, &MINE.map(String::from)).unwrap()
}

#[test]
#[ignore = "written at the end of the session and not yet run (build lock contention); run with --ignored"]
fn real_captures_single_capture_mode() {
    if !std::path::Path::new(DATA).exists() {
        eprintln!("skipped: {DATA} is absent (real third-party captures)");
        return;
    }
    for c in CAPTURES {
        let path = format!("{DATA}/{c}");
        if !std::path::Path::new(&path).exists() {
            eprintln!("skipped: {path} is absent");
            continue;
        }
        let findings = analyze(&path);
        eprintln!("{c}: {} findings", findings.len());
        for f in findings.iter().take(8) {
            eprintln!(
                "  {} {:?} {:.2} {:?}: {}",
                f.kind, f.hosts, f.score, f.severity, f.evidence.explanation
            );
        }
        for f in findings.iter().filter(|f| f.kind == "off_hours") {
            assert_eq!(f.severity, Severity::Low, "{f:#?}");
        }
        if c.contains("njrat") {
            let f = findings
                .iter()
                .find(|f| f.kind == "unusual_country" && f.hosts == ["192.168.1.115"]);
            let f =
                f.unwrap_or_else(|| panic!("no unusual_country for the NjRAT host: {findings:#?}"));
            assert!(
                f.peers.iter().any(|p| p == "41.108.179.197"),
                "{:?}",
                f.peers
            );
        }
    }
}
