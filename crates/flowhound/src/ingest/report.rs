//! What ingest read and skipped: per-file counts and the first few bad rows, for the run summary.

use super::{Format, TsUnit};
use crate::error::{FlowError, Location, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How many bad rows are kept as examples.
pub const MAX_SAMPLES: usize = 8;

/// One rejected row.
#[derive(Debug, Clone, Serialize)]
pub struct BadRow {
    /// The file.
    pub path: PathBuf,
    /// Where in the file.
    pub location: Location,
    /// The source column.
    pub column: String,
    /// The offending value (shortened to 60 characters).
    pub value: String,
    /// Why it was rejected.
    pub why: String,
}

impl BadRow {
    /// Builds a record, shortening the value.
    pub fn new(path: &Path, location: Location, column: &str, value: &str, why: &str) -> Self {
        let value: String = value.chars().take(60).collect();
        BadRow {
            path: path.to_path_buf(),
            location,
            column: column.to_string(),
            value,
            why: why.to_string(),
        }
    }

    /// The `--strict` error for this row.
    pub fn into_error(self) -> FlowError {
        FlowError::BadRow {
            path: self.path,
            location: self.location,
            column: self.column,
            value: self.value,
            why: self.why,
        }
    }
}

/// Counts and first examples of rejected rows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BadRows {
    /// How many rows were skipped.
    pub count: u64,
    /// The first few, in the order met.
    pub samples: Vec<BadRow>,
}

impl BadRows {
    /// Records one bad row; under `strict` it becomes the error instead.
    pub fn record(&mut self, row: BadRow, strict: bool) -> Result<()> {
        if strict {
            return Err(row.into_error());
        }
        self.count += 1;
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(row);
        }
        Ok(())
    }

    /// Adds another collection.
    pub fn merge(&mut self, other: BadRows) {
        self.count += other.count;
        let room = MAX_SAMPLES.saturating_sub(self.samples.len());
        self.samples.extend(other.samples.into_iter().take(room));
    }
}

/// What reading one work unit (a Parquet row group or a whole text file) produced, besides its batches.
#[derive(Debug, Clone, Default)]
pub struct ReadOutcome {
    /// Rows accepted.
    pub rows_read: u64,
    /// Bad rows.
    pub bad: BadRows,
    /// Epoch unit used for numeric timestamps.
    pub ts_unit: Option<TsUnit>,
    /// Exporters (routers) the file recorded, with sampling (nfcapd input).
    pub exporters: Vec<super::nfcapd::Exporter>,
    /// Events not read as flows, skipped and counted by type (Suricata eve.json input).
    pub other_events: BTreeMap<String, u64>,
    /// One-way answer records folded into their connection's first record ([`super::stitch`]).
    pub stitched: u64,
}

/// Per-file outcome.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// The format read.
    pub format: Format,
    /// Flows accepted.
    pub rows_read: u64,
    /// Rows skipped as bad.
    pub rows_skipped: u64,
    /// The epoch unit used for numeric timestamps, when the file had them.
    pub ts_unit: Option<TsUnit>,
    /// Exporters (routers) the file recorded, with their sampling rates (nfcapd input).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exporters: Vec<super::nfcapd::Exporter>,
    /// Events not read as flows (alert, dns, stats, ..., and `netflow` beside `flow`), skipped and counted
    /// by type (Suricata eve.json).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub other_events: BTreeMap<String, u64>,
    /// One-way answer records folded into their connection's first record (analysis of router flows,
    /// [`super::stitch`]); `rows_read` counts them.
    #[serde(skip_serializing_if = "is_zero")]
    pub stitched: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Everything ingest has to say about a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    /// One entry per file read.
    pub files: Vec<FileReport>,
    /// Rejected rows.
    pub bad_rows: BadRows,
    /// Files passed over during directory expansion (not flow logs), with the reason.
    pub ignored: Vec<(PathBuf, String)>,
}

impl IngestReport {
    /// Total flows accepted.
    pub fn rows_read(&self) -> u64 {
        self.files.iter().map(|f| f.rows_read).sum()
    }

    /// Total rows skipped.
    pub fn rows_skipped(&self) -> u64 {
        self.files.iter().map(|f| f.rows_skipped).sum()
    }

    /// A short human summary ("992 flows from 1 file; 3 bad rows skipped (first: ...)").
    pub fn summary_lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "read {} flows from {} file(s)",
            self.rows_read(),
            self.files.len()
        )];
        let stitched: u64 = self.files.iter().map(|f| f.stitched).sum();
        if stitched > 0 {
            out.push(format!(
                "stitched {stitched} one-way answer record(s) into their connections' first records (router flows; --no-stitch keeps them)"
            ));
        }
        if self.bad_rows.count > 0 {
            out.push(format!(
                "skipped {} bad row(s); first ones:",
                self.bad_rows.count
            ));
            for b in &self.bad_rows.samples {
                out.push(format!(
                    "  {}: {}, column '{}': {} (value '{}')",
                    b.path.display(),
                    b.location,
                    b.column,
                    b.why,
                    b.value
                ));
            }
            out.push("  (--strict makes bad rows fatal)".to_string());
        }
        for f in self.files.iter().filter(|f| !f.exporters.is_empty()) {
            out.push(exporter_line(f));
        }
        for f in self.files.iter().filter(|f| !f.other_events.is_empty()) {
            out.push(format!(
                "{}: skipped {} event(s) not read as flows: {}",
                f.path.display(),
                f.other_events.values().sum::<u64>(),
                super::eve::summarise(&f.other_events)
            ));
        }
        for (_, why) in &self.ignored {
            out.push(format!("ignored {why}"));
        }
        out
    }
}

/// "nfcapd.202612041200: exporters 10.0.0.1 (v9, 120 flows, sampling 1:100), ..."
fn exporter_line(f: &FileReport) -> String {
    let parts: Vec<String> = f
        .exporters
        .iter()
        .map(|e| {
            let sampling = e
                .sampling
                .map(|r| format!(", sampling 1:{r}"))
                .unwrap_or_default();
            format!("{} (v{}, {} flows{sampling})", e.ip, e.version, e.flows)
        })
        .collect();
    format!("{}: exporters {}", f.path.display(), parts.join(", "))
}
