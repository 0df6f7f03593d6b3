//! The functions a cluster job's plan calls (registered on the client, the scheduler and every
//! executor by `flowhound-cluster`):
//!
//! - `flowhound_shard_of(src_ip, dst_ip, nets, shards)`: the host shard of a flow, by its owner
//!   ([`crate::baseline::owner`], the rule learning and out-of-core detection use);
//! - `flowhound_internal_pair(src_ip, dst_ip, nets)`: whether a flow goes between two internal hosts
//!   (those also go to the internal-pairs shard);
//! - `flowhound_relay_upstream(src_ip, dst_ip, nets, relays)`: whether a flow goes from one of the
//!   relays (addresses, comma-separated) to an external host (those go to the internal-pairs shard
//!   too, for `proxied_cnc`);
//! - `flowhound_shard_task(spec, shard, <flow columns>)`: an aggregate that gathers a shard's flows
//!   (its partial states travel between stages as Arrow IPC) and runs the spec's task over them
//!   ([`super::task::run`]), returning the encoded result.

use crate::net::{Cidr, InternalNets};
use crate::schema::flow_schema;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef, Int64Type};
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    create_udf, Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, ScalarUDF, Signature,
    Volatility,
};
use std::sync::Arc;

/// Name of the shard aggregate.
pub const SHARD_TASK: &str = "flowhound_shard_task";
/// Name of the shard function.
pub const SHARD_OF: &str = "flowhound_shard_of";
/// Name of the internal-pair predicate.
pub const INTERNAL_PAIR: &str = "flowhound_internal_pair";
/// Name of the relay-upstream predicate.
pub const RELAY_UPSTREAM: &str = "flowhound_relay_upstream";

/// The scalar functions of cluster jobs.
pub fn scalar_functions() -> Vec<ScalarUDF> {
    let ip = crate::schema::IP_TYPE;
    let mut fs = vec![
        create_udf(
            SHARD_OF,
            vec![ip.clone(), ip.clone(), DataType::Utf8, DataType::Int64],
            DataType::Int64,
            Volatility::Immutable,
            Arc::new(shard_of_udf),
        ),
        create_udf(
            INTERNAL_PAIR,
            vec![ip.clone(), ip.clone(), DataType::Utf8],
            DataType::Boolean,
            Volatility::Immutable,
            Arc::new(internal_pair_udf),
        ),
        create_udf(
            RELAY_UPSTREAM,
            vec![ip.clone(), ip.clone(), DataType::Utf8, DataType::Utf8],
            DataType::Boolean,
            Volatility::Immutable,
            Arc::new(relay_upstream_udf),
        ),
    ];
    fs.extend(super::stats_sql::view_functions());
    fs
}

/// The aggregate functions of cluster jobs.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    vec![AggregateUDF::from(ShardTask::default())]
}

pub(super) fn df_err(e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("flowhound: {e}"))
}

/// A text literal argument (`what` names it in the error).
pub(super) fn text_arg(v: &ColumnarValue, what: &str) -> DfResult<String> {
    match v {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(s))) => Ok(s.clone()),
        _ => Err(df_err(format!("{what} must be a text literal"))),
    }
}

/// A positive integer literal argument (`what` names it in the error).
pub(super) fn positive_arg(v: &ColumnarValue, what: &str) -> DfResult<u64> {
    match v {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(n))) if *n > 0 => Ok(*n as u64),
        _ => Err(df_err(format!("{what} must be a positive integer literal"))),
    }
}

/// A text literal argument, also when the engine hands it over as an array (its first value).
fn literal_text(v: &ColumnarValue, what: &str) -> DfResult<String> {
    match v {
        ColumnarValue::Array(a) if !a.is_empty() => Ok(a.as_string::<i32>().value(0).to_string()),
        _ => text_arg(v, what),
    }
}

/// The networks of a `nets` argument: CIDRs separated by commas.
pub(super) fn nets_arg(v: &ColumnarValue) -> DfResult<InternalNets> {
    parse_nets(&literal_text(v, "the networks argument")?)
}

/// Networks given as CIDRs separated by commas.
pub(super) fn parse_nets(text: &str) -> DfResult<InternalNets> {
    let blocks = text
        .split(',')
        .filter(|c| !c.trim().is_empty())
        .map(|c| Cidr::parse(c.trim()).map_err(df_err))
        .collect::<DfResult<Vec<_>>>()?;
    Ok(InternalNets::new(blocks))
}

/// `(src, dst)` addresses of rows.
fn addresses(args: &[ColumnarValue], rows: usize) -> DfResult<Vec<(u128, u128)>> {
    let s = args[0].to_array(rows)?;
    let d = args[1].to_array(rows)?;
    let (s, d) = (
        s.as_primitive::<Decimal128Type>(),
        d.as_primitive::<Decimal128Type>(),
    );
    Ok((0..rows)
        .map(|i| {
            (
                crate::ip::from_i128(s.value(i)),
                crate::ip::from_i128(d.value(i)),
            )
        })
        .collect())
}

/// Rows of a call: the length of its first array argument (1 when all are literals).
pub(super) fn rows_of(args: &[ColumnarValue]) -> usize {
    args.iter()
        .find_map(|a| match a {
            ColumnarValue::Array(a) => Some(a.len()),
            _ => None,
        })
        .unwrap_or(1)
}

fn shard_of_udf(args: &[ColumnarValue]) -> DfResult<ColumnarValue> {
    let rows = rows_of(args);
    let nets = nets_arg(&args[2])?;
    let shards = positive_arg(&args[3], "the shard count")? as usize;
    let out: Int64Array = addresses(args, rows)?
        .into_iter()
        .map(|(s, d)| {
            let owner = crate::baseline::owner(s, d, &nets);
            Some(crate::shard::route::shard_of(owner, shards) as i64)
        })
        .collect();
    Ok(ColumnarValue::Array(Arc::new(out)))
}

fn internal_pair_udf(args: &[ColumnarValue]) -> DfResult<ColumnarValue> {
    let rows = rows_of(args);
    let nets = nets_arg(&args[2])?;
    let out: BooleanArray = addresses(args, rows)?
        .into_iter()
        .map(|(s, d)| Some(is_internal_pair(s, d, &nets)))
        .collect();
    Ok(ColumnarValue::Array(Arc::new(out)))
}

fn relay_upstream_udf(args: &[ColumnarValue]) -> DfResult<ColumnarValue> {
    let rows = rows_of(args);
    let nets = nets_arg(&args[2])?;
    let relays = relays_arg(&args[3])?;
    let out: BooleanArray = addresses(args, rows)?
        .into_iter()
        .map(|(s, d)| Some(relays.contains(&s) && !nets.contains(d)))
        .collect();
    Ok(ColumnarValue::Array(Arc::new(out)))
}

/// The addresses of a `relays` argument, separated by commas.
fn relays_arg(v: &ColumnarValue) -> DfResult<std::collections::HashSet<u128>> {
    literal_text(v, "the relays argument")?
        .split(',')
        .filter(|a| !a.trim().is_empty())
        .map(|a| {
            crate::ip::parse(a.trim())
                .ok_or_else(|| df_err(format!("relay {a:?} is not an address")))
        })
        .collect()
}

/// A flow between two different internal hosts, attributed to its source (what the out-of-core
/// router puts in the internal-pairs shard).
pub fn is_internal_pair(src: u128, dst: u128, nets: &InternalNets) -> bool {
    crate::baseline::owner(src, dst, nets) == src && src != dst && nets.contains(dst)
}

/// The shard aggregate: `flowhound_shard_task(spec, shard, ts, src_ip, ...)` over the canonical flow
/// columns in schema order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShardTask {
    signature: Signature,
}

impl Default for ShardTask {
    fn default() -> Self {
        ShardTask {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for ShardTask {
    fn name(&self) -> &str {
        SHARD_TASK
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::LargeBinary)
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::<Gather>::default())
    }

    fn state_fields(&self, _args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new("spec", DataType::Utf8, true)),
            Arc::new(Field::new("shard", DataType::Int64, true)),
            Arc::new(Field::new("flows", DataType::LargeBinary, true)),
        ])
    }
}

/// Gathers one shard's flows.
#[derive(Debug, Default)]
struct Gather {
    spec: Option<String>,
    shard: Option<i64>,
    batches: Vec<RecordBatch>,
}

impl Gather {
    fn note(&mut self, spec: &dyn Array, shard: &dyn Array) {
        if self.spec.is_none() && !spec.is_empty() {
            self.spec = Some(spec.as_string::<i32>().value(0).to_string());
        }
        if self.shard.is_none() && !shard.is_empty() {
            self.shard = Some(shard.as_primitive::<Int64Type>().value(0));
        }
    }
}

/// The flow columns of a call as a canonical batch, or an error naming the column that is not.
fn canonical(cols: &[ArrayRef]) -> DfResult<RecordBatch> {
    let schema = flow_schema();
    if cols.len() != schema.fields().len() {
        return Err(df_err(format!(
            "{SHARD_TASK} takes the spec, the shard and the {} flow columns",
            schema.fields().len()
        )));
    }
    let mut out = Vec::with_capacity(cols.len());
    for (f, c) in schema.fields().iter().zip(cols) {
        // text may arrive as views (DataFusion reads Parquet strings so); the rest must match
        let same_kind = f.data_type() == c.data_type()
            || matches!(c.data_type(), DataType::Utf8View | DataType::LargeUtf8);
        if !same_kind {
            return Err(df_err(format!(
                "column {} is {}, not {}: the cluster reads canonical flowhound Parquet (flowhound convert FILE -o FILE.parquet)",
                f.name(),
                c.data_type(),
                f.data_type()
            )));
        }
        out.push(datafusion::arrow::compute::cast(c, f.data_type())?);
    }
    RecordBatch::try_new(schema, out).map_err(df_err)
}

fn ipc_bytes(batches: &[RecordBatch]) -> DfResult<Vec<u8>> {
    let mut w = StreamWriter::try_new(Vec::new(), &flow_schema())?;
    for b in batches {
        w.write(b)?;
    }
    Ok(w.into_inner()?)
}

impl Accumulator for Gather {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        if values.len() < 2 || values[0].is_empty() {
            return Ok(());
        }
        self.note(values[0].as_ref(), values[1].as_ref());
        self.batches.push(canonical(&values[2..])?);
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let [spec, shard, flows] = states else {
            return Err(df_err("a shard state has three columns"));
        };
        self.note(spec.as_ref(), shard.as_ref());
        let flows = flows.as_binary::<i64>();
        for i in (0..flows.len()).filter(|i| flows.is_valid(*i)) {
            let reader = StreamReader::try_new(std::io::Cursor::new(flows.value(i)), None)?;
            for b in reader {
                self.batches.push(b?);
            }
        }
        Ok(())
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let bytes = ipc_bytes(&self.batches)?;
        self.batches.clear();
        Ok(vec![
            ScalarValue::Utf8(self.spec.clone()),
            ScalarValue::Int64(self.shard),
            ScalarValue::LargeBinary(Some(bytes)),
        ])
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        let (Some(spec), Some(shard)) = (&self.spec, self.shard) else {
            return Ok(ScalarValue::LargeBinary(None));
        };
        let path = std::path::Path::new(spec);
        let loaded = super::spec::load(path).map_err(df_err)?;
        let all = datafusion::arrow::compute::concat_batches(&flow_schema(), &self.batches)?;
        self.batches.clear();
        let out = super::task::run(&loaded, shard as usize, all).map_err(df_err)?;
        super::spec::mark_done(path, shard);
        Ok(ScalarValue::LargeBinary(Some(out)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self
                .batches
                .iter()
                .map(|b| b.get_array_memory_size())
                .sum::<usize>()
    }
}
