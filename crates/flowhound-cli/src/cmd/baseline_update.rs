//! `flowhound baseline update --baseline B.json NEW_DAY...`: merge a new day into a rolling baseline
//! without re-reading history; the oldest days age out (docs/baseline.md, "Rolling baselines").

use super::{GeoDbArgs, InputArgs, NetArgs};
use anyhow::Result;
use clap::Args;
use flowhound::baseline::days::{self, Day};
use flowhound::baseline::{Baseline, State};
use flowhound::config::Config;
use flowhound::net::{Cidr, InternalNets};
use flowhound::FlowError;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `baseline update`.
#[derive(Args, Debug)]
#[command(
    after_help = "The new inputs are one day: its date is the UTC date holding most of their flow starts, or --day.
An update for a day the baseline already keeps replaces that day (running it twice counts the day once).
Only the newest --keep-days days are kept ([baseline] keep_days, default 7); older days age out.
Window settings and internal networks must be those the baseline was learned with (by default the
baseline's own internal networks are used).

Examples:
  flowhound baseline update --baseline baseline.json /data/flows/2026-03-08/
  flowhound baseline update --baseline baseline.json conn.2026-03-08.log.gz --keep-days 14
  flowhound baseline update --baseline baseline.json late.parquet --day 2026-03-08   # replaces that day
  flowhound baseline update --baseline baseline.json big-day/ --memory-limit 2GiB    # out of core
  flowhound baseline update --baseline b.json /shared/day.parquet --cluster df://10.0.0.5:50050 --tmp-dir /shared/tmp

Nightly (crontab; % must be escaped):
  15 0 * * * flowhound baseline update -q --baseline /srv/fh/baseline.json /data/flows/$(date -ud yesterday +\\%F)/"
)]
pub struct UpdateArgs {
    /// The rolling baseline to update (written by `flowhound baseline`).
    #[arg(long, required = true, value_name = "FILE")]
    baseline: PathBuf,
    /// The new day's inputs.
    #[arg(required = true, value_name = "NEW_DAY")]
    inputs: Vec<String>,
    /// The day's UTC date, YYYY-MM-DD (default: the date holding most of its flow starts).
    #[arg(long, value_name = "YYYY-MM-DD")]
    day: Option<String>,
    /// Days kept (default: [baseline] keep_days of --config, else 7).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=366))]
    keep_days: Option<u64>,
    /// Settings file (`[baseline]` table).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Extra internal servers, IP or IP:PORT (repeatable); the baseline's configured ones are kept.
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

/// The day states the cluster learned as one state, and the UTC day holding most of their flows
/// (the local run's `days::main_day`; a tie goes to the later day).
fn merge_days(
    learned: Vec<(i64, State)>,
    empty: State,
) -> flowhound::error::Result<(State, Option<String>)> {
    let main = days::busiest_day(learned.iter().map(|(d, st)| (*d, st.flows())));
    let mut all = empty;
    for (_, st) in learned {
        all.merge(st)?;
    }
    Ok((all, main))
}

/// How many times its state file's size a day's learning state takes in memory (measured: 7 days of
/// 100M generated flows, 92 MB of files, took 3.2 GiB held together; docs/scale.md).
const STATE_BYTES_PER_FILE_BYTE: u64 = 40;

/// Host parts to derive the rolled baseline in: `--shards` when given, else 1 (every kept day held at
/// once) when the kept days' states fit in half the memory limit, else enough parts that one does.
fn union_parts(a: &UpdateArgs, old: &Baseline, config: &Config) -> Result<usize> {
    if a.scale.shards > 0 {
        return Ok(a.scale.shards.max(1));
    }
    let dir = days::sidecar_dir(&a.baseline);
    let file_bytes: u64 = old
        .days
        .iter()
        .filter_map(|d| std::fs::metadata(dir.join(&d.state)).ok())
        .map(|m| m.len())
        .sum();
    let held = file_bytes.saturating_mul(STATE_BYTES_PER_FILE_BYTE);
    let room = (config.analysis.memory_limit_bytes()? / 2).max(1);
    Ok(held.div_ceil(room).max(1) as usize)
}

/// The baseline's configured servers as `--exclude` entries.
fn configured(b: &Baseline) -> Vec<String> {
    b.servers
        .iter()
        .filter(|s| s.source == "configured")
        .map(|s| match (s.port, s.ip.contains(':')) {
            (None, _) => s.ip.clone(),
            (Some(p), true) => format!("[{}]:{p}", s.ip),
            (Some(p), false) => format!("{}:{p}", s.ip),
        })
        .collect()
}

/// The internal networks: `--internal`, else the baseline's own.
fn nets(a: &UpdateArgs, b: &Baseline) -> Result<InternalNets> {
    if !a.net.internal.is_empty() {
        return Ok(a.net.nets());
    }
    let blocks = b
        .internal_networks
        .iter()
        .map(|c| {
            Cidr::parse(c).map_err(|e| {
                FlowError::Config(format!(
                    "{}: internal network '{c}': {e}; pass --internal",
                    a.baseline.display()
                ))
            })
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(InternalNets::new(blocks))
}

/// Runs `baseline update`.
pub fn run(a: UpdateArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let mut config = match &a.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    a.scale.apply(&mut config)?;
    let keep = a.keep_days.unwrap_or(config.baseline.keep_days) as usize;
    let old = Baseline::load(&a.baseline)?;
    let parts = union_parts(&a, &old, &config)?;
    // beyond the memory limit the kept days stay in their files until the union is derived by parts
    let mut kept = match parts {
        1 => days::load(&a.baseline, &old)?,
        _ => days::load_listed(&a.baseline, &old)?,
    };
    let label = a.day.as_deref().map(days::parse_label).transpose()?;
    let nets = nets(&a, &old)?;
    let settings = &mut config.baseline;
    settings.exclude.extend(a.exclude.iter().cloned());
    for e in configured(&old) {
        if !settings.exclude.contains(&e) {
            settings.exclude.push(e);
        }
    }
    let (st, main_day, report) = if a.cluster.cluster.is_some() {
        let what = (&nets, a.geo.files()?, &config);
        let s = super::on_cluster::Session::open(&a.cluster, what, a.scale.shards, a.input.quiet)?;
        let empty = State::empty(&config.baseline, &nets);
        let (st, day) = merge_days(s.learn_days(&a.inputs)?, empty)?;
        (st, day, None)
    } else {
        let geo = a.geo.stack()?;
        let learn =
            super::learn_scaled::Learn::new(&a.input, &a.inputs, &a.scale, (&config, &nets, &geo));
        // read whole, or routed into host shards and learned shard by shard beyond --memory-limit
        let (st, day, report) = learn.state()?;
        (st, day, Some(report))
    };
    let Some(label) = label.or(main_day) else {
        return Err(FlowError::Config(format!("{}: no flows to add", a.inputs.join(" "))).into());
    };
    days::check_compatible(&a.baseline, &kept, &st)?;
    let new_flows = st.flows();
    let rolled = days::roll(&mut kept, Day::new(label, st), keep)?;
    let base = State::empty(&config.baseline, &nets);
    let b = match parts {
        1 => days::write(&a.baseline, kept, base)?,
        _ => {
            let spill =
                super::outofcore::spill_dir_removed_on_signal(&super::outofcore::tmp_dir(&config))?;
            if !a.input.quiet {
                eprintln!(
                    "out of core: the {} days' states derived in {parts} host parts under {}",
                    kept.len(),
                    spill.path().display()
                );
            }
            days::write_by_parts(&a.baseline, kept, base, (parts, spill.path()))?
        }
    };
    if let Some(report) = &report {
        super::summary(report, started, a.input.quiet);
    }
    if !a.input.quiet {
        eprintln!(
            "baseline update: day {} {} ({new_flows} flows); {} days kept, {} aged out; {} flows, {} internal hosts, {} servers -> {} in {:.2} s",
            rolled.added,
            if rolled.replaced { "replaced" } else { "added" },
            b.days.len(),
            rolled.aged_out.len(),
            b.source.flows,
            b.hosts.len(),
            b.servers.len(),
            a.baseline.display(),
            started.elapsed().as_secs_f64()
        );
        super::baseline::print_days(&b, &rolled.aged_out, &a.baseline);
    }
    Ok(ExitCode::SUCCESS)
}
