//! `analyze`/`baseline`/`detect --cluster`: the analysis as DataFusion plans that a Ballista cluster
//! runs (docs/cluster.md). Each step is one query over the registered flows, hash-partitioned by host
//! shard:
//!
//! ```sql
//! SELECT shard, flowhound_shard_task('<spec>', shard, ts, src_ip, ...) FROM (
//!   SELECT flowhound_shard_of(src_ip, dst_ip, '<nets>', N) AS shard, * FROM flows
//!   UNION ALL SELECT N, * FROM flows WHERE flowhound_internal_pair(src_ip, dst_ip, '<nets>')
//! ) GROUP BY shard
//! ```
//!
//! The executors gather each shard's flows (the aggregate's partial states carry them through the
//! shuffle as Arrow IPC) and run the step
//! named by the spec ([`spec::JobSpec`], a file on shared storage): the whole-input statistics, the
//! baseline's learning state, or the findings of the shard's hosts, the same per-shard work as the
//! out-of-core runner ([`crate::shard`]). The client merges the answers ([`task`]). The same plans
//! run on a local DataFusion session, which is how the library tests them.

pub mod functions;
pub mod spec;
pub mod stats_sql;
pub mod task;
pub mod wire;

use crate::baseline::Baseline;
use crate::error::Result;
use crate::findings::Finding;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;
use spec::{JobSpec, Task};
use std::collections::BTreeSet;
use std::future::Future;
use std::path::Path;
use wire::Globals;

/// Registers the job functions in a (local) session.
pub fn register(ctx: &SessionContext) {
    for f in functions::scalar_functions() {
        ctx.register_udf(f);
    }
    for f in functions::aggregate_functions() {
        ctx.register_udaf(f);
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One job's query: the flows routed to host shards (SQL), then gathered per shard by
/// [`functions::SHARD_TASK`], which runs the spec's task ([`run_query`]).
#[derive(Debug, Clone)]
pub struct JobQuery {
    /// `SELECT shard, <flow columns> FROM ...`: every flow with its host shard (and the internal pairs
    /// once more, in shard `shards`).
    pub routed: String,
    /// The job's spec file.
    pub spec: std::path::PathBuf,
}

/// The query of `spec_path`'s task over table `table`, by `shards` host shards of networks `nets`
/// (CIDRs, comma-separated), plus the internal-pairs shard when `pairs` is given: the flows between
/// two internal hosts, and those from the relays it lists (comma-separated, maybe none) to external
/// hosts ([`crate::detect::proxied_cnc::relay_list`]).
pub fn job_query(
    table: &str,
    spec_path: &Path,
    nets: &str,
    shards: usize,
    pairs: Option<&str>,
) -> JobQuery {
    let cols: Vec<String> = crate::schema::flow_schema()
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect();
    let cols = cols.join(", ");
    let (nets, table) = (quote(nets), format!("\"{table}\""));
    let mut routed = format!(
        "SELECT {}(src_ip, dst_ip, {nets}, {shards}) AS shard, {cols} FROM {table}",
        functions::SHARD_OF
    );
    if let Some(relays) = pairs {
        routed.push_str(&format!(
            " UNION ALL SELECT CAST({shards} AS BIGINT) AS shard, {cols} FROM {table} WHERE {}(src_ip, dst_ip, {nets})",
            functions::INTERNAL_PAIR
        ));
        if !relays.is_empty() {
            routed.push_str(&format!(
                " OR {}(src_ip, dst_ip, {nets}, {})",
                functions::RELAY_UPSTREAM,
                quote(relays)
            ));
        }
    }
    JobQuery {
        routed,
        spec: spec_path.to_path_buf(),
    }
}

/// A query a run sends: a job over host shards, or plain SQL (the statistics).
#[derive(Debug, Clone)]
pub enum Query {
    /// A job ([`job_frame`]).
    Job(JobQuery),
    /// SQL as it is.
    Sql(String),
}

/// Runs a query on `ctx` (local, or a Ballista cluster).
pub async fn run_query(
    ctx: &SessionContext,
    q: &Query,
) -> datafusion::error::Result<Vec<RecordBatch>> {
    match q {
        Query::Job(j) => job_frame(ctx, j).await?.collect().await,
        Query::Sql(sql) => ctx.sql(sql).await?.collect().await,
    }
}

/// The plan of a job query: the routed flows grouped by shard. DataFusion plans it as a partial
/// aggregate per input partition (its state carries the partition's flows of each shard as Arrow IPC),
/// a shuffle hash-partitioned by shard, and a final aggregate per partition that gathers each shard's
/// flows and runs the task. (An explicit repartition by shard before the aggregate is taken out again
/// by DataFusion's distribution rules, so the partial step stays.)
pub async fn job_frame(
    ctx: &SessionContext,
    q: &JobQuery,
) -> datafusion::error::Result<datafusion::dataframe::DataFrame> {
    use datafusion::logical_expr::{col, lit};
    let routed = ctx.sql(&q.routed).await?;
    let mut args = vec![lit(q.spec.to_string_lossy().to_string()), col("shard")];
    args.extend(
        crate::schema::flow_schema()
            .fields()
            .iter()
            .map(|f| col(format!("\"{}\"", f.name()))),
    );
    let task = datafusion::logical_expr::AggregateUDF::from(functions::ShardTask::default());
    routed.aggregate(vec![col("shard")], vec![task.call(args).alias("result")])
}

/// The (shard, encoded result) rows of a job query.
pub fn results(batches: &[RecordBatch]) -> Result<Vec<(usize, Vec<u8>)>> {
    let mut out = Vec::new();
    for b in batches {
        let shard = b.column(0).as_primitive::<Int64Type>();
        let result = b.column(1).as_binary::<i64>();
        for i in 0..b.num_rows() {
            if result.is_valid(i) {
                out.push((shard.value(i) as usize, result.value(i).to_vec()));
            }
        }
    }
    out.sort_by_key(|p| p.0);
    Ok(out)
}

/// The findings of a detection job before [`task::finish`].
#[derive(Debug, Default)]
pub struct Detected {
    /// Raw findings, rows numbered over all shards.
    pub raw: Vec<Finding>,
    /// Active (window start µs, internal source) pairs (with `verdict_window_us`).
    pub active: BTreeSet<(i64, u128)>,
}

/// Told `(task, shards done, shards planned)` while a job runs.
pub type Progress<'a> = &'a (dyn Fn(Task, usize, usize) + Sync);

/// A run's jobs: specs written to `dir` (which every executor must be able to read), queries run by
/// `run` (on a cluster, or a local session).
pub struct Jobs<'a, F> {
    /// Runs one query.
    pub run: F,
    /// Progress of the running job, polled twice a second.
    pub progress: Progress<'a>,
    /// Where the specs, the baseline and the statistics are written.
    pub dir: &'a Path,
    /// The settings every spec shares (task, baseline, globals are set per job).
    pub base: JobSpec,
}

impl<F, Fut> Jobs<'_, F>
where
    F: Fn(Query) -> Fut,
    Fut: Future<Output = Result<Vec<RecordBatch>>>,
{
    async fn job(
        &self,
        table: &str,
        spec: JobSpec,
        pairs: Option<&str>,
    ) -> Result<Vec<(usize, Vec<u8>)>> {
        let path = self
            .dir
            .join(format!("{:?}.json", spec.task).to_lowercase());
        spec.write(&path)?;
        let q = job_query(table, &path, &spec.nets.join(","), spec.shards, pairs);
        let planned = spec.shards + usize::from(pairs.is_some());
        let query = (self.run)(Query::Job(q));
        tokio::pin!(query);
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        let batches = loop {
            tokio::select! {
                r = &mut query => break r?,
                _ = tick.tick() => (self.progress)(spec.task, spec::shards_done(&path), planned),
            }
        };
        (self.progress)(spec.task, planned, planned);
        results(&batches)
    }

    /// Learns a baseline from `table` (the files it reads are `files`).
    pub async fn learn(
        &self,
        table: &str,
        files: Vec<String>,
        self_learned: bool,
    ) -> Result<Baseline> {
        let spec = JobSpec {
            task: Task::Learn,
            self_learned,
            files: files.clone(),
            ..self.base.clone()
        };
        task::gather_baseline(self.job(table, spec, None).await?, files)
    }

    /// The learning states of `table` per UTC day, oldest first (a rolling baseline's days).
    pub async fn learn_days(
        &self,
        table: &str,
        files: Vec<String>,
    ) -> Result<Vec<(i64, crate::baseline::State)>> {
        let spec = JobSpec {
            task: Task::LearnDays,
            files,
            ..self.base.clone()
        };
        task::gather_days(self.job(table, spec, None).await?)
    }

    /// The whole-input statistics of `table`, with host windows of `window_secs`: aggregations the
    /// engine runs as they are ([`stats_sql`]), no flow gathered.
    pub async fn globals(&self, table: &str, window_secs: u64) -> Result<Globals> {
        let nets = self.base.nets.join(",");
        let queries = stats_sql::queries(table, &nets, window_secs);
        let mut results = Vec::new();
        for (i, sql) in queries.iter().enumerate() {
            (self.progress)(Task::Globals, i, queries.len());
            results.push((self.run)(Query::Sql(sql.clone())).await?);
        }
        (self.progress)(Task::Globals, queries.len(), queries.len());
        stats_sql::assemble(&results)
    }

    /// Runs the detectors over `table` against `baseline`, given the table's statistics.
    pub async fn detect(
        &self,
        table: &str,
        baseline: &Baseline,
        globals: &Globals,
        verdict_window_us: Option<i64>,
    ) -> Result<Detected> {
        let (b, g) = (
            self.dir.join("baseline.json"),
            self.dir.join("statistics.json"),
        );
        baseline.save(&b)?;
        wire::write_globals(&g, globals)?;
        let spec = JobSpec {
            task: Task::Detect,
            window_secs: baseline.window_secs,
            baseline: Some(b),
            globals: Some(g),
            verdict_window_us,
            ..self.base.clone()
        };
        let pairs = !task::detectors(&spec.config.analysis.detectors, true).is_empty();
        let relays = crate::detect::proxied_cnc::relay_list(baseline, &spec.config)?;
        let pairs = pairs.then_some(relays.as_str());
        task::gather_findings(self.job(table, spec, pairs).await?)
    }
}

/// The internal networks as the job functions take them.
pub fn nets_text(nets: &crate::net::InternalNets) -> Vec<String> {
    nets.blocks().iter().map(|c| c.to_string()).collect()
}
