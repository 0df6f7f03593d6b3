//! In-memory Arrow data (pandas, pyarrow or polars frames handed over by the Python package) mapped to
//! the canonical schema exactly as a Parquet file with the same columns is: the same column defaults and
//! `map` overrides, the same type checks, the same timestamp-unit detection, the same bad-row rules.
//! `label` stands in for the file name in errors and reports (e.g. `<pandas.DataFrame>`).

use super::columns::{resolve, Resolved, Source, Target};
use super::convert::{self, Rejects};
use super::report::{FileReport, IngestReport, ReadOutcome};
use super::{Format, ReadOptions, TsUnit};
use crate::error::{FlowError, Result};
use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::compute::{cast, max};
use datafusion::arrow::datatypes::{DataType, Float64Type, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Rows converted at a time (a frame is often one chunk of millions of rows).
const SLICE: usize = 65_536;

/// Converts `batches` (all of `schema`) to canonical flow batches, with the ingest report of one
/// "file" named `label`. Bad rows are skipped and counted, or fatal under `opts.strict`.
pub fn read_batches(
    label: &str,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    opts: &ReadOptions,
) -> Result<(Vec<RecordBatch>, IngestReport)> {
    let path = PathBuf::from(label);
    let resolved = check(&path, schema, opts)?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows == 0 {
        return Err(FlowError::Empty { path });
    }
    let ts_unit = ts_unit(schema, batches, &resolved, opts.ts_unit);
    let slices = slices(batches);
    let job = Job {
        path: &path,
        resolved: &resolved,
        slices: &slices,
        ts_unit,
        opts,
    };
    let (mut canon, mut out) = job.run()?;
    if opts.stitch {
        // a frame is one work unit: its one-way records (router flows) stitched into biflows
        (canon, out.stitched) = super::stitch::stitch_unit(canon)?;
    }
    Ok((canon, report(path, out)))
}

/// The batches cut into slices of at most `SLICE` rows (zero-copy), each with its first row number.
fn slices(batches: &[RecordBatch]) -> Vec<(u64, RecordBatch)> {
    let mut out = Vec::new();
    let mut first_row = 0u64;
    for batch in batches {
        for start in (0..batch.num_rows()).step_by(SLICE) {
            let len = SLICE.min(batch.num_rows() - start);
            out.push((first_row, batch.slice(start, len)));
            first_row += len as u64;
        }
    }
    out
}

/// The slices of one frame, converted by `opts.threads` workers taking slices in turn.
struct Job<'a> {
    path: &'a Path,
    resolved: &'a Resolved,
    slices: &'a [(u64, RecordBatch)],
    ts_unit: Option<TsUnit>,
    opts: &'a ReadOptions,
}

/// What converting one slice gave: the canonical batch and its outcome, or the (strict) error.
type Converted = (usize, Result<(RecordBatch, ReadOutcome)>);

impl Job<'_> {
    /// Converts every slice; results are merged in row order, so bad-row samples and the error
    /// reported under `strict` (the first bad row of the frame) do not depend on thread timing.
    fn run(&self) -> Result<(Vec<RecordBatch>, ReadOutcome)> {
        let threads = match self.opts.threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let next = AtomicUsize::new(0);
        let mut done: Vec<Converted> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads.min(self.slices.len()).max(1))
                .map(|_| scope.spawn(|| self.worker(&next)))
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        });
        done.sort_by_key(|(i, _)| *i);
        if done.len() != self.slices.len() {
            return Err(FlowError::Internal(
                "a frame conversion thread panicked".into(),
            ));
        }
        let mut out = ReadOutcome {
            ts_unit: self.ts_unit,
            ..Default::default()
        };
        let mut canon = Vec::with_capacity(done.len());
        for (_, r) in done {
            let (batch, o) = r?;
            out.rows_read += o.rows_read;
            out.bad.merge(o.bad);
            canon.push(batch);
        }
        Ok((canon, out))
    }

    fn worker(&self, next: &AtomicUsize) -> Vec<Converted> {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::SeqCst);
            let Some((first_row, batch)) = self.slices.get(i) else {
                return mine;
            };
            let mut out = ReadOutcome {
                ts_unit: self.ts_unit,
                ..Default::default()
            };
            let r = convert_batch(
                self.path,
                self.resolved,
                batch,
                *first_row,
                self.opts,
                &mut out,
            );
            self.opts
                .progress
                .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
            mine.push((
                i,
                r.map(|b| {
                    out.rows_read = b.num_rows() as u64;
                    (b, out)
                }),
            ));
        }
    }
}

/// Resolves the columns and checks their types up front (before any row is converted).
fn check(path: &Path, schema: &SchemaRef, opts: &ReadOptions) -> Result<Resolved> {
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let resolved = resolve(path, &names, Format::Parquet, &opts.mapping)?;
    for (t, src) in &resolved.0 {
        if let Source::Col(i) = src {
            convert::check_type(path, *t, schema.field(*i))?;
        }
    }
    Ok(resolved)
}

/// The epoch unit of a numeric time column: forced, else from the magnitude of its largest value (as
/// the Parquet reader does from the first row group's statistics). None for Arrow timestamps and text.
fn ts_unit(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    r: &Resolved,
    forced: Option<TsUnit>,
) -> Option<TsUnit> {
    let Source::Col(i) = *r.get(Target::Ts) else {
        return None;
    };
    let t = schema.field(i).data_type();
    if matches!(t, DataType::Timestamp(..)) {
        return None;
    }
    if forced.is_some() || !(t.is_integer() || t.is_floating()) {
        return forced;
    }
    batches
        .iter()
        .filter_map(|b| column_max(b.column(i)))
        .reduce(f64::max)
        .map(TsUnit::detect)
}

fn column_max(a: &ArrayRef) -> Option<f64> {
    let v = cast(a, &DataType::Float64).ok()?;
    max(v.as_primitive::<Float64Type>()).filter(|m| m.is_finite())
}

fn convert_batch(
    path: &Path,
    resolved: &Resolved,
    batch: &RecordBatch,
    first_row: u64,
    opts: &ReadOptions,
    out: &mut ReadOutcome,
) -> Result<RecordBatch> {
    let mut rej = Rejects::new(path, batch.num_rows(), first_row);
    let names = batch.schema();
    let cols: Vec<(Target, Vec<ArrayRef>, Vec<String>)> = resolved
        .0
        .iter()
        .map(|(t, src)| match src {
            Source::Col(i) => (
                *t,
                vec![batch.column(*i).clone()],
                vec![names.field(*i).name().clone()],
            ),
            _ => (*t, vec![], vec![]),
        })
        .collect();
    let canon = convert::to_canonical(&cols, out.ts_unit, &mut rej)?;
    rej.finish(&mut out.bad, opts.strict)?;
    Ok(canon)
}

fn report(path: PathBuf, out: ReadOutcome) -> IngestReport {
    IngestReport {
        files: vec![FileReport {
            path,
            format: Format::Parquet,
            rows_read: out.rows_read,
            rows_skipped: out.bad.count,
            ts_unit: out.ts_unit,
            exporters: out.exporters,
            other_events: out.other_events,
            stitched: out.stitched,
        }],
        bad_rows: out.bad,
        ignored: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    /// The analysts' columns, `n` rows, millisecond timestamps; row `bad` (0-based) has a bad source IP.
    fn frame(n: usize, bad: usize) -> (SchemaRef, RecordBatch) {
        let text = |name: &str| Field::new(name, DataType::Utf8, false);
        let int = |name: &str| Field::new(name, DataType::Int64, false);
        let schema = Arc::new(Schema::new(vec![
            int("timestamp"),
            text("src_ip"),
            text("dst_ip"),
            text("proto"),
            int("port"),
            int("up_bytes"),
            int("down_bytes"),
        ]));
        let ints =
            |f: &dyn Fn(i64) -> i64| Arc::new(Int64Array::from_iter_values((0..n as i64).map(f)));
        let src = (0..n).map(|i| Some(if i == bad { "nope" } else { "192.168.105.7" }));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                ints(&|i| 1_772_409_600_000 + i * 1000),
                Arc::new(src.collect::<StringArray>()),
                Arc::new(StringArray::from(vec!["2001:db8::1"; n])),
                Arc::new(StringArray::from(vec!["tcp"; n])),
                ints(&|_| 443),
                ints(&|i| i),
                ints(&|i| 2 * i),
            ],
        )
        .unwrap();
        (schema, batch)
    }

    #[test]
    fn a_frame_is_read_in_slices_with_its_unit_detected_and_bad_rows_located() {
        let n = 2 * SLICE + 10;
        let (schema, batch) = frame(n, SLICE + 3);
        let opts = ReadOptions {
            threads: 2,
            ..Default::default()
        };
        let (canon, report) = read_batches("<frame>", &schema, &[batch], &opts).unwrap();
        assert_eq!(canon.len(), 3);
        assert_eq!(report.rows_read(), n as u64 - 1);
        assert_eq!(report.files[0].ts_unit, Some(TsUnit::Ms));
        let bad = &report.bad_rows.samples[0];
        assert_eq!(
            (bad.column.as_str(), bad.value.as_str()),
            ("src_ip", "nope")
        );
        assert_eq!(bad.location, crate::error::Location::Row(SLICE as u64 + 4));
        let strict = ReadOptions {
            strict: true,
            ..opts
        };
        let (schema, batch) = frame(n, SLICE + 3);
        let err = read_batches("<frame>", &schema, &[batch], &strict).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("<frame>: row 65540, column 'src_ip'"),
            "{err}"
        );
    }

    #[test]
    fn a_frame_without_a_needed_column_names_the_fix() {
        let (schema, batch) = frame(3, 9);
        let keep: Vec<usize> = (0..7).filter(|i| *i != 5).collect();
        let batch = batch.project(&keep).unwrap();
        let schema = Arc::new(schema.project(&keep).unwrap());
        let err = read_batches("<frame>", &schema, &[batch], &ReadOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("missing column 'up_bytes'"),
            "{err}"
        );
    }
}
