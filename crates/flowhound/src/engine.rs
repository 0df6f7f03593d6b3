//! The one place where DataFusion sessions are built. Everything that runs a plan gets its context here,
//! so that a later switch to a Ballista cluster (`SessionContext::remote`) changes only this file.

use datafusion::execution::context::SessionContext;
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
    crate::sql::register_functions(&ctx);
    ctx
}
