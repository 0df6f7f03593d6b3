//! One-way records stitched into biflows. Routers export one record per direction of a connection
//! (NetFlow v5/v9, IPFIX without RFC 5103 biflows, nfcapd files, `flowhound collect`, Suricata
//! `netflow` events): the answer is a second record from the server to the client's port, with no
//! download bytes. Analysed as they are, answers look like external hosts connecting to internal
//! hosts' high ports (docs/detection-quality.md, section 11). Like nfdump `-B` and SiLK `rwmatch`,
//! a record is paired with the reverse record of the same connection (protocol, both addresses and
//! ports swapped) starting within [`MATCH_SECS`]; the earlier one is the client's: it keeps its row,
//! takes the other's bytes as its download (and their packets, and the later end), and the other row
//! is dropped. An ICMP reply pairs with its request (echo, timestamp, information, address mask). A
//! work unit is stitched only when it is one-way: no record has download bytes and records carry
//! source ports; records it leaves unpaired may pair across units ([`stitch_across`]).

use crate::detect::flows::{column, typed};
use crate::error::{FlowError, Result};
use crate::schema::{col, Proto};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, RecordBatch, UInt32Array, UInt64Array,
};
use datafusion::arrow::compute::{concat_batches, take_record_batch};
use datafusion::arrow::datatypes::{
    Decimal128Type, Float64Type, TimestampMicrosecondType, UInt16Type, UInt64Type,
};
use std::collections::VecDeque;
use std::sync::Arc;

/// Longest gap between the starts of a connection's two records, seconds (exporters report the
/// answer's first packet within the client's flow; 120 s covers a slow server and clock skew).
pub const MATCH_SECS: i64 = 120;

/// A unit's batches, stitched when they are one-way: the batch and the reverse records folded in.
pub fn stitch_unit(batches: Vec<RecordBatch>) -> Result<(Vec<RecordBatch>, u64)> {
    let (mut out, folded, unpaired) = stitch_unit_holding(batches, false)?;
    out.extend(unpaired);
    Ok((out, folded))
}

/// A unit's batches as [`stitch_unit`] stitches them; with `hold`, the records of a one-way unit
/// that found no reverse record are returned apart (third value, input order): their answer may be
/// in another unit (a file rotated between a connection's two records), see [`stitch_across`].
pub fn stitch_unit_holding(
    batches: Vec<RecordBatch>,
    hold: bool,
) -> Result<(Vec<RecordBatch>, u64, Option<RecordBatch>)> {
    let Some(first) = batches.first() else {
        return Ok((batches, 0, None));
    };
    if !batches.iter().all(one_way) || !batches.iter().any(has_ports) {
        return Ok((batches, 0, None));
    }
    let all = concat_batches(&first.schema(), &batches)?;
    let Stitched { batch, pairs, kept } = stitch_pairs(&all)?;
    let folded = pairs.len() as u64;
    if !hold {
        return Ok((vec![batch], folded, None));
    }
    // the kept rows are the clients of pairs and the unpaired
    let mut paired = vec![false; all.num_rows()];
    pairs.iter().for_each(|p| paired[p.0 as usize] = true);
    let (inside, apart) = kept
        .into_iter()
        .enumerate()
        .partition::<Vec<_>, _>(|(_, row)| paired[*row as usize]);
    let take = |rows: Vec<(usize, u32)>| {
        let idx = UInt32Array::from_iter_values(rows.into_iter().map(|(i, _)| i as u32));
        take_record_batch(&batch, &idx)
    };
    let apart = take(apart)?;
    Ok((
        vec![take(inside)?],
        folded,
        Some(apart).filter(|a| a.num_rows() > 0),
    ))
}

/// (work unit, records) counts, in unit order.
pub type UnitCounts = Vec<(usize, u64)>;

/// The records of several units that their own unit could not pair ([`stitch_unit_holding`]), as
/// (unit, batch) in unit order, stitched together: the batches, and per unit how many of its records
/// were folded into a record of another unit. Records of another schema than the first are passed on
/// as they are.
pub fn stitch_across(held: Vec<(usize, RecordBatch)>) -> Result<(Vec<RecordBatch>, UnitCounts)> {
    let Some((_, first)) = held.first() else {
        return Ok((vec![], vec![]));
    };
    let schema = first.schema();
    let (same, other): (Vec<_>, Vec<_>) = held.into_iter().partition(|(_, b)| b.schema() == schema);
    let all = concat_batches(&schema, same.iter().map(|(_, b)| b))?;
    let Stitched { batch, pairs, .. } = stitch_pairs(&all)?;
    let mut starts = Vec::with_capacity(same.len());
    let mut next = 0u32;
    for (u, b) in &same {
        starts.push((next, *u));
        next += b.num_rows() as u32;
    }
    let mut per_unit: std::collections::BTreeMap<usize, u64> = Default::default();
    for (_, answer) in pairs {
        let at = starts
            .partition_point(|(s, _)| *s <= answer)
            .saturating_sub(1);
        *per_unit.entry(starts[at].1).or_default() += 1;
    }
    let mut out = vec![batch];
    out.extend(other.into_iter().map(|(_, b)| b));
    Ok((out, per_unit.into_iter().collect()))
}

/// No record has download bytes.
pub(crate) fn one_way(b: &RecordBatch) -> bool {
    b.column_by_name(col::DOWN_BYTES)
        .and_then(|c| c.as_primitive_opt::<UInt64Type>())
        .is_some_and(|d| d.values().iter().all(|v| *v == 0))
}

/// Some record has a source port.
fn has_ports(b: &RecordBatch) -> bool {
    b.column_by_name(col::SRC_PORT)
        .is_some_and(|c| c.null_count() < c.len())
}

/// One end of a record: (address, port).
type End = (i128, u16);

/// The connection a record belongs to, the same for both directions, and whether the record goes
/// from the lower end to the higher.
fn connection(proto: u8, src: End, dst: End) -> ((u8, End, End), bool) {
    if src <= dst {
        ((proto, src, dst), true)
    } else {
        ((proto, dst, src), false)
    }
}

/// A stitched batch: the records of a batch paired (see the module documentation), rows in input
/// order.
struct Stitched {
    /// The kept rows, answers folded in.
    batch: RecordBatch,
    /// (client row, answer row) pairs folded, rows of the input.
    pairs: Vec<(u32, u32)>,
    /// The input row of each row of `batch`.
    kept: Vec<u32>,
}

/// Pairs the records of `b` and folds each answer into its client's row.
fn stitch_pairs(b: &RecordBatch) -> Result<Stitched> {
    let cols = Cols::of(b)?;
    let pairs = pair(&cols);
    let mut responder_of: Vec<Option<u32>> = vec![None; b.num_rows()];
    for &(client, server) in &pairs {
        responder_of[client as usize] = Some(server);
    }
    let kept = kept_rows(&pairs, b.num_rows());
    let out = take_record_batch(b, &UInt32Array::from(kept.clone()))?;
    let batch = fold(out, &cols, &kept, &responder_of)?;
    Ok(Stitched { batch, pairs, kept })
}

/// The rows of `n` that stay once the answers of `pairs` are folded into their clients, in order.
fn kept_rows(pairs: &[(u32, u32)], n: usize) -> Vec<u32> {
    let mut dropped = vec![false; n];
    pairs.iter().for_each(|p| dropped[p.1 as usize] = true);
    (0..n as u32).filter(|i| !dropped[*i as usize]).collect()
}

/// The columns pairing reads.
struct Cols<'a> {
    ts: &'a [i64],
    src: &'a [i128],
    dst: &'a [i128],
    proto: Vec<u8>,
    sport: Vec<u16>,
    dport: &'a [u16],
    up: &'a [u64],
    packets: Option<&'a UInt64Array>,
    duration: Option<&'a Float64Array>,
}

impl<'a> Cols<'a> {
    fn of(b: &'a RecordBatch) -> Result<Cols<'a>> {
        let proto = column(b, col::PROTO)?
            .as_string_opt::<i32>()
            .ok_or_else(|| FlowError::Internal("flow column 'proto' is not Utf8".into()))?;
        Ok(Cols {
            ts: typed::<TimestampMicrosecondType>(b, col::TS)?.values(),
            src: typed::<Decimal128Type>(b, col::SRC_IP)?.values(),
            dst: typed::<Decimal128Type>(b, col::DST_IP)?.values(),
            proto: proto
                .iter()
                .map(|p| p.map_or(Proto::Other, Proto::parse).index() as u8)
                .collect(),
            sport: typed::<UInt16Type>(b, col::SRC_PORT)?
                .iter()
                .map(|p| p.unwrap_or(0))
                .collect(),
            dport: typed::<UInt16Type>(b, col::DST_PORT)?.values(),
            up: typed::<UInt64Type>(b, col::UP_BYTES)?.values(),
            packets: typed::<UInt64Type>(b, col::PACKETS).ok(),
            duration: typed::<Float64Type>(b, col::DURATION).ok(),
        })
    }

    fn key(&self, i: usize) -> ((u8, End, End), bool) {
        connection(
            self.proto[i],
            (self.src[i], self.sport[i]),
            (self.dst[i], self.dport[i]),
        )
    }

    /// An ICMP request's or reply's exchange: (request type, client, server), and whether the record
    /// is the request (the request's source is the client).
    fn icmp_key(&self, i: usize) -> Option<((u16, i128, i128), bool)> {
        // exporters leave an ICMP record's source port empty; one with a source port carries ports,
        // not a type, and pairs by the connection key only
        if self.proto[i] != Proto::Icmp.index() as u8 || self.sport[i] != 0 {
            return None;
        }
        let (kind, request) = icmp_exchange(self.dport[i])?;
        Some(match request {
            true => ((kind, self.src[i], self.dst[i]), true),
            false => ((kind, self.dst[i], self.src[i]), false),
        })
    }
}

/// An ICMP record's exchange from its port field, as (request type, whether it is the request):
/// echo, timestamp, information and address mask requests and their replies (ICMPv6 echo too).
/// Exporters put the type in the destination port as `type * 256 + code` (NetFlow, IPFIX, nfdump)
/// or as the type alone (Suricata); a reply's code is 0, so both read alike.
fn icmp_exchange(port: u16) -> Option<(u16, bool)> {
    let t = if port > 255 { port >> 8 } else { port };
    match t {
        8 | 13 | 15 | 17 | 128 => Some((t, true)),
        0 => Some((8, false)),
        14 | 16 | 18 => Some((t - 1, false)),
        129 => Some((128, false)),
        _ => None,
    }
}

/// (client row, answering row) pairs: per connection in start order, a record takes the earliest
/// unmatched record of the other direction that started at most [`MATCH_SECS`] before it. ICMP
/// records left unpaired (the reply's type differs from the request's) then pair per exchange.
fn pair(c: &Cols) -> Vec<(u32, u32)> {
    let n = c.ts.len();
    let mut out = pair_by(c, (0..n as u32).collect(), |i| Some(c.key(i)));
    let mut paired = vec![false; n];
    for &(a, b) in &out {
        (paired[a as usize], paired[b as usize]) = (true, true);
    }
    let rest: Vec<u32> = (0..n as u32).filter(|i| !paired[*i as usize]).collect();
    out.extend(pair_by(c, rest, |i| c.icmp_key(i)));
    out
}

/// [`pair`] over `rows`, by `key` (connection, forward); rows without a key stay unpaired.
fn pair_by<K: Ord + Copy>(
    c: &Cols,
    rows: Vec<u32>,
    key: impl Fn(usize) -> Option<(K, bool)>,
) -> Vec<(u32, u32)> {
    let mut order: Vec<(K, bool, i64, u32)> = rows
        .into_iter()
        .filter_map(|i| key(i as usize).map(|(k, f)| (k, f, c.ts[i as usize], i)))
        .collect();
    order.sort_unstable_by_key(|&(k, _, t, i)| (k, t, i));
    let window = MATCH_SECS * 1_000_000;
    let mut out = Vec::new();
    let mut open: [VecDeque<u32>; 2] = Default::default();
    let mut current = None;
    for &(k, forward, t, i) in &order {
        if current != Some(k) {
            current = Some(k);
            open.iter_mut().for_each(VecDeque::clear);
        }
        let other = &mut open[usize::from(!forward)];
        while other
            .front()
            .is_some_and(|&o| t.saturating_sub(c.ts[o as usize]) > window)
        {
            other.pop_front();
        }
        match other.pop_front() {
            Some(o) => out.push((o, i)),
            None => open[usize::from(forward)].push_back(i),
        }
    }
    out
}

/// The kept rows' download bytes, packets and durations with their answers folded in.
fn fold(
    out: RecordBatch,
    c: &Cols,
    kept: &[u32],
    responder_of: &[Option<u32>],
) -> Result<RecordBatch> {
    let answer = |k: &u32| responder_of[*k as usize].map(|r| r as usize);
    let down: UInt64Array = kept
        .iter()
        .map(|k| answer(k).map_or(0, |r| c.up[r]))
        .collect();
    let mut cols: Vec<ArrayRef> = out.columns().to_vec();
    let schema = out.schema();
    let at = |name: &str| schema.index_of(name).ok();
    if let Some(i) = at(col::DOWN_BYTES) {
        cols[i] = Arc::new(down);
    }
    if let (Some(i), Some(p)) = (at(col::PACKETS), c.packets) {
        let v: UInt64Array = kept
            .iter()
            .map(|k| {
                let mine = p.is_valid(*k as usize).then(|| p.value(*k as usize));
                let theirs = answer(k).and_then(|r| p.is_valid(r).then(|| p.value(r)));
                match (mine, theirs) {
                    (Some(a), Some(b)) => Some(a.saturating_add(b)),
                    (a, b) => a.or(b),
                }
            })
            .collect();
        cols[i] = Arc::new(v);
    }
    if let (Some(i), Some(d)) = (at(col::DURATION), c.duration) {
        let v: Float64Array = kept
            .iter()
            .map(|k| {
                let k = *k as usize;
                let mine = d.is_valid(k).then(|| d.value(k));
                let Some(r) = answer(&(k as u32)) else {
                    return mine;
                };
                let theirs = d.is_valid(r).then(|| d.value(r));
                // the later end of the two, from the client's start
                let end = |s: usize, len: Option<f64>| len.map(|l| c.ts[s] as f64 / 1e6 + l);
                match (end(k, mine), end(r, theirs)) {
                    (Some(a), Some(b)) => Some(a.max(b) - c.ts[k] as f64 / 1e6),
                    _ => mine,
                }
            })
            .collect();
        cols[i] = Arc::new(v);
    }
    Ok(RecordBatch::try_new(schema, cols)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::flows::Flows;
    use crate::ingest::builder::{FlowBuilder, FlowRow};

    const S: i64 = 1_000_000;

    fn row(ts: i64, src: u128, sport: u16, dst: u128, dport: u16, up: u64) -> FlowRow {
        FlowRow {
            ts_us: ts * S,
            src,
            dst,
            proto: Some(Proto::Tcp),
            src_port: Some(sport),
            dst_port: dport,
            up,
            packets: Some(2),
            duration: Some(1.0),
            ..Default::default()
        }
    }

    fn batch(rows: &[FlowRow]) -> RecordBatch {
        let mut b = FlowBuilder::new();
        rows.iter().for_each(|r| b.push(r));
        b.finish()
    }

    /// (start s, src, dst, dst port, up, down, packets) of a row.
    type Seen = (i64, u128, u128, u16, u64, u64, u64);

    /// What every row of `b` is.
    fn rows(b: &RecordBatch) -> Vec<Seen> {
        let f = Flows::from_batches(std::slice::from_ref(b)).unwrap();
        (0..f.len())
            .map(|i| {
                (
                    f.ts[i] / S,
                    f.src[i],
                    f.dst[i],
                    f.dst_port[i],
                    f.up[i],
                    f.down[i],
                    f.packets[i],
                )
            })
            .collect()
    }

    #[test]
    fn answers_fold_into_their_connections() {
        let (c, s, t) = (10, 20, 30);
        let cases: Vec<(&str, Vec<FlowRow>, Vec<Seen>, u64)> = vec![
            (
                "answer after the request",
                vec![row(0, c, 50000, s, 443, 100), row(1, s, 443, c, 50000, 900)],
                vec![(0, c, s, 443, 100, 900, 4)],
                1,
            ),
            (
                "answer listed first keeps the client's row",
                vec![row(5, s, 443, c, 50000, 900), row(4, c, 50000, s, 443, 100)],
                vec![(4, c, s, 443, 100, 900, 4)],
                1,
            ),
            (
                "answer too late: two one-way flows",
                vec![
                    row(0, c, 50000, s, 443, 100),
                    row(500, s, 443, c, 50000, 900),
                ],
                vec![(0, c, s, 443, 100, 0, 2), (500, s, c, 50000, 900, 0, 2)],
                0,
            ),
            (
                "other port: no pair",
                vec![row(0, c, 50000, s, 443, 100), row(1, s, 443, c, 50001, 900)],
                vec![(0, c, s, 443, 100, 0, 2), (1, s, c, 50001, 900, 0, 2)],
                0,
            ),
            (
                "a scan: nothing answers",
                vec![row(0, c, 50000, s, 22, 60), row(0, c, 50000, t, 22, 60)],
                vec![(0, c, s, 22, 60, 0, 2), (0, c, t, 22, 60, 0, 2)],
                0,
            ),
            (
                "reused port: each answer to its request",
                vec![
                    row(0, c, 50000, s, 53, 40),
                    row(0, s, 53, c, 50000, 200),
                    row(300, c, 50000, s, 53, 41),
                    row(300, s, 53, c, 50000, 201),
                ],
                vec![(0, c, s, 53, 40, 200, 4), (300, c, s, 53, 41, 201, 4)],
                2,
            ),
        ];
        for (what, input, want, folded) in cases {
            let (out, n) = stitch_unit(vec![batch(&input)]).unwrap();
            assert_eq!(n, folded, "{what}");
            assert_eq!(rows(&out[0]), want, "{what}");
        }
    }

    #[test]
    fn icmp_replies_fold_into_their_requests() {
        let (c, s) = (10, 20);
        let icmp = |ts, src, dst, port, up| FlowRow {
            proto: Some(Proto::Icmp),
            src_port: Some(0),
            ..row(ts, src, 0, dst, port, up)
        };
        let cases: Vec<(&str, Vec<FlowRow>, Vec<Seen>, u64)> = vec![
            (
                "echo, NetFlow's type * 256 + code",
                vec![icmp(0, c, s, 8 << 8, 84), icmp(0, s, c, 0, 84)],
                vec![(0, c, s, 8 << 8, 84, 84, 4)],
                1,
            ),
            (
                "echo, Suricata's type alone; the reply listed first",
                vec![icmp(1, s, c, 0, 84), icmp(0, c, s, 8, 84)],
                vec![(0, c, s, 8, 84, 84, 4)],
                1,
            ),
            (
                "timestamp request and reply; ICMPv6 echo",
                vec![
                    icmp(0, c, s, 13 << 8, 40),
                    icmp(0, s, c, 14 << 8, 40),
                    icmp(5, c, s, 128 << 8, 64),
                    icmp(5, s, c, 129 << 8, 64),
                ],
                vec![
                    (0, c, s, 13 << 8, 40, 40, 4),
                    (5, c, s, 128 << 8, 64, 64, 4),
                ],
                2,
            ),
            (
                "a sweep: each reply to its own request, unanswered ones kept",
                vec![
                    icmp(0, c, s, 8 << 8, 84),
                    icmp(0, c, 30, 8 << 8, 84),
                    icmp(0, 30, c, 0, 84),
                    icmp(0, c, 40, 8 << 8, 84),
                ],
                vec![
                    (0, c, s, 8 << 8, 84, 0, 2),
                    (0, c, 30, 8 << 8, 84, 84, 4),
                    (0, c, 40, 8 << 8, 84, 0, 2),
                ],
                1,
            ),
            (
                "records with a source port carry ports, not types",
                vec![
                    icmp(0, s, c, 2300, 128),
                    FlowRow {
                        src_port: Some(6024),
                        ..icmp(90, c, s, 0, 64)
                    },
                ],
                vec![(0, s, c, 2300, 128, 0, 2), (90, c, s, 0, 64, 0, 2)],
                0,
            ),
            (
                "unreachable (type 3) is no reply",
                vec![icmp(0, c, s, 8 << 8, 84), icmp(0, s, c, 3 << 8 | 3, 56)],
                vec![(0, c, s, 8 << 8, 84, 0, 2), (0, s, c, 3 << 8 | 3, 56, 0, 2)],
                0,
            ),
        ];
        for (what, input, want, folded) in cases {
            let (out, n) = stitch_unit(vec![batch(&input)]).unwrap();
            assert_eq!(n, folded, "{what}");
            assert_eq!(rows(&out[0]), want, "{what}");
        }
    }

    #[test]
    fn extreme_start_times_neither_overflow_nor_pair() {
        let mut early = row(0, 10, 50000, 20, 443, 100);
        early.ts_us = i64::MIN;
        let mut late = row(0, 20, 443, 10, 50000, 900);
        late.ts_us = i64::MAX;
        let (out, n) = stitch_unit(vec![batch(&[early, late])]).unwrap();
        assert_eq!((n, out[0].num_rows()), (0, 2));
    }

    #[test]
    fn two_way_or_portless_units_are_kept_as_read() {
        let mut two_way = row(0, 10, 50000, 20, 443, 100);
        two_way.down = 5;
        let answer = row(1, 20, 443, 10, 50000, 900);
        let b = batch(&[two_way, answer.clone()]);
        let (out, n) = stitch_unit(vec![b.clone()]).unwrap();
        assert_eq!((n, &out[0]), (0, &b));
        let mut portless = row(0, 10, 50000, 20, 443, 100);
        portless.src_port = None;
        let mut answer = answer;
        answer.src_port = None;
        let b = batch(&[portless, answer]);
        let (out, n) = stitch_unit(vec![b.clone()]).unwrap();
        assert_eq!((n, &out[0]), (0, &b));
        assert_eq!(stitch_unit(vec![]).unwrap().1, 0);
    }

    #[test]
    fn records_unpaired_in_their_unit_pair_across_units() {
        let (c, s, t) = (10, 20, 30);
        let unit0 = vec![
            row(0, c, 50000, s, 443, 100), // its answer is in unit 1
            row(1, c, 50001, s, 443, 110), // answered here
            row(1, s, 443, c, 50001, 910),
            row(2, c, 50002, t, 22, 60), // a probe nothing answers
        ];
        let unit1 = vec![row(3, s, 443, c, 50000, 900), row(4, c, 50003, s, 80, 70)];
        let (kept0, n0, apart0) = stitch_unit_holding(vec![batch(&unit0)], true).unwrap();
        assert_eq!(
            (n0, rows(&kept0[0])),
            (1, vec![(1, c, s, 443, 110, 910, 4)])
        );
        let apart0 = apart0.unwrap();
        assert_eq!(
            rows(&apart0).len(),
            2,
            "the unanswered client and the probe"
        );
        let (kept1, n1, apart1) = stitch_unit_holding(vec![batch(&unit1)], true).unwrap();
        assert_eq!((n1, kept1[0].num_rows()), (0, 0));
        let held = vec![(0, apart0), (1, apart1.unwrap())];
        let (out, per_unit) = stitch_across(held).unwrap();
        assert_eq!(
            per_unit,
            [(1, 1)],
            "unit 1's answer folded into unit 0's client"
        );
        assert_eq!(
            rows(&out[0]),
            vec![
                (0, c, s, 443, 100, 900, 4),
                (2, c, t, 22, 60, 0, 2),
                (4, c, s, 80, 70, 0, 2),
            ]
        );
        // without holding, a unit's unpaired records stay in place
        let (kept, n, apart) = stitch_unit_holding(vec![batch(&unit0)], false).unwrap();
        assert_eq!((n, kept[0].num_rows(), apart.is_none()), (1, 3, true));
        assert_eq!(stitch_across(vec![]).unwrap().0.len(), 0);
    }

    /// A generated capture split into one record per direction (as a router exports it) stitches
    /// back into the generated flows.
    #[test]
    fn split_then_stitched_gives_the_flows_back() {
        let g = flowhound_gen::GenConfig {
            seed: 9,
            flows_normal: 2_000,
            flows_test: 20_000,
            flows_servers: 0,
            clients: 30,
            ..Default::default()
        };
        let (_dir, read) = crate::test_data::generated(&g, "test.parquet");
        let f = Flows::from_batches(&read).unwrap();
        let mut split = Vec::new();
        let mut want = Vec::new();
        for i in 0..f.len() {
            // a distinct client port per flow (the generator has none)
            let eph = 1024 + (i % 60_000) as u16;
            let mut fwd = row(0, f.src[i], eph, f.dst[i], f.dst_port[i], f.up[i]);
            (fwd.ts_us, fwd.proto, fwd.packets, fwd.duration) =
                (f.ts[i], Some(f.proto[i]), None, None);
            split.push(fwd);
            if f.down[i] > 0 {
                let mut back = row(0, f.dst[i], f.dst_port[i], f.src[i], eph, f.down[i]);
                (back.ts_us, back.proto, back.packets, back.duration) =
                    (f.ts[i] + 1_000, Some(f.proto[i]), None, None);
                split.push(back);
            }
            want.push((
                f.ts[i],
                f.src[i],
                f.dst[i],
                f.dst_port[i],
                f.up[i],
                f.down[i],
            ));
        }
        let answers = split.len() - f.len();
        assert!(answers > 10_000, "{answers} answers");
        let batches: Vec<RecordBatch> = split.chunks(7_000).map(batch).collect();
        let (out, n) = stitch_unit(batches).unwrap();
        assert_eq!(n as usize, answers);
        let got = Flows::from_batches(&out).unwrap();
        let got: Vec<_> = (0..got.len())
            .map(|i| {
                (
                    got.ts[i],
                    got.src[i],
                    got.dst[i],
                    got.dst_port[i],
                    got.up[i],
                    got.down[i],
                )
            })
            .collect();
        assert_eq!(got, want);
    }
}
