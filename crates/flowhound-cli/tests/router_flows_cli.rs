//! Router flows (one record per direction) through the binary: a generated network exported as a
//! router would (each flow split into the client's record and the server's answer record, with
//! ports, no download bytes) is stitched back at read time, and `analyze` then finds exactly what it
//! finds on the generated biflows, in memory and out of core; `--no-stitch` shows why it matters.

mod common;

use common::{flowhound, Scratch};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use flowhound::detect::flows::Flows;
use flowhound::ingest::builder::{FlowBuilder, FlowRow};
use std::path::Path;

/// Writes `input` (canonical flows) as one-way records: the client's, then the answer 2 ms later
/// from the server's port to a client port unique to the flow.
fn export_one_way(input: &Path, out: &Path) {
    let (read, _) =
        flowhound::ingest::read_all(&[input.display().to_string()], &Default::default()).unwrap();
    let f = Flows::from_batches(&read).unwrap();
    let mut b = FlowBuilder::new();
    for i in 0..f.len() {
        let port = 1024 + (i % 60_000) as u16;
        let one = |ts, src, sport, dst, dport, up| FlowRow {
            ts_us: ts,
            src,
            dst,
            proto: Some(f.proto[i]),
            src_port: Some(sport),
            dst_port: dport,
            up,
            ..Default::default()
        };
        b.push(&one(
            f.ts[i],
            f.src[i],
            port,
            f.dst[i],
            f.dst_port[i],
            f.up[i],
        ));
        if f.down[i] > 0 {
            b.push(&one(
                f.ts[i] + 2_000,
                f.dst[i],
                f.dst_port[i],
                f.src[i],
                port,
                f.down[i],
            ));
        }
    }
    let batch: RecordBatch = b.finish();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(out).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn findings(path: &Path) -> serde_json::Value {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["findings"].clone()
}

#[test]
fn one_way_records_are_stitched_into_the_same_findings() {
    let dir = Scratch::new("router");
    let d = dir.path("data");
    let s = d.to_str().unwrap();
    let gen = [
        "generate",
        "--out",
        s,
        "--seed",
        "5",
        "--clients",
        "50",
        "--flows-normal",
        "50000",
        "--flows-test",
        "40000",
        "--flows-servers",
        "5000",
    ];
    flowhound(&gen).ok("generate");
    for name in ["normal", "test", "servers"] {
        export_one_way(
            &d.join(format!("{name}.parquet")),
            &d.join(format!("{name}-1way.parquet")),
        );
    }
    let p = |n: &str| d.join(n).display().to_string();
    let analyze = |tag: &str, suffix: &str, extra: &[&str]| {
        let out = dir.path(&format!("{tag}.json"));
        let mut args = vec![
            "analyze".to_string(),
            "--no-rdns".into(),
            "--normal".into(),
            p(&format!("normal{suffix}.parquet")),
            "--test".into(),
            p(&format!("test{suffix}.parquet")),
            p(&format!("servers{suffix}.parquet")),
            "--min-severity".into(),
            "low".into(),
            "--json".into(),
            out.display().to_string(),
        ];
        args.extend(extra.iter().map(|x| x.to_string()));
        let (_, err) = flowhound(&args).ok(tag);
        (findings(&out), err)
    };
    let (two_way, _) = analyze("two-way", "", &[]);
    assert!(two_way.as_array().unwrap().len() >= 8, "{two_way}");
    let (stitched, err) = analyze("stitched", "-1way", &[]);
    assert!(
        err.contains("stitched") && err.contains("one-way answer record"),
        "{err}"
    );
    assert_eq!(
        stitched, two_way,
        "stitched router flows find what the biflows find"
    );
    let (sharded, _) = analyze("sharded", "-1way", &["--shards", "3"]);
    assert_eq!(sharded, two_way, "out of core too");
    let (raw, err) = analyze("raw", "-1way", &["--no-stitch"]);
    assert!(!err.contains("stitched"), "{err}");
    let n = |v: &serde_json::Value| v.as_array().unwrap().len();
    assert!(
        n(&raw) > n(&two_way) + 5,
        "one-way records unstitched: {} findings",
        n(&raw)
    );
}
