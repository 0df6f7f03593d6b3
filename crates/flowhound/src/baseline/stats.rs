//! Summary statistics of one metric (pure functions): mean and sample std, quartiles with linear
//! interpolation, IQR fences, median, MAD and p99. The same numbers pandas gives (`mean()`, `std()`,
//! `quantile()`, `(s - s.median()).abs().median()`), checked by `tests/oracle/notebook_oracle.py`.

use crate::stats::{mean_std, quantile_sorted};
use serde::{Deserialize, Serialize};

/// The factor that turns a MAD into a consistent estimate of the standard deviation of a normal law.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// Statistics of one metric over a set of values (flows, or host windows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricStats {
    /// Number of values.
    pub count: u64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (ddof = 1); 0 below two values.
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// 25th percentile (linear interpolation).
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// 75th percentile.
    pub q3: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
    /// Lower Tukey fence `q1 - 1.5 * (q3 - q1)`.
    pub iqr_lower: f64,
    /// Upper Tukey fence `q3 + 1.5 * (q3 - q1)`.
    pub iqr_upper: f64,
    /// Median absolute deviation from the median (unscaled; multiply by [`MAD_TO_SIGMA`] for a sigma).
    pub mad: f64,
}

/// Tukey fences `(q1 - f * iqr, q3 + f * iqr)`.
pub fn iqr_fences(q1: f64, q3: f64, factor: f64) -> (f64, f64) {
    let iqr = q3 - q1;
    (q1 - factor * iqr, q3 + factor * iqr)
}

/// `mean + k * std`.
pub fn sigma_threshold(mean: f64, std: f64, k: f64) -> f64 {
    mean + k * std
}

/// The z-score `(x - center) / scale`; 0 when the scale is not positive and `x == center`, infinite
/// when it is not positive and `x` differs.
pub fn zscore(x: f64, center: f64, scale: f64) -> f64 {
    if scale > 0.0 {
        (x - center) / scale
    } else if x == center {
        0.0
    } else {
        f64::INFINITY.copysign(x - center)
    }
}

/// Median absolute deviation of sorted values around their median (unscaled).
pub fn mad_sorted(sorted: &[u64], median: f64) -> f64 {
    let mut dev: Vec<f64> = sorted.iter().map(|v| (*v as f64 - median).abs()).collect();
    dev.sort_unstable_by(f64::total_cmp);
    median_f64(&dev)
}

fn median_f64(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// A robust scale: `1.4826 * MAD`, or `IQR / 1.349` when the MAD is 0, or the std as a last resort.
pub fn robust_scale(s: &MetricStats) -> f64 {
    if s.mad > 0.0 {
        MAD_TO_SIGMA * s.mad
    } else if s.q3 > s.q1 {
        (s.q3 - s.q1) / 1.349
    } else {
        s.std
    }
}

impl MetricStats {
    /// Statistics of `values` (sorted in place). Empty input gives all zeros.
    pub fn of(values: &mut [u64]) -> MetricStats {
        if values.is_empty() {
            return MetricStats::default();
        }
        // sorted first: the sums then do not depend on the input order (hash-map order, threads)
        values.sort_unstable();
        let (mean, std) = mean_std(values);
        let q = |p: f64| quantile_sorted(values, p).unwrap_or(0.0);
        let (q1, median, q3) = (q(0.25), q(0.5), q(0.75));
        let (iqr_lower, iqr_upper) = iqr_fences(q1, q3, 1.5);
        MetricStats {
            count: values.len() as u64,
            mean: mean.unwrap_or(0.0),
            std: std.unwrap_or(0.0),
            min: values[0] as f64,
            q1,
            median,
            q3,
            p90: q(0.9),
            p99: q(0.99),
            max: values[values.len() - 1] as f64,
            iqr_lower,
            iqr_upper,
            mad: mad_sorted(values, median),
        }
    }

    /// The centre used by mean-based rules: the mean, or the median when `robust`.
    pub fn center(&self, robust: bool) -> f64 {
        if robust {
            self.median
        } else {
            self.mean
        }
    }

    /// The high quantile guarding against heavy tails: p99, or p90 when `robust` (a self-learned
    /// baseline whose top percent may be the attack itself).
    pub fn tail(&self, robust: bool) -> f64 {
        if robust {
            self.p90
        } else {
            self.p99
        }
    }

    /// The name of [`MetricStats::tail`]'s quantile, for explanations.
    pub fn tail_name(robust: bool) -> &'static str {
        if robust {
            "p90"
        } else {
            "p99"
        }
    }

    /// The spread used by mean-based rules: the sample std, or the robust scale when `robust`.
    pub fn scale(&self, robust: bool) -> f64 {
        if robust {
            robust_scale(self)
        } else {
            self.std
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// values, mean, q1, median, q3, mad
    type Case = (&'static [u64], f64, f64, f64, f64, f64);

    /// Hand-worked values (numpy/pandas agree): 1..=8 and a skewed set.
    #[test]
    fn stats_table() {
        let cases: [Case; 3] = [
            (&[1, 2, 3, 4, 5, 6, 7, 8], 4.5, 2.75, 4.5, 6.25, 2.0),
            (&[1, 1, 2, 2, 4, 6, 9], 25.0 / 7.0, 1.5, 2.0, 5.0, 1.0),
            (&[5], 5.0, 5.0, 5.0, 5.0, 0.0),
        ];
        for (vals, mean, q1, med, q3, mad) in cases {
            let s = MetricStats::of(&mut vals.to_vec());
            assert!((s.mean - mean).abs() < 1e-12, "{vals:?}");
            assert_eq!(
                (s.q1, s.median, s.q3, s.mad),
                (q1, med, q3, mad),
                "{vals:?}"
            );
        }
        assert_eq!(MetricStats::of(&mut []), MetricStats::default());
    }

    #[test]
    fn rules_table() {
        assert_eq!(iqr_fences(2.0, 6.0, 1.5), (-4.0, 12.0));
        assert_eq!(sigma_threshold(10.0, 2.0, 3.0), 16.0);
        let z = [
            (5.0, 3.0, 1.0, 2.0),
            (3.0, 3.0, 0.0, 0.0),
            (4.0, 3.0, 0.0, f64::INFINITY),
            (2.0, 3.0, 0.0, f64::NEG_INFINITY),
        ];
        for (x, c, s, want) in z {
            assert_eq!(zscore(x, c, s), want, "{x} {c} {s}");
        }
    }

    #[test]
    fn robust_scale_falls_back() {
        let s = MetricStats {
            mad: 2.0,
            ..Default::default()
        };
        assert_eq!(robust_scale(&s), 2.0 * MAD_TO_SIGMA);
        let s = MetricStats {
            q1: 1.0,
            q3: 2.349,
            ..Default::default()
        };
        assert!((robust_scale(&s) - 1.0).abs() < 1e-12);
        let s = MetricStats {
            std: 7.0,
            ..Default::default()
        };
        assert_eq!(robust_scale(&s), 7.0);
    }
}
