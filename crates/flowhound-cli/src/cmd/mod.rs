//! Subcommands. Each module holds its `Args` and `run`; this file holds the options they share.

mod convert;
mod profile;
mod sql;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::ingest::{self, ColumnMap, Format, IngestReport, ReadOptions, TsUnit};
use flowhound::net::{Cidr, InternalNets};
use std::process::ExitCode;

const ABOUT: &str = "flowhound: find what is not normal in flow logs, and who is behind it.

Reads Parquet, CSV, Zeek conn.log (TSV/JSON, gzip too) and Argus/CTU binetflow.";

const EXAMPLES: &str = "Examples:
  flowhound profile normal.parquet
  flowhound profile --json conn.*.log.gz > profile.json
  flowhound convert zeek-logs/ -o week.parquet
  flowhound sql \"SELECT ip_str(src_ip) AS src, sum(up_bytes) AS up FROM flows GROUP BY 1 ORDER BY up DESC LIMIT 10\" week.parquet

Exit codes: 0 ok, 1 internal error, 2 bad usage or config, 3 unreadable or invalid input,
4 bad row under --strict, 5 query error, 6 cannot write output.";

/// The command line.
#[derive(Parser, Debug)]
#[command(name = "flowhound", version, about = ABOUT, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Describe flows: byte statistics (pandas describe()), top talkers, ports, protocols, hours, directions.
    Profile(profile::ProfileArgs),
    /// Convert inputs to canonical Parquet, so a week of logs is parsed once.
    Convert(convert::ConvertArgs),
    /// Run SQL over the flows (table `flows`).
    Sql(sql::SqlArgs),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Profile(a) => profile::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Sql(a) => sql::run(a),
    }
}

/// How inputs are read (shared by every subcommand that reads flows).
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Force the input format instead of detecting it: parquet, csv, zeek, zeek-json, binetflow.
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// Unit of numeric timestamps (s, ms, us, ns); detected from magnitude by default.
    #[arg(long, value_parser = parse_unit)]
    ts_unit: Option<TsUnit>,
    /// Map a canonical column to a source column, e.g. --map up_bytes=SrcBytes (repeatable).
    #[arg(long = "map", value_name = "COLUMN=SOURCE")]
    map: Vec<String>,
    /// Fail on the first bad row instead of skipping and counting it.
    #[arg(long)]
    strict: bool,
    /// Reader threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| format!("unknown format '{s}'; use one of {}", Format::NAMES.join(", ")))
}

fn parse_unit(s: &str) -> Result<TsUnit, String> {
    TsUnit::parse(s).ok_or_else(|| format!("unknown unit '{s}'; use s, ms, us or ns"))
}

impl InputArgs {
    /// Validated read options.
    pub fn options(&self) -> Result<ReadOptions> {
        Ok(ReadOptions {
            format: self.format,
            ts_unit: self.ts_unit,
            mapping: ColumnMap::parse(&self.map)?,
            strict: self.strict,
            threads: self.threads,
            progress: Default::default(),
        })
    }

    /// Reads every input into memory (in input order), with a progress bar.
    pub fn read_all(&self, inputs: &[String]) -> Result<(Vec<RecordBatch>, IngestReport)> {
        let opts = self.options()?;
        let plan = ingest::prepare(inputs, &opts)?;
        let bar = crate::progress::Progress::start("reading", opts.progress.clone(), plan.total_bytes, self.quiet);
        let out = ingest::collect(&plan, &opts);
        bar.finish();
        Ok(out?)
    }
}

/// `--internal CIDR` (repeatable).
#[derive(Args, Debug, Clone)]
pub struct NetArgs {
    /// Internal network (repeatable); default RFC 1918 + RFC 4193 (10/8, 172.16/12, 192.168/16, fc00::/7).
    #[arg(long = "internal", value_name = "CIDR", value_parser = Cidr::parse)]
    internal: Vec<Cidr>,
}

impl NetArgs {
    /// The internal networks.
    pub fn nets(&self) -> InternalNets {
        InternalNets::new(self.internal.clone())
    }
}

/// Prints the end-of-run summary to stderr.
pub fn summary(report: &IngestReport, started: std::time::Instant, quiet: bool) {
    if quiet && report.bad_rows.count == 0 {
        return;
    }
    let mut lines = report.summary_lines();
    if let Some(first) = lines.first_mut() {
        first.push_str(&format!(" in {:.2} s", started.elapsed().as_secs_f64()));
    }
    for l in lines {
        eprintln!("{l}");
    }
}
