//! The test (or normal) flows as plain columns, extracted once from the canonical record batches, so
//! that detectors and the baseline run tight loops over integers instead of Arrow arrays.

use crate::error::{FlowError, Result};
use crate::net::InternalNets;
use crate::schema::{col, Proto};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{
    Decimal128Type, Float64Type, TimestampMicrosecondType, UInt16Type, UInt64Type,
};
use datafusion::arrow::record_batch::RecordBatch;

/// Flows as columns (row `i` of every vector is flow `i`, in input order).
#[derive(Debug, Clone, Default)]
pub struct Flows {
    /// Start time, microseconds since the epoch (UTC).
    pub ts: Vec<i64>,
    /// Source address (integer form).
    pub src: Vec<u128>,
    /// Destination address.
    pub dst: Vec<u128>,
    /// Protocol class.
    pub proto: Vec<Proto>,
    /// Destination port.
    pub dst_port: Vec<u16>,
    /// Bytes sent by the source.
    pub up: Vec<u64>,
    /// Bytes sent by the destination.
    pub down: Vec<u64>,
    /// Duration in seconds, NaN when unknown; empty when no input row carries one (see
    /// [`Flows::duration_secs`]).
    pub duration: Vec<f64>,
    /// Packets in both directions, 0 when unknown; empty when no input row carries them (see
    /// [`Flows::packets`]).
    pub packets: Vec<u64>,
    /// Which end of each flow is internal, worked out once for the run's networks (see
    /// [`Flows::host_view`]); filled at the first call.
    pub sides: Sides,
}

/// Per flow: [`SRC_INTERNAL`], [`DST_INTERNAL`] (source external) or 0, for the networks it was
/// computed with. Every detector asks this of every flow; the networks are the same all run long.
#[derive(Debug, Clone, Default)]
pub struct Sides(std::sync::OnceLock<(InternalNets, Vec<u8>)>);

/// The source is internal.
const SRC_INTERNAL: u8 = 1;
/// The source is not, the destination is.
const DST_INTERNAL: u8 = 2;

impl Sides {
    /// The sides of `f`'s flows for `nets`; None when they were computed for other networks or for
    /// other flows (columns changed since).
    fn of<'a>(&'a self, f: &Flows, nets: &InternalNets) -> Option<&'a [u8]> {
        let (n, v) = self.0.get_or_init(|| (nets.clone(), side_column(f, nets)));
        (n == nets && v.len() == f.src.len()).then_some(v.as_slice())
    }
}

fn side_column(f: &Flows, nets: &InternalNets) -> Vec<u8> {
    side_column_in(f, nets, f.src.len() >= 2 * PARALLEL_MIN_ROWS)
}

/// The side column, computed in two halves on two threads when `parallel`.
pub(crate) fn side_column_in(f: &Flows, nets: &InternalNets, parallel: bool) -> Vec<u8> {
    let sides = |src: &[u128], dst: &[u128]| -> Vec<u8> {
        src.iter()
            .zip(dst)
            .map(|(s, d)| side_of(*s, *d, nets))
            .collect()
    };
    let half = f.src.len().min(f.dst.len()) / 2;
    let (a, b) = both(
        parallel,
        || sides(&f.src[..half], &f.dst[..half]),
        || sides(&f.src[half..], &f.dst[half..]),
    );
    [a, b].concat()
}

/// Which end of a flow is internal: the source when it is (so internal-to-internal flows belong to
/// the client), else the destination when it is, else neither (0).
fn side_of(src: u128, dst: u128, nets: &InternalNets) -> u8 {
    if nets.contains(src) {
        SRC_INTERNAL
    } else if nets.contains(dst) {
        DST_INTERNAL
    } else {
        0
    }
}

/// The most bytes (each way) or packets one flow is taken to carry: 16 TiB. Larger counts are damaged
/// input (a flipped high bit, a wrapped counter): they are taken at this value, so that the sums of
/// up to a million such flows cannot overflow a `u64` in the detectors and the baseline.
pub const MAX_FLOW_COUNT: u64 = 1 << 44;

/// A byte or packet count capped at [`MAX_FLOW_COUNT`].
pub fn capped(v: u64) -> u64 {
    v.min(MAX_FLOW_COUNT)
}

pub(crate) fn column<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a dyn Array> {
    b.column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| FlowError::Internal(format!("flow batch without column '{name}'")))
}

pub(crate) fn typed<'a, T: datafusion::arrow::datatypes::ArrowPrimitiveType>(
    b: &'a RecordBatch,
    name: &str,
) -> Result<&'a datafusion::arrow::array::PrimitiveArray<T>> {
    column(b, name)?
        .as_primitive_opt::<T>()
        .ok_or_else(|| FlowError::Internal(format!("flow column '{name}' has an unexpected type")))
}

/// Rows from which the columns are extracted on two threads.
const PARALLEL_MIN_ROWS: usize = 100_000;

/// Runs `a` and `b`, on two threads when `parallel`.
pub(crate) fn both<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B,
) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let h = s.spawn(a);
        let rb = b();
        match h.join() {
            Ok(ra) => (ra, rb),
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

/// The columns of `batches`: the addresses and times on one thread, the other columns on another
/// when `parallel`.
pub(crate) fn gather(batches: &[RecordBatch], parallel: bool) -> Result<Flows> {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let (ends, rest) = both(parallel, || ends(batches, rows), || rest(batches, rows));
    let ((ts, src, dst), mut f) = (ends?, rest?);
    (f.ts, f.src, f.dst) = (ts, src, dst);
    Ok(f)
}

/// Start times, source and destination addresses of every row.
fn ends(batches: &[RecordBatch], rows: usize) -> Result<(Vec<i64>, Vec<u128>, Vec<u128>)> {
    let (mut ts, mut src, mut dst) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    for b in batches {
        ts.extend_from_slice(typed::<TimestampMicrosecondType>(b, col::TS)?.values());
        let ip = |name| {
            Ok::<_, FlowError>(
                typed::<Decimal128Type>(b, name)?
                    .values()
                    .iter()
                    .map(|v| *v as u128),
            )
        };
        src.extend(ip(col::SRC_IP)?);
        dst.extend(ip(col::DST_IP)?);
    }
    Ok((ts, src, dst))
}

/// Every column but the start times and addresses.
fn rest(batches: &[RecordBatch], rows: usize) -> Result<Flows> {
    let mut f = Flows {
        proto: Vec::with_capacity(rows),
        dst_port: Vec::with_capacity(rows),
        up: Vec::with_capacity(rows),
        down: Vec::with_capacity(rows),
        ..Default::default()
    };
    for b in batches {
        f.dst_port
            .extend_from_slice(typed::<UInt16Type>(b, col::DST_PORT)?.values());
        let bytes = |name| {
            Ok::<_, FlowError>(
                typed::<UInt64Type>(b, name)?
                    .values()
                    .iter()
                    .map(|v| capped(*v)),
            )
        };
        f.up.extend(bytes(col::UP_BYTES)?);
        f.down.extend(bytes(col::DOWN_BYTES)?);
        let proto = column(b, col::PROTO)?
            .as_string_opt::<i32>()
            .ok_or_else(|| FlowError::Internal("flow column 'proto' is not Utf8".into()))?;
        f.proto
            .extend(proto.iter().map(|p| p.map_or(Proto::Other, Proto::parse)));
    }
    f.duration = optional_column::<Float64Type>(batches, col::DURATION, f64::NAN)?;
    f.packets = optional_column::<UInt64Type>(batches, col::PACKETS, 0)?;
    f.packets.iter_mut().for_each(|p| *p = capped(*p));
    Ok(f)
}

impl Flows {
    /// Extracts the columns of canonical flow batches.
    pub fn from_batches(batches: &[RecordBatch]) -> Result<Flows> {
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        gather(batches, rows >= PARALLEL_MIN_ROWS)
    }

    /// The duration of flow `i` in seconds, when the input carries it.
    pub fn duration_secs(&self, i: usize) -> Option<f64> {
        self.duration.get(i).copied().filter(|d| d.is_finite())
    }

    /// The packets (both directions) of flow `i`, when the input carries them.
    pub fn packets(&self, i: usize) -> Option<u64> {
        self.packets.get(i).copied().filter(|p| *p > 0)
    }

    /// Empty columns with room for `n` flows (the optional columns stay empty until used).
    pub(crate) fn with_capacity(n: usize) -> Flows {
        Flows {
            ts: Vec::with_capacity(n),
            src: Vec::with_capacity(n),
            dst: Vec::with_capacity(n),
            proto: Vec::with_capacity(n),
            dst_port: Vec::with_capacity(n),
            up: Vec::with_capacity(n),
            down: Vec::with_capacity(n),
            duration: Vec::new(),
            packets: Vec::new(),
            sides: Sides::default(),
        }
    }

    /// The flows of `rows`, in that order (an optional column stays empty when it is).
    pub fn select(&self, rows: &[usize]) -> Flows {
        Flows {
            ts: pick(&self.ts, rows),
            src: pick(&self.src, rows),
            dst: pick(&self.dst, rows),
            proto: pick(&self.proto, rows),
            dst_port: pick(&self.dst_port, rows),
            up: pick(&self.up, rows),
            down: pick(&self.down, rows),
            duration: pick(&self.duration, rows),
            packets: pick(&self.packets, rows),
            sides: Sides::default(),
        }
    }

    /// Flows from rows (tests).
    #[cfg(test)]
    pub(crate) fn from_rows(rows: &[TestRow]) -> Flows {
        let mut f = Flows::with_capacity(rows.len());
        for &(ts, src, dst, proto, port, up, down, dur, pkts) in rows {
            f.ts.push(ts);
            f.src.push(src);
            f.dst.push(dst);
            f.proto.push(proto);
            f.dst_port.push(port);
            f.up.push(up);
            f.down.push(down);
            f.duration.push(dur);
            f.packets.push(pkts);
        }
        f
    }

    /// Number of flows.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// True when there is no flow.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// The internal host a flow belongs to, seen from that host (see [`HostView`]).
    pub fn host_view(&self, i: usize, nets: &InternalNets) -> Option<HostView> {
        let (src, dst, up, down) = (self.src[i], self.dst[i], self.up[i], self.down[i]);
        let side = match self.sides.of(self, nets) {
            Some(sides) => sides[i],
            None => side_of(src, dst, nets),
        };
        view(side, src, dst, up, down)
    }
}

/// `v`'s values at `rows` (empty stays empty).
fn pick<T: Copy>(v: &[T], rows: &[usize]) -> Vec<T> {
    if v.is_empty() {
        return Vec::new();
    }
    rows.iter().map(|&i| v[i]).collect()
}

/// A nullable column of every batch as one vector (`missing` for nulls and for batches without the
/// column), or an empty vector when no row has a value: inputs without durations or packet counts
/// (the analysts' Parquet) cost nothing.
fn optional_column<T: datafusion::arrow::datatypes::ArrowPrimitiveType>(
    batches: &[RecordBatch],
    name: &str,
    missing: T::Native,
) -> Result<Vec<T::Native>> {
    let present = |b: &RecordBatch| {
        b.column_by_name(name)
            .is_some_and(|c| c.null_count() < c.len())
    };
    if !batches.iter().any(present) {
        return Ok(Vec::new());
    }
    let mut out = Vec::with_capacity(batches.iter().map(|b| b.num_rows()).sum());
    for b in batches {
        if b.column_by_name(name).is_none() {
            out.extend(std::iter::repeat_n(missing, b.num_rows()));
            continue;
        }
        out.extend(typed::<T>(b, name)?.iter().map(|v| v.unwrap_or(missing)));
    }
    Ok(out)
}

/// `(ts µs, src, dst, proto, dst_port, up, down, duration s, packets)`: one flow of a test.
#[cfg(test)]
pub(crate) type TestRow = (i64, u128, u128, Proto, u16, u64, u64, f64, u64);

/// A flow seen from its internal end: which host, which peer, and what the host sent and received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostView {
    /// The internal host.
    pub host: u128,
    /// The other end.
    pub peer: u128,
    /// Bytes the host sent.
    pub sent: u64,
    /// Bytes the host received.
    pub received: u64,
    /// True when the host is the flow's source (originator).
    pub originator: bool,
}

/// Attributes a flow to its internal end: the source when it is internal (so internal-to-internal
/// flows belong to the client), else the destination when it is internal, else none.
pub fn host_view(
    src: u128,
    dst: u128,
    up: u64,
    down: u64,
    nets: &InternalNets,
) -> Option<HostView> {
    view(side_of(src, dst, nets), src, dst, up, down)
}

/// The flow seen from the end `side` names.
fn view(side: u8, src: u128, dst: u128, up: u64, down: u64) -> Option<HostView> {
    match side {
        SRC_INTERNAL => Some(HostView {
            host: src,
            peer: dst,
            sent: up,
            received: down,
            originator: true,
        }),
        DST_INTERNAL => Some(HostView {
            host: dst,
            peer: src,
            sent: down,
            received: up,
            originator: false,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::parse;

    /// The remembered sides answer as the plain test does: for the networks they were computed with,
    /// for other networks (not remembered), and after the columns grew.
    #[test]
    fn remembered_sides_agree_with_the_plain_view() {
        let a = |t: &str| parse(t).unwrap();
        let mut f = Flows {
            src: vec![a("10.0.0.1"), a("8.8.8.8"), a("8.8.8.8"), a("10.0.0.1")],
            dst: vec![a("8.8.4.4"), a("192.168.1.5"), a("1.1.1.1"), a("10.0.0.2")],
            up: vec![1, 2, 3, 4],
            down: vec![10, 20, 30, 40],
            ..Default::default()
        };
        let check = |f: &Flows, nets: &InternalNets| {
            for i in 0..f.src.len() {
                let plain = host_view(f.src[i], f.dst[i], f.up[i], f.down[i], nets);
                assert_eq!(f.host_view(i, nets), plain, "{nets:?} flow {i}");
            }
        };
        let default = InternalNets::default();
        let narrow = InternalNets::new(vec![crate::net::Cidr::parse("8.8.8.0/24").unwrap()]);
        check(&f, &default);
        check(&f, &narrow);
        assert_eq!(
            f.host_view(0, &default).map(|v| (v.host, v.sent)),
            Some((a("10.0.0.1"), 1))
        );
        assert_eq!(
            f.host_view(1, &default).map(|v| (v.host, v.sent)),
            Some((a("192.168.1.5"), 20))
        );
        assert_eq!(f.host_view(2, &default), None);
        for (col, v) in [(&mut f.src, a("1.2.3.4")), (&mut f.dst, a("10.9.9.9"))] {
            col.push(v);
        }
        f.up.push(5);
        f.down.push(50);
        check(&f, &default);
    }

    #[test]
    fn optional_columns_fill_gaps_and_stay_empty_when_absent() {
        use datafusion::arrow::array::{ArrayRef, Float64Array, UInt64Array};
        use std::sync::Arc;
        let batch = |name: &str, col: ArrayRef| RecordBatch::try_from_iter([(name, col)]).unwrap();
        let with = batch(
            col::DURATION,
            Arc::new(Float64Array::from(vec![Some(1.5), None])),
        );
        let without = batch("other", Arc::new(UInt64Array::from(vec![7])));
        let nulls = batch(
            col::DURATION,
            Arc::new(Float64Array::from(vec![None, None])),
        );
        let got = optional_column::<Float64Type>(&[with, without.clone()], col::DURATION, f64::NAN)
            .unwrap();
        assert_eq!(got.len(), 3);
        assert!(got[0] == 1.5 && got[1].is_nan() && got[2].is_nan());
        let none = optional_column::<Float64Type>(&[nulls, without], col::DURATION, 0.0).unwrap();
        assert!(none.is_empty());
        let f = Flows {
            duration: vec![2.0, f64::NAN],
            packets: vec![0, 9],
            ..Default::default()
        };
        assert_eq!((f.duration_secs(0), f.duration_secs(1)), (Some(2.0), None));
        assert_eq!(
            (f.packets(0), f.packets(1), f.packets(5)),
            (None, Some(9), None)
        );
        assert_eq!(Flows::default().duration_secs(0), None);
    }

    #[test]
    fn host_view_table() {
        let nets = InternalNets::default();
        let (a, b, x) = (
            parse("10.0.0.1").unwrap(),
            parse("10.0.0.2").unwrap(),
            parse("8.8.8.8").unwrap(),
        );
        let cases = [
            (a, x, Some((a, x, 5, 7, true))),
            (x, a, Some((a, x, 7, 5, false))),
            (a, b, Some((a, b, 5, 7, true))),
            (x, x, None),
        ];
        for (src, dst, want) in cases {
            let got = host_view(src, dst, 5, 7, &nets)
                .map(|v| (v.host, v.peer, v.sent, v.received, v.originator));
            assert_eq!(got, want);
        }
    }
}
