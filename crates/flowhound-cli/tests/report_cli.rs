//! `flowhound report FINDINGS.json -o report.html`: renders a findings document; bad input names the
//! file and the fix.

use std::process::Command;

fn flowhound(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flowhound"))
        .args(args)
        .output()
        .expect("flowhound runs")
}

fn doc() -> serde_json::Value {
    serde_json::json!({
        "schema_version": 1, "generator": "flowhound test",
        "input": {"files": ["t.parquet"], "rows_read": 10, "rows_skipped": 0, "first_seen": null, "last_seen": null},
        "baseline": {"source": "self", "inputs": ["t.parquet"], "flows": 10},
        "detectors": ["mad"], "per_severity": {"low": 0, "medium": 0, "high": 1, "critical": 0},
        "top_hosts": [{"host": "10.0.0.1", "score": 0.7, "findings": 1, "kinds": ["volume_outlier"]}],
        "findings": [{"id": "F1", "kind": "volume_outlier", "detector": "mad", "score": 0.7, "severity": "high",
            "hosts": ["10.0.0.1"], "peers": ["8.8.8.8"], "first_seen": null, "last_seen": null, "flows": 3,
            "evidence": {"metric": "up_bytes per flow", "observed": 1e9, "baseline": 100.0, "threshold": 5000.0,
                         "explanation": "</script><script>alert(1)</script>",
                         "details": {"inter_arrival_secs": [60.0, 61.0, 59.5, 60.2]}},
            "enrichment": {"8.8.8.8": {"country": "US", "asn": 15169, "org": "<img src=x onerror=alert(1)>", "name": null}},
            "related": []}]
    })
}

#[test]
fn renders_a_findings_file() {
    let dir = std::env::temp_dir().join(format!("fh-report-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let json = dir.join("findings.json");
    std::fs::write(&json, doc().to_string()).expect("write");
    let html = dir.join("r.html");
    let out = flowhound(&[
        "report",
        json.to_str().unwrap_or(""),
        "-o",
        html.to_str().unwrap_or(""),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&html).expect("report written");
    assert!(!text.contains("<img src=x") && !text.contains("</script><script>alert"));
    assert!(text.contains("\\u003cimg src=x onerror=alert(1)\\u003e"));
    assert!(
        text.contains("\"type\":\"intervals\""),
        "chart from the evidence details"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_findings_file_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("fh-report-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"schema_version\": 99}").expect("write");
    let out = flowhound(&[
        "report",
        bad.to_str().unwrap_or(""),
        "-o",
        dir.join("r.html").to_str().unwrap_or(""),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.json")
            && err.contains("schema_version")
            && err.contains("flowhound analyze"),
        "{err}"
    );
    std::fs::write(&bad, "not json").expect("write");
    let out = flowhound(&[
        "report",
        bad.to_str().unwrap_or(""),
        "-o",
        dir.join("r.html").to_str().unwrap_or(""),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.join("r.html").exists(), "no report on error");
    let _ = std::fs::remove_dir_all(&dir);
}
