//! What one cluster query asks every shard to do: a JSON file the client writes in a directory every
//! executor can read, named in the query by its path (a short literal, so that the plan stays small).
//! Executors load it once per process ([`load`]).

use crate::baseline::Baseline;
use crate::config::Config;
use crate::detect::globals::TestGlobals;
use crate::error::{FlowError, Result};
use crate::net::{Cidr, InternalNets};
use flowhound_geo::GeoStack;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The work a shard does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// The whole-input statistics the detectors need ([`TestGlobals`]): a step of its own, but SQL
    /// aggregations ([`super::stats_sql`]), not a shard task.
    Globals,
    /// The baseline learning state of the shard's hosts.
    Learn,
    /// The learning states of the shard's hosts per UTC day (a rolling baseline's days).
    LearnDays,
    /// The findings of the shard's hosts.
    Detect,
}

/// Geo databases, as every executor opens them (paths on shared storage).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeoFiles {
    /// Country databases.
    pub country: Vec<PathBuf>,
    /// ASN databases.
    pub asn: Vec<PathBuf>,
    /// Fall back to the embedded database.
    pub embedded: bool,
}

impl GeoFiles {
    /// Opens the stack.
    pub fn open(&self) -> Result<GeoStack> {
        Ok(GeoStack::from_options(
            &self.country,
            &self.asn,
            self.embedded,
        )?)
    }
}

/// One query's job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobSpec {
    /// What each shard does.
    pub task: Task,
    /// Host shards (`flowhound_shard_of(..., shards)`); shard `shards` holds the internal pairs.
    pub shards: usize,
    /// Internal networks (CIDR text).
    pub nets: Vec<String>,
    /// Window of the per (host, window) sums: the baseline's.
    pub window_secs: u64,
    /// Geo databases.
    pub geo: GeoFiles,
    /// Every setting (detectors run, thresholds, baseline settings).
    pub config: Config,
    /// Learn robustly from the test input itself (single-capture mode).
    pub self_learned: bool,
    /// Input files (recorded in a learned baseline).
    pub files: Vec<String>,
    /// The baseline file ([`Task::Detect`]).
    pub baseline: Option<PathBuf>,
    /// The whole-input statistics file ([`Task::Detect`], written by [`super::wire::write_globals`]).
    pub globals: Option<PathBuf>,
    /// Window of `--verdicts` (µs), when the active (window, source) pairs are wanted.
    pub verdict_window_us: Option<i64>,
}

impl JobSpec {
    /// A spec of `task` with no baseline, statistics or input files yet.
    pub fn new(
        task: Task,
        shards: usize,
        nets: Vec<String>,
        geo: GeoFiles,
        config: Config,
    ) -> JobSpec {
        JobSpec {
            task,
            shards,
            nets,
            window_secs: config.baseline.window_secs,
            geo,
            config,
            self_learned: false,
            files: vec![],
            baseline: None,
            globals: None,
            verdict_window_us: None,
        }
    }

    /// The internal networks.
    pub fn internal_nets(&self) -> Result<InternalNets> {
        let blocks = self
            .nets
            .iter()
            .map(|c| Cidr::parse(c).map_err(FlowError::from))
            .collect::<Result<Vec<_>>>()?;
        Ok(InternalNets::new(blocks))
    }

    /// Writes the spec as JSON to `path` (atomically).
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self).map_err(|e| FlowError::Internal(e.to_string()))?;
        crate::output::atomic::write_string(path, &text)
    }
}

/// A spec with everything it names opened: what an executor holds while it works on a job.
pub struct Loaded {
    /// The spec.
    pub spec: JobSpec,
    /// Its internal networks.
    pub nets: InternalNets,
    /// Its geo stack.
    pub geo: GeoStack,
    /// The baseline ([`Task::Detect`]).
    pub baseline: Option<Baseline>,
    /// The whole-input statistics ([`Task::Detect`]).
    pub globals: Option<TestGlobals>,
}

/// Specs this process loaded, by path (a job's directory is new for every run).
static CACHE: Mutex<BTreeMap<PathBuf, Arc<Loaded>>> = Mutex::new(BTreeMap::new());
/// Specs kept loaded at once.
const CACHED: usize = 4;

/// The spec at `path`, loaded once per process.
pub fn load(path: &Path) -> Result<Arc<Loaded>> {
    if let Some(l) = CACHE.lock().ok().and_then(|c| c.get(path).cloned()) {
        return Ok(l);
    }
    let loaded = Arc::new(open(path)?);
    if let Ok(mut c) = CACHE.lock() {
        while c.len() >= CACHED {
            c.pop_first();
        }
        c.insert(path.to_path_buf(), loaded.clone());
    }
    Ok(loaded)
}

fn open(path: &Path) -> Result<Loaded> {
    let text = std::fs::read(path).map_err(|e| FlowError::io(path, e))?;
    let spec: JobSpec = serde_json::from_slice(&text).map_err(|e| {
        FlowError::Config(format!(
            "{}: not a flowhound job spec ({e}); client and executors must run the same flowhound version",
            path.display()
        ))
    })?;
    let baseline = spec.baseline.as_deref().map(Baseline::load).transpose()?;
    let globals = spec
        .globals
        .as_deref()
        .map(|p| super::wire::read_globals(p, spec.window_secs))
        .transpose()?;
    Ok(Loaded {
        nets: spec.internal_nets()?,
        geo: spec.geo.open()?,
        baseline,
        globals,
        spec,
    })
}

/// Marks shard `shard` of the job at `spec_path` done (a file beside the spec, which the client
/// counts for its progress bar). Best effort: progress is not worth failing a shard for.
pub fn mark_done(spec_path: &Path, shard: i64) {
    if let Some(dir) = spec_path.parent() {
        let stem = spec_path.file_stem().unwrap_or_default().to_string_lossy();
        let _ = std::fs::write(dir.join(format!("{stem}.done.{shard}")), b"");
    }
}

/// Shards of the job at `spec_path` marked done ([`mark_done`]).
pub fn shards_done(spec_path: &Path) -> usize {
    let (Some(dir), Some(stem)) = (spec_path.parent(), spec_path.file_stem()) else {
        return 0;
    };
    let prefix = format!("{}.done.", stem.to_string_lossy());
    std::fs::read_dir(dir).map_or(0, |rd| {
        rd.filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .count()
    })
}
