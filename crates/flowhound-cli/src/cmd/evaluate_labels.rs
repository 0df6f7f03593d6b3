//! `flowhound evaluate --labels CAPTURE [--verdicts V.csv | FINDINGS.json]`: the CTU-13 error metric
//! (`flowhound::ctu13`) of a run against a capture's per-flow labels.

use anyhow::Result;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Decimal128Type, TimestampMicrosecondType};
use flowhound::ctu13::{self, Counts, Ctu13, Truth};
use flowhound::findings::Finding;
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::schema::col;
use flowhound::verdicts::{self, window_of};
use flowhound::FlowError;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

/// Runs the metric and prints it.
pub fn run(
    labels: &[String],
    verdicts_csv: Option<&Path>,
    findings: Option<&Path>,
    window_secs: u64,
    json: bool,
) -> Result<ExitCode> {
    let w = i64::try_from(window_secs.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
    let (batches, _) = read_all(labels, &ReadOptions::default())?;
    let truth = ctu13::truth_windows(labelled(&batches, &labels.join(" "))?.into_iter(), w);
    let flagged = match (verdicts_csv, findings) {
        (Some(v), _) => read_verdicts(v, w)?,
        (None, Some(f)) => from_findings(f, &truth, w)?,
        (None, None) => {
            return Err(FlowError::Config(
                "--labels needs --verdicts FILE or a findings file".into(),
            )
            .into())
        }
    };
    let m = ctu13::score(&truth, &flagged, w);
    if json {
        println!("{}", serde_json::to_string_pretty(&m)?);
    } else {
        print!("{}", render(&m, window_secs));
    }
    Ok(ExitCode::SUCCESS)
}

/// (ts, src, truth) of every flow whose label counts.
fn labelled(batches: &[RecordBatch], what: &str) -> Result<Vec<(i64, u128, Truth)>> {
    let mut out = Vec::new();
    for b in batches {
        let Some(label) = b
            .column_by_name(col::LABEL)
            .filter(|l| l.null_count() < l.len())
        else {
            continue;
        };
        let label = label.as_string::<i32>();
        let ts = b
            .column_by_name(col::TS)
            .map(|c| c.as_primitive::<TimestampMicrosecondType>());
        let src = b
            .column_by_name(col::SRC_IP)
            .map(|c| c.as_primitive::<Decimal128Type>());
        let (Some(ts), Some(src)) = (ts, src) else {
            continue;
        };
        for i in 0..b.num_rows() {
            if let Some(t) = label
                .is_valid(i)
                .then(|| ctu13::classify(label.value(i)))
                .flatten()
            {
                out.push((ts.value(i), flowhound::ip::from_i128(src.value(i)), t));
            }
        }
    }
    if out.is_empty() {
        return Err(FlowError::Config(format!(
            "{what}: no flow carries a usable label (binetflow Label From-Botnet/From-Normal, or Zeek/IoT-23 label Malicious/Benign); the column must be named label (CSV, Zeek) or Label (binetflow)"
        ))
        .into());
    }
    Ok(out)
}

/// The (window, ip) pairs a verdicts CSV marks `malicious`.
fn read_verdicts(path: &Path, w: i64) -> Result<BTreeSet<(i64, u128)>> {
    let text = super::evaluate::read(path)?;
    let mut out = BTreeSet::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let bad = |col: &str| FlowError::Corrupt {
            path: path.to_path_buf(),
            why: format!(
                "line {}, column {col}: not a verdicts row (window_start,ip,verdict,score,kinds)",
                n + 1
            ),
        };
        let ts = verdicts::parse_ts(f.first().copied().unwrap_or(""))
            .ok_or_else(|| bad("window_start"))?;
        let ip = flowhound::ip::parse(f.get(1).copied().unwrap_or("")).ok_or_else(|| bad("ip"))?;
        if f.get(2).copied() == Some(verdicts::MALICIOUS) {
            out.insert((window_of(ts, w), ip));
        }
    }
    Ok(out)
}

/// The labelled (window, ip) pairs some finding blames.
fn from_findings(
    path: &Path,
    truth: &BTreeMap<(i64, u128), Truth>,
    w: i64,
) -> Result<BTreeSet<(i64, u128)>> {
    let doc: serde_json::Value = serde_json::from_str(&super::evaluate::read(path)?)
        .map_err(|e| super::evaluate::bad(path, "findings JSON", e))?;
    let findings: Vec<Finding> = serde_json::from_value(doc["findings"].clone())
        .map_err(|e| super::evaluate::bad(path, "findings JSON", e))?;
    let active: BTreeSet<(i64, u128)> = truth.keys().copied().collect();
    let rows = verdicts::verdicts(&active, &verdicts::blames(&findings), w);
    Ok(rows
        .iter()
        .filter(|r| r.malicious)
        .map(|r| (r.window_start_us, r.ip))
        .collect())
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{:.1}%", v * 100.0))
}

fn row(name: &str, c: &Counts) -> String {
    format!(
        "{name:<9} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>7} {:>9} {:>7}\n",
        c.tp,
        c.fp,
        c.tn,
        c.r#fn,
        pct(c.tpr()),
        pct(c.fpr()),
        pct(c.precision()),
        pct(c.f1())
    )
}

/// The text report.
fn render(m: &Ctu13, window_secs: u64) -> String {
    let mut s = format!(
        "CTU-13 error metric: {} windows of {window_secs} s, {} botnet and {} normal source IPs\n",
        m.windows, m.botnet_ips, m.normal_ips
    );
    s.push_str(&format!(
        "{:<9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>9} {:>7}\n",
        "", "TP", "FP", "TN", "FN", "TPR", "FPR", "precision", "F1"
    ));
    s.push_str(&row("plain", &m.plain));
    s.push_str(&row("weighted", &m.weighted));
    s
}
