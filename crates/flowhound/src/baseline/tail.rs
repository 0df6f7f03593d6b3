//! The heavy tail of host-relative window volumes (pure functions).
//!
//! Byte counts are heavy-tailed: a host whose hourly download is usually 250 kB will, now and then,
//! fetch a 50 MB file. A per-host profile learned from a few dozen windows cannot know how far that
//! tail reaches, so rules such as `mean + 3 std` of the host's own windows fire on ordinary traffic.
//! The whole network can tell: every host's windows are divided by that host's median window, the
//! ratios are pooled, and the upper tail of the pool is fitted with a Pareto law (Hill estimator on
//! the top `k = max(10, sqrt(n))` ratios). [`TailModel::quantile`] then extrapolates the ratio that a
//! normal window exceeds with a given (tiny) probability, beyond the largest one seen.

use serde::{Deserialize, Serialize};

/// Fewest pooled ratios for a fit.
pub const MIN_TAIL_COUNT: usize = 20;
/// Fewest active windows a host needs to contribute ratios (its median must mean something).
pub const MIN_HOST_WINDOWS: usize = 3;

/// Smallest tail sample of the robust (trimmed) fit: up to `ROBUST_MIN_K / 2` contaminated windows
/// at the very top have no influence.
pub const ROBUST_MIN_K: usize = 40;

/// A Pareto fit of the upper tail of host-relative window volumes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TailModel {
    /// Ratios pooled (windows with a positive value of hosts with a positive median).
    pub count: u64,
    /// Order statistics used by the Hill estimator (0: not fitted).
    pub k: u64,
    /// The `k+1`-th largest ratio: where the fitted tail starts.
    pub threshold_ratio: f64,
    /// Hill estimate of the tail index `gamma = 1 / alpha` (larger is heavier).
    pub gamma: f64,
    /// Largest ratios treated as censored by the trimmed Hill estimator (self-learned baselines,
    /// whose very top may be the attack itself); 0 for the plain estimator.
    #[serde(default)]
    pub trimmed: u64,
    /// Largest ratio seen.
    pub max_ratio: f64,
}

/// The tail models of the two byte metrics (host view: sent, received).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelativeTails {
    /// Bytes sent per window, relative to the host's median.
    pub up_bytes: TailModel,
    /// Bytes received per window, relative to the host's median.
    pub down_bytes: TailModel,
}

/// Pushes `value / median` of each positive value of one host's windows into `out` (nothing when the
/// host has fewer than [`MIN_HOST_WINDOWS`] windows or a zero median).
pub fn push_ratios(values: &[u64], median: f64, out: &mut Vec<f64>) {
    if values.len() < MIN_HOST_WINDOWS || median <= 0.0 {
        return;
    }
    out.extend(
        values
            .iter()
            .filter(|v| **v > 0)
            .map(|v| *v as f64 / median),
    );
}

impl TailModel {
    /// Fits the tail of `ratios` (reordered in place); unfitted below [`MIN_TAIL_COUNT`] values.
    pub fn fit(ratios: &mut [f64]) -> TailModel {
        Self::fit_trimmed(ratios, false)
    }

    /// [`TailModel::fit`], with the top half of the `k` (at least [`ROBUST_MIN_K`]) tail values
    /// censored when `robust` (the trimmed Hill estimator), so that the extreme windows of an attack
    /// inside a self-learned baseline cannot inflate the fitted tail.
    pub fn fit_trimmed(ratios: &mut [f64], robust: bool) -> TailModel {
        let n = ratios.len();
        ratios.sort_unstable_by(|a, b| b.total_cmp(a));
        let mut m = TailModel {
            count: n as u64,
            max_ratio: ratios.first().copied().unwrap_or(0.0),
            ..Default::default()
        };
        if n < MIN_TAIL_COUNT {
            return m;
        }
        let k_min = if robust { ROBUST_MIN_K } else { 10 };
        let k = ((n as f64).sqrt() as usize).max(k_min).min(n - 1);
        let u = ratios[k];
        if u <= 0.0 {
            return m;
        }
        m.k = k as u64;
        m.threshold_ratio = u;
        let k0 = if robust { k / 2 } else { 0 };
        m.trimmed = k0 as u64;
        m.gamma = trimmed_hill(&ratios[..k], u, k0);
        m
    }

    /// The ratio a normal window exceeds with probability `p` (`None` when not fitted or `p` is not
    /// in (0, 1)). Never below the fitted tail's start.
    pub fn quantile(&self, p: f64) -> Option<f64> {
        if self.k == 0 || !(p > 0.0 && p < 1.0) {
            return None;
        }
        let excess = self.k as f64 / (self.count as f64 * p);
        Some(self.threshold_ratio * excess.max(1.0).powf(self.gamma))
    }
}

/// The trimmed Hill estimator: the top `k0` of `top` (sorted descending, all `>= u > 0`) are treated
/// as censored at the `k0+1`-th, i.e. the maximum-likelihood exponential mean of the log-excesses
/// `ln(x_i / u)` with right censoring: `(k0 * y_(k0+1) + sum_{i>k0} y_i) / (k - k0)`. `k0 = 0` is
/// Hill's estimator.
pub fn trimmed_hill(top: &[f64], u: f64, k0: usize) -> f64 {
    let k = top.len();
    if k0 >= k || u <= 0.0 {
        return 0.0;
    }
    let y = |x: f64| (x / u).ln();
    let observed: f64 = top[k0..].iter().map(|x| y(*x)).sum();
    (k0 as f64 * y(top[k0]) + observed) / (k - k0) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An exact Pareto sample of shape `alpha`: the `i`-th largest of `n` is `(n / i)^(1/alpha)`.
    fn pareto(n: usize, alpha: f64) -> Vec<f64> {
        (1..=n)
            .map(|i| (n as f64 / i as f64).powf(1.0 / alpha))
            .collect()
    }

    #[test]
    fn hill_recovers_the_shape() {
        for (alpha, tol) in [(1.0, 0.1), (1.2, 0.1), (2.0, 0.1), (4.0, 0.1)] {
            let m = TailModel::fit(&mut pareto(10_000, alpha));
            assert_eq!(m.k, 100);
            let got = 1.0 / m.gamma;
            assert!((got - alpha).abs() / alpha < tol, "alpha {alpha}: {got}");
        }
    }

    #[test]
    fn quantile_extrapolates_the_pareto_law() {
        // true survival of the exact sample: P(X > x) = x^-alpha, so q(p) = p^(-1/alpha)
        for (alpha, p) in [(1.0, 1e-5f64), (1.5, 1e-6), (2.0, 1e-3)] {
            let m = TailModel::fit(&mut pareto(10_000, alpha));
            let want = p.powf(-1.0 / alpha);
            let got = m.quantile(p).unwrap();
            assert!(
                (got / want - 1.0).abs() < 0.35,
                "{alpha} {p}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn trimming_resists_a_few_extreme_values() {
        let mut clean = pareto(10_000, 1.5);
        let mut dirty = clean.clone();
        dirty.extend([1e9; 10]);
        let plain = TailModel::fit(&mut dirty.clone());
        let trimmed = TailModel::fit_trimmed(&mut dirty, true);
        assert!(
            1.0 / plain.gamma < 1.3,
            "contaminated plain fit: {}",
            plain.gamma
        );
        assert!((1.0 / trimmed.gamma - 1.5).abs() < 0.2, "{}", trimmed.gamma);
        let t = TailModel::fit_trimmed(&mut clean, true);
        assert_eq!(t.trimmed, 50);
        assert!((1.0 / t.gamma - 1.5).abs() < 0.15, "{}", t.gamma);
        // k0 = 0 is Hill: mean(ln 8, ln 4, ln 2) = ln 4; hand-worked censoring: top [8, 4, 2], u = 1,
        // k0 = 1 -> (ln4 + ln4 + ln2) / 2
        assert!((trimmed_hill(&[8.0, 4.0, 2.0], 1.0, 0) - 4f64.ln()).abs() < 1e-12);
        let want = (2.0 * 4f64.ln() + 2f64.ln()) / 2.0;
        assert!((trimmed_hill(&[8.0, 4.0, 2.0], 1.0, 1) - want).abs() < 1e-12);
        assert_eq!(trimmed_hill(&[8.0], 1.0, 1), 0.0);
    }

    #[test]
    fn hand_worked_fit() {
        // 20 ratios: 19 ones and a 20; k = max(10, 4) = 10, u = 1 (11th largest), top ten: 20 and nine 1s
        let mut r = vec![1.0; 19];
        r.push(20.0);
        let m = TailModel::fit(&mut r);
        assert_eq!(
            (m.count, m.k, m.threshold_ratio, m.max_ratio),
            (20, 10, 1.0, 20.0)
        );
        assert!((m.gamma - 20f64.ln() / 10.0).abs() < 1e-12);
        // p = k/n gives the tail start; smaller p scales by (k / (n p))^gamma
        assert_eq!(m.quantile(0.5), Some(1.0));
        let q = m.quantile(0.005).unwrap();
        assert!((q - 100f64.powf(20f64.ln() / 10.0)).abs() < 1e-9, "{q}");
    }

    #[test]
    fn unfitted_and_edge_cases() {
        let m = TailModel::fit(&mut [3.0; 5]);
        assert_eq!((m.count, m.k, m.max_ratio), (5, 0, 3.0));
        assert_eq!(m.quantile(0.01), None);
        let m = TailModel::fit(&mut pareto(100, 1.0));
        for p in [0.0, 1.0, -1.0, f64::NAN] {
            assert_eq!(m.quantile(p), None, "{p}");
        }
        assert_eq!(trimmed_hill(&[], 1.0, 0), 0.0);
        let mut out = Vec::new();
        push_ratios(&[1, 2], 1.0, &mut out);
        push_ratios(&[0, 4, 8], 0.0, &mut out);
        assert!(out.is_empty());
        push_ratios(&[0, 4, 8], 4.0, &mut out);
        assert_eq!(out, [1.0, 2.0]);
    }
}
