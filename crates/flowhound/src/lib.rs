//! flowhound engine: canonical flows, readers, statistics, profiling and the query engine.
//!
//! Data flows one way: `ingest -> flows (canonical Arrow schema) -> baseline -> detectors -> findings ->
//! enrichment -> report`. See `docs/architecture.md`.

pub mod analysis;
pub mod baseline;
pub mod collect;
pub mod config;
pub mod ctu13;
pub mod detect;
pub mod distributed;
pub mod engine;
pub mod enrich;
pub mod error;
pub mod findings;
pub mod geo_sql;
pub mod ingest;
pub mod ip;
pub mod net;
pub mod output;
pub mod profile;
pub mod report;
pub mod schema;
pub mod shard;
pub mod sql;
pub mod stats;
#[cfg(test)]
mod test_data;
pub mod topk;
pub mod verdicts;

pub use error::{FlowError, Result};
