//! `flowhound analyze --normal N... --test T...`: learn the baseline and detect in one go. Without
//! `--normal` the baseline is learned from the test input itself, and detectors use robust statistics.

use super::detect::{Job, RunArgs};
use super::outofcore::TestInput;
use super::{GeoDbArgs, InputArgs, NetArgs};
use anyhow::Result;
use clap::Args;
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::baseline::learn;
use flowhound::baseline::Baseline;
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::findings::BaselineRef;
use flowhound::ingest::IngestReport;
use flowhound::net::InternalNets;
use flowhound_geo::GeoStack;
use std::process::ExitCode;

/// Arguments of `analyze`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound analyze --normal normal.parquet --test test.parquet --json findings.json\n  flowhound analyze --test conn.log.labeled              # baseline learned from the capture itself\n  flowhound analyze --normal n.parquet --test t.parquet --detectors mad --csv out.csv --flows-out flows.parquet\n  flowhound analyze --test conn.log --intel firehol_level1.netset --intel drop.txt   # blocklists, nothing fetched
  flowhound analyze --normal /shared/n.parquet --test /shared/t.parquet --cluster df://10.0.0.5:50050 --tmp-dir /shared/tmp"
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
/// input is read, so that peak memory holds one capture's batches at a time. An input larger than the
/// memory limit is routed into host shards on disk: the baseline is then learned shard by shard and
/// the detectors run shard by shard ([`super::outofcore`]), with the same results.
pub fn run(a: AnalyzeArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let mut config = a.run.load_config()?;
    config.baseline.exclude.extend(a.exclude.iter().cloned());
    let nets = a.net.nets();
    if a.run.cluster.cluster.is_some() {
        return on_cluster(&a, &config, &nets, started);
    }
    let window = config.baseline.window_secs;
    let read = |files: &[String], detecting: bool| {
        super::outofcore::read_input(&a.input, files, &a.run, &config, &nets, (window, detecting))
    };
    // The geo stack is built once (after the first input is read) and shared by the learning and the
    // detection; in self-learned mode the test input serves both.
    let self_learned = a.normal.is_empty();
    let first = if self_learned { &a.test } else { &a.normal };
    let input = read(first, self_learned)?;
    let stack = a.geo.stack()?;
    let learner = Learner {
        a: &a,
        config: &config,
        nets: &nets,
        stack: &stack,
    };
    let ((baseline, bref), learned_on) = learner.learn(input, first, self_learned)?;
    let test = if self_learned {
        learned_on
    } else {
        drop(learned_on);
        // the learning threads' freed heap back to the system before the test input is read
        flowhound::shard::memory::release_free();
        Test::of(read(&a.test, true)?)?
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

/// `analyze --cluster`: every step on the cluster.
fn on_cluster(
    a: &AnalyzeArgs,
    config: &Config,
    nets: &InternalNets,
    started: std::time::Instant,
) -> Result<ExitCode> {
    let stack = a.geo.stack()?;
    let job = Job {
        run: &a.run,
        config,
        inputs: &a.test,
        quiet: a.input.quiet,
        started,
        nets,
        geo: &stack,
    };
    let learn = match a.normal.is_empty() {
        true => super::on_cluster::Learn::SelfLearned,
        false => super::on_cluster::Learn::Normal(&a.normal),
    };
    job.execute_on_cluster(&a.run.cluster, learn, a.geo.files()?)
}

/// Learns baselines for `run`.
struct Learner<'a> {
    a: &'a AnalyzeArgs,
    config: &'a Config,
    nets: &'a InternalNets,
    stack: &'a GeoStack,
}

impl Learner<'_> {
    /// Learns from `input` (read whole, or routed into host shards); returns the baseline with its
    /// reference and the input, kept for detection (its columns extracted when read whole).
    fn learn(
        &self,
        input: TestInput,
        files: &[String],
        self_learned: bool,
    ) -> Result<((Baseline, BaselineRef), Test)> {
        let bref = |flows: u64| BaselineRef {
            source: if self_learned { "self" } else { "normal" }.into(),
            inputs: files.to_vec(),
            flows,
        };
        match Test::of(input)? {
            Test::Memory(m) => {
                let bar = crate::progress::spinner("learning the baseline", self.a.input.quiet);
                let b = learn(
                    &m.2,
                    self.nets,
                    self.stack,
                    &self.config.baseline,
                    files.to_vec(),
                    self_learned,
                );
                bar.finish_and_clear();
                let r = bref(m.2.len() as u64);
                Ok(((b?, r), Test::Memory(m)))
            }
            Test::Sharded(s) => {
                let limit = self.config.analysis.memory_limit_bytes()?;
                let env = (self.nets, self.stack, &self.config.baseline, limit);
                let bar = super::outofcore::shard_bar("learning", s.shards, self.a.input.quiet);
                let b = s.learn(env, files.to_vec(), self_learned, |d, _| {
                    bar.set_position(d as u64)
                });
                bar.finish_and_clear();
                let r = bref(s.report.rows_read());
                Ok(((b?, r), Test::Sharded(s)))
            }
        }
    }
}

/// The test input read whole: batches, what reading reported, the same rows as columns.
type MemoryTest = (Vec<RecordBatch>, IngestReport, Flows);

/// The test input, read (with its columns) or routed into host shards.
enum Test {
    Memory(Box<MemoryTest>),
    Sharded(Box<flowhound::shard::Sharded>),
}

impl Test {
    /// An input as read: its columns extracted when read whole.
    fn of(input: TestInput) -> Result<Test> {
        Ok(match input {
            TestInput::InMemory(batches, report) => {
                let flows = Flows::from_batches(&batches)?;
                Test::Memory(Box::new((batches, report, flows)))
            }
            TestInput::Sharded(s) => Test::Sharded(s),
        })
    }
}
