//! `flowhound evaluate` (being written).

use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `evaluate`.
#[derive(Args, Debug)]
pub struct EvaluateArgs {}

/// Runs `evaluate`.
pub fn run(_a: EvaluateArgs) -> Result<ExitCode> {
    anyhow::bail!("flowhound evaluate is not available yet")
}
