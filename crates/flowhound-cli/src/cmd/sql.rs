//! `flowhound sql "SELECT ..." FILES...`: SQL over the flows, registered as table `flows`.

use super::{GeoDbArgs, InputArgs};
use anyhow::Result;
use clap::Args;
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::output::batches::{self, OutFormat};
use flowhound::output::table::Table;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `sql`.
#[derive(Args, Debug)]
#[command(
    after_help = "Table `flows` has the canonical columns (docs/flows.md): ts, src_ip, dst_ip, proto, src_port,
dst_port, up_bytes, down_bytes, duration, packets, label. IPs are integers; ip_str(ip) shows them as text,
and result columns named *ip are shown as text automatically. Geo functions: geo_country(ip), asn_number(ip),
asn_org(ip), is_private(ip), in_cidr(ip, '192.168.105.0/24').

Examples:
  flowhound sql \"SELECT proto, count(*) AS flows FROM flows GROUP BY proto\" test.parquet
  flowhound sql \"SELECT src_ip, sum(up_bytes) AS up FROM flows GROUP BY src_ip ORDER BY up DESC LIMIT 5\" conn.log
  flowhound sql \"SELECT * FROM flows WHERE dst_port = 1177\" capture.log -o cc.csv
  flowhound sql \"SELECT geo_country(dst_ip) AS cc, sum(up_bytes) AS up FROM flows WHERE in_cidr(src_ip, '192.168.105.0/24') GROUP BY 1 ORDER BY up DESC\" test.parquet

On a Ballista cluster (`flowhound cluster --help`, docs/cluster.md), with --cluster df://HOST:PORT:
inputs are read by path, not by this process, so they must be Parquet or CSV files that the scheduler and
every executor can read at the same absolute paths (a shared filesystem); convert other formats first.
Geo functions use the embedded database there.
  flowhound sql --cluster df://10.0.0.5:50050 \"SELECT ip_str(src_ip) AS src, count(*) AS n FROM flows GROUP BY 1\" /shared/flows/"
)]
pub struct SqlArgs {
    /// The query.
    query: String,
    /// Input files, directories or globs.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// Write the result to a file (.csv, .json, .ndjson, .parquet) instead of printing it.
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    db: GeoDbArgs,
    #[command(flatten)]
    input: InputArgs,
    /// Run the query on a Ballista cluster (see `flowhound cluster --help`).
    #[arg(long, value_name = "df://HOST:PORT")]
    cluster: Option<String>,
    /// Seconds to wait for the cluster's scheduler to answer.
    #[arg(long, value_name = "SECS", default_value_t = 10, requires = "cluster")]
    connect_timeout: u64,
    /// Seconds the query may run on the cluster before it is cancelled.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 3600,
        requires = "cluster"
    )]
    timeout: u64,
}

/// Runs `sql`.
pub fn run(a: SqlArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let out_format = match &a.output {
        Some(p) => Some(OutFormat::from_path(p).ok_or_else(|| {
            flowhound::FlowError::Config(format!(
                "{}: unknown output extension; use .csv, .json, .ndjson or .parquet",
                p.display()
            ))
        })?),
        None => None,
    };
    let files: Vec<PathBuf> = flowhound::ingest::input::expand(&a.inputs)?
        .into_iter()
        .map(|f| f.path)
        .collect();
    let (batches, report) = match &a.cluster {
        Some(url) => (on_cluster(&a, url, &files)?, None),
        None => locally(&a, &files)?,
    };
    let batches = batches
        .iter()
        .map(flowhound::sql::humanize)
        .collect::<flowhound::Result<Vec<_>>>()?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    match (&a.output, out_format) {
        (Some(path), Some(fmt)) => {
            let schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| {
                std::sync::Arc::new(datafusion::arrow::datatypes::Schema::empty())
            });
            batches::write(path, fmt, schema, &batches)?;
            eprintln!("wrote {rows} row(s) to {}", path.display());
        }
        _ => print!("{}", Table::from_batches(&batches).render()),
    }
    if let Some(report) = &report {
        super::summary(report, started, a.input.quiet);
    }
    eprintln!("{rows} row(s)");
    Ok(ExitCode::SUCCESS)
}

fn locally(
    a: &SqlArgs,
    files: &[PathBuf],
) -> Result<(Vec<RecordBatch>, Option<flowhound::ingest::IngestReport>)> {
    let geo = a.db.stack()?;
    let rt = tokio::runtime::Runtime::new()?;
    let ctx = flowhound::engine::session_with_geo(&Default::default(), Some(geo));
    let direct = a.input.format.is_none()
        && rt.block_on(flowhound::sql::register_canonical_parquet(&ctx, files))?;
    // Canonical Parquet is queried in place, unread: there is no ingest summary to give.
    let report = if direct {
        None
    } else {
        let (flows, report) = a.input.read_all(&a.inputs)?;
        flowhound::sql::register_flows(&ctx, flows)?;
        Some(report)
    };
    Ok((rt.block_on(flowhound::sql::query(&ctx, &a.query))?, report))
}

fn on_cluster(a: &SqlArgs, url: &str, files: &[PathBuf]) -> Result<Vec<RecordBatch>> {
    if !a.db.geoip_db.is_empty() || !a.db.asn_db.is_empty() {
        return Err(flowhound::FlowError::Config(
            "--geoip-db/--asn-db are not sent to a cluster: its geo functions use the executors' embedded database"
                .into(),
        )
        .into());
    }
    if a.input.format.is_some() {
        return Err(flowhound::FlowError::Config(
            "--format does not apply with --cluster: the cluster reads Parquet or CSV files by path".into(),
        )
        .into());
    }
    let settings = super::cluster::SqlOnCluster {
        url,
        connect_timeout: std::time::Duration::from_secs(a.connect_timeout),
        timeout: std::time::Duration::from_secs(a.timeout),
    };
    super::cluster::sql(&settings, &a.query, files)
}
