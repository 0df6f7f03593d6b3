//! `flowhound report FINDINGS.json -o report.html`: render a findings document (as written by
//! `analyze --json` / `detect --json`) as one self-contained HTML file. With `--test` (and `--normal`)
//! the flows are read again to add the traffic charts, the internal graph and per-host upload charts;
//! the baseline drawn is `--baseline FILE`, else one learned from `--normal` with `--config`'s
//! `[baseline]` settings.

use super::{GeoDbArgs, InputArgs, NetArgs};
use anyhow::{Context, Result};
use clap::Args;
use flowhound::baseline::{learn, Baseline};
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::findings::{FindingsDoc, SCHEMA_VERSION};
use flowhound::report::{write_html, ReportData};
use flowhound::FlowError;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `report`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound analyze --normal normal.parquet --test test.parquet --json findings.json\n  flowhound report findings.json -o report.html\n  flowhound report findings.json --normal normal.parquet --test test.parquet -o report.html   # with traffic charts\n  flowhound report findings.json --baseline baseline.json --test test.parquet -o report.html  # the baseline of `detect`"
)]
pub struct ReportArgs {
    /// The findings document (`--json` of analyze/detect).
    findings: PathBuf,
    /// The HTML file to write.
    #[arg(short, long, default_value = "report.html")]
    output: PathBuf,
    /// Page title.
    #[arg(long, default_value = "flowhound report")]
    title: String,
    /// Test flows: adds the traffic charts, the internal graph and per-host upload charts.
    #[arg(long, num_args = 1..)]
    test: Vec<String>,
    /// Normal flows (needs --test): adds the normal-vs-test comparison; without --baseline, the
    /// baseline (thresholds, normal levels, new-edge marks) is learned from them.
    #[arg(long, num_args = 1.., requires = "test")]
    normal: Vec<String>,
    /// The baseline the findings were detected against (`flowhound baseline -o FILE`; needs
    /// --test): its thresholds, per-window normal levels and internal graph are drawn, nothing is
    /// learned.
    #[arg(long, value_name = "FILE", requires = "test")]
    baseline: Option<PathBuf>,
    /// Settings file whose `[baseline]` section (window_secs, exclude, ...) is used to learn the
    /// baseline from --normal; give the one the findings were detected with.
    #[arg(
        long,
        value_name = "FILE",
        requires = "normal",
        conflicts_with = "baseline"
    )]
    config: Option<PathBuf>,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    geo: GeoDbArgs,
    #[command(flatten)]
    input: InputArgs,
}

/// Reads and checks a findings document.
pub fn load_findings(path: &Path) -> Result<FindingsDoc> {
    let text = std::fs::read_to_string(path).map_err(|e| FlowError::io(path, e))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| FlowError::Config(format!("{}: not a findings document (invalid JSON: {e}); write one with `flowhound analyze ... --json FILE`", path.display())))?;
    let version = v.get("schema_version").and_then(|x| x.as_u64());
    if version != Some(u64::from(SCHEMA_VERSION)) {
        return Err(FlowError::Config(format!(
            "{}: findings schema_version is {version:?}, this flowhound reads {SCHEMA_VERSION}; re-run `flowhound analyze ... --json FILE`",
            path.display()
        ))
        .into());
    }
    let doc = serde_json::from_value(v).map_err(|e| {
        FlowError::Config(format!(
            "{}: not a valid findings document: {e}",
            path.display()
        ))
    })?;
    Ok(doc)
}

/// Runs `report`.
pub fn run(a: ReportArgs) -> Result<ExitCode> {
    let doc = load_findings(&a.findings)?;
    let mut data = if a.test.is_empty() {
        ReportData::from_doc(doc)
    } else {
        with_flows(&a, doc)?
    };
    data.title = a.title.clone();
    data.settings
        .push(("findings file".into(), a.findings.display().to_string()));
    if let Some(b) = &a.baseline {
        data.settings
            .push(("baseline file".into(), b.display().to_string()));
    } else if let Some(c) = a.config.as_ref().filter(|_| !a.normal.is_empty()) {
        data.settings
            .push(("baseline settings".into(), c.display().to_string()));
    }
    write_html(&a.output, &data)?;
    eprintln!(
        "report: {} ({} findings)",
        a.output.display(),
        data.doc.findings.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// The baseline the report draws: the `--baseline` file, else one learned from the `--normal` flows
/// (with the `[baseline]` settings of `--config`, else the defaults), else none.
fn with_flows(a: &ReportArgs, doc: FindingsDoc) -> Result<ReportData> {
    let config = match &a.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    let file_baseline = a.baseline.as_deref().map(Baseline::load).transpose()?;
    let (tb, _) = a.input.read_all(&a.test)?;
    let test = Flows::from_batches(&tb)?;
    let stack = a.geo.stack()?;
    let nets = a.net.nets();
    let normal = if a.normal.is_empty() {
        None
    } else {
        let (nb, _) = a.input.read_all(&a.normal)?;
        Some(Flows::from_batches(&nb)?)
    };
    let baseline = match (file_baseline, &normal) {
        (Some(b), _) => Some(b),
        (None, Some(nf)) => Some(
            learn(nf, &nets, &stack, &config.baseline, a.normal.clone(), false)
                .context("learning the baseline for the report")?,
        ),
        (None, None) => None,
    };
    Ok(ReportData::build(
        doc,
        &test,
        normal.as_ref(),
        baseline.as_ref(),
        &nets,
        &stack,
    ))
}
