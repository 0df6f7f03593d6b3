//! `mad`: robust z-score `(x - median) / (1.4826 * MAD)` above a limit (3.5 by default, after Iglewicz
//! and Hoaglin), per host window against the host's own profile (else the population) and optionally
//! per flow. Unlike `sigma`, a few huge values in the baseline do not inflate the threshold.

use super::volume::{self, Reference, VolumeParams};
use super::{DetectCtx, Detector};
use crate::baseline::stats::{robust_scale, sigma_threshold, MetricStats};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::Finding;
use serde::{Deserialize, Serialize};

/// The detector.
pub struct Mad;

/// `[detectors.mad]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MadConfig {
    /// Robust z limit.
    pub z_limit: f64,
    /// Metrics checked.
    pub metrics: Vec<String>,
    /// Per host and window.
    pub per_host: bool,
    /// Per flow.
    pub per_flow: bool,
    /// Smallest window volume flagged.
    pub min_window_bytes: u64,
    /// Smallest flow volume flagged.
    pub min_flow_bytes: u64,
    /// Baseline windows needed for a host's own profile.
    pub min_history_windows_count: u64,
    /// Multiple of the reference p99 a value must also exceed.
    pub min_p99_ratio: f64,
}

impl Default for MadConfig {
    fn default() -> Self {
        MadConfig {
            z_limit: 3.5,
            metrics: vec!["up_bytes".into(), "down_bytes".into()],
            per_host: true,
            per_flow: false,
            min_window_bytes: 1_000_000,
            min_flow_bytes: 1_000_000,
            min_history_windows_count: 3,
            min_p99_ratio: 3.0,
        }
    }
}

static SETTINGS: [Setting; 8] = [
    Setting {
        key: "z_limit",
        doc: "robust z-score limit, in units of 1.4826 * MAD",
        range: Range::Float(0.5, 100.0),
    },
    volume::METRICS,
    volume::PER_HOST,
    volume::PER_FLOW,
    volume::MIN_WINDOW_BYTES,
    volume::MIN_FLOW_BYTES,
    volume::MIN_HISTORY,
    volume::MIN_P99_RATIO,
];

/// `median + z * robust_scale` (1.4826 MAD, falling back to IQR / 1.349 then std when the MAD is 0),
/// `None` without values.
pub fn threshold(s: &MetricStats, _robust: bool, z: f64) -> Option<f64> {
    (s.count >= 1).then(|| sigma_threshold(s.median, robust_scale(s), z))
}

/// Long-form documentation for docs/detectors.md.
pub const DOC: &str = r#"Looks at bytes up and down per flow and per internal host window, with robust statistics.

Formula: robust z-score `z = (x - median) / (1.4826 * MAD)`, where MAD is the median absolute deviation from the
median (1.4826 makes it consistent with the standard deviation for normal data). Flagged when `z > z_max`.
Medians are not moved by a minority of attack traffic, so this is the detector of choice when the baseline is
learned from the test capture itself.

Blind spots: when more than half of a host's windows are zero, MAD is 0; the detector then falls back to the
population reference. Tuning: `z_max`, and the p99 guard."#;

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
        let p = VolumeParams {
            detector: "mad",
            metrics: volume::metrics(&c.metrics)?,
            per_host: c.per_host,
            per_flow: c.per_flow,
            min_window_bytes: c.min_window_bytes,
            min_flow_bytes: c.min_flow_bytes,
            min_history_windows: c.min_history_windows_count,
            min_p99_ratio: c.min_p99_ratio,
            reference: Reference::Baseline,
            rule_text: format!("median + {} * 1.4826 MAD", c.z_limit),
        };
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
