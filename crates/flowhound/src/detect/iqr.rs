//! `iqr`: volume above the upper Tukey fence `Q3 + f * IQR` of normal (f = 1.5 by default), per host window against the
//! host's own profile (else the population) and optionally per flow (the notebook's rule).

use super::volume::{self, Reference, VolumeParams};
use super::volume_config::{guards_doc, volume_config, volume_settings, SHARED};
use super::{DetectCtx, Detector};
use crate::baseline::stats::{iqr_fences, MetricStats};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::Finding;

/// The detector.
pub struct Iqr;

volume_config! {
    /// `[detectors.iqr]`.
    IqrConfig {
        /// IQR multiplier of the upper fence.
        iqr_factor: f64 = 1.5,
    }
}

static SETTINGS: [Setting; 1 + SHARED] = volume_settings![Setting {
    key: "iqr_factor",
    doc: "IQR multiplier of the upper fence Q3 + f * (Q3 - Q1)",
    range: Range::Float(0.0, 100.0),
},];

/// The upper fence `Q3 + f * (Q3 - Q1)` (quartiles are robust already), `None` without values.
pub fn threshold(s: &MetricStats, _robust: bool, f: f64) -> Option<f64> {
    (s.count >= 1).then(|| iqr_fences(s.q1, s.q3, f).1)
}

/// Long-form documentation for docs/detectors.md.
pub const DOC: &str = concat!(
    r#"Looks at bytes up and down per flow and per internal host window, like `sigma`.

Formula: Tukey fences learned on normal: `lower = Q1 - f * (Q3 - Q1)`, `upper = Q3 + f * (Q3 - Q1)` with
linear-interpolation quartiles (pandas' default); `f` defaults to 1.5. Values outside the fences are flagged.

Blind spots: with heavy-tailed traffic the upper fence sits low, so many busy but benign windows cross it; the
p99 guard keeps those out of the findings. Tuning: `f = 3` is Tukey's "far out" fence."#,
    guards_doc!()
);

impl Detector for Iqr {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = IqrConfig;
    fn name(&self) -> &'static str {
        "iqr"
    }
    fn description(&self) -> &'static str {
        "volume above the upper IQR fence of normal, per host window (own profile, else population) and optionally per flow"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn run(&self, c: &IqrConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let p = VolumeParams::new(
            "iqr",
            c.common(),
            Reference::Baseline,
            format!("Q3 + {} IQR", c.iqr_factor),
        )?;
        volume::run(ctx, &p, &|s, robust| threshold(s, robust, c.iqr_factor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_table() {
        let s = MetricStats {
            count: 8,
            q1: 2.75,
            q3: 6.25,
            ..Default::default()
        };
        assert_eq!(threshold(&s, false, 1.5), Some(11.5));
        assert_eq!(threshold(&s, true, 3.0), Some(16.75));
        assert_eq!(threshold(&MetricStats::default(), false, 1.5), None);
    }
}
