//! Routing a test input into host shards on disk, then detecting shard by shard.

use super::columns::Gather;
use super::memory::{flows_per_shard, format_size, limit_for, release_free};
use super::route::{shard_file, shard_of, Routed, Router, ROW_BITS};
use crate::baseline::Baseline;
use crate::config::Config;
use crate::detect::botnet::PairFilter;
use crate::detect::flows::Flows;
use crate::detect::globals::TestGlobals;
use crate::detect::proxied_cnc;
use crate::detect::{self, DetectCtx};
use crate::error::{FlowError, Result};
use crate::findings::Finding;
use crate::ingest::{self, IngestReport, Plan, ReadOptions};
use crate::net::InternalNets;
use datafusion::arrow::array::{AsArray, BooleanArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{
    concat_batches, filter_record_batch, sort_to_indices, take_record_batch,
};
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use flowhound_geo::GeoStack;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A test input routed into host shards in a temporary directory (removed when this is dropped).
pub struct Sharded {
    pub(super) dir: tempfile::TempDir,
    /// Number of host shards (groups of buckets); the internal-pairs shard has index `shards`.
    pub shards: usize,
    /// Buckets routed (`hash(owner) % buckets`); bucket `buckets` is the internal-pairs bucket.
    buckets: usize,
    /// The buckets of each shard.
    pub(super) groups: Vec<Vec<usize>>,
    /// Rows per bucket.
    pub(super) bucket_rows: Vec<u64>,
    /// The shard of each bucket.
    group_of: Vec<usize>,
    workers: usize,
    /// First global row of each work unit.
    unit_offsets: BTreeMap<usize, u64>,
    /// Rows per shard (a flow between two shards counts in both), the internal-pairs shard last.
    pub shard_rows: Vec<u64>,
    /// Whole-input statistics for the detectors (and the input's time span).
    pub globals: TestGlobals,
    /// Flows per UTC day they start in.
    pub day_flows: BTreeMap<i64, u64>,
    /// What reading the input reported.
    pub report: IngestReport,
}

/// What detection needs besides the flows.
pub struct Inputs<'a> {
    /// The baseline.
    pub baseline: &'a Baseline,
    /// Geo/ASN lookups.
    pub geo: &'a GeoStack,
    /// Internal networks.
    pub nets: &'a InternalNets,
    /// All settings (`[analysis] detectors` are run).
    pub config: &'a Config,
    /// Memory one shard may use.
    pub limit_bytes: u64,
    /// Stops between detectors and shards once set.
    pub cancel: Option<&'a AtomicBool>,
}

/// The outcome of sharded detection.
#[derive(Debug, Default)]
pub struct Detected {
    /// Finalized, ranked findings (as [`detect::run`] returns them).
    pub findings: Vec<Finding>,
    /// `(window start µs, internal source)` pairs with at least one flow, for `--verdicts`.
    pub active: BTreeSet<(i64, u128)>,
}

/// How to route.
#[derive(Debug, Clone, Copy)]
pub struct RouteOptions {
    /// Host shards.
    pub shards: usize,
    /// Window of the per (host, window) sums: the baseline's.
    pub window_secs: u64,
    /// Fill the internal-pairs shard (needed when a detector that judges the internal graph as a
    /// whole runs, [`crate::detect::Detector::internal_pairs_only`]).
    pub internal_pairs: bool,
    /// Memory one shard may use: shards are added until each fits (`None`: exactly `shards`).
    pub limit_bytes: Option<u64>,
}

impl RouteOptions {
    /// Options for running `config`'s detectors against a baseline of `window_secs` windows.
    pub fn new(shards: usize, window_secs: u64, config: &Config) -> RouteOptions {
        let internal_pairs = config
            .analysis
            .detectors
            .iter()
            .any(|n| detect::find(n).is_some_and(|d| d.internal_pairs_only()));
        RouteOptions {
            shards,
            window_secs,
            internal_pairs,
            limit_bytes: None,
        }
    }
}

/// Routes `plan` into host shards in `dir` (removed when the result is dropped).
pub fn route(
    plan: &Plan,
    opts: &ReadOptions,
    nets: &InternalNets,
    ro: RouteOptions,
    dir: tempfile::TempDir,
) -> Result<Sharded> {
    let (buckets, window_secs) = (buckets_for(ro.shards), ro.window_secs);
    let next = AtomicUsize::new(0);
    let path = dir.path().to_path_buf();
    let (sinks, report) = ingest::scan(plan, opts, || {
        let worker = next.fetch_add(1, Ordering::SeqCst);
        Router::new(
            &path,
            nets,
            (buckets, window_secs, ro.internal_pairs),
            worker,
        )
    })?;
    let workers = next.load(Ordering::SeqCst);
    let mut all = Routed {
        shard_rows: vec![0; buckets + 1],
        ..Default::default()
    };
    for s in sinks {
        let r = s.close()?;
        all.unit_rows.extend(r.unit_rows);
        for (a, b) in all.shard_rows.iter_mut().zip(r.shard_rows) {
            *a += b;
        }
        all.globals.merge(r.globals);
        all.cells.merge(r.cells);
        for (d, n) in r.day_flows {
            *all.day_flows.entry(d).or_default() += n;
        }
    }
    let mut next_row = 0;
    let unit_offsets = all
        .unit_rows
        .iter()
        .map(|(u, n)| {
            let first = next_row;
            next_row += n;
            (*u, first)
        })
        .collect();
    all.globals.count_hosts();
    super::memory::release_free();
    // what is already held (the baseline, the whole-input statistics) is not available to a shard
    let held = super::memory::resident_bytes().unwrap_or(0);
    let capacity = ro
        .limit_bytes
        .map(|l| flows_per_shard(l.saturating_sub(held)));
    let groups = pack(&all.shard_rows[..buckets], ro.shards, capacity);
    let mut group_of = vec![0; buckets];
    for (g, members) in groups.iter().enumerate() {
        for b in members {
            group_of[*b] = g;
        }
    }
    let mut shard_rows: Vec<u64> = groups
        .iter()
        .map(|m| m.iter().map(|b| all.shard_rows[*b]).sum())
        .collect();
    shard_rows.push(all.shard_rows[buckets]);
    Ok(Sharded {
        dir,
        shards: groups.len(),
        buckets,
        groups,
        bucket_rows: all.shard_rows[..buckets].to_vec(),
        group_of,
        workers,
        unit_offsets,
        shard_rows,
        day_flows: all.day_flows,
        globals: TestGlobals {
            host_windows: Some(all.cells.finish(window_secs)),
            ..all.globals
        },
        report,
    })
}

/// Buckets routed for `shards` shards: 8 per shard (between 8 and 512), so that shards can be made of
/// buckets of about equal total size although hosts differ much in traffic.
fn buckets_for(shards: usize) -> usize {
    (shards.max(1) * 8).clamp(8, 512)
}

/// Groups buckets of `rows` into shards: at least `min` (when there are that many non-empty buckets),
/// more while the largest exceeds `capacity`, largest bucket first into the least loaded shard.
/// Empty buckets join no shard (they hold no host).
pub fn pack(rows: &[u64], min: usize, capacity: Option<u64>) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..rows.len()).filter(|b| rows[*b] > 0).collect();
    order.sort_by_key(|b| (std::cmp::Reverse(rows[*b]), *b));
    let mut n = min.clamp(1, order.len().max(1));
    loop {
        let mut bins: Vec<(u64, Vec<usize>)> = vec![(0, Vec::new()); n];
        for b in &order {
            let least = (0..n).min_by_key(|i| (bins[*i].0, *i)).unwrap_or(0);
            bins[least].0 += rows[*b];
            bins[least].1.push(*b);
        }
        let largest = bins.iter().map(|b| b.0).max().unwrap_or(0);
        if capacity.is_none_or(|c| largest <= c) || n >= order.len() {
            return bins
                .into_iter()
                .map(|b| b.1)
                .filter(|m| !m.is_empty())
                .collect();
        }
        n += 1;
    }
}

/// A fresh spill directory `flowhound-shards-*` under `base` (default: the system temp directory).
pub fn spill_dir(base: Option<&Path>) -> Result<tempfile::TempDir> {
    let base = base.map_or_else(std::env::temp_dir, Path::to_path_buf);
    tempfile::Builder::new()
        .prefix("flowhound-shards-")
        .tempdir_in(&base)
        .map_err(|e| FlowError::io(&base, e))
}

impl Sharded {
    /// The temporary directory holding the shards.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The shard of internal host (or owner address) `h`.
    pub(super) fn shard_of_host(&self, h: u128) -> usize {
        self.group_of[shard_of(h, self.buckets)]
    }

    /// The shard of a flow: its owner's ([`super::route::owner`]).
    fn shard_of_flow(&self, src: u128, dst: u128, nets: &InternalNets) -> usize {
        self.shard_of_host(crate::baseline::owner(src, dst, nets))
    }

    /// The global input row of a routed key.
    fn global_row(&self, key: u64) -> u64 {
        let unit = (key >> ROW_BITS) as usize;
        self.unit_offsets.get(&unit).copied().unwrap_or(0) + (key & ((1 << ROW_BITS) - 1))
    }

    /// Shard `s` as columns in input order, and the key of every row ([`Gather`]: the shard is never
    /// held as batches).
    pub(super) fn load(&self, s: usize) -> Result<(Flows, Vec<u64>)> {
        self.load_buckets(&self.buckets_of(s), self.shard_rows[s])
    }

    /// The buckets of shard `s` (the internal-pairs bucket for the internal-pairs shard).
    fn buckets_of(&self, s: usize) -> Vec<usize> {
        match self.groups.get(s) {
            Some(g) => g.clone(),
            None => vec![self.buckets],
        }
    }

    /// The flows of `buckets` (holding `rows` rows) as columns in input order, and their keys.
    pub(super) fn load_buckets(&self, buckets: &[usize], rows: u64) -> Result<(Flows, Vec<u64>)> {
        let mut g = Gather::new(rows as usize);
        self.each_bucket_batch(buckets, |b| g.push(&b))?;
        g.finish()
    }

    /// Calls `f` with every stored batch of shard `s` (keyed rows, in no particular order).
    fn each_batch(&self, s: usize, f: impl FnMut(RecordBatch) -> Result<()>) -> Result<()> {
        self.each_bucket_batch(&self.buckets_of(s), f)
    }

    /// [`Sharded::each_batch`] over `buckets`.
    fn each_bucket_batch(
        &self,
        buckets: &[usize],
        mut f: impl FnMut(RecordBatch) -> Result<()>,
    ) -> Result<()> {
        for (b, w) in buckets
            .iter()
            .flat_map(|b| (0..self.workers).map(move |w| (*b, w)))
        {
            let path = shard_file(self.dir(), b, w);
            if !path.exists() {
                continue;
            }
            let file = std::fs::File::open(&path).map_err(|e| FlowError::io(&path, e))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .and_then(|b| b.with_batch_size(1 << 16).build())
                .map_err(|e| FlowError::Internal(format!("{}: {e}", path.display())))?;
            for b in reader {
                f(b?)?;
            }
        }
        Ok(())
    }

    /// The internal-pairs shard, keeping only the flows `botnet` can use ([`PairFilter`], two
    /// streaming passes), so that it is never held whole.
    ///
    /// `upstream` holds the relays' upstream connections `proxied_cnc` judges, collected from the
    /// host shards ([`proxied_cnc::upstream_of`]): they join the shard, with the client connections to
    /// the relays that may carry them ([`proxied_cnc::ClientFilter`]).
    fn load_pairs(&self, inp: &Inputs, upstream: (Flows, Vec<u64>)) -> Result<(Flows, Vec<u64>)> {
        let empty = Flows::default();
        let ctx = context(&empty, inp);
        let mut filter = PairFilter::new(&ctx)?;
        let all: Vec<usize> = (0..upstream.0.len()).collect();
        let relayed =
            proxied_cnc::ClientFilter::new(&ctx, &proxied_cnc::config_of(&ctx)?, &upstream.0, &all);
        let s = self.shards;
        self.each_batch(s, |b| {
            let f = Flows::from_batches(std::slice::from_ref(&b))?;
            for i in 0..f.len() {
                filter.note(&ctx, (f.src[i], f.dst[i], f.proto[i], f.dst_port[i]));
            }
            Ok(())
        })?;
        let mut parts = Vec::new();
        self.each_batch(s, |b| {
            let f = Flows::from_batches(std::slice::from_ref(&b))?;
            let keep: BooleanArray = (0..f.len())
                .map(|i| {
                    let pair = (f.src[i], f.dst[i], f.proto[i], f.dst_port[i]);
                    Some(filter.keeps(&ctx, pair) || relayed.keeps(&f, i, inp.nets))
                })
                .collect();
            parts.push(filter_record_batch(&b, &keep)?);
            Ok(())
        })?;
        let rows: u64 = parts.iter().map(|p| p.num_rows() as u64).sum::<u64>() + all.len() as u64;
        self.check_rows(
            "detection (botnet's internal pairs)",
            s,
            rows,
            inp.limit_bytes,
        )?;
        let mut g = Gather::new(rows as usize);
        for p in parts {
            g.push(&p)?;
        }
        g.push_flows(upstream.0, &upstream.1);
        g.finish()
    }

    /// Runs `[analysis] detectors` shard by shard and ranks the findings; `verdict_window_us` also
    /// collects the active (window, source) pairs for `--verdicts`. `progress(done, total)` is called
    /// after each shard.
    pub fn detect(
        &self,
        inp: &Inputs,
        verdict_window_us: Option<i64>,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Detected> {
        let names = &inp.config.analysis.detectors;
        let (pairs, hosts): (Vec<String>, Vec<String>) = names
            .iter()
            .cloned()
            .partition(|n| detect::find(n).is_some_and(|d| d.internal_pairs_only()));
        let relayed = pairs.iter().any(|n| n == "proxied_cnc");
        let mut out = Detected::default();
        let (mut raw, mut upstream) = (Vec::new(), Gather::new(0));
        for s in 0..=self.shards {
            let names = if s == self.shards { &pairs } else { &hosts };
            let wanted = !names.is_empty() || (relayed && s < self.shards);
            if self.shard_rows[s] > 0 && wanted {
                let (flows, keys) = if s == self.shards {
                    let up = std::mem::replace(&mut upstream, Gather::new(0)).finish()?;
                    self.load_pairs(inp, up)?
                } else {
                    self.check_fits("detection", s, inp.limit_bytes)?;
                    self.load(s)?
                };
                let ctx = context(&flows, inp).with_globals(&self.globals);
                if relayed && s < self.shards {
                    let rows = proxied_cnc::upstream_of(&ctx)?;
                    let k: Vec<u64> = rows.iter().map(|&i| keys[i]).collect();
                    upstream.push_flows(flows.select(&rows), &k);
                }
                let found = detect::run_raw(&ctx, names)?;
                raw.extend(self.owned(s, found, &flows, &keys, inp.nets));
                if let (Some(w), true) = (verdict_window_us, s < self.shards) {
                    out.active.extend(self.active(s, &flows, inp.nets, w));
                }
                drop((flows, keys));
                release_free();
            }
            progress(s + 1, self.shards + 1);
        }
        let empty = Flows::default();
        let ctx = context(&empty, inp).with_globals(&self.globals);
        out.findings = detect::finish(raw, &ctx, names)?;
        Ok(out)
    }

    /// Fails, naming the phase and a limit that works, when shard `s` cannot fit under `limit`.
    fn check_fits(&self, phase: &str, s: usize, limit: u64) -> Result<()> {
        self.check_rows(phase, s, self.shard_rows[s], limit)
    }

    /// [`Sharded::check_fits`] for `rows` flows of shard `s`.
    fn check_rows(&self, phase: &str, s: usize, rows: u64, limit: u64) -> Result<()> {
        if rows <= flows_per_shard(limit) {
            return Ok(());
        }
        Err(FlowError::Config(format!(
            "{phase}: host shard {s} of {} holds {rows} flows (its hosts' flows cannot be split), which needs about {} but the memory limit is {}; use --memory-limit {} or more",
            self.shards,
            format_size(limit_for(rows)),
            format_size(limit),
            format_size(limit_for(rows).next_multiple_of(1 << 30)),
        )))
    }

    /// The findings of shard `s` that it owns ([`Sharded::owns`]), with their rows turned into input
    /// rows.
    fn owned(
        &self,
        s: usize,
        raw: Vec<Finding>,
        flows: &Flows,
        keys: &[u64],
        nets: &InternalNets,
    ) -> Vec<Finding> {
        raw.into_iter()
            .filter(|f| self.owns(s, f, flows, nets))
            .map(|mut f| {
                for r in f.flow_rows.iter_mut() {
                    let g = self.global_row(keys[*r as usize]);
                    *r = u32::try_from(g).unwrap_or(u32::MAX);
                }
                f
            })
            .collect()
    }

    /// Whether shard `s` owns a finding it produced: the internal-pairs shard owns all its findings; a
    /// host shard those whose first flow it owns, and those without flows in this shard by their first
    /// host (the volume detectors read the whole input's host windows, so every shard judges every
    /// host's windows; only the host's own shard, which holds its flows, keeps the finding).
    fn owns(&self, s: usize, f: &Finding, flows: &Flows, nets: &InternalNets) -> bool {
        if s == self.shards {
            return true;
        }
        if let Some(r) = f.flow_rows.first().map(|r| *r as usize) {
            return self.shard_of_flow(flows.src[r], flows.dst[r], nets) == s;
        }
        match f.hosts.first().and_then(|h| crate::ip::parse(h)) {
            Some(h) => self.shard_of_host(h) == s,
            None => true,
        }
    }

    /// Active (window, internal source) pairs of the sources shard `s` owns.
    fn active(
        &self,
        s: usize,
        flows: &Flows,
        nets: &InternalNets,
        w: i64,
    ) -> BTreeSet<(i64, u128)> {
        crate::verdicts::active_windows(&flows.ts, &flows.src, w, |src| {
            nets.contains(src) && self.shard_of_host(src) == s
        })
    }

    /// The flows of input rows `rows`, in input order, with their input row numbers (rows of the
    /// internal-pairs shard are taken from their host shard).
    pub fn rows(
        &self,
        rows: &BTreeSet<u32>,
        nets: &InternalNets,
    ) -> Result<(RecordBatch, Vec<u32>)> {
        let (mut parts, mut globals) = (Vec::new(), Vec::new());
        let shards: Vec<usize> = (0..self.shards)
            .filter(|s| self.shard_rows[*s] > 0)
            .collect();
        for s in shards {
            // batch by batch: only the wanted rows are held
            self.each_batch(s, |batch| {
                let flows = Flows::from_batches(std::slice::from_ref(&batch))?;
                let key_col = batch.num_columns() - 1;
                let keys = batch.column(key_col).as_primitive::<UInt64Type>();
                let mut picked = Vec::new();
                for (i, k) in keys.values().iter().enumerate() {
                    let g = u32::try_from(self.global_row(*k)).unwrap_or(u32::MAX);
                    let first = self.shard_of_flow(flows.src[i], flows.dst[i], nets) == s;
                    if first && rows.contains(&g) {
                        picked.push(i as u32);
                        globals.push(g);
                    }
                }
                if !picked.is_empty() {
                    let part = take_record_batch(&batch, &UInt32Array::from(picked))?;
                    parts.push(part.project(&(0..key_col).collect::<Vec<_>>())?);
                }
                Ok(())
            })?;
        }
        let all = concat_batches(&crate::schema::flow_schema(), &parts)?;
        let order = sort_to_indices(&UInt32Array::from(globals.clone()), None, None)?;
        let sorted = take_record_batch(&all, &order)?;
        let globals = order
            .values()
            .iter()
            .map(|i| globals[*i as usize])
            .collect();
        Ok((sorted, globals))
    }
}

/// The detection context of a shard's columns. No detector reads the context's record batches (only
/// its columns), so a shard is not held as batches too.
fn context<'a>(flows: &'a Flows, inp: &'a Inputs) -> DetectCtx<'a> {
    let ctx = DetectCtx::new(&[], flows, inp.baseline, inp.geo, inp.nets, inp.config);
    match inp.cancel {
        Some(c) => ctx.cancellable(c),
        None => ctx,
    }
}

#[cfg(test)]
mod tests {
    use super::pack;

    /// Bucket rows, minimum shards, capacity -> the shards' total rows.
    type Case<'a> = (&'a [u64], usize, Option<u64>, Vec<u64>);

    #[test]
    fn pack_table() {
        let cases: [Case; 5] = [
            (&[5, 0, 3, 2], 2, None, vec![5, 5]),
            (&[5, 0, 3, 2], 1, Some(6), vec![5, 5]),
            (&[9, 1, 1, 1], 2, Some(10), vec![9, 3]),
            // one bucket beyond the capacity cannot be split: one shard per bucket, the caller fails
            (&[20, 1], 1, Some(10), vec![20, 1]),
            (&[0, 0], 3, None, vec![]),
        ];
        for (rows, min, cap, want) in cases {
            let got: Vec<u64> = pack(rows, min, cap)
                .iter()
                .map(|g| g.iter().map(|b| rows[*b]).sum())
                .collect();
            assert_eq!(got, want, "{rows:?} min {min} cap {cap:?}");
        }
    }
}
