//! `flowhound analyze --normal N... --test T...`: learn the baseline and detect in one go. Without
//! `--normal` the baseline is learned from the test input itself, and detectors use robust statistics.

use super::detect::{Job, RunArgs};
use super::outofcore::TestInput;
use super::{GeoDbArgs, InputArgs, NetArgs};
use anyhow::{bail, Result};
use clap::Args;
use flowhound::baseline::learn;
use flowhound::detect::flows::Flows;
use flowhound::findings::BaselineRef;
use flowhound_geo::GeoStack;
use std::process::ExitCode;

/// Arguments of `analyze`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound analyze --normal normal.parquet --test test.parquet --json findings.json\n  flowhound analyze --test conn.log.labeled              # baseline learned from the capture itself\n  flowhound analyze --normal n.parquet --test t.parquet --detectors mad --csv out.csv --flows-out flows.parquet\n  flowhound analyze --test conn.log --intel firehol_level1.netset --intel drop.txt   # blocklists, nothing fetched"
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

/// Runs `analyze`. With `--normal`, the normal input is read, learned and dropped before the test
/// input is read, so that peak memory holds one capture's batches at a time; a test input larger than
/// the memory limit is then analysed out of core ([`super::outofcore`]).
pub fn run(a: AnalyzeArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let mut config = a.run.load_config()?;
    config.baseline.exclude.extend(a.exclude.iter().cloned());
    let nets = a.net.nets();
    let learn_on = |files: &[String], flows: &Flows, self_learned: bool, stack: &GeoStack| {
        let bar = crate::progress::spinner("learning the baseline", a.input.quiet);
        let b = learn(
            flows,
            &nets,
            stack,
            &config.baseline,
            files.to_vec(),
            self_learned,
        );
        bar.finish_and_clear();
        let b = b?;
        let source = if self_learned { "self" } else { "normal" };
        let bref = BaselineRef {
            source: source.into(),
            inputs: files.to_vec(),
            flows: flows.len() as u64,
        };
        anyhow::Ok((b, bref))
    };
    // The geo stack is built once (after the first input is read, as before) and shared by the
    // learning and the detection; in self-learned mode the test flows serve both.
    let (stack, (baseline, bref), test) = if a.normal.is_empty() {
        let test = super::outofcore::read_test(
            &a.input,
            &a.test,
            &a.run,
            &config,
            &nets,
            config.baseline.window_secs,
        )?;
        let TestInput::InMemory(batches, report) = test else {
            bail!("analyze without --normal learns the baseline from the test input itself, which needs it in memory, and it does not fit the memory limit: learn a baseline from normal traffic (--normal, or `flowhound baseline` then `flowhound detect`), or raise --memory-limit");
        };
        let flows = Flows::from_batches(&batches)?;
        let stack = a.geo.stack()?;
        let learned = learn_on(&a.test, &flows, true, &stack)?;
        (
            stack,
            learned,
            Test::Memory(Box::new((batches, report, flows))),
        )
    } else {
        let (stack, learned) = {
            let (nb, _) = a.input.read_all(&a.normal)?;
            let nf = Flows::from_batches(&nb)?;
            let stack = a.geo.stack()?;
            let learned = learn_on(&a.normal, &nf, false, &stack)?;
            (stack, learned)
        };
        let window = learned.0.window_secs;
        let test = super::outofcore::read_test(&a.input, &a.test, &a.run, &config, &nets, window)?;
        let test = match test {
            TestInput::InMemory(batches, report) => {
                let flows = Flows::from_batches(&batches)?;
                Test::Memory(Box::new((batches, report, flows)))
            }
            TestInput::Sharded(s) => Test::Sharded(s),
        };
        (stack, learned, test)
    };
    let job = Job {
        run: &a.run,
        config: &config,
        inputs: &a.test,
        quiet: a.input.quiet,
        started,
        nets: &nets,
        geo: &stack,
    };
    match test {
        Test::Memory(m) => {
            let (batches, report, flows) = *m;
            job.execute(&batches, &flows, &report, &baseline, bref)
        }
        Test::Sharded(s) => job.execute_sharded(&s, &baseline, bref),
    }
}

/// The test input read whole: batches, what reading reported, the same rows as columns.
type MemoryTest = (
    Vec<datafusion::arrow::record_batch::RecordBatch>,
    flowhound::ingest::IngestReport,
    Flows,
);

/// The test input, read (with its columns) or routed into host shards.
enum Test {
    Memory(Box<MemoryTest>),
    Sharded(Box<flowhound::shard::Sharded>),
}
