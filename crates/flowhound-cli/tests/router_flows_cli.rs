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
    write(&one_way_records(&f, false), out, None);
}

/// Writes `input` as [`export_one_way`] does, but into files rotated every `rotate_secs` of export
/// time, as a collector writes them: a record is exported when its flow expires, 0-59 s after it
/// started (the answer's expiry drawn apart from the client's), so some connections' two records
/// land in two files. Returns the files written, in order.
fn export_rotated(input: &Path, dir: &Path, rotate_secs: i64) -> Vec<String> {
    let (read, _) =
        flowhound::ingest::read_all(&[input.display().to_string()], &Default::default()).unwrap();
    let f = Flows::from_batches(&read).unwrap();
    let mut files: std::collections::BTreeMap<i64, Vec<FlowRow>> = Default::default();
    for (k, r) in one_way_records(&f, false).into_iter().enumerate() {
        let expiry = r.ts_us + ((k as i64 * 7_919) % 60) * 1_000_000;
        files
            .entry(expiry.div_euclid(rotate_secs * 1_000_000))
            .or_default()
            .push(r);
    }
    let mut out = Vec::new();
    for (slot, rows) in files {
        let path = dir.join(format!("flows-{slot}.parquet"));
        write(&rows, &path, None);
        out.push(path.display().to_string());
    }
    out
}

/// Writes `rows` to `out` (Parquet), in row groups of `group_rows` when given.
fn write(rows: &[FlowRow], out: &Path, group_rows: Option<usize>) {
    let mut b = FlowBuilder::new();
    rows.iter().for_each(|r| b.push(r));
    let batch: RecordBatch = b.finish();
    let props = group_rows.map(|n| {
        datafusion::parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(n))
            .build()
    });
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(out).unwrap(), batch.schema(), props).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Each flow of `f` as one-way records (see [`export_one_way`]), in input order; with `apart`, every
/// client's record first, then every answer (as a tool writing one direction after the other).
fn one_way_records(f: &Flows, apart: bool) -> Vec<FlowRow> {
    let mut b = Vec::new();
    let mut answers = Vec::new();
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
        b.push(one(
            f.ts[i],
            f.src[i],
            port,
            f.dst[i],
            f.dst_port[i],
            f.up[i],
        ));
        if f.down[i] > 0 {
            let answer = one(
                f.ts[i] + 2_000,
                f.dst[i],
                f.dst_port[i],
                f.src[i],
                port,
                f.down[i],
            );
            match apart {
                true => answers.push(answer),
                false => b.push(answer),
            }
        }
    }
    b.extend(answers);
    b
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
    let analyze_files = |tag: &str, normal: String, test: Vec<String>, extra: &[&str]| {
        let out = dir.path(&format!("{tag}.json"));
        let mut args = vec![
            "analyze".to_string(),
            "--no-rdns".into(),
            "--normal".into(),
            normal,
            "--test".into(),
        ];
        args.extend(test);
        args.extend([
            "--min-severity".into(),
            "low".into(),
            "--json".into(),
            out.display().to_string(),
        ]);
        args.extend(extra.iter().map(|x| x.to_string()));
        let (_, err) = flowhound(&args).ok(tag);
        (findings(&out), err)
    };
    let analyze = |tag: &str, suffix: &str, extra: &[&str]| {
        let test = vec![
            p(&format!("test{suffix}.parquet")),
            p(&format!("servers{suffix}.parquet")),
        ];
        analyze_files(tag, p(&format!("normal{suffix}.parquet")), test, extra)
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
    // a collector's rotated files: some connections' two records are in two files
    let rotated = dir.path("rotated");
    std::fs::create_dir_all(&rotated).unwrap();
    let mut files = export_rotated(&d.join("test.parquet"), &rotated, 3600);
    assert!(files.len() > 5, "{} files", files.len());
    files.push(p("servers-1way.parquet"));
    let normal = p("normal-1way.parquet");
    let (across, err) = analyze_files("rotated", normal.clone(), files.clone(), &[]);
    let answers = |name: &str| {
        let (b, _) = flowhound::ingest::read_all(&[p(name)], &Default::default()).unwrap();
        let f = Flows::from_batches(&b).unwrap();
        one_way_records(&f, false).len() - f.len()
    };
    let want = answers("test.parquet") + answers("servers.parquet");
    assert!(
        err.contains(&format!("stitched {want} one-way answer record")),
        "every answer stitched, across files too ({want}): {err}"
    );
    assert_eq!(across, two_way, "rotated files: the biflows' findings");
    let (across, _) = analyze_files("rotated-sharded", normal, files, &["--shards", "3"]);
    assert_eq!(across, two_way, "rotated files, out of core");
    // one Parquet file whose row groups hold every client's record, then every answer: a connection's
    // two records in two row groups of one file, stitched once the file's last row group is read
    let (t, _) = flowhound::ingest::read_all(&[p("test.parquet")], &Default::default()).unwrap();
    let grouped = dir.path("grouped.parquet");
    write(
        &one_way_records(&Flows::from_batches(&t).unwrap(), true),
        &grouped,
        Some(4_000),
    );
    let files = vec![grouped.display().to_string(), p("servers-1way.parquet")];
    for (tag, extra) in [
        ("grouped", &[][..]),
        ("grouped-sharded", &["--shards", "3"][..]),
    ] {
        let (got, err) = analyze_files(tag, p("normal-1way.parquet"), files.clone(), extra);
        assert!(
            err.contains(&format!("stitched {want} one-way")),
            "{tag}: {err}"
        );
        assert_eq!(got, two_way, "{tag}: the biflows' findings");
    }

    // converted once into stitched biflows (as for --cluster, whose executors read Parquet as is)
    let conv = dir.path("stitched.parquet");
    let mut args = vec!["convert".to_string(), "--stitch".into()];
    args.extend([p("test-1way.parquet"), p("servers-1way.parquet")]);
    args.extend(["-o".into(), conv.display().to_string()]);
    let (_, err) = flowhound(&args).ok("convert --stitch");
    let flows = |name: &str| {
        let (b, _) = flowhound::ingest::read_all(&[p(name)], &Default::default()).unwrap();
        Flows::from_batches(&b).unwrap().len()
    };
    let biflows = flows("test.parquet") + flows("servers.parquet");
    assert!(err.contains(&format!("wrote {biflows} flows")), "{err}");
    let normal = p("normal-1way.parquet");
    let conv = vec![conv.display().to_string()];
    // (the normal input still one-way, stitched as read; the converted file is two-way)
    let (converted, err) = analyze_files("converted", normal, conv, &[]);
    assert!(
        !err.contains("stitched"),
        "the converted test input is biflows: {err}"
    );
    assert_eq!(
        converted, two_way,
        "converted with --stitch: the biflows' findings"
    );
    let (raw, err) = analyze("raw", "-1way", &["--no-stitch"]);
    assert!(!err.contains("stitched"), "{err}");
    let n = |v: &serde_json::Value| v.as_array().unwrap().len();
    assert!(
        n(&raw) > n(&two_way) + 5,
        "one-way records unstitched: {} findings",
        n(&raw)
    );
}
