//! Shared helpers of the ingest integration tests: fixture paths, the oracle's expected rows, and
//! canonical batches turned into plain rows.
#![allow(dead_code)]

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    Decimal128Type, Float64Type, TimestampMicrosecondType, UInt16Type, UInt64Type,
};
use flowhound::ingest::{self, IngestReport, ReadOptions};
use std::path::{Path, PathBuf};

/// The committed fixtures (written by tests/fixtures/make_fixtures.py).
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// A fixture path as the string the readers take.
pub fn fixture(rel: &str) -> String {
    fixtures().join(rel).to_string_lossy().into_owned()
}

/// The shared real third-party data, or None (after printing a "skipped" line) when absent.
pub fn testdata(test: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipped: {test}: {} is absent (real third-party data lives outside the repo)",
            dir.display()
        );
        None
    }
}

/// One canonical flow as plain values (IPs as their integer form; the text form is checked separately).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub ts_us: i64,
    pub src_ip: u128,
    pub dst_ip: u128,
    pub proto: String,
    pub src_port: Option<u16>,
    pub dst_port: u16,
    pub up_bytes: u64,
    pub down_bytes: u64,
    pub duration: Option<f64>,
    pub packets: Option<u64>,
    pub label: Option<String>,
}

/// The rows of canonical batches, in order.
pub fn rows(batches: &[RecordBatch]) -> Vec<Row> {
    let mut out = Vec::new();
    for b in batches {
        let c = |n: &str| {
            b.column_by_name(n)
                .unwrap_or_else(|| panic!("canonical column {n} missing"))
                .clone()
        };
        let (ts, src, dst, proto) = (c("ts"), c("src_ip"), c("dst_ip"), c("proto"));
        let (sp, dp, up, down, dur, pk, lab) = (
            c("src_port"),
            c("dst_port"),
            c("up_bytes"),
            c("down_bytes"),
            c("duration"),
            c("packets"),
            c("label"),
        );
        let ts = ts.as_primitive::<TimestampMicrosecondType>();
        let (src, dst) = (
            src.as_primitive::<Decimal128Type>(),
            dst.as_primitive::<Decimal128Type>(),
        );
        let (sp, dp) = (
            sp.as_primitive::<UInt16Type>(),
            dp.as_primitive::<UInt16Type>(),
        );
        let (up, down, pk) = (
            up.as_primitive::<UInt64Type>(),
            down.as_primitive::<UInt64Type>(),
            pk.as_primitive::<UInt64Type>(),
        );
        let (dur, proto, lab) = (
            dur.as_primitive::<Float64Type>(),
            proto.as_string::<i32>(),
            lab.as_string::<i32>(),
        );
        for i in 0..b.num_rows() {
            out.push(Row {
                ts_us: ts.value(i),
                src_ip: src.value(i) as u128,
                dst_ip: dst.value(i) as u128,
                proto: proto.value(i).to_string(),
                src_port: sp.is_valid(i).then(|| sp.value(i)),
                dst_port: dp.value(i),
                up_bytes: up.value(i),
                down_bytes: down.value(i),
                duration: dur.is_valid(i).then(|| dur.value(i)),
                packets: pk.is_valid(i).then(|| pk.value(i)),
                label: lab.is_valid(i).then(|| lab.value(i).to_string()),
            });
        }
    }
    out
}

/// The expected rows of a fixture, from tests/fixtures/formats/expected/NAME.csv (the Python oracle),
/// with the expected textual IPs alongside. An empty cell is null, `<empty>` an empty string.
pub fn expected(name: &str) -> Vec<(Row, String, String)> {
    let path = fixtures()
        .join("formats/expected")
        .join(format!("{name}.csv"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let get = |n: &str| {
                cells[header
                    .iter()
                    .position(|h| *h == n)
                    .unwrap_or_else(|| panic!("no {n}"))]
            };
            let opt = |n: &str| Some(get(n)).filter(|v| !v.is_empty());
            let row = Row {
                ts_us: get("ts_us").parse().unwrap(),
                src_ip: get("src_ip_int").parse().unwrap(),
                dst_ip: get("dst_ip_int").parse().unwrap(),
                proto: get("proto").to_string(),
                src_port: opt("src_port").map(|v| v.parse().unwrap()),
                dst_port: get("dst_port").parse().unwrap(),
                up_bytes: get("up_bytes").parse().unwrap(),
                down_bytes: get("down_bytes").parse().unwrap(),
                duration: opt("duration").map(|v| v.parse().unwrap()),
                packets: opt("packets").map(|v| v.parse().unwrap()),
                label: opt("label").map(|v| {
                    if v == "<empty>" {
                        String::new()
                    } else {
                        v.to_string()
                    }
                }),
            };
            (row, get("src_ip").to_string(), get("dst_ip").to_string())
        })
        .collect()
}

/// Reads inputs with `opts` (panicking with the error message on failure).
pub fn read(inputs: &[String], opts: &ReadOptions) -> (Vec<RecordBatch>, IngestReport) {
    ingest::read_all(inputs, opts).unwrap_or_else(|e| panic!("{inputs:?}: {e}"))
}

/// The error message of reading inputs that must fail.
pub fn read_err(inputs: &[String], opts: &ReadOptions) -> flowhound::FlowError {
    match ingest::read_all(inputs, opts) {
        Ok((b, r)) => panic!(
            "{inputs:?} should fail but read {} rows in {} batches",
            r.rows_read(),
            b.len()
        ),
        Err(e) => e,
    }
}

/// Non-empty, non-`#` lines of a (plain text) file: the data lines of a Zeek log (a directive may be
/// preceded by blanks in some real logs).
pub fn zeek_data_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.is_empty() && !l.trim_start().starts_with('#'))
        .map(str::to_string)
        .collect()
}
