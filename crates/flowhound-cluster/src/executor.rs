//! `flowhound cluster executor`: a Ballista executor whose function registry holds flowhound's functions.

use crate::addr::HostPort;
use crate::error::{ClusterError, Result};
use crate::signal::{Shutdown, GRACE};
use crate::Scheduling;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Executor settings.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler to register with.
    pub scheduler: HostPort,
    /// Where the Arrow Flight service listens (other executors and clients fetch results here).
    pub bind: HostPort,
    /// Port of the executor's gRPC service (the scheduler pushes tasks here); default: the bind port + 1.
    pub grpc_port: Option<u16>,
    /// The name or address the scheduler and the other executors reach this executor by (default: the
    /// bind address, or the address the scheduler sees when binding 0.0.0.0).
    pub advertise_host: Option<String>,
    /// Tasks run at once; 0 = one per core.
    pub concurrent_tasks: usize,
    /// Where shuffle files go: a fresh directory is made inside it (default: the system temp directory)
    /// and removed on exit.
    pub work_dir: Option<PathBuf>,
    /// How long to wait for the scheduler to answer at start-up.
    pub connect_timeout: Duration,
    /// How it gets tasks: the same as the scheduler's.
    pub scheduling: Scheduling,
    /// Heartbeat period; keep it well under the scheduler's `--executor-timeout`.
    pub heartbeat: Duration,
}

/// What an executor did, for its summary line.
#[derive(Debug, Clone)]
pub struct ExecutorSummary {
    pub uptime: Duration,
    /// The signal that stopped it, or why it stopped.
    pub reason: String,
    /// The work directory it removed.
    pub work_dir: PathBuf,
}

/// An executor whose scheduler answered and whose ports are free, not yet registered.
pub struct Executor {
    config: ExecutorProcessConfig,
    work: tempfile::TempDir,
    shutdown: Shutdown,
    scheduler: String,
}

impl Executor {
    /// Checks the ports, waits for the scheduler (up to `connect_timeout`), makes the work directory.
    pub async fn prepare(opts: ExecutorOptions) -> Result<Executor> {
        let mut shutdown = Shutdown::listen()?;
        let ip = opts.bind.ip()?;
        let grpc_port = opts
            .grpc_port
            .unwrap_or_else(|| opts.bind.port.wrapping_add(1));
        check_free(&opts.bind)?;
        if opts.scheduling == Scheduling::Push {
            check_free(&opts.bind.with_port(grpc_port))?;
        }
        let status = tokio::select! {
            r = crate::probe::probe(&opts.scheduler, opts.connect_timeout) => r?,
            s = shutdown.recv() => return Err(ClusterError::Ballista(format!("{s} while waiting for the scheduler"))),
        };
        let work = work_dir(opts.work_dir.as_deref())?;
        let config = ExecutorProcessConfig {
            bind_host: ip.to_string(),
            external_host: opts
                .advertise_host
                .clone()
                .or_else(|| (!ip.is_unspecified()).then(|| ip.to_string())),
            port: opts.bind.port,
            grpc_port,
            scheduler_host: opts.scheduler.host.clone(),
            scheduler_port: opts.scheduler.port,
            scheduler_connect_timeout_seconds: 0,
            vcores: opts.concurrent_tasks,
            task_scheduling_policy: opts.scheduling.policy(),
            work_dir: Some(work.path().to_string_lossy().into_owned()),
            executor_heartbeat_interval_seconds: opts.heartbeat.as_secs().max(1),
            override_function_registry: Some(Arc::new(crate::functions::executor_registry())),
            ..Default::default()
        };
        Ok(Executor {
            config,
            work,
            shutdown,
            scheduler: format!("{} ({})", opts.scheduler, status.server),
        })
    }

    /// The executor's id, as the scheduler will list it.
    pub fn id(&self) -> &str {
        &self.config.executor_id
    }

    /// The work directory (removed when the executor stops).
    pub fn work_dir(&self) -> &Path {
        self.work.path()
    }

    /// The scheduler it will register with, and the Ballista version that answered there.
    pub fn scheduler(&self) -> &str {
        &self.scheduler
    }

    /// Registers with the scheduler and runs tasks until SIGINT or SIGTERM, then tells the scheduler,
    /// lets running tasks finish (at most 30 s) and removes the work directory.
    pub async fn run(mut self) -> Result<ExecutorSummary> {
        let started = Instant::now();
        let process = start_executor_process(Arc::new(self.config));
        tokio::pin!(process);
        let reason = tokio::select! {
            r = &mut process => {
                r?;
                "its services ended; see the log above".to_string()
            }
            s = self.shutdown.recv() => {
                // Ballista's own handler sees the same signal and drains; give it the grace period.
                let _ = tokio::time::timeout(GRACE, &mut process).await;
                s.to_string()
            }
        };
        let work_dir = self.work.path().to_path_buf();
        self.work.close().map_err(|source| ClusterError::WorkDir {
            path: work_dir.clone(),
            source,
        })?;
        Ok(ExecutorSummary {
            uptime: started.elapsed(),
            reason,
            work_dir,
        })
    }
}

fn check_free(addr: &HostPort) -> Result<()> {
    if addr.port == 0 {
        return Err(ClusterError::BadAddress {
            input: addr.to_string(),
            reason: "an executor needs fixed ports (it advertises them to the scheduler)".into(),
            expected: "IP:PORT with a port other than 0",
        });
    }
    std::net::TcpListener::bind((addr.ip()?, addr.port))
        .map(drop)
        .map_err(|source| ClusterError::Bind {
            addr: addr.to_string(),
            source,
        })
}

fn work_dir(parent: Option<&Path>) -> Result<tempfile::TempDir> {
    let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
    std::fs::create_dir_all(&parent)
        .and_then(|_| {
            tempfile::Builder::new()
                .prefix("flowhound-executor-")
                .tempdir_in(&parent)
        })
        .map_err(|source| ClusterError::WorkDir {
            path: parent,
            source,
        })
}
