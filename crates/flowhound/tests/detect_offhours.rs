//! `off_hours`: the Poisson tail against scipy (`tests/oracle/poisson_sf_oracle.py`), and end to end on
//! generated data (findings stay low; the always-on decoys are not reported).

mod detect_support;

use detect_support::dataset;
use flowhound::detect::off_hours::poisson_sf;
use flowhound::findings::Severity;

#[test]
fn poisson_tail_matches_scipy() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/oracle/poisson_sf_expected.json"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for c in v["cases"].as_array().unwrap() {
        let (k, lam, want) = (
            c["k"].as_u64().unwrap(),
            c["lam"].as_f64().unwrap(),
            c["sf"].as_f64().unwrap(),
        );
        let got = poisson_sf(k, lam);
        assert!(
            (got - want).abs() <= 1e-9 * want.max(1e-300) || (got - want).abs() < 1e-15,
            "k={k} lam={lam}: {got} vs scipy {want}"
        );
    }
}

#[test]
fn off_hours_findings_stay_low_and_spare_always_on_hosts() {
    let d = dataset(15, 40_000);
    let findings = d.run(&["off_hours"]);
    let decoys = d.decoy_hosts();
    let truth = d.all_scenario_hosts();
    for f in &findings {
        assert_eq!(f.severity, Severity::Low, "{f:#?}");
        assert!(!f.hosts.iter().any(|h| decoys.contains(h)), "decoy: {f:#?}");
        assert!(
            truth.contains(&f.hosts[0]),
            "host outside every scenario: {}",
            f.evidence.explanation
        );
    }
    let exfil = d.scenario_hosts("exfiltration");
    assert!(
        exfil
            .iter()
            .all(|h| findings.iter().any(|f| &f.hosts[0] == h)),
        "night-time exfiltration hosts {exfil:?} in {findings:#?}"
    );
}
