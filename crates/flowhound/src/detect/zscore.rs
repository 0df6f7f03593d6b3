//! `zscore`: volume whose z-score `(x - mean) / std` exceeds a limit (3 by default). Two modes:
//! `baseline` (default, statistically sound: mean and std of the baseline, per host profile or the
//! population) and `test-self` (the notebook's `scipy.stats.zscore` on the test data itself, ddof = 0
//! semantics aside: the spread of the test's host windows or flows).

use super::volume::{self, Reference, VolumeParams};
use super::volume_config::{guards_doc, volume_config, volume_settings, SHARED};
use super::{DetectCtx, Detector};
use crate::baseline::stats::{sigma_threshold, zscore, MetricStats};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::Finding;

/// The detector.
pub struct Zscore;

volume_config! {
    /// `[detectors.zscore]`.
    ZscoreConfig {
        /// |z| limit.
        z_limit: f64 = 3.0,
        /// `baseline` or `test-self`.
        mode: String = "baseline".into(),
    }
}

static SETTINGS: [Setting; 2 + SHARED] = volume_settings![
    Setting { key: "z_limit", doc: "z-score limit (robust baseline: in robust sigmas)", range: Range::Float(0.5, 100.0) },
    Setting { key: "mode", doc: "baseline: thresholds from the baseline; test-self: from the test data itself (notebook)", range: Range::Choice(&["baseline", "test-self"]) },
];

/// The value whose z-score is `z`: `centre + z * scale`, `None` below two values.
pub fn threshold(s: &MetricStats, robust: bool, z: f64) -> Option<f64> {
    (s.count >= 2).then(|| sigma_threshold(s.center(robust), s.scale(robust), z))
}

/// The z-score of `x` against the stats.
pub fn score_of(x: f64, s: &MetricStats, robust: bool) -> f64 {
    zscore(x, s.center(robust), s.scale(robust))
}

/// Long-form documentation for docs/detectors.md.
pub const DOC: &str = concat!(
    r#"Looks at bytes up and down per flow and per internal host window.

Two modes. **Baseline-referenced** (default, statistically sound): `z = (x - mean_normal) / std_normal`.
**Test-self** (the notebook's `scipy.stats.zscore`): `z = (x - mean_test) / std_test` with the population std
(ddof = 0) of the test data itself, so an attack that dominates the test capture can hide itself. A value is
flagged when `|z| > z_max` (default 3).

Blind spots: the test-self mode shifts with the attack; prefer the default. Tuning: `z_max`."#,
    guards_doc!()
);

impl Detector for Zscore {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = ZscoreConfig;
    fn name(&self) -> &'static str {
        "zscore"
    }
    fn description(&self) -> &'static str {
        "volume z-score above a limit, against the baseline (default) or the test itself (notebook), per host window and optionally per flow"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn run(&self, c: &ZscoreConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let p = VolumeParams::new(
            "zscore",
            c.common(),
            if c.mode == "test-self" {
                Reference::TestSelf
            } else {
                Reference::Baseline
            },
            format!("|z| > {} ({})", c.z_limit, c.mode),
        )?;
        volume::run(ctx, &p, &|s, robust| threshold(s, robust, c.z_limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_table() {
        let s = MetricStats {
            count: 10,
            mean: 100.0,
            std: 10.0,
            median: 90.0,
            mad: 2.0,
            ..Default::default()
        };
        assert_eq!(threshold(&s, false, 3.0), Some(130.0));
        assert_eq!(score_of(130.0, &s, false), 3.0);
        assert!((score_of(90.0 + 2.0 * 1.4826, &s, true) - 1.0).abs() < 1e-12);
        assert_eq!(threshold(&MetricStats { count: 1, ..s }, false, 3.0), None);
    }
}
