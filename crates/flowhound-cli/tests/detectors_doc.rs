//! docs/detectors.md is generated from the detector registry; this keeps the committed file in step.

use std::process::Command;

#[test]
fn docs_detectors_md_matches_the_registry() {
    let out = Command::new(env!("CARGO_BIN_EXE_flowhound"))
        .args(["detectors", "--markdown"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).expect("utf-8");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/detectors.md");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        generated == committed,
        "docs/detectors.md is stale: run `flowhound detectors --markdown > docs/detectors.md`"
    );
    for name in [
        "sigma",
        "iqr",
        "zscore",
        "mad",
        "botnet",
        "cnc_beacon",
        "port_scan",
        "exfiltration",
        "unusual_country",
        "dns_anomaly",
        "server_abuse",
        "off_hours",
    ] {
        assert!(
            generated.contains(&format!("## `{name}`")),
            "{name} documented"
        );
    }
}
