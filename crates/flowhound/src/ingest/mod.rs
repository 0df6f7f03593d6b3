//! Ingest: every supported input format mapped to the canonical flow schema ([`crate::schema`]).
//!
//! `scan` is the one entry point: it expands paths, detects each file's format from its content, checks
//! every file's columns up front (so schema problems surface before any data is read), then reads the
//! files in parallel work units (a Parquet row group, or a whole text file) and hands canonical batches
//! to per-worker sinks. Bad rows are skipped and counted (or fatal under `strict`).
//!
//! Adding a reader: add a `Format` variant, its detection rule in `input::detect`, its column defaults
//! in `columns`, and its parse loop (text formats reuse `fields::RowParser`).

pub mod builder;
pub mod columns;
mod convert;
pub mod eve;
pub mod fields;
pub mod frames;
pub mod fuzz_entry;
pub mod input;
pub mod limits;
pub mod nfcapd;
pub mod parquet;
mod parquet_hint;
mod parquet_pages;
pub mod report;
pub mod stitch;
pub mod text;
pub mod time;
pub mod upstream;

pub use columns::ColumnMap;
pub use limits::Limits;
pub use report::{BadRows, FileReport, IngestReport, ReadOutcome};
pub use time::TsUnit;

use crate::error::{FlowError, Result};
use datafusion::arrow::record_batch::RecordBatch;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Apache Parquet (analysts' schema, canonical schema, or mapped).
    Parquet,
    /// CSV with a header line.
    Csv,
    /// Zeek conn.log, tab-separated with `#` directives.
    ZeekTsv,
    /// Zeek conn.log as JSON lines.
    ZeekJson,
    /// Argus / CTU-13 bidirectional NetFlow CSV.
    Binetflow,
    /// nfdump's nfcapd binary files (layouts 1 and 2).
    Nfcapd,
    /// Suricata eve.json (`flow` and `netflow` events; other event types are skipped and counted).
    SuricataEve,
}

impl Format {
    /// Names accepted by `--format`.
    pub const NAMES: [&'static str; 7] = [
        "parquet",
        "csv",
        "zeek",
        "zeek-json",
        "binetflow",
        "nfcapd",
        "suricata",
    ];

    /// Parses a `--format` value.
    pub fn parse(text: &str) -> Option<Format> {
        match text.trim().to_ascii_lowercase().as_str() {
            "parquet" => Some(Format::Parquet),
            "csv" => Some(Format::Csv),
            "zeek" | "zeek-tsv" | "conn" => Some(Format::ZeekTsv),
            "zeek-json" | "json" => Some(Format::ZeekJson),
            "binetflow" | "argus" => Some(Format::Binetflow),
            "nfcapd" | "nfdump" => Some(Format::Nfcapd),
            "suricata" | "eve" | "eve-json" | "suricata-eve" => Some(Format::SuricataEve),
            _ => None,
        }
    }
}

/// How to read inputs.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    /// Force the unit of numeric timestamps.
    pub ts_unit: Option<TsUnit>,
    /// Column overrides.
    pub mapping: ColumnMap,
    /// Make bad rows fatal.
    pub strict: bool,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Raw input bytes consumed so far (for progress bars).
    pub progress: Arc<AtomicU64>,
    /// Multiply packets and bytes by the exporter's recorded sampling rate (nfcapd input).
    pub apply_sampling: bool,
    /// Line and gzip caps of the text readers.
    pub limits: Limits,
    /// Stitch one-way records (router flows) into biflows, work unit by work unit ([`stitch`]).
    pub stitch: bool,
}

/// Receives canonical batches. One sink per worker; the caller merges them.
pub trait FlowSink: Send {
    /// Takes one batch of work unit `unit` (units are numbered in input order).
    fn push(&mut self, unit: usize, batch: RecordBatch) -> Result<()>;
}

/// A file ready to read.
#[derive(Debug, Clone)]
enum Prepared {
    Parquet(parquet::ParquetPlan),
    Text(PathBuf, Format),
}

#[derive(Debug, Clone, Copy)]
struct Unit {
    file: usize,
    row_group: usize,
}

/// The files of a run, checked and split into units. Build with [`prepare`].
#[derive(Debug, Clone)]
pub struct Plan {
    files: Vec<Prepared>,
    units: Vec<Unit>,
    ignored: Vec<(PathBuf, String)>,
    /// Total input bytes (for progress bars).
    pub total_bytes: u64,
}

/// Bytes of a text flow file per row, for estimates (a canonical CSV row is about 70 bytes, a Zeek
/// conn.log line about 200: the low end, so that estimates err on the side of more rows).
const TEXT_BYTES_PER_ROW: u64 = 60;
/// Bytes of a (compressed) nfcapd file per record.
const NFCAPD_BYTES_PER_ROW: u64 = 16;
/// Compression ratio assumed for gzip text.
const GZIP_RATIO: u64 = 8;

impl Plan {
    /// About how many flows the plan holds: exact for Parquet (its footer), estimated for text and
    /// nfcapd from the file size (generously: 60 bytes a text row, gzip 8x, 16 bytes an nfcapd record).
    pub fn estimated_rows(&self) -> u64 {
        self.files
            .iter()
            .map(|p| match p {
                Prepared::Parquet(pp) => pp.num_rows(),
                Prepared::Text(path, Format::Nfcapd) => {
                    std::fs::metadata(path).map_or(0, |m| m.len()) / NFCAPD_BYTES_PER_ROW
                }
                Prepared::Text(path, _) => {
                    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
                    let ratio = if input::is_gzip(path).unwrap_or(false) {
                        GZIP_RATIO
                    } else {
                        1
                    };
                    bytes * ratio / TEXT_BYTES_PER_ROW
                }
            })
            .sum()
    }
}

/// Expands inputs, detects formats and checks columns: every schema problem is reported here.
pub fn prepare(inputs: &[String], opts: &ReadOptions) -> Result<Plan> {
    let mut plan = Plan {
        files: Vec::new(),
        units: Vec::new(),
        ignored: Vec::new(),
        total_bytes: 0,
    };
    // Why the first file passed over was: the error when nothing else is readable (a missing column,
    // with its --map hint, is preferred to an unknown format).
    let mut why_ignored: Option<FlowError> = None;
    for f in input::expand(inputs)? {
        match prepare_file(&f.path, opts) {
            Ok(p) => {
                plan.total_bytes += std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0);
                plan.files.push(p);
            }
            Err(e)
                if f.from_dir
                    && matches!(
                        e,
                        FlowError::UnknownFormat { .. } | FlowError::MissingColumn { .. }
                    ) =>
            {
                plan.ignored.push((f.path.clone(), e.to_string()));
                let better = matches!(e, FlowError::MissingColumn { .. })
                    && !matches!(why_ignored, Some(FlowError::MissingColumn { .. }));
                if why_ignored.is_none() || better {
                    why_ignored = Some(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    if plan.files.is_empty() {
        return Err(why_ignored.unwrap_or_else(|| FlowError::NoInput {
            pattern: format!("{} (no flow files among them)", inputs.join(" ")),
        }));
    }
    for (i, p) in plan.files.iter().enumerate() {
        match p {
            Prepared::Parquet(pp) => plan.units.extend((0..pp.row_groups.len()).map(|rg| Unit {
                file: i,
                row_group: rg,
            })),
            Prepared::Text(..) => plan.units.push(Unit {
                file: i,
                row_group: 0,
            }),
        }
    }
    Ok(plan)
}

fn prepare_file(path: &std::path::Path, opts: &ReadOptions) -> Result<Prepared> {
    let format = match opts.format {
        Some(f) => f,
        None => input::detect(path)?,
    };
    if format == Format::Parquet {
        return Ok(Prepared::Parquet(parquet::plan(path, opts)?));
    }
    if format == Format::Nfcapd {
        nfcapd::check(path)?;
        return Ok(Prepared::Text(path.to_path_buf(), format));
    }
    text::check_header(path, format, opts)?;
    Ok(Prepared::Text(path.to_path_buf(), format))
}

struct Shared {
    next: AtomicUsize,
    abort: AtomicBool,
    results: Mutex<Vec<(usize, ReadOutcome)>>,
    /// One-way records their own file could not pair, held to be paired across files.
    unpaired: Mutex<Vec<(usize, RecordBatch)>>,
    /// Per file: its units not read yet, and the records its units read so far could not pair.
    by_file: Mutex<Vec<(usize, Held)>>,
}

/// Records held for stitching, with their work unit.
type Held = Vec<(usize, RecordBatch)>;

fn poisoned() -> FlowError {
    FlowError::Internal("poisoned reader results".into())
}

/// Reads everything in `plan` with `opts.threads` workers, each feeding its own sink from `make_sink`.
pub fn scan<S: FlowSink>(
    plan: &Plan,
    opts: &ReadOptions,
    make_sink: impl Fn() -> S + Sync,
) -> Result<(Vec<S>, IngestReport)> {
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.threads
    };
    let threads = threads.min(plan.units.len()).max(1);
    let shared = Shared {
        next: AtomicUsize::new(0),
        abort: AtomicBool::new(false),
        results: Mutex::new(Vec::new()),
        unpaired: Mutex::new(Vec::new()),
        by_file: Mutex::new(units_per_file(plan)),
    };
    let sinks: Vec<Result<S>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| worker(plan, opts, &shared, make_sink())))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(FlowError::Internal("a reader thread panicked".into())))
            })
            .collect()
    });
    let mut sinks = sinks.into_iter().collect::<Result<Vec<S>>>()?;
    let mut results = shared.results.into_inner().map_err(|_| poisoned())?;
    let unpaired = shared.unpaired.into_inner().map_err(|_| poisoned())?;
    if let Some(sink) = sinks.first_mut() {
        results.extend(stitch_across_units(plan, unpaired, sink)?);
    }
    Ok((sinks, report(plan, results)))
}

/// Pairs the records that one-way files could not pair on their own (a connection's two records in
/// two files, e.g. either side of a collector's rotation) and passes them on as one more work unit,
/// numbered after the last (and after the files' own, [`stitch_file`]); returns per unit how many
/// of its records were folded in.
fn stitch_across_units<S: FlowSink>(
    plan: &Plan,
    mut unpaired: Vec<(usize, RecordBatch)>,
    sink: &mut S,
) -> Result<Vec<(usize, ReadOutcome)>> {
    unpaired.sort_by_key(|(u, _)| *u);
    let (batches, folded) = stitch::stitch_across(unpaired)?;
    for b in batches {
        sink.push(plan.units.len() + plan.files.len(), b)?;
    }
    Ok(folded
        .into_iter()
        .map(|(u, n)| {
            (
                u,
                ReadOutcome {
                    stitched: n,
                    ..Default::default()
                },
            )
        })
        .collect())
}

fn worker<S: FlowSink>(plan: &Plan, opts: &ReadOptions, shared: &Shared, mut sink: S) -> Result<S> {
    loop {
        let u = shared.next.fetch_add(1, Ordering::SeqCst);
        if u >= plan.units.len() || shared.abort.load(Ordering::SeqCst) {
            return Ok(sink);
        }
        match read_unit(plan, u, (opts, shared), &mut sink) {
            Ok(out) => shared
                .results
                .lock()
                .map_err(|_| poisoned())?
                .push((u, out)),
            Err(e) => {
                shared.abort.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
    }
}

/// Reads work unit `idx`; stitching, a one-way unit's unpaired records are held to be paired with
/// the rest of its file's ([`stitch_file`]), then across files, when there are other units.
fn read_unit<S: FlowSink>(
    plan: &Plan,
    idx: usize,
    (opts, shared): (&ReadOptions, &Shared),
    sink: &mut S,
) -> Result<ReadOutcome> {
    let unit = plan.units[idx];
    if !opts.stitch {
        return read_unit_into(plan, unit, opts, &mut |b| sink.push(idx, b));
    }
    // a one-way unit is held whole (a connection's two records may be far apart in it); a unit is
    // passed on as soon as a record with download bytes shows it is two-way
    let mut held = Vec::new();
    let mut two_way = false;
    let mut out = read_unit_into(plan, unit, opts, &mut |b| {
        if !two_way && stitch::one_way(&b) {
            held.push(b);
            return Ok(());
        }
        if !two_way {
            two_way = true;
            for h in held.drain(..) {
                sink.push(idx, h)?;
            }
        }
        sink.push(idx, b)
    })?;
    let (batches, folded, apart) = stitch::stitch_unit_holding(held, plan.units.len() > 1)?;
    out.stitched = folded;
    for b in batches {
        sink.push(idx, b)?;
    }
    out.stitched += stitch_file(plan, (idx, apart), shared, sink)?;
    Ok(out)
}

/// Units per file, each with no held records yet.
fn units_per_file(plan: &Plan) -> Vec<(usize, Held)> {
    let mut out: Vec<(usize, Held)> = plan.files.iter().map(|_| (0, Vec::new())).collect();
    for u in &plan.units {
        out[u.file].0 += 1;
    }
    out
}

/// Holds unit `idx`'s unpaired records (`apart`) with its file's; once the file's last unit is read,
/// stitches them together (a connection's records in two row groups) and passes them on as unit
/// `units + file`, and what is still unpaired on to be paired across files. Returns how many records
/// that folded.
fn stitch_file<S: FlowSink>(
    plan: &Plan,
    (idx, apart): (usize, Option<RecordBatch>),
    shared: &Shared,
    sink: &mut S,
) -> Result<u64> {
    let file = plan.units[idx].file;
    let mut held = {
        let mut by_file = shared.by_file.lock().map_err(|_| poisoned())?;
        let (left, held) = &mut by_file[file];
        *left -= 1;
        held.extend(apart.map(|b| (idx, b)));
        if *left > 0 {
            return Ok(0);
        }
        std::mem::take(held)
    };
    held.sort_by_key(|(u, _)| *u);
    let Some(&(first, _)) = held.first() else {
        return Ok(0);
    };
    let unpaired = || shared.unpaired.lock().map_err(|_| poisoned());
    if held.len() == 1 {
        unpaired()?.extend(held);
        return Ok(0);
    }
    let batches = held.into_iter().map(|(_, b)| b).collect();
    let (batches, folded, apart) = stitch::stitch_unit_holding(batches, true)?;
    unpaired()?.extend(apart.map(|b| (first, b)));
    for b in batches {
        sink.push(plan.units.len() + file, b)?;
    }
    Ok(folded)
}

fn read_unit_into(
    plan: &Plan,
    unit: Unit,
    opts: &ReadOptions,
    emit: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<ReadOutcome> {
    match &plan.files[unit.file] {
        Prepared::Parquet(pp) => parquet::read_group(pp, unit.row_group, opts, emit),
        Prepared::Text(path, Format::Nfcapd) => nfcapd::read(path, opts, emit),
        Prepared::Text(path, format) => text::read(path, *format, opts, emit),
    }
}

fn report(plan: &Plan, mut results: Vec<(usize, ReadOutcome)>) -> IngestReport {
    // Units are numbered file by file, so unit order is file order: one pass fills every file's report
    // and keeps the bad-row samples in input order.
    results.sort_by_key(|(u, _)| *u);
    let mut rep = IngestReport {
        ignored: plan.ignored.clone(),
        ..Default::default()
    };
    rep.files = plan
        .files
        .iter()
        .map(|p| {
            let (path, format) = match p {
                Prepared::Parquet(pp) => (pp.path.clone(), Format::Parquet),
                Prepared::Text(path, f) => (path.clone(), *f),
            };
            FileReport {
                path,
                format,
                rows_read: 0,
                rows_skipped: 0,
                ts_unit: None,
                exporters: Vec::new(),
                other_events: Default::default(),
                stitched: 0,
            }
        })
        .collect();
    for (u, o) in results {
        let fr = &mut rep.files[plan.units[u].file];
        fr.rows_read += o.rows_read;
        fr.rows_skipped += o.bad.count;
        fr.ts_unit = fr.ts_unit.or(o.ts_unit);
        fr.exporters.extend(o.exporters);
        fr.other_events.extend(o.other_events);
        fr.stitched += o.stitched;
        rep.bad_rows.merge(o.bad);
    }
    rep
}

/// A sink that keeps every batch with its unit number.
#[derive(Default)]
pub struct Collect(pub Vec<(usize, RecordBatch)>);

impl FlowSink for Collect {
    fn push(&mut self, unit: usize, batch: RecordBatch) -> Result<()> {
        self.0.push((unit, batch));
        Ok(())
    }
}

/// Reads everything into memory, in input order.
pub fn read_all(inputs: &[String], opts: &ReadOptions) -> Result<(Vec<RecordBatch>, IngestReport)> {
    collect(&prepare(inputs, opts)?, opts)
}

/// Reads a prepared plan into memory, in input order.
pub fn collect(plan: &Plan, opts: &ReadOptions) -> Result<(Vec<RecordBatch>, IngestReport)> {
    let (sinks, report) = scan(plan, opts, Collect::default)?;
    let mut all: Vec<(usize, RecordBatch)> = sinks.into_iter().flat_map(|s| s.0).collect();
    all.sort_by_key(|(u, _)| *u);
    Ok((all.into_iter().map(|(_, b)| b).collect(), report))
}
