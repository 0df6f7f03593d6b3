//! Readers against the committed fixtures: every format must read as the canonical flows the Python
//! oracle (tests/fixtures/make_fixtures.py) wrote in tests/fixtures/formats/expected/.

mod common;

use common::{expected, fixture, read, read_err, rows, Row};
use flowhound::error::Location;
use flowhound::ingest::{ColumnMap, Format, ReadOptions, TsUnit};
use flowhound::FlowError;

fn opts() -> ReadOptions {
    ReadOptions {
        threads: 2,
        ..Default::default()
    }
}

fn mapped_opts() -> ReadOptions {
    let map = [
        "timestamp=when",
        "src_ip=source",
        "dst_ip=target",
        "up_bytes=sent",
        "down_bytes=received",
    ];
    ReadOptions {
        mapping: ColumnMap::parse(&map).unwrap(),
        ..opts()
    }
}

fn assert_rows(file: &str, name: &str, got: &[Row]) {
    let want = expected(name);
    assert_eq!(got.len(), want.len(), "{file}: row count");
    for (i, (g, (w, src, dst))) in got.iter().zip(&want).enumerate() {
        let ctx = format!("{file} row {}", i + 1);
        assert_eq!(g.ts_us, w.ts_us, "{ctx}: ts");
        assert_eq!(
            (g.src_ip, g.dst_ip),
            (w.src_ip, w.dst_ip),
            "{ctx}: ip integers"
        );
        assert_eq!(flowhound::ip::format(g.src_ip), *src, "{ctx}: src text");
        assert_eq!(flowhound::ip::format(g.dst_ip), *dst, "{ctx}: dst text");
        assert_eq!(g.proto, w.proto, "{ctx}: proto");
        assert_eq!(
            (g.src_port, g.dst_port),
            (w.src_port, w.dst_port),
            "{ctx}: ports"
        );
        assert_eq!(
            (g.up_bytes, g.down_bytes),
            (w.up_bytes, w.down_bytes),
            "{ctx}: bytes"
        );
        match (g.duration, w.duration) {
            (Some(a), Some(b)) => assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "{ctx}: duration {a} vs {b}"
            ),
            (a, b) => assert_eq!(a, b, "{ctx}: duration"),
        }
        assert_eq!(g.packets, w.packets, "{ctx}: packets");
        assert_eq!(g.label, w.label, "{ctx}: label");
    }
}

fn check(file: &str, name: &str, o: &ReadOptions) -> flowhound::ingest::IngestReport {
    let (batches, report) = read(&[fixture(file)], o);
    assert_rows(file, name, &rows(&batches));
    assert_eq!(report.rows_skipped(), 0, "{file}: no bad rows");
    assert_eq!(
        batches[0].schema(),
        flowhound::schema::flow_schema(),
        "{file}: canonical schema"
    );
    report
}

#[test]
fn analysts_parquet_every_timestamp_unit() {
    let cases = [
        ("formats/analysts_s.parquet", "analysts_s", Some(TsUnit::S)),
        (
            "formats/analysts_ms.parquet",
            "analysts_ms",
            Some(TsUnit::Ms),
        ),
        (
            "formats/analysts_float.parquet",
            "analysts_float",
            Some(TsUnit::S),
        ),
        ("formats/analysts_arrow.parquet", "analysts_arrow", None),
        // No column statistics: the unit comes from the first value, not a default of seconds.
        (
            "formats/analysts_ms_nostats.parquet",
            "analysts_ms",
            Some(TsUnit::Ms),
        ),
    ];
    for (file, name, unit) in cases {
        let report = check(file, name, &opts());
        assert_eq!(report.files[0].format, Format::Parquet, "{file}");
        assert_eq!(report.files[0].ts_unit, unit, "{file}: detected unit");
    }
}

#[test]
fn ts_unit_override_wins_over_detection() {
    // The int-seconds file read as milliseconds: every timestamp is 1000 times smaller.
    let o = ReadOptions {
        ts_unit: Some(TsUnit::Ms),
        ..opts()
    };
    let (batches, report) = read(&[fixture("formats/analysts_s.parquet")], &o);
    assert_eq!(report.files[0].ts_unit, Some(TsUnit::Ms));
    let want: Vec<i64> = expected("analysts_s")
        .iter()
        .map(|(r, ..)| r.ts_us / 1000)
        .collect();
    let got: Vec<i64> = rows(&batches).iter().map(|r| r.ts_us).collect();
    assert_eq!(got, want);
}

#[test]
fn csv_with_map() {
    check("formats/mapped.csv", "mapped", &mapped_opts());
}

#[test]
fn csv_without_map_names_the_missing_column_and_the_fix() {
    let e = read_err(&[fixture("formats/mapped.csv")], &opts());
    let msg = e.to_string();
    assert!(matches!(e, FlowError::MissingColumn { .. }), "{msg}");
    assert_eq!(e.exit_code(), 3);
    for part in [
        "mapped.csv",
        "missing column 'ts'",
        "when, source, sport, target",
        "--map ts=",
    ] {
        assert!(msg.contains(part), "'{part}' not in: {msg}");
    }
}

#[test]
fn zeek_tsv_plain_and_gzip() {
    for file in ["formats/conn.log", "formats/conn.log.gz"] {
        let report = check(file, "conn", &opts());
        assert_eq!(report.files[0].format, Format::ZeekTsv, "{file}");
    }
}

#[test]
fn zeek_detailedlabel_through_map() {
    let o = ReadOptions {
        mapping: ColumnMap::parse(&["label=detailedlabel"]).unwrap(),
        ..opts()
    };
    check("formats/conn.log", "conn_detailedlabel", &o);
}

#[test]
fn zeek_json_lines() {
    let report = check("formats/conn.json", "conn_json", &opts());
    assert_eq!(report.files[0].format, Format::ZeekJson);
}

#[test]
fn binetflow_down_is_total_minus_source_and_label_kept() {
    let report = check("formats/flows.binetflow", "binetflow", &opts());
    assert_eq!(report.files[0].format, Format::Binetflow);
}

#[test]
fn zeek_unknown_extra_field_and_node_name_read_fine() {
    check(
        "malformed/zeek_extra_field.log",
        "zeek_extra_field",
        &opts(),
    );
}

#[test]
fn format_override() {
    // A Zeek log forced as Zeek reads the same; a CSV forced as Parquet is a clear corrupt-file error.
    let o = ReadOptions {
        format: Some(Format::ZeekTsv),
        ..opts()
    };
    check("formats/conn.log", "conn", &o);
    let o = ReadOptions {
        format: Some(Format::Parquet),
        ..opts()
    };
    let e = read_err(&[fixture("formats/mapped.csv")], &o);
    assert!(matches!(e, FlowError::Corrupt { .. }), "{e}");
    assert!(
        e.to_string().contains("mapped.csv") && e.to_string().contains("Parquet"),
        "{e}"
    );
}

#[test]
fn several_files_directories_and_globs_keep_input_order() {
    let all = [fixture("formats/conn.log"), fixture("formats/conn.log.gz")];
    let (batches, report) = read(&all, &opts());
    assert_eq!(report.files.len(), 2);
    let got = rows(&batches);
    let want: Vec<Row> = expected("conn").into_iter().map(|(r, ..)| r).collect();
    assert_eq!(got.len(), 2 * want.len());
    assert_eq!(&got[..want.len()], &want[..]);
    assert_eq!(&got[want.len()..], &want[..]);
    let glob = fixture("formats/conn.log*");
    let (batches, report) = read(&[glob], &opts());
    assert_eq!(
        (report.files.len(), rows(&batches).len()),
        (2, 2 * want.len())
    );
    // The whole formats/ directory: every fixture there is a flow file (the mapped CSV needs --map, so
    // a directory expansion passes it over and says so).
    let (batches, report) = read(&[fixture("formats")], &opts());
    let n_files = report.files.len();
    assert_eq!(
        n_files,
        9,
        "{:?}",
        report
            .files
            .iter()
            .map(|f| f.path.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(rows(&batches).len(), 9 * want.len());
    assert!(
        report
            .ignored
            .iter()
            .any(|(p, why)| p.ends_with("mapped.csv") && why.contains("--map")),
        "{:?}",
        report.ignored
    );
}

#[test]
fn bad_ip_rows_are_skipped_counted_and_located() {
    let (batches, report) = read(&[fixture("malformed/bad_ip.csv")], &opts());
    assert_eq!((rows(&batches).len(), report.rows_skipped()), (10, 2));
    let s = &report.bad_rows.samples;
    assert_eq!(s.len(), 2);
    assert_eq!(
        (
            s[0].location.clone(),
            s[0].column.as_str(),
            s[0].value.as_str()
        ),
        (Location::Line(4), "src_ip", "192.168.1.999")
    );
    assert_eq!(
        (
            s[1].location.clone(),
            s[1].column.as_str(),
            s[1].value.as_str()
        ),
        (Location::Line(10), "src_ip", "not-an-ip")
    );
    let summary = report.summary_lines().join("\n");
    assert!(
        summary.contains("skipped 2 bad row(s)")
            && summary.contains("line 4")
            && summary.contains("--strict"),
        "{summary}"
    );

    let (batches, report) = read(&[fixture("malformed/bad_ip.parquet")], &opts());
    assert_eq!((rows(&batches).len(), report.rows_skipped()), (11, 1));
    let b = &report.bad_rows.samples[0];
    assert_eq!(
        (b.location.clone(), b.column.as_str(), b.value.as_str()),
        (Location::Row(5), "dst_ip", "10.0.0.300")
    );
}

#[test]
fn strict_makes_the_first_bad_row_fatal() {
    let o = ReadOptions {
        strict: true,
        ..opts()
    };
    let e = read_err(&[fixture("malformed/bad_ip.csv")], &o);
    assert_eq!(e.exit_code(), 4);
    let msg = e.to_string();
    for part in [
        "bad_ip.csv",
        "line 4",
        "src_ip",
        "192.168.1.999",
        "not an IP address",
        "--strict",
    ] {
        assert!(msg.contains(part), "'{part}' not in: {msg}");
    }
    let e = read_err(&[fixture("malformed/negative_bytes.parquet")], &o);
    assert!(
        matches!(
            &e,
            FlowError::BadRow {
                location: Location::Row(8),
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn negative_bytes_are_bad_rows() {
    for (file, loc, n) in [
        ("malformed/negative_bytes.csv", Location::Line(7), 11),
        ("malformed/negative_bytes.parquet", Location::Row(8), 11),
    ] {
        let (batches, report) = read(&[fixture(file)], &opts());
        assert_eq!(
            (rows(&batches).len(), report.rows_skipped()),
            (n, 1),
            "{file}"
        );
        let b = &report.bad_rows.samples[0];
        assert_eq!(
            (b.location.clone(), b.column.as_str()),
            (loc, "up_bytes"),
            "{file}"
        );
        assert!(b.why.contains("negative"), "{file}: {}", b.why);
    }
}

#[test]
fn malformed_files_fail_with_typed_errors() {
    type Check = fn(&FlowError) -> bool;
    let cases: [(&str, Check, &[&str]); 11] = [
        (
            "truncated.parquet",
            |e| matches!(e, FlowError::Corrupt { .. }),
            &["truncated.parquet", "truncated or damaged"],
        ),
        (
            "wrong_type.parquet",
            |e| matches!(e, FlowError::WrongType { .. }),
            &[
                "wrong_type.parquet",
                "'src_ip'",
                "Float64",
                "IP addresses as text",
            ],
        ),
        (
            "missing_column.parquet",
            |e| matches!(e, FlowError::MissingColumn { .. }),
            &[
                "missing_column.parquet",
                "'down_bytes'",
                "timestamp, src_ip",
                "--map down_bytes=",
            ],
        ),
        (
            "missing_column.csv",
            |e| matches!(e, FlowError::MissingColumn { .. }),
            &["missing_column.csv", "'down_bytes'", "--map down_bytes="],
        ),
        (
            "empty.csv",
            |e| matches!(e, FlowError::Empty { .. }),
            &["empty.csv", "empty"],
        ),
        (
            "header_only.csv",
            |e| matches!(e, FlowError::Empty { .. }),
            &["header_only.csv", "empty"],
        ),
        (
            "empty.parquet",
            |e| matches!(e, FlowError::Empty { .. }),
            &["empty.parquet", "empty"],
        ),
        (
            "not_flows.txt",
            |e| matches!(e, FlowError::UnknownFormat { .. }),
            &["not_flows.txt", "first line is 'Nov 14", "--format"],
        ),
        (
            "not_flows.csv",
            |e| matches!(e, FlowError::MissingColumn { .. }),
            &[
                "not_flows.csv",
                "missing column 'ts'",
                "Columns found: name, colour, size",
                "--map",
            ],
        ),
        (
            "random.bin",
            |e| matches!(e, FlowError::UnknownFormat { .. }),
            &["random.bin", "binary"],
        ),
        (
            "zeek_dns.log",
            |e| matches!(e, FlowError::UnknownFormat { .. }),
            &["zeek_dns.log", "'dns' log", "conn.log"],
        ),
    ];
    for (file, is, parts) in cases {
        let e = read_err(&[fixture(&format!("malformed/{file}"))], &opts());
        let msg = e.to_string();
        assert!(is(&e), "{file}: unexpected error kind: {msg}");
        assert_eq!(e.exit_code(), 3, "{file}: {msg}");
        for p in parts {
            assert!(msg.contains(p), "{file}: '{p}' not in: {msg}");
        }
        assert!(!msg.contains('\n'), "{file}: one line: {msg}");
    }
}

#[test]
fn truncated_gzip_is_a_clear_error() {
    let e = read_err(&[fixture("malformed/truncated.log.gz")], &opts());
    let msg = e.to_string();
    assert!(matches!(e, FlowError::Corrupt { .. }), "{msg}");
    assert!(
        msg.contains("truncated.log.gz") && msg.contains("truncated"),
        "{msg}"
    );
}

#[test]
fn a_directory_without_flow_files_says_why_its_files_were_passed_over() {
    let dir =
        std::env::temp_dir().join(format!("flowhound-nothing-readable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["malformed/not_flows.txt", "formats/mapped.csv"] {
        let src = fixture(f);
        let name = std::path::Path::new(&src).file_name().unwrap().to_owned();
        std::fs::copy(&src, dir.join(name)).unwrap();
    }
    let e = read_err(&[dir.to_string_lossy().into_owned()], &opts());
    let msg = e.to_string();
    // The CSV's missing column and its --map hint, not "nothing matched ... quote globs".
    assert!(matches!(e, FlowError::MissingColumn { .. }), "{msg}");
    assert_eq!(e.exit_code(), 3);
    for part in ["mapped.csv", "missing column 'ts'", "--map ts="] {
        assert!(msg.contains(part), "'{part}' not in: {msg}");
    }
    std::fs::remove_file(dir.join("mapped.csv")).unwrap();
    let e = read_err(&[dir.to_string_lossy().into_owned()], &opts());
    let msg = e.to_string();
    assert!(matches!(e, FlowError::UnknownFormat { .. }), "{msg}");
    assert!(msg.contains("not_flows.txt"), "{msg}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_inputs_are_named() {
    let e = read_err(&[fixture("formats/nope.parquet")], &opts());
    assert!(
        matches!(e, FlowError::NoInput { .. }) && e.to_string().contains("nope.parquet"),
        "{e}"
    );
    let e = read_err(&[fixture("formats/*.nothing")], &opts());
    assert!(
        matches!(e, FlowError::NoInput { .. }) && e.to_string().contains("*.nothing"),
        "{e}"
    );
}

#[test]
fn single_and_many_threads_agree() {
    let file = fixture("profile/flows.parquet");
    let one = rows(
        &read(
            std::slice::from_ref(&file),
            &ReadOptions {
                threads: 1,
                ..Default::default()
            },
        )
        .0,
    );
    let four = rows(
        &read(
            &[file],
            &ReadOptions {
                threads: 4,
                ..Default::default()
            },
        )
        .0,
    );
    assert_eq!(one.len(), 5000);
    assert_eq!(one, four);
}

/// A bad line: (line number, column named, a word of the reason).
type BadLine = (u64, &'static str, &'static str);

/// (fixture, rows kept, its bad lines)
const BAD_ROWS: [(&str, usize, &[BadLine]); 7] = [
    (
        "malformed/zeek_bad_rows.log",
        2,
        &[
            (10, "(line)", "fewer fields"),
            (11, "id.resp_p", "port"),
            (12, "ts", "timestamp"),
            (13, "orig_bytes", "negative"),
            (14, "id.orig_h", "IP address"),
        ],
    ),
    (
        "malformed/zeek_bad_lines.json",
        2,
        &[
            (2, "(line)", "JSON"),
            (3, "id.resp_h", "IP address"),
            (4, "id.resp_p", "port"),
        ],
    ),
    (
        "malformed/binetflow_bad_rows.binetflow",
        2,
        &[
            (3, "TotBytes", "total bytes smaller"),
            (4, "SrcAddr", "IP address"),
        ],
    ),
    (
        "malformed/zeek_bad_utf8.log",
        2,
        &[(10, "(line)", "not valid UTF-8")],
    ),
    (
        "malformed/zeek_bad_utf8.json",
        2,
        &[(2, "(line)", "not valid UTF-8")],
    ),
    (
        "malformed/truncated_rows.csv",
        3,
        &[
            (3, "up_bytes", "fewer fields"),
            (5, "dst_ip", "fewer fields"),
        ],
    ),
    (
        "malformed/truncated_rows.binetflow",
        4,
        &[(3, "SrcBytes", "fewer fields than the header")],
    ),
];

#[test]
fn binetflow_empty_total_and_missing_label_are_unset() {
    let (batches, report) = read(&[fixture("malformed/truncated_rows.binetflow")], &opts());
    assert_eq!(report.rows_skipped(), 1);
    let got = rows(&batches);
    // Line 4: TotBytes empty, SrcBytes 310: down bytes unknown (0), not SrcBytes.
    assert_eq!(
        (got[1].up_bytes, got[1].down_bytes),
        (310, 0),
        "{:?}",
        got[1]
    );
    assert_eq!(got[1].label.as_deref(), Some("flow=c"));
    // Line 5: the optional Label is cut off: the flow is kept, unlabelled.
    assert_eq!(
        (got[2].up_bytes, got[2].down_bytes),
        (64, 64),
        "{:?}",
        got[2]
    );
    assert_eq!(got[2].label, None);
}

#[test]
fn every_kind_of_bad_row_is_skipped_and_located() {
    for (file, kept, bad) in BAD_ROWS {
        let (batches, report) = read(&[fixture(file)], &opts());
        assert_eq!(rows(&batches).len(), kept, "{file}: rows kept");
        assert_eq!(
            report.rows_skipped(),
            bad.len() as u64,
            "{file}: {:?}",
            report.bad_rows.samples
        );
        for (b, (line, col, why)) in report.bad_rows.samples.iter().zip(bad) {
            assert_eq!(b.location, Location::Line(*line), "{file}: {b:?}");
            assert_eq!(b.column, *col, "{file}: {b:?}");
            assert!(b.why.contains(why), "{file}: '{why}' not in {b:?}");
        }
        let o = ReadOptions {
            strict: true,
            ..opts()
        };
        let e = read_err(&[fixture(file)], &o);
        assert!(
            matches!(&e, FlowError::BadRow { location: Location::Line(n), .. } if *n == bad[0].0),
            "{file}: {e}"
        );
    }
}
