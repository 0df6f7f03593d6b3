//! `flowhound profile --json` against the pandas oracle: tests/oracle/profile_oracle.py computed
//! tests/oracle/profile_expected.json from tests/fixtures/profile/flows.parquet. Nothing expected here
//! is computed by flowhound.

mod common;

use common::{fixture, flowhound, root};
use serde_json::Value;

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn expected() -> Value {
    let path = root().join("tests/oracle/profile_expected.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn profile(extra: &[&str]) -> Value {
    let path = fixture("profile/flows.parquet");
    let mut args = vec!["profile", "--json", path.as_str()];
    args.extend_from_slice(extra);
    let run = flowhound(&args);
    run.expect(0, "profile --json");
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
}

#[test]
fn describe_matches_pandas() {
    let (got, want) = (profile(&[]), expected());
    assert_eq!(got["flows"], want["flows"]);
    for col in ["up_bytes", "down_bytes"] {
        let (g, w) = (&got["stats"][col], &want["stats"][col]);
        for k in ["count", "sum", "min", "max"] {
            assert_eq!(g[k].as_u64(), w[k].as_u64(), "{col}.{k}");
        }
        for k in ["mean", "std", "p25", "p50", "p75"] {
            let (a, b) = (g[k].as_f64().unwrap(), w[k].as_f64().unwrap());
            assert!(close(a, b), "{col}.{k}: flowhound {a} vs pandas {b}");
        }
    }
}

#[test]
fn time_span_matches() {
    let (got, want) = (profile(&[]), expected());
    let (g, w) = (&got["time_span"], &want["time_span"]);
    assert_eq!((&g["first"], &g["last"]), (&w["first"], &w["last"]));
    assert!(close(
        g["seconds"].as_f64().unwrap(),
        w["seconds"].as_f64().unwrap()
    ));
}

#[test]
fn top_talkers_ports_protocols_hours_and_directions_match() {
    let (got, want) = (profile(&["--top", "10"]), expected());
    for key in ["top_src", "top_dst"] {
        for rank in ["by_flows", "by_bytes"] {
            assert_eq!(got[key][rank], want[key][rank], "{key}.{rank}");
        }
    }
    assert_eq!(got["top_dst_ports"], want["top_dst_ports"]);
    assert_eq!(got["protocols"], want["protocols"]);
    assert_eq!(got["by_hour"], want["by_hour"]);
    assert_eq!(got["direction"], want["direction"]);
}

#[test]
fn internal_flag_changes_the_split() {
    // Everything is external with an internal net no address falls in.
    let got = profile(&["--internal", "198.51.100.0/24"]);
    let dirs = got["direction"].as_array().unwrap();
    let flows = expected()["flows"].as_u64().unwrap();
    let ext = dirs
        .iter()
        .find(|d| d["key"] == "external->external")
        .unwrap();
    assert_eq!(ext["flows"].as_u64(), Some(flows));
    assert_eq!(
        got["internal_networks"],
        serde_json::json!(["198.51.100.0/24"])
    );
}

#[test]
fn table_output_shows_the_describe_numbers() {
    let run = flowhound(&["profile", "-q", &fixture("profile/flows.parquet")]);
    run.expect(0, "profile tables");
    let want = expected();
    assert!(
        run.stdout.contains(&format!("flows: {}", want["flows"])),
        "{}",
        run.stdout
    );
    for col in ["up_bytes", "down_bytes"] {
        let w = &want["stats"][col];
        for k in ["mean", "p50"] {
            let text = format!("{:.2}", w[k].as_f64().unwrap());
            assert!(
                run.stdout.contains(&text),
                "{col}.{k} {text} not in:\n{}",
                run.stdout
            );
        }
        assert!(run.stdout.contains(&w["max"].to_string()), "{col}.max");
    }
}
