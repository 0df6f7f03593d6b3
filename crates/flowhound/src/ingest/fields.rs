//! Parsing text fields (CSV, binetflow, Zeek) into a validated [`FlowRow`].

use super::builder::{FlowBuilder, FlowRow, BATCH_ROWS};
use super::columns::{Resolved, Source, Target};
use super::report::{BadRow, BadRows};
use super::TsUnit;
use crate::error::{Location, Result};
use crate::ip;
use crate::schema::Proto;
use datafusion::arrow::record_batch::RecordBatch;
use std::path::Path;

/// Why a field was rejected: the source column index, the raw value and the reason.
pub type FieldError = (usize, String, &'static str);

/// Turns rows of text fields into flows, following a resolved column plan.
pub struct RowParser {
    plan: Resolved,
    ts_unit: Option<TsUnit>,
    unit_fixed: bool,
}

impl RowParser {
    /// A parser for one file; `ts_unit` forces the epoch unit, else it is detected on the first row.
    pub fn new(plan: Resolved, ts_unit: Option<TsUnit>) -> Self {
        RowParser {
            plan,
            unit_fixed: ts_unit.is_some(),
            ts_unit,
        }
    }

    /// The epoch unit in use (forced or detected), once known.
    pub fn ts_unit(&self) -> Option<TsUnit> {
        self.ts_unit
    }

    /// Parses one row; `get(i)` returns source column `i` (None when the row is short). A short row
    /// missing a required column is rejected; a missing optional column is unset.
    pub fn parse<'a>(
        &mut self,
        get: &dyn Fn(usize) -> Option<&'a str>,
    ) -> Result<FlowRow, FieldError> {
        let (ti, ts_text) = match self.plan.get(Target::Ts) {
            Source::Col(i) => (*i, cell(get, Target::Ts, *i)?.unwrap_or("")),
            _ => (0, ""),
        };
        let ts_us = self
            .parse_ts(ts_text)
            .ok_or((ti, ts_text.to_string(), "not a timestamp"))?;
        let field = |t: Target| -> Result<Option<(usize, &'a str)>, FieldError> {
            match self.plan.get(t) {
                Source::Col(i) => Ok(cell(get, t, *i)?.map(|v| (*i, v))),
                _ => Ok(None),
            }
        };
        Ok(FlowRow {
            ts_us,
            src: ip_field(field(Target::SrcIp)?)?,
            dst: ip_field(field(Target::DstIp)?)?,
            proto: field(Target::Proto)?.map(|(_, v)| Proto::parse(v)),
            src_port: opt_port(field(Target::SrcPort)?)?,
            dst_port: opt_port(field(Target::DstPort)?)?.unwrap_or(0),
            up: self.count(Target::Up, get)?.unwrap_or(0),
            down: self.count(Target::Down, get)?.unwrap_or(0),
            duration: opt_float(field(Target::Duration)?)?,
            packets: self.count(Target::Packets, get)?,
            label: field(Target::Label)?.and_then(|(_, v)| label(v)),
        })
    }

    fn parse_ts(&mut self, text: &str) -> Option<i64> {
        if !self.unit_fixed {
            if let Ok(v) = text.trim().parse::<f64>() {
                self.ts_unit = Some(TsUnit::detect(v));
                self.unit_fixed = true;
            }
        }
        super::time::parse_text(text, self.ts_unit)
    }

    fn count<'a>(
        &self,
        t: Target,
        get: &dyn Fn(usize) -> Option<&'a str>,
    ) -> Result<Option<u64>, FieldError> {
        let one = |i: usize| match cell(get, t, i)? {
            Some(v) => count_value(i, v),
            None => Ok(None),
        };
        match *self.plan.get(t) {
            Source::Col(i) => one(i),
            Source::Sum(a, b) => Ok(match (one(a)?, one(b)?) {
                (Some(x), Some(y)) => x.checked_add(y),
                (x, None) => x,
                (None, y) => y,
            }),
            // `a - b` needs its total: an empty `a` leaves the count unset, whatever `b` says.
            Source::Diff(a, b) => match (one(a)?, one(b)?) {
                (Some(x), Some(y)) if y > x => Err((
                    a,
                    format!("{x} < {y}"),
                    "total bytes smaller than source bytes",
                )),
                (Some(x), y) => Ok(Some(x - y.unwrap_or(0))),
                (None, _) => Ok(None),
            },
            Source::Absent => Ok(None),
        }
    }
}

/// Why a short row is rejected.
pub const TRUNCATED: &str = "row has fewer fields than the header (truncated line?)";

/// Field `i` of a row, feeding target `t`: a field missing from a short row rejects the row when `t` is
/// required, and is unset (None) when it is optional.
fn cell<'a>(
    get: &dyn Fn(usize) -> Option<&'a str>,
    t: Target,
    i: usize,
) -> Result<Option<&'a str>, FieldError> {
    match get(i) {
        None if t.required() => Err((i, String::new(), TRUNCATED)),
        v => Ok(v),
    }
}

/// True for the unset/empty markers of Zeek and CSV.
pub fn is_unset(v: &str) -> bool {
    matches!(v.trim(), "" | "-")
}

fn ip_field(f: Option<(usize, &str)>) -> Result<u128, FieldError> {
    let (i, v) = f.unwrap_or((0, ""));
    ip::parse(v).ok_or((i, v.to_string(), "not an IP address"))
}

fn opt_port(f: Option<(usize, &str)>) -> Result<Option<u16>, FieldError> {
    let Some((i, v)) = f else { return Ok(None) };
    if is_unset(v) {
        return Ok(None);
    }
    let t = v.trim();
    let parsed = match t.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => t.parse::<u32>().ok().or_else(|| {
            t.parse::<f64>()
                .ok()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u32)
        }),
    };
    match parsed {
        Some(p) if p <= 65_535 => Ok(Some(p as u16)),
        _ => Err((i, v.to_string(), "not a port number (0-65535)")),
    }
}

fn count_value(i: usize, v: &str) -> Result<Option<u64>, FieldError> {
    let t = v.trim();
    if is_unset(t) {
        return Ok(None);
    }
    if let Ok(n) = t.parse::<u64>() {
        return Ok(Some(n));
    }
    match t.parse::<f64>() {
        Ok(f) if f < 0.0 => Err((i, v.to_string(), "negative count")),
        Ok(f) if f.fract() == 0.0 && f < 1.8e19 => Ok(Some(f as u64)),
        _ => Err((i, v.to_string(), "not a whole non-negative number")),
    }
}

fn opt_float(f: Option<(usize, &str)>) -> Result<Option<f64>, FieldError> {
    let Some((i, v)) = f else { return Ok(None) };
    if is_unset(v) {
        return Ok(None);
    }
    match v.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
        _ => Err((i, v.to_string(), "not a non-negative duration in seconds")),
    }
}

fn label(v: &str) -> Option<String> {
    match v.trim() {
        "-" => None,
        "(empty)" => Some(String::new()),
        t => Some(t.to_string()),
    }
}

/// Collects parsed rows of one text file into batches, counting and recording bad rows.
pub struct TextSink<'a> {
    path: &'a Path,
    strict: bool,
    builder: FlowBuilder,
    /// Rows accepted.
    pub rows_read: u64,
    /// Bad rows of this file.
    pub bad: BadRows,
    emit: &'a mut dyn FnMut(RecordBatch) -> Result<()>,
}

impl<'a> TextSink<'a> {
    /// A sink for `path` sending full batches to `emit`.
    pub fn new(
        path: &'a Path,
        strict: bool,
        emit: &'a mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Self {
        TextSink {
            path,
            strict,
            builder: FlowBuilder::new(),
            rows_read: 0,
            bad: BadRows::default(),
            emit,
        }
    }

    /// Accepts the outcome of parsing the row at `line` (1-based), naming columns with `headers`.
    pub fn accept(
        &mut self,
        line: u64,
        row: Result<FlowRow, FieldError>,
        headers: &[String],
    ) -> Result<()> {
        match row {
            Ok(r) => {
                self.builder.push(&r);
                self.rows_read += 1;
                if self.builder.len() >= BATCH_ROWS {
                    (self.emit)(self.builder.finish())?;
                }
                Ok(())
            }
            Err((col, value, why)) => {
                let name = headers.get(col).map_or("?", |s| s.as_str());
                self.bad.record(
                    BadRow::new(self.path, Location::Line(line), name, &value, why),
                    self.strict,
                )
            }
        }
    }

    /// Records a malformed line that could not be split into fields.
    pub fn malformed(&mut self, line: u64, why: &'static str, text: &str) -> Result<()> {
        self.bad.record(
            BadRow::new(self.path, Location::Line(line), "(line)", text, why),
            self.strict,
        )
    }

    /// Emits the last partial batch.
    pub fn flush(&mut self) -> Result<()> {
        if !self.builder.is_empty() {
            (self.emit)(self.builder.finish())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_values() {
        let cases: [(&str, Result<Option<u64>, ()>); 7] = [
            ("12", Ok(Some(12))),
            ("-", Ok(None)),
            ("", Ok(None)),
            ("12.0", Ok(Some(12))),
            ("-5", Err(())),
            ("1e3", Ok(Some(1000))),
            ("abc", Err(())),
        ];
        for (v, want) in cases {
            assert_eq!(count_value(0, v).map_err(|_| ()), want, "{v}");
        }
    }

    #[test]
    fn ports() {
        assert_eq!(opt_port(Some((0, "0x0303"))).unwrap(), Some(0x0303));
        assert_eq!(opt_port(Some((0, "443"))).unwrap(), Some(443));
        assert_eq!(opt_port(Some((0, "-"))).unwrap(), None);
        assert!(opt_port(Some((0, "70000"))).is_err());
        assert!(opt_port(Some((0, "http"))).is_err());
    }

    #[test]
    fn labels() {
        assert_eq!(label("-"), None);
        assert_eq!(label("(empty)"), Some(String::new()));
        assert_eq!(label("Malicious"), Some("Malicious".into()));
    }
}
