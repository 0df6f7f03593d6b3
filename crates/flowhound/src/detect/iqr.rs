//! `iqr`: volume above the upper Tukey fence `Q3 + f * IQR` of normal (f = 1.5 by default), per host window against the
//! host's own profile (else the population) and optionally per flow (the notebook's rule).

use super::volume::{self, Reference, VolumeParams};
use super::{DetectCtx, Detector};
use crate::baseline::stats::{iqr_fences, MetricStats};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::Finding;
use serde::{Deserialize, Serialize};

/// The detector.
pub struct Iqr;

/// `[detectors.iqr]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IqrConfig {
    /// IQR multiplier of the upper fence.
    pub iqr_factor: f64,
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

impl Default for IqrConfig {
    fn default() -> Self {
        IqrConfig {
            iqr_factor: 1.5,
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
        key: "iqr_factor",
        doc: "IQR multiplier of the upper fence Q3 + f * (Q3 - Q1)",
        range: Range::Float(0.0, 100.0),
    },
    volume::METRICS,
    volume::PER_HOST,
    volume::PER_FLOW,
    volume::MIN_WINDOW_BYTES,
    volume::MIN_FLOW_BYTES,
    volume::MIN_HISTORY,
    volume::MIN_P99_RATIO,
];

/// The upper fence `Q3 + f * (Q3 - Q1)` (quartiles are robust already), `None` without values.
pub fn threshold(s: &MetricStats, _robust: bool, f: f64) -> Option<f64> {
    (s.count >= 1).then(|| iqr_fences(s.q1, s.q3, f).1)
}

/// Long-form documentation for docs/detectors.md.
pub const DOC: &str = r#"Looks at bytes up and down per flow and per internal host window, like `sigma`.

Formula: Tukey fences learned on normal: `lower = Q1 - f * (Q3 - Q1)`, `upper = Q3 + f * (Q3 - Q1)` with
linear-interpolation quartiles (pandas' default); `f` defaults to 1.5. Values outside the fences are flagged.

Blind spots: with heavy-tailed traffic the upper fence sits low, so many busy but benign windows cross it; the
p99 guard keeps those out of the findings. Tuning: `f = 3` is Tukey's "far out" fence."#;

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
        let p = VolumeParams {
            detector: "iqr",
            metrics: volume::metrics(&c.metrics)?,
            per_host: c.per_host,
            per_flow: c.per_flow,
            min_window_bytes: c.min_window_bytes,
            min_flow_bytes: c.min_flow_bytes,
            min_history_windows: c.min_history_windows_count,
            min_p99_ratio: c.min_p99_ratio,
            reference: Reference::Baseline,
            rule_text: format!("Q3 + {} IQR", c.iqr_factor),
        };
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
