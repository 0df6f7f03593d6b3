//! Per-host volume outliers: the fixture's 192.168.105.66 uploads ~10^5 times its hourly profile to one
//! external address between 01:00 and 04:00. Expected numbers come from `tests/oracle/notebook_oracle.py`
//! (pandas), not from flowhound.

use flowhound::baseline::learn;
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::{run, DetectCtx};
use flowhound::findings::Severity;
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::InternalNets;
use flowhound_geo::GeoStack;
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests");

fn read(name: &str) -> Vec<datafusion::arrow::record_batch::RecordBatch> {
    read_all(
        &[format!("{ROOT}/fixtures/outliers/{name}")],
        &ReadOptions::default(),
    )
    .unwrap()
    .0
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn exfiltrating_host_is_one_explained_finding() {
    let exp: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/oracle/notebook_expected.json")).unwrap(),
    )
    .unwrap();
    let o = &exp["exfil_host"];
    let (nb, tb) = (read("normal.parquet"), read("test.parquet"));
    let (nf, tf) = (
        Flows::from_batches(&nb).unwrap(),
        Flows::from_batches(&tb).unwrap(),
    );
    let (nets, geo, config) = (InternalNets::default(), GeoStack::new(), Config::default());
    let baseline = learn(&nf, &nets, &geo, &config.baseline, vec![], false).unwrap();
    let profile = baseline.hosts.get("192.168.105.66").unwrap();
    assert_eq!(
        profile.active_windows,
        o["normal_windows"].as_u64().unwrap()
    );
    assert!(close(
        profile.per_window.up_bytes.median,
        o["normal_median"].as_f64().unwrap()
    ));
    assert!(close(
        profile.per_window.up_bytes.p99,
        o["normal_p99"].as_f64().unwrap()
    ));
    let ctx = DetectCtx::new(&tb, &tf, &baseline, &geo, &nets, &config);
    let findings = run(&ctx, &config.analysis.detectors).unwrap();
    let mine: Vec<_> = findings
        .iter()
        .filter(|f| f.hosts == ["192.168.105.66"] && f.kind == "volume_outlier")
        .collect();
    assert_eq!(
        mine.len(),
        1,
        "one merged finding per host and kind: {mine:#?}"
    );
    let f = mine[0];
    assert_eq!(f.kind, "volume_outlier");
    assert_eq!(f.severity, Severity::Critical, "{f:#?}");
    assert_eq!(f.peers[0], o["peer"].as_str().unwrap());
    let e = &f.evidence;
    assert!(
        e.metric.starts_with("up_bytes per 3600 s window"),
        "{}",
        e.metric
    );
    assert_eq!(e.observed, o["test_peak_window"].as_f64().unwrap());
    let base = e.baseline.unwrap();
    assert!(
        close(base, o["normal_mean"].as_f64().unwrap())
            || close(base, o["normal_median"].as_f64().unwrap()),
        "{base}"
    );
    assert!(e.threshold.unwrap() > base && e.observed >= 100.0 * base);
    assert_eq!(e.details["reference"], "host");
    assert!(
        e.explanation.starts_with("uploaded ") && e.explanation.contains("to 45.142.212.61"),
        "{}",
        e.explanation
    );
    assert!(
        e.explanation.contains("between 01:")
            && e.explanation.contains("its normal hourly upload is"),
        "{}",
        e.explanation
    );
    assert!(
        f.detector.split(',').count() >= 2,
        "several detectors merged: {}",
        f.detector
    );
    assert!(f.flows >= 60 && f.flow_rows.len() as u64 == f.flows);
}

#[test]
fn self_learned_baseline_still_finds_the_host() {
    let tb = read("test.parquet");
    let tf = Flows::from_batches(&tb).unwrap();
    // the embedded geo database: on a self-learned baseline a critical finding needs a rare peer or
    // an unusual place, which needs located peers
    let geo = GeoStack::from_options(&[], &[], true).unwrap();
    let (nets, config) = (InternalNets::default(), Config::default());
    let baseline = learn(&tf, &nets, &geo, &config.baseline, vec![], true).unwrap();
    let ctx = DetectCtx::new(&tb, &tf, &baseline, &geo, &nets, &config);
    let findings = run(&ctx, &config.analysis.detectors).unwrap();
    let f = findings
        .iter()
        .find(|f| f.hosts == ["192.168.105.66"])
        .expect("the exfiltrating host is found");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.evidence.details["reference"], "population");
    assert!(
        f.evidence
            .explanation
            .contains("a host's normal hourly upload on this network is"),
        "{}",
        f.evidence.explanation
    );
}
