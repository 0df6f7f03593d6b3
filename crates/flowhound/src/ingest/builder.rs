//! Builds canonical flow batches row by row (text readers) and holds the parsed row type.

use crate::ip;
use crate::schema::{flow_schema, Proto};
use datafusion::arrow::array::{
    ArrayRef, Decimal128Builder, Float64Builder, StringBuilder, TimestampMicrosecondBuilder,
    UInt16Builder, UInt64Builder,
};
use datafusion::arrow::record_batch::RecordBatch;
use std::sync::Arc;

/// Rows per batch produced by the text readers.
pub const BATCH_ROWS: usize = 65_536;

/// One validated flow.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlowRow {
    /// UTC microseconds.
    pub ts_us: i64,
    /// Source address (integer form).
    pub src: u128,
    /// Destination address.
    pub dst: u128,
    /// Protocol class.
    pub proto: Option<Proto>,
    /// Source port.
    pub src_port: Option<u16>,
    /// Destination port.
    pub dst_port: u16,
    /// Bytes from source.
    pub up: u64,
    /// Bytes from destination.
    pub down: u64,
    /// Seconds.
    pub duration: Option<f64>,
    /// Packets.
    pub packets: Option<u64>,
    /// Source label.
    pub label: Option<String>,
}

/// Accumulates rows into a canonical `RecordBatch`.
pub struct FlowBuilder {
    ts: TimestampMicrosecondBuilder,
    src: Decimal128Builder,
    dst: Decimal128Builder,
    proto: StringBuilder,
    src_port: UInt16Builder,
    dst_port: UInt16Builder,
    up: UInt64Builder,
    down: UInt64Builder,
    duration: Float64Builder,
    packets: UInt64Builder,
    label: StringBuilder,
    len: usize,
}

impl Default for FlowBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl FlowBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        let n = BATCH_ROWS;
        FlowBuilder {
            ts: TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC"),
            src: Decimal128Builder::with_capacity(n),
            dst: Decimal128Builder::with_capacity(n),
            proto: StringBuilder::with_capacity(n, n * 4),
            src_port: UInt16Builder::with_capacity(n),
            dst_port: UInt16Builder::with_capacity(n),
            up: UInt64Builder::with_capacity(n),
            down: UInt64Builder::with_capacity(n),
            duration: Float64Builder::with_capacity(n),
            packets: UInt64Builder::with_capacity(n),
            label: StringBuilder::new(),
            len: 0,
        }
    }

    /// Rows buffered.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no row is buffered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one row.
    pub fn push(&mut self, r: &FlowRow) {
        self.ts.append_value(r.ts_us);
        self.src.append_value(ip::to_i128(r.src));
        self.dst.append_value(ip::to_i128(r.dst));
        self.proto
            .append_value(r.proto.unwrap_or(Proto::Other).as_str());
        self.src_port.append_option(r.src_port);
        self.dst_port.append_value(r.dst_port);
        self.up.append_value(r.up);
        self.down.append_value(r.down);
        self.duration.append_option(r.duration);
        self.packets.append_option(r.packets);
        self.label.append_option(r.label.as_deref());
        self.len += 1;
    }

    /// Takes the buffered rows as a batch (the builder is empty afterwards).
    pub fn finish(&mut self) -> RecordBatch {
        let ip_col = |b: &mut Decimal128Builder| -> ArrayRef {
            Arc::new(
                b.finish()
                    .with_precision_and_scale(38, 0)
                    .expect("38,0 is a valid decimal type"),
            )
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.ts.finish()),
            ip_col(&mut self.src),
            ip_col(&mut self.dst),
            Arc::new(self.proto.finish()),
            Arc::new(self.src_port.finish()),
            Arc::new(self.dst_port.finish()),
            Arc::new(self.up.finish()),
            Arc::new(self.down.finish()),
            Arc::new(self.duration.finish()),
            Arc::new(self.packets.finish()),
            Arc::new(self.label.finish()),
        ];
        self.len = 0;
        RecordBatch::try_new(flow_schema(), columns)
            .expect("builder columns match the canonical schema")
    }
}
