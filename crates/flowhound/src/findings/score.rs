//! The one shared scoring scale: every detector turns its strength into a score in [0, 1] and every
//! score maps to a severity through [`severity`].

use serde::{Deserialize, Serialize};

/// How bad a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// score < 0.4
    #[default]
    Low,
    /// 0.4 <= score < 0.65
    Medium,
    /// 0.65 <= score < 0.8
    High,
    /// score >= 0.8
    Critical,
}

impl Severity {
    /// Every severity, mildest first.
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// Parses a lower-case name.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Lower score bounds of medium, high and critical.
pub const SEVERITY_BOUNDS: [f64; 3] = [0.4, 0.65, 0.8];

/// The severity of a score (NaN counts as low).
pub fn severity(score: f64) -> Severity {
    match SEVERITY_BOUNDS.iter().filter(|b| score >= **b).count() {
        0 => Severity::Low,
        1 => Severity::Medium,
        2 => Severity::High,
        _ => Severity::Critical,
    }
}

/// The score of an observation `ratio` times its threshold (ratio >= 1 means the threshold was crossed):
/// `0.1 + 0.9 * (1 - 1 / (1 + log2(ratio) / 2))`, so 1x -> 0.1, 4x -> 0.55, 16x -> 0.7, 256x -> 0.82.
/// Ratios at or below 1 (and NaN) give 0.1; infinity gives 1.
pub fn score_from_ratio(ratio: f64) -> f64 {
    if ratio.is_nan() || ratio <= 1.0 {
        return 0.1;
    }
    let l = ratio.log2() / 2.0;
    (0.1 + 0.9 * (1.0 - 1.0 / (1.0 + l))).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_table() {
        let cases = [
            (0.0, Severity::Low),
            (0.39, Severity::Low),
            (0.4, Severity::Medium),
            (0.649, Severity::Medium),
            (0.65, Severity::High),
            (0.8, Severity::Critical),
            (1.0, Severity::Critical),
            (f64::NAN, Severity::Low),
        ];
        for (s, want) in cases {
            assert_eq!(severity(s), want, "{s}");
        }
    }

    #[test]
    fn ratio_table() {
        // 1 + log2(r)/2: r=4 -> 2 -> 0.1 + 0.45; r=16 -> 3 -> 0.1 + 0.6; r=256 -> 5 -> 0.1 + 0.72
        let cases = [
            (0.5, 0.1),
            (1.0, 0.1),
            (4.0, 0.55),
            (16.0, 0.7),
            (256.0, 0.82),
            (f64::INFINITY, 1.0),
            (f64::NAN, 0.1),
        ];
        for (r, want) in cases {
            assert!(
                (score_from_ratio(r) - want).abs() < 1e-12,
                "{r}: {}",
                score_from_ratio(r)
            );
        }
    }
}
