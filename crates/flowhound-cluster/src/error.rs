//! Typed errors of the cluster plumbing. Each names the address or path involved and the fix.

use std::path::PathBuf;
use std::time::Duration;

/// What can go wrong starting, reaching or using a cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A `df://HOST:PORT` URL or `HOST:PORT` address that does not parse.
    #[error("bad cluster address {input:?}: {reason} (expected {expected})")]
    BadAddress {
        input: String,
        reason: String,
        expected: &'static str,
    },
    /// Nothing answered at the scheduler's address within the deadline.
    #[error(
        "no Ballista scheduler answered at {addr} within {}s ({detail}); start one with \
         `flowhound cluster scheduler --bind {addr}`, or check the address and the firewall",
        .deadline.as_secs_f64()
    )]
    Unreachable {
        addr: String,
        deadline: Duration,
        detail: String,
    },
    /// Something answered at the address, but not a Ballista scheduler.
    #[error(
        "{addr} answered, but not as a Ballista scheduler ({detail}); is it the scheduler's port?"
    )]
    NotAScheduler { addr: String, detail: String },
    /// A listening address could not be bound.
    #[error("cannot listen on {addr}: {source} (is the port in use, or the address not local?)")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// The executor's work directory could not be made.
    #[error("cannot create the executor work directory under {}: {source}", .path.display())]
    WorkDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An input is of a format the cluster cannot read by path.
    #[error("{}: {reason}", .path.display())]
    Input { path: PathBuf, reason: String },
    /// A query on the cluster did not finish within its deadline.
    #[error(
        "the query did not finish on the cluster within {}s; an executor may have been lost \
         (see the scheduler's log) or the query needs longer: raise --timeout (sql) or \
         --cluster-timeout (analyze, baseline, detect)",
        .deadline.as_secs_f64()
    )]
    QueryTimeout { deadline: Duration },
    /// Ballista reported an error (scheduler or executor side).
    #[error("ballista: {0}")]
    Ballista(String),
    /// DataFusion reported an error (planning or execution).
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// Any other I/O error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<ballista_core::error::BallistaError> for ClusterError {
    fn from(e: ballista_core::error::BallistaError) -> Self {
        ClusterError::Ballista(e.to_string())
    }
}

/// Result with [`ClusterError`].
pub type Result<T, E = ClusterError> = std::result::Result<T, E>;
