//! `flowhound cluster scheduler|executor|status`: flowhound's own Ballista processes (they know
//! flowhound's SQL functions, which stock Ballista executors do not), and `sql --cluster`'s client side.

use anyhow::Result;
use clap::{Args, Subcommand};
use datafusion::arrow::record_batch::RecordBatch;
use flowhound_cluster::{
    logging, parse_cluster_url, ClusterError, ExecutorOptions, HostPort, SchedulerOptions,
    Scheduling,
};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// `flowhound cluster --help`: what a cluster is (set on the subcommand in `cmd/mod.rs`).
pub const ABOUT: &str = "Run flowhound on an Apache DataFusion Ballista cluster: one scheduler, any number of
executors, and `flowhound sql --cluster df://HOST:PORT` as the client. Inputs are read by path: every
machine (client, scheduler, executors) must see the same files at the same absolute paths (a shared
filesystem). Ballista's ports have no authentication: bind to private interfaces only. See docs/cluster.md.";

/// `flowhound cluster --help`: examples.
pub const EXAMPLES: &str = "Examples (one machine):
  flowhound cluster scheduler --bind 127.0.0.1:50050 &
  flowhound cluster executor --scheduler 127.0.0.1:50050 --bind 127.0.0.1:50051 &
  flowhound cluster executor --scheduler 127.0.0.1:50050 --bind 127.0.0.1:50061 &
  flowhound cluster status --scheduler 127.0.0.1:50050
  flowhound sql --cluster df://127.0.0.1:50050 \"SELECT geo_country(dst_ip) AS cc, count(*) FROM flows GROUP BY 1\" /data/flows.parquet";

/// Arguments of `cluster`.
#[derive(Args, Debug)]
pub struct ClusterArgs {
    #[command(subcommand)]
    command: ClusterCommand,
}

#[derive(Subcommand, Debug)]
enum ClusterCommand {
    /// Start a scheduler: it plans queries and hands tasks to the executors (runs until SIGINT/SIGTERM).
    #[command(
        after_help = "Listens for clients and executors (gRPC), and answers GET /healthz and /readyz
(\"ready: N executors registered\") on the same port.

Examples:
  flowhound cluster scheduler --bind 127.0.0.1:50050
  flowhound cluster scheduler --bind 10.0.0.5:50050 --executor-timeout 60 --log-level info"
    )]
    Scheduler(SchedulerArgs),
    /// Start an executor: it registers with the scheduler and runs tasks (runs until SIGINT/SIGTERM).
    #[command(
        after_help = "Listens on --bind (Arrow Flight: shuffle data and results, fetched by the other executors and
the client) and, with --task-scheduling push, on --grpc-port (tasks pushed by the scheduler). Shuffle files
go to a fresh directory inside --work-dir, removed on exit.

Examples:
  flowhound cluster executor --scheduler 127.0.0.1:50050 --bind 127.0.0.1:50051
  flowhound cluster executor --scheduler 10.0.0.5:50050 --bind 10.0.0.6:50051 --concurrent-tasks 8 --work-dir /var/tmp/flowhound"
    )]
    Executor(ExecutorArgs),
    /// Ask a scheduler whether it answers and how many executors it has.
    #[command(
        after_help = "Exit code 0 when the scheduler answers (and has at least --min-executors), 7 otherwise.

Examples:
  flowhound cluster status --scheduler 127.0.0.1:50050
  flowhound cluster status --scheduler 10.0.0.5:50050 --min-executors 2 --timeout 5"
    )]
    Status(StatusArgs),
}

#[derive(Args, Debug)]
struct SchedulerArgs {
    /// Address to listen on, IP:PORT (port 0 picks a free one).
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:50050")]
    bind: HostPort,
    /// Name or address the executors and clients use for this scheduler (default: the bind address).
    #[arg(long, value_name = "HOST")]
    advertise_host: Option<String>,
    /// Seconds without a heartbeat after which an executor is taken as lost (its tasks are rescheduled).
    #[arg(long, value_name = "SECS", default_value_t = 20)]
    executor_timeout: u64,
    /// How executors get tasks: pull (they poll the scheduler) or push (the scheduler sends them to the
    /// executors' --grpc-port). Scheduler and executors must agree.
    #[arg(long, value_name = "MODE", default_value = "pull")]
    task_scheduling: Scheduling,
    /// Ballista's log on stderr: error, warn, info, debug.
    #[arg(long, value_name = "LEVEL", default_value = "warn", value_parser = parse_level)]
    log_level: log::LevelFilter,
}

#[derive(Args, Debug)]
struct ExecutorArgs {
    /// The scheduler, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    scheduler: HostPort,
    /// Address of this executor's Arrow Flight service, IP:PORT.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:50051")]
    bind: HostPort,
    /// Port of this executor's gRPC service (tasks pushed by the scheduler, with --task-scheduling push);
    /// default: the --bind port + 1.
    #[arg(long, value_name = "PORT")]
    grpc_port: Option<u16>,
    /// Name or address the scheduler and other executors use for this executor (default: the bind
    /// address; with 0.0.0.0, the address the scheduler sees).
    #[arg(long, value_name = "HOST")]
    advertise_host: Option<String>,
    /// Tasks run at once (0 = one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    concurrent_tasks: usize,
    /// Directory for shuffle files: a fresh directory is made inside it and removed on exit
    /// (default: the system temp directory).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// Seconds to wait for the scheduler to answer at start-up.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    connect_timeout: u64,
    /// Seconds between heartbeats (keep well under the scheduler's --executor-timeout).
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    heartbeat: u64,
    /// How executors get tasks: pull (they poll the scheduler) or push (the scheduler sends them to the
    /// executors' --grpc-port). Scheduler and executors must agree.
    #[arg(long, value_name = "MODE", default_value = "pull")]
    task_scheduling: Scheduling,
    /// Ballista's log on stderr: error, warn, info, debug.
    #[arg(long, value_name = "LEVEL", default_value = "warn", value_parser = parse_level)]
    log_level: log::LevelFilter,
}

#[derive(Args, Debug)]
struct StatusArgs {
    /// The scheduler, HOST:PORT or df://HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    scheduler: String,
    /// Seconds to wait for an answer.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    timeout: u64,
    /// Fail (exit 7) unless at least this many executors are registered.
    #[arg(long, value_name = "N", default_value_t = 0)]
    min_executors: usize,
}

/// Runs `cluster`.
pub fn run(a: ClusterArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    match a.command {
        ClusterCommand::Scheduler(s) => rt.block_on(scheduler(s)),
        ClusterCommand::Executor(e) => rt.block_on(executor(e)),
        ClusterCommand::Status(s) => rt.block_on(status(s)),
    }
}

fn parse_level(s: &str) -> Result<log::LevelFilter, String> {
    s.parse()
        .map_err(|_| format!("unknown log level {s:?}: use off, error, warn, info, debug or trace"))
}

fn events() -> flowhound_cluster::Events {
    Arc::new(|line: String| eprintln!("{line}"))
}

async fn scheduler(a: SchedulerArgs) -> Result<ExitCode> {
    logging::init(a.log_level);
    let s = flowhound_cluster::Scheduler::bind(SchedulerOptions {
        bind: a.bind,
        advertise_host: a.advertise_host,
        executor_timeout: Duration::from_secs(a.executor_timeout),
        scheduling: a.task_scheduling,
        events: events(),
    })
    .await?;
    let addr = s.local_addr()?;
    eprintln!("flowhound cluster scheduler listening on {addr} (clients: --cluster df://{addr}; executors: --scheduler {addr})");
    let sum = s.run().await?;
    eprintln!(
        "scheduler stopped by {} after {:.1} s: {} executor(s) registered while it ran, {} at the end",
        sum.signal,
        sum.uptime.as_secs_f64(),
        sum.executors_seen,
        sum.executors_at_end
    );
    Ok(ExitCode::SUCCESS)
}

async fn executor(a: ExecutorArgs) -> Result<ExitCode> {
    logging::init(a.log_level);
    let grpc_port = a.grpc_port.unwrap_or_else(|| a.bind.port.wrapping_add(1));
    let bind = a.bind.clone();
    let scheduling = a.task_scheduling;
    let e = flowhound_cluster::Executor::prepare(ExecutorOptions {
        scheduler: a.scheduler,
        bind: a.bind,
        grpc_port: Some(grpc_port),
        advertise_host: a.advertise_host,
        concurrent_tasks: a.concurrent_tasks,
        work_dir: a.work_dir,
        connect_timeout: Duration::from_secs(a.connect_timeout),
        heartbeat: Duration::from_secs(a.heartbeat),
        scheduling,
    })
    .await?;
    let grpc = match scheduling {
        Scheduling::Push => format!(" and port {grpc_port} (tasks)"),
        Scheduling::Pull => String::new(),
    };
    eprintln!(
        "flowhound cluster executor {} listening on {bind} (flight){grpc}, scheduler {}, work dir {}",
        e.id(),
        e.scheduler(),
        e.work_dir().display()
    );
    let sum = e.run().await?;
    eprintln!(
        "executor stopped ({}) after {:.1} s; removed {}",
        sum.reason,
        sum.uptime.as_secs_f64(),
        sum.work_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn status(a: StatusArgs) -> Result<ExitCode> {
    let url = parse_cluster_url(&a.scheduler)?;
    let s =
        flowhound_cluster::cluster_status(&url.to_string(), Duration::from_secs(a.timeout)).await?;
    println!(
        "scheduler {url}: {}, {} executor(s) registered",
        s.server, s.executors
    );
    if s.executors < a.min_executors {
        eprintln!("fewer than {} executor(s) registered", a.min_executors);
        return Ok(ExitCode::from(EXIT_CLUSTER));
    }
    Ok(ExitCode::SUCCESS)
}

/// Exit code of cluster failures (unreachable scheduler, lost executor, query deadline).
pub const EXIT_CLUSTER: u8 = 7;

/// The documented exit code of a cluster error.
pub fn exit_code(e: &ClusterError) -> u8 {
    match e {
        ClusterError::BadAddress { .. } | ClusterError::Bind { .. } => 2,
        ClusterError::Input { .. } => 3,
        ClusterError::DataFusion(_) => 5,
        ClusterError::WorkDir { .. } => 6,
        _ => EXIT_CLUSTER,
    }
}

/// Settings of `sql --cluster`.
pub struct SqlOnCluster<'a> {
    pub url: &'a str,
    pub connect_timeout: Duration,
    pub timeout: Duration,
}

/// Runs `query` over `files` (table `flows`) on the cluster.
pub fn sql(c: &SqlOnCluster, query: &str, files: &[PathBuf]) -> Result<Vec<RecordBatch>> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let (ctx, status) =
            flowhound_cluster::remote_context_with_status(c.url, c.connect_timeout).await?;
        if status.executors == 0 {
            eprintln!("warning: the scheduler has no executor registered yet; the query waits for one");
        }
        let reg = flowhound_cluster::register_paths(&ctx, flowhound::sql::TABLE, files).await?;
        if !reg.canonical {
            eprintln!(
                "note: the inputs are not canonical flowhound Parquet; their columns are queried as they are \
                 (flowhound convert makes canonical Parquet)"
            );
        }
        let batches = flowhound_cluster::query(&ctx, query, c.timeout)
            .await
            .map_err(|e| match e {
                ClusterError::DataFusion(d) => anyhow::Error::from(flowhound::sql::translate_error(d)),
                e => e.into(),
            })?;
        eprintln!(
            "ran on the cluster at {} ({}, {} executor(s)) over {} file(s)",
            c.url, status.server, status.executors, reg.files
        );
        Ok(batches)
    })
}
