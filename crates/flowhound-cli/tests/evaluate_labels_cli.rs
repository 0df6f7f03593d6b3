//! `analyze --verdicts` and `evaluate --labels` (issue 12, standard evaluation): the CTU-13 error
//! metric on a hand-worked capture, and on the real labelled captures of ../shared/testdata.

mod common;

use common::{flowhound, Scratch};
use std::collections::BTreeSet;
use std::path::Path;

const HEADER: &str = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label";

fn line(time: &str, src: &str, label: &str) -> String {
    format!("2026/01/01 {time},0.1,tcp,{src},40000,   ->,8.8.8.8,443,SRA,0,0,2,200,100,{label}")
}

/// Window 0: bots .1 .2, normals .3 .4 (and a background .9); window 1: bot .1, normal .3.
fn capture(dir: &Path) -> String {
    let rows = [
        line("00:00:10.0", "10.0.0.1", "flow=From-Botnet-V42-TCP"),
        line("00:00:20.0", "10.0.0.2", "flow=From-Botnet-V42-TCP"),
        line("00:00:30.0", "10.0.0.3", "flow=From-Normal-V42-HTTP"),
        line("00:00:40.0", "10.0.0.4", "flow=From-Normal-V42-HTTP"),
        line("00:00:45.0", "10.0.0.9", "flow=Background-TCP-Established"),
        line("00:01:10.0", "10.0.0.1", "flow=From-Botnet-V42-TCP"),
        line("00:01:20.0", "10.0.0.3", "flow=From-Normal-V42-HTTP"),
    ];
    let p = dir.join("cap.binetflow");
    std::fs::write(&p, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
    p.display().to_string()
}

fn eval_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["evaluate", "--json"];
    all.extend_from_slice(args);
    flowhound(&all).json(&format!("{all:?}"))
}

#[test]
fn hand_worked_metric_from_verdicts_and_from_findings() {
    let s = Scratch::new("ctu13-hand");
    let cap = capture(&s.0);
    let v = s.path("v.csv");
    std::fs::write(
        &v,
        "window_start,ip,verdict,score,kinds\n\
         2026-01-01T00:00:00.000000Z,10.0.0.1,malicious,0.9,botnet\n\
         2026-01-01T00:00:00.000000Z,10.0.0.3,malicious,0.5,port_scan\n\
         2026-01-01T00:00:00.000000Z,10.0.0.9,malicious,0.5,port_scan\n\
         2026-01-01T00:01:00.000000Z,10.0.0.1,malicious,0.9,botnet\n\
         2026-01-01T00:01:00.000000Z,10.0.0.3,normal,0,\n",
    )
    .unwrap();
    let vs = v.display().to_string();
    let m = eval_json(&["--labels", &cap, "--verdicts", &vs, "--window-secs", "60"]);
    let c = |k: &str, f: &str| m[k][f].as_f64().unwrap();
    assert_eq!(
        (
            m["windows"].as_u64(),
            m["botnet_ips"].as_u64(),
            m["normal_ips"].as_u64()
        ),
        (Some(2), Some(2), Some(2))
    );
    assert_eq!(
        [
            c("plain", "tp"),
            c("plain", "fp"),
            c("plain", "tn"),
            c("plain", "fn")
        ],
        [2.0, 1.0, 2.0, 1.0]
    );
    // window numbers from 1 (the authors' reference implementation): decays e^-0.01 + 1, e^-0.02 + 1
    let (d1, d2) = ((-0.01f64).exp() + 1.0, (-0.02f64).exp() + 1.0);
    assert!(
        (c("weighted", "tp") - (d1 / 2.0 + d2)).abs() < 1e-9
            && (c("weighted", "fn") - d1 / 2.0).abs() < 1e-9
    );
    assert!((c("weighted", "fp") - 0.5).abs() < 1e-9 && (c("weighted", "tn") - 1.5).abs() < 1e-9);
    // The same judgement as findings: .1 over both windows, .3 only in the first.
    let f = s.path("f.json");
    std::fs::write(
        &f,
        r#"{"findings": [
          {"id":"F1","kind":"botnet","detector":"botnet","score":0.9,"severity":"critical","hosts":["10.0.0.1"],"peers":[],
           "first_seen":"2026-01-01T00:00:10Z","last_seen":"2026-01-01T00:01:10Z","flows":2,
           "evidence":{"metric":"m","observed":1.0,"baseline":0.0,"threshold":0.5,"explanation":"x"}},
          {"id":"F2","kind":"port_scan","detector":"port_scan","score":0.5,"severity":"medium","hosts":["10.0.0.3"],"peers":[],
           "first_seen":"2026-01-01T00:00:30Z","last_seen":"2026-01-01T00:00:30Z","flows":1,
           "evidence":{"metric":"m","observed":1.0,"baseline":0.0,"threshold":0.5,"explanation":"x"}}]}"#,
    )
    .unwrap();
    let from_findings = eval_json(&[
        "--labels",
        &cap,
        &f.display().to_string(),
        "--window-secs",
        "60",
    ]);
    assert_eq!(from_findings, m);
    let text = flowhound(&[
        "evaluate",
        "--labels",
        &cap,
        "--verdicts",
        &vs,
        "--window-secs",
        "60",
    ])
    .ok("text")
    .0;
    assert!(
        text.contains("weighted") && text.contains("66.7%"),
        "{text}"
    );
}

#[test]
fn bad_verdicts_and_unlabelled_captures_are_named_errors() {
    let s = Scratch::new("ctu13-bad");
    let cap = capture(&s.0);
    let v = s.path("v.csv");
    std::fs::write(
        &v,
        "window_start,ip,verdict,score,kinds\nyesterday,10.0.0.1,malicious,1,x\n",
    )
    .unwrap();
    let r = flowhound(&[
        "evaluate",
        "--labels",
        &cap,
        "--verdicts",
        &v.display().to_string(),
    ]);
    r.expect(3, "bad verdicts")
        .stderr_has(&["v.csv", "line 2", "window_start"], "bad verdicts");
    let plain = s.path("plain.csv");
    std::fs::write(
        &plain,
        "ts,src_ip,dst_ip,proto,port,up_bytes,down_bytes\n1,10.0.0.1,8.8.8.8,tcp,443,1,1\n",
    )
    .unwrap();
    let r = flowhound(&[
        "evaluate",
        "--labels",
        &plain.display().to_string(),
        "--verdicts",
        &v.display().to_string(),
    ]);
    r.expect(2, "no labels")
        .stderr_has(&["no flow carries a usable label"], "no labels");
}

fn shared(rel: &str) -> Option<String> {
    let p = common::root()
        .join("..")
        .join("shared")
        .join("testdata")
        .join(rel);
    p.exists().then(|| p.display().to_string())
}

/// Distinct sources of the rows whose `label` column starts with `malicious` (any case): the oracle.
fn malicious_sources(csv: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (src, label) = (col("id.orig_h"), col("label"));
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| {
            f.get(label)
                .is_some_and(|x| x.to_ascii_lowercase().starts_with("malicious"))
        })
        .map(|f| f[src].to_string())
        .collect()
}

/// Real captures: `analyze --verdicts` then `evaluate --labels` through the binary; the metric is
/// finite, counts the oracle's malicious sources as botnet IPs, and the verdicts file finds what the
/// findings file finds with no more false positives (Malware-44 at 300 s: 0 against the span's 1).
#[test]
fn real_labelled_captures() {
    let files = [
        "iot23/CTU-Malware-Capture-44-1-labeled.csv",
        "iot23/CTU-Malware-Capture-20-1-labeled.csv",
        "iot23/CTU-Honeypot-Capture-7-1-labeled.csv",
        "binetflow/test5-mixed.binetflow",
    ];
    if shared("iot23").is_none() {
        eprintln!("skipped: ../shared/testdata is absent (real labelled captures)");
        return;
    }
    let s = Scratch::new("ctu13-real");
    for (i, rel) in files.iter().enumerate() {
        let cap = shared(rel).unwrap();
        let (v, f) = (s.path(&format!("v{i}.csv")), s.path(&format!("f{i}.json")));
        let (vs, fs) = (v.display().to_string(), f.display().to_string());
        flowhound(&[
            "analyze",
            "--quiet",
            "--test",
            &cap,
            "--verdicts",
            &vs,
            "--verdict-window-secs",
            "300",
            "--json",
            &fs,
        ])
        .ok(rel);
        let m = eval_json(&["--labels", &cap, "--verdicts", &vs, "--window-secs", "300"]);
        let span = eval_json(&["--labels", &cap, &fs, "--window-secs", "300"]);
        // the run's verdicts blame the windows of the flows behind each finding; a findings file
        // carries no flows, so its findings blame their whole span: the same hits, no fewer errors
        for k in ["windows", "botnet_ips", "normal_ips"] {
            assert_eq!(m[k], span[k], "{rel} {k}");
        }
        let (p, q) = (&m["plain"], &span["plain"]);
        assert_eq!(p["tp"], q["tp"], "{rel}: {m} vs {span}");
        assert!(p["fp"].as_f64() <= q["fp"].as_f64(), "{rel}: {m} vs {span}");
        for k in ["plain", "weighted"] {
            for c in ["tp", "fp", "tn", "fn"] {
                assert!(
                    m[k][c].as_f64().is_some_and(f64::is_finite),
                    "{rel} {k} {c}"
                );
            }
        }
        if rel.ends_with(".csv") {
            let bots = malicious_sources(&cap);
            assert_eq!(m["botnet_ips"].as_u64(), Some(bots.len() as u64), "{rel}");
        } else {
            assert!(m["botnet_ips"].as_u64() >= Some(1), "{rel}");
        }
        eprintln!("{rel}: {m}");
    }
}
