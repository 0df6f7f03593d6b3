//! `port_scan` on real captures (skipped when ../shared/testdata is absent): the nmap capture's scanner
//! 172.16.1.11 is found with every detector running, and the Slips horizontal and vertical scan logs are
//! classified as such. The ground truth is the capture authors' (README of the data set).

mod common;
use common::testdata;

use flowhound::baseline::learn;
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::{run, DetectCtx};
use flowhound::findings::Finding;
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::InternalNets;
use flowhound_geo::GeoStack;

/// Analyses one capture alone (self-learned baseline) with the given detectors (all when empty).
fn analyse(rel: &str, detectors: &[&str]) -> Option<Vec<Finding>> {
    let path = testdata(module_path!())?.join(rel);
    let batches = read_all(&[path.display().to_string()], &ReadOptions::default())
        .unwrap()
        .0;
    let flows = Flows::from_batches(&batches).unwrap();
    let (nets, geo, config) = (
        InternalNets::default(),
        GeoStack::from_options(&[], &[], true).unwrap(),
        Config::default(),
    );
    let baseline = learn(&flows, &nets, &geo, &config.baseline, vec![], true).unwrap();
    let ctx = DetectCtx::new(&batches, &flows, &baseline, &geo, &nets, &config);
    let names: Vec<String> = if detectors.is_empty() {
        config.analysis.detectors.clone()
    } else {
        detectors.iter().map(|s| s.to_string()).collect()
    };
    Some(run(&ctx, &names).unwrap())
}

fn scans(findings: &[Finding]) -> Vec<&Finding> {
    findings.iter().filter(|f| f.kind == "port_scan").collect()
}

#[test]
fn nmap_scanner_is_found() {
    let Some(all) = analyse("zeek/strato-002-nmap-portscans/conn.log", &[]) else {
        return;
    };
    let s = scans(&all);
    for f in &s {
        println!(
            "{} {:.3} {:?} {}",
            f.id, f.score, f.hosts, f.evidence.explanation
        );
    }
    let f = s
        .iter()
        .find(|f| f.hosts == ["172.16.1.11"])
        .expect("a port_scan finding for 172.16.1.11");
    assert!(
        f.severity >= flowhound::findings::Severity::High,
        "{:?}",
        f.severity
    );
    assert!(f.evidence.details["targets_count"].as_u64().unwrap() >= 20);
    assert!(f.evidence.details["ports_count"].as_u64().unwrap() >= 100);
    assert_eq!(s.len(), 1, "only the scanner");
}

#[test]
fn slips_horizontal_scan_is_horizontal() {
    let Some(all) = analyse("zeek/slips-port-scans/horizontal-conn.log", &["port_scan"]) else {
        return;
    };
    let s = scans(&all);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(s[0].hosts, ["10.0.2.112"]);
    assert_eq!(
        s[0].evidence.details["scan_type"], "horizontal",
        "{}",
        s[0].evidence.explanation
    );
    assert_eq!(s[0].evidence.details["top_horizontal_port"], "80/tcp");
}

#[test]
fn slips_vertical_scan_is_vertical() {
    let Some(all) = analyse("zeek/slips-port-scans/vertical-conn.log", &["port_scan"]) else {
        return;
    };
    let s = scans(&all);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(s[0].hosts, ["192.168.1.9"]);
    assert_eq!(
        s[0].evidence.details["scan_type"], "vertical",
        "{}",
        s[0].evidence.explanation
    );
    assert_eq!(s[0].evidence.details["top_vertical_target"], "45.33.32.156");
}
