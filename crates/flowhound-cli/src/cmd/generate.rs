//! `flowhound generate` (being written).

use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {}

/// Runs `generate`.
pub fn run(_a: GenerateArgs) -> Result<ExitCode> {
    anyhow::bail!("flowhound generate is not available yet")
}
