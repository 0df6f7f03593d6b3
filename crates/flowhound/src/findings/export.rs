//! Findings to files, always atomically: pretty JSON (the whole document), NDJSON (one finding per
//! line) and CSV (one row per finding, formula-injection safe).

use super::{Finding, FindingsDoc};
use crate::error::{FlowError, Result};
use crate::output::atomic::write_string;
use crate::output::AtomicFile;
use std::path::Path;

fn out_err(path: &Path, e: impl std::fmt::Display) -> FlowError {
    FlowError::Output {
        path: path.to_path_buf(),
        why: e.to_string(),
    }
}

/// Writes the whole document as pretty JSON.
pub fn write_json(path: &Path, doc: &FindingsDoc) -> Result<()> {
    let text = serde_json::to_string_pretty(doc).map_err(|e| out_err(path, e))?;
    write_string(path, &(text + "\n"))
}

/// Writes one finding per line.
pub fn write_ndjson(path: &Path, findings: &[Finding]) -> Result<()> {
    let mut text = String::new();
    for f in findings {
        text += &serde_json::to_string(f).map_err(|e| out_err(path, e))?;
        text.push('\n');
    }
    write_string(path, &text)
}

/// Neutralises a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) by prefixing `'`.
pub fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// CSV column titles.
pub const CSV_HEADER: [&str; 15] = [
    "id",
    "kind",
    "detector",
    "severity",
    "score",
    "hosts",
    "peers",
    "first_seen",
    "last_seen",
    "flows",
    "metric",
    "observed",
    "baseline",
    "threshold",
    "explanation",
];

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

/// The CSV cells of one finding (before neutralisation).
pub fn csv_cells(f: &Finding) -> [String; 15] {
    let e = &f.evidence;
    [
        f.id.clone(),
        f.kind.clone(),
        f.detector.clone(),
        f.severity.as_str().into(),
        format!("{:.4}", f.score),
        f.hosts.join(" "),
        f.peers.join(" "),
        f.first_seen.clone().unwrap_or_default(),
        f.last_seen.clone().unwrap_or_default(),
        f.flows.to_string(),
        e.metric.clone(),
        e.observed.to_string(),
        opt(e.baseline),
        opt(e.threshold),
        e.explanation.clone(),
    ]
}

/// Writes one row per finding, every cell neutralised.
pub fn write_csv(path: &Path, findings: &[Finding]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    {
        let mut w = csv::Writer::from_writer(&mut file);
        w.write_record(CSV_HEADER).map_err(|e| out_err(path, e))?;
        for f in findings {
            w.write_record(csv_cells(f).iter().map(|c| neutralise(c)))
                .map_err(|e| out_err(path, e))?;
        }
        w.flush().map_err(|e| out_err(path, e))?;
    }
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralise_table() {
        let cases = [
            ("=1+1", "'=1+1"),
            ("+x", "'+x"),
            ("-2", "'-2"),
            ("@SUM", "'@SUM"),
            ("\tx", "'\tx"),
            ("ok", "ok"),
            ("", ""),
        ];
        for (cell, want) in cases {
            assert_eq!(neutralise(cell), want);
        }
    }
}
