//! `flowhound demo` end to end at a small size: data generated, analysed, findings JSON and HTML
//! report written, precision/recall against the ground truth printed, next steps named.

use std::process::Command;

#[test]
fn demo_runs_end_to_end() {
    let out = std::env::temp_dir().join(format!("fh-demo-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let started = std::time::Instant::now();
    let res = Command::new(env!("CARGO_BIN_EXE_flowhound"))
        .args([
            "demo",
            "--quiet",
            "--flows-normal",
            "6000",
            "--flows-test",
            "3000",
            "--clients",
            "25",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("flowhound runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr),
    );
    assert!(res.status.success(), "demo failed:\n{stdout}\n{stderr}");
    println!(
        "demo took {:.1} s (debug build)",
        started.elapsed().as_secs_f64()
    );
    for f in [
        "findings.json",
        "report.html",
        "data/normal.parquet",
        "data/test.parquet",
        "data/truth.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("findings.json")).expect("json"))
            .expect("findings parse");
    assert_eq!(doc["schema_version"], 1);
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("data/truth.json")).expect("truth"))
            .expect("truth parses");
    let rows = truth["rows"]["test"].as_u64().unwrap_or(0)
        + truth["rows"]["servers"].as_u64().unwrap_or(0);
    assert_eq!(
        doc["input"]["rows_read"].as_u64(),
        Some(rows),
        "test.parquet + servers.parquet analysed"
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(
        html.contains("id=\"report-data\"")
            && html.contains(&format!("\"test\":{{\"flows\":{rows}"))
    );
    assert!(
        stdout.contains("precision") && stdout.contains("TOTAL (any kind)"),
        "evaluation printed:\n{stdout}"
    );
    assert!(
        stdout.contains("The report is at") && stdout.contains("flowhound analyze"),
        "next steps printed:\n{stdout}"
    );
    assert!(stderr.contains("findings:"), "summary printed:\n{stderr}");
    let _ = std::fs::remove_dir_all(&out);
}
