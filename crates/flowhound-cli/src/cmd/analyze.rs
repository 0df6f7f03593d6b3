//! `flowhound analyze --normal N... --test T...`: learn the baseline and detect in one go. Without
//! `--normal` the baseline is learned from the test input itself, and detectors use robust statistics.

use super::detect::{Job, RunArgs};
use super::{GeoDbArgs, InputArgs, NetArgs};
use anyhow::Result;
use clap::Args;
use flowhound::baseline::learn;
use flowhound::detect::flows::Flows;
use flowhound::findings::BaselineRef;
use std::process::ExitCode;

/// Arguments of `analyze`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound analyze --normal normal.parquet --test test.parquet --json findings.json\n  flowhound analyze --test conn.log.labeled              # baseline learned from the capture itself\n  flowhound analyze --normal n.parquet --test t.parquet --detectors mad --csv out.csv --flows-out flows.parquet"
)]
pub struct AnalyzeArgs {
    /// Normal inputs to learn the baseline from (default: the test input itself, robustly).
    #[arg(long, num_args = 1..)]
    normal: Vec<String>,
    /// Test inputs.
    #[arg(long, required = true, num_args = 1..)]
    test: Vec<String>,
    /// Extra internal servers, IP or IP:PORT (repeatable), added to the discovered inventory.
    #[arg(long, value_name = "IP[:PORT]")]
    exclude: Vec<String>,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    geo: GeoDbArgs,
    #[command(flatten)]
    input: InputArgs,
}

/// Runs `analyze`.
pub fn run(a: AnalyzeArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let mut config = a.run.load_config()?;
    config.baseline.exclude.extend(a.exclude.iter().cloned());
    let (batches, report) = a.input.read_all(&a.test)?;
    let stack = a.geo.stack()?;
    let nets = a.net.nets();
    let (baseline, bref) = if a.normal.is_empty() {
        let flows = Flows::from_batches(&batches)?;
        let b = learn(
            &flows,
            &nets,
            &stack,
            &config.baseline,
            a.test.clone(),
            true,
        )?;
        (
            b,
            BaselineRef {
                source: "self".into(),
                inputs: a.test.clone(),
                flows: flows.len() as u64,
            },
        )
    } else {
        let (nb, _) = a.input.read_all(&a.normal)?;
        let flows = Flows::from_batches(&nb)?;
        let b = learn(
            &flows,
            &nets,
            &stack,
            &config.baseline,
            a.normal.clone(),
            false,
        )?;
        (
            b,
            BaselineRef {
                source: "normal".into(),
                inputs: a.normal.clone(),
                flows: flows.len() as u64,
            },
        )
    };
    let job = Job {
        run: &a.run,
        config: &config,
        inputs: &a.test,
        quiet: a.input.quiet,
        started,
    };
    job.execute(&batches, &report, &baseline, bref, &a.net, &a.geo)
}
