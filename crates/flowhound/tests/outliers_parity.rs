//! Notebook parity: flowhound's per-flow counts and thresholds equal pandas/scipy's on the committed
//! fixtures (expected values written by `tests/oracle/notebook_oracle.py`, not by flowhound).

use flowhound::baseline::stats::MetricStats;
use flowhound::detect::flows::Flows;
use flowhound::detect::notebook::{evaluate, Method, MetricReport, NotebookParams};
use flowhound::ingest::{read_all, ReadOptions};
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests");

fn load(name: &str) -> Flows {
    let path = format!("{ROOT}/fixtures/outliers/{name}");
    let (batches, _) = read_all(&[path], &ReadOptions::default()).expect("fixture reads");
    Flows::from_batches(&batches).expect("canonical batches")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(format!("{ROOT}/oracle/notebook_expected.json"))
        .expect("oracle output committed");
    serde_json::from_str(&text).expect("oracle JSON")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn assert_metric(got: &MetricReport, want: &Value, what: &str) {
    assert_eq!(
        got.combined_rows,
        want["combined_rows"].as_u64().unwrap(),
        "{what} combined_rows"
    );
    if let Some(s) = &got.sigma {
        assert_eq!(
            s.rows,
            want["sigma"]["rows"].as_u64().unwrap(),
            "{what} sigma rows"
        );
        assert!(
            close(
                s.threshold.unwrap(),
                want["sigma"]["threshold"].as_f64().unwrap()
            ),
            "{what} sigma threshold"
        );
    }
    if let Some(s) = &got.iqr {
        assert_eq!(
            s.rows,
            want["iqr"]["rows"].as_u64().unwrap(),
            "{what} iqr rows"
        );
        assert!(
            close(s.lower.unwrap(), want["iqr"]["lower"].as_f64().unwrap()),
            "{what} iqr lower"
        );
        assert!(
            close(s.upper.unwrap(), want["iqr"]["upper"].as_f64().unwrap()),
            "{what} iqr upper"
        );
    }
    if let Some(z) = &got.zscore_test {
        assert_eq!(
            z.rows,
            want["zscore_test"]["rows"].as_u64().unwrap(),
            "{what} zscore rows"
        );
    }
    // every requested method is present, none other
    for (k, present) in [
        ("sigma", got.sigma.is_some()),
        ("iqr", got.iqr.is_some()),
        ("zscore_test", got.zscore_test.is_some()),
    ] {
        assert_eq!(want.get(k).is_some(), present, "{what}: method {k}");
    }
}

#[test]
fn counts_and_thresholds_equal_pandas_scipy() {
    let (normal, test) = (load("normal.parquet"), load("test.parquet"));
    let exp = expected();
    assert_eq!(
        normal.len() as u64,
        exp["fixtures"]["normal_rows"].as_u64().unwrap()
    );
    assert_eq!(
        test.len() as u64,
        exp["fixtures"]["test_rows"].as_u64().unwrap()
    );
    let sets: [(&str, &[Method]); 3] = [
        ("sigma_iqr", &[Method::Sigma, Method::Iqr]),
        ("all", &[Method::Sigma, Method::Iqr, Method::ZscoreTest]),
        ("zscore_test", &[Method::ZscoreTest]),
    ];
    for (name, methods) in sets {
        let (up, fu) = evaluate(&normal.up, &test.up, methods, NotebookParams::default());
        let (down, fd) = evaluate(&normal.down, &test.down, methods, NotebookParams::default());
        assert_metric(&up, &exp[name]["up_bytes"], &format!("{name} up"));
        assert_metric(&down, &exp[name]["down_bytes"], &format!("{name} down"));
        let any = fu
            .iter()
            .zip(&fd)
            .filter(|(a, b)| **a != 0 || **b != 0)
            .count() as u64;
        assert_eq!(
            any,
            exp[name]["rows_any_metric"].as_u64().unwrap(),
            "{name} rows flagged on any metric"
        );
    }
}

#[test]
fn global_statistics_equal_pandas() {
    let normal = load("normal.parquet");
    let exp = expected();
    for (name, values) in [("up_bytes", &normal.up), ("down_bytes", &normal.down)] {
        let s = MetricStats::of(&mut values.clone());
        let w = &exp["normal_stats"][name];
        for (k, got) in [
            ("mean", s.mean),
            ("std", s.std),
            ("q1", s.q1),
            ("median", s.median),
            ("q3", s.q3),
            ("mad", s.mad),
        ] {
            assert!(
                close(got, w[k].as_f64().unwrap()),
                "{name} {k}: {got} vs {}",
                w[k]
            );
        }
    }
}
