//! Finding input files (paths, directories, globs), opening them (gzip transparently) and detecting
//! their format from content.

use super::limits::{GzipBomb, GzipGuard, Limits};
use super::Format;
use crate::error::{FlowError, Result};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// An input file and whether it came from expanding a directory (such files may be passed over when
/// they are not flow logs, e.g. a Zeek `dns.log` beside `conn.log`).
#[derive(Debug, Clone)]
pub struct InputFile {
    /// The path.
    pub path: PathBuf,
    /// Found by expanding a directory.
    pub from_dir: bool,
}

/// Expands each argument: a file as is, a directory to its non-hidden files (sorted), a glob to its
/// matches (sorted). An argument matching nothing is an error.
pub fn expand(inputs: &[String]) -> Result<Vec<InputFile>> {
    let mut out = Vec::new();
    for arg in inputs {
        let p = Path::new(arg);
        if p.is_dir() {
            out.extend(list_dir(p)?.into_iter().map(|path| InputFile {
                path,
                from_dir: true,
            }));
        } else if p.exists() {
            out.push(InputFile {
                path: p.to_path_buf(),
                from_dir: false,
            });
        } else if arg.contains(['*', '?', '[']) {
            out.extend(glob_files(arg)?.into_iter().map(|path| InputFile {
                path,
                from_dir: false,
            }));
        } else {
            return Err(FlowError::NoInput {
                pattern: arg.clone(),
            });
        }
    }
    Ok(out)
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| FlowError::io(dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(FlowError::NoInput {
            pattern: format!("{} (empty directory)", dir.display()),
        });
    }
    Ok(files)
}

fn glob_files(pattern: &str) -> Result<Vec<PathBuf>> {
    let bad = |why: String| FlowError::Config(format!("bad glob '{pattern}': {why}"));
    let mut files: Vec<PathBuf> = glob::glob(pattern)
        .map_err(|e| bad(e.to_string()))?
        .filter_map(|r| r.ok())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(FlowError::NoInput {
            pattern: pattern.to_string(),
        });
    }
    Ok(files)
}

/// Adds the bytes read through it to a shared counter (progress reporting).
pub struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    /// Wraps `inner`, adding every byte read to `counter`.
    pub fn new(inner: R, counter: Arc<AtomicU64>) -> Self {
        Counting { inner, counter }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// True when the file starts with the gzip magic.
pub fn is_gzip(path: &Path) -> Result<bool> {
    let mut magic = [0u8; 2];
    let mut f = File::open(path).map_err(|e| FlowError::io(path, e))?;
    let n = read_full(&mut f, &mut magic).map_err(|e| FlowError::io(path, e))?;
    Ok(n == 2 && magic == [0x1f, 0x8b])
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Opens a text file for reading, decompressing gzip (under the expansion cap of `limits`), counting
/// raw bytes into `progress`.
pub fn open_text(
    path: &Path,
    progress: Arc<AtomicU64>,
    limits: &Limits,
) -> Result<Box<dyn BufRead + Send>> {
    let gz = is_gzip(path)?;
    let file = File::open(path).map_err(|e| FlowError::io(path, e))?;
    let counted = Counting {
        inner: file,
        counter: progress,
    };
    Ok(decode(counted, gz, limits))
}

/// Buffers raw text input, decompressing it when `gz` (under the expansion cap of `limits`).
pub fn decode(
    raw: impl Read + Send + 'static,
    gz: bool,
    limits: &Limits,
) -> Box<dyn BufRead + Send> {
    if !gz {
        return Box::new(BufReader::with_capacity(1 << 16, raw));
    }
    let compressed = Arc::new(AtomicU64::new(0));
    let raw = Counting {
        inner: raw,
        counter: compressed.clone(),
    };
    let guarded = GzipGuard::new(MultiGzDecoder::new(raw), compressed, limits.max_gzip_ratio);
    Box::new(BufReader::with_capacity(1 << 16, guarded))
}

/// Reads the first `limit` bytes of the (decompressed) content.
pub fn head(path: &Path, limit: usize) -> Result<Vec<u8>> {
    let mut r = open_text(path, Arc::default(), &Limits::default())?;
    let mut buf = vec![0u8; limit];
    let n = read_full(&mut r, &mut buf).map_err(|e| gzip_error(path, e))?;
    buf.truncate(n);
    Ok(buf)
}

/// Maps a read error of a (possibly gzip) file to a clear message.
pub fn gzip_error(path: &Path, e: std::io::Error) -> FlowError {
    if let Some(bomb) = e.get_ref().and_then(|i| i.downcast_ref::<GzipBomb>()) {
        return FlowError::Corrupt {
            path: path.to_path_buf(),
            why: bomb.to_string(),
        };
    }
    match e.kind() {
        std::io::ErrorKind::InvalidInput
        | std::io::ErrorKind::InvalidData
        | std::io::ErrorKind::UnexpectedEof => FlowError::Corrupt {
            path: path.to_path_buf(),
            why: format!("damaged or truncated compressed data ({e})"),
        },
        _ => FlowError::io(path, e),
    }
}

/// Detects the format of `path` from its first bytes.
pub fn detect(path: &Path) -> Result<Format> {
    let raw = {
        let mut f = File::open(path).map_err(|e| FlowError::io(path, e))?;
        let mut b = [0u8; 4];
        let n = read_full(&mut f, &mut b).map_err(|e| FlowError::io(path, e))?;
        b[..n].to_vec()
    };
    if raw.starts_with(b"PAR1") {
        return Ok(Format::Parquet);
    }
    if raw.starts_with(&super::nfcapd::file::MAGIC.to_le_bytes()) {
        return Ok(Format::Nfcapd);
    }
    let head = head(path, 8192)?;
    detect_text(path, &head)
}

/// Detects a text format from the first (decompressed) bytes of `path`.
pub(crate) fn detect_text(path: &Path, head: &[u8]) -> Result<Format> {
    let unknown = |why: &str| FlowError::UnknownFormat {
        path: path.to_path_buf(),
        why: why.to_string(),
    };
    if head.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FlowError::Empty {
            path: path.to_path_buf(),
        });
    }
    if head.contains(&0) {
        return Err(unknown("binary content"));
    }
    let text = String::from_utf8_lossy(head);
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_start();
    if first.starts_with("#separator") || first.starts_with("#fields") {
        return Ok(Format::ZeekTsv);
    }
    if first.trim_start().starts_with('{') {
        return if first.contains("\"id.orig_h\"") {
            Ok(Format::ZeekJson)
        } else if first.contains("\"event_type\"") {
            Ok(Format::SuricataEve)
        } else {
            Err(unknown(
                "JSON lines without Zeek's id.orig_h key or Suricata's event_type",
            ))
        };
    }
    if first.contains("SrcAddr") && first.contains("TotBytes") && first.contains("StartTime") {
        return Ok(Format::Binetflow);
    }
    if first.contains(',') || first.contains('\t') {
        return Ok(Format::Csv);
    }
    let shown: String = first.chars().take(60).collect();
    Err(unknown(&format!("first line is '{shown}'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_text_table() {
        let p = Path::new("x");
        let cases: [(&str, Option<Format>); 11] = [
            ("#separator \\x09\n#fields\tts\n", Some(Format::ZeekTsv)),
            ("{\"ts\":1.0,\"id.orig_h\":\"1.2.3.4\"}\n", Some(Format::ZeekJson)),
            ("StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes\n", Some(Format::Binetflow)),
            ("timestamp,src_ip,dst_ip\n", Some(Format::Csv)),
            ("\t#separator \\x09\n#fields\tts\n", Some(Format::ZeekTsv)),
            ("StartTime\tDur\tSrcAddr\tTotBytes\n", Some(Format::Binetflow)),
            ("ts\tsrc_ip\tdst_ip\n", Some(Format::Csv)),
            ("hello world\n", None),
            ("{\"a\":1}\n", None),
            ("{\"timestamp\":\"x\",\"event_type\":\"stats\"}\n", Some(Format::SuricataEve)),
            ("{\"ts\":1,\"event_type\":\"x\",\"id.orig_h\":\"1.2.3.4\"}\n", Some(Format::ZeekJson)),
        ];
        for (text, want) in cases {
            assert_eq!(detect_text(p, text.as_bytes()).ok(), want, "{text}");
        }
        assert!(matches!(
            detect_text(p, b"  \n"),
            Err(FlowError::Empty { .. })
        ));
    }
}
