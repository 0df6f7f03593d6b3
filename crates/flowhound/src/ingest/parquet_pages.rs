//! A check of the page headers of a Parquet file, before the parquet crate decompresses its pages.
//!
//! Two kinds of damage found by the `parquet` fuzz target are refused here, in the file's own terms:
//! - parquet 59 sizes the buffer of a SNAPPY or LZ4 page from the page header's `uncompressed_page_size`
//!   and fills it with zeros before it decompresses (`Vec::resize`), so a damaged header claiming 2 GiB
//!   makes it write 2 GiB of memory for a page of a few bytes, one reader thread per row group at once
//!   (out of memory on a 20 KB file). Those codecs cannot expand more than a fixed ratio (a snappy copy
//!   writes at most 64 bytes from 3; an LZ4 length byte adds at most 255), so a page that claims more
//!   than its codec can produce from its compressed bytes is damaged, whatever the data. GZIP, ZSTD and
//!   BROTLI pages are decompressed as a stream (memory follows the real output): not size-checked.
//! - a header that does not parse inside its column chunk (a Thrift list claiming more elements than
//!   the chunk has bytes made the crate's reader skip each one at end of file, for minutes).
//!
//! The page headers are Thrift compact-protocol structs; only the two sizes are read and every other
//! field is skipped.

use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::metadata::ColumnChunkMetaData;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

/// Bytes read at first for a page header; doubled while the header runs past them.
const FIRST_READ: usize = 512;
/// A page header longer than this is not walked (statistics of a huge text value): left to the crate.
const MAX_HEADER: u64 = 16 << 20;
/// Thrift nesting deeper than this is damage (a page header nests three levels).
const MAX_DEPTH: usize = 16;
/// Slack for the framing of a compressed page (snappy's length prefix, LZ4 Hadoop's block headers).
const SLACK_BYTES: u64 = 1024;

/// A damaged page header, found before decompression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageDamage {
    /// The page claims more bytes than its codec can produce from its compressed bytes.
    Implausible {
        /// The page's position in its column chunk (0 = first, the dictionary page when there is one).
        page: usize,
        /// The declared uncompressed size.
        uncompressed: i64,
        /// The declared compressed size.
        compressed: i64,
        /// The most the codec expands one byte to.
        max_ratio: u64,
    },
    /// The header does not parse inside the column chunk.
    Unreadable {
        /// The page's position in its column chunk.
        page: usize,
    },
}

impl std::fmt::Display for PageDamage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Implausible {
                page,
                uncompressed,
                compressed,
                max_ratio,
            } => write!(
                f,
                "page {page} claims {uncompressed} bytes uncompressed from {compressed} compressed \
                 bytes, more than its codec can produce (at most {max_ratio}x)"
            ),
            Self::Unreadable { page } => {
                write!(
                    f,
                    "page {page}: its header does not parse inside the column chunk"
                )
            }
        }
    }
}

/// The most one compressed byte of `codec` expands to, for the codecs whose pages the parquet crate
/// pre-sizes; None for the others.
fn max_ratio(codec: Compression) -> Option<u64> {
    match codec {
        // copy with a 2-byte offset: 3 bytes write 64 (21.3x)
        Compression::SNAPPY => Some(22),
        // each extra length byte of a sequence adds at most 255
        Compression::LZ4 | Compression::LZ4_RAW => Some(256),
        _ => None,
    }
}

/// The first damaged page header of column chunk `col`, if any. A chunk whose bounds are negative, or
/// a header past [`MAX_HEADER`] or unreadable from the file, is left to the parquet crate.
pub fn check_chunk(file: &File, col: &ColumnChunkMetaData) -> Option<PageDamage> {
    let ratio = max_ratio(col.compression());
    let start = col
        .dictionary_page_offset()
        .unwrap_or(col.data_page_offset());
    let (Ok(mut at), Ok(len)) = (u64::try_from(start), u64::try_from(col.compressed_size())) else {
        return None;
    };
    let end = at.saturating_add(len);
    let mut page = 0;
    while at < end {
        let (header_len, sizes) = match read_header(file, at, end - at)? {
            Header::Parsed(n, sizes) => (n, sizes),
            Header::Damaged => return Some(PageDamage::Unreadable { page }),
        };
        let (uncompressed, compressed) = (sizes.uncompressed?, sizes.compressed?);
        let c = u64::try_from(compressed).ok()?;
        if let Some(max_ratio) = ratio {
            let limit = c.saturating_mul(max_ratio).saturating_add(SLACK_BYTES);
            if u64::try_from(uncompressed).is_ok_and(|u| u > limit) {
                return Some(PageDamage::Implausible {
                    page,
                    uncompressed,
                    compressed,
                    max_ratio,
                });
            }
        }
        at = at.saturating_add(header_len as u64).saturating_add(c);
        page += 1;
    }
    None
}

/// What a page header's bytes are.
enum Header {
    /// Its length and sizes.
    Parsed(usize, Sizes),
    /// It does not parse within the bytes left in its chunk.
    Damaged,
}

/// The two sizes of a page header.
#[derive(Debug, Default, PartialEq, Eq)]
struct Sizes {
    uncompressed: Option<i64>,
    compressed: Option<i64>,
}

/// The header at byte `at`, `left` bytes before its chunk ends; None when it cannot be read from the
/// file or runs past [`MAX_HEADER`].
fn read_header(mut file: &File, at: u64, left: u64) -> Option<Header> {
    let mut want = (FIRST_READ as u64).min(left);
    loop {
        file.seek(SeekFrom::Start(at)).ok()?;
        let mut buf = Vec::with_capacity(want as usize);
        let got = file.take(want).read_to_end(&mut buf).ok()? as u64;
        let mut r = Compact::new(&buf, left);
        match r.page_header() {
            Some(sizes) => return Some(Header::Parsed(r.pos, sizes)),
            None if r.malformed || (got == left && want == left) => return Some(Header::Damaged),
            None if got < want || want >= MAX_HEADER => return None,
            None => want = (want * 2).min(left),
        }
    }
}

/// A reader of Thrift's compact protocol over the first bytes of what is left of a column chunk; every
/// read is None past the slice's end, and bytes that no longer input could make valid set `malformed`.
struct Compact<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Bytes from the slice's start to its chunk's end.
    chunk_left: u64,
    malformed: bool,
}

impl<'a> Compact<'a> {
    fn new(buf: &'a [u8], chunk_left: u64) -> Self {
        Self {
            buf,
            pos: 0,
            chunk_left,
            malformed: false,
        }
    }

    fn damaged<T>(&mut self) -> Option<T> {
        self.malformed = true;
        None
    }

    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn skip(&mut self, n: u64) -> Option<()> {
        let end = (self.pos as u64).saturating_add(n);
        if end > self.chunk_left {
            return self.damaged();
        }
        let end = usize::try_from(end).ok()?;
        (end <= self.buf.len()).then(|| self.pos = end)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        self.damaged()
    }

    fn zigzag(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// PageHeader: field 2 is `uncompressed_page_size`, field 3 `compressed_page_size` (both i32).
    fn page_header(&mut self) -> Option<Sizes> {
        let mut sizes = Sizes::default();
        self.fields(0, |r, id, ty| match (id, ty) {
            (2, 5) => r.zigzag().map(|v| sizes.uncompressed = Some(v)),
            (3, 5) => r.zigzag().map(|v| sizes.compressed = Some(v)),
            _ => r.value(ty, 1),
        })?;
        Some(sizes)
    }

    /// The fields of a struct up to its stop byte, each handed to `field(reader, id, type)`.
    fn fields(
        &mut self,
        depth: usize,
        mut field: impl FnMut(&mut Self, i64, u8) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return self.damaged();
        }
        let mut last = 0i64;
        loop {
            let head = self.byte()?;
            let ty = head & 0x0f;
            if ty == 0 {
                return Some(());
            }
            let delta = i64::from(head >> 4);
            last = if delta == 0 {
                self.zigzag()?
            } else {
                last + delta
            };
            field(self, last, ty)?;
        }
    }

    /// Skips one value of compact type `ty` (a struct's field; inside lists booleans are bytes).
    fn value(&mut self, ty: u8, depth: usize) -> Option<()> {
        match ty {
            1 | 2 => Some(()),
            3 => self.skip(1),
            4..=6 => self.varint().map(drop),
            7 => self.skip(8),
            8 => {
                let n = self.varint()?;
                self.skip(n)
            }
            9 | 10 => self.list(depth),
            11 => self.map(depth),
            12 => self.fields(depth, |r, _, t| r.value(t, depth + 1)),
            13 => self.skip(16),
            _ => self.damaged(),
        }
    }

    fn list(&mut self, depth: usize) -> Option<()> {
        let head = self.byte()?;
        let n = match head >> 4 {
            15 => self.varint()?,
            n => u64::from(n),
        };
        self.elements(n, &[head & 0x0f], depth)
    }

    fn map(&mut self, depth: usize) -> Option<()> {
        let n = self.varint()?;
        if n == 0 {
            return Some(());
        }
        let kv = self.byte()?;
        self.elements(n, &[kv >> 4, kv & 0x0f], depth)
    }

    /// `n` elements, each one value of every type in `types`; a boolean element is one byte.
    fn elements(&mut self, n: u64, types: &[u8], depth: usize) -> Option<()> {
        if n > self.chunk_left.saturating_sub(self.pos as u64) {
            return self.damaged(); // every element takes at least a byte
        }
        for _ in 0..n {
            for &t in types {
                match t {
                    1 | 2 => self.skip(1)?,
                    _ => self.value(t, depth + 1)?,
                }
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zz(v: i64) -> Vec<u8> {
        let mut u = ((v << 1) ^ (v >> 63)) as u64;
        let mut out = vec![];
        loop {
            let b = (u & 0x7f) as u8;
            u >>= 7;
            if u == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    /// type=DATA_PAGE(0), uncompressed, compressed, then a data_page_header struct (field 5) holding
    /// num_values and a statistics struct with a binary max value, then stop.
    fn header(uncompressed: i64, compressed: i64) -> Vec<u8> {
        let mut h = vec![0x15];
        h.extend(zz(0));
        h.push(0x15);
        h.extend(zz(uncompressed));
        h.push(0x15);
        h.extend(zz(compressed));
        h.push(0x2c); // field 5, struct
        h.push(0x15);
        h.extend(zz(12)); // num_values
        h.push(0x4c); // field 5 (statistics), struct
        h.extend([0x18, 3, b'a', b'b', b'c']); // field 1, binary "abc"
        h.extend([0x19, 0x25, 1, 2]); // field 2, list of two i32
        h.extend([0x00, 0x00, 0x00]); // stops: statistics, data_page_header, page header
        h
    }

    #[test]
    fn page_headers_parse_to_their_sizes_and_length() {
        let cases: &[(i64, i64)] = &[(0, 0), (100, 40), (1 << 20, 70_000), (i32::MAX as i64, 3)];
        for &(u, c) in cases {
            let h = header(u, c);
            let mut r = Compact::new(&h, 1 << 30);
            let sizes = r.page_header().expect("parses");
            assert_eq!(sizes.uncompressed, Some(u), "{u} {c}");
            assert_eq!(sizes.compressed, Some(c));
            assert_eq!(r.pos, h.len(), "the header's length is all its bytes");
        }
    }

    /// (bytes, bytes left in the chunk, damaged): a header cut short by the read is not damage (more is
    /// read), one that no longer chunk could complete is.
    #[test]
    fn truncated_or_hostile_headers() {
        let h = header(100, 40);
        let deep: Vec<u8> = std::iter::repeat_n(0x1c, 100).collect(); // struct in struct ...
        let long_list = [0x19, 0xf5, 0xff, 0xff, 0xff, 0xff, 0x0f]; // 2^32 elements claimed
        let long_binary = [0x18, 0xff, 0xff, 0x03, b'a']; // 65535 bytes claimed
        let bad_type = [0x1e, 0x00];
        let cases: Vec<(&[u8], u64, bool)> = vec![
            (&h[..5], 1 << 30, false),
            (&h[..h.len() - 1], 1 << 30, false),
            (&deep, 1 << 30, true),
            (&long_list, 1 << 20, true),
            (&long_binary, 1 << 20, false),
            (&long_binary, 1000, true),
            (&bad_type, 1 << 20, true),
        ];
        for (i, (bytes, left, damaged)) in cases.into_iter().enumerate() {
            let mut r = Compact::new(bytes, left);
            assert_eq!(r.page_header(), None, "case {i}");
            assert_eq!(r.malformed, damaged, "case {i}");
        }
    }

    #[test]
    fn codec_ratios() {
        assert_eq!(max_ratio(Compression::SNAPPY), Some(22));
        assert_eq!(max_ratio(Compression::LZ4_RAW), Some(256));
        assert_eq!(max_ratio(Compression::UNCOMPRESSED), None);
        assert_eq!(max_ratio(Compression::ZSTD(Default::default())), None);
    }
}
