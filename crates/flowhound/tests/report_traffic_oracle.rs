//! The report's traffic numbers and histograms against pandas/numpy (tests/oracle/report_oracle.py,
//! output committed as tests/oracle/report_expected.json).

use flowhound::detect::flows::Flows;
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::InternalNets;
use flowhound::report::build::{linear_histogram, median};
use flowhound::report::{Bin, Count, Traffic};
use flowhound_geo::GeoStack;
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn expected() -> Value {
    let text = std::fs::read_to_string(format!("{ROOT}/tests/oracle/report_expected.json"))
        .expect("oracle output committed");
    serde_json::from_str(&text).expect("oracle JSON")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

fn check_bins(got: &[Bin], want: &Value, what: &str) {
    let want = want.as_array().expect("bins");
    assert_eq!(got.len(), want.len(), "{what}: bin count");
    for (g, w) in got.iter().zip(want) {
        let (lo, hi, n) = (
            w[0].as_f64().unwrap_or(f64::NAN),
            w[1].as_f64().unwrap_or(f64::NAN),
            w[2].as_u64().unwrap_or(u64::MAX),
        );
        assert!(
            close(g.lo, lo) && close(g.hi, hi),
            "{what}: edges {g:?} vs {w}"
        );
        assert_eq!(g.count, n, "{what}: count of [{lo}, {hi})");
    }
}

fn check_counts(got: &[Count], want: &Value, what: &str) {
    let want: Vec<(String, u64, u64)> = serde_json::from_value(want.clone()).expect("rows");
    let got: Vec<(String, u64, u64)> = got
        .iter()
        .map(|c| (c.key.clone(), c.flows, c.bytes))
        .collect();
    assert_eq!(got, want, "{what}");
}

#[test]
fn traffic_matches_pandas() {
    let want = expected();
    let (batches, _) = read_all(
        &[format!("{ROOT}/tests/fixtures/profile/flows.parquet")],
        &ReadOptions::default(),
    )
    .expect("fixture reads");
    let flows = Flows::from_batches(&batches).expect("columns");
    let t = Traffic::of(&flows, &InternalNets::new(Vec::new()), &GeoStack::new());
    assert_eq!(t.flows, want["flows"].as_u64().unwrap_or(0));
    check_bins(&t.up_hist, &want["up_hist"], "up_hist");
    check_bins(&t.down_hist, &want["down_hist"], "down_hist");
    assert_eq!(
        serde_json::to_value(&t.by_hour_flows).ok(),
        Some(want["by_hour_flows"].clone())
    );
    assert_eq!(
        serde_json::to_value(&t.by_hour_bytes).ok(),
        Some(want["by_hour_bytes"].clone())
    );
    check_counts(&t.top_talkers, &want["top_talkers"], "top_talkers");
    check_counts(&t.ports, &want["ports"], "ports");
    check_counts(&t.protocols, &want["protocols"], "protocols");
}

#[test]
fn interval_histogram_matches_numpy() {
    let want = &expected()["intervals"];
    let values: Vec<f64> = serde_json::from_value(want["values"].clone()).expect("values");
    let counts: Vec<u64> = serde_json::from_value(want["counts"].clone()).expect("counts");
    let edges: Vec<f64> = serde_json::from_value(want["edges"].clone()).expect("edges");
    let h = linear_histogram(&values, counts.len());
    assert_eq!(h.iter().map(|b| b.count).collect::<Vec<_>>(), counts);
    for (b, e) in h.iter().zip(&edges) {
        assert!(close(b.lo, *e), "{} vs {e}", b.lo);
    }
    assert!(close(
        median(&values),
        want["median"].as_f64().unwrap_or(f64::NAN)
    ));
}
