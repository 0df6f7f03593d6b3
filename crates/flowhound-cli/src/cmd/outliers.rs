//! `flowhound outliers --normal N... --test T...`: notebook parity. Per-flow sigma / IQR thresholds
//! learned on normal and scipy's z-score on the test itself; prints the row counts (or `--json` in the
//! shape documented in docs/findings.md) and writes the flagged rows, enriched, with `-o`.

use super::{GeoDbArgs, InputArgs};
use anyhow::Result;
use clap::Args;
use flowhound::detect::flows::Flows;
use flowhound::detect::notebook::{
    evaluate, Flags, Method, MetricReport, NotebookParams, NotebookReport,
};
use flowhound::detect::rows::{enriched_rows, text_column};
use flowhound::output::batches::{write, OutFormat};
use flowhound::output::table::Table;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `outliers`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound outliers --normal normal.parquet --test test.parquet\n  flowhound outliers --normal normal.parquet --test test.parquet --method sigma,iqr,zscore-test -o rows.parquet\n  flowhound outliers --normal n.parquet --test t.parquet --json > thresholds.json"
)]
pub struct OutliersArgs {
    /// Normal (reference) inputs.
    #[arg(long, required = true, num_args = 1..)]
    normal: Vec<String>,
    /// Test inputs.
    #[arg(long, required = true, num_args = 1..)]
    test: Vec<String>,
    /// Methods, comma-separated: sigma, iqr, zscore-test.
    #[arg(long, default_value = "sigma,iqr")]
    method: String,
    /// Write the flagged rows (enriched with dst_country, dst_asn, dst_org) to this file (.parquet, .csv, .json, .ndjson).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Print the thresholds and counts as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Standard deviations above the mean for sigma.
    #[arg(long, default_value_t = 3.0)]
    k_std: f64,
    /// IQR multiplier of the fences.
    #[arg(long, default_value_t = 1.5)]
    iqr_factor: f64,
    /// |z| limit of zscore-test.
    #[arg(long, default_value_t = 3.0)]
    z_limit: f64,
    #[command(flatten)]
    geo: GeoDbArgs,
    #[command(flatten)]
    input: InputArgs,
}

fn methods(text: &str) -> Result<Vec<Method>> {
    let mut out = Vec::new();
    for m in text.split(',').filter(|s| !s.trim().is_empty()) {
        out.push(Method::parse(m)?);
    }
    anyhow::ensure!(
        !out.is_empty(),
        flowhound::FlowError::Config(
            "--method: give at least one of sigma, iqr, zscore-test".into()
        )
    );
    Ok(out)
}

fn params(a: &OutliersArgs) -> Result<NotebookParams> {
    for (name, v) in [
        ("--k-std", a.k_std),
        ("--iqr-factor", a.iqr_factor),
        ("--z-limit", a.z_limit),
    ] {
        if !(0.0..=100.0).contains(&v) {
            return Err(flowhound::FlowError::Config(format!(
                "{name} {v} is out of range: must be 0 ..= 100"
            ))
            .into());
        }
    }
    Ok(NotebookParams {
        k_std: a.k_std,
        iqr_factor: a.iqr_factor,
        z_limit: a.z_limit,
    })
}

/// Runs `outliers`.
pub fn run(a: OutliersArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let methods = methods(&a.method)?;
    let p = params(&a)?;
    let (nb, nrep) = a.input.read_all(&a.normal)?;
    let (tb, trep) = a.input.read_all(&a.test)?;
    let (normal, test) = (Flows::from_batches(&nb)?, Flows::from_batches(&tb)?);
    let (up, up_flags) = evaluate(&normal.up, &test.up, &methods, p);
    let (down, down_flags) = evaluate(&normal.down, &test.down, &methods, p);
    let report = NotebookReport {
        up_bytes: up,
        down_bytes: down,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report, normal.len(), test.len()));
    }
    if let Some(path) = &a.output {
        write_rows(&a, path, &tb, &up_flags, &down_flags)?;
    }
    super::summary(&nrep, started, a.input.quiet || a.json);
    super::summary(&trep, started, a.input.quiet || a.json);
    Ok(ExitCode::SUCCESS)
}

fn flag_names(f: Flags) -> String {
    let names: Vec<&str> = [(1, "sigma"), (2, "iqr"), (4, "zscore-test")]
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
    names.join(",")
}

fn write_rows(
    a: &OutliersArgs,
    path: &std::path::Path,
    batches: &[datafusion::arrow::record_batch::RecordBatch],
    up: &[Flags],
    down: &[Flags],
) -> Result<()> {
    let format = OutFormat::from_path(path).ok_or_else(|| {
        flowhound::FlowError::Config(format!(
            "{}: use a .parquet, .csv, .json or .ndjson name",
            path.display()
        ))
    })?;
    let rows: Vec<u32> = (0..up.len())
        .filter(|i| up[*i] != 0 || down[*i] != 0)
        .map(|i| i as u32)
        .collect();
    let geo = a.geo.stack()?;
    let extra = vec![
        text_column(
            "up_flags",
            rows.iter().map(|i| flag_names(up[*i as usize])).collect(),
        ),
        text_column(
            "down_flags",
            rows.iter().map(|i| flag_names(down[*i as usize])).collect(),
        ),
    ];
    let batch = enriched_rows(batches, &rows, &geo, extra)?;
    write(path, format, batch.schema(), &[batch])?;
    if !a.json {
        eprintln!("wrote {} flagged rows to {}", rows.len(), path.display());
    }
    Ok(())
}

fn cell(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.2}"))
}

fn metric_rows(t: &mut Table, name: &str, m: &MetricReport) {
    if let Some(s) = &m.sigma {
        t.row([
            name.to_string(),
            "sigma".into(),
            format!("> {}", cell(s.threshold)),
            s.rows.to_string(),
        ]);
    }
    if let Some(s) = &m.iqr {
        t.row([
            name.to_string(),
            "iqr".into(),
            format!("< {} or > {}", cell(s.lower), cell(s.upper)),
            s.rows.to_string(),
        ]);
    }
    if let Some(s) = &m.zscore_test {
        t.row([
            name.to_string(),
            "zscore-test".into(),
            "|z| on test".into(),
            s.rows.to_string(),
        ]);
    }
    t.row([
        name.to_string(),
        "combined".into(),
        "any method".into(),
        m.combined_rows.to_string(),
    ]);
}

/// The terminal rendering.
pub fn render(r: &NotebookReport, normal: usize, test: usize) -> String {
    let mut t = Table::new(["metric", "method", "rule", "rows"]);
    metric_rows(&mut t, "up_bytes", &r.up_bytes);
    metric_rows(&mut t, "down_bytes", &r.down_bytes);
    format!("normal flows: {normal}, test flows: {test}\n{}", t.render())
}
