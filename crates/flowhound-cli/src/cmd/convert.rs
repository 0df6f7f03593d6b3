//! `flowhound convert INPUT... -o out.parquet`: canonical Parquet, written atomically.

use super::InputArgs;
use anyhow::Result;
use clap::Args;
use flowhound::ingest::{self, FlowSink};
use flowhound::output::batches::ParquetOut;
use flowhound::schema::flow_schema;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `convert`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound convert 'zeek/conn.*.log.gz' -o week.parquet\n  flowhound convert capture.binetflow -o capture.parquet\n  flowhound convert --stitch /var/lib/flowhound/flows/ -o day.parquet   # router flows as biflows"
)]
pub struct ConvertArgs {
    /// Input files, directories or globs.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// Output Parquet file (canonical flow schema, zstd).
    #[arg(short, long)]
    output: PathBuf,
    /// Stitch one-way records (router flows: NetFlow, IPFIX without biflows, nfcapd, `collect`'s
    /// files) into biflows as `analyze` does, so that the file holds connections; e.g. for
    /// `--cluster`, whose executors read Parquet as it is. Off by default: records as read.
    #[arg(long)]
    stitch: bool,
    #[command(flatten)]
    input: InputArgs,
}

/// Streams batches into the Parquet writer (single worker keeps input order).
struct Writer(ParquetOut);

impl FlowSink for Writer {
    fn push(
        &mut self,
        _unit: usize,
        batch: datafusion::arrow::record_batch::RecordBatch,
    ) -> flowhound::Result<()> {
        self.0.write(&batch)
    }
}

/// Runs `convert`.
pub fn run(a: ConvertArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let mut opts = a.input.options()?;
    opts.threads = 1;
    opts.stitch = a.stitch && !a.input.no_stitch;
    let (mut sinks, report) =
        a.input
            .scan_with_progress("converting", &a.inputs, &opts, |plan| {
                // Created once every input's schema has passed.
                let out =
                    std::sync::Mutex::new(Some(ParquetOut::create(&a.output, flow_schema())?));
                Ok(ingest::scan(plan, &opts, || {
                    Writer(
                        out.lock()
                            .ok()
                            .and_then(|mut o| o.take())
                            .expect("convert runs one worker"),
                    )
                })?)
            })?;
    let writer = sinks.pop().ok_or_else(|| anyhow::anyhow!("no writer"))?;
    writer.0.finish()?;
    super::summary(&report, started, false);
    let stitched: u64 = report.files.iter().map(|f| f.stitched).sum();
    eprintln!(
        "wrote {} flows to {}",
        report.rows_read() - stitched,
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
