//! `flowhound detect --baseline baseline.json TEST...`: run the detectors against a saved baseline.
//! Also holds the pipeline `analyze` shares: run, rank, print the table and summary, write outputs.

use super::outofcore::TestInput;
use super::{GeoDbArgs, InputArgs, NetArgs};
use anyhow::Result;
use clap::Args;
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::baseline::Baseline;
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::rows::{enriched_rows, text_column};
use flowhound::detect::DetectCtx;
use flowhound::findings::{export, BaselineRef, Finding, FindingsDoc, InputSummary};
use flowhound::ingest::IngestReport;
use flowhound::net::InternalNets;
use flowhound::output::batches::{write, OutFormat};
pub use flowhound::output::term::summary_text;
use flowhound::output::term::{columns_from_env, findings_table, use_color, ColorChoice, Term};
use flowhound_geo::GeoStack;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options shared by `detect` and `analyze`: config, detector choice and outputs.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Settings file (see `flowhound config example`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Detectors to run, comma-separated (default: `[analysis] detectors`, i.e. all).
    #[arg(long, value_delimiter = ',')]
    pub detectors: Vec<String>,
    /// Leave findings below this severity out of the table and every output (default: `[analysis]
    /// min_severity`, i.e. medium; `low` shows everything).
    #[arg(long, value_name = "SEVERITY", value_parser = ["low", "medium", "high", "critical"])]
    pub min_severity: Option<String>,
    /// Blocklist for the threat_intel detector (repeatable): IP/CIDR lines, CSV, Spamhaus DROP,
    /// FireHOL netsets; added to `[detectors.threat_intel] files`. Nothing is fetched.
    #[arg(long, value_name = "FILE")]
    pub intel: Vec<String>,
    /// Write the findings document (JSON, docs/findings.md).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write one finding per line (NDJSON).
    #[arg(long, value_name = "FILE")]
    pub ndjson: Option<PathBuf>,
    /// Write one finding per CSV row (formula-injection safe).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write the flows behind every finding, enriched, to Parquet.
    #[arg(long, value_name = "FILE.parquet")]
    pub flows_out: Option<PathBuf>,
    /// Write a self-contained HTML report (charts, sortable findings, internal graph).
    #[arg(long, value_name = "FILE.html")]
    pub html: Option<PathBuf>,
    /// Write one verdict per (internal source IP, time window) for the CTU-13 error metric:
    /// `window_start,ip,verdict,score,kinds`, verdict `malicious` or `normal`
    /// (see `flowhound evaluate --labels`).
    #[arg(long, value_name = "FILE.csv")]
    pub verdicts: Option<PathBuf>,
    /// Window length of --verdicts in seconds (default: the baseline window, `window_secs`).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub verdict_window_secs: Option<u64>,
    /// Do not look up reverse DNS (PTR) names of the addresses in findings (on by default, bounded by
    /// --dns-deadline-secs).
    #[arg(long)]
    pub no_rdns: bool,
    /// Colour the findings table: `auto` on a terminal unless NO_COLOR is set; `always` wins over
    /// NO_COLOR. Its width follows COLUMNS, else the terminal.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    #[command(flatten)]
    pub dns: super::DnsArgs,
    #[command(flatten)]
    pub scale: super::outofcore::ScaleArgs,
    #[command(flatten)]
    pub cluster: super::on_cluster::ClusterArgs,
}

/// The values of `--color`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set and not empty.
    Auto,
    /// Always, even into files and pipes or with NO_COLOR.
    Always,
    /// Never.
    Never,
}

impl From<ColorWhen> for ColorChoice {
    fn from(c: ColorWhen) -> Self {
        match c {
            ColorWhen::Auto => ColorChoice::Auto,
            ColorWhen::Always => ColorChoice::Always,
            ColorWhen::Never => ColorChoice::Never,
        }
    }
}

impl RunArgs {
    /// The settings: the file, or the defaults; `--detectors` overrides `[analysis] detectors`.
    pub fn load_config(&self) -> Result<Config> {
        let mut c = match &self.config {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };
        if !self.detectors.is_empty() {
            Config::check_detector_list(&self.detectors)?;
            c.analysis.detectors = self.detectors.clone();
        }
        if let Some(m) = &self.min_severity {
            c.analysis.min_severity = m.clone();
        }
        flowhound::detect::threat_intel::add_files(&mut c, &self.intel);
        self.scale.apply(&mut c)?;
        Ok(c)
    }
}

/// Arguments of `detect`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound baseline normal.parquet -o baseline.json\n  flowhound detect --baseline baseline.json test.parquet --json findings.json\n  flowhound detect --baseline baseline.json --detectors mad,iqr conn.log --csv findings.csv\n  flowhound detect --baseline baseline.json conn.log --intel firehol_level1.netset --intel drop.txt
  flowhound detect --baseline b.json /shared/t.parquet --cluster df://10.0.0.5:50050 --tmp-dir /shared/tmp"
)]
pub struct DetectArgs {
    /// The baseline learned by `flowhound baseline`.
    #[arg(long, required = true)]
    baseline: PathBuf,
    /// Test inputs.
    #[arg(required = true)]
    inputs: Vec<String>,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    geo: GeoDbArgs,
    #[command(flatten)]
    input: InputArgs,
}

/// Runs `detect`.
pub fn run(a: DetectArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let config = a.run.load_config()?;
    let baseline = Baseline::load(&a.baseline)?;
    if !baseline.has_tail_model() {
        eprintln!(
            "note: {} predates the heavy-tail model (relative_tail): the volume detectors' tail guard is off; re-create it with `flowhound baseline` for fewer false volume outliers",
            a.baseline.display()
        );
    }
    let nets = a.net.nets();
    let stack = a.geo.stack()?;
    let bref = BaselineRef {
        source: "file".into(),
        inputs: vec![a.baseline.display().to_string()],
        flows: baseline.source.flows,
    };
    let job = Job {
        run: &a.run,
        config: &config,
        inputs: &a.inputs,
        quiet: a.input.quiet,
        started,
        nets: &nets,
        geo: &stack,
    };
    if a.run.cluster.cluster.is_some() {
        let learn = super::on_cluster::Learn::Saved(&baseline, bref);
        return job.execute_on_cluster(&a.run.cluster, learn, a.geo.files()?);
    }
    let test = super::outofcore::read_test(
        &a.input,
        &a.inputs,
        &a.run,
        &config,
        &nets,
        baseline.window_secs,
    )?;
    match test {
        TestInput::InMemory(batches, report) => {
            let flows = Flows::from_batches(&batches)?;
            job.execute(&batches, &flows, &report, &baseline, bref)
        }
        TestInput::Sharded(s) => job.execute_sharded(&s, &baseline, bref),
    }
}

/// One detection run: what `detect` and `analyze` share.
pub struct Job<'a> {
    /// Output options.
    pub run: &'a RunArgs,
    /// Settings.
    pub config: &'a Config,
    /// Test inputs as given.
    pub inputs: &'a [String],
    /// No progress or summary chatter.
    pub quiet: bool,
    /// Start of the run.
    pub started: std::time::Instant,
    /// Internal networks.
    pub nets: &'a InternalNets,
    /// Geo/ASN lookups, built once by the caller.
    pub geo: &'a GeoStack,
}

impl Job<'_> {
    /// Runs the detectors on `batches` (`flows` are the same rows as columns), prints the ranked
    /// table and the summary, writes the outputs.
    pub fn execute(
        &self,
        batches: &[RecordBatch],
        flows: &Flows,
        report: &IngestReport,
        baseline: &Baseline,
        bref: BaselineRef,
    ) -> Result<ExitCode> {
        let (stack, nets) = (self.geo, self.nets);
        let ctx = DetectCtx::new(batches, flows, baseline, stack, nets, self.config);
        let input = input_summary(self.inputs, report, flows);
        let dns = (!self.run.no_rdns).then_some(&self.run.dns);
        let bar = crate::progress::spinner("detecting", self.quiet);
        let doc = findings_doc(&ctx, input, bref, dns);
        bar.finish_and_clear();
        let doc = doc?;
        let rows = self.config.analysis.table_rows_count as usize;
        let term = stdout_term(self.run.color.into());
        print!("{}", findings_table(&doc.findings, rows, &term));
        self.write_outputs(&doc, batches, stack)?;
        self.write_verdicts(&doc, flows)?;
        if let Some(p) = &self.run.html {
            let data = flowhound::report::ReportData::build(
                doc.clone(),
                flows,
                None,
                Some(baseline),
                nets,
                stack,
            );
            flowhound::report::write_html(p, &data)?;
            eprintln!("report: {}", p.display());
        }
        super::summary(report, self.started, self.quiet);
        eprint!("{}", summary_text(&doc));
        Ok(ExitCode::SUCCESS)
    }

    fn write_outputs(
        &self,
        doc: &FindingsDoc,
        batches: &[RecordBatch],
        geo: &flowhound_geo::GeoStack,
    ) -> Result<()> {
        self.write_documents(doc)?;
        if let Some(p) = &self.run.flows_out {
            write_flow_rows(p, &doc.findings, batches, None, geo)?;
        }
        Ok(())
    }

    /// Writes `--json`, `--ndjson` and `--csv`.
    pub(super) fn write_documents(&self, doc: &FindingsDoc) -> Result<()> {
        if let Some(p) = &self.run.json {
            export::write_json(p, doc)?;
        }
        if let Some(p) = &self.run.ndjson {
            export::write_ndjson(p, &doc.findings)?;
        }
        if let Some(p) = &self.run.csv {
            export::write_csv(p, &doc.findings)?;
        }
        Ok(())
    }

    /// The window of `--verdicts`, in µs.
    pub(super) fn verdict_window_us(&self) -> i64 {
        let secs = self
            .run
            .verdict_window_secs
            .unwrap_or(self.config.baseline.window_secs);
        i64::try_from(secs.saturating_mul(1_000_000)).unwrap_or(i64::MAX)
    }

    /// Writes `--verdicts`: every internal source active per window, judged by the findings.
    fn write_verdicts(&self, doc: &FindingsDoc, flows: &Flows) -> Result<()> {
        if self.run.verdicts.is_none() {
            return Ok(());
        }
        let w = self.verdict_window_us();
        let active = flowhound::verdicts::active_windows(&flows.ts, &flows.src, w, |s| {
            self.nets.contains(s)
        });
        self.write_verdict_rows(doc, &active, w)
    }

    /// Writes `--verdicts` from the active (window, internal source) pairs.
    pub(super) fn write_verdict_rows(
        &self,
        doc: &FindingsDoc,
        active: &std::collections::BTreeSet<(i64, u128)>,
        w: i64,
    ) -> Result<()> {
        let Some(p) = &self.run.verdicts else {
            return Ok(());
        };
        use flowhound::verdicts as v;
        let rows = v::verdicts(active, &v::blames(&doc.findings), w);
        v::write_csv(p, &rows)?;
        let bad = rows.iter().filter(|r| r.malicious).count();
        eprintln!(
            "verdicts: {} ({} rows, {bad} malicious, {} s windows)",
            p.display(),
            rows.len(),
            w / 1_000_000
        );
        Ok(())
    }
}

/// Runs the detectors and ranks their findings ([`flowhound::analysis::findings_doc`]); with `dns`,
/// adds the PTR names of the addresses they name.
pub(super) fn findings_doc(
    ctx: &DetectCtx,
    input: InputSummary,
    bref: BaselineRef,
    dns: Option<&super::DnsArgs>,
) -> Result<FindingsDoc> {
    let names = dns.map(|d| move |ips: &[u128]| d.reverse_names(ips));
    let names = names
        .as_ref()
        .map(|f| f as &flowhound::analysis::ReverseNames);
    Ok(flowhound::analysis::findings_doc(ctx, input, bref, names)?)
}

pub(super) use flowhound::analysis::input_summary;

/// Writes the flows behind the findings (each row once, with the ids of its findings); row `j` of
/// `batches` is input row `numbers[j]` (ascending), or input row `j` without `numbers`.
pub fn write_flow_rows(
    path: &std::path::Path,
    findings: &[Finding],
    batches: &[RecordBatch],
    numbers: Option<&[u32]>,
    geo: &flowhound_geo::GeoStack,
) -> Result<()> {
    let mut ids: std::collections::BTreeMap<u32, Vec<&str>> = Default::default();
    for f in findings {
        for r in &f.flow_rows {
            ids.entry(*r).or_default().push(&f.id);
        }
    }
    let local = |g: u32| match numbers {
        None => Some(g),
        Some(n) => n.binary_search(&g).ok().map(|j| j as u32),
    };
    let (rows, texts): (Vec<u32>, Vec<String>) = ids
        .iter()
        .filter_map(|(g, v)| local(*g).map(|j| (j, v.join(","))))
        .unzip();
    let extra = vec![text_column("finding_ids", texts)];
    let batch = enriched_rows(batches, &rows, geo, extra)?;
    write(path, OutFormat::Parquet, batch.schema(), &[batch])?;
    Ok(())
}

/// How stdout shows the findings table: colour per `choice`, `NO_COLOR` and whether stdout is a
/// terminal; the width from `COLUMNS`, else the terminal's (120 when it cannot tell); not fitted when
/// stdout is a file or pipe and `COLUMNS` is unset.
pub fn stdout_term(choice: ColorChoice) -> Term {
    let tty = std::io::stdout().is_terminal();
    let no_color = std::env::var("NO_COLOR").ok();
    let columns = columns_from_env(std::env::var("COLUMNS").ok().as_deref());
    let screen = || terminal_size::terminal_size().map_or(120, |(w, _)| usize::from(w.0));
    Term {
        color: use_color(choice, tty, no_color.as_deref()),
        width: columns.or_else(|| tty.then(screen)),
    }
}

/// The ranked findings table (at most `limit` rows) as stdout shows it under `--color auto`.
pub fn render_table(findings: &[Finding], limit: usize) -> String {
    findings_table(findings, limit, &stdout_term(ColorChoice::Auto))
}
