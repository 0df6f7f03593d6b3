//! Vectorised conversion of arbitrary Arrow columns (from Parquet) into canonical flow columns, with
//! per-row rejection of bad values.

use super::columns::Target;
use super::report::{BadRow, BadRows};
use super::TsUnit;
use crate::error::{FlowError, Location, Result};
use crate::ip;
use crate::schema::{flow_schema, Proto};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Float64Array, StringArray,
    TimestampMicrosecondArray, UInt16Array, UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Field, Float64Type, Int32Type, Int64Type, TimeUnit, UInt64Type,
};
use datafusion::arrow::record_batch::RecordBatch;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Tracks which rows of a batch are rejected, and why (first occurrence per row).
pub struct Rejects {
    path: PathBuf,
    first_row: u64,
    /// `valid[i]` is false once row `i` is rejected.
    pub valid: Vec<bool>,
    found: Vec<BadRow>,
}

impl Rejects {
    /// All rows of a batch of `n` rows valid, the first being file row `first_row` (0-based).
    pub fn new(path: &Path, n: usize, first_row: u64) -> Self {
        Rejects {
            path: path.to_path_buf(),
            first_row,
            valid: vec![true; n],
            found: Vec::new(),
        }
    }

    /// Rejects row `i`.
    pub fn reject(&mut self, i: usize, column: &str, value: &str, why: &str) {
        if std::mem::replace(&mut self.valid[i], false) {
            self.found.push(BadRow::new(
                &self.path,
                Location::Row(self.first_row + i as u64 + 1),
                column,
                value,
                why,
            ));
        }
    }

    /// Moves the rejections into `bad`, or fails with the first under `strict`.
    pub fn finish(self, bad: &mut BadRows, strict: bool) -> Result<()> {
        let mut found = self.found;
        found.sort_by_key(|b| match b.location {
            Location::Row(n) | Location::Line(n) => n,
        });
        for row in found {
            bad.record(row, strict)?;
        }
        Ok(())
    }
}

fn is_text(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

/// Checks up front that a source column's type can fill `target`.
pub fn check_type(path: &Path, target: Target, field: &Field) -> Result<()> {
    let t = field.data_type();
    let num = t.is_integer() || t.is_floating();
    let (ok, expected) = match target {
        Target::Ts => (num || is_text(t) || matches!(t, DataType::Timestamp(..)), "expected a timestamp: epoch seconds/ms/us/ns as numbers, an Arrow timestamp, or date-time text"),
        Target::SrcIp | Target::DstIp => (is_text(t) || t.is_integer() || matches!(t, DataType::Decimal128(_, 0)), "expected IP addresses as text (192.168.105.7, 2001:db8::1) or integers"),
        Target::Proto => (is_text(t) || t.is_integer(), "expected a protocol name (tcp/udp/icmp) or IANA number"),
        Target::Label => (is_text(t) || num, "expected text"),
        _ => (num || is_text(t), "expected whole non-negative numbers"),
    };
    if ok {
        return Ok(());
    }
    Err(FlowError::WrongType {
        path: path.to_path_buf(),
        column: field.name().clone(),
        found: t.to_string(),
        expected: expected.to_string(),
    })
}

fn cast_to(a: &ArrayRef, t: &DataType) -> Result<ArrayRef> {
    Ok(cast(a, t)?)
}

fn strings(a: &ArrayRef) -> Result<StringArray> {
    Ok(cast_to(a, &DataType::Utf8)?.as_string::<i32>().clone())
}

/// A value for a bad-row sample: the value itself, or nothing for a null (nulls are rejected first, as
/// "empty value", by [`reject_nulls`]; a null here comes from a failed cast).
fn shown<T: ToString>(x: Option<T>) -> String {
    x.map_or_else(String::new, |v| v.to_string())
}

fn ips(a: &ArrayRef, name: &str, rej: &mut Rejects) -> Result<Vec<i128>> {
    let n = a.len();
    let mut out = vec![0i128; n];
    reject_nulls(a, name, rej);
    match a.data_type() {
        DataType::Decimal128(..) => out.copy_from_slice(
            a.as_primitive::<datafusion::arrow::datatypes::Decimal128Type>()
                .values(),
        ),
        t if t.is_integer() => {
            let v = cast_to(a, &DataType::Int64)?;
            for (i, x) in v.as_primitive::<Int64Type>().iter().enumerate() {
                match x.and_then(|x| u32::try_from(x).ok()) {
                    Some(x) => out[i] = ip::to_i128(ip::v4_to_u128(x)),
                    None => rej.reject(i, name, &shown(x), "not an IPv4 integer"),
                }
            }
        }
        DataType::Dictionary(k, _) if k.as_ref() == &DataType::Int32 => {
            let d = a.as_dictionary::<Int32Type>();
            let values = strings(d.values())?;
            let parsed: Vec<Option<u128>> = values.iter().map(|v| v.and_then(ip::parse)).collect();
            for (i, k) in d.keys().iter().enumerate() {
                match k.and_then(|k| parsed.get(k as usize).copied().flatten()) {
                    Some(v) => out[i] = ip::to_i128(v),
                    None => rej.reject(
                        i,
                        name,
                        k.map_or("", |k| values.value(k as usize)),
                        "not an IP address",
                    ),
                }
            }
        }
        _ => {
            for (i, v) in strings(a)?.iter().enumerate() {
                match v.and_then(ip::parse) {
                    Some(x) => out[i] = ip::to_i128(x),
                    None => rej.reject(i, name, v.unwrap_or(""), "not an IP address"),
                }
            }
        }
    }
    Ok(out)
}

fn reject_nulls(a: &ArrayRef, name: &str, rej: &mut Rejects) {
    if a.null_count() > 0 {
        for i in (0..a.len()).filter(|i| a.is_null(*i)) {
            rej.reject(i, name, "", "empty value");
        }
    }
}

fn timestamps(
    a: &ArrayRef,
    name: &str,
    unit: Option<TsUnit>,
    rej: &mut Rejects,
) -> Result<Vec<i64>> {
    let mut out = vec![0i64; a.len()];
    reject_nulls(a, name, rej);
    let mut put = |i: usize, v: Option<i64>, raw: &dyn Fn() -> String, rej: &mut Rejects| match v {
        Some(v) => out[i] = v,
        None => rej.reject(i, name, &raw(), "not a timestamp"),
    };
    match a.data_type() {
        DataType::Timestamp(..) => {
            let v = cast_to(a, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            let v = v.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
            v.iter()
                .enumerate()
                .for_each(|(i, x)| put(i, x, &|| String::new(), rej));
        }
        t if t.is_integer() => {
            let v = cast_to(a, &DataType::Int64)?;
            let unit = unit.unwrap_or(TsUnit::S);
            v.as_primitive::<Int64Type>()
                .iter()
                .enumerate()
                .for_each(|(i, x)| {
                    put(i, x.and_then(|x| unit.int_to_micros(x)), &|| shown(x), rej)
                });
        }
        t if t.is_floating() => {
            let v = cast_to(a, &DataType::Float64)?;
            let unit = unit.unwrap_or(TsUnit::S);
            v.as_primitive::<Float64Type>()
                .iter()
                .enumerate()
                .for_each(|(i, x)| {
                    put(
                        i,
                        x.and_then(|x| unit.float_to_micros(x)),
                        &|| shown(x),
                        rej,
                    )
                });
        }
        _ => {
            let v = strings(a)?;
            v.iter().enumerate().for_each(|(i, x)| {
                put(
                    i,
                    x.and_then(|x| super::time::parse_text(x, unit)),
                    &|| x.unwrap_or("").to_string(),
                    rej,
                )
            });
        }
    }
    Ok(out)
}

fn protos(a: &ArrayRef) -> Result<Vec<Proto>> {
    if a.data_type().is_integer() {
        let v = cast_to(a, &DataType::Int64)?;
        return Ok(v
            .as_primitive::<Int64Type>()
            .iter()
            .map(|x| x.map_or(Proto::Other, Proto::from_number))
            .collect());
    }
    if let Some(d) = a.as_dictionary_opt::<Int32Type>() {
        let classes: Vec<Proto> = strings(d.values())?
            .iter()
            .map(|v| v.map_or(Proto::Other, Proto::parse))
            .collect();
        return Ok(d
            .keys()
            .iter()
            .map(|k| {
                k.and_then(|k| classes.get(k as usize).copied())
                    .unwrap_or(Proto::Other)
            })
            .collect());
    }
    Ok(strings(a)?
        .iter()
        .map(|v| v.map_or(Proto::Other, Proto::parse))
        .collect())
}

/// Whole non-negative numbers from any numeric or text column; nulls stay `None`.
fn counts(a: &ArrayRef, name: &str, rej: &mut Rejects) -> Result<Vec<Option<u64>>> {
    let t = a.data_type();
    if matches!(
        t,
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64
    ) {
        return Ok(cast_to(a, &DataType::UInt64)?
            .as_primitive::<UInt64Type>()
            .iter()
            .collect());
    }
    if t.is_signed_integer() {
        let v = cast_to(a, &DataType::Int64)?;
        let v = v.as_primitive::<Int64Type>();
        return Ok(v
            .iter()
            .enumerate()
            .map(|(i, x)| non_negative(i, x.map(|x| x as f64), name, rej))
            .collect());
    }
    let (v, text) = if t.is_floating() {
        (cast_to(a, &DataType::Float64)?, None)
    } else {
        let s = strings(a)?;
        (float_text(&s), Some(s))
    };
    let v = v.as_primitive::<Float64Type>();
    Ok(v.iter()
        .enumerate()
        .map(|(i, x)| match (x, &text) {
            (None, Some(s)) if !s.is_null(i) && !super::fields::is_unset(s.value(i)) => {
                rej.reject(i, name, s.value(i), "not a whole non-negative number");
                None
            }
            _ => non_negative(i, x, name, rej),
        })
        .collect())
}

/// Text parsed as numbers; unparsable text is null.
fn float_text(s: &StringArray) -> ArrayRef {
    Arc::new(
        s.iter()
            .map(|v| v.and_then(|v| v.trim().parse::<f64>().ok()))
            .collect::<Float64Array>(),
    )
}

fn non_negative(i: usize, x: Option<f64>, name: &str, rej: &mut Rejects) -> Option<u64> {
    let x = x?;
    if x < 0.0 {
        rej.reject(i, name, &x.to_string(), "negative count");
        None
    } else if x.fract() != 0.0 || !x.is_finite() || x >= 1.8e19 {
        rej.reject(i, name, &x.to_string(), "not a whole non-negative number");
        None
    } else {
        Some(x as u64)
    }
}

fn ports(a: &ArrayRef, name: &str, rej: &mut Rejects) -> Result<Vec<Option<u16>>> {
    let v = counts(a, name, rej)?;
    Ok(v.into_iter()
        .enumerate()
        .map(|(i, p)| {
            let p = p?;
            u16::try_from(p)
                .map_err(|_| rej.reject(i, name, &p.to_string(), "not a port number (0-65535)"))
                .ok()
        })
        .collect())
}

fn floats(a: &ArrayRef) -> Result<Vec<Option<f64>>> {
    let v = if a.data_type().is_integer() || a.data_type().is_floating() {
        cast_to(a, &DataType::Float64)?
    } else {
        float_text(&strings(a)?)
    };
    Ok(v.as_primitive::<Float64Type>()
        .iter()
        .map(|x| x.filter(|x| x.is_finite() && *x >= 0.0))
        .collect())
}

/// The source arrays (and their names) feeding each target, in resolved order.
pub type Columns = [(Target, Vec<ArrayRef>, Vec<String>)];

fn find(cols: &Columns, t: Target) -> Option<(&[ArrayRef], &[String])> {
    cols.iter()
        .find(|(x, a, _)| *x == t && !a.is_empty())
        .map(|(_, a, n)| (a.as_slice(), n.as_slice()))
}

/// The counts feeding `t` (empty when it has no source). Parquet columns map one to one: `--map` names
/// one column, and only the text formats derive a count from two (`Source::Diff`/`Sum`, in `fields`).
fn byte_counts(cols: &Columns, t: Target, rej: &mut Rejects) -> Result<Vec<Option<u64>>> {
    match find(cols, t) {
        Some(([array], [name])) => counts(array, name, rej),
        Some(_) => Err(FlowError::Internal(format!(
            "{}: Parquet counts come from exactly one column",
            t.name()
        ))),
        None => Ok(vec![]),
    }
}

/// Builds the canonical batch from converted source columns, dropping rejected rows.
pub fn to_canonical(
    cols: &Columns,
    unit: Option<TsUnit>,
    rej: &mut Rejects,
) -> Result<RecordBatch> {
    let n = rej.valid.len();
    let need = |t: Target| {
        find(cols, t).ok_or_else(|| FlowError::Internal(format!("column {} unresolved", t.name())))
    };
    let (a, nm) = need(Target::Ts)?;
    let ts = timestamps(&a[0], &nm[0], unit, rej)?;
    let (a, nm) = need(Target::SrcIp)?;
    let src = ips(&a[0], &nm[0], rej)?;
    let (a, nm) = need(Target::DstIp)?;
    let dst = ips(&a[0], &nm[0], rej)?;
    let proto = protos(&need(Target::Proto)?.0[0])?;
    let src_port = match find(cols, Target::SrcPort) {
        Some((a, nm)) => ports(&a[0], &nm[0], rej)?,
        None => vec![None; n],
    };
    let (a, nm) = need(Target::DstPort)?;
    let dst_port = ports(&a[0], &nm[0], rej)?;
    let up = required_counts(
        byte_counts(cols, Target::Up, rej)?,
        need(Target::Up)?.1,
        rej,
    );
    let down = required_counts(
        byte_counts(cols, Target::Down, rej)?,
        need(Target::Down)?.1,
        rej,
    );
    let packets = byte_counts(cols, Target::Packets, rej)?;
    let duration = match find(cols, Target::Duration) {
        Some((a, _)) => floats(&a[0])?,
        None => vec![None; n],
    };
    let label = match find(cols, Target::Label) {
        Some((a, _)) => Some(strings(&a[0])?),
        None => None,
    };
    let keep = &rej.valid;
    let pick = |i: &usize| keep[*i];
    let rows: Vec<usize> = (0..n).filter(pick).collect();
    let ip_arr = |v: &[i128]| -> Result<ArrayRef> {
        Ok(Arc::new(
            Decimal128Array::from_iter_values(rows.iter().map(|i| v[*i]))
                .with_precision_and_scale(38, 0)?,
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(|i| ts[*i]))
                .with_timezone("UTC"),
        ),
        ip_arr(&src)?,
        ip_arr(&dst)?,
        Arc::new(
            rows.iter()
                .map(|i| Some(proto[*i].as_str()))
                .collect::<StringArray>(),
        ),
        Arc::new(rows.iter().map(|i| src_port[*i]).collect::<UInt16Array>()),
        Arc::new(
            rows.iter()
                .map(|i| dst_port[*i].unwrap_or(0))
                .collect::<UInt16Array>(),
        ),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|i| up[*i]))),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|i| down[*i]))),
        Arc::new(rows.iter().map(|i| duration[*i]).collect::<Float64Array>()),
        Arc::new(
            rows.iter()
                .map(|i| packets.get(*i).copied().flatten())
                .collect::<UInt64Array>(),
        ),
        Arc::new(
            rows.iter()
                .map(|i| {
                    label
                        .as_ref()
                        .and_then(|l| (!l.is_null(*i)).then(|| l.value(*i)))
                })
                .collect::<StringArray>(),
        ),
    ];
    Ok(RecordBatch::try_new(flow_schema(), columns)?)
}

/// Byte counts are required: an empty (null) value rejects the row.
fn required_counts(v: Vec<Option<u64>>, names: &[String], rej: &mut Rejects) -> Vec<u64> {
    v.into_iter()
        .enumerate()
        .map(|(i, x)| {
            if x.is_none() {
                rej.reject(i, &names[0], "", "empty value");
            }
            x.unwrap_or(0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array};

    fn samples(rej: Rejects) -> Vec<(String, String)> {
        let mut bad = BadRows::default();
        rej.finish(&mut bad, false).unwrap();
        bad.samples.into_iter().map(|b| (b.value, b.why)).collect()
    }

    #[test]
    fn bad_row_samples_show_values_not_debug_text() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(-1), None, Some(7)]));
        let mut rej = Rejects::new(Path::new("f.parquet"), 3, 0);
        ips(&a, "src_ip", &mut rej).unwrap();
        assert_eq!(
            samples(rej),
            [
                ("-1".to_string(), "not an IPv4 integer".to_string()),
                (String::new(), "empty value".to_string()),
            ]
        );
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(i64::MAX), None]));
        let mut rej = Rejects::new(Path::new("f.parquet"), 2, 0);
        timestamps(&a, "timestamp", Some(TsUnit::S), &mut rej).unwrap();
        assert_eq!(
            samples(rej),
            [
                (i64::MAX.to_string(), "not a timestamp".to_string()),
                (String::new(), "empty value".to_string()),
            ]
        );
        let a: ArrayRef = Arc::new(Float64Array::from(vec![None, Some(f64::NAN)]));
        let mut rej = Rejects::new(Path::new("f.parquet"), 2, 0);
        timestamps(&a, "timestamp", Some(TsUnit::S), &mut rej).unwrap();
        assert_eq!(
            samples(rej),
            [
                (String::new(), "empty value".to_string()),
                ("NaN".to_string(), "not a timestamp".to_string()),
            ]
        );
    }
}
