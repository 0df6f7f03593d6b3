//! `flowhound evaluate --truth truth.json FINDINGS.json`: host-level precision, recall and F1; with
//! `--labels CAPTURE`, the CTU-13 error metric per time window and source IP (`evaluate_labels.rs`).

use anyhow::Result;
use clap::Args;
use flowhound_gen::{evaluate, FindingsDoc, Truth};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `evaluate`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound evaluate --truth data/truth.json findings.json\n  flowhound evaluate --truth data/truth.json findings.json --json\n  flowhound evaluate --labels capture.binetflow --verdicts verdicts.csv --window-secs 3600\n  flowhound evaluate --labels conn.log.labeled findings.json        # verdicts derived from the findings"
)]
pub struct EvaluateArgs {
    /// Ground truth written by `flowhound generate`.
    #[arg(long, required_unless_present = "labels")]
    truth: Option<PathBuf>,
    /// Findings JSON written by `analyze`/`detect --json`.
    #[arg(required_unless_present = "verdicts")]
    findings: Option<PathBuf>,
    /// A capture with per-flow labels (binetflow `Label`, Zeek/IoT-23 `label`): computes the CTU-13
    /// error metric (TP/FP/TN/FN of source IPs per time window, plain and time-weighted). Repeatable.
    #[arg(long, value_name = "CAPTURE")]
    labels: Vec<String>,
    /// Verdicts written by `analyze`/`detect --verdicts` (instead of a findings file).
    #[arg(long, value_name = "FILE.csv", requires = "labels")]
    verdicts: Option<PathBuf>,
    /// Window length in seconds for --labels (use the --verdict-window-secs of the run).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    window_secs: u64,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

pub(super) fn read(path: &Path) -> Result<String> {
    Ok(std::fs::read_to_string(path).map_err(|e| flowhound::FlowError::io(path, e))?)
}

pub(super) fn bad(path: &Path, what: &str, e: serde_json::Error) -> flowhound::FlowError {
    flowhound::FlowError::Corrupt {
        path: path.to_path_buf(),
        why: format!(
            "not a {what} file: {e} (line {}, column {})",
            e.line(),
            e.column()
        ),
    }
}

/// Runs `evaluate`.
pub fn run(a: EvaluateArgs) -> Result<ExitCode> {
    if !a.labels.is_empty() {
        let w = a.window_secs;
        let verdicts = a.verdicts.as_deref();
        return super::evaluate_labels::run(&a.labels, verdicts, a.findings.as_deref(), w, a.json);
    }
    let (Some(truth_path), Some(findings_path)) = (&a.truth, &a.findings) else {
        return Err(flowhound::FlowError::Config(
            "evaluate needs --truth and a findings file, or --labels CAPTURE".into(),
        )
        .into());
    };
    let truth =
        Truth::from_json(&read(truth_path)?).map_err(|e| bad(truth_path, "truth.json", e))?;
    let findings = FindingsDoc::from_json(&read(findings_path)?)
        .map_err(|e| bad(findings_path, "findings JSON", e))?;
    let eval = evaluate(&truth, &findings);
    if a.json {
        println!("{}", eval.to_json());
    } else {
        print!("{}", eval.render_text());
    }
    Ok(ExitCode::SUCCESS)
}
