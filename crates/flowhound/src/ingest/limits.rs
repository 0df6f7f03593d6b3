//! Resource caps of the text readers, so memory stays bounded whatever the input:
//!
//! - a line cap ([`Limits::max_line_bytes`]): a longer line (a CSV record, counting quoted line breaks)
//!   is a bad row with its line number, skipped to its end without ever being buffered whole;
//! - a gzip expansion cap ([`Limits::max_gzip_ratio`]): a file that decompresses to more than that
//!   many times the compressed bytes read (past [`GZIP_RATIO_FLOOR`]) is refused as a likely bomb.
//!
//! A field cannot be longer than its line, so the line cap is also the field cap.

use std::io::{BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Default line cap: 1 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;
/// Default gzip expansion cap (decompressed bytes per compressed byte).
pub const DEFAULT_MAX_GZIP_RATIO: u64 = 200;
/// Output below this size is never refused for its ratio (small, very repetitive files are fine).
pub const GZIP_RATIO_FLOOR: u64 = 64 << 20;
/// Why an over-long line is skipped.
pub const TOO_LONG: &str = "line longer than the cap (raise it with --max-line-bytes)";
/// How much of an over-long line the bad-row sample shows.
const SAMPLE_BYTES: usize = 120;

/// Resource caps of the text readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line (or CSV record) kept, in bytes.
    pub max_line_bytes: usize,
    /// Largest gzip expansion ratio accepted (past [`GZIP_RATIO_FLOOR`] of output).
    pub max_gzip_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_gzip_ratio: DEFAULT_MAX_GZIP_RATIO,
        }
    }
}

/// One line read under the cap.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// End of input.
    End,
    /// A line (in the caller's buffer, without its ending).
    Text,
    /// A line longer than the cap: skipped to its end; the buffer holds its first bytes.
    TooLong,
}

/// Reads the next line into `buf` without its ending ("\n" or "\r\n"), keeping at most `cap` bytes
/// in memory: a longer line is consumed to its end and reported as [`Line::TooLong`].
pub fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>, cap: usize) -> std::io::Result<Line> {
    buf.clear();
    let (mut seen, mut any) = (0usize, false);
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = cap.saturating_add(2).saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..take.min(room)]);
        seen = seen.saturating_add(take);
        reader.consume(take);
        if done {
            break;
        }
    }
    if !any {
        return Ok(Line::End);
    }
    let ending = strip_ending(buf);
    if seen - ending > cap {
        buf.truncate(SAMPLE_BYTES.min(buf.len()));
        return Ok(Line::TooLong);
    }
    Ok(Line::Text)
}

/// Removes a trailing "\n" or "\r\n"; returns how many bytes it removed.
fn strip_ending(buf: &mut Vec<u8>) -> usize {
    if buf.last() != Some(&b'\n') {
        return 0;
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
        return 2;
    }
    1
}

/// Where a CSV byte stands, mirroring the quoting rules of the `csv` crate (double-quote escapes,
/// a quote opens a quoted field only at the start of a field; "\r" and "\n" end records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    /// At the start of a field (or record).
    FieldStart,
    /// Inside a field that did not start with a quote (quotes in it are literal).
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: an escaped quote, or the end of the field.
    Pending,
}

/// A reader in front of the `csv` crate that caps records: a record (with its quoted line breaks)
/// longer than the cap is replaced by as many empty lines as it spanned, which the `csv` crate skips
/// while keeping its line numbers; its first line number is kept for [`CsvGuard::take_before`].
pub struct CsvGuard<R> {
    inner: R,
    records: Records,
}

/// The record splitter of a [`CsvGuard`].
struct Records {
    delimiter: u8,
    cap: usize,
    state: Quote,
    /// The current record so far (at most `cap` + 2 bytes).
    record: Vec<u8>,
    /// Bytes of the current record, kept or not.
    record_len: usize,
    /// Line breaks inside the current record.
    record_newlines: usize,
    /// The current record is over the cap and being skipped.
    skipping: bool,
    /// Line number (1-based) where the current record starts.
    record_line: u64,
    /// Lines started so far.
    line: u64,
    /// Bytes ready for the `csv` crate.
    out: Vec<u8>,
    out_pos: usize,
    /// First lines of skipped records, in order.
    too_long: std::collections::VecDeque<(u64, Vec<u8>)>,
    eof: bool,
}

impl<R: BufRead> CsvGuard<R> {
    /// Guards `inner`, a CSV stream with `delimiter`, with a record cap of `cap` bytes.
    pub fn new(inner: R, delimiter: u8, cap: usize) -> Self {
        let records = Records {
            delimiter,
            cap,
            state: Quote::FieldStart,
            record: Vec::new(),
            record_len: 0,
            record_newlines: 0,
            skipping: false,
            record_line: 1,
            line: 1,
            out: Vec::new(),
            out_pos: 0,
            too_long: Default::default(),
            eof: false,
        };
        CsvGuard { inner, records }
    }

    /// Removes and returns the over-long records that start before `line` (with their first bytes).
    pub fn take_before(&mut self, line: u64) -> Vec<(u64, Vec<u8>)> {
        let q = &mut self.records.too_long;
        let n = q.iter().take_while(|(l, _)| *l < line).count();
        q.drain(..n).collect()
    }

    /// Removes and returns every over-long record found so far.
    pub fn take_all(&mut self) -> Vec<(u64, Vec<u8>)> {
        self.records.too_long.drain(..).collect()
    }

    /// Moves the next bytes of `inner` through the record splitter into its output.
    fn refill(&mut self) -> std::io::Result<()> {
        let r = &mut self.records;
        r.out.clear();
        r.out_pos = 0;
        while r.out.is_empty() && !r.eof {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                r.eof = true;
                r.end_record();
                break;
            }
            let n = chunk.len();
            r.process(chunk);
            self.inner.consume(n);
        }
        Ok(())
    }
}

impl Records {
    /// Runs a chunk through the splitter: runs of bytes that cannot change the quoting state or end a
    /// line are taken whole, the others one by one.
    fn process(&mut self, chunk: &[u8]) {
        let mut i = 0;
        while i < chunk.len() {
            let rest = &chunk[i..];
            let quiet = match self.state {
                Quote::Quoted => memchr::memchr2(b'"', b'\n', rest),
                Quote::Unquoted => memchr::memchr3(self.delimiter, b'\n', b'\r', rest),
                Quote::FieldStart | Quote::Pending => Some(0),
            }
            .unwrap_or(rest.len());
            if quiet > 0 {
                self.take_run(&rest[..quiet]);
                i += quiet;
            } else {
                self.push(rest[0]);
                i += 1;
            }
        }
    }

    /// Takes bytes that leave the state as it is and hold no line break.
    fn take_run(&mut self, run: &[u8]) {
        self.record_len += run.len();
        if self.skipping {
            return;
        }
        let room = self.cap.saturating_add(2).saturating_sub(self.record.len());
        if run.len() <= room {
            self.record.extend_from_slice(run);
        } else {
            self.record.extend_from_slice(&run[..room]);
            self.start_skipping();
        }
    }

    fn push(&mut self, b: u8) {
        self.state = next_state(self.state, b, self.delimiter);
        self.record_len += 1;
        if b == b'\n' {
            self.line += 1;
            self.record_newlines += 1;
        }
        if self.skipping {
            // a skipped record's line breaks go straight out: nothing of it is held
            if b == b'\n' {
                self.out.push(b'\n');
            }
        } else if self.record_len > self.cap.saturating_add(2) {
            self.start_skipping();
        } else {
            self.record.push(b);
        }
        if self.state == Quote::FieldStart && (b == b'\n' || b == b'\r') {
            self.end_record();
        }
    }

    /// Drops the record held so far, keeping its first bytes as the sample and its line breaks.
    fn start_skipping(&mut self) {
        self.skipping = true;
        let sample = self.record[..SAMPLE_BYTES.min(self.record.len())].to_vec();
        self.too_long.push_back((self.record_line, sample));
        self.record = Vec::new();
        self.out
            .extend(std::iter::repeat_n(b'\n', self.record_newlines));
    }

    /// Publishes the finished record (a skipped one has already sent its line breaks).
    fn end_record(&mut self) {
        if !self.skipping && self.record_len - ending_len(&self.record) > self.cap {
            self.start_skipping();
        } else if !self.skipping {
            self.out.append(&mut self.record);
        }
        self.record.clear();
        self.record_len = 0;
        self.record_newlines = 0;
        self.skipping = false;
        self.record_line = self.line;
    }
}

/// Length of the record terminator at the end of `record` ("\n", "\r\n" or "\r").
fn ending_len(record: &[u8]) -> usize {
    match record {
        [.., b'\r', b'\n'] => 2,
        [.., b'\n'] | [.., b'\r'] => 1,
        _ => 0,
    }
}

/// The CSV quoting automaton: the state after byte `b`.
fn next_state(s: Quote, b: u8, delimiter: u8) -> Quote {
    let ends = |b: u8| b == delimiter || b == b'\n' || b == b'\r';
    match s {
        Quote::FieldStart if b == b'"' => Quote::Quoted,
        Quote::FieldStart | Quote::Unquoted if ends(b) => Quote::FieldStart,
        Quote::FieldStart | Quote::Unquoted => Quote::Unquoted,
        Quote::Quoted if b == b'"' => Quote::Pending,
        Quote::Quoted => Quote::Quoted,
        Quote::Pending if b == b'"' => Quote::Quoted,
        Quote::Pending if ends(b) => Quote::FieldStart,
        Quote::Pending => Quote::Unquoted,
    }
}

impl<R: BufRead> Read for CsvGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CsvGuard<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.records.out_pos >= self.records.out.len() {
            self.refill()?;
        }
        Ok(&self.records.out[self.records.out_pos..])
    }

    fn consume(&mut self, n: usize) {
        let r = &mut self.records;
        r.out_pos = (r.out_pos + n).min(r.out.len());
    }
}

/// Refuses gzip output that expands past the ratio cap: reads decompressed bytes from `inner` while
/// `compressed` counts the raw bytes read from the file.
pub struct GzipGuard<R> {
    inner: R,
    compressed: Arc<AtomicU64>,
    out: u64,
    max_ratio: u64,
}

/// The error a [`GzipGuard`] raises (inside an `io::Error`), for the reader to report.
#[derive(Debug, thiserror::Error)]
#[error("gzip data expands more than {ratio}x ({out} bytes out of {input} read): likely a decompression bomb; raise --max-gzip-ratio if the file is genuine")]
pub struct GzipBomb {
    /// The cap.
    pub ratio: u64,
    /// Decompressed bytes so far.
    pub out: u64,
    /// Compressed bytes read so far.
    pub input: u64,
}

impl<R> GzipGuard<R> {
    /// Guards `inner`; `compressed` is the raw byte counter of the same file.
    pub fn new(inner: R, compressed: Arc<AtomicU64>, max_ratio: u64) -> Self {
        GzipGuard {
            inner,
            compressed,
            out: 0,
            max_ratio,
        }
    }
}

impl<R: Read> Read for GzipGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let input = self.compressed.load(Ordering::Relaxed).max(1);
        if self.out > GZIP_RATIO_FLOOR && self.out / input > self.max_ratio {
            let bomb = GzipBomb {
                ratio: self.max_ratio,
                out: self.out,
                input,
            };
            return Err(std::io::Error::other(bomb));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], cap: usize) -> Vec<(Line, String)> {
        let mut r = std::io::BufReader::with_capacity(4, text);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            let l = read_line(&mut r, &mut buf, cap).unwrap();
            if l == Line::End {
                return out;
            }
            out.push((l, String::from_utf8_lossy(&buf).into_owned()));
        }
    }

    #[test]
    fn capped_lines() {
        let got = lines(b"abc\r\nabcdefgh\nxy\n\nlast", 4);
        let kinds: Vec<&Line> = got.iter().map(|(l, _)| l).collect();
        assert_eq!(
            kinds,
            [
                &Line::Text,
                &Line::TooLong,
                &Line::Text,
                &Line::Text,
                &Line::Text
            ]
        );
        assert_eq!(got[0].1, "abc");
        assert_eq!(got[2].1, "xy");
        assert_eq!(got[3].1, "");
        assert_eq!(got[4].1, "last");
        // exactly at the cap, with either ending
        assert_eq!(lines(b"abcd\r\nabcd", 4)[0].0, Line::Text);
        assert_eq!(lines(b"abcd\r\nabcd", 4)[1].0, Line::Text);
    }

    fn guarded(text: &str, cap: usize) -> (String, Vec<u64>) {
        let mut g = CsvGuard::new(
            std::io::BufReader::with_capacity(3, text.as_bytes()),
            b',',
            cap,
        );
        let mut out = String::new();
        g.read_to_string(&mut out).unwrap();
        (out, g.take_all().into_iter().map(|(l, _)| l).collect())
    }

    #[test]
    fn csv_guard_skips_long_records_and_keeps_line_numbers() {
        let text = "a,b\n1,2\n123456789,0\n3,4\r\n\"x\ny\",5\n\"long\nquoted\nfield\",6\n7,8";
        let (out, skipped) = guarded(text, 10);
        assert_eq!(out, "a,b\n1,2\n\n3,4\r\n\"x\ny\",5\n\n\n\n7,8");
        assert_eq!(skipped, [3, 7]);
        let (same, none) = guarded(text, 100);
        assert_eq!((same.as_str(), none.len()), (text, 0));
    }

    #[test]
    fn csv_guard_unterminated_quote_is_one_long_record() {
        let text = format!("a,b\n\"{}\n", "x,\n".repeat(50));
        let (out, skipped) = guarded(&text, 20);
        assert_eq!(out, format!("a,b\n{}", "\n".repeat(51)));
        assert_eq!(skipped, [2]);
    }

    #[test]
    fn quoting_automaton() {
        let run = |s: &str| {
            s.bytes()
                .fold(Quote::FieldStart, |q, b| next_state(q, b, b','))
        };
        assert_eq!(run("\"a,\"\"b"), Quote::Quoted);
        assert_eq!(run("\"a\"\""), Quote::Quoted);
        assert_eq!(run("ab\"c"), Quote::Unquoted);
        assert_eq!(run("\"a\","), Quote::FieldStart);
        assert_eq!(run("\"a\"x"), Quote::Unquoted);
    }
}
