//! The one place where DataFusion sessions are built. Everything that runs a plan gets its context here,
//! so that a later switch to a Ballista cluster (`SessionContext::remote`) changes only this file.

use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionConfig;
use flowhound_geo::GeoStack;
use std::sync::Arc;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Partitions (threads) per query; 0 = all cores.
    pub target_partitions: usize,
    /// Rows per batch.
    pub batch_size: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            target_partitions: 0,
            batch_size: 65_536,
        }
    }
}

/// Builds a session with flowhound's functions registered, and the geo functions over `geo` when given.
pub fn session_with_geo(opts: &EngineOptions, geo: Option<Arc<GeoStack>>) -> SessionContext {
    let ctx = session(opts);
    for f in geo.map(crate::geo_sql::functions).unwrap_or_default() {
        ctx.register_udf(f);
    }
    ctx
}

/// Builds a session with flowhound's functions registered.
pub fn session(opts: &EngineOptions) -> SessionContext {
    let mut cfg = SessionConfig::new()
        .with_batch_size(opts.batch_size)
        .with_information_schema(true);
    if opts.target_partitions > 0 {
        cfg = cfg.with_target_partitions(opts.target_partitions);
    }
    let ctx = SessionContext::new_with_config(cfg);
    for f in scalar_functions() {
        ctx.register_udf(f);
    }
    for f in aggregate_functions() {
        ctx.register_udaf(f);
    }
    ctx
}

/// flowhound's scalar functions: `ip_str` and the geo functions over the embedded geo database.
/// The one list every session gets, locally and on Ballista executors and schedulers
/// (`flowhound-cluster` registers it there): add a function here and it reaches the cluster.
pub fn scalar_functions() -> Vec<ScalarUDF> {
    let mut fs = vec![crate::sql::ip_str_function()];
    fs.extend(crate::geo_sql::functions(default_geo()));
    fs
}

/// flowhound's aggregate functions (UDAFs); like [`scalar_functions`], the one list for local sessions
/// and cluster executors.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    Vec::new()
}

/// The geo stack of the default functions: the embedded database (`flowhound sql` without `--geoip-db`).
/// Built without the embedded database, the lookups answer NULL.
fn default_geo() -> Arc<GeoStack> {
    Arc::new(GeoStack::from_options(&[], &[], true).unwrap_or_default())
}
