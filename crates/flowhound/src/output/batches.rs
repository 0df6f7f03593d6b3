//! Record batches to Parquet (zstd), CSV or JSON, always through [`AtomicFile`].

use super::atomic::out_err as err;
use super::AtomicFile;
use crate::error::Result;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use std::path::Path;

/// Output file kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    /// Apache Parquet.
    Parquet,
    /// CSV with a header.
    Csv,
    /// A JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

impl OutFormat {
    /// Picks the format from a file extension.
    pub fn from_path(path: &Path) -> Option<OutFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "parquet" | "pq" => Some(OutFormat::Parquet),
            "csv" => Some(OutFormat::Csv),
            "json" => Some(OutFormat::Json),
            "ndjson" | "jsonl" => Some(OutFormat::Ndjson),
            _ => None,
        }
    }
}

/// Parquet writer properties used everywhere (zstd, 1M-row groups, no creation timestamps).
pub fn parquet_props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
        .set_max_row_group_row_count(Some(1 << 20))
        .set_created_by("flowhound".to_string())
        .build()
}

/// A streaming Parquet writer into an atomic file.
pub struct ParquetOut {
    writer: ArrowWriter<AtomicFile>,
    path: std::path::PathBuf,
}

impl ParquetOut {
    /// Starts writing `path` with `schema`.
    pub fn create(path: &Path, schema: SchemaRef) -> Result<Self> {
        let file = AtomicFile::create(path)?;
        let writer =
            ArrowWriter::try_new(file, schema, Some(parquet_props())).map_err(|e| err(path, e))?;
        Ok(ParquetOut {
            writer,
            path: path.to_path_buf(),
        })
    }

    /// Appends a batch.
    pub fn write(&mut self, b: &RecordBatch) -> Result<()> {
        self.writer.write(b).map_err(|e| err(&self.path, e))
    }

    /// Finishes the footer and publishes the file.
    pub fn finish(self) -> Result<()> {
        let file = self.writer.into_inner().map_err(|e| err(&self.path, e))?;
        file.commit()
    }
}

/// Writes batches to `path` in `format`.
pub fn write(
    path: &Path,
    format: OutFormat,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    use datafusion::arrow::{csv, json};
    match format {
        OutFormat::Parquet => {
            let mut w = ParquetOut::create(path, schema)?;
            batches.iter().try_for_each(|b| w.write(b))?;
            w.finish()
        }
        OutFormat::Csv => {
            let mut f = AtomicFile::create(path)?;
            let mut w = csv::WriterBuilder::new().with_header(true).build(&mut f);
            batches
                .iter()
                .try_for_each(|b| w.write(b))
                .map_err(|e| err(path, e))?;
            drop(w);
            f.commit()
        }
        OutFormat::Json => write_json::<json::writer::JsonArray>(path, batches),
        OutFormat::Ndjson => write_json::<json::writer::LineDelimited>(path, batches),
    }
}

/// Batches as a JSON array (`JsonArray`) or one object per line (`LineDelimited`).
fn write_json<F: datafusion::arrow::json::writer::JsonFormat>(
    path: &Path,
    batches: &[RecordBatch],
) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    let mut w = datafusion::arrow::json::Writer::<_, F>::new(&mut f);
    batches
        .iter()
        .try_for_each(|b| w.write(b))
        .map_err(|e| err(path, e))?;
    w.finish().map_err(|e| err(path, e))?;
    drop(w);
    f.commit()
}
