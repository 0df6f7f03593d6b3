//! The real binary on every committed fixture: good inputs read, malformed ones give a one-line message
//! naming the file, the column or line, and the fix, with the documented exit code (0 ok, 1 internal,
//! 2 usage/config, 3 input, 4 strict bad row, 5 query, 6 output) and never a panic.

mod common;

use common::{fixture, flowhound, Scratch};

/// (fixture, exit code, parts the message must contain)
const MALFORMED: [(&str, i32, &[&str]); 12] = [
    (
        "malformed/truncated.parquet",
        3,
        &[
            "truncated.parquet",
            "not a readable Parquet file",
            "truncated or damaged",
        ],
    ),
    (
        "malformed/wrong_type.parquet",
        3,
        &[
            "wrong_type.parquet",
            "column 'src_ip'",
            "Float64",
            "expected IP addresses as text",
        ],
    ),
    (
        "malformed/missing_column.parquet",
        3,
        &[
            "missing_column.parquet",
            "missing column 'down_bytes'",
            "Columns found: timestamp, src_ip, dst_ip, proto, port, up_bytes",
            "--map down_bytes=",
        ],
    ),
    (
        "malformed/missing_column.csv",
        3,
        &[
            "missing_column.csv",
            "missing column 'down_bytes'",
            "Columns found:",
            "--map down_bytes=",
        ],
    ),
    (
        "malformed/empty.csv",
        3,
        &["empty.csv", "the file is empty"],
    ),
    (
        "malformed/header_only.csv",
        3,
        &["header_only.csv", "the file is empty"],
    ),
    (
        "malformed/empty.parquet",
        3,
        &["empty.parquet", "the file is empty"],
    ),
    (
        "malformed/not_flows.txt",
        3,
        &["not_flows.txt", "not a flow file", "--format"],
    ),
    (
        "malformed/not_flows.csv",
        3,
        &[
            "not_flows.csv",
            "missing column 'ts'",
            "Columns found: name, colour, size",
            "--map ts=",
        ],
    ),
    (
        "malformed/random.bin",
        3,
        &["random.bin", "not a flow file", "binary"],
    ),
    (
        "malformed/zeek_dns.log",
        3,
        &["zeek_dns.log", "Zeek 'dns' log", "conn.log"],
    ),
    (
        "malformed/truncated.log.gz",
        3,
        &["truncated.log.gz", "truncated compressed data"],
    ),
];

/// The error line (the binary prints "flowhound: error: ..." once).
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("flowhound: error:"))
        .collect()
}

#[test]
fn malformed_inputs_exit_3_with_a_clear_message_in_every_command() {
    let tmp = Scratch::new("malformed");
    for (file, code, parts) in MALFORMED {
        let path = fixture(file);
        let out = tmp.path("out.parquet").to_string_lossy().into_owned();
        let runs = [
            ("profile", flowhound(&["profile", "-q", &path])),
            ("profile --json", flowhound(&["profile", "--json", &path])),
            ("convert", flowhound(&["convert", "-q", &path, "-o", &out])),
            (
                "sql",
                flowhound(&["sql", "-q", "SELECT count(*) FROM flows", &path]),
            ),
        ];
        for (cmd, run) in runs {
            let what = format!("{cmd} {file}");
            run.expect(code, &what).stderr_has(parts, &what);
            assert_eq!(
                error_lines(&run.stderr).len(),
                1,
                "{what}: one error line: {}",
                run.stderr
            );
            assert!(
                run.stdout.is_empty(),
                "{what}: nothing on stdout: {}",
                run.stdout
            );
        }
        assert!(
            tmp.files().is_empty(),
            "{file}: convert left {:?}",
            tmp.files()
        );
    }
}

#[test]
fn every_fixture_under_every_flag_combination_never_panics() {
    let dirs = ["formats", "malformed"];
    let flags: [&[&str]; 4] = [
        &[],
        &["--strict"],
        &["--format", "csv"],
        &["--format", "parquet"],
    ];
    for dir in dirs {
        for entry in std::fs::read_dir(fixture(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                continue;
            }
            for f in flags {
                let mut args = vec!["profile", "-q", "--json", path.to_str().unwrap()];
                args.extend_from_slice(f);
                let run = flowhound(&args);
                let what = format!("{args:?}");
                run.no_panic(&what);
                assert!(
                    [0, 3, 4].contains(&run.code),
                    "{what}: exit {}: {}",
                    run.code,
                    run.stderr
                );
            }
        }
    }
}

#[test]
fn bad_ip_rows_are_skipped_and_reported_or_fatal_with_strict() {
    let path = fixture("malformed/bad_ip.csv");
    let run = flowhound(&["profile", "--json", &path]);
    run.expect(0, "profile bad_ip.csv").stderr_has(
        &[
            "read 10 flows",
            "skipped 2 bad row(s)",
            "bad_ip.csv: line 4, column 'src_ip': not an IP address (value '192.168.1.999')",
            "line 10",
            "not-an-ip",
            "--strict",
        ],
        "bad ip summary",
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (json["flows"].as_u64(), json["skipped_rows"].as_u64()),
        (Some(10), Some(2))
    );

    let run = flowhound(&["profile", "-q", "--strict", &path]);
    run.expect(4, "profile --strict bad_ip.csv").stderr_has(
        &[
            "bad_ip.csv",
            "line 4",
            "column 'src_ip'",
            "not an IP address",
            "'192.168.1.999'",
            "Remove --strict",
        ],
        "strict",
    );

    let run = flowhound(&[
        "profile",
        "-q",
        "--strict",
        &fixture("malformed/bad_ip.parquet"),
    ]);
    run.expect(4, "strict bad_ip.parquet").stderr_has(
        &["bad_ip.parquet", "row 5", "column 'dst_ip'", "'10.0.0.300'"],
        "strict parquet",
    );
}

#[test]
fn truncated_lines_are_skipped_and_reported_or_fatal_with_strict() {
    for (file, kept, first) in [
        (
            "malformed/truncated_rows.csv",
            "read 3 flows",
            "column 'up_bytes'",
        ),
        (
            "malformed/truncated_rows.binetflow",
            "read 4 flows",
            "column 'SrcBytes'",
        ),
    ] {
        let path = fixture(file);
        flowhound(&["profile", &path]).expect(0, file).stderr_has(
            &[kept, "line 3", first, "fewer fields than the header"],
            file,
        );
        flowhound(&["profile", "-q", "--strict", &path])
            .expect(4, file)
            .stderr_has(&["line 3", first, "truncated line"], file);
    }
}

#[test]
fn negative_bytes_are_skipped_and_reported_or_fatal_with_strict() {
    for (file, loc) in [
        ("malformed/negative_bytes.csv", "line 7"),
        ("malformed/negative_bytes.parquet", "row 8"),
    ] {
        let path = fixture(file);
        let run = flowhound(&["profile", &path]);
        run.expect(0, file).stderr_has(
            &[
                "read 11 flows",
                "skipped 1 bad row(s)",
                loc,
                "column 'up_bytes'",
                "negative count",
            ],
            file,
        );
        flowhound(&["sql", "-q", "--strict", "SELECT 1", &path])
            .expect(4, file)
            .stderr_has(&[loc, "up_bytes", "negative count"], file);
    }
}

#[test]
fn csv_needing_map() {
    let path = fixture("formats/mapped.csv");
    let run = flowhound(&["profile", "-q", &path]);
    run.expect(3, "no map").stderr_has(
        &[
            "mapped.csv",
            "missing column 'ts'",
            "Columns found: when, source, sport, target",
            "--map ts=SOURCE_COLUMN",
        ],
        "no map",
    );
    let maps = [
        "--map",
        "timestamp=when",
        "--map",
        "src_ip=source",
        "--map",
        "dst_ip=target",
        "--map",
        "up_bytes=sent",
        "--map",
        "down_bytes=received",
    ];
    let mut args = vec!["profile", "-q", "--json", path.as_str()];
    args.extend(maps);
    let run = flowhound(&args);
    run.expect(0, "with map");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["flows"].as_u64(), Some(12));
    let mut args = vec!["profile", "-q", path.as_str()];
    args.extend(maps);
    args.extend(["--map", "up_bytes=nope"]);
    let run = flowhound(&args);
    run.expect(3, "map to an absent column").stderr_has(
        &[
            "mapped.csv",
            "missing column 'up_bytes'",
            "--map names 'nope'",
            "Columns found",
        ],
        "absent",
    );
}

#[test]
fn usage_errors_exit_2() {
    let path = fixture("formats/conn.log");
    let cases: [&[&str]; 5] = [
        &["profile", &path, "--map", "nonsense"],
        &["profile", &path, "--map", "bytes=x"],
        &["profile", &path, "--format", "excel"],
        &["profile", &path, "--ts-unit", "fortnights"],
        &["frobnicate"],
    ];
    for args in cases {
        let run = flowhound(args);
        run.expect(2, &format!("{args:?}"));
    }
    let run = flowhound(&["profile", &path, "--internal", "10.0.0.0/33"]);
    run.expect(2, "bad cidr");
}

#[test]
fn missing_paths_and_empty_globs_exit_3() {
    let run = flowhound(&["profile", "-q", &fixture("formats/absent.parquet")]);
    run.expect(3, "absent")
        .stderr_has(&["absent.parquet", "no such file"], "absent");
    let run = flowhound(&["profile", "-q", &fixture("formats/*.nothing")]);
    run.expect(3, "glob")
        .stderr_has(&["*.nothing", "nothing matched"], "glob");
}

#[test]
fn output_errors_exit_6() {
    let run = flowhound(&[
        "convert",
        "-q",
        &fixture("formats/conn.log"),
        "-o",
        "/nonexistent-dir-fh/out.parquet",
    ]);
    run.expect(6, "convert to a missing dir").stderr_has(
        &["/nonexistent-dir-fh/out.parquet", "does not exist"],
        "output",
    );
    let run = flowhound(&[
        "sql",
        "-q",
        "SELECT 1 AS x",
        &fixture("formats/conn.log"),
        "-o",
        "/nonexistent-dir-fh/out.csv",
    ]);
    run.expect(6, "sql to a missing dir");
}

#[test]
fn every_format_profiles_to_the_same_totals() {
    // The same 12 flows in each format: flows and byte sums agree (values from the expected CSVs).
    let inputs = [
        "formats/analysts_s.parquet",
        "formats/analysts_ms.parquet",
        "formats/analysts_float.parquet",
        "formats/analysts_arrow.parquet",
        "formats/conn.log",
        "formats/conn.log.gz",
        "formats/conn.json",
        "formats/flows.binetflow",
    ];
    let expected = std::fs::read_to_string(fixture("formats/expected/conn.csv")).unwrap();
    let (mut up, mut down) = (0u64, 0u64);
    for l in expected.lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        up += c[8].parse::<u64>().unwrap();
        down += c[9].parse::<u64>().unwrap();
    }
    for f in inputs {
        let run = flowhound(&["profile", "-q", "--json", &fixture(f)]);
        run.expect(0, f);
        let j: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(j["flows"].as_u64(), Some(12), "{f}");
        assert_eq!(
            (
                j["stats"]["up_bytes"]["sum"].as_u64(),
                j["stats"]["down_bytes"]["sum"].as_u64()
            ),
            (Some(up), Some(down)),
            "{f}"
        );
    }
}

#[test]
fn help_documents_the_exit_codes() {
    let run = flowhound(&["--help"]);
    run.expect(0, "--help");
    let text = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for part in [
        "0 ok",
        "1 internal error",
        "2 bad usage or config",
        "3 unreadable or invalid input",
        "4 bad row under --strict",
        "5 query error",
        "6 cannot write output",
    ] {
        assert!(
            text.contains(part),
            "'{part}' not in --help:\n{}",
            run.stdout
        );
    }
}
