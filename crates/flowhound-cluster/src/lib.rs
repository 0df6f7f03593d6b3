//! flowhound on an Apache DataFusion Ballista 55 cluster.
//!
//! - [`Scheduler`] and [`Executor`]: Ballista processes built on the Ballista library, whose function
//!   registries hold flowhound's functions (`flowhound::engine::scalar_functions` and
//!   `aggregate_functions`); stock Ballista executors only know DataFusion's built-ins.
//! - [`remote_context`]: a `SessionContext` whose queries run on the cluster.
//!
//! Ballista's gRPC has no authentication: bind to private interfaces (docs/cluster.md).

mod addr;
mod client;
mod error;
mod executor;
pub mod functions;
pub mod logging;
mod probe;
mod scheduler;
mod signal;

pub use addr::{parse_cluster_url, HostPort};
pub use client::{
    cluster_status, query, register_paths, remote_context, remote_context_with_status, within,
    PathFormat, Registered,
};
pub use error::{ClusterError, Result};
pub use executor::{Executor, ExecutorOptions, ExecutorSummary};
pub use probe::SchedulerStatus;
pub use scheduler::{Scheduler, SchedulerOptions, SchedulerSummary};

/// How executors get tasks. Scheduler and executors must use the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheduling {
    /// Executors poll the scheduler for tasks (the default: in our trials it recovered from a lost
    /// executor more often, docs/cluster.md).
    #[default]
    Pull,
    /// The scheduler pushes tasks to the executors' gRPC port.
    Push,
}

impl Scheduling {
    fn policy(self) -> ballista_core::config::TaskSchedulingPolicy {
        match self {
            Scheduling::Pull => ballista_core::config::TaskSchedulingPolicy::PullStaged,
            Scheduling::Push => ballista_core::config::TaskSchedulingPolicy::PushStaged,
        }
    }
}

impl std::str::FromStr for Scheduling {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "pull" => Ok(Scheduling::Pull),
            "push" => Ok(Scheduling::Push),
            _ => Err(format!("unknown task scheduling {s:?}: use pull or push")),
        }
    }
}

/// Receives one line per cluster event (an executor registered or lost).
pub type Events = std::sync::Arc<dyn Fn(String) + Send + Sync>;

/// Runs a scheduler until SIGINT or SIGTERM.
pub async fn run_scheduler(opts: SchedulerOptions) -> Result<SchedulerSummary> {
    Scheduler::bind(opts).await?.run().await
}

/// Runs an executor until SIGINT or SIGTERM.
pub async fn run_executor(opts: ExecutorOptions) -> Result<ExecutorSummary> {
    Executor::prepare(opts).await?.run().await
}
