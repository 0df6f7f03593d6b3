//! Pure maths of the `cnc_beacon` detector: RITA v5's beacon sub-scores (Bowley skew and MAD of the
//! inter-arrival gaps and of the sizes, histogram consistency, duration/coverage, weighted mean) with
//! flowhound's changes: sub-second gaps, bursts merged, a histogram over the pair's own active span,
//! constant sizes scored as perfectly regular, and an absolute-duration term. Checked against
//! `tests/oracle/beacon_oracle.py` (numpy) in `tests/detect_beacon.rs`. Also the plain f64 [`median`]
//! and [`median_mad`] the other detectors share.

/// Quantile of sorted values with linear interpolation (numpy/pandas default); `None` when empty.
pub fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = p.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

/// The median of values, sorted in place (`total_cmp`): the middle value, or the mean `(a + b) / 2`
/// of the two middle ones; 0 when empty. The detectors' one plain f64 median (`dns_anomaly`,
/// `server_abuse`); [`quantile`]`(sorted, 0.5)` interpolates as `a + (b - a) / 2`, which can differ in
/// the last bit, so the beacon maths keep it.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// [`median`] of values and their unscaled median absolute deviation `median(|x - median(x)|)`;
/// `(0, 0)` when empty.
pub fn median_mad(values: &[f64]) -> (f64, f64) {
    let med = median(&mut values.to_vec());
    let mut dev: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
    (med, median(&mut dev))
}

/// Median absolute deviation about the median (unscaled) of sorted values: `median(|x - median(x)|)`.
pub fn mad(sorted: &[f64]) -> f64 {
    let Some(med) = quantile(sorted, 0.5) else {
        return 0.0;
    };
    let mut dev: Vec<f64> = sorted.iter().map(|v| (v - med).abs()).collect();
    dev.sort_unstable_by(f64::total_cmp);
    quantile(&dev, 0.5).unwrap_or(0.0)
}

/// Bowley (quartile) skewness `(Q1 + Q3 - 2 Q2) / (Q3 - Q1)` of sorted values, in [-1, 1].
///
/// As in RITA it is 0 when the median equals a quartile (unreliable), and 0 when the quartile spread
/// `Q3 - Q1` is below `min_spread_ratio * Q2` (RITA uses an absolute 10 s / 10 bytes; a relative
/// floor also works for sub-second periods).
pub fn bowley_skew(sorted: &[f64], min_spread_ratio: f64) -> f64 {
    let (Some(q1), Some(q2), Some(q3)) = (
        quantile(sorted, 0.25),
        quantile(sorted, 0.5),
        quantile(sorted, 0.75),
    ) else {
        return 0.0;
    };
    let den = q3 - q1;
    if den <= 0.0 || den < min_spread_ratio * q2.abs() || q2 == q1 || q2 == q3 {
        return 0.0;
    }
    ((q1 + q3 - 2.0 * q2) / den).clamp(-1.0, 1.0)
}

/// The dispersion score `(median - MAD) / median` clamped to [0, 1]; when the median is below 1 it
/// is 1 if every value is equal (MAD 0: perfectly constant, e.g. zero-byte SYN beacons) and
/// `default` otherwise (RITA: 1 for gaps, 0 for sizes, whatever the MAD).
pub fn mad_score(sorted: &[f64], default: f64) -> f64 {
    let med = quantile(sorted, 0.5).unwrap_or(0.0);
    let m = mad(sorted);
    if med < 1.0 {
        return if m == 0.0 { 1.0 } else { default };
    }
    ((med - m) / med).clamp(0.0, 1.0)
}

/// RITA's statistical score of a series: `((1 - |bowley|) + mad_score) / 2`.
pub fn regularity_score(sorted: &[f64], min_spread_ratio: f64, mad_default: f64) -> f64 {
    ((1.0 - bowley_skew(sorted, min_spread_ratio).abs()) + mad_score(sorted, mad_default)) / 2.0
}

/// Sorted timestamps (µs) merged into events: a connection closer than `merge_us` to the previous one
/// belongs to its burst. Returns the start of each event.
pub fn merge_bursts(sorted_ts: &[i64], merge_us: i64) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::with_capacity(sorted_ts.len());
    let mut last = i64::MIN;
    for &t in sorted_ts {
        if out.is_empty() || t.saturating_sub(last) >= merge_us {
            out.push(t);
        }
        last = t;
    }
    out
}

/// Gaps between consecutive event starts, in seconds (sub-second precision), sorted.
pub fn sorted_gaps_secs(events: &[i64]) -> Vec<f64> {
    let mut g: Vec<f64> = events
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / 1e6)
        .collect();
    g.sort_unstable_by(f64::total_cmp);
    g
}

/// Silences at least this many median gaps long (and [`SILENCE_MIN_SECS`]) are when the host was
/// off, not part of the beacon's rhythm: [`close_silences`].
pub const SILENCE_PERIODS: f64 = 10.0;
/// The shortest silence closed, seconds.
pub const SILENCE_MIN_SECS: f64 = 3600.0;

/// The events on the host's active timeline: every gap of at least `max(SILENCE_PERIODS * median
/// gap, SILENCE_MIN_SECS)` (a laptop asleep overnight, a machine switched off) shrinks to the median
/// gap, so that the histogram judges the beacon while its host was up. Sorted input, sorted output.
pub fn close_silences(events: &[i64]) -> Vec<i64> {
    let gaps = sorted_gaps_secs(events);
    let Some(median) = quantile(&gaps, 0.5) else {
        return events.to_vec();
    };
    let silence = (SILENCE_PERIODS * median).max(SILENCE_MIN_SECS);
    let step = (median * 1e6) as i64;
    let mut out = Vec::with_capacity(events.len());
    let mut shift = 0i64;
    for (i, &t) in events.iter().enumerate() {
        if i > 0 && (t - events[i - 1]) as f64 / 1e6 >= silence {
            shift += t - events[i - 1] - step;
        }
        out.push(t - shift);
    }
    out
}

/// Connections per bin over `[first, last]` split into `bins` equal bins (the last edge inclusive).
pub fn histogram(sorted_ts: &[i64], bins: usize) -> Vec<u64> {
    let bins = bins.max(1);
    let mut h = vec![0u64; bins];
    let (Some(&first), Some(&last)) = (sorted_ts.first(), sorted_ts.last()) else {
        return h;
    };
    let span = (last - first).max(1) as f64;
    for &t in sorted_ts {
        let i = (((t - first) as f64 / span) * bins as f64) as usize;
        h[i.min(bins - 1)] += 1;
    }
    h
}

/// RITA's histogram flatness: `1 - cv` (population std / mean of the bin counts), 0 when cv > 1.
pub fn cv_score(hist: &[u64]) -> f64 {
    let n = hist.len() as f64;
    let total: u64 = hist.iter().sum();
    if hist.is_empty() || total == 0 {
        return 0.0;
    }
    let mean = total as f64 / n;
    let var = hist.iter().map(|c| (*c as f64 - mean).powi(2)).sum::<f64>() / n;
    (1.0 - var.sqrt() / mean).clamp(0.0, 1.0)
}

/// RITA's bimodal fit: bar heights grouped into buckets of `ceil(max * sensitivity)`; the share of
/// non-empty bars in the two biggest buckets, over `bars - outliers`; 0 below `min_bars` bars.
pub fn bimodal_score(hist: &[u64], sensitivity: f64, outliers: usize, min_bars: usize) -> f64 {
    let bars: Vec<u64> = hist.iter().copied().filter(|c| *c > 0).collect();
    if bars.len() < min_bars.max(1) {
        return 0.0;
    }
    let max = bars.iter().copied().max().unwrap_or(1);
    let size = ((max as f64) * sensitivity).ceil().max(1.0) as u64;
    let mut counts: std::collections::BTreeMap<u64, u64> = Default::default();
    for b in &bars {
        *counts.entry(b / size).or_default() += 1;
    }
    let mut top: Vec<u64> = counts.into_values().collect();
    top.sort_unstable_by(|a, b| b.cmp(a));
    let fit = top.iter().take(2).sum::<u64>() as f64
        / (bars.len().saturating_sub(outliers)).max(1) as f64;
    fit.min(1.0)
}

/// Bins used for a pair's histogram: one per `per_bin` events, within `[4, max_bins]` (fewer bins
/// would make any series look flat).
pub fn bins_for(events: usize, per_bin: usize, max_bins: usize) -> usize {
    (events / per_bin.max(1)).clamp(4, max_bins.max(4))
}

/// Duration score `max(coverage, active / ideal)`, each capped at 1: `coverage` is the pair's span
/// over the dataset's span (RITA), `active / ideal` rewards a long-running pair in a long capture.
pub fn duration_score(pair_span_secs: f64, dataset_span_secs: f64, ideal_secs: f64) -> f64 {
    let coverage = if dataset_span_secs > 0.0 {
        pair_span_secs / dataset_span_secs
    } else {
        0.0
    };
    let absolute = if ideal_secs > 0.0 {
        pair_span_secs / ideal_secs
    } else {
        0.0
    };
    coverage.max(absolute).clamp(0.0, 1.0)
}

/// Sub-scores of one pair, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SubScores {
    /// Timestamp regularity (gaps).
    pub ts: f64,
    /// Size regularity (bytes per connection).
    pub ds: f64,
    /// Histogram consistency.
    pub hist: f64,
    /// Duration / coverage.
    pub dur: f64,
}

/// The weighted mean `(w_ts ts + w_ds ds + w_hist hist + w_dur dur) / sum(w)`.
pub fn weighted(s: &SubScores, w: [f64; 4]) -> f64 {
    let sum: f64 = w.iter().sum();
    if sum <= 0.0 {
        return 0.0;
    }
    ((s.ts * w[0] + s.ds * w[1] + s.hist * w[2] + s.dur * w[3]) / sum).clamp(0.0, 1.0)
}

/// Rarity of a destination: `1 - (hosts - 1) / (internal_hosts - 1)`, 1 when one host talks to it
/// (or only one internal host is active), 0 when every internal host does.
pub fn rarity(dest_hosts: u64, internal_hosts: u64) -> f64 {
    if internal_hosts <= 1 || dest_hosts <= 1 {
        return 1.0;
    }
    (1.0 - (dest_hosts - 1) as f64 / (internal_hosts - 1) as f64).clamp(0.0, 1.0)
}

/// The final score: `raw * (1 - wp (1 - rarity) - wn (1 - novelty))` (novelty 1 = destination
/// new against the baseline, 0 = known, 0.5 = unknowable with a self-learned baseline).
pub fn boosted(raw: f64, rarity: f64, novelty: f64, w_prevalence: f64, w_novelty: f64) -> f64 {
    (raw * (1.0 - w_prevalence * (1.0 - rarity) - w_novelty * (1.0 - novelty))).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_table() {
        let v = [1.0, 2.0, 3.0, 4.0];
        let cases = [
            (0.0, 1.0),
            (0.25, 1.75),
            (0.5, 2.5),
            (0.75, 3.25),
            (1.0, 4.0),
        ];
        for (p, want) in cases {
            assert_eq!(quantile(&v, p), Some(want), "{p}");
        }
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn median_table() {
        let cases: [(&[f64], f64); 4] = [
            (&[], 0.0),
            (&[3.0], 3.0),
            (&[4.0, 1.0], 2.5),
            (&[5.0, 1.0, 3.0], 3.0),
        ];
        for (xs, want) in cases {
            assert_eq!(median(&mut xs.to_vec()), want, "{xs:?}");
        }
        assert_eq!(median_mad(&[]), (0.0, 0.0));
        assert_eq!(median_mad(&[1.0, 1.0, 1.0, 50.0]), (1.0, 0.0));
        assert_eq!(median_mad(&[1.0, 2.0, 3.0, 4.0, 5.0]), (3.0, 1.0));
    }

    #[test]
    fn skew_table() {
        // (values, min_spread_ratio, expected): worked by hand from linear quartiles.
        let cases: [(&[f64], f64, f64); 5] = [
            (&[1.0, 2.0, 3.0, 4.0, 5.0], 0.0, 0.0),
            (&[1.0, 2.0, 3.0, 10.0, 20.0], 0.0, (2.0 + 10.0 - 6.0) / 8.0),
            (&[9.0, 9.0, 14.0, 14.0], 0.0, 0.0),
            (&[10.0, 10.0, 10.0], 0.0, 0.0),
            (&[1.0, 2.0, 3.0, 10.0, 20.0], 10.0, 0.0),
        ];
        for (v, r, want) in cases {
            assert!((bowley_skew(v, r) - want).abs() < 1e-12, "{v:?}");
        }
    }

    #[test]
    fn mad_score_table() {
        let cases: [(&[f64], f64, f64); 5] = [
            (&[10.0, 10.0, 10.0], 0.0, 1.0),
            (&[8.0, 10.0, 12.0], 0.0, 0.8),
            (&[0.0, 0.0, 0.0], 0.0, 1.0),
            (&[0.0, 0.0, 5.0, 7.0], 0.0, 0.0),
            (&[1.0, 100.0, 1000.0], 0.0, 0.01),
        ];
        for (v, d, want) in cases {
            assert!(
                (mad_score(v, d) - want).abs() < 1e-12,
                "{v:?}: {}",
                mad_score(v, d)
            );
        }
    }

    #[test]
    fn bursts_and_gaps() {
        let s = 1_000_000;
        assert_eq!(
            merge_bursts(&[0, 10, 20, s, s + 5, 3 * s], s / 2),
            vec![0, s, 3 * s]
        );
        assert_eq!(
            sorted_gaps_secs(&[0, 3 * s, s + s / 2 + 3 * s]),
            vec![1.5, 3.0]
        );
    }

    #[test]
    fn histogram_scores() {
        assert_eq!(histogram(&[0, 1, 2, 3, 10], 2), vec![4, 1]);
        assert_eq!(cv_score(&[5, 5, 5, 5]), 1.0);
        assert!((cv_score(&[2, 4]) - (1.0 - 1.0 / 3.0)).abs() < 1e-12);
        assert_eq!(cv_score(&[0, 0, 9, 0]), 0.0);
        // 12 bars: 6 of height 10, 5 of height 20, 1 of 5 -> (6 + 5) / (12 - 1)
        let h: Vec<u64> = [10; 6].into_iter().chain([20; 5]).chain([5]).collect();
        assert_eq!(bimodal_score(&h, 0.05, 1, 11), 1.0);
        assert_eq!(bimodal_score(&h[..5], 0.05, 1, 11), 0.0);
        assert_eq!(bins_for(237, 4, 24), 24);
        assert_eq!(bins_for(3, 4, 24), 4);
        assert_eq!(bins_for(40, 4, 24), 10);
    }

    #[test]
    fn combination_table() {
        assert_eq!(duration_score(3600.0, 7200.0, 21600.0), 0.5);
        assert_eq!(duration_score(21600.0, 1e9, 21600.0), 1.0);
        let s = SubScores {
            ts: 1.0,
            ds: 0.5,
            hist: 0.0,
            dur: 0.5,
        };
        assert_eq!(weighted(&s, [0.25; 4]), 0.5);
        assert_eq!(rarity(1, 200), 1.0);
        assert_eq!(rarity(200, 200), 0.0);
        assert_eq!(rarity(3, 5), 0.5);
        assert_eq!(boosted(0.8, 1.0, 1.0, 0.3, 0.25), 0.8);
        assert!((boosted(0.8, 0.0, 0.0, 0.3, 0.25) - 0.36).abs() < 1e-12);
    }

    #[test]
    fn close_silences_table() {
        let s = 1_000_000i64;
        // (events in seconds) -> closed timeline in seconds
        let cases: [(&[i64], &[i64]); 4] = [
            (&[], &[]),
            (&[0, 500, 1000, 1500], &[0, 500, 1000, 1500]),
            // a night off: the 50,000 s silence shrinks to the median gap (500 s)
            (
                &[0, 500, 50_500, 51_000, 51_500],
                &[0, 500, 1000, 1500, 2000],
            ),
            // 10 periods of a 60 s beacon, but under an hour: kept
            (&[0, 60, 120, 1320, 1380], &[0, 60, 120, 1320, 1380]),
        ];
        for (events, want) in cases {
            let ev: Vec<i64> = events.iter().map(|t| t * s).collect();
            let got: Vec<i64> = close_silences(&ev).iter().map(|t| t / s).collect();
            assert_eq!(got, want, "{events:?}");
        }
    }
}
