//! Pure maths of the `cnc_channel` detector: how strongly one (internal host, external peer, proto,
//! port) channel looks like a persistent C&C channel that is not strictly periodic. Three kinds of
//! evidence, each a strength in [0, 1], combined as independent evidence (noisy-OR):
//!
//! - a reconnect storm ([`storm_strength`]): many failed or answerless connections, at a rate no
//!   client with back-off keeps up, over a long part of the capture;
//! - a long connection ([`long_strength`]): one session held for a large part of the capture, raised
//!   by failed reconnects to the same peer;
//! - a strobe ([`strobe_strength`]): very many connections per hour to one peer.

use super::behaviour::saturate;

/// Seconds per hour.
pub const HOUR_SECS: f64 = 3600.0;

/// The hours of a capture spanning `span_secs` (at least 1): `ceil(span / 3600)`.
pub fn capture_hours(span_secs: f64) -> u64 {
    (span_secs.max(0.0) / HOUR_SECS).ceil().max(1.0) as u64
}

/// How persistent a channel is: `0.5 * coverage + 0.5 * min(1, span / ideal)`, where `coverage` is
/// the share of the capture's hours in which the channel was active and `span` its first-to-last
/// time. Coverage alone would call anything in a 16-minute capture persistent; the absolute span
/// alone would ignore that a storm covering 1 of 24 hours is a burst.
pub fn persistence(active_hours: u64, capture_hours: u64, span_secs: f64, ideal_secs: f64) -> f64 {
    let coverage = (active_hours as f64 / capture_hours.max(1) as f64).min(1.0);
    let length = ratio_or_one(span_secs.max(0.0), ideal_secs).min(1.0);
    0.5 * coverage + 0.5 * length
}

/// A reconnect storm: `share * sqrt(saturate(failed, half_count) * saturate(failed / active_hours,
/// half_per_hour)) * (0.5 + 0.5 persistence)`, with `share = failed / flows`. The count says "many",
/// the rate per active hour says "faster than back-off" (a client whose server is down retries every
/// few minutes, a bot's loop every few seconds), the share says the peer does not answer, and
/// persistence says it lasted. A dense storm is evidence on its own (300 failed dials 5 s apart in
/// half an hour is no back-off), so persistence raises the strength rather than gating it.
pub fn storm_strength(
    failed: u64,
    flows: u64,
    active_hours: u64,
    (half_count, half_per_hour): (f64, f64),
    persistence: f64,
) -> f64 {
    if flows == 0 || failed == 0 {
        return 0.0;
    }
    let share = failed.min(flows) as f64 / flows as f64;
    let rate = failed as f64 / active_hours.max(1) as f64;
    let many = (saturate(failed as f64, half_count) * saturate(rate, half_per_hour)).sqrt();
    (share * many * (0.5 + 0.5 * persistence.clamp(0.0, 1.0))).clamp(0.0, 1.0)
}

/// A long connection of `longest_secs` in a capture of `capture_secs`: `length * (alone + (1 -
/// alone) * reconnect)`, with `length = min(1, max(longest / capture, longest / ideal))` and
/// `reconnect` the strength of the failed attempts to the same peer. A long session alone (a
/// device's cloud push channel) earns at most `alone`; a bot re-dialling its C&C earns the rest.
pub fn long_strength(
    longest_secs: f64,
    capture_secs: f64,
    ideal_secs: f64,
    alone: f64,
    reconnect: f64,
) -> f64 {
    if longest_secs.is_nan() || longest_secs <= 0.0 {
        return 0.0;
    }
    let share = ratio_or_one(longest_secs, capture_secs);
    let length = share.max(ratio_or_one(longest_secs, ideal_secs)).min(1.0);
    let alone = alone.clamp(0.0, 1.0);
    (length * (alone + (1.0 - alone) * reconnect.clamp(0.0, 1.0))).clamp(0.0, 1.0)
}

/// A strobe: `weight * saturate(flows / active_hours, half_per_hour) * persistence`.
pub fn strobe_strength(
    flows: u64,
    active_hours: u64,
    half_per_hour: f64,
    weight: f64,
    persistence: f64,
) -> f64 {
    let rate = flows as f64 / active_hours.max(1) as f64;
    (weight * saturate(rate, half_per_hour) * persistence).clamp(0.0, 1.0)
}

/// `x / of`, or 1 when `of` is not positive (a zero ideal or capture length means "always enough").
fn ratio_or_one(x: f64, of: f64) -> f64 {
    if of > 0.0 {
        x / of
    } else {
        1.0
    }
}

/// Independent evidence combined: `1 - prod(1 - p)` (each clamped to [0, 1]).
pub fn combine(parts: &[f64]) -> f64 {
    1.0 - parts
        .iter()
        .map(|p| 1.0 - p.clamp(0.0, 1.0))
        .product::<f64>()
}

/// The median gap between sorted start times (µs), in seconds; 0 below two.
pub fn median_gap_secs(sorted_ts: &[i64]) -> f64 {
    let mut gaps: Vec<f64> = sorted_ts
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / 1e6)
        .collect();
    super::beacon_math::median(&mut gaps)
}

/// Distinct hours (from `first_us`, the capture's first flow) in which the sorted start times fall.
pub fn active_hours(sorted_ts: &[i64], first_us: i64) -> u64 {
    let hour = |t: i64| (t - first_us).div_euclid(3_600_000_000);
    let mut n = 0;
    let mut last = None;
    for &t in sorted_ts {
        let h = hour(t);
        if last != Some(h) {
            n += 1;
            last = Some(h);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn capture_hours_and_persistence() {
        assert_eq!(capture_hours(0.0), 1);
        assert_eq!(capture_hours(960.0), 1);
        assert_eq!(capture_hours(86_340.0), 24);
        let cases = [
            // (active hours, capture hours, span, ideal, want)
            (23, 24, 82_080.0, 21_600.0, 0.979),
            (1, 1, 960.0, 21_600.0, 0.522),
            (1, 2, 180.0, 21_600.0, 0.254),
            (2, 9, 6_480.0, 21_600.0, 0.261),
            (5, 4, 100.0, 0.0, 1.0),
        ];
        for (a, c, s, i, want) in cases {
            assert!(close(persistence(a, c, s, i), want), "{a} {c} {s}");
        }
    }

    #[test]
    fn storm_table() {
        let halves = (100.0, 30.0);
        let cases = [
            // Hakai (IoT-23 8-1): 4,112 failed of 4,112 in 23 hours of 24
            (4112, 4112, 23, 0.979, 0.9047),
            // Philips Hue (4-1): 47 failed of 47, every 15 min, 21 of 22 hours
            (47, 47, 21, 0.977, 0.1473),
            // a dense half-hour storm: 300 failed dials 5 s apart in one hour of a day
            (300, 300, 1, 0.055, 0.4356),
            // a busy service with a few failures
            (10, 4000, 24, 1.0, 0.0),
            (0, 10, 1, 1.0, 0.0),
            (5, 0, 1, 1.0, 0.0),
        ];
        for (failed, flows, hours, p, want) in cases {
            let got = storm_strength(failed, flows, hours, halves, p);
            assert!(close(got, want), "{failed}/{flows}: {got}");
        }
    }

    #[test]
    fn long_table() {
        let cases = [
            // Mirai (44-1): 6,803 s of a 6,874 s capture, 13 failed attempts to the peer
            (6803.0, 6874.0, 21_600.0, 0.35, 0.565, 0.710),
            // Torii (20-1): 44,326 s of a day
            (44_326.0, 86_340.0, 21_600.0, 0.35, 0.583, 0.729),
            // a Hue's cloud session: the whole capture, no failed attempt
            (78_840.0, 78_840.0, 21_600.0, 0.35, 0.0, 0.35),
            (1800.0, 86_400.0, 21_600.0, 0.35, 0.0, 0.029),
            (f64::NAN, 100.0, 21_600.0, 0.35, 1.0, 0.0),
            (100.0, 0.0, 0.0, 0.35, 1.0, 1.0),
        ];
        for (d, cap, ideal, alone, r, want) in cases {
            let got = long_strength(d, cap, ideal, alone, r);
            assert!(close(got, want), "{d}: {got}");
        }
    }

    #[test]
    fn strobe_combine_and_time() {
        assert!(close(strobe_strength(3600, 1, 3600.0, 0.5, 1.0), 0.25));
        assert!(close(strobe_strength(0, 1, 3600.0, 0.5, 1.0), 0.0));
        assert!(close(combine(&[0.5, 0.5]), 0.75));
        assert!(close(combine(&[]), 0.0));
        assert!(close(combine(&[2.0, 0.1]), 1.0));
        let s = 1_000_000;
        assert!(close(median_gap_secs(&[0, 3 * s, 10 * s, 15 * s]), 5.0));
        assert!(close(median_gap_secs(&[7]), 0.0));
        let h = 3600 * s;
        assert_eq!(active_hours(&[0, 10, h, h + 5, 5 * h], 0), 3);
        assert_eq!(active_hours(&[], 0), 0);
    }
}
