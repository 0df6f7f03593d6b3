//! Damaged byte counts (a flipped high bit, a wrapped counter: up to `u64::MAX` per flow) through the
//! real binary, a debug build with overflow checks: the learning and every detector sum them without a
//! panic, in memory and by host shards, and take each count at 16 TiB at most.

mod common;

use common::{flowhound, Scratch};

/// 40 external clients of a public server and one internal host, every count near `u64::MAX`.
fn hostile_csv(path: &std::path::Path) {
    let mut rows = vec!["timestamp,src_ip,dst_ip,proto,port,up_bytes,down_bytes".to_string()];
    let t = 1_772_409_600u64;
    for c in 0..40u64 {
        for k in 0..30u64 {
            rows.push(format!(
                "{},{}.{c}.{k}.1,200.0.0.10,tcp,443,{},{}",
                t + c * 10 + k * 100,
                11 + c,
                i64::MAX,
                u64::MAX - k
            ));
        }
    }
    for k in 0..30u64 {
        rows.push(format!(
            "{},192.168.1.5,8.8.8.8,tcp,443,{},{}",
            t + k,
            u64::MAX,
            u64::MAX
        ));
    }
    std::fs::write(path, rows.join("\n") + "\n").unwrap();
}

#[test]
fn counts_near_u64_max_are_analysed_without_a_panic() {
    let tmp = Scratch::new("huge-counts");
    let csv = tmp.path("huge.csv");
    hostile_csv(&csv);
    let c = csv.to_str().unwrap();
    let runs = [
        ("self", vec![]),
        ("normal", vec!["--normal", c]),
        ("shards", vec!["--shards", "2"]),
    ];
    for (name, extra) in runs {
        let json = tmp.path(&format!("{name}.json"));
        let mut args = vec!["analyze", "--quiet", "--no-rdns", "--min-severity", "low"];
        args.extend(["--test", c, "--json", json.to_str().unwrap()]);
        args.extend(extra);
        let r = flowhound(&args);
        r.no_panic(name).expect(0, name);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let findings = doc["findings"].as_array().unwrap();
        // 30 flows of the internal host, each at most 16 TiB both ways
        let cap = 30.0 * 2.0 * (1u64 << 44) as f64;
        for f in findings.iter().filter(|f| f["hosts"][0] == "192.168.1.5") {
            if let Some(total) = f["evidence"]["details"]["total_bytes"].as_f64() {
                assert!(total <= cap, "{name}: {total}");
            }
        }
    }
}
