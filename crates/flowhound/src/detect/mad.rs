//! `mad`: robust z-score `(x - median) / (1.4826 * MAD)` above a limit (3.5 by default, after Iglewicz
//! and Hoaglin), per host window against the host's own profile (else the population) and optionally
//! per flow. Unlike `sigma`, a few huge values in the baseline do not inflate the threshold.

use super::volume::{self, Reference, VolumeParams};
use super::volume_config::{guards_doc, volume_config, volume_settings, SHARED};
use super::{DetectCtx, Detector};
use crate::baseline::stats::{robust_scale, sigma_threshold, MetricStats};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::Finding;

/// The detector.
pub struct Mad;

volume_config! {
    /// `[detectors.mad]`.
    MadConfig {
        /// Robust z limit.
        z_limit: f64 = 3.5,
    }
}

static SETTINGS: [Setting; 1 + SHARED] = volume_settings![Setting {
    key: "z_limit",
    doc: "robust z-score limit, in units of 1.4826 * MAD",
    range: Range::Float(0.5, 100.0),
},];

/// `median + z * robust_scale` (1.4826 MAD, falling back to IQR / 1.349 then std when the MAD is 0),
/// `None` without values.
pub fn threshold(s: &MetricStats, _robust: bool, z: f64) -> Option<f64> {
    (s.count >= 1).then(|| sigma_threshold(s.median, robust_scale(s), z))
}

/// Long-form documentation for docs/detectors.md.
pub const DOC: &str = concat!(
    r#"Looks at bytes up and down per flow and per internal host window, with robust statistics.

Formula: robust z-score `z = (x - median) / (1.4826 * MAD)`, where MAD is the median absolute deviation from the
median (1.4826 makes it consistent with the standard deviation for normal data). Flagged when `z > z_max`.
Medians are not moved by a minority of attack traffic, so this is the detector of choice when the baseline is
learned from the test capture itself.

Blind spots: when more than half of a host's windows are zero, MAD is 0; the detector then falls back to the
population reference. Tuning: `z_max`, and the p99 guard."#,
    guards_doc!()
);

impl Detector for Mad {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = MadConfig;
    fn name(&self) -> &'static str {
        "mad"
    }
    fn description(&self) -> &'static str {
        "robust z-score (median, 1.4826 MAD) above a limit, per host window (own profile, else population) and optionally per flow"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn run(&self, c: &MadConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let p = VolumeParams::new(
            "mad",
            c.common(),
            Reference::Baseline,
            format!("median + {} * 1.4826 MAD", c.z_limit),
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
            q1: 80.0,
            q3: 93.49,
            ..Default::default()
        };
        assert!((threshold(&s, false, 3.5).unwrap() - (90.0 + 3.5 * 2.0 * 1.4826)).abs() < 1e-9);
        let no_mad = MetricStats {
            mad: 0.0,
            ..s.clone()
        };
        assert!((threshold(&no_mad, false, 1.0).unwrap() - 100.0).abs() < 1e-9);
        assert_eq!(threshold(&MetricStats::default(), false, 3.5), None);
    }
}
