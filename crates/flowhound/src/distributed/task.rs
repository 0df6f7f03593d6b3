//! The work of one shard on an executor, and what the client makes of the shards' answers. The flows
//! of a shard arrive in no particular order; they are sorted by every column first, so each run sees
//! them in the same order.

use super::spec::{Loaded, Task};
use crate::baseline::{learn_shard, Baseline, State};
use crate::detect::flows::Flows;
use crate::detect::{self, DetectCtx};
use crate::error::{FlowError, Result};
use crate::findings::Finding;
use crate::net::InternalNets;
use crate::shard::route::shard_of;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::{lexsort_to_indices, take_record_batch, SortColumn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The findings of one shard, with the rows behind them (local to the shard).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DetectPart {
    /// Flows in the shard.
    pub rows: u64,
    /// Findings the shard owns (raw, before [`detect::finish`]).
    pub findings: Vec<Finding>,
    /// `flow_rows` of each finding (not part of a finding's JSON form).
    pub flow_rows: Vec<Vec<u32>>,
    /// `evidence_at` of each finding (not part of a finding's JSON form either).
    #[serde(default)]
    pub evidence_at: Vec<Vec<(i64, u128)>>,
    /// Active (window start µs, internal source) pairs, for `--verdicts`.
    pub active: Vec<(i64, u128)>,
}

/// Runs the spec's task over shard `shard`'s flows.
pub fn run(l: &Loaded, shard: usize, batch: RecordBatch) -> Result<Vec<u8>> {
    let batch = in_order(&batch)?;
    let flows = Flows::from_batches(std::slice::from_ref(&batch))?;
    match l.spec.task {
        Task::Globals => Err(FlowError::Internal(
            "the whole-input statistics are SQL aggregations (distributed::stats_sql), not a shard task"
                .into(),
        )),
        Task::Learn => {
            // the shard holds all of its hosts' flows: the client only merges and derives
            let mut st = learn(l, shard, &flows)?;
            st.compact();
            st.to_bytes()
        }
        Task::LearnDays => learn_days(l, &flows),
        Task::Detect => {
            let part = detect_shard(l, shard, &batch, &flows)?;
            serde_json::to_vec(&part).map_err(|e| FlowError::Internal(e.to_string()))
        }
    }
}

/// `batch` sorted by every column.
fn in_order(batch: &RecordBatch) -> Result<RecordBatch> {
    let cols: Vec<SortColumn> = batch
        .columns()
        .iter()
        .map(|c| SortColumn {
            values: c.clone(),
            options: None,
        })
        .collect();
    let order = lexsort_to_indices(&cols, None)?;
    Ok(take_record_batch(batch, &order)?)
}

fn learn(l: &Loaded, shard: usize, flows: &Flows) -> Result<State> {
    let s = &l.spec;
    let owns = |h: u128| shard_of(h, s.shards) == shard;
    let cfg = (&s.config.baseline, s.self_learned);
    learn_shard(flows, &l.nets, &l.geo, cfg, s.files.clone(), owns)
}

/// Every flow of a host shard is its hosts', so the shard's days are learned without a filter.
fn learn_days(l: &Loaded, flows: &Flows) -> Result<Vec<u8>> {
    let never = std::sync::atomic::AtomicBool::new(false);
    let s = &l.spec;
    let days = crate::baseline::learn_days(
        flows,
        &l.nets,
        &l.geo,
        &s.config.baseline,
        s.files.clone(),
        &never,
    )?;
    let mut out = Vec::new();
    for (day, st) in days {
        let bytes = st.to_bytes()?;
        out.extend_from_slice(&day.to_le_bytes());
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

/// Reads what [`learn_days`] wrote.
fn read_days(mut b: &[u8]) -> Result<Vec<(i64, State)>> {
    let bad = || FlowError::Internal("a shard's day states are cut short".into());
    let mut out = Vec::new();
    while !b.is_empty() {
        let head = b.get(..16).ok_or_else(bad)?;
        let day = i64::from_le_bytes(head[..8].try_into().map_err(|_| bad())?);
        let len = u64::from_le_bytes(head[8..].try_into().map_err(|_| bad())?) as usize;
        let body = b.get(16..16usize.saturating_add(len)).ok_or_else(bad)?;
        out.push((day, State::from_bytes(body)?));
        b = &b[16 + len..];
    }
    Ok(out)
}

/// The client's side: the shards' day states merged per day, oldest first.
pub fn gather_days(parts: Vec<(usize, Vec<u8>)>) -> Result<Vec<(i64, State)>> {
    let mut days: std::collections::BTreeMap<i64, State> = std::collections::BTreeMap::new();
    for (_, bytes) in parts {
        for (day, st) in read_days(&bytes)? {
            days.entry(day).or_default().merge(st)?;
        }
    }
    Ok(days.into_iter().collect())
}

fn detect_shard(
    l: &Loaded,
    shard: usize,
    batch: &RecordBatch,
    flows: &Flows,
) -> Result<DetectPart> {
    let (s, pairs) = (&l.spec, shard == l.spec.shards);
    let missing = |what: &str| FlowError::Internal(format!("a detection job without {what}"));
    let baseline = l.baseline.as_ref().ok_or_else(|| missing("a baseline"))?;
    let globals = l
        .globals
        .as_ref()
        .ok_or_else(|| missing("its statistics"))?;
    let names = detectors(&s.config.analysis.detectors, pairs);
    let ctx = DetectCtx::new(
        std::slice::from_ref(batch),
        flows,
        baseline,
        &l.geo,
        &l.nets,
        &s.config,
    )
    .with_globals(globals);
    let owns = |h: u128| pairs || shard_of(h, s.shards) == shard;
    let findings: Vec<Finding> = detect::run_raw(&ctx, &names)?
        .into_iter()
        .filter(|f| owned(f, &owns))
        .collect();
    let active = match (s.verdict_window_us, pairs) {
        (Some(w), false) => crate::verdicts::active_windows(&flows.ts, &flows.src, w, |src| {
            l.nets.contains(src) && owns(src)
        }),
        _ => BTreeSet::new(),
    };
    Ok(DetectPart {
        rows: flows.len() as u64,
        flow_rows: findings.iter().map(|f| f.flow_rows.clone()).collect(),
        evidence_at: findings.iter().map(|f| f.evidence_at.clone()).collect(),
        findings,
        active: active.into_iter().collect(),
    })
}

/// The detectors of a host shard (`pairs` false) or of the internal-pairs shard.
pub fn detectors(names: &[String], pairs: bool) -> Vec<String> {
    names
        .iter()
        .filter(|n| detect::find(n).is_some_and(|d| d.internal_pairs_only()) == pairs)
        .cloned()
        .collect()
}

/// Whether a host shard keeps a finding: every flow of the shard is its hosts', so findings with
/// flows are its own; a finding without flows (the volume detectors judge every host's windows from
/// the whole-input statistics) belongs to its first host's shard.
fn owned(f: &Finding, owns: &impl Fn(u128) -> bool) -> bool {
    if !f.flow_rows.is_empty() {
        return true;
    }
    match f.hosts.first().and_then(|h| crate::ip::parse(h)) {
        Some(h) => owns(h),
        None => true,
    }
}

/// The client's side: the shards' findings as one raw list, rows numbered over all shards (in shard
/// order), and the active (window, source) pairs.
pub fn gather_findings(mut parts: Vec<(usize, Vec<u8>)>) -> Result<super::Detected> {
    parts.sort_by_key(|p| p.0);
    let (mut raw, mut active, mut offset) = (Vec::new(), BTreeSet::new(), 0u64);
    for (shard, bytes) in parts {
        let p: DetectPart = serde_json::from_slice(&bytes)
            .map_err(|e| FlowError::Internal(format!("findings of shard {shard}: {e}")))?;
        let mut stamps = p.evidence_at.into_iter();
        for (mut f, rows) in p.findings.into_iter().zip(p.flow_rows) {
            let at = |r: u32| u32::try_from(offset + u64::from(r)).unwrap_or(u32::MAX);
            f.flow_rows = rows.into_iter().map(at).collect();
            f.evidence_at = stamps.next().unwrap_or_default();
            raw.push(f);
        }
        active.extend(p.active);
        offset += p.rows;
    }
    Ok(super::Detected { raw, active })
}

/// The client's side: the shards' learning states merged into a baseline.
pub fn gather_baseline(parts: Vec<(usize, Vec<u8>)>, files: Vec<String>) -> Result<Baseline> {
    let mut all = State::default();
    for (_, bytes) in parts {
        all.merge(State::from_bytes(&bytes)?)?;
    }
    let mut b = all.finish()?;
    b.source.files = files;
    Ok(b)
}

/// Finalizes raw findings gathered from the shards ([`detect::finish`]), given the whole input's
/// statistics (who reached which shared peer).
pub fn finish(
    raw: Vec<Finding>,
    (baseline, geo, nets, config): (
        &Baseline,
        &flowhound_geo::GeoStack,
        &InternalNets,
        &crate::config::Config,
    ),
    globals: &crate::detect::globals::TestGlobals,
) -> Result<Vec<Finding>> {
    let (flows, none) = (
        Flows::default(),
        RecordBatch::new_empty(crate::schema::flow_schema()),
    );
    let ctx = DetectCtx::new(
        std::slice::from_ref(&none),
        &flows,
        baseline,
        geo,
        nets,
        config,
    )
    .with_globals(globals);
    detect::finish(raw, &ctx, &config.analysis.detectors)
}
