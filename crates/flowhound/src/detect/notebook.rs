//! Notebook parity: the analysts' per-flow outlier rules, with pandas/scipy semantics, exactly.
//!
//! ```text
//! threshold = mean(normal) + 3 * std(normal, ddof=1)
//! lower, upper = Q1 - 1.5 IQR, Q3 + 1.5 IQR          (quartiles of normal, linear interpolation)
//! sigma rows = test > threshold;  iqr rows = test < lower or test > upper
//! zscore_test rows = |(test - mean(test)) / std(test, ddof=0)| > 3   (scipy.stats.zscore on the test itself)
//! ```
//!
//! `combined_rows` counts the rows flagged by any requested method (the notebook's `anomalies_up`).
//! Checked against `tests/oracle/notebook_oracle.py`.

use crate::baseline::stats::{iqr_fences, sigma_threshold, zscore};
use crate::error::{FlowError, Result};
use crate::stats::{mean_std, quantile_sorted};
use serde::{Deserialize, Serialize};

/// A per-flow rule of the notebook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `mean + k * std` learned on normal.
    Sigma,
    /// Tukey fences learned on normal.
    Iqr,
    /// scipy's z-score on the test data itself.
    ZscoreTest,
}

impl Method {
    /// Parses `sigma`, `iqr`, `zscore-test` (also `zscore_test`, `zscore`).
    pub fn parse(text: &str) -> Result<Method> {
        match text.trim().to_ascii_lowercase().as_str() {
            "sigma" => Ok(Method::Sigma),
            "iqr" => Ok(Method::Iqr),
            "zscore-test" | "zscore_test" | "zscore" => Ok(Method::ZscoreTest),
            other => Err(FlowError::Config(format!(
                "--method '{other}': use sigma, iqr or zscore-test (comma-separated)"
            ))),
        }
    }
}

/// The rule parameters (the notebook's constants by default).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotebookParams {
    /// Standard deviations above the mean for `sigma` (notebook: 3).
    pub k_std: f64,
    /// IQR multiplier for the fences (notebook: 1.5).
    pub iqr_factor: f64,
    /// |z| limit for `zscore-test` (notebook: 3).
    pub z_limit: f64,
}

impl Default for NotebookParams {
    fn default() -> Self {
        NotebookParams {
            k_std: 3.0,
            iqr_factor: 1.5,
            z_limit: 3.0,
        }
    }
}

/// `sigma` result for one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigmaOut {
    /// `mean + k * std` of normal (`null` below two normal rows).
    pub threshold: Option<f64>,
    /// Test rows above it.
    pub rows: u64,
}

/// `iqr` result for one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IqrOut {
    /// Lower fence (`null` without normal rows).
    pub lower: Option<f64>,
    /// Upper fence.
    pub upper: Option<f64>,
    /// Test rows outside the fences.
    pub rows: u64,
}

/// `zscore_test` result for one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZOut {
    /// Test rows with |z| above the limit.
    pub rows: u64,
}

/// Results of one metric, in the documented `--json` shape.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MetricReport {
    /// Present when `sigma` was requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma: Option<SigmaOut>,
    /// Present when `iqr` was requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iqr: Option<IqrOut>,
    /// Present when `zscore-test` was requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zscore_test: Option<ZOut>,
    /// Rows flagged by any requested method.
    pub combined_rows: u64,
}

/// The `--json` document of `flowhound outliers`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NotebookReport {
    /// Upload bytes.
    pub up_bytes: MetricReport,
    /// Download bytes.
    pub down_bytes: MetricReport,
}

/// Which rules flagged a row, as bits (`1` sigma, `2` iqr, `4` zscore-test), for one metric.
pub type Flags = u8;

/// Evaluates the requested methods on one metric; returns the report and per-row flags.
pub fn evaluate(
    normal: &[u64],
    test: &[u64],
    methods: &[Method],
    p: NotebookParams,
) -> (MetricReport, Vec<Flags>) {
    let mut flags = vec![0u8; test.len()];
    let mut rep = MetricReport::default();
    let (mean, std) = mean_std(normal);
    let mut sorted = normal.to_vec();
    sorted.sort_unstable();
    if methods.contains(&Method::Sigma) {
        let thr = mean.zip(std).map(|(m, s)| sigma_threshold(m, s, p.k_std));
        let rows = mark(&mut flags, 1, test, |x| thr.is_some_and(|t| x > t));
        rep.sigma = Some(SigmaOut {
            threshold: thr,
            rows,
        });
    }
    if methods.contains(&Method::Iqr) {
        let q = quantile_sorted(&sorted, 0.25).zip(quantile_sorted(&sorted, 0.75));
        let fences = q.map(|(q1, q3)| iqr_fences(q1, q3, p.iqr_factor));
        let rows = mark(&mut flags, 2, test, |x| {
            fences.is_some_and(|(lo, hi)| x < lo || x > hi)
        });
        rep.iqr = Some(IqrOut {
            lower: fences.map(|f| f.0),
            upper: fences.map(|f| f.1),
            rows,
        });
    }
    if methods.contains(&Method::ZscoreTest) {
        let (tm, ts) = mean_std_population(test);
        let rows = mark(&mut flags, 4, test, |x| zscore(x, tm, ts).abs() > p.z_limit);
        rep.zscore_test = Some(ZOut { rows });
    }
    rep.combined_rows = flags.iter().filter(|f| **f != 0).count() as u64;
    (rep, flags)
}

fn mark(flags: &mut [Flags], bit: u8, values: &[u64], hit: impl Fn(f64) -> bool) -> u64 {
    let mut n = 0;
    for (f, v) in flags.iter_mut().zip(values) {
        if hit(*v as f64) {
            *f |= bit;
            n += 1;
        }
    }
    n
}

/// Mean and population std (ddof = 0), as `scipy.stats.zscore` uses; NaN-free (empty gives zeros).
pub fn mean_std_population(values: &[u64]) -> (f64, f64) {
    let n = values.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = values.iter().map(|v| *v as u128).sum::<u128>() as f64 / n as f64;
    let ss: f64 = values.iter().map(|v| (*v as f64 - mean).powi(2)).sum();
    (mean, (ss / n as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small table worked by hand: normal 1..=8 (mean 4.5, std 2.449..., Q1 2.75, Q3 6.25).
    #[test]
    fn evaluate_table() {
        let normal: Vec<u64> = (1..=8).collect();
        let test = [0u64, 5, 12, 20, 100];
        let all = [Method::Sigma, Method::Iqr, Method::ZscoreTest];
        let (rep, flags) = evaluate(&normal, &test, &all, NotebookParams::default());
        // sigma: 4.5 + 3 * sqrt(6) = 11.848...: 12, 20, 100
        let thr = rep.sigma.as_ref().unwrap().threshold.unwrap();
        assert!((thr - (4.5 + 3.0 * 6f64.sqrt())).abs() < 1e-12);
        assert_eq!(rep.sigma.unwrap().rows, 3);
        // fences -2.5, 11.5: 12, 20, 100
        let iqr = rep.iqr.unwrap();
        assert_eq!(
            (iqr.lower, iqr.upper, iqr.rows),
            (Some(-2.5), Some(11.5), 3)
        );
        // test mean 27.4, population std 37.0...: no |z| > 3 with 5 values (max |z| is (n-1)/sqrt(n) = 1.79)
        assert_eq!(rep.zscore_test.unwrap().rows, 0);
        assert_eq!(rep.combined_rows, 3);
        assert_eq!(flags, [0, 0, 3, 3, 3]);
    }

    #[test]
    fn degenerate_inputs() {
        let (rep, _) = evaluate(
            &[7],
            &[1, 100],
            &[Method::Sigma, Method::ZscoreTest],
            NotebookParams::default(),
        );
        assert_eq!(
            rep.sigma.unwrap(),
            SigmaOut {
                threshold: None,
                rows: 0
            }
        );
        let (rep, _) = evaluate(
            &[],
            &[5, 5, 5],
            &[Method::Iqr, Method::ZscoreTest],
            NotebookParams::default(),
        );
        assert_eq!(rep.iqr.unwrap().rows, 0);
        assert_eq!(rep.zscore_test.unwrap().rows, 0);
        assert!(Method::parse("bogus").is_err());
        assert_eq!(Method::parse("zscore-test").unwrap(), Method::ZscoreTest);
    }
}
