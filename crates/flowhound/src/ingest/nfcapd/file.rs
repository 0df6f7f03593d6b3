//! nfcapd file layouts 1 (nfdump 1.6) and 2 (nfdump 1.7): headers, data blocks and their compression.
//!
//! Every length read from the file is checked against the bytes left in the file and against
//! [`MAX_BLOCK`] before any buffer is sized from it.

use super::lzo;
use super::NfcapdError;
use std::io::Read;

/// nfdump's magic, little-endian on disk.
pub const MAGIC: u16 = 0xA50C;
/// The largest data block accepted, compressed or not (nfdump writes blocks of at most 5 MiB).
pub const MAX_BLOCK: usize = 16 << 20;
const V1_HEADER: usize = 140;
const V1_STAT: usize = 136;
const V2_HEADER: usize = 40;
const BLOCK_HEADER: usize = 12;

/// Block compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain.
    None,
    /// LZO1X.
    Lzo,
    /// bzip2.
    Bz2,
    /// LZ4 block format.
    Lz4,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// The name shown in reports.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Lzo => "lzo",
            Compression::Bz2 => "bz2",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// What the file header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// 1 (nfdump 1.6) or 2 (nfdump 1.7).
    pub layout: u16,
    /// Compression of the data blocks.
    pub compression: Compression,
    /// Blocks announced (0 in files still being written).
    pub blocks: u32,
}

/// One data block, decompressed.
#[derive(Debug, Clone, Copy)]
pub struct BlockInfo {
    /// Records announced.
    pub records: u32,
    /// Block type (2: layout 1 records; 3: layout 2 records).
    pub kind: u16,
    /// File offset of the block header.
    pub offset: u64,
    /// Block number, from 0.
    pub index: u64,
}

/// Reads a file block by block, from any reader whose total length is known.
pub struct BlockReader<R> {
    r: R,
    /// File offset of the next byte.
    pos: u64,
    len: u64,
    /// The header.
    pub header: Header,
    raw: Vec<u8>,
    plain: Vec<u8>,
    plain_len: usize,
    index: u64,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl<R: Read> BlockReader<R> {
    /// Reads and checks the file header; `len` is the file's length in bytes.
    pub fn open(mut r: R, len: u64) -> Result<Self, NfcapdError> {
        let mut head = [0u8; V1_HEADER + V1_STAT];
        let want = V2_HEADER.min(len as usize);
        read_exact(&mut r, &mut head[..want], 0, "file header")?;
        if want < 4 {
            return Err(NfcapdError::Truncated {
                what: "file header",
                offset: 0,
                need: 4,
                have: len,
            });
        }
        let magic = le16(&head, 0);
        if magic != MAGIC {
            return Err(NfcapdError::BadMagic(magic));
        }
        let (header, used) = match le16(&head, 2) {
            1 => {
                need(len, 0, (V1_HEADER + V1_STAT) as u64, "layout 1 header")?;
                read_exact(
                    &mut r,
                    &mut head[want..V1_HEADER + V1_STAT],
                    want as u64,
                    "header",
                )?;
                (v1_header(&head)?, V1_HEADER + V1_STAT)
            }
            2 => {
                need(len, 0, V2_HEADER as u64, "layout 2 header")?;
                (v2_header(&head)?, V2_HEADER)
            }
            v => return Err(NfcapdError::Version(v)),
        };
        Ok(BlockReader {
            r,
            pos: used as u64,
            len,
            header,
            raw: Vec::new(),
            plain: Vec::new(),
            plain_len: 0,
            index: 0,
        })
    }

    /// The current block's records, decompressed.
    pub fn records(&self) -> &[u8] {
        &self.plain[..self.plain_len]
    }

    /// Reads the next block (its records are then in [`Self::records`]); `None` at the end of the file.
    pub fn next_block(&mut self) -> Result<Option<BlockInfo>, NfcapdError> {
        if self.pos == self.len {
            return Ok(None);
        }
        let offset = self.pos;
        need(self.len, offset, BLOCK_HEADER as u64, "data block header")?;
        let mut h = [0u8; BLOCK_HEADER];
        read_exact(&mut self.r, &mut h, offset, "data block header")?;
        let (records, size, kind, flags) = (le32(&h, 0), le32(&h, 4), le16(&h, 8), le16(&h, 10));
        let info = BlockInfo {
            records,
            kind,
            offset,
            index: self.index,
        };
        let body = offset + BLOCK_HEADER as u64;
        if size as usize > MAX_BLOCK {
            return Err(NfcapdError::BlockTooLarge {
                block: info.index,
                offset,
                size: size as u64,
            });
        }
        need(self.len, body, size as u64, "data block")?;
        // Only now, with the length checked against the file and the limit, is a buffer sized from it.
        self.raw.resize(size as usize, 0);
        read_exact(&mut self.r, &mut self.raw, body, "data block")?;
        self.pos = body + size as u64;
        self.index += 1;
        // Layout 2 marks blocks written uncompressed in a compressed file (appendix blocks).
        let compression = if self.header.layout == 2 && flags & 1 == 1 {
            Compression::None
        } else {
            self.header.compression
        };
        self.plain_len = decompress(compression, &self.raw, &mut self.plain).map_err(|why| {
            NfcapdError::Decompress {
                block: info.index,
                offset,
                codec: compression.name(),
                why,
            }
        })?;
        Ok(Some(info))
    }
}

fn need(len: u64, at: u64, n: u64, what: &'static str) -> Result<(), NfcapdError> {
    if at.saturating_add(n) > len {
        return Err(NfcapdError::Truncated {
            what,
            offset: at,
            need: n,
            have: len.saturating_sub(at),
        });
    }
    Ok(())
}

fn read_exact(
    r: &mut impl Read,
    buf: &mut [u8],
    at: u64,
    what: &'static str,
) -> Result<(), NfcapdError> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => NfcapdError::Truncated {
            what,
            offset: at,
            need: buf.len() as u64,
            have: 0,
        },
        _ => NfcapdError::Io(e),
    })
}

fn v1_header(h: &[u8]) -> Result<Header, NfcapdError> {
    let flags = le32(h, 4);
    let compression = match flags & 0x39 {
        0 => Compression::None,
        0x01 => Compression::Lzo,
        0x08 => Compression::Bz2,
        0x10 => Compression::Lz4,
        0x20 => Compression::Zstd,
        other => return Err(NfcapdError::Compression(other as u8)),
    };
    Ok(Header {
        layout: 1,
        compression,
        blocks: le32(h, 8),
    })
}

fn v2_header(h: &[u8]) -> Result<Header, NfcapdError> {
    let compression = match h[16] {
        0 => Compression::None,
        1 => Compression::Lzo,
        2 => Compression::Bz2,
        3 => Compression::Lz4,
        4 => Compression::Zstd,
        other => return Err(NfcapdError::Compression(other)),
    };
    if h[17] != 0 {
        return Err(NfcapdError::Encrypted);
    }
    Ok(Header {
        layout: 2,
        compression,
        blocks: le32(h, 36),
    })
}

/// Decompresses one block into `out`, producing at most [`MAX_BLOCK`] bytes; returns how many of
/// `out`'s bytes are the block (LZ4 keeps `out` at full size so that it is zeroed only once).
pub fn decompress(c: Compression, src: &[u8], out: &mut Vec<u8>) -> Result<usize, String> {
    if c != Compression::Lz4 {
        out.clear();
    }
    match c {
        Compression::None => out.extend_from_slice(src),
        Compression::Lzo => lzo::decompress(src, MAX_BLOCK, out).map_err(|e| e.to_string())?,
        Compression::Lz4 => return lz4(src, out),
        Compression::Zstd => {
            let d = zstd::stream::read::Decoder::with_buffer(src).map_err(|e| e.to_string())?;
            bounded(d, out, "zstd")?;
        }
        Compression::Bz2 => bounded(bzip2::read::BzDecoder::new(src), out, "bz2")?,
    }
    Ok(out.len())
}

/// Reads a decoder to its end into `out`, refusing more than [`MAX_BLOCK`] bytes.
fn bounded(d: impl Read, out: &mut Vec<u8>, codec: &str) -> Result<(), String> {
    d.take(MAX_BLOCK as u64 + 1)
        .read_to_end(out)
        .map_err(|e| e.to_string())?;
    if out.len() > MAX_BLOCK {
        return Err(format!(
            "{codec} output exceeds the {MAX_BLOCK}-byte block limit"
        ));
    }
    Ok(())
}

/// LZ4 blocks do not state their decompressed size: decode into `out`, growing it (zeroed once, kept
/// across blocks) from 8 times the input up to [`MAX_BLOCK`] while the output does not fit.
fn lz4(src: &[u8], out: &mut Vec<u8>) -> Result<usize, String> {
    let mut size = out.len().max((src.len() * 8).clamp(1 << 16, MAX_BLOCK));
    loop {
        if out.len() < size {
            out.resize(size, 0);
        }
        match lz4_flex::block::decompress_into(src, out) {
            Ok(n) => return Ok(n),
            Err(lz4_flex::block::DecompressError::OutputTooSmall { .. }) if size < MAX_BLOCK => {
                size = (size * 2).min(MAX_BLOCK);
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_round_trips_and_is_bounded() {
        let data: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut out = Vec::new();
        let z = zstd::bulk::compress(&data, 3).unwrap();
        let n = decompress(Compression::Zstd, &z, &mut out).unwrap();
        assert_eq!(&out[..n], &data[..]);
        let l = lz4_flex::block::compress(&data);
        let n = decompress(Compression::Lz4, &l, &mut out).unwrap();
        assert_eq!(&out[..n], &data[..]);
        let mut b = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        std::io::Write::write_all(&mut b, &data).unwrap();
        let n = decompress(Compression::Bz2, &b.finish().unwrap(), &mut out).unwrap();
        assert_eq!(&out[..n], &data[..]);
        // 32 MiB of zeros compress to a few KiB: refused at the block limit.
        let bomb = zstd::bulk::compress(&vec![0u8; 2 * MAX_BLOCK], 3).unwrap();
        assert!(decompress(Compression::Zstd, &bomb, &mut out).is_err());
        let bomb = lz4_flex::block::compress(&vec![0u8; 2 * MAX_BLOCK]);
        assert!(decompress(Compression::Lz4, &bomb, &mut out).is_err());
    }
}
