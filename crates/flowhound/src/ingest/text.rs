//! Text readers: generic CSV, Argus binetflow (a CSV dialect), Zeek conn.log TSV and JSON lines.

use super::columns::{resolve, Resolved};
use super::fields::{RowParser, TextSink};
use super::input::{gzip_error, open_text};
use super::limits::{self, CsvGuard, Line, TOO_LONG};
use super::report::ReadOutcome;
use super::{Format, ReadOptions, TsUnit};
use crate::error::{FlowError, Result};
use datafusion::arrow::record_batch::RecordBatch;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

/// Opens a text input from its start (a file, or bytes in memory for the fuzz targets).
pub type Opener<'a> = &'a dyn Fn() -> Result<Box<dyn BufRead + Send>>;

/// Reads the header of a text file and checks the column plan (schema problems are reported up front).
pub fn check_header(path: &Path, format: Format, opts: &ReadOptions) -> Result<()> {
    check_header_with(path, format, opts, &|| {
        open_text(path, Default::default(), &opts.limits)
    })
}

/// [`check_header`] of the input `open` opens (named `path` in messages).
pub fn check_header_with(
    path: &Path,
    format: Format,
    opts: &ReadOptions,
    open: Opener,
) -> Result<()> {
    let reader = open()?;
    let cap = opts.limits.max_line_bytes;
    let names = match format {
        Format::Csv | Format::Binetflow => csv_header(path, reader, cap)?,
        Format::ZeekTsv => zeek_header(path, reader, cap)?.fields,
        Format::ZeekJson => json_keys(path, reader, cap)?,
        Format::Parquet | Format::Nfcapd | Format::SuricataEve => return Ok(()),
    };
    resolve(path, &names, format, &opts.mapping).map(|_| ())
}

/// Reads a whole text file, sending batches to `emit`.
pub fn read(
    path: &Path,
    format: Format,
    opts: &ReadOptions,
    emit: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<ReadOutcome> {
    let data = || open_text(path, opts.progress.clone(), &opts.limits);
    let header = || open_text(path, Default::default(), &opts.limits);
    read_with(path, format, opts, [&data, &header], emit)
}

/// [`read`] of the input the openers open: `[data, header]`, the second for a header pass that is not
/// counted as progress (named `path` in messages).
pub fn read_with(
    path: &Path,
    format: Format,
    opts: &ReadOptions,
    [data, header]: [Opener; 2],
    emit: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<ReadOutcome> {
    let reader = data()?;
    let mut sink = TextSink::new(path, opts.strict, emit);
    let mut other_events = Default::default();
    let unit = match format {
        Format::Csv | Format::Binetflow => read_csv(path, format, reader, opts, &mut sink)?,
        Format::ZeekTsv => read_zeek_tsv(path, reader, opts, &mut sink)?,
        Format::ZeekJson => read_zeek_json(path, reader, header()?, opts, &mut sink)?,
        Format::SuricataEve => {
            other_events = super::eve::read(path, reader, opts, &mut sink)?;
            None
        }
        Format::Parquet | Format::Nfcapd => None,
    };
    sink.flush()?;
    if sink.rows_read == 0 && sink.bad.count == 0 {
        return Err(FlowError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(ReadOutcome {
        rows_read: sink.rows_read,
        bad: sink.bad,
        ts_unit: unit,
        other_events,
        ..Default::default()
    })
}

/// The field delimiter, sniffed from the first line: tab when it has tabs and no commas (Argus `ra`
/// output such as CTU's test5-mixed.binetflow), else comma.
fn sniff_delimiter(reader: &mut dyn BufRead) -> u8 {
    let buf = reader.fill_buf().unwrap_or_default();
    let line = buf.split(|b| *b == b'\n').next().unwrap_or_default();
    if line.contains(&b'\t') && !line.contains(&b',') {
        b'\t'
    } else {
        b','
    }
}

/// A CSV reader whose records are capped at `cap` bytes (see [`CsvGuard`]).
type CsvReader = csv::Reader<CsvGuard<Box<dyn BufRead + Send>>>;

fn csv_reader(mut reader: Box<dyn BufRead + Send>, cap: usize) -> CsvReader {
    let delimiter = sniff_delimiter(&mut reader);
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(CsvGuard::new(reader, delimiter, cap))
}

/// Reads the header line; a header over the cap is an error (there is no skipping it).
fn csv_header_names(path: &Path, r: &mut CsvReader) -> Result<Vec<String>> {
    let names: Vec<String> = r
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let next = r.position().line();
    if let Some((line, _)) = r.get_mut().take_before(next).first() {
        return Err(FlowError::Corrupt {
            path: path.to_path_buf(),
            why: format!("line {line}: header {TOO_LONG}"),
        });
    }
    Ok(names)
}

fn csv_header(path: &Path, reader: Box<dyn BufRead + Send>, cap: usize) -> Result<Vec<String>> {
    csv_header_names(path, &mut csv_reader(reader, cap))
}

fn csv_error(path: &Path, e: csv::Error) -> FlowError {
    let line = e
        .position()
        .map(|p| format!("line {}: ", p.line()))
        .unwrap_or_default();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => gzip_error(path, io),
        kind => FlowError::Corrupt {
            path: path.to_path_buf(),
            why: format!("{line}unreadable CSV ({kind:?})"),
        },
    }
}

fn read_csv(
    path: &Path,
    format: Format,
    reader: Box<dyn BufRead + Send>,
    opts: &ReadOptions,
    sink: &mut TextSink,
) -> Result<Option<TsUnit>> {
    let mut r = csv_reader(reader, opts.limits.max_line_bytes);
    let headers = csv_header_names(path, &mut r)?;
    let mut parser = RowParser::new(
        resolve(path, &headers, format, &opts.mapping)?,
        opts.ts_unit,
    );
    let mut rec = csv::StringRecord::new();
    loop {
        match r.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                let line = rec.position().map_or(0, |p| p.line());
                report_too_long(sink, r.get_mut().take_before(line))?;
                let row = parser.parse(&|i| rec.get(i));
                sink.accept(line, row, &headers)?;
            }
            Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                let line = e.position().map_or(0, |p| p.line());
                sink.malformed(line, NOT_UTF8, "")?;
            }
            Err(e) => return Err(csv_error(path, e)),
        }
    }
    report_too_long(sink, r.get_mut().take_all())?;
    Ok(parser.ts_unit())
}

/// Records the CSV records skipped for their length.
fn report_too_long(sink: &mut TextSink, skipped: Vec<(u64, Vec<u8>)>) -> Result<()> {
    for (line, sample) in skipped {
        sink.malformed(line, TOO_LONG, &String::from_utf8_lossy(&sample))?;
    }
    Ok(())
}

/// The `#` directives of a Zeek TSV log.
#[derive(Debug, Clone)]
struct ZeekHeader {
    separator: String,
    fields: Vec<String>,
    path_kind: Option<String>,
}

impl Default for ZeekHeader {
    fn default() -> Self {
        ZeekHeader {
            separator: "\t".into(),
            fields: Vec::new(),
            path_kind: None,
        }
    }
}

/// Decodes Zeek's `\x09` escapes in directive values.
fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(pos) = rest.find("\\x") {
        out.push_str(&rest[..pos]);
        let hex = rest
            .get(pos + 2..pos + 4)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b as char);
                rest = &rest[pos + 4..];
            }
            None => {
                out.push_str("\\x");
                rest = &rest[pos + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `#` directive of a line, tolerating leading blanks (some real logs start with "\t#separator").
fn directive(line: &str) -> Option<&str> {
    let t = line.trim_start_matches([' ', '\t']);
    t.starts_with('#').then_some(t)
}

/// Applies one `#` line to the header; returns true when it completed a `#fields` directive.
fn apply_directive(h: &mut ZeekHeader, line: &str) -> bool {
    let body = &line[1..];
    let (key, value) = match body.split_once(h.separator.as_str()) {
        Some(kv) => kv,
        None => body.split_once(' ').unwrap_or((body, "")),
    };
    match key {
        "separator" => h.separator = unescape(value.trim()),
        "path" => h.path_kind = Some(value.trim().to_string()),
        "fields" => {
            h.fields = value
                .split(h.separator.as_str())
                .map(str::to_string)
                .collect();
            return true;
        }
        _ => {}
    }
    false
}

/// Why a line that is not UTF-8 is skipped.
pub(super) const NOT_UTF8: &str = "not valid UTF-8 text";

/// Reads the next line under the cap, mapping read errors to the file's.
fn next_line(path: &Path, reader: &mut dyn BufRead, buf: &mut Vec<u8>, cap: usize) -> Result<Line> {
    limits::read_line(reader, buf, cap).map_err(|e| gzip_error(path, e))
}

fn zeek_header(path: &Path, mut reader: Box<dyn BufRead + Send>, cap: usize) -> Result<ZeekHeader> {
    let mut h = ZeekHeader::default();
    let mut buf = Vec::new();
    // an over-long line ends the header: it is reported when the data is read
    while next_line(path, &mut *reader, &mut buf, cap)? == Line::Text {
        let line = String::from_utf8_lossy(&buf);
        let Some(d) = directive(&line) else { break };
        apply_directive(&mut h, d);
    }
    check_zeek_path(path, &h)?;
    if h.fields.is_empty() {
        return Err(FlowError::Corrupt {
            path: path.to_path_buf(),
            why: "Zeek log without a #fields line".into(),
        });
    }
    Ok(h)
}

fn check_zeek_path(path: &Path, h: &ZeekHeader) -> Result<()> {
    match h.path_kind.as_deref() {
        Some(kind) if kind != "conn" => Err(FlowError::UnknownFormat {
            path: path.to_path_buf(),
            why: format!("this is a Zeek '{kind}' log; flowhound reads conn.log"),
        }),
        _ => Ok(()),
    }
}

fn read_zeek_tsv(
    path: &Path,
    mut reader: Box<dyn BufRead + Send>,
    opts: &ReadOptions,
    sink: &mut TextSink,
) -> Result<Option<TsUnit>> {
    let mut h = ZeekHeader::default();
    let mut parser: Option<RowParser> = None;
    let unit = opts.ts_unit.or(Some(TsUnit::S));
    let (mut buf, mut line_no) = (Vec::new(), 0u64);
    let cap = opts.limits.max_line_bytes;
    while let Some(text) = text_line(path, &mut *reader, &mut buf, cap, &mut line_no, sink)? {
        let Ok(line) = std::str::from_utf8(text) else {
            sink.malformed(line_no, NOT_UTF8, &String::from_utf8_lossy(text))?;
            continue;
        };
        if let Some(d) = directive(line) {
            if apply_directive(&mut h, d) {
                check_zeek_path(path, &h)?;
                parser = Some(RowParser::new(
                    resolve(path, &h.fields, Format::ZeekTsv, &opts.mapping)?,
                    unit,
                ));
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let Some(p) = parser.as_mut() else {
            return Err(FlowError::Corrupt {
                path: path.to_path_buf(),
                why: format!("line {line_no}: data before the #fields header"),
            });
        };
        let cells: Vec<&str> = line.split(h.separator.as_str()).collect();
        if cells.len() < h.fields.len() {
            sink.malformed(
                line_no,
                "fewer fields than the #fields header (truncated line?)",
                line,
            )?;
            continue;
        }
        let row = p.parse(&|i| cells.get(i).copied());
        sink.accept(line_no, row, &h.fields)?;
    }
    Ok(unit)
}

/// Reads lines until the next one within the cap (counting every line into `line_no`); an over-long
/// line is a bad row. None at the end.
pub(super) fn text_line<'b>(
    path: &Path,
    reader: &mut dyn BufRead,
    buf: &'b mut Vec<u8>,
    cap: usize,
    line_no: &mut u64,
    sink: &mut TextSink,
) -> Result<Option<&'b [u8]>> {
    loop {
        let kind = next_line(path, reader, buf, cap)?;
        *line_no += 1;
        match kind {
            Line::End => return Ok(None),
            Line::Text => return Ok(Some(buf)),
            Line::TooLong => sink.malformed(*line_no, TOO_LONG, &String::from_utf8_lossy(buf))?,
        }
    }
}

fn json_keys(path: &Path, mut reader: Box<dyn BufRead + Send>, cap: usize) -> Result<Vec<String>> {
    let mut keys: Vec<String> = Vec::new();
    let mut buf = Vec::new();
    for _ in 0..100 {
        let kind = next_line(path, &mut *reader, &mut buf, cap)?;
        if kind == Line::End {
            break;
        }
        // A line that is too long, not UTF-8 or not JSON is reported when the data is read.
        if kind != Line::Text {
            continue;
        }
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(&buf)
        {
            keys.extend(
                m.keys()
                    .filter(|k| !keys.contains(k))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
        }
    }
    // Zeek JSON omits unset fields: the byte counters may be absent from every sampled line.
    for k in ["orig_bytes", "resp_bytes"] {
        if !keys.iter().any(|x| x == k) {
            keys.push(k.to_string());
        }
    }
    Ok(keys)
}

fn json_cell(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn read_zeek_json(
    path: &Path,
    mut reader: Box<dyn BufRead + Send>,
    header: Box<dyn BufRead + Send>,
    opts: &ReadOptions,
    sink: &mut TextSink,
) -> Result<Option<TsUnit>> {
    let cap = opts.limits.max_line_bytes;
    let names = json_keys(path, header, cap)?;
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let plan: Resolved = resolve(path, &names, Format::ZeekJson, &opts.mapping)?;
    let unit = opts.ts_unit.or(Some(TsUnit::S));
    let mut parser = RowParser::new(plan, unit);
    let mut cells: Vec<Option<String>> = vec![None; names.len()];
    let (mut buf, mut line_no) = (Vec::new(), 0u64);
    while let Some(text) = text_line(path, &mut *reader, &mut buf, cap, &mut line_no, sink)? {
        let Ok(line) = std::str::from_utf8(text) else {
            sink.malformed(line_no, NOT_UTF8, &String::from_utf8_lossy(text))?;
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        let Ok(serde_json::Value::Object(obj)) = serde_json::from_str::<serde_json::Value>(line)
        else {
            sink.malformed(line_no, "not a JSON object", line)?;
            continue;
        };
        cells.iter_mut().for_each(|c| *c = None);
        for (k, v) in &obj {
            if let Some(&i) = index.get(k.as_str()) {
                cells[i] = json_cell(v);
            }
        }
        // An absent or null key is unset, not a short row.
        let row = parser.parse(&|i| cells.get(i).map(|c| c.as_deref().unwrap_or("")));
        sink.accept(line_no, row, &names)?;
    }
    Ok(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_directives() {
        let mut h = ZeekHeader::default();
        assert!(!apply_directive(&mut h, "#separator \\x09"));
        assert_eq!(h.separator, "\t");
        assert!(!apply_directive(&mut h, "#path\tconn"));
        assert!(apply_directive(&mut h, "#fields\tts\tuid\tid.orig_h"));
        assert_eq!(h.fields, ["ts", "uid", "id.orig_h"]);
        assert_eq!(h.path_kind.as_deref(), Some("conn"));
        assert_eq!(unescape("a\\x2cb\\xzz"), "a,b\\xzz");
        assert_eq!(directive("\t#separator \\x09"), Some("#separator \\x09"));
        assert_eq!(directive("1.0\tC1"), None);
    }

    #[test]
    fn delimiter_sniffing() {
        let cases: [(&str, u8); 4] = [
            ("a,b,c\n1,2,3\n", b','),
            ("a\tb\tc\n", b'\t'),
            ("a\tb,c\n", b','),
            ("", b','),
        ];
        for (text, want) in cases {
            assert_eq!(sniff_delimiter(&mut text.as_bytes()), want, "{text:?}");
        }
    }
}
