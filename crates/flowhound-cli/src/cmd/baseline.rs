//! `flowhound baseline NORMAL... -o baseline.json`: learn what normal looks like (docs/baseline.md).

use super::{GeoDbArgs, InputArgs, NetArgs};
use anyhow::Result;
use clap::Args;
use flowhound::baseline::learn;
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `baseline`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound baseline normal.parquet -o baseline.json\n  flowhound baseline week/ --internal 192.168.105.0/24 --exclude 192.168.105.5:445 -o baseline.json"
)]
pub struct BaselineArgs {
    /// Normal inputs.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// The baseline file to write.
    #[arg(short, long, required = true)]
    output: PathBuf,
    /// Settings file (`[baseline]` table).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Extra internal servers, IP or IP:PORT (repeatable).
    #[arg(long, value_name = "IP[:PORT]")]
    exclude: Vec<String>,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    geo: GeoDbArgs,
    #[command(flatten)]
    input: InputArgs,
}

/// Runs `baseline`.
pub fn run(a: BaselineArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let mut config = match &a.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    config.baseline.exclude.extend(a.exclude.iter().cloned());
    let (batches, report) = a.input.read_all(&a.inputs)?;
    let flows = Flows::from_batches(&batches)?;
    let geo = a.geo.stack()?;
    let b = learn(
        &flows,
        &a.net.nets(),
        &geo,
        &config.baseline,
        a.inputs.clone(),
        false,
    )?;
    b.save(&a.output)?;
    super::summary(&report, started, a.input.quiet);
    if !a.input.quiet {
        eprintln!(
            "baseline: {} flows, {} internal hosts, {} servers, {} internal edges, {} external destinations -> {}",
            b.source.flows, b.hosts.len(), b.servers.len(), b.internal_graph.len(), b.external.destinations.len(), a.output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
