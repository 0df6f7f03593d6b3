//! `analyze`/`detect --cluster df://HOST:PORT`: the analysis runs as plans on a Ballista cluster
//! (`flowhound::distributed`), one query per step (learning, whole-input statistics, detection), each
//! partitioned by host shard; the client merges the shards' answers, enriches and writes the findings.

use super::detect::{Job, RunArgs};
use anyhow::{bail, Result};
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::baseline::Baseline;
use flowhound::distributed::spec::{GeoFiles, JobSpec, Task};
use flowhound::distributed::wire::Globals;
use flowhound::distributed::{nets_text, task, Jobs, Query};
use flowhound::findings::{format_ts, BaselineRef, FindingsDoc, InputSummary};
use flowhound_cluster::ClusterError;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `--cluster`, `--connect-timeout`, `--cluster-timeout`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ClusterArgs {
    /// Run the analysis on a Ballista cluster (`flowhound cluster --help`, docs/cluster.md). Inputs
    /// must be canonical Parquet (`flowhound convert`) at paths every executor can read, and --tmp-dir
    /// a directory they can all read (the run's job files are written there).
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<String>,
    /// Seconds to wait for the cluster's scheduler to answer.
    #[arg(long, value_name = "SECS", default_value_t = 10, requires = "cluster")]
    pub connect_timeout: u64,
    /// Seconds each step may run on the cluster before the client gives up (exit 7).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 3600,
        requires = "cluster"
    )]
    pub cluster_timeout: u64,
}

/// Fails up front on outputs that need the test flows on the client.
fn check_outputs(run: &RunArgs) -> Result<()> {
    if run.html.is_some() || run.flows_out.is_some() {
        bail!("--html and --flows-out need the test flows on this machine, and with --cluster they stay on the executors: leave them out (--json, --csv, --ndjson and --verdicts work on a cluster), or run without --cluster");
    }
    Ok(())
}

/// What to learn from.
pub enum Learn<'a> {
    /// A saved baseline (`detect`).
    Saved(&'a Baseline, BaselineRef),
    /// Learn from these normal inputs (`analyze --normal`).
    Normal(&'a [String]),
    /// Learn robustly from the test input itself (`analyze` without `--normal`).
    SelfLearned,
}

/// A client of one cluster for one run.
struct Client {
    rt: tokio::runtime::Runtime,
    ctx: datafusion::prelude::SessionContext,
    url: String,
    executors: usize,
    server: String,
    timeout: Duration,
    /// The cluster error behind a failed step (reported as such, exit 7).
    failed: Mutex<Option<ClusterError>>,
}

impl Client {
    fn connect(c: &ClusterArgs, url: &str) -> Result<Client> {
        let rt = tokio::runtime::Runtime::new()?;
        let (ctx, status) = rt.block_on(flowhound_cluster::remote_context_with_status(
            url,
            Duration::from_secs(c.connect_timeout),
        ))?;
        if status.executors == 0 {
            eprintln!(
                "warning: the scheduler has no executor registered yet; the jobs wait for one"
            );
        }
        Ok(Client {
            rt,
            ctx,
            url: url.to_string(),
            executors: status.executors,
            server: status.server,
            timeout: Duration::from_secs(c.cluster_timeout),
            failed: Mutex::new(None),
        })
    }

    /// Registers `files` as table `name`; they must be canonical Parquet.
    fn table(&self, name: &str, files: &[String]) -> Result<()> {
        let paths: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
        let reg = self
            .rt
            .block_on(flowhound_cluster::register_paths(&self.ctx, name, &paths))?;
        if !reg.canonical {
            bail!(
                "--cluster reads canonical flowhound Parquet, and {} is not: convert it first (flowhound convert FILE -o FILE.parquet), to a path every executor can read",
                files.join(", ")
            );
        }
        Ok(())
    }

    /// Runs one job query with the deadline; a cluster error is kept for the report.
    async fn query(&self, q: Query) -> flowhound::error::Result<Vec<RecordBatch>> {
        let run = flowhound::distributed::run_query(&self.ctx, &q);
        let e = match flowhound_cluster::within(self.timeout, run).await {
            Ok(batches) => return Ok(batches),
            Err(e) => e,
        };
        let text = e.to_string();
        if let Ok(mut f) = self.failed.lock() {
            *f = Some(e);
        }
        Err(flowhound::FlowError::Internal(text))
    }

    /// The cluster error behind `e` (exit 7), with a hint when the executors could not read the job
    /// directory `dir`.
    fn explain(&self, e: flowhound::FlowError, dir: &std::path::Path) -> anyhow::Error {
        let Some(c) = self.failed.lock().ok().and_then(|mut f| f.take()) else {
            return e.into();
        };
        let Some(inner) = executor_message(&c.to_string()) else {
            return c.into();
        };
        let mut text = format!("a shard failed on an executor: {inner}");
        if inner.contains(&*dir.to_string_lossy()) {
            text.push_str(&format!(
                "\nthe executors could not read the job directory {}: --tmp-dir (or [analysis] tmp_dir) must be a directory every executor can read, e.g. on the shared filesystem that holds the inputs",
                dir.display()
            ));
        }
        ClusterError::Ballista(text).into()
    }
}

/// flowhound's own message inside the error Ballista relays from an executor (whose text nests the
/// debug forms of the errors it passed through).
fn executor_message(text: &str) -> Option<String> {
    let at = text.rfind("flowhound: ")?;
    let rest = &text[at + "flowhound: ".len()..];
    let end = rest.find("\")").unwrap_or(rest.len());
    Some(rest[..end].replace("\\\"", "\""))
}

/// What the steps give: the findings document, the active (window, source) pairs, the statistics.
type Outcome = (FindingsDoc, BTreeSet<(i64, u128)>, Globals);

/// The bar of the running job: its shards done out of its shards planned.
fn shards_bar(quiet: bool) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let style = indicatif::ProgressStyle::with_template(
        "{msg} on the cluster [{bar:25}] {pos}/{len} shards {elapsed}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn step_name(task: Task) -> &'static str {
    match task {
        Task::Learn | Task::LearnDays => "learning the baseline",
        Task::Globals => "statistics",
        Task::Detect => "detecting",
    }
}

fn input_summary(inputs: &[String], g: &Globals) -> InputSummary {
    let range = g.globals.ts_range;
    InputSummary {
        files: inputs.to_vec(),
        rows_read: g.rows,
        rows_skipped: 0,
        first_seen: range.map(|r| format_ts(r.0)),
        last_seen: range.map(|r| format_ts(r.1)),
    }
}

fn learned_ref(source: &str, files: &[String], b: &Baseline) -> BaselineRef {
    BaselineRef {
        source: source.into(),
        inputs: files.to_vec(),
        flows: b.source.flows,
    }
}

/// One run's connection to the cluster: the client, the job directory (under `[analysis] tmp_dir`,
/// absolute as executors read it; removed at the end, after errors and on Ctrl-C), the progress bar
/// and the settings every job shares.
pub struct Session {
    client: Client,
    dir: flowhound::shard::SpillDir,
    bar: indicatif::ProgressBar,
    base: JobSpec,
    /// Each step: its task, when it started, when its last shard finished.
    steps: Mutex<Vec<(Task, Instant, Instant)>>,
}

/// What a session's jobs need: internal networks, geo databases, settings.
type What<'a> = (
    &'a flowhound::net::InternalNets,
    GeoFiles,
    &'a flowhound::config::Config,
);

impl Session {
    /// Connects to `c.cluster`; `shards` 0: two per executor.
    pub fn open(
        c: &ClusterArgs,
        (nets, geo, config): What,
        shards: usize,
        quiet: bool,
    ) -> Result<Session> {
        let client = Client::connect(c, c.cluster.as_deref().unwrap_or_default())?;
        let base = std::path::absolute(super::outofcore::tmp_dir(config))?;
        let dir = super::outofcore::spill_dir_removed_on_signal(&base)?;
        let shards = match shards {
            0 => (client.executors * 2).max(2),
            n => n,
        };
        let base = JobSpec::new(Task::Globals, shards, nets_text(nets), geo, config.clone());
        Ok(Session {
            client,
            dir,
            bar: shards_bar(quiet),
            base,
            steps: Mutex::new(Vec::new()),
        })
    }

    fn show(&self, task: Task, done: usize, planned: usize) {
        if let Ok(mut steps) = self.steps.lock() {
            let now = Instant::now();
            match steps.last_mut() {
                Some(s) if s.0 == task => s.2 = now,
                _ => steps.push((task, now, now)),
            }
        }
        self.bar.set_message(step_name(task));
        self.bar.set_length(planned as u64);
        self.bar.set_position(done as u64);
    }

    fn jobs<'a>(
        &'a self,
        progress: flowhound::distributed::Progress<'a>,
    ) -> Jobs<'a, impl Fn(Query) -> QueryFuture<'a> + 'a> {
        Jobs {
            run: move |q: Query| -> QueryFuture<'a> { Box::pin(self.client.query(q)) },
            progress,
            dir: self.dir.path(),
            base: self.base.clone(),
        }
    }

    /// How long each step took, e.g. `learning the baseline 12.1 s, detecting 15.0 s`.
    fn step_times(&self) -> String {
        let steps = self.steps.lock().map(|s| s.clone()).unwrap_or_default();
        let parts: Vec<String> = steps
            .iter()
            .map(|(t, a, b)| format!("{} {:.1} s", step_name(*t), (*b - *a).as_secs_f64()))
            .collect();
        parts.join(", ")
    }

    /// `baseline --cluster`: the learning states of `files` per UTC day.
    pub fn learn_days(&self, files: &[String]) -> Result<Vec<(i64, flowhound::baseline::State)>> {
        self.client.table("normal", files)?;
        let progress = |t, d, p| self.show(t, d, p);
        let jobs = self.jobs(&progress);
        let out = self
            .client
            .rt
            .block_on(jobs.learn_days("normal", files.to_vec()));
        self.bar.finish_and_clear();
        let days = out.map_err(|e| self.client.explain(e, self.dir.path()))?;
        eprintln!(
            "learned on the cluster at {} ({}, {} executor(s)) in {} host shards ({})",
            self.client.url,
            self.client.server,
            self.client.executors,
            self.base.shards,
            self.step_times()
        );
        Ok(days)
    }
}

/// A query running on the cluster.
type QueryFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = flowhound::error::Result<Vec<RecordBatch>>> + 'a>,
>;

impl Job<'_> {
    /// Runs the analysis on the cluster at `c.cluster`: learning (unless `learn` is a saved
    /// baseline), the test input's statistics, detection; then ranks, enriches and writes the findings.
    pub fn execute_on_cluster(
        &self,
        c: &ClusterArgs,
        learn: Learn,
        geo: GeoFiles,
    ) -> Result<ExitCode> {
        check_outputs(self.run)?;
        let what = (self.nets, geo, self.config);
        let r = Session::open(c, what, self.run.scale.shards, self.quiet)?;
        r.client.table("test", self.inputs)?;
        if let Learn::Normal(files) = &learn {
            r.client.table("normal", files)?;
        }
        let progress = |t, d, p| r.show(t, d, p);
        let jobs = r.jobs(&progress);
        let (client, shards) = (&r.client, r.base.shards);
        let steps = if matches!(learn, Learn::Saved(..)) {
            2
        } else {
            3
        };
        let out = client.rt.block_on(self.steps(&jobs, learn));
        r.bar.finish_and_clear();
        let (doc, active, globals) = out.map_err(|e| client.explain(e, r.dir.path()))?;
        let doc = self.report_cluster(doc, &active)?;
        eprintln!(
            "ran on the cluster at {} ({}, {} executor(s)): {} test flows in {shards} host shards, {steps} steps ({}), {:.1} s",
            client.url,
            client.server,
            client.executors,
            globals.rows,
            r.step_times(),
            self.started.elapsed().as_secs_f64()
        );
        eprint!("{}", flowhound::output::term::summary_text(&doc));
        Ok(ExitCode::SUCCESS)
    }

    async fn steps<F, Fut>(
        &self,
        jobs: &Jobs<'_, F>,
        learn: Learn<'_>,
    ) -> flowhound::error::Result<Outcome>
    where
        F: Fn(Query) -> Fut,
        Fut: std::future::Future<Output = flowhound::error::Result<Vec<RecordBatch>>>,
    {
        let learned;
        let (baseline, bref) = match learn {
            Learn::Saved(b, r) => (b, r),
            Learn::Normal(files) => {
                learned = jobs.learn("normal", files.to_vec(), false).await?;
                (&learned, learned_ref("normal", files, &learned))
            }
            Learn::SelfLearned => {
                learned = jobs.learn("test", self.inputs.to_vec(), true).await?;
                (&learned, learned_ref("self", self.inputs, &learned))
            }
        };
        let globals = jobs.globals("test", baseline.window_secs).await?;
        let verdicts = self.run.verdicts.as_ref().map(|_| self.verdict_window_us());
        let d = jobs.detect("test", baseline, &globals, verdicts).await?;
        let findings = task::finish(
            d.raw,
            (baseline, self.geo, self.nets, self.config),
            &globals.globals,
        )?;
        let detectors = self.config.analysis.detectors.clone();
        let doc = FindingsDoc::new(
            input_summary(self.inputs, &globals),
            bref,
            detectors,
            findings,
        );
        Ok((doc, d.active, globals))
    }

    /// Names, the table, the documents and the verdicts of a cluster run's findings.
    fn report_cluster(
        &self,
        mut doc: FindingsDoc,
        active: &BTreeSet<(i64, u128)>,
    ) -> Result<FindingsDoc> {
        self.present(&mut doc)?;
        if self.run.verdicts.is_some() {
            self.write_verdict_rows(&doc, active, self.verdict_window_us())?;
        }
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::executor_message;

    #[test]
    fn executor_messages_are_taken_out_of_ballistas_nesting() {
        let cases = [
            (
                r#"ballista: Execution error: Job 1 failed: Job failed due to stage 1 failed: Task failed due to runtime execution error: DataFusionError(Shared(External(DataFusionError(Execution("flowhound: /s/job/learn.json: No such file or directory (os error 2)")))))"#,
                Some("/s/job/learn.json: No such file or directory (os error 2)"),
            ),
            (
                r#"x: Execution("flowhound: column proto is Int32, not Utf8: convert \"it\"")"#,
                Some(r#"column proto is Int32, not Utf8: convert "it""#),
            ),
            ("ballista: executor lost", None),
        ];
        for (text, want) in cases {
            assert_eq!(executor_message(text).as_deref(), want, "{text}");
        }
    }
}
