//! `convert` (round trip, atomic output) and `sql` (GROUP BY to table/CSV/JSON/Parquet, translated
//! query errors) through the real binary.

mod common;

use common::{fixture, flowhound, Scratch};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use flowhound::ingest::{self, Format, ReadOptions};
use std::collections::BTreeMap;

fn read_one(path: &str) -> (RecordBatch, Format) {
    let (batches, report) = ingest::read_all(&[path.to_string()], &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    (
        concat_batches(&flowhound::schema::flow_schema(), &batches).unwrap(),
        report.files[0].format,
    )
}

#[test]
fn convert_round_trips_every_format() {
    let tmp = Scratch::new("convert");
    for f in [
        "formats/conn.log",
        "formats/conn.log.gz",
        "formats/conn.json",
        "formats/flows.binetflow",
        "formats/analysts_float.parquet",
        "malformed/zeek_extra_field.log",
    ] {
        let out = tmp.path("out.parquet");
        let run = flowhound(&["convert", &fixture(f), "-o", out.to_str().unwrap()]);
        run.expect(0, f)
            .stderr_has(&["read 12 flows", "wrote 12 flows to"], f);
        let (direct, _) = read_one(&fixture(f));
        let (back, format) = read_one(out.to_str().unwrap());
        assert_eq!(format, Format::Parquet);
        assert_eq!(
            back, direct,
            "{f}: converted Parquet reads back as the same canonical flows"
        );
        // The file itself carries the canonical schema (IP integers, UTC microseconds), unmapped.
        let file = std::fs::File::open(&out).unwrap();
        let schema = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .schema()
            .clone();
        let canonical = flowhound::schema::flow_schema();
        let columns = |s: &datafusion::arrow::datatypes::Schema| -> Vec<(String, String)> {
            s.fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().to_string()))
                .collect()
        };
        assert_eq!(columns(&schema), columns(&canonical), "{f}");
        assert_eq!(tmp.files(), ["out.parquet"], "no temp file left");
        std::fs::remove_file(&out).unwrap();
    }
}

#[test]
fn sql_over_canonical_parquet_reads_it_in_place_without_an_ingest_summary() {
    let tmp = Scratch::new("sql-direct");
    let out = tmp.path("conn.parquet");
    let conn = fixture("formats/conn.log");
    flowhound(&["convert", "-q", &conn, "-o", out.to_str().unwrap()]).expect(0, "convert");
    let run = flowhound(&[
        "sql",
        "SELECT count(*) AS n FROM flows",
        out.to_str().unwrap(),
    ]);
    run.expect(0, "sql direct")
        .stderr_has(&["1 row(s)"], "sql direct");
    assert!(
        run.stdout.lines().any(|l| l.trim() == "12"),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("read 0 flows"), "{}", run.stderr);
    // Text inputs are read, and say so.
    let run = flowhound(&["sql", "SELECT count(*) AS n FROM flows", &conn]);
    run.expect(0, "sql text")
        .stderr_has(&["read 12 flows from 1 file(s)"], "sql text");
}

#[test]
fn convert_several_inputs_keeps_order() {
    let tmp = Scratch::new("convert-many");
    let out = tmp.path("all.parquet");
    let (a, b) = (
        fixture("formats/conn.log"),
        fixture("formats/flows.binetflow"),
    );
    flowhound(&["convert", "-q", &a, &b, "-o", out.to_str().unwrap()]).expect(0, "convert two");
    let (x, _) = read_one(&a);
    let (y, _) = read_one(&b);
    let want = concat_batches(&flowhound::schema::flow_schema(), &[x, y]).unwrap();
    let (back, _) = read_one(out.to_str().unwrap());
    assert_eq!(back, want);
}

#[test]
fn convert_failing_midway_leaves_no_file_and_keeps_an_old_one() {
    let tmp = Scratch::new("convert-atomic");
    let out = tmp.path("out.parquet");
    // The second input has a bad row: with --strict the run fails after the first file was written.
    let args = |o: &str| {
        vec![
            "convert".to_string(),
            "-q".into(),
            "--strict".into(),
            fixture("formats/conn.log"),
            fixture("malformed/bad_ip.csv"),
            "-o".into(),
            o.to_string(),
        ]
    };
    let run = flowhound(&args(out.to_str().unwrap()));
    run.expect(4, "strict midway")
        .stderr_has(&["bad_ip.csv", "line 4"], "strict midway");
    assert!(
        tmp.files().is_empty(),
        "nothing left behind: {:?}",
        tmp.files()
    );
    // An existing output survives a failed run untouched.
    std::fs::write(&out, b"previous results").unwrap();
    flowhound(&args(out.to_str().unwrap())).expect(4, "strict midway over an old file");
    assert_eq!(std::fs::read(&out).unwrap(), b"previous results");
    assert_eq!(tmp.files(), ["out.parquet"]);
    // A schema problem in a later input is found before anything is written.
    let run = flowhound(&[
        "convert",
        "-q",
        &fixture("formats/conn.log"),
        &fixture("malformed/missing_column.csv"),
        "-o",
        out.to_str().unwrap(),
    ]);
    run.expect(3, "missing column second");
    assert_eq!(std::fs::read(&out).unwrap(), b"previous results");
}

/// Expected per-proto (flows, up, down) from the oracle's expected CSV of conn.log.
fn expected_by_proto() -> BTreeMap<String, (u64, u64, u64)> {
    let text = std::fs::read_to_string(fixture("formats/expected/conn.csv")).unwrap();
    let mut m: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for l in text.lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        let e = m.entry(c[5].to_string()).or_default();
        e.0 += 1;
        e.1 += c[8].parse::<u64>().unwrap();
        e.2 += c[9].parse::<u64>().unwrap();
    }
    m
}

const GROUP_BY: &str = "SELECT proto, count(*) AS flows, sum(up_bytes) AS up, sum(down_bytes) AS down FROM flows GROUP BY proto ORDER BY proto";

#[test]
fn sql_group_by_to_table_csv_json_parquet() {
    let want = expected_by_proto();
    let conn = fixture("formats/conn.log");
    let run = flowhound(&["sql", "-q", GROUP_BY, &conn]);
    run.expect(0, "sql table");
    for (p, (n, up, down)) in &want {
        let line = run
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(p.as_str()))
            .unwrap_or_else(|| panic!("{p} row in:\n{}", run.stdout));
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            cells[1..],
            [n.to_string(), up.to_string(), down.to_string()],
            "{line}"
        );
    }

    let tmp = Scratch::new("sql");
    let csv = tmp.path("r.csv");
    flowhound(&["sql", "-q", GROUP_BY, &conn, "-o", csv.to_str().unwrap()]).expect(0, "sql csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("proto,flows,up,down"));
    let got: BTreeMap<String, (u64, u64, u64)> = lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[0].to_string(),
                (
                    c[1].parse().unwrap(),
                    c[2].parse().unwrap(),
                    c[3].parse().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(got, want);

    let json = tmp.path("r.json");
    flowhound(&["sql", "-q", GROUP_BY, &conn, "-o", json.to_str().unwrap()]).expect(0, "sql json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let got: BTreeMap<String, (u64, u64, u64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["proto"].as_str().unwrap().to_string(),
                (
                    r["flows"].as_u64().unwrap(),
                    r["up"].as_u64().unwrap(),
                    r["down"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(got, want);

    let pq = tmp.path("r.parquet");
    flowhound(&["sql", "-q", GROUP_BY, &conn, "-o", pq.to_str().unwrap()]).expect(0, "sql parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&pq).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, want.len());
    assert_eq!(batches[0].schema().field(0).name(), "proto");
    assert_eq!(tmp.files(), ["r.csv", "r.json", "r.parquet"]);
}

#[test]
fn sql_shows_ip_columns_as_text() {
    let run = flowhound(&[
        "sql",
        "-q",
        "SELECT src_ip, dst_ip, dst_port FROM flows WHERE dst_port = 1177 ORDER BY ts",
        &fixture("formats/conn.json"),
    ]);
    run.expect(0, "ip text");
    assert_eq!(
        run.stdout.matches("192.168.1.115").count(),
        2,
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stdout.matches("41.108.179.197").count(),
        2,
        "{}",
        run.stdout
    );
}

#[test]
fn sql_query_errors_exit_5_with_translated_messages() {
    let conn = fixture("formats/conn.log");
    let run = flowhound(&["sql", "-q", "SELECT bytes FROM flows", &conn]);
    run.expect(5, "unknown column").stderr_has(
        &[
            "query failed",
            "No field named bytes",
            "up_bytes",
            "down_bytes",
            "ip_str(src_ip)",
        ],
        "unknown column",
    );
    assert!(
        !run.stderr.contains("Schema error"),
        "raw prefix: {}",
        run.stderr
    );
    let run = flowhound(&["sql", "-q", "SELECT * FROM conn", &conn]);
    run.expect(5, "unknown table")
        .stderr_has(&["query failed", "table 'flows'"], "unknown table");
    let run = flowhound(&["sql", "-q", "SELECT no_such_fn(src_ip) FROM flows", &conn]);
    run.expect(5, "unknown function").stderr_has(
        &[
            "query failed",
            "ip_str(ip)",
            "geo_country(ip)",
            "asn_number(ip)",
            "asn_org(ip)",
            "is_private(ip)",
            "in_cidr(ip, cidr)",
        ],
        "unknown function",
    );
    let run = flowhound(&["sql", "-q", "SELEC * FROM flows", &conn]);
    run.expect(5, "syntax")
        .stderr_has(&["query failed", "Check the SQL syntax"], "syntax");
    let tmp = Scratch::new("sql-err");
    let run = flowhound(&[
        "sql",
        "-q",
        "SELECT 1",
        &conn,
        "-o",
        tmp.path("x.xlsx").to_str().unwrap(),
    ]);
    run.expect(2, "unknown extension")
        .stderr_has(&["x.xlsx", ".csv, .json"], "extension");
    assert!(tmp.files().is_empty());
}

#[test]
fn sql_over_the_real_njrat_capture() {
    let dir = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ));
    if !dir.is_dir() {
        println!(
            "skipped: sql_over_the_real_njrat_capture: {} is absent",
            dir.display()
        );
        return;
    }
    let path = dir.join("zeek/strato-001-njrat-cc/conn.log.labeled");
    let raw = std::fs::read_to_string(&path).unwrap();
    let cc = raw
        .lines()
        .filter(|l| l.contains("\t192.168.1.115\t") && l.contains("\t41.108.179.197\t1177\ttcp\t"))
        .count();
    let q = "SELECT ip_str(src_ip) AS src, ip_str(dst_ip) AS dst, dst_port, label, count(*) AS flows FROM flows \
             WHERE dst_port = 1177 GROUP BY 1, 2, 3, 4";
    let run = flowhound(&["sql", "-q", q, path.to_str().unwrap()]);
    run.expect(0, "njrat sql");
    let rows: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .filter(|c: &Vec<&str>| c.first() == Some(&"192.168.1.115"))
        .collect();
    assert_eq!(
        rows,
        [vec![
            "192.168.1.115",
            "41.108.179.197",
            "1177",
            "Malicious",
            cc.to_string().as_str()
        ]],
        "{}",
        run.stdout
    );
}
