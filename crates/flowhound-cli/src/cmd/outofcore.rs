//! Out-of-core `detect` and `analyze` (`--memory-limit`, `--tmp-dir`, `--shards`): when the test input
//! would not fit in the memory limit it is routed into host shards on disk and detected shard by shard
//! (`flowhound::shard`). The spill directory is removed at the end, after errors, and on Ctrl-C.

use super::detect::{Job, RunArgs};
use super::InputArgs;
use anyhow::{bail, Result};
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::baseline::Baseline;
use flowhound::config::Config;
use flowhound::findings::{format_ts, BaselineRef, FindingsDoc, InputSummary};
use flowhound::ingest::IngestReport;
use flowhound::net::InternalNets;
use flowhound::shard::memory::{format_size, parse_size, shards_needed, BYTES_PER_FLOW};
use flowhound::shard::{self, Inputs, Sharded};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

/// `--memory-limit`, `--tmp-dir`, `--shards`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ScaleArgs {
    /// Memory the analysis may use, e.g. 4GiB or 512MiB (default: `[analysis] memory_limit`, i.e. half
    /// of RAM). Test inputs that would not fit are analysed out of core, host shard by host shard,
    /// with the same findings.
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Directory for the out-of-core spill files, removed at exit (default: `[analysis] tmp_dir`, else
    /// the system's temporary directory). Needs about the test input's size in free space.
    #[arg(long, value_name = "DIR")]
    pub tmp_dir: Option<PathBuf>,
    /// Split the inputs into this many host shards whatever their size (fewer when they hold fewer
    /// hosts; 0: as the memory limit requires).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub shards: usize,
}

impl ScaleArgs {
    /// Applies the flags over `[analysis] memory_limit` / `tmp_dir`.
    pub fn apply(&self, c: &mut Config) -> Result<()> {
        if let Some(m) = &self.memory_limit {
            flowhound::shard::memory::check_limit(parse_size(m)?)?;
            c.analysis.memory_limit = m.clone();
        }
        if let Some(d) = &self.tmp_dir {
            c.analysis.tmp_dir = d.display().to_string();
        }
        Ok(())
    }
}

/// The test input: in memory, or routed into host shards.
pub enum TestInput {
    /// Read whole.
    InMemory(Vec<RecordBatch>, IngestReport),
    /// Routed to disk.
    Sharded(Box<Sharded>),
}

/// Reads `inputs` whole when they fit in the memory limit (and `--shards` does not force shards), else
/// routes them into host shards (host windows of `window_secs`).
pub fn read_test(
    input: &InputArgs,
    inputs: &[String],
    run: &RunArgs,
    config: &Config,
    nets: &InternalNets,
    window_secs: u64,
) -> Result<TestInput> {
    read_input(input, inputs, run, config, nets, (window_secs, true))
}

/// [`read_test`] for an input to detect on (`detecting`) or only to learn from (no internal-pairs
/// shard).
pub fn read_input(
    input: &InputArgs,
    inputs: &[String],
    run: &RunArgs,
    config: &Config,
    nets: &InternalNets,
    (window_secs, detecting): (u64, bool),
) -> Result<TestInput> {
    // outputs that need every flow are refused before any routing work, not after (a normal input
    // beyond memory is fine)
    let check = || match detecting {
        true => check_outputs(run),
        false => Ok(()),
    };
    let how = (window_secs, detecting);
    read_scaled(input, inputs, (&run.scale, config, nets), how, check)
}

/// Reads `inputs` whole when they fit in `config`'s memory limit (and `scale.shards` does not force
/// shards), else routes them into host shards (host windows of `window_secs`; the internal-pairs
/// shard when `detecting`) after `check` passes.
pub fn read_scaled(
    input: &InputArgs,
    inputs: &[String],
    (scale, config, nets): (&ScaleArgs, &Config, &InternalNets),
    (window_secs, detecting): (u64, bool),
    check: impl FnOnce() -> Result<()>,
) -> Result<TestInput> {
    let mut opts = input.options()?;
    opts.stitch = !input.no_stitch;
    let limit = config.analysis.memory_limit_bytes()?;
    let tmp = tmp_dir(config);
    let out = input.scan_with_progress("reading", inputs, &opts, |plan| {
        let rows = plan.estimated_rows();
        let shards = match scale.shards {
            0 => shards_needed(rows, limit),
            n => n,
        };
        if shards <= 1 {
            let (b, r) = flowhound::ingest::collect(plan, &opts)?;
            return Ok(TestInput::InMemory(b, r));
        }
        check()?;
        if !input.quiet {
            eprintln!(
                "out of core: about {rows} flows need ~{} (limit {}); routing them into {shards} host shards under {}",
                format_size(rows.saturating_mul(BYTES_PER_FLOW)),
                format_size(limit),
                tmp.display()
            );
        }
        let spill = spill_dir_removed_on_signal(&tmp)?;
        let mut ro = shard::RouteOptions::new(shards, window_secs, config);
        ro.internal_pairs &= detecting;
        // with --shards the count is exact; else shards are added until each fits the limit
        ro.limit_bytes = (scale.shards == 0).then_some(limit);
        let s = shard::route(plan, &opts, nets, ro, spill)?;
        Ok(TestInput::Sharded(Box::new(s)))
    })?;
    Ok(out)
}

pub(super) fn tmp_dir(config: &Config) -> PathBuf {
    match config.analysis.tmp_dir.trim() {
        "" => std::env::temp_dir(),
        d => PathBuf::from(d),
    }
}

/// Directories to remove on Ctrl-C or SIGTERM ([`remove_on_signal`]).
static ON_SIGNAL: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Creates a spill directory under `base` that Ctrl-C or SIGTERM removes (the process then exits
/// 130); normal exits and errors remove it when the returned directory is dropped. The signal
/// handler is armed before the directory exists, and the registry stays locked while it is created
/// and registered, so a signal at any moment finds every directory that exists.
pub(super) fn spill_dir_removed_on_signal(base: &std::path::Path) -> Result<shard::SpillDir> {
    let mut dirs = ON_SIGNAL
        .lock()
        .map_err(|_| anyhow::anyhow!("signal registry poisoned"))?;
    if dirs.is_empty() {
        arm_signals()?;
    }
    let spill = shard::spill_dir(Some(base))?;
    dirs.push(spill.path().to_path_buf());
    Ok(spill)
}

/// A thread that, on the first Ctrl-C or SIGTERM, removes every registered directory and exits 130.
fn arm_signals() -> Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            let dirs = ON_SIGNAL.lock().map(|d| d.clone()).unwrap_or_default();
            for dir in dirs.iter().filter(|d| d.exists()) {
                let _ = std::fs::remove_dir_all(dir);
                eprintln!("interrupted: removed {}", dir.display());
            }
            std::process::exit(130);
        }
    });
    Ok(())
}

/// Fails up front on outputs that need every test flow in memory at once.
fn check_outputs(run: &RunArgs) -> Result<()> {
    if run.html.is_some() {
        bail!("--html needs every test flow in memory for its charts, and this input is analysed out of core: raise --memory-limit, or leave out --html (--json, --csv, --ndjson, --flows-out and --verdicts work out of core)");
    }
    Ok(())
}

impl Job<'_> {
    /// [`Job::execute`] for a test input routed into host shards.
    pub fn execute_sharded(
        &self,
        s: &Sharded,
        baseline: &Baseline,
        bref: BaselineRef,
    ) -> Result<ExitCode> {
        let inp = Inputs {
            baseline,
            geo: self.geo,
            nets: self.nets,
            config: self.config,
            limit_bytes: self.config.analysis.memory_limit_bytes()?,
            cancel: None,
        };
        let verdict_us = self.run.verdicts.as_ref().map(|_| self.verdict_window_us());
        let bar = shard_bar("detecting", s.shards + 1, self.quiet);
        let detected = s.detect(&inp, verdict_us, |done, _| bar.set_position(done as u64))?;
        bar.finish_and_clear();
        let mut doc = FindingsDoc::new(
            input_summary(self.inputs, s),
            bref,
            self.config.analysis.detectors.clone(),
            detected.findings,
        );
        self.present(&mut doc)?;
        if let Some(p) = &self.run.flows_out {
            let wanted: BTreeSet<u32> = doc
                .findings
                .iter()
                .flat_map(|f| f.flow_rows.clone())
                .collect();
            let (batch, rows) = s.rows(&wanted, self.nets)?;
            super::detect::write_flow_rows(p, &doc.findings, &[batch], Some(&rows), self.geo)?;
        }
        if let Some(w) = verdict_us {
            self.write_verdict_rows(&doc, &detected.active, w)?;
        }
        super::summary(&s.report, self.started, self.quiet);
        eprintln!(
            "out of core: {} host shards ({} flows routed, largest shard {}), spill removed",
            s.shards,
            s.shard_rows.iter().sum::<u64>(),
            s.shard_rows[..s.shards].iter().max().copied().unwrap_or(0)
        );
        eprint!("{}", flowhound::output::term::summary_text(&doc));
        Ok(ExitCode::SUCCESS)
    }
}

impl Job<'_> {
    /// Adds reverse DNS names (unless `--no-rdns`), prints the findings table and writes `--json`,
    /// `--ndjson` and `--csv`: what a run whose flows are not in memory does with its findings.
    pub(super) fn present(&self, doc: &mut FindingsDoc) -> Result<()> {
        if !self.run.no_rdns {
            let names = |ips: &[u128]| self.run.dns.reverse_names(ips);
            flowhound::analysis::add_names(&mut doc.findings, &names)?;
        }
        let term = super::detect::stdout_term(self.run.color.into());
        let rows = self.config.analysis.table_rows_count as usize;
        print!(
            "{}",
            flowhound::output::term::findings_table(&doc.findings, rows, &term)
        );
        self.write_documents(doc)
    }
}

/// A progress bar over `total` shards labelled `label`; hidden with `--quiet`.
pub fn shard_bar(label: &str, total: usize, quiet: bool) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total as u64);
    if quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let template = format!("{label} [{{bar:30}}] {{pos}}/{{len}} shards {{elapsed}} eta {{eta}}");
    let style = indicatif::ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar
}

fn input_summary(inputs: &[String], s: &Sharded) -> InputSummary {
    let range = s.globals.ts_range;
    InputSummary {
        files: inputs.to_vec(),
        rows_read: s.report.files.iter().map(|f| f.rows_read).sum(),
        rows_skipped: s.report.bad_rows.count,
        first_seen: range.map(|r| format_ts(r.0)),
        last_seen: range.map(|r| format_ts(r.1)),
    }
}
