//! `flowhound demo` (being written).

use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {}

/// Runs `demo`.
pub fn run(_a: DemoArgs) -> Result<ExitCode> {
    anyhow::bail!("flowhound demo is not available yet")
}
