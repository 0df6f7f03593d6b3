//! A shard's flows as columns in input order, gathered batch by batch as the shard files are read:
//! no batch of the whole shard is ever held, only its columns ([`Flows`], about 75 bytes a flow) and
//! the routing keys, then one reordered column at a time.

use super::route::KEY;
use crate::detect::flows::Flows;
use crate::error::{FlowError, Result};
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::UInt64Type;

/// Columns and keys of keyed batches, in the order they come.
pub struct Gather {
    flows: Flows,
    keys: Vec<u64>,
    capacity: usize,
}

impl Gather {
    /// A gatherer for about `rows` rows (reserved exactly, so no column grows to twice its need).
    pub fn new(rows: usize) -> Gather {
        Gather {
            flows: Flows::with_capacity(rows),
            keys: Vec::with_capacity(rows),
            capacity: rows,
        }
    }

    /// Adds the rows of a keyed batch (a shard file's batch, [`KEY`] its last column).
    pub fn push(&mut self, b: &RecordBatch) -> Result<()> {
        let part = Flows::from_batches(std::slice::from_ref(b))?;
        let key = b
            .column_by_name(KEY)
            .and_then(|c| c.as_primitive_opt::<UInt64Type>())
            .ok_or_else(|| FlowError::Internal(format!("shard batch without column {KEY}")))?;
        self.push_flows(part, key.values());
        Ok(())
    }

    /// Adds flows already in columns, with their keys.
    pub fn push_flows(&mut self, part: Flows, keys: &[u64]) {
        self.keys.extend_from_slice(keys);
        let (before, n, cap) = (self.flows.len(), part.len(), self.capacity);
        let f = &mut self.flows;
        f.ts.extend(part.ts);
        f.src.extend(part.src);
        f.dst.extend(part.dst);
        f.proto.extend(part.proto);
        f.dst_port.extend(part.dst_port);
        f.up.extend(part.up);
        f.down.extend(part.down);
        // as `Flows::from_batches` over all the batches at once: empty when no row carries a value
        optional(&mut f.duration, part.duration, (before, n, cap), f64::NAN);
        optional(&mut f.packets, part.packets, (before, n, cap), 0);
    }

    /// The columns in key (input) order, and the keys.
    pub fn finish(self) -> Result<(Flows, Vec<u64>)> {
        let Gather {
            mut flows, keys, ..
        } = self;
        if keys.is_sorted() {
            return Ok((flows, keys));
        }
        let n = u32::try_from(keys.len())
            .map_err(|_| FlowError::Internal("a shard holds more than 2^32 flows".into()))?;
        let mut order: Vec<u32> = (0..n).collect();
        order.sort_unstable_by_key(|i| keys[*i as usize]);
        let keys = reorder(&keys, &order);
        let f = &mut flows;
        f.ts = reorder(&f.ts, &order);
        f.src = reorder(&f.src, &order);
        f.dst = reorder(&f.dst, &order);
        f.proto = reorder(&f.proto, &order);
        f.dst_port = reorder(&f.dst_port, &order);
        f.up = reorder(&f.up, &order);
        f.down = reorder(&f.down, &order);
        f.duration = reorder(&f.duration, &order);
        f.packets = reorder(&f.packets, &order);
        Ok((flows, keys))
    }
}

/// Appends an optional column's part (empty: no row of the part has a value), keeping the whole
/// empty until some row has one, then filling the rows before with `missing`.
fn optional<T: Copy>(
    all: &mut Vec<T>,
    part: Vec<T>,
    (before, n, cap): (usize, usize, usize),
    missing: T,
) {
    if part.is_empty() {
        if !all.is_empty() {
            all.extend(std::iter::repeat_n(missing, n));
        }
        return;
    }
    if all.is_empty() {
        all.reserve_exact(cap.max(before + n));
        all.extend(std::iter::repeat_n(missing, before));
    }
    all.extend(part);
}

/// `v` in the order `order` (empty stays empty).
fn reorder<T: Copy>(v: &[T], order: &[u32]) -> Vec<T> {
    if v.is_empty() {
        return Vec::new();
    }
    order.iter().map(|i| v[*i as usize]).collect()
}
