//! `flowhound cluster scheduler`: a Ballista scheduler whose sessions know flowhound's functions.

use crate::addr::HostPort;
use crate::error::{ClusterError, Result};
use crate::signal::Shutdown;
use crate::{Events, Scheduling};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use ballista_scheduler::scheduler_server::SchedulerServer;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

type Server = SchedulerServer<LogicalPlanNode, PhysicalPlanNode>;

/// Scheduler settings.
#[derive(Clone)]
pub struct SchedulerOptions {
    /// Where to listen (gRPC for clients and executors, and HTTP `/healthz`, `/readyz`). Port 0 picks one.
    pub bind: HostPort,
    /// The name or address other machines reach this scheduler by (default: the bind address).
    pub advertise_host: Option<String>,
    /// An executor without a heartbeat for this long is taken as lost and its tasks are rescheduled.
    pub executor_timeout: Duration,
    /// How executors get tasks (the executors must use the same).
    pub scheduling: Scheduling,
    /// Called with one line per cluster change (an executor registered or lost).
    pub events: Events,
}

/// What a scheduler did, for its summary line.
#[derive(Debug, Clone)]
pub struct SchedulerSummary {
    pub uptime: Duration,
    /// Executors that registered while it ran.
    pub executors_seen: usize,
    /// Executors still registered when it stopped.
    pub executors_at_end: usize,
    /// The signal that stopped it.
    pub signal: &'static str,
}

/// A scheduler bound to its port, not yet serving.
pub struct Scheduler {
    listener: TcpListener,
    server: Server,
    events: Events,
    shutdown: Shutdown,
}

impl Scheduler {
    /// Binds the port and builds the scheduler state.
    pub async fn bind(opts: SchedulerOptions) -> Result<Scheduler> {
        let shutdown = Shutdown::listen()?;
        let ip = opts.bind.ip()?;
        let listener = TcpListener::bind((ip, opts.bind.port))
            .await
            .map_err(|source| ClusterError::Bind {
                addr: opts.bind.to_string(),
                source,
            })?;
        let local = listener.local_addr()?;
        let timeout = opts.executor_timeout.as_secs().max(2);
        let config = SchedulerConfig {
            bind_host: ip.to_string(),
            bind_port: local.port(),
            external_host: opts.advertise_host.clone().unwrap_or_else(|| {
                if ip.is_unspecified() {
                    "localhost".into()
                } else {
                    ip.to_string()
                }
            }),
            scheduling_policy: opts.scheduling.policy(),
            executor_timeout_seconds: timeout,
            expire_dead_executor_interval_seconds: (timeout / 4).max(1),
            no_executors_grace_period_seconds: timeout,
            override_session_builder: Some(Arc::new(crate::functions::scheduler_session)),
            ..Default::default()
        };
        config.validate()?;
        let cluster = BallistaCluster::new_from_config(&config).await?;
        let server = create_scheduler(cluster, Arc::new(config)).await?;
        Ok(Scheduler {
            listener,
            server,
            events: opts.events,
            shutdown,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run(mut self) -> Result<SchedulerSummary> {
        let started = Instant::now();
        let counts = Arc::new(Counts::default());
        let watch = tokio::spawn(watch_executors(
            self.server.clone(),
            self.events.clone(),
            counts.clone(),
        ));
        let serve = start_grpc_service_with_listener(self.listener, self.server);
        let signal = tokio::select! {
            r = serve => {
                watch.abort();
                r?;
                return Err(ClusterError::Ballista("the scheduler's server stopped".into()));
            }
            s = self.shutdown.recv() => s,
        };
        watch.abort();
        Ok(SchedulerSummary {
            uptime: started.elapsed(),
            executors_seen: counts.seen.load(Ordering::Relaxed),
            executors_at_end: counts.now.load(Ordering::Relaxed),
            signal,
        })
    }
}

#[derive(Default)]
struct Counts {
    seen: AtomicUsize,
    now: AtomicUsize,
}

/// Reports executors as they come and go, and keeps `counts` up to date.
async fn watch_executors(server: Server, events: Events, counts: Arc<Counts>) {
    let mut known: BTreeMap<String, String> = BTreeMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let Ok(state) = server.state.executor_manager.get_executors_state().await else {
            continue;
        };
        let now: BTreeMap<String, String> = state
            .into_iter()
            .map(|(m, _, _)| (m.id.clone(), format!("{}:{}", m.host, m.port)))
            .collect();
        for (id, at) in &now {
            if !known.contains_key(id) {
                counts.seen.fetch_add(1, Ordering::Relaxed);
                events(format!(
                    "executor {id} at {at} registered ({} registered)",
                    now.len()
                ));
            }
        }
        for (id, at) in &known {
            if !now.contains_key(id) {
                events(format!(
                    "executor {id} at {at} is gone ({} registered)",
                    now.len()
                ));
            }
        }
        counts.now.store(now.len(), Ordering::Relaxed);
        known = now;
    }
}
