//! Suricata eve.json through the binary: `profile --json` and `convert` to Parquet give the flow count and
//! byte sums an independent reading of the events gives, and the summary counts the skipped events.

mod common;

use common::{fixture, flowhound, Scratch};
use serde_json::Value;

/// (flow events, up bytes, down bytes) read straight from the eve.json lines (the file has both types;
/// its first flow event is a `flow`, so its `netflow` events are not read).
fn oracle(path: &str) -> (u64, u64, u64) {
    let text = std::fs::read_to_string(path).unwrap();
    let (mut n, mut up, mut down) = (0, 0, 0);
    for line in text.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let u = |v: &Value| v.as_u64().unwrap();
        match e["event_type"].as_str().unwrap() {
            "flow" => {
                up += u(&e["flow"]["bytes_toserver"]);
                down += u(&e["flow"]["bytes_toclient"]);
            }
            _ => continue,
        }
        n += 1;
    }
    (n, up, down)
}

/// (flows, up bytes, down bytes) of a `profile --json` document.
fn profiled(doc: &Value) -> (u64, u64, u64) {
    let protos = doc["protocols"].as_array().unwrap();
    let sum = |k: &str| protos.iter().map(|p| p[k].as_u64().unwrap()).sum::<u64>();
    (
        doc["flows"].as_u64().unwrap(),
        sum("up_bytes"),
        sum("down_bytes"),
    )
}

#[test]
fn profile_and_convert_of_eve_json_match_the_events() {
    let eve = fixture("eve/eve.json");
    let want = oracle(&eve);
    let doc = flowhound(&["profile", "--json", &eve]).json("profile eve.json");
    assert_eq!(profiled(&doc), want);
    assert_eq!(doc["input"]["files"][0]["format"], "suricata_eve");
    assert_eq!(doc["input"]["files"][0]["other_events"]["dns"], 4);
    flowhound(&["profile", &eve]).stderr_has(
        &["skipped 21 event(s) not read as flows: dns 4, http 1, netflow 15, stats 1"],
        "summary",
    );

    let dir = Scratch::new("eve");
    let pq = dir.path("eve.parquet").to_string_lossy().into_owned();
    flowhound(&["convert", &eve, "-o", &pq]).ok("convert eve.json");
    let doc = flowhound(&["profile", "--json", &pq]).json("profile converted");
    assert_eq!(profiled(&doc), want);
}

#[test]
fn strict_bad_eve_line_exits_4_naming_line_and_field() {
    let dir = Scratch::new("eve-bad");
    let text = std::fs::read_to_string(fixture("eve/eve.json")).unwrap();
    let bad = text.replacen("\"bytes_toclient\":894", "\"bytes_toclient\":\"lots\"", 1);
    assert_ne!(bad, text);
    let path = dir.path("eve.json");
    std::fs::write(&path, bad).unwrap();
    let p = path.to_string_lossy().into_owned();
    flowhound(&["profile", "--strict", &p])
        .expect(4, "strict")
        .stderr_has(
            &[
                "column 'flow.bytes_toclient': not a whole non-negative number (value 'lots')",
                "Remove --strict",
            ],
            "strict",
        );
    flowhound(&["profile", &p])
        .expect(0, "lenient")
        .stderr_has(&["skipped 1 bad row(s)", "flow.bytes_toclient"], "lenient");
}
