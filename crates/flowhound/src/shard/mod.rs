//! Out-of-core detection (`--memory-limit`, `--tmp-dir`): when the test flows would not fit in the
//! memory limit, they are routed by internal host into shards on disk ([`route`]) and the detectors
//! run one shard at a time ([`Sharded::detect`]). A shard holds every flow attributed to its hosts (a
//! flow between two internal hosts belongs to the client), so a detector judging one host sees exactly
//! what it sees in memory; each shard keeps only the findings about its own hosts. The ranked findings
//! equal the in-memory run's (tests/shard_equal.rs). See docs/scale.md.

mod columns;
mod learn;
pub mod memory;
pub mod route;
mod run;

pub use learn::{LearnEnv, SpilledDays};
pub use run::{route, spill_dir, Detected, Inputs, RouteOptions, Sharded};
/// A spill or job directory, removed when dropped.
pub use tempfile::TempDir as SpillDir;
