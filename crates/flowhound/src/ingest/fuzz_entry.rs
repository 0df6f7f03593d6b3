//! Byte-slice entry points into the readers, for the fuzz targets in `fuzz/` and for regression tests
//! of what they find. They run the same code as a file read (detection, header check, parse loop,
//! gzip and the resource caps) and only differ in where the bytes come from.

use super::input::{decode, detect_text};
use super::{parquet, text, Format, ReadOptions};
use crate::error::Result;
use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

/// The name the in-memory input goes by in messages.
const NAME: &str = "<fuzz input>";

/// Reads `data` as a text input (gzip when it starts with the gzip magic) in `format`, or in the
/// format detected from its first bytes when None. Returns the rows read.
pub fn parse_text(data: &[u8], format: Option<Format>) -> Result<u64> {
    let opts = ReadOptions::default();
    let path = Path::new(NAME);
    let bytes: Arc<[u8]> = Arc::from(data);
    let gz = data.starts_with(&[0x1f, 0x8b]);
    let open = || Ok(decode(Cursor::new(bytes.clone()), gz, &opts.limits));
    let format = match format {
        Some(f) => f,
        None => detect_text(path, &head(&open)?)?,
    };
    if format == Format::Parquet {
        return Ok(0);
    }
    text::check_header_with(path, format, &opts, &open)?;
    let mut held = Vec::new();
    let out = text::read_with(path, format, &opts, [&open, &open], &mut |b| {
        held.push(b);
        Ok(())
    })?;
    // as analyze reads it: one-way records stitched into biflows
    super::stitch::stitch_unit(held)?;
    Ok(out.rows_read)
}

/// The first 8 KiB of the decoded input, as format detection sees them.
fn head(open: text::Opener) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    open()?
        .take(8192)
        .read_to_end(&mut buf)
        .map_err(|e| super::input::gzip_error(Path::new(NAME), e))?;
    Ok(buf)
}

/// Reads `data` as a Parquet input (through a temporary file, as Parquet is read from files): plans
/// it and reads every row group. Returns the rows read.
pub fn parse_parquet(data: &[u8]) -> Result<u64> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let name = format!(".flowhound-fuzz-{}-{n}.parquet", std::process::id());
    let path = std::env::temp_dir().join(name);
    std::fs::write(&path, data).map_err(|e| crate::error::FlowError::io(&path, e))?;
    let out = read_parquet(&path);
    let _ = std::fs::remove_file(&path);
    out
}

fn read_parquet(path: &Path) -> Result<u64> {
    let opts = ReadOptions::default();
    let plan = parquet::plan(path, &opts)?;
    let mut rows = 0;
    for rg in 0..plan.row_groups.len() {
        let mut held = Vec::new();
        let emit = &mut |b| {
            held.push(b);
            Ok(())
        };
        rows += parquet::read_group(&plan, rg, &opts, emit)?.rows_read;
        super::stitch::stitch_unit(held)?;
    }
    Ok(rows)
}

/// Decodes `data` as a whole nfcapd file and maps every flow to a canonical row, as `convert` does.
/// Returns the flows decoded.
pub fn parse_nfcapd(data: &[u8]) -> std::result::Result<u64, super::nfcapd::NfcapdError> {
    use super::nfcapd;
    let out = nfcapd::decode(data, &mut |f| {
        std::hint::black_box(nfcapd::to_row(f, 1));
    })?;
    Ok(out.flows)
}

/// The marker of a datagram sequence for [`decode_datagrams`].
pub const DATAGRAMS_MAGIC: &[u8; 4] = b"FHNF";

/// Decodes NetFlow v5/v9/IPFIX datagrams as the collector does. `data` is one UDP payload, decoded with
/// a fresh parser (no templates known); or, when it starts with [`DATAGRAMS_MAGIC`], a sequence of
/// payloads each preceded by its length (u16, big endian), decoded in order by one decoder, so that the
/// templates of the first reach the data sets of the later ones. Returns the flows decoded.
pub fn decode_datagrams(data: &[u8]) -> u64 {
    use crate::collect::{decode_datagram, Decoder};
    let Some(mut rest) = data.strip_prefix(DATAGRAMS_MAGIC) else {
        return decode_datagram(data).1.flows;
    };
    let from = std::net::SocketAddr::from(([127, 0, 0, 1], 2055));
    let (mut decoder, mut out, mut flows) = (Decoder::default(), Vec::new(), 0);
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let end = (2 + len).min(rest.len());
        flows += decoder.datagram(from, &rest[2..end], &mut out).flows;
        out.clear();
        rest = &rest[end..];
    }
    flows
}
