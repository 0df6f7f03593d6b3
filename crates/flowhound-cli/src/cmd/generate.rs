//! `flowhound generate --out DIR`: a labeled corporate-network dataset with ground truth.

use anyhow::Result;
use clap::Args;
use flowhound_gen::{GenConfig, Scenario, TsFormat};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `generate`.
#[derive(Args, Debug)]
#[command(
    after_help = "Writes DIR/normal.parquet, DIR/test.parquet, DIR/servers.parquet (analysts' schema) and DIR/truth.json.

Examples:
  flowhound generate --out data
  flowhound generate --out data --seed 7 --flows-normal 1000000 --flows-test 500000 --labels
  flowhound generate --out data --scenarios cnc_beacon,exfiltration --no-decoys --ts-format millis"
)]
pub struct GenerateArgs {
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Random seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Flows in normal.parquet.
    #[arg(long, default_value_t = 200_000)]
    flows_normal: u64,
    /// Flows in test.parquet.
    #[arg(long, default_value_t = 100_000)]
    flows_test: u64,
    /// Flows in servers.parquet.
    #[arg(long, default_value_t = 50_000)]
    flows_servers: u64,
    /// Internal subnet.
    #[arg(long, default_value = "192.168.105.0/24")]
    subnet: String,
    /// Internal clients.
    #[arg(long, default_value_t = 200)]
    clients: u32,
    /// Scenarios to inject, comma-separated (default all): botnet, cnc_beacon, exfiltration, dns_tunnel,
    /// port_scan, unusual_country, server_abuse.
    #[arg(long, value_delimiter = ',', value_parser = parse_scenario)]
    scenarios: Vec<Scenario>,
    /// Leave out the decoys (benign-but-unusual traffic).
    #[arg(long)]
    no_decoys: bool,
    /// Also write labels.parquet (scenario of each test flow).
    #[arg(long)]
    labels: bool,
    /// Timestamp encoding: seconds, millis, float_seconds, arrow_timestamp.
    #[arg(long, default_value = "seconds", value_parser = parse_ts_format)]
    ts_format: TsFormat,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn from_name<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.trim().to_string()))
        .map_err(|_| format!("unknown {what} '{s}'"))
}

fn parse_scenario(s: &str) -> Result<Scenario, String> {
    from_name(s, "scenario")
}

fn parse_ts_format(s: &str) -> Result<TsFormat, String> {
    from_name(
        s,
        "timestamp format (use seconds, millis, float_seconds or arrow_timestamp)",
    )
}

/// Runs `generate`.
pub fn run(a: GenerateArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let mut cfg = GenConfig {
        seed: a.seed,
        flows_normal: a.flows_normal,
        flows_test: a.flows_test,
        flows_servers: a.flows_servers,
        subnet: a.subnet.clone(),
        clients: a.clients,
        decoys: !a.no_decoys,
        labels: a.labels,
        ts_format: a.ts_format,
        ..GenConfig::default()
    };
    if !a.scenarios.is_empty() {
        cfg.scenarios = a.scenarios.clone();
    }
    std::fs::create_dir_all(&a.out).map_err(|e| flowhound::FlowError::Output {
        path: a.out.clone(),
        why: e.to_string(),
    })?;
    let bar = indicatif::ProgressBar::new(1);
    if a.quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let progress = |done: u64, total: u64| {
        bar.set_length(total.max(1));
        bar.set_position(done);
    };
    let summary = flowhound_gen::generate(&cfg, &a.out, &progress)
        .map_err(|e| flowhound::FlowError::Config(e.to_string()))?;
    bar.finish_and_clear();
    let t = &summary.truth;
    eprintln!(
        "wrote {} in {:.1} s (seed {})",
        a.out.display(),
        started.elapsed().as_secs_f64(),
        a.seed
    );
    for s in &t.scenarios {
        eprintln!(
            "  scenario {:<16} hosts: {}",
            s.kind.name(),
            s.hosts.join(", ")
        );
    }
    for d in &t.decoys {
        eprintln!(
            "  decoy    {:<16} hosts: {}",
            d.kind.name(),
            d.hosts.join(", ")
        );
    }
    eprintln!("next: flowhound analyze --normal {0}/normal.parquet --test {0}/test.parquet --json findings.json", a.out.display());
    Ok(ExitCode::SUCCESS)
}
