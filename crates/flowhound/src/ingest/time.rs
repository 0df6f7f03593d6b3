//! Timestamp units and parsing: every reader turns its time column into UTC microseconds.

use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// The unit of a numeric epoch timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum TsUnit {
    /// Seconds (integer or fractional).
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds.
    Us,
    /// Nanoseconds.
    Ns,
}

impl TsUnit {
    /// Parses `s`, `ms`, `us` or `ns`.
    pub fn parse(text: &str) -> Option<TsUnit> {
        match text.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "secs" | "seconds" => Some(TsUnit::S),
            "ms" | "millis" | "milliseconds" => Some(TsUnit::Ms),
            "us" | "micros" | "microseconds" => Some(TsUnit::Us),
            "ns" | "nanos" | "nanoseconds" => Some(TsUnit::Ns),
            _ => None,
        }
    }

    /// The short name.
    pub fn as_str(self) -> &'static str {
        match self {
            TsUnit::S => "s",
            TsUnit::Ms => "ms",
            TsUnit::Us => "us",
            TsUnit::Ns => "ns",
        }
    }

    /// Guesses the unit of an epoch value from its magnitude: seconds until 1e11 (year 5138), then
    /// milliseconds until 1e14, microseconds until 1e17, nanoseconds beyond.
    pub fn detect(magnitude: f64) -> TsUnit {
        let m = magnitude.abs();
        if m < 1e11 {
            TsUnit::S
        } else if m < 1e14 {
            TsUnit::Ms
        } else if m < 1e17 {
            TsUnit::Us
        } else {
            TsUnit::Ns
        }
    }

    /// Microseconds per unit, as a float factor.
    fn to_micros_factor(self) -> f64 {
        match self {
            TsUnit::S => 1e6,
            TsUnit::Ms => 1e3,
            TsUnit::Us => 1.0,
            TsUnit::Ns => 1e-3,
        }
    }

    /// Converts an integer epoch value to microseconds (None on overflow).
    pub fn int_to_micros(self, v: i64) -> Option<i64> {
        match self {
            TsUnit::S => v.checked_mul(1_000_000),
            TsUnit::Ms => v.checked_mul(1_000),
            TsUnit::Us => Some(v),
            TsUnit::Ns => Some(v.div_euclid(1_000)),
        }
    }

    /// Converts a fractional epoch value to microseconds, rounded to the nearest (None when not finite or
    /// out of range).
    pub fn float_to_micros(self, v: f64) -> Option<i64> {
        let us = (v * self.to_micros_factor()).round();
        (us.is_finite() && us.abs() < 9.2e18).then_some(us as i64)
    }
}

/// Parses one textual timestamp to UTC microseconds: an epoch number (unit from `unit`, else detected
/// from its magnitude), RFC 3339 (`2019-03-01T10:00:00.5Z`, offsets honoured), or a naive date-time taken
/// as UTC (`2011/08/16 10:00:46.906757`, `2019-03-01 10:00:00`).
pub fn parse_text(text: &str, unit: Option<TsUnit>) -> Option<i64> {
    let t = text.trim();
    if let Some(us) = parse_epoch(t, unit) {
        return Some(us);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_micros());
    }
    const NAIVE: [&str; 4] = [
        "%Y/%m/%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%d/%m/%Y %H:%M:%S%.f",
    ];
    NAIVE
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .map(|dt| dt.and_utc().timestamp_micros())
}

fn parse_epoch(t: &str, unit: Option<TsUnit>) -> Option<i64> {
    if let Ok(i) = t.parse::<i64>() {
        return unit
            .unwrap_or_else(|| TsUnit::detect(i as f64))
            .int_to_micros(i);
    }
    let f = t.parse::<f64>().ok()?;
    unit.unwrap_or_else(|| TsUnit::detect(f)).float_to_micros(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0_US: i64 = 1_425_000_000_000_000; // 2015-02-27T01:20:00Z

    #[test]
    fn detects_units_by_magnitude() {
        let cases = [
            (1.425e9, TsUnit::S),
            (1.425e12, TsUnit::Ms),
            (1.425e15, TsUnit::Us),
            (1.425e18, TsUnit::Ns),
            (0.0, TsUnit::S),
        ];
        for (v, want) in cases {
            assert_eq!(TsUnit::detect(v), want, "{v}");
        }
    }

    #[test]
    fn parses_text_forms() {
        let cases = [
            ("1425000000", Some(T0_US)),
            ("1425000000.25", Some(T0_US + 250_000)),
            ("1425000000000", Some(T0_US)),
            ("1425000000000000000", Some(T0_US)),
            ("2015-02-27T01:20:00Z", Some(T0_US)),
            ("2015-02-27T02:20:00+01:00", Some(T0_US)),
            ("2015/02/27 01:20:00.000001", Some(T0_US + 1)),
            ("2015-02-27 01:20:00", Some(T0_US)),
            ("yesterday", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_text(text, None), want, "{text}");
        }
    }

    #[test]
    fn unit_override_wins() {
        assert_eq!(
            parse_text("1425000000", Some(TsUnit::Ms)),
            Some(1_425_000_000_000)
        );
        assert_eq!(TsUnit::S.int_to_micros(i64::MAX), None);
        assert_eq!(TsUnit::S.float_to_micros(f64::NAN), None);
    }
}
