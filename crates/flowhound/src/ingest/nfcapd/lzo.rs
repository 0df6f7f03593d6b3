//! A bounds-checked LZO1X decompressor (the format `nfcapd -z` writes; miniLZO's `lzo1x_1`).
//!
//! Written here because the published Rust LZO decoders either wrap C with unchecked output lengths or
//! subtract distances without checking them; a hostile block must fail with an error, never panic or
//! allocate past `cap`.

/// Why an LZO stream was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LzoError {
    /// The input ended inside an instruction.
    #[error("LZO input ends inside an instruction")]
    Truncated,
    /// A back-reference points before the start of the output.
    #[error("LZO back-reference {distance} bytes back, but only {produced} bytes were produced")]
    BadDistance {
        /// Distance requested.
        distance: usize,
        /// Bytes produced so far.
        produced: usize,
    },
    /// The output would exceed the caller's limit.
    #[error("LZO output exceeds the {cap}-byte block limit")]
    TooLarge {
        /// The limit.
        cap: usize,
    },
}

struct Input<'a> {
    b: &'a [u8],
    p: usize,
}

impl Input<'_> {
    fn byte(&mut self) -> Result<u8, LzoError> {
        let v = *self.b.get(self.p).ok_or(LzoError::Truncated)?;
        self.p += 1;
        Ok(v)
    }

    fn le16(&mut self) -> Result<usize, LzoError> {
        Ok(self.byte()? as usize | (self.byte()? as usize) << 8)
    }

    /// A run length: `base` plus 255 per zero byte plus the closing non-zero byte.
    fn run(&mut self, base: usize) -> Result<usize, LzoError> {
        let mut zeros = 0usize;
        loop {
            match self.byte()? {
                0 => zeros += 1,
                b => return Ok(base + zeros * 255 + b as usize),
            }
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], LzoError> {
        let end = self.p.checked_add(n).ok_or(LzoError::Truncated)?;
        let s = self.b.get(self.p..end).ok_or(LzoError::Truncated)?;
        self.p = end;
        Ok(s)
    }
}

fn literals(inp: &mut Input, out: &mut Vec<u8>, n: usize, cap: usize) -> Result<(), LzoError> {
    if out.len() + n > cap {
        return Err(LzoError::TooLarge { cap });
    }
    out.extend_from_slice(inp.take(n)?);
    Ok(())
}

fn copy_match(out: &mut Vec<u8>, distance: usize, len: usize, cap: usize) -> Result<(), LzoError> {
    if distance == 0 || distance > out.len() {
        return Err(LzoError::BadDistance {
            distance,
            produced: out.len(),
        });
    }
    if out.len() + len > cap {
        return Err(LzoError::TooLarge { cap });
    }
    let start = out.len() - distance;
    for i in 0..len {
        out.push(out[start + i]);
    }
    Ok(())
}

/// Decompresses one LZO1X stream into `out` (cleared first), producing at most `cap` bytes.
pub fn decompress(src: &[u8], cap: usize, out: &mut Vec<u8>) -> Result<(), LzoError> {
    out.clear();
    let mut inp = Input { b: src, p: 0 };
    let mut state = 0usize;
    match src.first() {
        Some(&b) if b >= 22 => {
            inp.p = 1;
            literals(&mut inp, out, b as usize - 17, cap)?;
            state = 4;
        }
        Some(&b) if b >= 18 => {
            inp.p = 1;
            state = b as usize - 17;
            literals(&mut inp, out, state, cap)?;
        }
        _ => {}
    }
    loop {
        let inst = inp.byte()? as usize;
        let (distance, len, next) = if inst >= 64 {
            let h = inp.byte()? as usize;
            ((h << 3) + ((inst >> 2) & 7) + 1, (inst >> 5) + 1, inst & 3)
        } else if inst >= 32 {
            let len = match inst & 31 {
                0 => inp.run(31)? + 2,
                l => l + 2,
            };
            let ds = inp.le16()?;
            ((ds >> 2) + 1, len, ds & 3)
        } else if inst >= 16 {
            let len = match inst & 7 {
                0 => inp.run(7)? + 2,
                l => l + 2,
            };
            let ds = inp.le16()?;
            let d = ((inst & 8) << 11) + (ds >> 2);
            if d == 0 {
                return Ok(());
            }
            (d + 16384, len, ds & 3)
        } else if state == 0 {
            let len = match inst {
                0 => inp.run(15)? + 3,
                l => l + 3,
            };
            literals(&mut inp, out, len, cap)?;
            state = 4;
            continue;
        } else {
            let h = inp.byte()? as usize;
            let (base, len) = if state == 4 { (2049, 3) } else { (1, 2) };
            ((h << 2) + (inst >> 2) + base, len, inst & 3)
        };
        copy_match(out, distance, len, cap)?;
        literals(&mut inp, out, next, cap)?;
        state = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_only_stream() {
        // 22 + 5 = copy 5 literals, then the end marker (M4 with distance 0).
        let src = [17 + 5, b'h', b'e', b'l', b'l', b'o', 0x11, 0, 0];
        let mut out = Vec::new();
        decompress(&src, 100, &mut out).unwrap();
        assert_eq!(out, b"hello");
    }

    #[test]
    fn hostile_streams_are_errors() {
        let mut out = Vec::new();
        let cases: [&[u8]; 5] = [
            &[],
            &[17 + 5, b'h'],
            &[17 + 4, b'a', b'b', b'c', b'd', 0x40 | 0x1c, 0xff],
            &[0, 0, 0, 0],
            &[
                17 + 4,
                b'a',
                b'b',
                b'c',
                b'd',
                0x20,
                0,
                0,
                0,
                0xff,
                0x04,
                0x00,
            ],
        ];
        for c in cases {
            assert!(decompress(c, 1 << 20, &mut out).is_err(), "{c:?}");
        }
        // A long run that would exceed the cap.
        let src = [17 + 4, b'a', b'b', b'c', b'd', 0x20, 0, 0, 0xff, 0x00, 0x00];
        assert!(matches!(
            decompress(&src, 64, &mut out),
            Err(LzoError::TooLarge { .. }) | Err(LzoError::Truncated)
        ));
    }
}
