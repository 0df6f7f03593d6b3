//! `flowhound baseline update` through the binary, on generated data split by day with `flowhound
//! sql`: first day + updates equals `baseline` over every day; --keep-days equals the last days; the
//! same day twice counts once; old, corrupt and unreadable inputs are clear errors (never a panic).

mod common;

use common::{flowhound, Scratch};
use serde_json::Value;
use std::path::Path;

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A baseline's JSON without what differs by construction (`days`, input file names).
fn derived(path: &Path) -> Value {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("days");
    o["source"].as_object_mut().unwrap().remove("files");
    v
}

fn days_of(path: &Path) -> Vec<String> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["day"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn daily_updates_equal_learning_every_day() {
    let dir = Scratch::new("rolling");
    let gen = dir.path("gen");
    flowhound(&[
        "generate",
        "--quiet",
        "--out",
        &s(&gen),
        "--seed",
        "3",
        "--normal-days",
        "3",
        "--flows-normal",
        "15000",
        "--flows-test",
        "1000",
        "--flows-servers",
        "100",
        "--clients",
        "40",
    ])
    .ok("generate");
    let normal = s(&gen.join("normal.parquet"));
    let day = |k: u32| {
        let out = dir.path(&format!("day{k}.parquet"));
        let q = format!(
            "SELECT * FROM flows WHERE date_part('day', ts) = {} ORDER BY ts",
            k + 2
        );
        flowhound(&["sql", &q, &normal, "-q", "-o", &s(&out)]).ok("split a day");
        s(&out)
    };
    let (d1, d2, d3) = (day(0), day(1), day(2));
    let all = dir.path("all.json");
    let (_, err) = flowhound(&["baseline", &normal, "-o", &s(&all)]).ok("baseline");
    assert!(err.contains("days kept: 3"), "{err}");
    let b = dir.path("b.json");
    flowhound(&["baseline", &d1, "-q", "-o", &s(&b)]).ok("first day");
    let (_, err) = flowhound(&["baseline", "update", "--baseline", &s(&b), &d2]).ok("update 2");
    assert!(
        err.contains("day 2026-03-03 added") && err.contains("2 days kept, 0 aged out"),
        "{err}"
    );
    flowhound(&["baseline", "update", "-q", "--baseline", &s(&b), &d3]).ok("update 3");
    assert_eq!(
        derived(&b),
        derived(&all),
        "first day + 2 updates = all days"
    );
    // the same day again replaces it
    let (_, err) = flowhound(&["baseline", "update", "--baseline", &s(&b), &d3]).ok("again");
    assert!(err.contains("day 2026-03-04 replaced"), "{err}");
    assert_eq!(
        derived(&b),
        derived(&all),
        "a day updated twice counts once"
    );
    // a window of two days, from the config
    let cfg = dir.path("fh.toml");
    std::fs::write(&cfg, "[baseline]\nkeep_days = 2\n").unwrap();
    let (_, err) = flowhound(&[
        "baseline",
        "update",
        "--baseline",
        &s(&b),
        &d3,
        "--config",
        &s(&cfg),
    ])
    .ok("keep 2");
    assert!(err.contains("days aged out: 1 (2026-03-02)"), "{err}");
    assert_eq!(days_of(&b), ["2026-03-03", "2026-03-04"]);
    let last2 = dir.path("last2.json");
    flowhound(&["baseline", &d2, &d3, "-q", "-o", &s(&last2)]).ok("last 2 days");
    assert_eq!(derived(&b), derived(&last2), "keep 2 = the last 2 days");
    let newest2 = dir.path("newest2.json");
    flowhound(&[
        "baseline",
        &normal,
        "--keep-days",
        "2",
        "-q",
        "-o",
        &s(&newest2),
    ])
    .ok("keep 2");
    assert_eq!(derived(&newest2), derived(&last2), "baseline --keep-days 2");
    // the day that aged out cannot come back into a full window
    flowhound(&[
        "baseline",
        "update",
        "--keep-days",
        "2",
        "--baseline",
        &s(&b),
        &d1,
    ])
    .expect(2, "too old")
    .stderr_has(&["2026-03-02", "age out at once"], "too old");
    // detect reads the rolled baseline
    let test = s(&gen.join("test.parquet"));
    flowhound(&["detect", "--baseline", &s(&b), &test, "-q"]).ok("detect");
    // bad input
    flowhound(&[
        "baseline",
        "update",
        "--baseline",
        &s(&b),
        &d3,
        "--keep-days",
        "0",
    ])
    .expect(2, "keep 0");
    flowhound(&[
        "baseline",
        "update",
        "--baseline",
        &s(&b),
        &d3,
        "--day",
        "2026-13-01",
    ])
    .expect(2, "bad day")
    .stderr_has(&["YYYY-MM-DD"], "bad day");
    flowhound(&[
        "baseline",
        "update",
        "--baseline",
        &s(&b),
        &d3,
        "--internal",
        "10.0.0.0/8",
    ])
    .expect(2, "other networks")
    .stderr_has(&["internal networks", "--internal"], "other networks");
}

#[test]
fn old_and_corrupt_baselines_are_clear_errors() {
    let dir = Scratch::new("rolling-bad");
    let n = common::fixture("outliers/normal.parquet");
    let b = dir.path("b.json");
    flowhound(&["baseline", &n, "-q", "-o", &s(&b)]).ok("baseline");
    // a schema-1 file (no days) loads for detect but cannot be updated
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    v["schema_version"] = 1.into();
    v.as_object_mut().unwrap().remove("days");
    let old = dir.path("old.json");
    std::fs::write(&old, v.to_string()).unwrap();
    let t = common::fixture("outliers/test.parquet");
    flowhound(&["detect", "--baseline", &s(&old), &t, "-q"]).ok("detect on schema 1");
    flowhound(&["baseline", "update", "--baseline", &s(&old), &n])
        .expect(2, "schema 1")
        .stderr_has(
            &["old.json", "no day state", "flowhound baseline"],
            "schema 1",
        );
    // a corrupt baseline file
    std::fs::write(&old, "{\"schema_version\": 2, \"hosts\": [").unwrap();
    flowhound(&["baseline", "update", "--baseline", &s(&old), &n])
        .expect(2, "corrupt")
        .stderr_has(
            &["old.json", "invalid JSON", "flowhound baseline"],
            "corrupt",
        );
    flowhound(&[
        "baseline",
        "update",
        "--baseline",
        &s(&dir.path("none.json")),
        &n,
    ])
    .expect(3, "missing")
    .stderr_has(&["none.json"], "missing");
    // a damaged day state names the state file and the fix
    let states = dir.path("b.json.days");
    let f = std::fs::read_dir(&states)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&f, b"garbage").unwrap();
    flowhound(&["baseline", "update", "--baseline", &s(&b), &n])
        .expect(2, "bad state")
        .stderr_has(&[".fhstate", "re-learn"], "bad state");
    let cfg = dir.path("bad.toml");
    std::fs::write(&cfg, "[baseline]\nkeep_days = 0\n").unwrap();
    flowhound(&[
        "baseline",
        "update",
        "--baseline",
        &s(&b),
        &n,
        "--config",
        &s(&cfg),
    ])
    .expect(2, "keep_days 0")
    .stderr_has(&["keep_days"], "keep_days 0");
    let (help, _) = flowhound(&["baseline", "update", "--help"]).ok("help");
    assert!(
        help.contains("Examples:") && help.contains("crontab"),
        "{help}"
    );
}
