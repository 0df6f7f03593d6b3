//! `--intel FILE` through the binary: `analyze` (single-capture) and `baseline` + `detect` on the
//! committed intel fixtures; the lists of `--intel` and of `[detectors.threat_intel] files` add up;
//! a bad list line stops with exit 2 naming the file, the line and the fix.

mod common;

use common::{fixture, flowhound, Scratch};
use serde_json::Value;

fn hosts_by_list(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for f in doc["findings"].as_array().unwrap() {
        if f["kind"] != "threat_intel" {
            continue;
        }
        let host = f["hosts"][0].as_str().unwrap().to_string();
        for m in f["evidence"]["details"]["matches"][0]["matches"]
            .as_array()
            .unwrap()
        {
            out.push((
                host.clone(),
                m["list"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn analyze_and_detect_take_intel_lists() {
    let s = Scratch::new("intel");
    let conn = fixture("intel/conn.log");
    let (plain, drop) = (fixture("intel/plain.txt"), fixture("intel/drop.txt"));
    let cfg = s.path("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "[detectors.threat_intel]\nfiles = [\"{}\"]\n",
            fixture("intel/firehol_level1.netset")
        ),
    )
    .unwrap();
    let out = s.path("a.json");
    let run = flowhound(&[
        "analyze",
        "--test",
        &conn,
        "--detectors",
        "threat_intel",
        "--intel",
        &plain,
        "--intel",
        &drop,
        "--config",
        cfg.to_str().unwrap(),
        "--json",
        out.to_str().unwrap(),
        "--min-severity",
        "low",
    ]);
    run.ok("analyze --intel");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let want = [
        ("192.168.1.20", "drop", "high"),
        ("192.168.1.20", "plain", "high"),
        ("192.168.1.21", "firehol_level1", "medium"),
        ("192.168.1.22", "firehol_level1", "low"),
        ("fd00::25", "plain", "high"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(hosts_by_list(&doc), want);
    // detect against a saved baseline gives the same matches
    let b = s.path("b.json");
    flowhound(&["baseline", &conn, "-o", b.to_str().unwrap(), "--quiet"]).ok("baseline");
    let out2 = s.path("d.json");
    flowhound(&[
        "detect",
        "--baseline",
        b.to_str().unwrap(),
        &conn,
        "--detectors",
        "threat_intel",
        "--intel",
        &plain,
        "--intel",
        &drop,
        "--config",
        cfg.to_str().unwrap(),
        "--json",
        out2.to_str().unwrap(),
        "--min-severity",
        "low",
    ])
    .ok("detect --intel");
    let doc2: Value = serde_json::from_str(&std::fs::read_to_string(&out2).unwrap()).unwrap();
    assert_eq!(hosts_by_list(&doc2), want);
}

#[test]
fn a_bad_list_line_is_a_config_error_naming_file_line_and_fix() {
    let run = flowhound(&[
        "analyze",
        "--test",
        &fixture("intel/conn.log"),
        "--intel",
        &fixture("intel/bad.txt"),
    ]);
    run.expect(2, "bad list").stderr_has(
        &["bad.txt: line 3: '45.9.148.300'", "skip_bad_lines = true"],
        "bad list",
    );
    let help = flowhound(&["analyze", "--help"]);
    let (out, _) = help.ok("help");
    assert!(
        out.contains("--intel <FILE>") && out.contains("firehol_level1.netset"),
        "{out}"
    );
}
