//! flowhound's own compact geo database format (`.fhg`), used for the embedded
//! default database. Specification: `docs/geo-format.md`.
//!
//! In short: the magic `FHGEODB1`, then two zlib-compressed sections, each
//! preceded by its raw and compressed lengths (u32 LE). Section 1 holds metadata
//! strings, a country palette, an ASN table (number + organisation) and the IPv4
//! country and ASN range tables; section 2 the IPv6 ones (decoded on first IPv6
//! lookup, which keeps start-up short). A range table is a run of delta-coded
//! range starts followed by palette or ASN indexes (0 = no data); a table entry
//! lasts until the next entry's start, so the tables cover the space without gaps.
//!
//! [`FhgBuilder`] writes the format (from ip-location-db CSV files or ranges given
//! one by one); [`FhgDb`] reads it into a merged, indexed in-memory table.

mod builder;
mod reader;

pub use builder::FhgBuilder;
pub use reader::{FhgDb, RangesV4};

/// File magic.
pub const MAGIC: &[u8; 8] = b"FHGEODB1";

/// Largest section accepted when reading (defends against decompression bombs).
pub const MAX_BODY: usize = 256 << 20;

/// Bits of a packed value holding the AS index (the country palette index sits above).
pub(crate) const ASN_BITS: u32 = 23;

/// Appends `v` as unsigned LEB128.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends a length-prefixed UTF-8 string.
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u128);
    out.extend_from_slice(s.as_bytes());
}

/// A bounds-checked cursor over the body; every read returns `None` past the end
/// or on malformed data.
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    /// Unsigned LEB128 that must fit 64 bits (the fast path for IPv4 tables and ids).
    #[inline]
    pub(crate) fn varint64(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = *self.data.get(self.pos)?;
            self.pos += 1;
            let part = u64::from(b & 0x7f);
            if i == 9 && part > 1 {
                return None;
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// Unsigned LEB128, at most 19 bytes (128 bits).
    pub(crate) fn varint(&mut self) -> Option<u128> {
        let mut v = 0u128;
        for i in 0..19 {
            let b = self.u8()?;
            let part = u128::from(b & 0x7f);
            v |= part.checked_shl(7 * i).filter(|s| s >> (7 * i) == part)?;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// A varint that must fit `usize` and be at most `self.remaining()` (a count
    /// of items each taking at least one byte).
    pub(crate) fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.varint()?).ok()?;
        (n <= self.remaining()).then_some(n)
    }

    pub(crate) fn string(&mut self) -> Option<&'a str> {
        let n = self.count()?;
        std::str::from_utf8(self.bytes(n)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip() {
        for v in [
            0u128,
            1,
            127,
            128,
            300,
            u32::MAX as u128,
            u64::MAX as u128,
            u128::MAX,
            1 << 100,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut c = Cursor::new(&out);
            assert_eq!(c.varint(), Some(v));
            assert_eq!(c.remaining(), 0);
        }
        assert_eq!(Cursor::new(&[0x80, 0x80]).varint(), None);
        assert_eq!(Cursor::new(&[0xff; 30]).varint(), None);
        for v in [0u64, 1, 127, 128, 1 << 35, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, u128::from(v));
            assert_eq!(Cursor::new(&out).varint64(), Some(v));
        }
        let mut big = Vec::new();
        put_varint(&mut big, u128::from(u64::MAX) + 1);
        assert_eq!(Cursor::new(&big).varint64(), None);
    }
}
