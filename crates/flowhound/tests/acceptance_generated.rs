//! Acceptance on generated data (issue 6): five seeds with default scenarios and decoys on, the
//! baseline learned from `normal.parquet`, detectors run on `test.parquet` + `servers.parquet`, scored
//! with `flowhound_gen::evaluate` against the generator's ground truth: host-level recall 1.0 for every
//! scenario kind, overall precision >= 0.9, no decoy at severity high or above.

mod detect_support;

use detect_support::{dataset, eval_doc};
use flowhound::findings::Severity;

/// Seeds checked.
const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];
/// Normal flows per seed (test: half, servers: a quarter): small enough for a debug build.
const FLOWS_NORMAL: u64 = 40_000;

/// Scenario kind -> the detector that must find it.
const OWNERS: [(&str, &str); 7] = [
    ("botnet", "botnet"),
    ("cnc_beacon", "cnc_beacon"),
    ("exfiltration", "exfiltration"),
    ("dns_tunnel", "dns_anomaly"),
    ("port_scan", "port_scan"),
    ("unusual_country", "unusual_country"),
    ("server_abuse", "server_abuse"),
];

/// The behavioural detectors of this test's first half.
const BEHAVIOURAL: [&str; 5] = [
    "exfiltration",
    "unusual_country",
    "dns_anomaly",
    "server_abuse",
    "off_hours",
];

/// Runs `names` (every registered detector when empty) on the five seeds; returns the failed checks.
/// Recall is asserted for the scenario kinds whose owning detector ran.
fn check(names: &[&str]) -> Vec<String> {
    let mut failures = Vec::new();
    for seed in SEEDS {
        let t0 = std::time::Instant::now();
        let d = dataset(seed, FLOWS_NORMAL);
        let findings = d.run(names);
        let ran = |det: &str| {
            if names.is_empty() {
                flowhound::detect::find(det).is_some()
            } else {
                names.contains(&det)
            }
        };
        let asserted: Vec<&str> = OWNERS
            .iter()
            .filter(|(_, det)| ran(det))
            .map(|(k, _)| *k)
            .collect();
        let eval = flowhound_gen::evaluate(&d.truth, &eval_doc(&findings));
        eprintln!(
            "seed {seed}: {} findings in {:.1} s\n{}",
            findings.len(),
            t0.elapsed().as_secs_f64(),
            eval.render_text()
        );
        for k in eval
            .per_kind
            .iter()
            .filter(|k| asserted.contains(&k.kind.name()))
        {
            if k.recall != Some(1.0) {
                failures.push(format!(
                    "seed {seed}: {} recall {:?}, missed {:?}",
                    k.kind.name(),
                    k.recall,
                    k.missed
                ));
            }
        }
        let scenario_hosts = d.all_scenario_hosts();
        for f in findings
            .iter()
            .filter(|f| !f.hosts.iter().all(|h| scenario_hosts.contains(h)))
        {
            eprintln!(
                "  not a scenario host: {} {:?} {:.2}: {}",
                f.kind, f.hosts, f.score, f.evidence.explanation
            );
        }
        let precision = eval.totals.precision.unwrap_or(0.0);
        if precision < 0.9 {
            failures.push(format!(
                "seed {seed}: precision {precision:.3}, false positives {:?}",
                eval.false_positives
            ));
        }
        let decoys = d.decoy_hosts();
        for f in findings
            .iter()
            .filter(|f| f.severity >= Severity::High && f.hosts.iter().any(|h| decoys.contains(h)))
        {
            failures.push(format!(
                "seed {seed}: decoy {:?} in a {:?} {} finding ({})",
                f.hosts, f.severity, f.kind, f.evidence.explanation
            ));
        }
    }
    failures
}

#[test]
fn behavioural_detectors_on_five_seeds() {
    let failures = check(&BEHAVIOURAL);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The acceptance with every registered detector, default settings: the volume detectors'
/// heavy-tail guard (baseline `relative_tail`) is what keeps `volume_outlier` off ordinary hosts.
#[test]
fn all_registered_detectors_on_five_seeds() {
    for (kind, det) in OWNERS {
        if flowhound::detect::find(det).is_none() {
            eprintln!("TODO: detector '{det}' for kind '{kind}' is not registered yet; its recall is not asserted");
        }
    }
    let failures = check(&[]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
