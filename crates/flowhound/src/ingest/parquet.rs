//! Parquet reader: the analysts' schema (`timestamp, src_ip, dst_ip, proto, port, up_bytes, down_bytes`),
//! flowhound's canonical schema, or any schema through `--map`. Columns are converted a batch at a time;
//! row groups are the unit of parallel work.

use super::columns::{resolve, Resolved, Source, Target};
use super::convert::{self, Rejects};
use super::report::ReadOutcome;
use super::{parquet_hint, parquet_pages, upstream};
use super::{Format, ReadOptions, TsUnit};
use crate::error::{FlowError, Result};
use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::file::metadata::ParquetMetaData;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Rows per batch read from Parquet.
const BATCH: usize = 65_536;

/// A Parquet file checked up front: its schema resolved and its row groups listed.
#[derive(Debug, Clone)]
pub struct ParquetPlan {
    /// The file.
    pub path: PathBuf,
    resolved: Resolved,
    names: Vec<String>,
    /// The footer, parsed once, with the schema to read with: text columns requested as dictionaries
    /// when possible, so that repeated IP strings are parsed once per dictionary page, not once per row.
    meta: ArrowReaderMetadata,
    /// Per row group: (first row, compressed bytes).
    pub row_groups: Vec<(u64, u64)>,
    ts_unit: Option<TsUnit>,
}

impl ParquetPlan {
    /// Rows in the file (from its footer).
    pub fn num_rows(&self) -> u64 {
        self.meta.metadata().file_metadata().num_rows().max(0) as u64
    }
}

fn corrupt(path: &Path, e: impl std::fmt::Display) -> FlowError {
    FlowError::Corrupt {
        path: path.to_path_buf(),
        why: format!("not a readable Parquet file (truncated or damaged?): {e}"),
    }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| FlowError::io(path, e))
}

/// The footer, with the Arrow schema embedded in it when that schema converts. A damaged embedded schema
/// (`ARROW:schema`) makes arrow-ipc 59 panic instead of failing (found by the `parquet` fuzz target, an
/// upstream bug), so it is checked first ([`parquet_hint`]) and, when it fails the check, the footer is
/// read from the Parquet types alone. Read once, without the hint, then converted again with it.
fn load_metadata(path: &Path, file: &File) -> Result<ArrowReaderMetadata> {
    let load = || {
        let plain = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
        let meta = ArrowReaderMetadata::load(file, plain)?;
        let kv = meta.metadata().file_metadata().key_value_metadata();
        if !parquet_hint::arrow_hint_is_safe(kv) {
            return Ok(meta);
        }
        ArrowReaderMetadata::try_new(meta.metadata().clone(), ArrowReaderOptions::new())
    };
    upstream::guarded(load)
        .map_err(|why| upstream_failure(path, "footer", why))?
        .map_err(|e| corrupt(path, e))
}

/// A failure inside the parquet crate that it reports as a panic (see [`upstream`]).
fn upstream_failure(path: &Path, what: &str, why: String) -> FlowError {
    let why = why.split_whitespace().collect::<Vec<_>>().join(" ");
    let text =
        format!("{what}: the Parquet decoder failed on damaged data ({why}); re-export the file");
    corrupt(path, text)
}

/// Column chunks whose offset or length is negative (the parquet crate asserts on them when reading),
/// and pages that claim more bytes than their codec can produce (the crate would fill that much memory
/// with zeros first: [`parquet_pages`]).
fn check_chunks(path: &Path, file: &File, meta: &ParquetMetaData) -> Result<()> {
    for (g, rg) in meta.row_groups().iter().enumerate() {
        for (c, col) in rg.columns().iter().enumerate() {
            let start = col
                .dictionary_page_offset()
                .unwrap_or(col.data_page_offset());
            if start < 0 || col.compressed_size() < 0 {
                let why = format!(
                    "row group {g}, column {c}: negative offset {start} or length {}",
                    col.compressed_size()
                );
                return Err(corrupt(path, why));
            }
            if let Some(page) = parquet_pages::check_chunk(file, col) {
                let name = col.column_path().string();
                let why = format!("row group {g}, column {name}: {page}; re-export the file");
                return Err(corrupt(path, why));
            }
        }
    }
    Ok(())
}

/// Opens the footer, resolves the columns and checks their types. A panic of the parquet crate on
/// damaged data (it reads the first values to tell a time unit) is a typed error.
pub fn plan(path: &Path, opts: &ReadOptions) -> Result<ParquetPlan> {
    let file = open(path)?;
    let meta = load_metadata(path, &file)?;
    check_chunks(path, &file, meta.metadata())?;
    upstream::guarded(|| plan_with(path, opts, file, meta))
        .unwrap_or_else(|why| Err(upstream_failure(path, "footer", why)))
}

fn plan_with(
    path: &Path,
    opts: &ReadOptions,
    file: File,
    meta: ArrowReaderMetadata,
) -> Result<ParquetPlan> {
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone());
    let schema = builder.schema().clone();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let resolved = resolve(path, &names, Format::Parquet, &opts.mapping)?;
    for (t, src) in &resolved.0 {
        if let Source::Col(i) = src {
            convert::check_type(path, *t, schema.field(*i))?;
        }
    }
    let mut first = 0u64;
    let row_groups = meta
        .metadata()
        .row_groups()
        .iter()
        .map(|rg| {
            let start = first;
            first += rg.num_rows().max(0) as u64;
            (start, rg.compressed_size().max(0) as u64)
        })
        .collect();
    if first == 0 {
        return Err(FlowError::Empty {
            path: path.to_path_buf(),
        });
    }
    let ts_unit = detect_ts_unit(builder, &resolved, opts.ts_unit);
    // The dictionary read schema reuses the parsed footer; when the file refuses it, read as written.
    let meta = dictionary_schema(&schema, &resolved)
        .and_then(|s| {
            let o = ArrowReaderOptions::new().with_schema(s);
            ArrowReaderMetadata::try_new(meta.metadata().clone(), o).ok()
        })
        .unwrap_or(meta);
    Ok(ParquetPlan {
        path: path.to_path_buf(),
        resolved,
        names,
        meta,
        row_groups,
        ts_unit,
    })
}

/// The epoch unit of an integer/float time column, decided once per file so that every row group
/// agrees: forced, else from the first row group's statistics (max value), else (a file written without
/// statistics) from the first non-null value. None for Arrow timestamps (typed units) and, unless
/// forced, for text.
fn detect_ts_unit(
    b: ParquetRecordBatchReaderBuilder<File>,
    r: &Resolved,
    forced: Option<TsUnit>,
) -> Option<TsUnit> {
    use datafusion::parquet::file::statistics::Statistics;
    let Source::Col(i) = *r.get(Target::Ts) else {
        return None;
    };
    let t = b.schema().field(i).data_type();
    if matches!(t, DataType::Timestamp(..)) {
        return None;
    }
    if forced.is_some() {
        return forced;
    }
    if !(t.is_integer() || t.is_floating()) {
        return None;
    }
    let stats = b
        .metadata()
        .row_groups()
        .first()
        .and_then(|rg| rg.columns().get(i))
        .and_then(|c| c.statistics());
    let max = match stats {
        Some(Statistics::Int32(s)) => s.max_opt().map(|m| *m as f64),
        Some(Statistics::Int64(s)) => s.max_opt().map(|m| *m as f64),
        Some(Statistics::Double(s)) => s.max_opt().copied(),
        Some(Statistics::Float(s)) => s.max_opt().map(|m| *m as f64),
        _ => None,
    };
    max.or_else(|| first_value(b, i)).map(TsUnit::detect)
}

/// The first non-null value of numeric column `i`, as a float (None when unreadable: the read itself
/// then reports the damage with its row group).
fn first_value(b: ParquetRecordBatchReaderBuilder<File>, i: usize) -> Option<f64> {
    let mask = ProjectionMask::roots(b.parquet_schema(), [i]);
    let reader = b.with_projection(mask).with_batch_size(4096).build().ok()?;
    for batch in reader {
        let v = cast(batch.ok()?.column(0), &DataType::Float64).ok()?;
        if let Some(x) = v.as_primitive::<Float64Type>().iter().flatten().next() {
            return Some(x);
        }
    }
    None
}

fn dictionary_schema(schema: &SchemaRef, r: &Resolved) -> Option<SchemaRef> {
    let text_cols: Vec<usize> = [Target::SrcIp, Target::DstIp, Target::Proto]
        .iter()
        .filter_map(|t| match r.get(*t) {
            Source::Col(i) if schema.field(*i).data_type() == &DataType::Utf8 => Some(*i),
            _ => None,
        })
        .collect();
    if text_cols.is_empty() {
        return None;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
            if text_cols.contains(&i) {
                f.as_ref().clone().with_data_type(dict)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Some(Arc::new(Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    )))
}

fn projected(plan: &ParquetPlan) -> Vec<usize> {
    let mut cols: Vec<usize> = plan
        .resolved
        .0
        .iter()
        .flat_map(|(_, s)| match s {
            Source::Col(i) => vec![*i],
            Source::Diff(a, b) | Source::Sum(a, b) => vec![*a, *b],
            Source::Absent => vec![],
        })
        .collect();
    cols.sort_unstable();
    cols.dedup();
    cols
}

/// Reads row group `rg`, converting each batch to the canonical schema.
pub fn read_group(
    plan: &ParquetPlan,
    rg: usize,
    opts: &ReadOptions,
    emit: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<ReadOutcome> {
    let b =
        ParquetRecordBatchReaderBuilder::new_with_metadata(open(&plan.path)?, plan.meta.clone());
    let mask = ProjectionMask::roots(b.parquet_schema(), projected(plan));
    let reader = b
        .with_row_groups(vec![rg])
        .with_projection(mask)
        .with_batch_size(BATCH)
        .build()
        .map_err(|e| corrupt(&plan.path, e))?;
    let (first_row, size) = plan.row_groups[rg];
    let mut out = ReadOutcome {
        ts_unit: plan.ts_unit,
        ..Default::default()
    };
    let mut row = first_row;
    let mut reader = reader;
    let at = || format!("row group {rg}");
    while let Some(batch) = upstream::guarded(|| reader.next())
        .map_err(|why| upstream_failure(&plan.path, &at(), why))?
    {
        let batch = batch.map_err(|e| corrupt(&plan.path, format!("{}: {e}", at())))?;
        let n = batch.num_rows();
        let canon = convert_batch(plan, &batch, row, opts, &mut out)?;
        out.rows_read += canon.num_rows() as u64;
        row += n as u64;
        emit(canon)?;
    }
    opts.progress.fetch_add(size, Ordering::Relaxed);
    Ok(out)
}

fn column(plan: &ParquetPlan, batch: &RecordBatch, idx: usize) -> Result<ArrayRef> {
    let name = &plan.names[idx];
    batch
        .column_by_name(name)
        .cloned()
        .ok_or_else(|| FlowError::Internal(format!("projected column {name} missing")))
}

fn convert_batch(
    plan: &ParquetPlan,
    batch: &RecordBatch,
    first_row: u64,
    opts: &ReadOptions,
    out: &mut ReadOutcome,
) -> Result<RecordBatch> {
    let mut rej = Rejects::new(&plan.path, batch.num_rows(), first_row);
    let mut cols: Vec<(Target, Vec<ArrayRef>, Vec<String>)> = Vec::new();
    for (t, src) in &plan.resolved.0 {
        let idx: Vec<usize> = match src {
            Source::Col(i) => vec![*i],
            Source::Diff(a, b) | Source::Sum(a, b) => vec![*a, *b],
            Source::Absent => vec![],
        };
        let arrays = idx
            .iter()
            .map(|i| column(plan, batch, *i))
            .collect::<Result<Vec<_>>>()?;
        cols.push((
            *t,
            arrays,
            idx.iter().map(|i| plan.names[*i].clone()).collect(),
        ));
    }
    let canon = convert::to_canonical(&cols, out.ts_unit, &mut rej)?;
    rej.finish(&mut out.bad, opts.strict)?;
    Ok(canon)
}

/// True when `path` is a Parquet file whose schema holds every canonical column with its canonical
/// type (a file written by `convert` or `enrich`) and whose pages pass [`check_chunks`]; such files can
/// be queried directly, streaming. Any other file goes through the reader, which reports the damage.
pub fn is_canonical(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let Ok(b) = file
        .try_clone()
        .map_err(|e| e.into())
        .and_then(ParquetRecordBatchReaderBuilder::try_new)
    else {
        return false;
    };
    let schema = b.schema();
    let canonical = crate::schema::flow_schema().fields().iter().all(|f| {
        schema
            .field_with_name(f.name())
            .is_ok_and(|g| g.data_type() == f.data_type())
    });
    canonical && check_chunks(path, &file, b.metadata()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_reads_text_ip_columns_as_dictionaries_from_the_one_parsed_footer() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/formats/analysts_s.parquet");
        let plan = plan(&path, &ReadOptions::default()).unwrap();
        let schema = plan.meta.schema();
        for name in ["src_ip", "dst_ip", "proto"] {
            assert!(
                matches!(
                    schema.field_with_name(name).unwrap().data_type(),
                    DataType::Dictionary(..)
                ),
                "{name}: {schema:?}"
            );
        }
        assert_eq!(
            schema.field_with_name("port").unwrap().data_type(),
            &DataType::Int64
        );
    }
}
