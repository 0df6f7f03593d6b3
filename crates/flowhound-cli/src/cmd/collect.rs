//! `flowhound collect --listen HOST:PORT --out DIR`: a NetFlow v5/v9/IPFIX collector writing rolling
//! canonical Parquet files that `profile`, `analyze` and every other subcommand read directly.

use anyhow::{bail, Result};
use clap::Args;
use flowhound::collect::{stats_line, CollectConfig, Collector};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `collect`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  flowhound collect --listen 0.0.0.0:2055 --out /var/lib/flowhound/flows
  flowhound collect --listen [::]:4739 --out flows --rotate-secs 60
  flowhound analyze --normal 'flows/flows.20261201*.parquet' --test 'flows/flows.20261204*.parquet'

Routers send NetFlow v5, v9 or IPFIX over UDP to --listen. Every --rotate-secs the flows of the window
appear in DIR as flows.YYYYMMDDhhmmss.parquet (UTC start of the window; written under a hidden temporary
name and renamed when complete), and one stats line per exporter goes to stderr. SIGINT or SIGTERM writes
the current window and exits 0.")]
pub struct CollectArgs {
    /// UDP address to listen on (HOST:PORT; IPv6 as [::]:PORT).
    #[arg(long, default_value = "0.0.0.0:2055")]
    listen: String,
    /// Directory for the Parquet files (must exist).
    #[arg(long)]
    out: PathBuf,
    /// Seconds per file.
    #[arg(long, default_value_t = 300)]
    rotate_secs: u64,
    /// Output format (parquet: canonical flow schema, zstd).
    #[arg(long, default_value = "parquet")]
    format: String,
    /// Socket receive buffer to ask for, MiB (the kernel caps it at net.core.rmem_max).
    #[arg(long, default_value_t = 64)]
    recv_buffer_mib: usize,
}

/// Runs `collect`.
pub fn run(a: CollectArgs) -> Result<ExitCode> {
    if a.format != "parquet" {
        bail!("--format {}: only parquet is written", a.format);
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone())?;
    }
    let collector = Collector::bind(CollectConfig {
        listen: a.listen,
        out_dir: a.out.clone(),
        rotate: Duration::from_secs(a.rotate_secs),
        recv_buffer: a.recv_buffer_mib << 20,
    })?;
    eprintln!(
        "collect: listening on {} (UDP), writing {} every {} s; receive buffer {} MiB{}",
        collector.local_addr()?,
        a.out.display(),
        a.rotate_secs,
        collector.recv_buffer() >> 20,
        if collector.recv_buffer() < a.recv_buffer_mib << 20 {
            " (capped by net.core.rmem_max: raise it with sysctl for bursts)"
        } else {
            ""
        }
    );
    let summary = collector.run(&stop, &mut |line| eprintln!("{line}"))?;
    let t = summary.total();
    eprintln!(
        "collect: stopped; {} file(s) written, {} exporter(s)",
        summary.files.len(),
        summary.exporters.len()
    );
    eprintln!(
        "{}",
        stats_line("total", &std::net::IpAddr::from([0, 0, 0, 0]), &t).replacen(
            " exporter 0.0.0.0",
            "",
            1
        )
    );
    Ok(ExitCode::SUCCESS)
}
