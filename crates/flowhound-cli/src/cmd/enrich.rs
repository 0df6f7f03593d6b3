//! `flowhound enrich INPUT... -o out.parquet`: country, ASN and organisation (and with `--rdns`, the
//! PTR name) of both ends added to every flow. Distinct addresses are looked up once.

use super::{DnsArgs, GeoDbArgs, InputArgs};
use anyhow::Result;
use clap::Args;
use flowhound::enrich::{self, FactTable};
use flowhound::output::batches::{self, OutFormat};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `enrich`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound enrich test.parquet -o test-enriched.parquet\n  flowhound enrich conn.log --rdns --nameserver 127.0.0.1:5353 -o conn.csv\n  flowhound enrich flows.parquet --geoip-db GeoIP.dat --asn-db GeoIPASNum.dat -o out.parquet"
)]
pub struct EnrichArgs {
    /// Input files, directories or globs.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// Output file (.parquet, .csv, .json, .ndjson).
    #[arg(short, long)]
    output: PathBuf,
    /// Also add src_name/dst_name from reverse DNS (PTR) of the distinct addresses.
    #[arg(long)]
    rdns: bool,
    #[command(flatten)]
    db: GeoDbArgs,
    #[command(flatten)]
    dns: DnsArgs,
    #[command(flatten)]
    input: InputArgs,
}

/// Runs `enrich`.
pub fn run(a: EnrichArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let fmt = OutFormat::from_path(&a.output).ok_or_else(|| {
        flowhound::FlowError::Config(format!(
            "{}: unknown output extension; use .parquet, .csv, .json or .ndjson",
            a.output.display()
        ))
    })?;
    let stack = a.db.stack()?;
    let (flows, report) = a.input.read_all(&a.inputs)?;
    let mut table = FactTable::collect(&flows);
    let t0 = std::time::Instant::now();
    table.lookup(&stack);
    let geo_secs = t0.elapsed().as_secs_f64();
    let names = if a.rdns {
        Some(a.dns.reverse_names(&table.ips)?)
    } else {
        None
    };
    let out = enrich::enrich(&flows, &table, names.as_deref())?;
    let schema = out
        .first()
        .map(|b| b.schema())
        .unwrap_or_else(flowhound::schema::flow_schema);
    batches::write(&a.output, fmt, schema, &out)?;
    super::summary(&report, started, a.input.quiet);
    eprintln!(
        "looked up {} distinct addresses in {:.3} s; wrote {} flows to {}",
        table.ips.len(),
        geo_secs,
        report.rows_read(),
        a.output.display()
    );
    eprintln!("geo data: {}", stack.attributions().join("; "));
    Ok(ExitCode::SUCCESS)
}
