//! Every behavioural detector end to end through the `flowhound analyze` binary: `flowhound generate`
//! writes a small network with every scenario (its `truth.json` is the oracle), `analyze` runs the
//! default detectors, and each scenario's hosts must be blamed by a finding of the owning detector.
//! (The volume detectors go through `analyze` in `analyze_cli.rs`.)

mod common;

use common::{flowhound, Scratch};
use serde_json::Value;
use std::path::Path;

/// Scenario kind -> the detector that owns it.
const OWNERS: [(&str, &str); 7] = [
    ("botnet", "botnet"),
    ("cnc_beacon", "cnc_beacon"),
    ("exfiltration", "exfiltration"),
    ("dns_tunnel", "dns_anomaly"),
    ("port_scan", "port_scan"),
    ("unusual_country", "unusual_country"),
    ("server_abuse", "server_abuse"),
];

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_scenario_is_found_by_its_detector_through_analyze() {
    let scratch = Scratch::new("e2e-detectors");
    let (dir, d) = (&scratch.0, scratch.0.display().to_string());
    let ok = |args: &[&str]| {
        flowhound(args).ok(&format!("{args:?}"));
    };
    ok(&[
        "generate",
        "--quiet",
        "--out",
        &d,
        "--seed",
        "3",
        "--flows-normal",
        "40000",
        "--flows-test",
        "20000",
        "--flows-servers",
        "10000",
        // the kinds whose detectors exist; issue 12's kinds are judged by the acceptance sweep
        "--scenarios",
        "botnet,cnc_beacon,exfiltration,dns_tunnel,port_scan,unusual_country,server_abuse",
    ]);
    // no config: server_abuse infers the public servers of servers.parquet (200.0.0.0/24, outside
    // the internal subnet) from the data
    let (n, t, s) = (
        format!("{d}/normal.parquet"),
        format!("{d}/test.parquet"),
        format!("{d}/servers.parquet"),
    );
    let out = format!("{d}/findings.json");
    ok(&[
        "analyze",
        "--quiet",
        "--no-rdns",
        "--internal",
        "192.168.105.0/24",
        "--normal",
        &n,
        "--test",
        &t,
        &s,
        "--json",
        &out,
        "--min-severity",
        "low",
    ]);
    let (truth, doc) = (json(&dir.join("truth.json")), json(Path::new(&out)));
    let findings = doc["findings"].as_array().unwrap();
    for sc in truth["scenarios"].as_array().unwrap() {
        let kind = sc["kind"].as_str().unwrap();
        let owner = OWNERS.iter().find(|(k, _)| *k == kind).unwrap().1;
        for host in strings(&sc["hosts"]) {
            let hit = findings.iter().any(|f| {
                f["detector"]
                    .as_str()
                    .unwrap_or("")
                    .split(',')
                    .any(|x| x == owner)
                    && strings(&f["hosts"]).contains(&host)
            });
            assert!(hit, "{kind}: {host} not blamed by {owner}");
        }
    }
    let kinds: Vec<&str> = findings.iter().filter_map(|f| f["kind"].as_str()).collect();
    // every registered detector ran (off_hours stays low on its own and is judged, with its
    // findings, in crates/flowhound/tests/detect_offhours.rs)
    let ran = strings(&doc["detectors"]);
    for d in [
        "off_hours",
        "cnc_channel",
        "dos",
        "inbound_attack",
        "threat_intel",
    ] {
        assert!(
            ran.iter().any(|r| r == d),
            "{d} ran: {ran:?} (kinds {kinds:?})"
        );
    }
}
