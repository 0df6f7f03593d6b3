//! Descriptive statistics with pandas' semantics: `describe()` of a numeric column.

use serde::{Deserialize, Serialize};

/// pandas `describe()` of one column: count, sum, mean, sample std (ddof = 1), min, quartiles with
/// linear interpolation, max. Empty input gives zero count and `None` elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Describe {
    /// Number of values.
    pub count: u64,
    /// Exact sum.
    pub sum: u128,
    /// Arithmetic mean.
    pub mean: Option<f64>,
    /// Sample standard deviation (n - 1 in the denominator); `None` below two values.
    pub std: Option<f64>,
    /// Smallest value.
    pub min: Option<u64>,
    /// 25th percentile.
    pub p25: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 75th percentile.
    pub p75: Option<f64>,
    /// Largest value.
    pub max: Option<u64>,
}

/// Quantile `q` of sorted values with linear interpolation between closest ranks (numpy's default
/// "linear" method, which pandas uses): position `q * (n - 1)`.
pub fn quantile_sorted(sorted: &[u64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(lerp(sorted[lo] as f64, sorted[hi] as f64, pos - lo as f64))
}

/// numpy's `_lerp`: `a + (b - a) * t`, computed from the upper end when `t >= 0.5` for symmetry.
pub(crate) fn lerp(a: f64, b: f64, t: f64) -> f64 {
    if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    }
}

/// Several quantiles (ascending `qs`) of unsorted values by selection, O(n) each instead of a sort; the
/// same linear interpolation as [`quantile_sorted`]. Reorders `values`.
pub fn quantiles_select(values: &mut [u64], qs: &[f64]) -> Vec<Option<f64>> {
    let n = values.len();
    if n == 0 {
        return vec![None; qs.len()];
    }
    let mut done = 0usize;
    qs.iter()
        .map(|q| {
            let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = (pos.floor() as usize).max(done);
            let rest = &mut values[done..];
            let (_, a, right) = rest.select_nth_unstable(lo - done);
            let a = *a as f64;
            let b = right.iter().min().map_or(a, |m| *m as f64);
            done = lo;
            let b = if lo + 1 < n { b } else { a };
            Some(lerp(a, b, pos - pos.floor()))
        })
        .collect()
}

/// Mean and sample std by two passes (the numerically stable form pandas uses).
pub fn mean_std(values: &[u64]) -> (Option<f64>, Option<f64>) {
    mean_std_of_sum(values, exact_sum(values))
}

fn exact_sum(values: &[u64]) -> u128 {
    values.iter().map(|v| *v as u128).sum()
}

/// [`mean_std`] given the values' exact sum.
fn mean_std_of_sum(values: &[u64], sum: u128) -> (Option<f64>, Option<f64>) {
    let n = values.len();
    if n == 0 {
        return (None, None);
    }
    let mean = sum as f64 / n as f64;
    if n < 2 {
        return (Some(mean), None);
    }
    let ss: f64 = values.iter().map(|v| (*v as f64 - mean).powi(2)).sum();
    (Some(mean), Some((ss / (n - 1) as f64).sqrt()))
}

impl Describe {
    /// Describes `values` (reordering them).
    pub fn of(values: &mut [u64]) -> Describe {
        let sum = exact_sum(values);
        let (mean, std) = mean_std_of_sum(values, sum);
        let q = quantiles_select(values, &[0.25, 0.5, 0.75]);
        Describe {
            count: values.len() as u64,
            sum,
            mean,
            std,
            min: values.iter().min().copied(),
            p25: q[0],
            p50: q[1],
            p75: q[2],
            max: values.iter().max().copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values worked out by hand (and matching numpy.percentile / pandas.describe).
    #[test]
    fn quantile_table() {
        let v = [1u64, 2, 3, 4];
        let cases = [
            (0.0, 1.0),
            (0.25, 1.75),
            (0.5, 2.5),
            (0.75, 3.25),
            (1.0, 4.0),
        ];
        for (q, want) in cases {
            assert_eq!(quantile_sorted(&v, q), Some(want), "q={q}");
        }
        assert_eq!(quantile_sorted(&[7], 0.3), Some(7.0));
        assert_eq!(quantile_sorted(&[], 0.5), None);
    }

    /// Selection must agree with the sort-based definition on awkward inputs.
    #[test]
    fn selection_matches_sorting() {
        let inputs: [Vec<u64>; 5] = [
            vec![5],
            vec![2, 1],
            vec![3, 3, 3, 1],
            (0..101).rev().collect(),
            vec![9, 1, 8, 2, 7, 3, 6, 4, 5, 0, 100, 1000],
        ];
        let qs = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0];
        for v in inputs {
            let mut sorted = v.clone();
            sorted.sort_unstable();
            let want: Vec<_> = qs.iter().map(|q| quantile_sorted(&sorted, *q)).collect();
            assert_eq!(quantiles_select(&mut v.clone(), &qs), want, "{v:?}");
        }
    }

    #[test]
    fn describe_small() {
        let mut v = vec![4u64, 1, 3, 2];
        let d = Describe::of(&mut v);
        assert_eq!(d.count, 4);
        assert_eq!(d.sum, 10);
        assert_eq!(d.mean, Some(2.5));
        // sample variance of 1..4 = 5/3
        assert!((d.std.unwrap() - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!((d.min, d.max), (Some(1), Some(4)));
        let one = Describe::of(&mut [9]);
        assert_eq!((one.mean, one.std), (Some(9.0), None));
    }
}
