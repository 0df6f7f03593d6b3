//! Text readers: generic CSV, Argus binetflow (a CSV dialect), Zeek conn.log TSV and JSON lines.

use super::columns::{resolve, Resolved};
use super::fields::{RowParser, TextSink};
use super::input::{gzip_error, open_text};
use super::report::ReadOutcome;
use super::{Format, ReadOptions, TsUnit};
use crate::error::{FlowError, Result};
use datafusion::arrow::record_batch::RecordBatch;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

/// Reads the header of a text file and checks the column plan (schema problems are reported up front).
pub fn check_header(path: &Path, format: Format, opts: &ReadOptions) -> Result<()> {
    let reader = open_text(path, Default::default())?;
    let names = match format {
        Format::Csv | Format::Binetflow => csv_header(path, reader)?,
        Format::ZeekTsv => zeek_header(path, reader)?.fields,
        Format::ZeekJson => json_keys(path, reader)?,
        Format::Parquet | Format::Nfcapd => return Ok(()),
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
    let reader = open_text(path, opts.progress.clone())?;
    let mut sink = TextSink::new(path, opts.strict, emit);
    let unit = match format {
        Format::Csv | Format::Binetflow => read_csv(path, format, reader, opts, &mut sink)?,
        Format::ZeekTsv => read_zeek_tsv(path, reader, opts, &mut sink)?,
        Format::ZeekJson => read_zeek_json(path, reader, opts, &mut sink)?,
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

fn csv_reader(mut reader: Box<dyn BufRead + Send>) -> csv::Reader<Box<dyn BufRead + Send>> {
    let delimiter = sniff_delimiter(&mut reader);
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader)
}

fn csv_header(path: &Path, reader: Box<dyn BufRead + Send>) -> Result<Vec<String>> {
    let mut r = csv_reader(reader);
    let h = r.headers().map_err(|e| csv_error(path, e))?;
    Ok(h.iter().map(str::to_string).collect())
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
    let mut r = csv_reader(reader);
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
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
    Ok(parser.ts_unit())
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

/// Reads the next line into `buf` without its ending ("\n" or "\r\n", as `BufRead::lines` strips), as
/// bytes: text that is not UTF-8 is the caller's to report, with its line number. False at the end.
fn read_line_bytes(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    if reader.read_until(b'\n', buf)? == 0 {
        return Ok(false);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    Ok(true)
}

/// Why a line that is not UTF-8 is skipped.
const NOT_UTF8: &str = "not valid UTF-8 text";

fn zeek_header(path: &Path, mut reader: Box<dyn BufRead + Send>) -> Result<ZeekHeader> {
    let mut h = ZeekHeader::default();
    let mut buf = Vec::new();
    while read_line_bytes(&mut *reader, &mut buf).map_err(|e| gzip_error(path, e))? {
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
    while read_line_bytes(&mut *reader, &mut buf).map_err(|e| gzip_error(path, e))? {
        line_no += 1;
        let Ok(line) = std::str::from_utf8(&buf) else {
            sink.malformed(line_no, NOT_UTF8, &String::from_utf8_lossy(&buf))?;
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

fn json_keys(path: &Path, mut reader: Box<dyn BufRead + Send>) -> Result<Vec<String>> {
    let mut keys: Vec<String> = Vec::new();
    let (mut buf, mut n) = (Vec::new(), 0);
    while n < 100 && read_line_bytes(&mut *reader, &mut buf).map_err(|e| gzip_error(path, e))? {
        n += 1;
        // A line that is not UTF-8 or not JSON is reported when the data is read.
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
    opts: &ReadOptions,
    sink: &mut TextSink,
) -> Result<Option<TsUnit>> {
    let names = json_keys(path, open_text(path, Default::default())?)?;
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
    while read_line_bytes(&mut *reader, &mut buf).map_err(|e| gzip_error(path, e))? {
        line_no += 1;
        let Ok(line) = std::str::from_utf8(&buf) else {
            sink.malformed(line_no, NOT_UTF8, &String::from_utf8_lossy(&buf))?;
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
