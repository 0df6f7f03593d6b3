//! Shared helpers of the generator tests: read the Parquet files back.
#![allow(dead_code)]

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type};
use flowhound_gen::{generate, GenConfig, Truth};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs::File;
use std::path::Path;

/// One row read back (timestamp as epoch seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub ts: i64,
    pub src: String,
    pub dst: String,
    pub proto: String,
    pub port: i64,
    pub up: i64,
    pub down: i64,
}

pub fn batches(path: &Path) -> Vec<RecordBatch> {
    let file = File::open(path).expect("open parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet reader")
        .build()
        .expect("build");
    reader.map(|b| b.expect("batch")).collect()
}

pub fn ts_seconds(col: &dyn Array) -> Vec<i64> {
    match col.data_type() {
        DataType::Int64 => col.as_primitive::<Int64Type>().values().to_vec(),
        other => panic!("unexpected timestamp type {other:?}"),
    }
}

pub fn rows(path: &Path) -> Vec<Row> {
    let mut out = Vec::new();
    for b in batches(path) {
        let ts = ts_seconds(b.column(0).as_ref());
        let s = |i: usize| b.column(i).as_string::<i32>().clone();
        let n = |i: usize| b.column(i).as_primitive::<Int64Type>().clone();
        let (src, dst, proto, port, up, down) = (s(1), s(2), s(3), n(4), n(5), n(6));
        for (i, &ts) in ts.iter().enumerate() {
            out.push(Row {
                ts,
                src: src.value(i).to_string(),
                dst: dst.value(i).to_string(),
                proto: proto.value(i).to_string(),
                port: port.value(i),
                up: up.value(i),
                down: down.value(i),
            });
        }
    }
    out
}

pub fn labels(path: &Path) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for b in batches(path) {
        let l = b.column(0).as_string::<i32>();
        let d = b.column(1).as_string::<i32>();
        for i in 0..b.num_rows() {
            out.push((
                l.value(i).to_string(),
                d.is_valid(i).then(|| d.value(i).to_string()),
            ));
        }
    }
    out
}

pub fn truth(dir: &Path) -> Truth {
    Truth::from_json(&std::fs::read_to_string(dir.join("truth.json")).expect("truth.json"))
        .expect("parse truth")
}

pub fn gen(cfg: &GenConfig) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    generate(cfg, dir.path(), &|_, _| {}).expect("generate");
    dir
}
