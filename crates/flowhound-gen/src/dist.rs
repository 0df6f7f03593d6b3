//! Sampling helpers on a seeded RNG: heavy-tailed sizes, Zipf popularity,
//! weighted choice, and per-stream seed derivation.

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The RNG used everywhere (fast, seedable, portable).
pub(crate) type GenRng = ChaCha8Rng;

/// An independent RNG for stream `stream` of the master `seed`.
pub(crate) fn stream_rng(seed: u64, stream: u64) -> GenRng {
    let mut rng = GenRng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// A standard normal deviate (Box-Muller).
pub(crate) fn std_normal(rng: &mut GenRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A lognormal deviate whose median is `median`.
pub(crate) fn lognormal(rng: &mut GenRng, median: f64, sigma: f64) -> f64 {
    median * (sigma * std_normal(rng)).exp()
}

/// A Pareto deviate with scale `xm` and shape `alpha`.
pub(crate) fn pareto(rng: &mut GenRng, xm: f64, alpha: f64) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    xm / u.powf(1.0 / alpha)
}

/// Rounds a positive size to bytes, clamped to `[lo, hi]`.
pub(crate) fn bytes(x: f64, lo: i64, hi: i64) -> i64 {
    (x.round() as i64).clamp(lo, hi)
}

/// `x` multiplied by a uniform factor in `[1 - frac, 1 + frac]`.
pub(crate) fn jitter(rng: &mut GenRng, x: f64, frac: f64) -> f64 {
    x * (1.0 + frac * (2.0 * rng.random::<f64>() - 1.0))
}

/// Zipf weights `1 / rank^s` for ranks 1..=n.
pub(crate) fn zipf_weights(n: usize, s: f64) -> Vec<f64> {
    (1..=n).map(|r| 1.0 / (r as f64).powf(s)).collect()
}

/// A discrete distribution over indices, sampled by binary search.
#[derive(Debug, Clone)]
pub(crate) struct Weighted {
    cum: Vec<f64>,
}

impl Weighted {
    /// Builds the table; negative or NaN weights count as zero.
    pub(crate) fn new(weights: &[f64]) -> Self {
        let mut acc = 0.0;
        let cum = weights
            .iter()
            .map(|&w| {
                acc += if w.is_finite() && w > 0.0 { w } else { 0.0 };
                acc
            })
            .collect();
        Weighted { cum }
    }

    /// Total weight.
    pub(crate) fn total(&self) -> f64 {
        self.cum.last().copied().unwrap_or(0.0)
    }

    /// A random index, or `None` when all weights are zero.
    pub(crate) fn sample(&self, rng: &mut GenRng) -> Option<usize> {
        let total = self.total();
        if total <= 0.0 {
            return None;
        }
        let x = rng.random::<f64>() * total;
        let i = self.cum.partition_point(|&c| c <= x);
        Some(i.min(self.cum.len() - 1))
    }
}

/// Splits `n` items over `weights` exactly (cumulative rounding).
pub(crate) fn apportion(n: u64, weights: &[f64]) -> Vec<u64> {
    let total: f64 = weights.iter().filter(|w| w.is_finite() && **w > 0.0).sum();
    if total <= 0.0 {
        return vec![0; weights.len()];
    }
    let mut acc = 0.0;
    let mut prev = 0u64;
    let mut out: Vec<u64> = weights
        .iter()
        .map(|&w| {
            acc += if w.is_finite() && w > 0.0 { w } else { 0.0 };
            let upto = ((acc / total) * n as f64).floor() as u64;
            let c = upto.min(n).saturating_sub(prev);
            prev += c;
            c
        })
        .collect();
    let last_positive = weights.iter().rposition(|w| w.is_finite() && *w > 0.0);
    if let Some(i) = last_positive {
        out[i] += n - prev;
    }
    out
}

/// Picks `k` distinct items from `pool` (order of the result is random).
pub(crate) fn choose_distinct<T: Clone>(rng: &mut GenRng, pool: &[T], k: usize) -> Vec<T> {
    let mut v = pool.to_vec();
    let k = k.min(v.len());
    for i in 0..k {
        let j = rng.random_range(i..v.len());
        v.swap(i, j);
    }
    v.truncate(k);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_exact() {
        let parts = apportion(1001, &[1.0, 2.0, 0.0, 3.5]);
        assert_eq!(parts.iter().sum::<u64>(), 1001);
        assert_eq!(parts[2], 0);
        assert_eq!(apportion(5, &[0.0, 0.0]), vec![0, 0]);
    }

    #[test]
    fn weighted_never_picks_zero_weight() {
        let w = Weighted::new(&[0.0, 1.0, 0.0, 1.0]);
        let mut rng = stream_rng(1, 0);
        for _ in 0..1000 {
            let i = w.sample(&mut rng).unwrap_or(0);
            assert!(i == 1 || i == 3);
        }
        assert!(Weighted::new(&[0.0]).sample(&mut rng).is_none());
    }

    #[test]
    fn lognormal_median_is_close() {
        let mut rng = stream_rng(7, 0);
        let mut v: Vec<f64> = (0..20_001)
            .map(|_| lognormal(&mut rng, 1000.0, 1.0))
            .collect();
        v.sort_by(f64::total_cmp);
        let median = v[10_000];
        assert!((900.0..1100.0).contains(&median), "median {median}");
    }

    #[test]
    fn distinct_choice() {
        let mut rng = stream_rng(3, 0);
        let mut got = choose_distinct(&mut rng, &[1, 2, 3, 4, 5], 3);
        got.sort_unstable();
        got.dedup();
        assert_eq!(got.len(), 3);
    }
}
