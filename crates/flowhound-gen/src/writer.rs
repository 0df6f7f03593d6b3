//! Parquet output in the analysts' schema, streamed in row groups, written
//! atomically (temporary file in the same directory, then rename) with fixed
//! writer properties so that the bytes depend only on the data.

use crate::config::TsFormat;
use crate::flow::Flow;
use crate::ip::push_dotted;
use crate::GenError;
use arrow::array::{ArrayRef, Float64Array, Int64Array, StringBuilder, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The Arrow type of the `timestamp` column for `fmt`.
pub fn ts_type(fmt: TsFormat) -> DataType {
    match fmt {
        TsFormat::Seconds | TsFormat::Millis => DataType::Int64,
        TsFormat::FloatSeconds => DataType::Float64,
        TsFormat::ArrowTimestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    }
}

/// The analysts' flow schema: `timestamp, src_ip, dst_ip, proto, port, up_bytes, down_bytes`.
pub fn flow_schema(fmt: TsFormat) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("timestamp", ts_type(fmt), false),
        Field::new("src_ip", DataType::Utf8, false),
        Field::new("dst_ip", DataType::Utf8, false),
        Field::new("proto", DataType::Utf8, false),
        Field::new("port", DataType::Int64, false),
        Field::new("up_bytes", DataType::Int64, false),
        Field::new("down_bytes", DataType::Int64, false),
    ]))
}

/// Schema of the label files: `label` (scenario or `normal`), `decoy` (kind or null).
pub fn label_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("label", DataType::Utf8, false),
        Field::new("decoy", DataType::Utf8, true),
    ]))
}

fn props(row_group_size: usize) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(row_group_size.max(1024)))
        .set_created_by("flowhound-gen".to_string())
        .build()
}

/// A Parquet file being written to `<final>.tmp` and renamed on
/// [`finish`](AtomicParquet::finish); dropped unfinished, the temporary file is removed.
pub(crate) struct AtomicParquet {
    writer: Option<ArrowWriter<File>>,
    tmp: PathBuf,
    dest: PathBuf,
}

impl AtomicParquet {
    /// Creates `dest.tmp` with `schema`.
    pub(crate) fn create(
        dest: &Path,
        schema: SchemaRef,
        row_group_size: usize,
    ) -> Result<Self, GenError> {
        let mut tmp = dest.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let file = File::create(&tmp).map_err(|e| GenError::io(&tmp, e))?;
        let mut me = AtomicParquet {
            writer: None,
            tmp,
            dest: dest.to_path_buf(),
        };
        me.writer = Some(ArrowWriter::try_new(
            file,
            schema,
            Some(props(row_group_size)),
        )?);
        Ok(me)
    }

    /// Appends a batch.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<(), GenError> {
        if let Some(w) = &mut self.writer {
            w.write(batch)?;
        }
        Ok(())
    }

    /// Closes, syncs and renames the file into place.
    pub(crate) fn finish(mut self) -> Result<(), GenError> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let file = writer.into_inner()?;
        file.sync_all().map_err(|e| GenError::io(&self.tmp, e))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| GenError::io(&self.dest, e))
    }
}

impl Drop for AtomicParquet {
    fn drop(&mut self) {
        if self.writer.is_some() || self.tmp.exists() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Converts flows into a record batch of [`flow_schema`].
pub(crate) fn flow_batch(flows: &[Flow], fmt: TsFormat) -> Result<RecordBatch, GenError> {
    let ts: ArrayRef = match fmt {
        TsFormat::Seconds => Arc::new(Int64Array::from_iter_values(
            flows.iter().map(|f| f.ts_us.div_euclid(1_000_000)),
        )),
        TsFormat::Millis => Arc::new(Int64Array::from_iter_values(
            flows.iter().map(|f| f.ts_us.div_euclid(1000)),
        )),
        TsFormat::FloatSeconds => Arc::new(Float64Array::from_iter_values(
            flows.iter().map(|f| f.ts_us as f64 / 1e6),
        )),
        TsFormat::ArrowTimestamp => Arc::new(
            TimestampMicrosecondArray::from_iter_values(flows.iter().map(|f| f.ts_us))
                .with_timezone("UTC"),
        ),
    };
    let cols: Vec<ArrayRef> = vec![
        ts,
        ip_column(flows, |f| f.src),
        ip_column(flows, |f| f.dst),
        str_column(flows.iter().map(|f| Some(f.proto.name()))),
        Arc::new(Int64Array::from_iter_values(
            flows.iter().map(|f| i64::from(f.port)),
        )),
        Arc::new(Int64Array::from_iter_values(flows.iter().map(|f| f.up))),
        Arc::new(Int64Array::from_iter_values(flows.iter().map(|f| f.down))),
    ];
    Ok(RecordBatch::try_new(flow_schema(fmt), cols)?)
}

/// Converts flows' labels into a record batch of [`label_schema`].
pub(crate) fn label_batch(flows: &[Flow]) -> Result<RecordBatch, GenError> {
    let cols: Vec<ArrayRef> = vec![
        str_column(flows.iter().map(|f| Some(f.label.label()))),
        str_column(flows.iter().map(|f| f.label.decoy())),
    ];
    Ok(RecordBatch::try_new(label_schema(), cols)?)
}

fn ip_column(flows: &[Flow], get: impl Fn(&Flow) -> u32) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(flows.len(), flows.len() * 14);
    let mut s = String::with_capacity(15);
    for f in flows {
        s.clear();
        push_dotted(get(f), &mut s);
        b.append_value(&s);
    }
    Arc::new(b.finish())
}

fn str_column<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    let mut b = StringBuilder::new();
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}
