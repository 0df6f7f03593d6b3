//! The client side: a `SessionContext` on a cluster, flows registered by path, queries with a deadline.

use crate::addr::parse_cluster_url;
use crate::error::{ClusterError, Result};
use crate::probe::{probe, SchedulerStatus};
use ballista::prelude::SessionContextExt;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A context whose queries run on the cluster at `url` (`df://HOST:PORT`), with flowhound's functions
/// registered. Fails with [`ClusterError::Unreachable`] when no scheduler answers within `deadline`.
pub async fn remote_context(url: &str, deadline: Duration) -> Result<SessionContext> {
    Ok(remote_context_with_status(url, deadline).await?.0)
}

/// [`remote_context`], and what the scheduler said (version, executors registered).
pub async fn remote_context_with_status(
    url: &str,
    deadline: Duration,
) -> Result<(SessionContext, SchedulerStatus)> {
    let addr = parse_cluster_url(url)?;
    let status = probe(&addr, deadline).await?;
    let ctx = SessionContext::remote(&format!("df://{addr}")).await?;
    crate::functions::register_on_client(&ctx);
    Ok((ctx, status))
}

/// The scheduler's status at `url`.
pub async fn cluster_status(url: &str, deadline: Duration) -> Result<SchedulerStatus> {
    probe(&parse_cluster_url(url)?, deadline).await
}

/// The file format of inputs read by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathFormat {
    Parquet,
    Csv,
}

/// What [`register_paths`] registered.
#[derive(Debug, Clone)]
pub struct Registered {
    pub files: usize,
    pub format: PathFormat,
    /// Every Parquet file has flowhound's canonical columns (IPs as integers, `ts`, ...).
    pub canonical: bool,
}

/// Registers `files` (all Parquet or all CSV with a header row, by extension) as table `name`, read by
/// path: the client, the scheduler and every executor must be able to read the same paths.
pub async fn register_paths(
    ctx: &SessionContext,
    name: &str,
    files: &[PathBuf],
) -> Result<Registered> {
    let format = common_format(files)?;
    let file_format: Arc<dyn FileFormat> = match format {
        PathFormat::Parquet => Arc::new(ParquetFormat::default()),
        PathFormat::Csv => Arc::new(CsvFormat::default().with_has_header(true)),
    };
    // Files are listed one by one, so no extension filter.
    let options = ListingOptions::new(file_format).with_file_extension("");
    let urls = files
        .iter()
        .map(|f| {
            let abs = std::path::absolute(f)?;
            ListingTableUrl::parse(abs.to_string_lossy()).map_err(ClusterError::from)
        })
        .collect::<Result<Vec<_>>>()?;
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .infer_schema(&ctx.state())
        .await?;
    ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    let canonical = format == PathFormat::Parquet
        && files
            .iter()
            .all(|f| flowhound::ingest::parquet::is_canonical(f));
    Ok(Registered {
        files: files.len(),
        format,
        canonical,
    })
}

fn common_format(files: &[PathBuf]) -> Result<PathFormat> {
    let mut found: Option<PathFormat> = None;
    for f in files {
        let this = format_of(f)?;
        if found.is_some_and(|g| g != this) {
            return Err(ClusterError::Input {
                path: f.clone(),
                reason: "mixes Parquet and CSV inputs; a cluster query reads one format".into(),
            });
        }
        found = Some(this);
    }
    found.ok_or_else(|| ClusterError::Input {
        path: PathBuf::from("."),
        reason: "no input files".into(),
    })
}

fn format_of(path: &Path) -> Result<PathFormat> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("parquet") | Some("pq") => Ok(PathFormat::Parquet),
        Some("csv") => Ok(PathFormat::Csv),
        _ => Err(ClusterError::Input {
            path: path.to_path_buf(),
            reason:
                "on a cluster flowhound reads Parquet (.parquet) or CSV (.csv) by path; convert \
                     other formats first: flowhound convert FILE -o FILE.parquet"
                    .into(),
        }),
    }
}

/// Runs `sql` on `ctx` and collects the result, failing with [`ClusterError::QueryTimeout`] after
/// `deadline`. The client stops waiting then; Ballista 55 does not cancel the job on the cluster.
pub async fn query(
    ctx: &SessionContext,
    sql: &str,
    deadline: Duration,
) -> Result<Vec<RecordBatch>> {
    within(deadline, async { ctx.sql(sql).await?.collect().await }).await
}

/// Waits for `work` (a query on the cluster) at most `deadline`: its DataFusion error, or
/// [`ClusterError::QueryTimeout`]. The client stops waiting then; Ballista 55 does not cancel the job.
pub async fn within<T>(
    deadline: Duration,
    work: impl std::future::Future<Output = datafusion::error::Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(deadline, work).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(ClusterError::QueryTimeout { deadline }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_extensions_and_do_not_mix() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(
            common_format(&[p("a.parquet"), p("b.PQ")]).unwrap(),
            PathFormat::Parquet
        );
        assert_eq!(common_format(&[p("a.csv")]).unwrap(), PathFormat::Csv);
        let e = common_format(&[p("a.csv"), p("b.parquet")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("b.parquet") && e.contains("mixes"), "{e}");
        let e = common_format(&[p("conn.log")]).unwrap_err().to_string();
        assert!(
            e.contains("conn.log") && e.contains("flowhound convert"),
            "{e}"
        );
    }
}
