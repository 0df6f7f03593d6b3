//! Subcommands. Each module holds its `Args` and `run`; this file holds the options they share.

mod analyze;
mod baseline;
mod baseline_update;
pub mod cluster;
mod collect;
mod config;
mod convert;
mod demo;
mod detect;
mod detectors;
mod dns;
mod enrich;
mod evaluate;
mod evaluate_labels;
mod generate;
mod geo;
mod learn_scaled;
mod on_cluster;
mod outliers;
mod outofcore;
mod profile;
mod report;
mod sql;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::ingest::{self, ColumnMap, Format, IngestReport, Limits, ReadOptions, TsUnit};
use flowhound::net::{Cidr, InternalNets};
use std::process::ExitCode;

const ABOUT: &str = "flowhound: find what is not normal in flow logs, and who is behind it.

Reads Parquet, CSV, Zeek conn.log (TSV/JSON, gzip too), Argus/CTU binetflow and nfdump's nfcapd files;
collects NetFlow v5/v9/IPFIX (`flowhound collect`).";

const EXAMPLES: &str = "Examples:
  flowhound profile normal.parquet
  flowhound profile --json conn.*.log.gz > profile.json
  flowhound convert zeek-logs/ -o week.parquet
  flowhound sql \"SELECT ip_str(src_ip) AS src, sum(up_bytes) AS up FROM flows GROUP BY 1 ORDER BY up DESC LIMIT 10\" week.parquet

Exit codes: 0 ok, 1 internal error, 2 bad usage or config, 3 unreadable or invalid input,
4 bad row under --strict, 5 query error, 6 cannot write output, 7 cluster unreachable or failed.";

/// The command line.
#[derive(Parser, Debug)]
#[command(name = "flowhound", version, about = ABOUT, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a sample network, analyse it, and write the findings and an HTML report (start here).
    Demo(demo::DemoArgs),
    /// Describe flows: byte statistics (pandas describe()), top talkers, ports, protocols, hours, directions.
    Profile(profile::ProfileArgs),
    /// Convert inputs to canonical Parquet, so a week of logs is parsed once.
    Convert(convert::ConvertArgs),
    /// Run SQL over the flows (table `flows`), with geo functions.
    Sql(sql::SqlArgs),
    /// Learn a baseline model of normal traffic and save it as JSON.
    Baseline(baseline::BaselineArgs),
    /// Notebook parity: flag test flows beyond thresholds learned on normal (sigma, IQR, z-score).
    Outliers(outliers::OutliersArgs),
    /// Run the detectors on test flows against a saved baseline.
    Detect(detect::DetectArgs),
    /// One shot: learn a baseline from --normal (or the test itself) and detect in --test.
    Analyze(analyze::AnalyzeArgs),
    /// List the detectors with their descriptions and thresholds.
    Detectors(detectors::DetectorsArgs),
    /// Configuration: print an example config with every setting and its default.
    Config(config::ConfigArgs),
    /// GeoIP and ASN: look up addresses, show database info.
    Geo(geo::GeoArgs),
    /// Add country, ASN and organisation (and optionally names) of both ends to every flow.
    Enrich(enrich::EnrichArgs),
    /// DNS: forward and reverse lookups.
    Dns(dns::DnsCmdArgs),
    /// Generate a labeled corporate-network dataset with ground truth.
    Generate(generate::GenerateArgs),
    /// Score findings against a generated dataset's ground truth.
    Evaluate(evaluate::EvaluateArgs),
    /// Render a findings JSON file as a self-contained HTML report.
    Report(report::ReportArgs),
    /// Receive NetFlow v5/v9/IPFIX over UDP and write rolling canonical Parquet files.
    Collect(collect::CollectArgs),
    /// Run a Ballista cluster (scheduler, executors) that knows flowhound's functions; see `sql --cluster`.
    #[command(long_about = cluster::ABOUT, after_help = cluster::EXAMPLES)]
    Cluster(cluster::ClusterArgs),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Profile(a) => profile::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Sql(a) => sql::run(a),
        Command::Baseline(a) => baseline::run(a),
        Command::Outliers(a) => outliers::run(a),
        Command::Detect(a) => detect::run(a),
        Command::Analyze(a) => analyze::run(a),
        Command::Detectors(a) => detectors::run(a),
        Command::Config(a) => config::run(a),
        Command::Geo(a) => geo::run(a),
        Command::Enrich(a) => enrich::run(a),
        Command::Dns(a) => dns::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Evaluate(a) => evaluate::run(a),
        Command::Report(a) => report::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Collect(a) => collect::run(a),
        Command::Cluster(a) => cluster::run(a),
    }
}

/// How inputs are read (shared by every subcommand that reads flows).
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Force the input format instead of detecting it: parquet, csv, zeek, zeek-json, binetflow, nfcapd, suricata.
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
    /// Multiply packets and bytes by each exporter's recorded sampling rate (nfcapd input).
    #[arg(long)]
    apply_sampling: bool,
    /// Longest text line (a CSV record with its quoted line breaks) kept, in bytes (suffixes K, M, G:
    /// binary); a longer line is a bad row, skipped without being held in memory.
    #[arg(long, value_name = "BYTES", default_value = "1M", value_parser = parse_size)]
    max_line_bytes: usize,
    /// Refuse gzip inputs that expand more than this many times (past 64 MiB of output): a likely
    /// decompression bomb.
    #[arg(long, value_name = "RATIO", default_value_t = flowhound::ingest::limits::DEFAULT_MAX_GZIP_RATIO,
          value_parser = clap::value_parser!(u64).range(2..))]
    max_gzip_ratio: u64,
    /// Keep one-way records (router flows: NetFlow, IPFIX without biflows, nfcapd) as read. By
    /// default `analyze`, `detect` and `baseline` stitch each connection's answer record into its
    /// first record, as nfdump -B does (docs/detection-quality.md, section 11).
    #[arg(long)]
    pub no_stitch: bool,
}

/// Parses a byte size: a whole number with an optional binary suffix K, M or G (e.g. 64K, 1M).
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (digits, mult) = match t.char_indices().last() {
        Some((i, c)) if c.eq_ignore_ascii_case(&'k') => (&t[..i], 1usize << 10),
        Some((i, c)) if c.eq_ignore_ascii_case(&'m') => (&t[..i], 1 << 20),
        Some((i, c)) if c.eq_ignore_ascii_case(&'g') => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("'{s}' is not a size in bytes (e.g. 65536, 64K, 1M)"))
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| {
        format!(
            "unknown format '{s}'; use one of {}",
            Format::NAMES.join(", ")
        )
    })
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
            apply_sampling: self.apply_sampling,
            limits: Limits {
                max_line_bytes: self.max_line_bytes,
                max_gzip_ratio: self.max_gzip_ratio,
            },
            stitch: false,
        })
    }

    /// Reads every input into memory (in input order), with a progress bar.
    pub fn read_all(&self, inputs: &[String]) -> Result<(Vec<RecordBatch>, IngestReport)> {
        let opts = self.options()?;
        self.scan_with_progress("reading", inputs, &opts, |plan| {
            Ok(ingest::collect(plan, &opts)?)
        })
    }

    /// Prepares `inputs` with `opts` (every schema checked up front), then runs `job` over the plan
    /// under a progress bar labelled `label` (none with `--quiet`).
    pub fn scan_with_progress<T>(
        &self,
        label: &str,
        inputs: &[String],
        opts: &ReadOptions,
        job: impl FnOnce(&ingest::Plan) -> Result<T>,
    ) -> Result<T> {
        let plan = ingest::prepare(inputs, opts)?;
        let bar = crate::progress::Progress::start(
            label,
            opts.progress.clone(),
            plan.total_bytes,
            self.quiet,
        );
        let out = job(&plan);
        bar.finish();
        out
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

/// Which GeoIP/ASN databases to use (shared by every subcommand that enriches).
#[derive(Args, Debug, Clone, Default)]
pub struct GeoDbArgs {
    /// Country database: legacy GeoIP.dat or a .mmdb (repeatable; earlier files win).
    #[arg(long = "geoip-db", value_name = "FILE")]
    geoip_db: Vec<std::path::PathBuf>,
    /// ASN database: legacy GeoIPASNum.dat or a GeoLite2-ASN .mmdb (repeatable).
    #[arg(long = "asn-db", value_name = "FILE")]
    asn_db: Vec<std::path::PathBuf>,
    /// Do not fall back to the embedded database.
    #[arg(long)]
    no_embedded_geo: bool,
}

impl GeoDbArgs {
    /// The databases as cluster executors open them (absolute paths).
    pub fn files(&self) -> Result<flowhound::distributed::spec::GeoFiles> {
        let abs = |v: &[std::path::PathBuf]| -> Result<Vec<std::path::PathBuf>> {
            Ok(v.iter()
                .map(std::path::absolute)
                .collect::<std::io::Result<_>>()?)
        };
        Ok(flowhound::distributed::spec::GeoFiles {
            country: abs(&self.geoip_db)?,
            asn: abs(&self.asn_db)?,
            embedded: !self.no_embedded_geo,
        })
    }

    /// The layered database stack: user files first, then the embedded database.
    pub fn stack(&self) -> Result<std::sync::Arc<flowhound_geo::GeoStack>> {
        let stack = flowhound_geo::GeoStack::from_options(
            &self.geoip_db,
            &self.asn_db,
            !self.no_embedded_geo,
        )
        .map_err(flowhound::FlowError::from)?;
        Ok(std::sync::Arc::new(stack))
    }
}

/// DNS resolver settings (shared by `dns` and every subcommand that resolves names).
#[derive(Args, Debug, Clone, Default)]
pub struct DnsArgs {
    /// Nameserver to ask, IP[:PORT] (repeatable); default: the system configuration.
    #[arg(long = "nameserver", value_name = "IP[:PORT]", value_parser = flowhound_dns::parse_nameserver)]
    nameservers: Vec<std::net::SocketAddr>,
    /// Keep a DNS cache in this file between runs.
    #[arg(long = "dns-cache", value_name = "FILE")]
    dns_cache: Option<std::path::PathBuf>,
    /// Per-query timeout in milliseconds.
    #[arg(long = "dns-timeout-ms", default_value_t = 2000)]
    dns_timeout_ms: u64,
    /// Total DNS budget of the run in seconds.
    #[arg(long = "dns-deadline-secs", default_value_t = 30)]
    dns_deadline_secs: u64,
    /// Queries in flight at once.
    #[arg(long = "dns-concurrency", default_value_t = 64)]
    dns_concurrency: usize,
}

impl DnsArgs {
    /// The resolver configuration.
    pub fn config(&self) -> flowhound_dns::DnsConfig {
        flowhound_dns::DnsConfig {
            nameservers: self.nameservers.clone(),
            cache_path: self.dns_cache.clone(),
            timeout: std::time::Duration::from_millis(self.dns_timeout_ms),
            deadline: Some(std::time::Duration::from_secs(self.dns_deadline_secs)),
            concurrency: self.dns_concurrency,
            ..Default::default()
        }
    }

    /// Reverse names (exact PTR data) of `ips`, `None` where there is none; prints DNS stats to stderr.
    pub fn reverse_names(&self, ips: &[u128]) -> flowhound::Result<Vec<Option<String>>> {
        let cfg_err = |e: String| flowhound::FlowError::Config(e);
        let rt = tokio::runtime::Runtime::new().map_err(|e| cfg_err(e.to_string()))?;
        let (names, report) = rt
            .block_on(flowhound_dns::ptr_names(&self.config(), ips))
            .map_err(|e| cfg_err(e.to_string()))?;
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
        let st = report.stats;
        eprintln!(
            "reverse DNS: {} resolved, {} failed ({} timed out), {} from cache",
            st.resolved,
            st.failed(),
            st.timed_out + st.deadline_exceeded,
            st.from_cache
        );
        Ok(names)
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
