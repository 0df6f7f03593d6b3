//! `flowhound report` (being written).

use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `report`.
#[derive(Args, Debug)]
pub struct ReportArgs {}

/// Runs `report`.
pub fn run(_a: ReportArgs) -> Result<ExitCode> {
    anyhow::bail!("flowhound report is not available yet")
}
