//! `flowhound evaluate --truth truth.json FINDINGS.json`: host-level precision, recall and F1.

use anyhow::Result;
use clap::Args;
use flowhound_gen::{evaluate, FindingsDoc, Truth};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `evaluate`.
#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  flowhound evaluate --truth data/truth.json findings.json\n  flowhound evaluate --truth data/truth.json findings.json --json"
)]
pub struct EvaluateArgs {
    /// Ground truth written by `flowhound generate`.
    #[arg(long)]
    truth: PathBuf,
    /// Findings JSON written by `analyze`/`detect --json`.
    findings: PathBuf,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

fn read(path: &Path) -> Result<String> {
    Ok(std::fs::read_to_string(path).map_err(|e| flowhound::FlowError::io(path, e))?)
}

fn bad(path: &Path, what: &str, e: serde_json::Error) -> flowhound::FlowError {
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
    let truth = Truth::from_json(&read(&a.truth)?).map_err(|e| bad(&a.truth, "truth.json", e))?;
    let findings = FindingsDoc::from_json(&read(&a.findings)?)
        .map_err(|e| bad(&a.findings, "findings JSON", e))?;
    let eval = evaluate(&truth, &findings);
    if a.json {
        println!("{}", eval.to_json());
    } else {
        print!("{}", eval.render_text());
    }
    Ok(ExitCode::SUCCESS)
}
