//! `flowhound baseline NORMAL... -o baseline.json`: learn what normal looks like (docs/baseline.md),
//! one learning state per UTC day next to it (`baseline.json.days/`) so that `flowhound baseline
//! update` can roll new days in.

use super::learn_scaled::Days;
use super::{GeoDbArgs, InputArgs, NetArgs};
use anyhow::Result;
use clap::{Args, Subcommand};
use flowhound::baseline::days::{self, Day};
use flowhound::baseline::{Baseline, State};
use flowhound::config::Config;
use flowhound::shard::SpilledDays;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `baseline`.
#[derive(Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Writes the baseline JSON and, beside it, the learning state of each UTC day in BASELINE.days/
(what `flowhound baseline update` merges new days into; docs/baseline.md).

Examples:
  flowhound baseline normal.parquet -o baseline.json
  flowhound baseline week/ --internal 192.168.105.0/24 --exclude 192.168.105.5:445 -o baseline.json
  flowhound baseline month/ --keep-days 7 -o baseline.json        # only the newest 7 days
  flowhound baseline huge.parquet --memory-limit 4GiB --tmp-dir /scratch -o baseline.json   # out of core
  flowhound baseline update --baseline baseline.json yesterday/    # roll a new day in
  flowhound baseline /shared/normal.parquet --cluster df://10.0.0.5:50050 --tmp-dir /shared/tmp -o b.json"
)]
pub struct BaselineArgs {
    #[command(subcommand)]
    cmd: Option<BaselineCmd>,
    /// Normal inputs.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// The baseline file to write.
    #[arg(short, long, required = true)]
    output: Option<PathBuf>,
    /// Keep only the newest N UTC days of the inputs (default: every day).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=366))]
    keep_days: Option<u64>,
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
    #[command(flatten)]
    scale: super::outofcore::ScaleArgs,
    #[command(flatten)]
    cluster: super::on_cluster::ClusterArgs,
}

#[derive(Subcommand, Debug)]
enum BaselineCmd {
    /// Merge a new day of flows into a baseline without re-reading history; the oldest days age out.
    Update(super::baseline_update::UpdateArgs),
}

/// Runs `baseline`.
pub fn run(a: BaselineArgs) -> Result<ExitCode> {
    if let Some(BaselineCmd::Update(u)) = a.cmd {
        return super::baseline_update::run(u);
    }
    let started = std::time::Instant::now();
    let output = a.output.clone().unwrap_or_default();
    let mut config = match &a.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    config.baseline.exclude.extend(a.exclude.iter().cloned());
    a.scale.apply(&mut config)?;
    let nets = a.net.nets();
    let keep = a.keep_days.map(|k| k as usize);
    let base = State::empty(&config.baseline, &nets);
    let ((b, aged), report) = if a.cluster.cluster.is_some() {
        let what = (&nets, a.geo.files()?, &config);
        let s = super::on_cluster::Session::open(&a.cluster, what, a.scale.shards, a.input.quiet)?;
        (
            write_held(&output, s.learn_days(&a.inputs)?, keep, base)?,
            None,
        )
    } else {
        let geo = a.geo.stack()?;
        let learn =
            super::learn_scaled::Learn::new(&a.input, &a.inputs, &a.scale, (&config, &nets, &geo));
        // read whole, or routed into host shards and learned shard by shard beyond --memory-limit
        let (written, report) = learn.days(keep, |days| match days {
            Days::Held(states) => write_held(&output, states, keep, base),
            Days::Spilled(sp) => write_spilled(&output, *sp, base),
        })?;
        (written, Some(report))
    };
    if let Some(report) = &report {
        super::summary(report, started, a.input.quiet);
    }
    if !a.input.quiet {
        eprintln!(
            "baseline: {} flows, {} internal hosts, {} servers, {} internal edges, {} external destinations -> {}",
            b.source.flows, b.hosts.len(), b.servers.len(), b.internal_graph.len(), b.external.destinations.len(), output.display()
        );
        print_days(&b, &aged, &output);
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the baseline of the newest `keep` of `states` (all without) to `output`; returns it and the
/// labels of the days left out.
fn write_held(
    output: &Path,
    states: Vec<(i64, State)>,
    keep: Option<usize>,
    base: State,
) -> Result<(Baseline, Vec<String>)> {
    let mut list: Vec<Day> = states
        .into_iter()
        .map(|(d, st)| Day::new(days::label(d), st))
        .collect();
    let aged = keep
        .map(|k| days::keep_newest(&mut list, k))
        .unwrap_or_default();
    Ok((days::write(output, list, base)?, aged))
}

/// Writes the baseline of days learned out of core to `output`, one day's state at a time; returns
/// it and the labels of the days left out.
fn write_spilled(
    output: &Path,
    mut sp: SpilledDays,
    base: State,
) -> Result<(Baseline, Vec<String>)> {
    let labels = sp.days().into_iter().map(days::label).collect();
    let aged = sp.aged.iter().map(|d| days::label(*d)).collect();
    let union = std::mem::take(&mut sp.union);
    let b = days::write_each(output, labels, |k| sp.day(k), (base, union))?;
    Ok((b, aged))
}

/// The days of a rolling baseline, one line each, and the days left out.
pub(super) fn print_days(b: &Baseline, aged_out: &[String], path: &Path) {
    eprintln!(
        "days kept: {} in {}",
        b.days.len(),
        days::sidecar_dir(path).display()
    );
    for d in &b.days {
        eprintln!("  {}  {:>12} flows  {:>7} hosts", d.day, d.flows, d.hosts);
    }
    if !aged_out.is_empty() {
        eprintln!(
            "days aged out: {} ({})",
            aged_out.len(),
            aged_out.join(", ")
        );
    }
}
