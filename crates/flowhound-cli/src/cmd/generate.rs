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

With the threat_intel scenario it also writes DIR/intel.txt (a blocklist for --intel).

Examples:
  flowhound generate --out data
  flowhound generate --out data --seed 7 --flows-normal 1000000 --flows-test 500000 --labels
  flowhound generate --out data --scenarios cnc_beacon,exfiltration --no-decoys --ts-format millis
  flowhound generate --out data --normal-days 1 --clients 500 --subnet 10.20.0.0/22 --flows-per-host-day 5000
  flowhound generate --out data --random-config 17      # a whole configuration drawn from seed 17"
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
    /// Length of the normal period in days (1..=366).
    #[arg(long, default_value_t = 7)]
    normal_days: u32,
    /// Length of the test period in hours (default: keeps the normal flow rate, at least 24).
    #[arg(long)]
    test_hours: Option<u32>,
    /// Density: ordinary flows per client per day; replaces --flows-normal and --flows-test.
    #[arg(long, value_name = "N")]
    flows_per_host_day: Option<u64>,
    /// IoT devices (NTP and cloud heartbeats, a decoy).
    #[arg(long, default_value_t = 2)]
    iot_devices: u32,
    /// Leave out the monitoring server polling every host on udp/161.
    #[arg(long)]
    no_snmp_poller: bool,
    /// Leave out the daily vulnerability scan.
    #[arg(long)]
    no_vuln_scanner: bool,
    /// Add a software update rolled out to most clients in one hour of the test period (a decoy:
    /// each downloads 100-800 MB from one new CDN address). On in --random-config.
    #[arg(long)]
    fleet_update: bool,
    /// Draw the whole configuration (size, density, periods, scenarios, IoT devices, timestamp
    /// format) from this seed, as the acceptance sweep does; the other data flags are ignored.
    #[arg(long, value_name = "SEED")]
    random_config: Option<u64>,
    /// Scenarios to inject, comma-separated (default all): botnet, cnc_beacon, exfiltration, dns_tunnel,
    /// port_scan, unusual_country, server_abuse, cnc_channel, dos, inbound_attack, threat_intel,
    /// dropper (needs an IoT device: --iot-devices >= 1, decoys on; the default leaves it out
    /// without one), spam.
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

/// The configuration the flags ask for.
fn config(a: &GenerateArgs) -> GenConfig {
    if let Some(seed) = a.random_config {
        return GenConfig {
            labels: a.labels,
            ..GenConfig::random(seed)
        };
    }
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
        normal_days: a.normal_days,
        test_hours: a.test_hours,
        flows_per_host_day: a.flows_per_host_day,
        iot_devices: a.iot_devices,
        snmp_poller: !a.no_snmp_poller,
        vuln_scanner: !a.no_vuln_scanner,
        fleet_update: a.fleet_update,
        ..GenConfig::default()
    };
    if !a.scenarios.is_empty() {
        cfg.scenarios = a.scenarios.clone();
    } else if !cfg.decoys || cfg.iot_devices == 0 {
        // "all" means all that the network can hold: dropper infects an IoT device
        cfg.scenarios.retain(|s| *s != Scenario::Dropper);
    }
    cfg
}

/// Runs `generate`.
pub fn run(a: GenerateArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let cfg = config(&a);
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
        "wrote {} in {:.1} s (seed {}): {} clients, {} normal + {} test + {} server flows",
        a.out.display(),
        started.elapsed().as_secs_f64(),
        cfg.seed,
        cfg.clients,
        t.rows.normal,
        t.rows.test,
        t.rows.servers
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
    if let Some(f) = &t.intel_file {
        eprintln!("  blocklist {}", a.out.join(f).display());
    }
    eprintln!("next: flowhound analyze --normal {0}/normal.parquet --test {0}/test.parquet --json findings.json", a.out.display());
    Ok(ExitCode::SUCCESS)
}
