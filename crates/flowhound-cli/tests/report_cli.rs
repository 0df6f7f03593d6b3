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

/// A scratch directory of one test, removed when dropped.
struct Dir(std::path::PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("fh-report-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("dir");
        Dir(d)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap_or("").to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Two hours of flows: 10.0.0.1 uploads to 8.8.8.8 every 5 minutes, 10.0.0.2 browses.
fn flows_csv() -> String {
    let mut s = String::from("timestamp,src_ip,dst_ip,proto,port,up_bytes,down_bytes\n");
    for i in 0..24 {
        let t = 1_700_000_000 + i * 300;
        s.push_str(&format!("{t},10.0.0.1,8.8.8.8,tcp,443,{},200\n", 1000 + i));
        s.push_str(&format!("{t},10.0.0.2,1.1.1.1,tcp,443,300,9000\n"));
    }
    s
}

/// A findings document with one per-window volume finding on 10.0.0.1, detected over 600-s windows.
fn window_doc() -> serde_json::Value {
    let mut d = doc();
    d["findings"][0]["evidence"] = serde_json::json!({
        "metric": "up_bytes per 600 s window (host sent)", "observed": 9000.0, "baseline": 2000.0,
        "threshold": 5000.0, "explanation": "uploaded a lot", "details": {}});
    d
}

/// The upload chart of finding F1 in the report's embedded data.
fn upload_chart(html_path: &str) -> serde_json::Value {
    let html = std::fs::read_to_string(html_path).expect("report written");
    let start = html.find("id=\"report-data\">").expect("data block") + "id=\"report-data\">".len();
    let len = html[start..].find("</script>").expect("end of data");
    let data: serde_json::Value = serde_json::from_str(&html[start..start + len]).expect("data");
    let chart = data["charts"]["F1"].clone();
    assert_eq!(chart["type"], "upload", "{chart}");
    chart
}

fn ok(args: &[&str]) {
    let out = flowhound(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_crossed_limit_is_drawn_only_over_the_findings_windows() {
    let dir = Dir::new("window");
    let (json, csv, cfg, base) = (
        dir.path("findings.json"),
        dir.path("t.csv"),
        dir.path("fh.toml"),
        dir.path("baseline.json"),
    );
    std::fs::write(&json, window_doc().to_string()).expect("write");
    std::fs::write(&csv, flows_csv()).expect("write");
    std::fs::write(&cfg, "[baseline]\nwindow_secs = 600\n").expect("write");
    let html = dir.path("r.html");
    let report = |extra: &[&str]| {
        let mut args = vec!["report", json.as_str(), "-o", html.as_str(), "--test", &csv];
        args.extend_from_slice(extra);
        ok(&args);
        upload_chart(&html)
    };
    // No baseline: hourly sums, so the 600-s limit is not drawn over them.
    let c = report(&[]);
    assert_eq!(
        (c["window_secs"].as_u64(), c["threshold_bytes"].as_f64()),
        (Some(3600), None),
        "{c}"
    );
    // Learned with the default settings: hourly again.
    let c = report(&["--normal", &csv]);
    assert_eq!(
        (c["window_secs"].as_u64(), c["threshold_bytes"].as_f64()),
        (Some(3600), None),
        "{c}"
    );
    assert!(c["baseline_bytes"].as_f64().is_some(), "{c}");
    // Learned with the detection's settings: 600-s windows, the limit is drawn.
    let c = report(&["--normal", &csv, "--config", &cfg]);
    assert_eq!(
        (c["window_secs"].as_u64(), c["threshold_bytes"].as_f64()),
        (Some(600), Some(5000.0)),
        "{c}"
    );
    // The baseline file the findings came from: nothing learned, its window used.
    ok(&["baseline", &csv, "-o", &base, "--config", &cfg, "-q"]);
    let c = report(&["--baseline", &base]);
    assert_eq!(
        (c["window_secs"].as_u64(), c["threshold_bytes"].as_f64()),
        (Some(600), Some(5000.0)),
        "{c}"
    );
    assert!(c["baseline_bytes"].as_f64().is_some(), "{c}");
    assert!(std::fs::read_to_string(&html)
        .expect("html")
        .contains("baseline file"));
}

#[test]
fn flow_options_without_test_flows_are_usage_errors() {
    let dir = Dir::new("usage");
    let (json, csv, cfg) = (
        dir.path("findings.json"),
        dir.path("t.csv"),
        dir.path("fh.toml"),
    );
    std::fs::write(&json, window_doc().to_string()).expect("write");
    std::fs::write(&csv, flows_csv()).expect("write");
    std::fs::write(&cfg, "[baseline]\nwindow_secs = 600\n").expect("write");
    let html = dir.path("r.html");
    for (extra, named) in [
        (vec!["--normal", csv.as_str()], "--test"),
        (vec!["--baseline", json.as_str()], "--test"),
        (
            vec!["--test", csv.as_str(), "--config", cfg.as_str()],
            "--normal",
        ),
        (
            vec![
                "--test",
                &csv,
                "--normal",
                &csv,
                "--baseline",
                &json,
                "--config",
                &cfg,
            ],
            "--baseline",
        ),
    ] {
        let mut args = vec!["report", json.as_str(), "-o", html.as_str()];
        args.extend(extra.iter().copied());
        let out = flowhound(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?}: {err}");
        assert!(!std::path::Path::new(&html).exists(), "{args:?}: no report");
    }
    // A bad baseline file is a clear error naming it.
    std::fs::write(dir.path("bad.json"), "{\"schema_version\": 7}").expect("write");
    let out = flowhound(&[
        "report",
        &json,
        "-o",
        &html,
        "--test",
        &csv,
        "--baseline",
        &dir.path("bad.json"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.json") && err.contains("flowhound baseline"),
        "{err}"
    );
}

#[test]
fn a_baseline_with_an_impossible_window_is_a_config_error() {
    let dir = Dir::new("hostile");
    let (json, csv, base) = (
        dir.path("findings.json"),
        dir.path("t.csv"),
        dir.path("baseline.json"),
    );
    std::fs::write(&json, window_doc().to_string()).expect("write");
    std::fs::write(&csv, flows_csv()).expect("write");
    ok(&["baseline", &csv, "-o", &base, "-q"]);
    let good: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).expect("baseline")).expect("json");
    let html = dir.path("r.html");
    for window in [0u64, 59, 86_401, 10_000_000_000_000, u64::MAX] {
        let mut b = good.clone();
        b["window_secs"] = window.into();
        std::fs::write(&base, b.to_string()).expect("write");
        for args in [
            vec!["detect", "--no-rdns", "-q", "--baseline", &base, &csv],
            vec![
                "report",
                &json,
                "-o",
                &html,
                "--test",
                &csv,
                "--baseline",
                &base,
            ],
        ] {
            let out = flowhound(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{window} {args:?}: {err}");
            assert!(
                err.contains("baseline.json")
                    && err.contains(&format!("window_secs is {window}"))
                    && err.contains("60..=86400")
                    && err.contains("flowhound baseline"),
                "{window} {args:?}: {err}"
            );
        }
    }
    assert!(!std::path::Path::new(&html).exists(), "no report on error");
}
