//! `sigma`: volume above `mean + k * std` of normal (k = 3 by default), per host window against the
//! host's own profile (else the population) and optionally per flow (the notebook's rule).

use super::volume::{self, Reference, VolumeParams};
use super::volume_config::{guards_doc, volume_config, volume_settings, SHARED};
use super::{DetectCtx, Detector};
use crate::baseline::stats::{sigma_threshold, MetricStats};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::Finding;

/// The detector.
pub struct Sigma;

volume_config! {
    /// `[detectors.sigma]`.
    SigmaConfig {
        /// Standard deviations above the mean.
        k_std: f64 = 3.0,
    }
}

static SETTINGS: [Setting; 1 + SHARED] = volume_settings![Setting {
    key: "k_std",
    doc: "standard deviations above the mean (robust: MADs above the median)",
    range: Range::Float(0.5, 100.0),
},];

/// The sigma rule: `centre + k * scale` (mean/std, or median/robust scale), `None` below two values.
pub fn threshold(s: &MetricStats, robust: bool, k: f64) -> Option<f64> {
    (s.count >= 2).then(|| sigma_threshold(s.center(robust), s.scale(robust), k))
}

/// Long-form documentation for docs/detectors.md.
pub const DOC: &str = concat!(
    r#"Looks at bytes up and down, **per flow** (the analysts' notebook view) and **per internal host and window**
(the host's summed volume against its own baseline profile and against the population of host windows).

Formula: a value is flagged when `x > mean + k * std`, with `mean` and the sample standard deviation
(ddof = 1) learned on the normal capture; `k` defaults to 3. The score grows with `x / threshold` through the
shared scoring function, so one host's many flagged flows become one merged finding.

Blind spots: heavy-tailed byte counts inflate `std`, so moderate exfiltration hides under a large threshold; use
`mad` or `iqr` for robustness. Tuning: raise `k` to cut noise, or raise the p99 guard (`min_p99_ratio`) so that
only windows well above the reference's p99 alert."#,
    guards_doc!()
);

impl Detector for Sigma {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = SigmaConfig;
    fn name(&self) -> &'static str {
        "sigma"
    }
    fn description(&self) -> &'static str {
        "volume above mean + k std of normal, per host window (own profile, else population) and optionally per flow"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn run(&self, c: &SigmaConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let p = VolumeParams::new(
            "sigma",
            c.common(),
            Reference::Baseline,
            format!("mean + {} std", c.k_std),
        )?;
        volume::run(ctx, &p, &|s, robust| threshold(s, robust, c.k_std))
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
        assert!((threshold(&s, true, 3.0).unwrap() - (90.0 + 3.0 * 2.0 * 1.4826)).abs() < 1e-9);
        assert_eq!(threshold(&MetricStats { count: 1, ..s }, false, 3.0), None);
    }
}
