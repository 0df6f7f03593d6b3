//! `flowhound demo [--out DIR]`: generate a sample corporate network (normal week + test period with
//! every attack scenario and the decoys), analyse it with the embedded defaults, write the findings
//! JSON and the HTML report, and score the findings against the generator's ground truth.

use super::detect::{render_table, summary_text};
use super::DnsArgs;
use anyhow::{Context, Result};
use clap::Args;
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::baseline::{learn, Baseline};
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::{self as engine, DetectCtx};
use flowhound::findings::{export, format_ts, BaselineRef, FindingsDoc, InputSummary};
use flowhound::ingest::{self, ReadOptions};
use flowhound::net::InternalNets;
use flowhound::report::{write_html, ReportData};
use flowhound_gen::{GenConfig, GenSummary};
use flowhound_geo::GeoStack;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `demo`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound demo                      # writes ./flowhound-demo/report.html\n  flowhound demo --out /tmp/demo --seed 7 --flows-normal 200000 --flows-test 100000"
)]
pub struct DemoArgs {
    /// Directory for the data, the findings and the report.
    #[arg(long, default_value = "flowhound-demo")]
    out: PathBuf,
    /// Generator seed (the same seed gives the same data).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Flows of the normal period.
    #[arg(long, default_value_t = 60_000)]
    flows_normal: u64,
    /// Flows of the test period.
    #[arg(long, default_value_t = 30_000)]
    flows_test: u64,
    /// Internal clients of the simulated network.
    #[arg(long, default_value_t = 80)]
    clients: u32,
    /// Also resolve the reverse names of the peers (needs DNS; off by default).
    #[arg(long)]
    dns: bool,
    #[command(flatten)]
    dns_args: DnsArgs,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

/// What one analysis of the demo data produced.
struct Analysis {
    doc: FindingsDoc,
    report: ReportData,
}

/// Runs `demo`.
pub fn run(a: DemoArgs) -> Result<ExitCode> {
    let started = Instant::now();
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let data_dir = a.out.join("data");
    let summary = generate(&a, &data_dir)?;
    let mut an = analyse(&data_dir, &a)?;
    if a.dns {
        add_names(&a.dns_args, &mut an)?;
    }
    let json = a.out.join("findings.json");
    let html = a.out.join("report.html");
    export::write_json(&json, &an.doc)?;
    write_html(&html, &an.report)?;
    print!("{}", render_table(&an.doc.findings, 20));
    eprint!("{}", summary_text(&an.doc));
    print_evaluation(&summary, &an.doc)?;
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    print!("{}", next_steps(&a.out, &json, &html));
    Ok(ExitCode::SUCCESS)
}

/// The generator configuration of the demo: every scenario and the decoys, at the chosen size.
fn gen_config(a: &DemoArgs) -> GenConfig {
    GenConfig {
        seed: a.seed,
        flows_normal: a.flows_normal.max(1000),
        flows_test: a.flows_test.max(500),
        flows_servers: (a.flows_test / 4).max(200),
        clients: a.clients.clamp(10, 5000),
        labels: true,
        ..GenConfig::default()
    }
}

fn generate(a: &DemoArgs, dir: &Path) -> Result<GenSummary> {
    let cfg = gen_config(a);
    if !a.quiet {
        eprintln!("generating a sample network: {} clients, {} normal + {} test flows, every scenario and decoy -> {}", cfg.clients, cfg.flows_normal, cfg.flows_test, dir.display());
    }
    let (quiet, last) = (a.quiet, std::cell::Cell::new(u64::MAX));
    let progress = move |done: u64, total: u64| {
        if !quiet && last.replace(done) != done {
            eprint!("\r  {done}/{total} flows");
        }
    };
    let s = flowhound_gen::generate(&cfg, dir, &progress)
        .map_err(|e| anyhow::anyhow!("generating the demo data: {e}"))?;
    if !quiet {
        eprintln!();
    }
    Ok(s)
}

fn read(paths: &[PathBuf]) -> Result<(Vec<RecordBatch>, u64, u64)> {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let (b, rep) = ingest::read_all(&names, &ReadOptions::default())?;
    let read = rep.files.iter().map(|f| f.rows_read).sum();
    Ok((b, read, rep.bad_rows.count))
}

/// The generator's public servers (documented in docs/generator.md): the server-abuse detector watches them.
const PUBLIC_RANGE: &str = "200.0.0.0/24";

/// Learns the baseline on normal.parquet and runs every detector on test.parquet + servers.parquet.
fn analyse(dir: &Path, a: &DemoArgs) -> Result<Analysis> {
    let normal_p = dir.join("normal.parquet");
    let test_p = [dir.join("test.parquet"), dir.join("servers.parquet")];
    let (nb, _, _) = read(std::slice::from_ref(&normal_p))?;
    let (tb, rows_read, rows_skipped) = read(&test_p)?;
    let (nflows, tflows) = (Flows::from_batches(&nb)?, Flows::from_batches(&tb)?);
    let geo = GeoStack::from_options(&[], &[], true).map_err(flowhound::FlowError::from)?;
    let nets = InternalNets::new(Vec::new());
    let config = Config::from_toml(
        &format!("[detectors.server_abuse]\npublic_ranges = [\"{PUBLIC_RANGE}\"]\n"),
        "demo settings",
    )?;
    let normal_name = normal_p.display().to_string();
    let baseline = learn(
        &nflows,
        &nets,
        &geo,
        &config.baseline,
        vec![normal_name.clone()],
        false,
    )?;
    let ctx = DetectCtx::new(&tb, &tflows, &baseline, &geo, &nets, &config);
    let findings = engine::run(&ctx, &config.analysis.detectors)?;
    let input = InputSummary {
        files: test_p.iter().map(|p| p.display().to_string()).collect(),
        rows_read,
        rows_skipped,
        first_seen: tflows.ts.iter().min().map(|t| format_ts(*t)),
        last_seen: tflows.ts.iter().max().map(|t| format_ts(*t)),
    };
    let bref = BaselineRef {
        source: "normal".into(),
        inputs: vec![normal_name],
        flows: nflows.len() as u64,
    };
    let doc = FindingsDoc::new(input, bref, config.analysis.detectors.clone(), findings);
    let mut report = ReportData::build(
        doc.clone(),
        &tflows,
        Some(&nflows),
        Some(&baseline),
        &nets,
        &geo,
    );
    report.title = "flowhound demo report".into();
    report.settings = settings(a, &baseline);
    Ok(Analysis { doc, report })
}

fn settings(a: &DemoArgs, b: &Baseline) -> Vec<(String, String)> {
    vec![
        ("data".into(), format!("generated by flowhound demo (seed {}, {} clients)", a.seed, a.clients)),
        ("internal networks".into(), b.internal_networks.join(", ")),
        ("baseline window".into(), format!("{} s", b.window_secs)),
        ("config".into(), format!("embedded defaults (see `flowhound config example`), server_abuse public_ranges = {PUBLIC_RANGE}")),
        ("GeoIP".into(), "embedded database".into()),
        ("DNS".into(), if a.dns { "reverse names of peers".into() } else { "off (--dns to resolve)".into() }),
    ]
}

/// Fills the reverse names of every host and peer into the enrichment of the findings.
fn add_names(dns: &DnsArgs, an: &mut Analysis) -> Result<()> {
    let mut ips: Vec<u128> = an
        .doc
        .findings
        .iter()
        .flat_map(|f| f.enrichment.keys())
        .filter_map(|k| flowhound::ip::parse(k))
        .collect();
    ips.sort_unstable();
    ips.dedup();
    let names = dns.reverse_names(&ips)?;
    let by_ip: std::collections::HashMap<String, String> = ips
        .iter()
        .zip(names)
        .filter_map(|(ip, n)| n.map(|n| (flowhound::ip::format(*ip), n)))
        .collect();
    for doc in [&mut an.doc, &mut an.report.doc] {
        for f in &mut doc.findings {
            for (k, info) in f.enrichment.iter_mut() {
                info.name = by_ip.get(k).cloned();
            }
        }
    }
    Ok(())
}

fn print_evaluation(summary: &GenSummary, doc: &FindingsDoc) -> Result<()> {
    let json = serde_json::to_string(doc)?;
    let fd = flowhound_gen::FindingsDoc::from_json(&json)?;
    let eval = flowhound_gen::evaluate(&summary.truth, &fd);
    println!("\nprecision/recall against the ground truth (host level, as `flowhound evaluate`):");
    print!("{}", eval.render_text());
    Ok(())
}

/// The closing words: where things are and what to try next.
fn next_steps(out: &Path, json: &Path, html: &Path) -> String {
    let data = out.join("data");
    format!(
        "\nThe report is at {html}\n  open it in a browser (it works offline: one file, no network).\n\
Findings: {json}; data and ground truth: {data}/\n\n\
Next, on your own data:\n  \
flowhound profile conn.log                                   # what the traffic looks like\n  \
flowhound analyze --normal normal.parquet --test today.parquet --json findings.json --csv findings.csv\n  \
flowhound report findings.json --normal normal.parquet --test today.parquet -o report.html\n  \
flowhound evaluate --truth {data}/truth.json {json}   # score findings against a generated truth\n",
        html = html.display(),
        json = json.display(),
        data = data.display(),
    )
}
