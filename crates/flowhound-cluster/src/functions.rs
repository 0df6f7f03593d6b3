//! flowhound's functions on the cluster. Ballista sends functions by name; schedulers and executors
//! resolve the names from their own registries, which by default hold only DataFusion's built-ins. Both
//! registries here are built from the one list in `flowhound::engine`, so a function added there reaches
//! every process of the cluster.

use ballista_core::registry::BallistaFunctionRegistry;
use datafusion::execution::{FunctionRegistry, SessionState};
use datafusion::prelude::{SessionConfig, SessionContext};
use std::sync::Arc;

/// flowhound's scalar functions: the SQL functions (`flowhound::engine`) and those of the analysis
/// jobs (`flowhound::distributed`).
pub fn scalar_functions() -> Vec<datafusion::logical_expr::ScalarUDF> {
    let mut fs = flowhound::engine::scalar_functions();
    fs.extend(flowhound::distributed::functions::scalar_functions());
    fs
}

/// flowhound's aggregate functions, SQL and jobs (see [`scalar_functions`]).
pub fn aggregate_functions() -> Vec<datafusion::logical_expr::AggregateUDF> {
    let mut fs = flowhound::engine::aggregate_functions();
    fs.extend(flowhound::distributed::functions::aggregate_functions());
    fs
}

/// The executors' registry: DataFusion's built-ins plus flowhound's functions.
pub fn executor_registry() -> BallistaFunctionRegistry {
    let mut registry = BallistaFunctionRegistry::default();
    for f in scalar_functions() {
        registry
            .scalar_functions
            .insert(f.name().to_string(), Arc::new(f));
    }
    for f in aggregate_functions() {
        registry
            .aggregate_functions
            .insert(f.name().to_string(), Arc::new(f));
    }
    registry
}

/// The scheduler's session builder: Ballista's default session plus flowhound's functions, so the
/// scheduler can decode and plan queries that call them.
pub fn scheduler_session(config: SessionConfig) -> datafusion::error::Result<SessionState> {
    let mut state = ballista_core::utils::default_session_builder(config)?;
    register_all(&mut state)?;
    Ok(state)
}

/// Registers flowhound's functions in a client context (the SQL planner resolves names there).
pub fn register_on_client(ctx: &SessionContext) {
    for f in scalar_functions() {
        ctx.register_udf(f);
    }
    for f in aggregate_functions() {
        ctx.register_udaf(f);
    }
}

fn register_all(state: &mut SessionState) -> datafusion::error::Result<()> {
    for f in scalar_functions() {
        state.register_udf(Arc::new(f))?;
    }
    for f in aggregate_functions() {
        state.register_udaf(Arc::new(f))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executors_and_schedulers_know_every_flowhound_function() {
        let registry = executor_registry();
        let state = scheduler_session(SessionConfig::new()).unwrap();
        for f in scalar_functions() {
            assert!(
                registry.udf(f.name()).is_ok(),
                "executor lacks {}",
                f.name()
            );
            assert!(state.udf(f.name()).is_ok(), "scheduler lacks {}", f.name());
        }
        for f in aggregate_functions() {
            assert!(
                registry.udaf(f.name()).is_ok(),
                "executor lacks {}",
                f.name()
            );
            assert!(state.udaf(f.name()).is_ok(), "scheduler lacks {}", f.name());
        }
        // DataFusion's built-ins stay.
        assert!(registry.udf("abs").is_ok() && registry.udaf("count").is_ok());
        assert!(registry.udaf("flowhound_shard_task").is_ok());
        for name in [
            "flowhound_shard_of",
            "flowhound_internal_pair",
            "ip_str",
            "geo_country",
            "asn_number",
            "asn_org",
            "is_private",
            "in_cidr",
        ] {
            assert!(registry.udf(name).is_ok(), "{name}");
        }
    }
}
