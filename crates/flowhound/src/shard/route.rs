//! Routing: every flow goes to one bucket, that of the internal host it is attributed to (the
//! client for a flow between two internal hosts, as `Flows::host_view` attributes it; the destination
//! when neither end is internal), written as Parquet files in the run's temporary directory with its
//! position in the input (column [`KEY`]: work unit << 40 | row within the unit).

use crate::detect::flows::Flows;
use crate::detect::globals::TestGlobals;
use crate::detect::volume::CellSums;
use crate::error::{FlowError, Result};
use crate::ingest::FlowSink;
use crate::net::InternalNets;
use crate::output::atomic::out_err;
use crate::schema::flow_schema;
use datafusion::arrow::array::{ArrayRef, UInt32Array, UInt64Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The column holding a routed flow's position in the input.
pub const KEY: &str = "fh_key";
/// Bits of [`KEY`] that hold the row within its work unit.
pub const ROW_BITS: u32 = 40;
/// Rows per Parquet row group of a shard file: bounds what a writer buffers.
const GROUP_ROWS: usize = 1 << 16;

/// The shard of an address (a fixed hash, so every run and every worker agrees).
pub fn shard_of(addr: u128, shards: usize) -> usize {
    let mut z = ((addr as u64) ^ ((addr >> 64) as u64)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) % shards.max(1) as u64) as usize
}

/// The schema of shard files: the canonical flow schema plus [`KEY`].
pub fn keyed_schema() -> SchemaRef {
    let mut fields: Vec<Field> = flow_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(KEY, DataType::UInt64, false));
    Arc::new(Schema::new(fields))
}

/// The file of `shard` written by `worker`.
pub fn shard_file(dir: &Path, shard: usize, worker: usize) -> PathBuf {
    dir.join(format!("s{shard:05}-w{worker:03}.parquet"))
}

fn props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::LZ4_RAW)
        .set_max_row_group_row_count(Some(GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::None)
        // spill files are read once: dictionary encoding costs more than it saves
        .set_dictionary_enabled(false)
        .build()
}

/// What one worker routed.
#[derive(Debug, Default)]
pub struct Routed {
    /// Rows read per work unit.
    pub unit_rows: BTreeMap<usize, u64>,
    /// Rows written per shard (a flow of two shards counts in both).
    pub shard_rows: Vec<u64>,
    /// Whole-input statistics for the detectors.
    pub globals: TestGlobals,
    /// Per (internal host, window) sums.
    pub cells: CellSums,
    /// Flows per UTC day they start in (the day a `baseline update` input stands for).
    pub day_flows: BTreeMap<i64, u64>,
}

/// A [`FlowSink`] that routes batches to shard files: `shards` host shards, plus shard number `shards`
/// holding every flow between two different internal hosts (for the detectors that judge the internal
/// graph as a whole, [`crate::detect::Detector::internal_pairs_only`]).
pub struct Router<'a> {
    dir: &'a Path,
    window_secs: u64,
    pairs: bool,
    nets: &'a InternalNets,
    worker: usize,
    schema: SchemaRef,
    writers: Vec<Option<ArrowWriter<File>>>,
    out: Routed,
    picks: Vec<Vec<u32>>,
}

impl<'a> Router<'a> {
    /// A router for `worker` into `shards` shards under `dir`, summing host windows of `window_secs`;
    /// `pairs`: also fill the internal-pairs shard.
    pub fn new(
        dir: &'a Path,
        nets: &'a InternalNets,
        (shards, window_secs, pairs): (usize, u64, bool),
        worker: usize,
    ) -> Self {
        Router {
            dir,
            window_secs,
            pairs,
            nets,
            worker,
            schema: keyed_schema(),
            writers: (0..=shards).map(|_| None).collect(),
            out: Routed {
                shard_rows: vec![0; shards + 1],
                ..Default::default()
            },
            picks: vec![Vec::new(); shards + 1],
        }
    }

    /// Closes the shard files and returns what was routed.
    pub fn close(self) -> Result<Routed> {
        for (s, w) in self.writers.into_iter().enumerate() {
            if let Some(w) = w {
                let path = shard_file(self.dir, s, self.worker);
                w.close().map_err(|e| out_err(&path, e))?;
            }
        }
        Ok(self.out)
    }

    /// Which rows of `flows` go to which bucket: their owner's ([`crate::baseline::owner`], the rule
    /// learning and detection use), plus the internal pairs.
    fn pick(&mut self, flows: &Flows) {
        let buckets = self.picks.len() - 1;
        for p in &mut self.picks {
            p.clear();
        }
        for (i, (s, d)) in flows.src.iter().zip(&flows.dst).enumerate() {
            let o = crate::baseline::owner(*s, *d, self.nets);
            self.picks[shard_of(o, buckets)].push(i as u32);
            // the owner is the source only when the source is internal
            if self.pairs && o == *s && s != d && self.nets.contains(*d) {
                self.picks[buckets].push(i as u32);
            }
        }
    }

    fn write(&mut self, shard: usize, batch: &RecordBatch) -> Result<()> {
        let path = shard_file(self.dir, shard, self.worker);
        if self.writers[shard].is_none() {
            let f = File::create(&path).map_err(|e| FlowError::io(&path, e))?;
            let w = ArrowWriter::try_new(f, self.schema.clone(), Some(props()))
                .map_err(|e| out_err(&path, e))?;
            self.writers[shard] = Some(w);
        }
        if let Some(w) = self.writers[shard].as_mut() {
            w.write(batch).map_err(|e| out_err(&path, e))?;
        }
        self.out.shard_rows[shard] += batch.num_rows() as u64;
        Ok(())
    }
}

impl FlowSink for Router<'_> {
    fn push(&mut self, unit: usize, batch: RecordBatch) -> Result<()> {
        let n = batch.num_rows() as u64;
        let base = *self.out.unit_rows.get(&unit).unwrap_or(&0);
        self.out.unit_rows.insert(unit, base + n);
        let flows = Flows::from_batches(std::slice::from_ref(&batch))?;
        self.out.globals.add(&flows, self.nets);
        self.out.cells.add(&flows, self.nets, self.window_secs);
        count_days(&mut self.out.day_flows, &flows.ts);
        self.pick(&flows);
        let keys: UInt64Array = (0..n)
            .map(|r| ((unit as u64) << ROW_BITS) | (base + r))
            .collect();
        let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
        cols.push(Arc::new(keys));
        let keyed = RecordBatch::try_new(self.schema.clone(), cols)?;
        for s in 0..self.picks.len() {
            if self.picks[s].is_empty() {
                continue;
            }
            let idx = UInt32Array::from(std::mem::take(&mut self.picks[s]));
            let part = if idx.len() == keyed.num_rows() {
                keyed.clone()
            } else {
                take_record_batch(&keyed, &idx)?
            };
            self.write(s, &part)?;
        }
        Ok(())
    }
}

/// Adds flows starting at `ts` to the counts per UTC day (runs of one day cost one lookup).
fn count_days(days: &mut BTreeMap<i64, u64>, ts: &[i64]) {
    let mut run: Option<(i64, u64)> = None;
    for t in ts {
        let d = crate::baseline::day_of(*t);
        match &mut run {
            Some((day, n)) if *day == d => *n += 1,
            _ => {
                if let Some((day, n)) = run.replace((d, 1)) {
                    *days.entry(day).or_default() += n;
                }
            }
        }
    }
    if let Some((day, n)) = run {
        *days.entry(day).or_default() += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Cidr;

    #[test]
    fn owner_table() {
        let nets = InternalNets::new(vec![Cidr::parse("10.0.0.0/8").unwrap()]);
        let a = |s: &str| crate::ip::parse(s).unwrap();
        let (int1, int2, ext) = (a("10.0.0.1"), a("10.0.0.2"), a("8.8.8.8"));
        let owner = |s, d| crate::baseline::owner(s, d, &nets);
        assert_eq!(owner(int1, ext), int1);
        assert_eq!(owner(ext, int1), int1);
        assert_eq!(owner(ext, a("1.1.1.1")), a("1.1.1.1"));
        // an internal pair belongs to the client
        assert_eq!(owner(int1, int2), int1);
        // The hash spreads a /24 over the shards.
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..256u32 {
            seen.insert(shard_of(a(&format!("10.0.0.{}", i % 256)), 8));
        }
        assert_eq!(seen.len(), 8);
    }
}
