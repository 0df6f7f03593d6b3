//! End to end through the binary: `outliers` parity with the pandas oracle, `baseline` + `detect`,
//! `analyze` outputs (JSON, NDJSON, CSV, flows Parquet), self-learned baselines, config errors,
//! `config example` and `detectors`.

mod common;

use common::{flowhound, Scratch};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests");

fn fixture(name: &str) -> String {
    format!("{ROOT}/fixtures/outliers/{name}")
}

/// Runs the binary (see `common::flowhound`: `--no-rdns` added), asserts success: (stdout, stderr).
fn ok(args: &[&str]) -> (String, String) {
    flowhound(args).ok(&format!("{args:?}"))
}

/// A path in this test binary's scratch directory (each test uses its own names).
fn tmp(name: &str) -> PathBuf {
    static DIR: OnceLock<Scratch> = OnceLock::new();
    DIR.get_or_init(|| Scratch::new("analyze")).path(name)
}

fn oracle() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/oracle/notebook_expected.json")).unwrap(),
    )
    .unwrap()
}

fn close(a: &Value, b: &Value) -> bool {
    let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn outliers_json_matches_the_oracle_and_writes_enriched_rows() {
    let rows = tmp("rows.parquet");
    let (n, t) = (fixture("normal.parquet"), fixture("test.parquet"));
    let (out, _) = ok(&[
        "outliers",
        "--normal",
        &n,
        "--test",
        &t,
        "--method",
        "sigma,iqr,zscore-test",
        "--json",
        "-q",
        "-o",
        rows.to_str().unwrap(),
    ]);
    let got: Value = serde_json::from_str(&out).unwrap();
    let want = &oracle()["all"];
    for m in ["up_bytes", "down_bytes"] {
        assert_eq!(got[m]["combined_rows"], want[m]["combined_rows"], "{m}");
        assert_eq!(got[m]["sigma"]["rows"], want[m]["sigma"]["rows"]);
        assert_eq!(got[m]["iqr"]["rows"], want[m]["iqr"]["rows"]);
        assert_eq!(
            got[m]["zscore_test"]["rows"],
            want[m]["zscore_test"]["rows"]
        );
        assert!(close(
            &got[m]["sigma"]["threshold"],
            &want[m]["sigma"]["threshold"]
        ));
        assert!(
            close(&got[m]["iqr"]["lower"], &want[m]["iqr"]["lower"])
                && close(&got[m]["iqr"]["upper"], &want[m]["iqr"]["upper"])
        );
    }
    // the flagged rows file reads back with the canonical reader and has every flagged row
    let (profile, _) = ok(&["profile", "--json", "-q", rows.to_str().unwrap()]);
    let p: Value = serde_json::from_str(&profile).unwrap();
    assert_eq!(p["flows"], want["rows_any_metric"]);
}

#[test]
fn baseline_then_detect_and_analyze_outputs() {
    let (n, t) = (fixture("normal.parquet"), fixture("test.parquet"));
    let b = tmp("baseline.json");
    ok(&["baseline", &n, "-o", b.to_str().unwrap(), "-q"]);
    let (json, nd, csv, flows) = (
        tmp("f.json"),
        tmp("f.ndjson"),
        tmp("f.csv"),
        tmp("f.parquet"),
    );
    let (table, summary) = ok(&[
        "detect",
        "--baseline",
        b.to_str().unwrap(),
        &t,
        "-q",
        "--json",
        json.to_str().unwrap(),
        "--ndjson",
        nd.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--flows-out",
        flows.to_str().unwrap(),
    ]);
    assert!(
        table.contains("192.168.105.66") && table.starts_with("id "),
        "{table}"
    );
    assert!(
        summary.contains("baseline: file") && summary.contains("top hosts: "),
        "{summary}"
    );
    assert!(!summary.contains("heavy-tail"), "{summary}");
    let mut old: Value = serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    old.as_object_mut().unwrap().remove("relative_tail");
    let old_file = tmp("old-baseline.json");
    std::fs::write(&old_file, old.to_string()).unwrap();
    let (_, said) = ok(&["detect", "--baseline", old_file.to_str().unwrap(), &t, "-q"]);
    assert!(
        said.contains("predates the heavy-tail model") && said.contains("old-baseline.json"),
        "{said}"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], 1);
    let findings = doc["findings"].as_array().unwrap();
    let exfil: Vec<&Value> = findings
        .iter()
        .filter(|f| f["hosts"][0] == "192.168.105.66" && f["kind"] == "volume_outlier")
        .collect();
    assert_eq!(exfil.len(), 1, "one merged finding per host and kind");
    assert_eq!(exfil[0]["severity"], "critical");
    assert_eq!(exfil[0]["peers"][0], "45.142.212.61");
    assert!(doc["top_hosts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["host"] == "192.168.105.66"));
    let scores: Vec<f64> = findings
        .iter()
        .map(|f| f["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "sorted by score");
    assert_eq!(
        std::fs::read_to_string(&nd).unwrap().lines().count(),
        findings.len()
    );
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv_text.lines().count(), findings.len() + 1);
    assert!(csv_text.starts_with("id,kind,detector,severity,score"));
    // flows behind the findings: at least the 60 exfiltration flows
    let (profile, _) = ok(&["profile", "--json", "-q", flows.to_str().unwrap()]);
    let p: Value = serde_json::from_str(&profile).unwrap();
    assert!(p["flows"].as_u64().unwrap() >= 60);

    // analyze gives the same findings in one go
    let json2 = tmp("f2.json");
    ok(&[
        "analyze",
        "--normal",
        &n,
        "--test",
        &t,
        "-q",
        "--json",
        json2.to_str().unwrap(),
    ]);
    let doc2: Value = serde_json::from_str(&std::fs::read_to_string(&json2).unwrap()).unwrap();
    assert_eq!(doc2["findings"], doc["findings"]);
    assert_eq!(doc2["baseline"]["source"], "normal");
}

#[test]
fn analyze_without_normal_learns_from_the_test() {
    let t = fixture("test.parquet");
    let (table, summary) = ok(&["analyze", "--test", &t, "-q", "--detectors", "mad"]);
    assert!(
        summary.contains("learned from the test input itself"),
        "{summary}"
    );
    assert!(table.contains("192.168.105.66"), "{table}");
}

#[test]
fn config_errors_and_example() {
    let bad = tmp("bad.toml");
    std::fs::write(&bad, "[detectors.sigma]\nk_sdt = 3.0\n").unwrap();
    let o = flowhound(&["detectors", "--config", bad.to_str().unwrap()]);
    let err = &o.expect(2, "unknown key").stderr;
    assert!(
        err.contains("detectors.sigma.k_sdt") && err.contains("did you mean 'k_std'"),
        "{err}"
    );
    std::fs::write(&bad, "[detectors.mad]\nz_limit = 1000\n").unwrap();
    let o = flowhound(&["config", "check", bad.to_str().unwrap()]);
    let err = &o.expect(2, "value out of range").stderr;
    assert!(
        err.contains("detectors.mad.z_limit = 1000") && err.contains("0.5 ..= 100"),
        "{err}"
    );
    let (example, _) = ok(&["config", "example"]);
    let good = tmp("good.toml");
    std::fs::write(&good, &example).unwrap();
    ok(&["config", "check", good.to_str().unwrap()]);
    let (list, _) = ok(&["detectors"]);
    for d in ["sigma", "iqr", "zscore", "mad"] {
        assert!(list.contains(&format!("{d} (enabled)")), "{list}");
    }
    let o = flowhound(&[
        "analyze",
        "--test",
        &fixture("test.parquet"),
        "--detectors",
        "sigmaa",
    ]);
    o.expect(2, "unknown detector")
        .stderr_has(&["did you mean 'sigma'"], "unknown detector");
}
