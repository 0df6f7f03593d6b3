//! nfdump's nfcapd files (layout 1 from nfdump 1.6, layout 2 from nfdump 1.7; uncompressed, LZO, BZ2,
//! LZ4 or ZSTD blocks; IPv4 and IPv6) mapped to the canonical schema. See `docs/nfcapd.md`.
//!
//! [`decode`] is the whole decoder over a byte slice (what a fuzz target calls); [`read`] streams a
//! file block by block into canonical batches.

pub mod file;
pub mod lzo;
pub mod record;

pub use record::{Exporter, NfFlow};

use super::builder::{FlowBuilder, FlowRow, BATCH_ROWS};
use super::report::ReadOutcome;
use super::ReadOptions;
use crate::error::{FlowError, Result};
use crate::schema::Proto;
use datafusion::arrow::record_batch::RecordBatch;
use file::BlockReader;
use record::{At, Decoder};
use std::io::Read;
use std::path::Path;

/// Why an nfcapd file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum NfcapdError {
    /// Not nfdump's magic.
    #[error("not an nfcapd file (magic {0:#06x}, nfdump writes 0xa50c)")]
    BadMagic(u16),
    /// A layout other than 1 or 2.
    #[error("nfcapd layout {0} is not supported (flowhound reads layout 1 from nfdump 1.6 and layout 2 from nfdump 1.7); rewrite it with nfdump 1.7: nfdump -r FILE -w NEW")]
    Version(u16),
    /// Unknown compression.
    #[error("unknown block compression {0} (flowhound reads none, LZO, BZ2, LZ4 and ZSTD)")]
    Compression(u8),
    /// Encrypted blocks.
    #[error("the file is encrypted; flowhound reads unencrypted nfcapd files only")]
    Encrypted,
    /// The file ends early.
    #[error("truncated: the {what} at byte {offset} needs {need} bytes but {have} remain (was the file still being written, or cut short in a copy?)")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Its offset.
        offset: u64,
        /// Bytes needed.
        need: u64,
        /// Bytes left.
        have: u64,
    },
    /// A block length beyond any nfdump writes.
    #[error("data block {block} at byte {offset} claims {size} bytes, more than the {} MiB limit: the file is damaged", file::MAX_BLOCK >> 20)]
    BlockTooLarge {
        /// Block number.
        block: u64,
        /// File offset.
        offset: u64,
        /// Claimed size.
        size: u64,
    },
    /// A block that does not decompress.
    #[error("data block {block} at byte {offset}: {codec} data does not decompress ({why}): the file is damaged")]
    Decompress {
        /// Block number.
        block: u64,
        /// File offset.
        offset: u64,
        /// Codec name.
        codec: &'static str,
        /// The decoder's message.
        why: String,
    },
    /// A record that does not parse.
    #[error("data block {block} at byte {offset}, record {record}: {why}: the file is damaged")]
    BadRecord {
        /// Block number.
        block: u64,
        /// File offset of the block.
        offset: u64,
        /// Record number within the block, from 0.
        record: u32,
        /// What is wrong.
        why: String,
    },
    /// An I/O error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What a decode found besides the flows.
#[derive(Debug, Default, Clone)]
pub struct Decoded {
    /// Layout (1 or 2).
    pub layout: u16,
    /// Block compression name.
    pub compression: &'static str,
    /// Flows decoded.
    pub flows: u64,
    /// Exporters, by sysid.
    pub exporters: Vec<Exporter>,
}

/// Decodes a whole nfcapd file held in memory, calling `on_flow` for every flow. Never panics on any
/// input; memory is bounded by [`file::MAX_BLOCK`] per buffer.
pub fn decode(
    bytes: &[u8],
    on_flow: &mut dyn FnMut(&NfFlow),
) -> std::result::Result<Decoded, NfcapdError> {
    decode_from(bytes, bytes.len() as u64, on_flow)
}

/// Decodes from any reader of known length (a file), calling `on_flow` for every flow.
pub fn decode_from(
    r: impl Read,
    len: u64,
    on_flow: &mut dyn FnMut(&NfFlow),
) -> std::result::Result<Decoded, NfcapdError> {
    let mut blocks = BlockReader::open(r, len)?;
    let mut dec = Decoder::default();
    let mut flows = 0u64;
    let mut count = |f: &NfFlow| {
        flows += 1;
        on_flow(f)
    };
    while let Some(b) = blocks.next_block()? {
        let at = At {
            block: b.index,
            offset: b.offset,
        };
        dec.block(b.kind, b.records, blocks.records(), at, &mut count)?;
    }
    let mut exporters: Vec<Exporter> = dec.exporters.into_values().collect();
    exporters.sort_by_key(|e| e.sysid);
    Ok(Decoded {
        layout: blocks.header.layout,
        compression: blocks.header.compression.name(),
        flows,
        exporters,
    })
}

/// Maps one nfdump flow to a canonical row. `rate` multiplies the counters (`--apply-sampling`).
pub fn to_row(f: &NfFlow, rate: u64) -> FlowRow {
    let scale = |v: u64| v.saturating_mul(rate);
    FlowRow {
        ts_us: (f.first_ms as i64).saturating_mul(1000),
        src: f.src,
        dst: f.dst,
        proto: Some(Proto::from_number(f.proto as i64)),
        src_port: Some(f.src_port),
        dst_port: f.dst_port,
        up: scale(f.in_bytes),
        down: scale(f.out_bytes),
        duration: (f.last_ms >= f.first_ms).then(|| (f.last_ms - f.first_ms) as f64 / 1000.0),
        packets: Some(scale(f.in_packets.saturating_add(f.out_packets))),
        label: None,
    }
}

fn corrupt(path: &Path, e: NfcapdError) -> FlowError {
    match e {
        NfcapdError::Io(source) => FlowError::io(path, source),
        e => FlowError::Corrupt {
            path: path.to_path_buf(),
            why: format!("nfcapd: {e}"),
        },
    }
}

/// Checks the header (called when the plan is built).
pub fn check(path: &Path) -> Result<()> {
    let f = std::fs::File::open(path).map_err(|e| FlowError::io(path, e))?;
    let len = f.metadata().map_err(|e| FlowError::io(path, e))?.len();
    BlockReader::open(std::io::BufReader::new(f), len).map_err(|e| corrupt(path, e))?;
    Ok(())
}

/// The factor applied to a flow's counters: its exporter's sampling rate with `--apply-sampling`,
/// unless the collector already scaled the record.
fn rate_of(f: &NfFlow, apply: bool) -> u64 {
    if !apply || f.sampled {
        return 1;
    }
    f.sampling.max(1) as u64
}

/// Reads one nfcapd file into canonical batches.
pub fn read(
    path: &Path,
    opts: &ReadOptions,
    emit: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<ReadOutcome> {
    let f = std::fs::File::open(path).map_err(|e| FlowError::io(path, e))?;
    let len = f.metadata().map_err(|e| FlowError::io(path, e))?.len();
    let counted = super::input::Counting::new(f, opts.progress.clone());
    let mut builder = FlowBuilder::new();
    let mut err: Option<FlowError> = None;
    let mut on_flow = |fl: &NfFlow| {
        if err.is_some() {
            return;
        }
        builder.push(&to_row(fl, rate_of(fl, opts.apply_sampling)));
        if builder.len() >= BATCH_ROWS {
            if let Err(e) = emit(builder.finish()) {
                err = Some(e);
            }
        }
    };
    let decoded = decode_from(
        std::io::BufReader::with_capacity(1 << 20, counted),
        len,
        &mut on_flow,
    )
    .map_err(|e| corrupt(path, e))?;
    if let Some(e) = err {
        return Err(e);
    }
    if !builder.is_empty() {
        emit(builder.finish())?;
    }
    if decoded.flows == 0 {
        return Err(FlowError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(ReadOutcome {
        rows_read: decoded.flows,
        exporters: decoded.exporters,
        ..Default::default()
    })
}
