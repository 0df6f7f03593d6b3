//! The whole-input statistics the detectors need ([`TestGlobals`]) as DataFusion aggregations, which a
//! Ballista cluster runs natively (partial aggregates on every executor, no flow gathered anywhere):
//! each flow is seen from its internal end by the `flowhound_view_*` functions (the rule of
//! [`crate::detect::flows::host_view`]), then grouped by (host, window), by external peer (distinct hosts),
//! by (host, DNS query size) and, for the peers 2 to [`SHARED_DEST_MAX_HOSTS`] hosts reach, by (peer, host).

use super::functions as fa;
use crate::detect::behaviour::is_dns;
use crate::detect::flows::host_view;
use crate::detect::globals::{Contact, TestGlobals, SHARED_DEST_MAX_HOSTS};
use crate::detect::volume::Cell;
use crate::error::{FlowError, Result};
use crate::net::InternalNets;
use crate::schema::{Proto, IP_TYPE};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Int64Array, RecordBatch,
};
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, Int64Type, TimestampMicrosecondType, UInt16Type, UInt64Type,
};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{create_udf, ColumnarValue, ScalarUDF, Volatility};
use std::sync::Arc;

/// Names of the view functions: `NAME(ts, src_ip, dst_ip, proto, dst_port, up_bytes, down_bytes, nets,
/// window_secs, 'field')`, a flow seen from its internal end (NULL when neither end is internal), one
/// function per result type (struct results do not survive Ballista's plan round trip in DataFusion 55).
pub const VIEW_IP: &str = "flowhound_view_ip";
/// See [`VIEW_IP`]: `sent`, `received`, `window` (Int64).
pub const VIEW_NUM: &str = "flowhound_view_num";
/// See [`VIEW_IP`]: `originator`, `peer_internal`, `dns` (Boolean).
pub const VIEW_IS: &str = "flowhound_view_is";

/// The view functions.
pub fn view_functions() -> Vec<ScalarUDF> {
    let ip = IP_TYPE;
    let args = vec![
        crate::schema::ts_type(),
        ip.clone(),
        ip.clone(),
        DataType::Utf8,
        DataType::UInt16,
        DataType::UInt64,
        DataType::UInt64,
        DataType::Utf8,
        DataType::Int64,
        DataType::Utf8,
    ];
    let f = |name: &str, ret: DataType| {
        let ret2 = ret.clone();
        create_udf(
            name,
            args.clone(),
            ret,
            Volatility::Immutable,
            Arc::new(move |a: &[ColumnarValue]| view_udf(a, &ret2)),
        )
    };
    vec![
        f(VIEW_IP, ip),
        f(VIEW_NUM, DataType::Int64),
        f(VIEW_IS, DataType::Boolean),
    ]
}

fn view_udf(args: &[ColumnarValue], ret: &DataType) -> DfResult<ColumnarValue> {
    let rows = fa::rows_of(args);
    let nets = fa::parse_nets(&fa::text_arg(&args[7], "the networks argument")?)?;
    let window = fa::positive_arg(&args[8], "the window")?;
    let field = fa::text_arg(&args[9], "the field")?;
    let a: Vec<ArrayRef> = args[..7]
        .iter()
        .map(|c| c.to_array(rows))
        .collect::<DfResult<_>>()?;
    let out = views(&a, &nets, window, &field)?;
    if out.data_type() != ret {
        return Err(fa::df_err(format!(
            "view field {field} is {}, not {ret}",
            out.data_type()
        )));
    }
    Ok(ColumnarValue::Array(out))
}

/// One view of a row.
struct Viewed {
    v: crate::detect::flows::HostView,
    dns: bool,
    window: i64,
}

/// Field `field` of the view of every row (columns: ts, src, dst, proto, dst_port, up, down).
fn views(a: &[ArrayRef], nets: &InternalNets, window: u64, field: &str) -> DfResult<ArrayRef> {
    let ts = a[0].as_primitive::<TimestampMicrosecondType>();
    let (src, dst) = (
        a[1].as_primitive::<Decimal128Type>(),
        a[2].as_primitive::<Decimal128Type>(),
    );
    let proto = a[3].as_string::<i32>();
    let port = a[4].as_primitive::<UInt16Type>();
    let (up, down) = (
        a[5].as_primitive::<UInt64Type>(),
        a[6].as_primitive::<UInt64Type>(),
    );
    let addr = |d: &datafusion::arrow::array::Decimal128Array, i| crate::ip::from_i128(d.value(i));
    let rows = (0..ts.len()).map(|i| {
        host_view(addr(src, i), addr(dst, i), up.value(i), down.value(i), nets).map(|v| {
            let p = match proto.is_null(i) {
                true => Proto::Other,
                false => Proto::parse(proto.value(i)),
            };
            Viewed {
                v,
                dns: is_dns(p, port.value(i)),
                window: crate::baseline::window_of(ts.value(i), window),
            }
        })
    });
    let ip = |f: fn(&Viewed) -> u128| -> ArrayRef {
        let it = rows.clone().map(|r| r.map(|r| f(&r) as i128));
        Arc::new(Decimal128Array::from_iter(it).with_data_type(IP_TYPE))
    };
    let num = |f: fn(&Viewed) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter(
            rows.clone().map(|r| r.map(|r| f(&r))),
        ))
    };
    let is = |f: &dyn Fn(&Viewed) -> bool| -> ArrayRef {
        Arc::new(BooleanArray::from_iter(
            rows.clone().map(|r| r.map(|r| f(&r))),
        ))
    };
    Ok(match field {
        "host" => ip(|r| r.v.host),
        "peer" => ip(|r| r.v.peer),
        "sent" => num(|r| r.v.sent as i64),
        "received" => num(|r| r.v.received as i64),
        "window" => num(|r| r.window),
        "originator" => is(&|r| r.v.originator),
        "dns" => is(&|r| r.dns),
        "peer_internal" => is(&|r| nets.contains(r.v.peer)),
        _ => return Err(fa::df_err(format!("no view field {field}"))),
    })
}

/// The statistics queries over table `table`, in the order [`assemble`] reads their results.
pub fn queries(table: &str, nets: &str, window_secs: u64) -> Vec<String> {
    let nets = format!("'{}'", nets.replace('\'', "''"));
    let args =
        format!("ts, src_ip, dst_ip, proto, dst_port, up_bytes, down_bytes, {nets}, {window_secs}");
    let v = |f: &str| {
        let func = match f {
            "host" | "peer" => VIEW_IP,
            "sent" | "received" | "window" => VIEW_NUM,
            _ => VIEW_IS,
        };
        format!("{func}({args}, '{f}')")
    };
    let t = format!("\"{table}\"");
    vec![
        format!("SELECT min(ts) AS first, max(ts) AS last, count(*) AS flows FROM {t}"),
        format!(
            "SELECT {} AS host, {} AS w, count(*) AS flows, sum({}) AS up, sum({}) AS down FROM {t} \
             WHERE {} IS NOT NULL GROUP BY 1, 2",
            v("host"),
            v("window"),
            v("sent"),
            v("received"),
            v("host")
        ),
        format!(
            "SELECT {} AS peer, count(DISTINCT {}) AS hosts FROM {t} WHERE {} AND NOT {} GROUP BY 1",
            v("peer"),
            v("host"),
            v("originator"),
            v("peer_internal")
        ),
        format!(
            "SELECT {} AS host, {} AS size, count(*) AS n, max({}) AS answered FROM {t} \
             WHERE {} AND {} GROUP BY 1, 2",
            v("host"),
            v("sent"),
            v("received"),
            v("originator"),
            v("dns")
        ),
        format!(
            "SELECT peer, host, flows, first, last FROM (SELECT *, count(*) OVER (PARTITION BY peer) AS hosts \
             FROM (SELECT {} AS peer, {} AS host, count(*) AS flows, min(ts) AS first, max(ts) AS last \
             FROM {t} WHERE {} AND NOT {} GROUP BY 1, 2) d) w WHERE hosts BETWEEN 2 AND {SHARED_DEST_MAX_HOSTS}",
            v("peer"),
            v("host"),
            v("originator"),
            v("peer_internal")
        ),
    ]
}

/// A column of a statistics result.
fn column(b: &RecordBatch, i: usize) -> Result<&ArrayRef> {
    b.columns()
        .get(i)
        .ok_or_else(|| FlowError::Internal("a statistics query returned too few columns".into()))
}

fn ips(b: &RecordBatch, i: usize) -> Result<Vec<u128>> {
    let a = column(b, i)?.as_primitive::<Decimal128Type>();
    Ok(a.values()
        .iter()
        .map(|v| crate::ip::from_i128(*v))
        .collect())
}

fn u64s(b: &RecordBatch, i: usize) -> Result<Vec<u64>> {
    let a = column(b, i)?;
    let a = datafusion::arrow::compute::cast(a, &DataType::UInt64)?;
    Ok(a.as_primitive::<UInt64Type>()
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect())
}

/// Who reached the shared but rare peers: rows (peer, host, flows, first, last).
fn add_shared(g: &mut TestGlobals, shared: &[RecordBatch]) -> Result<()> {
    for b in shared {
        let (peer, host, flows) = (ips(b, 0)?, ips(b, 1)?, u64s(b, 2)?);
        let first = column(b, 3)?.as_primitive::<TimestampMicrosecondType>();
        let last = column(b, 4)?.as_primitive::<TimestampMicrosecondType>();
        for i in 0..b.num_rows() {
            let c = Contact {
                flows: flows[i],
                first_us: first.value(i),
                last_us: last.value(i),
            };
            g.shared_dests
                .entry(peer[i])
                .or_default()
                .push((host[i], c));
        }
    }
    for hosts in g.shared_dests.values_mut() {
        hosts.sort_unstable_by_key(|(h, _)| *h);
    }
    Ok(())
}

/// The statistics from the results of [`queries`] (in that order).
pub fn assemble(results: &[Vec<RecordBatch>]) -> Result<super::wire::Globals> {
    let [span, cells, dests, dns, shared] = results else {
        return Err(FlowError::Internal(
            "five statistics queries expected".into(),
        ));
    };
    let mut g = TestGlobals::default();
    let mut rows = 0;
    for b in span.iter().filter(|b| b.num_rows() > 0) {
        let first = column(b, 0)?.as_primitive::<TimestampMicrosecondType>();
        let last = column(b, 1)?.as_primitive::<TimestampMicrosecondType>();
        if first.is_valid(0) {
            g.ts_range = Some((first.value(0), last.value(0)));
        }
        rows += u64s(b, 2)?.first().copied().unwrap_or(0);
    }
    let mut all = Vec::new();
    for b in cells {
        let (host, w) = (ips(b, 0)?, column(b, 1)?.as_primitive::<Int64Type>());
        let (flows, up, down) = (u64s(b, 2)?, u64s(b, 3)?, u64s(b, 4)?);
        for i in 0..b.num_rows() {
            g.internal_hosts.insert(host[i]);
            all.push(Cell {
                host: host[i],
                window: w.value(i),
                flows: flows[i],
                up: up[i],
                down: down[i],
            });
        }
    }
    all.sort_unstable_by_key(|c| (c.host, c.window));
    for b in dests {
        let (peer, hosts) = (ips(b, 0)?, u64s(b, 1)?);
        g.dest_counts.extend(peer.into_iter().zip(hosts));
    }
    for b in dns {
        let (host, size, n, answered) = (ips(b, 0)?, u64s(b, 1)?, u64s(b, 2)?, u64s(b, 3)?);
        for i in 0..b.num_rows() {
            *g.dns_sizes
                .entry(host[i])
                .or_default()
                .entry(size[i])
                .or_default() += n[i];
            g.dns_answered |= answered[i] > 0;
        }
    }
    add_shared(&mut g, shared)?;
    Ok(super::wire::Globals {
        rows,
        globals: g,
        cells: all,
    })
}
