//! Readers against real third-party logs in ../shared/testdata (skipped with a notice when absent).
//!
//! The expected values come from the raw files themselves, parsed here independently of flowhound's
//! readers: Zeek TSV split on tabs under its `#fields` line, Zeek JSON through serde_json, binetflow
//! split on its delimiter, addresses through `std::net::IpAddr`, timestamps by decimal arithmetic.

mod common;

use common::{read, rows, testdata, zeek_data_lines, Row};
use flowhound::ingest::{ColumnMap, Format, IngestReport, ReadOptions};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

fn opts() -> ReadOptions {
    ReadOptions {
        threads: 2,
        ..Default::default()
    }
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// flowhound's documented integer form: IPv6 as is, IPv4 as ::ffff:a.b.c.d.
fn ip_int(text: &str) -> Option<u128> {
    match text.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some((0xffffu128 << 32) | u32::from(v4) as u128),
        IpAddr::V6(v6) => Some(u128::from(v6)),
    }
}

/// Decimal epoch seconds ("1379288667.706265", "19.981745") to microseconds, exactly.
fn decimal_us(text: &str) -> i64 {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let frac6: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
    let round_up = frac.chars().nth(6).is_some_and(|c| c >= '5') as i64;
    int.parse::<i64>().unwrap() * 1_000_000 + frac6.parse::<i64>().unwrap() + round_up
}

fn proto_class(p: &str) -> &'static str {
    match p.to_ascii_lowercase().as_str() {
        "tcp" | "6" => "tcp",
        "udp" | "17" => "udp",
        "icmp" | "1" | "ipv6-icmp" | "icmp6" | "58" => "icmp",
        _ => "other",
    }
}

fn unset_count(v: &str) -> Option<u64> {
    (v != "-" && !v.is_empty()).then(|| v.parse().unwrap())
}

/// The canonical rows of a Zeek TSV conn log, computed from its raw lines.
fn zeek_tsv_expected(path: &Path, label_field: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap();
    let fields: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .expect("#fields")
        .split('\t')
        .collect();
    let col = |n: &str| fields.iter().position(|f| *f == n);
    zeek_data_lines(path)
        .iter()
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let get = |n: &str| cells[col(n).unwrap_or_else(|| panic!("{n}"))];
            let pk = |n: &str| unset_count(get(n));
            Row {
                ts_us: decimal_us(get("ts")),
                src_ip: ip_int(get("id.orig_h")).unwrap(),
                dst_ip: ip_int(get("id.resp_h")).unwrap(),
                proto: proto_class(get("proto")).to_string(),
                src_port: Some(get("id.orig_p").parse().unwrap()),
                dst_port: get("id.resp_p").parse().unwrap(),
                up_bytes: unset_count(get("orig_bytes")).unwrap_or(0),
                down_bytes: unset_count(get("resp_bytes")).unwrap_or(0),
                duration: Some(get("duration"))
                    .filter(|d| *d != "-")
                    .map(|d| d.parse().unwrap()),
                packets: match (pk("orig_pkts"), pk("resp_pkts")) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                },
                label: col(label_field)
                    .map(|i| cells[i])
                    .filter(|l| *l != "-")
                    .map(|l| {
                        if l == "(empty)" {
                            String::new()
                        } else {
                            l.to_string()
                        }
                    }),
            }
        })
        .collect()
}

fn assert_same(file: &str, got: &[Row], want: &[Row]) {
    assert_eq!(got.len(), want.len(), "{file}: rows read vs data lines");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "{file}: data row {}", i + 1);
    }
}

/// Reads one file: its canonical rows and the report.
fn read_rows(path: &Path, o: &ReadOptions) -> (Vec<Row>, IngestReport) {
    let (batches, report) = read(&[s(path)], o);
    (rows(&batches), report)
}

/// Reads one file with [`opts`], checks it had no bad row and reads as `want`; returns rows and report.
fn assert_reads_as(file: &str, path: &Path, want: &[Row]) -> (Vec<Row>, IngestReport) {
    let (got, report) = read_rows(path, &opts());
    assert_eq!(
        report.rows_skipped(),
        0,
        "{file}: {:?}",
        report.bad_rows.samples
    );
    assert_same(file, &got, want);
    (got, report)
}

#[test]
fn njrat_zeek_tsv_every_row_and_cc_labels() {
    let Some(td) = testdata("njrat_zeek_tsv_every_row_and_cc_labels") else {
        return;
    };
    let path = td.join("zeek/strato-001-njrat-cc/conn.log.labeled");
    let want = zeek_tsv_expected(&path, "label");
    assert_eq!(want.len(), 992, "README: 992 flows");
    let (got, report) = assert_reads_as("njrat conn.log.labeled", &path, &want);
    assert_eq!(report.files[0].format, Format::ZeekTsv);
    // The C&C flows: 192.168.1.115 -> 41.108.179.197:1177/tcp. `label` holds Malicious/Benign/Background,
    // `detailedlabel` the attack class (CC).
    let (src, dst) = (
        ip_int("192.168.1.115").unwrap(),
        ip_int("41.108.179.197").unwrap(),
    );
    let is_cc =
        |r: &Row| r.src_ip == src && r.dst_ip == dst && r.dst_port == 1177 && r.proto == "tcp";
    let raw_cc = zeek_data_lines(&path)
        .iter()
        .filter(|l| l.contains("\t192.168.1.115\t") && l.contains("\t41.108.179.197\t1177\t"))
        .count();
    let cc: Vec<&Row> = got.iter().filter(|r| is_cc(r)).collect();
    assert!(raw_cc > 0);
    assert_eq!(cc.len(), raw_cc);
    assert!(cc.iter().all(|r| r.label.as_deref() == Some("Malicious")));
    let malicious = got
        .iter()
        .filter(|r| r.label.as_deref() == Some("Malicious"))
        .count();
    assert_eq!(malicious, 244, "README: 244 Malicious");
    let o = ReadOptions {
        mapping: ColumnMap::parse(&["label=detailedlabel"]).unwrap(),
        ..opts()
    };
    let (detailed, _) = read_rows(&path, &o);
    assert_same(
        "njrat detailedlabel",
        &detailed,
        &zeek_tsv_expected(&path, "detailedlabel"),
    );
    assert!(detailed
        .iter()
        .filter(|r| is_cc(r))
        .all(|r| r.label.as_deref() == Some("CC")));
}

#[test]
fn ctu_normal_40_labels_per_flow() {
    let Some(td) = testdata("ctu_normal_40_labels_per_flow") else {
        return;
    };
    let path = td.join("zeek/strato-008-ctu-normal-40/conn.log.labeled");
    let (got, _) = assert_reads_as("ctu-normal-40", &path, &zeek_tsv_expected(&path, "label"));
    let mut counts: HashMap<String, usize> = HashMap::new();
    got.iter().for_each(|r| {
        *counts
            .entry(r.label.clone().unwrap_or_default())
            .or_default() += 1
    });
    assert_eq!(
        (counts["Malicious"], counts["Benign"], counts["Background"]),
        (4201, 1402, 60),
        "README ground truth"
    );
}

#[test]
fn other_real_zeek_tsv_logs() {
    let Some(td) = testdata("other_real_zeek_tsv_logs") else {
        return;
    };
    let files = [
        "zeek/zat/conn.log",
        "zeek/zat/conn_date_issue.log",
        "zeek/parsezeeklogs/conn_2018.log",
        "zeek/parsezeeklogs/rdp_sharprdp/tsv/conn.log",
        "zeek/slips-port-scans/horizontal-conn.log",
    ];
    for f in files {
        let path = td.join(f);
        assert_reads_as(f, &path, &zeek_tsv_expected(&path, "label"));
    }
}

#[test]
fn zeek_tsv_with_a_leading_blank_before_the_header() {
    // slips-test10-mixed/conn.log starts with "\t#separator \x09": the directive is still honoured.
    let Some(td) = testdata("zeek_tsv_with_a_leading_blank_before_the_header") else {
        return;
    };
    let path = td.join("zeek/slips-test10-mixed/conn.log");
    let (_, report) = assert_reads_as(
        "slips-test10-mixed",
        &path,
        &zeek_tsv_expected(&path, "label"),
    );
    assert_eq!(report.files[0].format, Format::ZeekTsv);
}

/// Canonical rows of a Zeek JSON-lines conn log, from serde_json and the raw `ts` text.
fn zeek_json_expected(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let ts_text = line
                .split("\"ts\":")
                .nth(1)
                .unwrap()
                .split([',', '}'])
                .next()
                .unwrap();
            let str_of = |k: &str| v[k].as_str().unwrap().to_string();
            let num = |k: &str| v.get(k).and_then(|x| x.as_u64());
            Row {
                ts_us: decimal_us(ts_text),
                src_ip: ip_int(&str_of("id.orig_h")).unwrap(),
                dst_ip: ip_int(&str_of("id.resp_h")).unwrap(),
                proto: proto_class(&str_of("proto")).to_string(),
                src_port: num("id.orig_p").map(|p| p as u16),
                dst_port: num("id.resp_p").unwrap() as u16,
                up_bytes: num("orig_bytes").unwrap_or(0),
                down_bytes: num("resp_bytes").unwrap_or(0),
                duration: v.get("duration").and_then(|d| d.as_f64()),
                packets: match (num("orig_pkts"), num("resp_pkts")) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                },
                label: v.get("label").and_then(|l| l.as_str()).map(str::to_string),
            }
        })
        .collect()
}

#[test]
fn nmap_zeek_json_4504_flows() {
    let Some(td) = testdata("nmap_zeek_json_4504_flows") else {
        return;
    };
    let path = td.join("zeek/strato-002-nmap-portscans/conn.log");
    let (got, report) = assert_reads_as("nmap conn.log", &path, &zeek_json_expected(&path));
    assert_eq!(report.files[0].format, Format::ZeekJson);
    assert_eq!(got.len(), 4504, "README: 4,504 flows");
    let scanner = ip_int("172.16.1.11").unwrap();
    let from_scanner = got.iter().filter(|r| r.src_ip == scanner).count();
    assert!(
        from_scanner * 10 > got.len() * 9,
        "the scanner originates most flows ({from_scanner})"
    );
}

#[test]
fn other_real_zeek_json_logs() {
    let Some(td) = testdata("other_real_zeek_json_logs") else {
        return;
    };
    for f in [
        "zeek/zat/json/conn.log",
        "zeek/parsezeeklogs/rdp_sharprdp/json/conn.log",
        "zeek/slips-test9-mixed/conn.log",
        "zeek/slips-port-scans/vertical-conn.log",
    ] {
        let path = td.join(f);
        assert_reads_as(f, &path, &zeek_json_expected(&path));
    }
}

#[test]
fn zeek_tsv_and_json_of_the_same_capture_agree() {
    let Some(td) = testdata("zeek_tsv_and_json_of_the_same_capture_agree") else {
        return;
    };
    let (tsv, _) = read_rows(
        &td.join("zeek/parsezeeklogs/rdp_sharprdp/tsv/conn.log"),
        &opts(),
    );
    let (json, _) = read_rows(
        &td.join("zeek/parsezeeklogs/rdp_sharprdp/json/conn.log"),
        &opts(),
    );
    assert_eq!(tsv.len(), json.len());
    for (a, b) in tsv.iter().zip(&json) {
        assert_eq!(
            (
                a.ts_us,
                a.src_ip,
                a.dst_ip,
                a.dst_port,
                a.up_bytes,
                a.down_bytes
            ),
            (
                b.ts_us,
                b.src_ip,
                b.dst_ip,
                b.dst_port,
                b.up_bytes,
                b.down_bytes
            )
        );
    }
}

/// Canonical rows of a binetflow file from its raw lines; rows whose addresses are not IPs (MAC
/// addresses, `0`) are the bad rows the reader must skip: returned as their 1-based line numbers.
fn binetflow_expected(path: &Path) -> (Vec<Row>, Vec<u64>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    let sep = if head.contains('\t') { '\t' } else { ',' };
    let names: Vec<&str> = head.split(sep).collect();
    let col = |n: &str| {
        names
            .iter()
            .position(|h| *h == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    for (n, line) in lines.enumerate() {
        let c: Vec<&str> = line.split(sep).map(str::trim).collect();
        let (Some(src), Some(dst)) = (ip_int(c[col("SrcAddr")]), ip_int(c[col("DstAddr")])) else {
            bad.push(n as u64 + 2);
            continue;
        };
        let dt = chrono::NaiveDateTime::parse_from_str(c[col("StartTime")], "%Y/%m/%d %H:%M:%S%.f")
            .unwrap();
        let (tot, srcb): (u64, u64) = (
            c[col("TotBytes")].parse().unwrap(),
            c[col("SrcBytes")].parse().unwrap(),
        );
        let port = |v: &str| {
            if v.is_empty() {
                None
            } else {
                Some(v.strip_prefix("0x").map_or_else(
                    || v.parse().unwrap(),
                    |h| u16::from_str_radix(h, 16).unwrap(),
                ))
            }
        };
        out.push(Row {
            ts_us: dt.and_utc().timestamp_micros(),
            src_ip: src,
            dst_ip: dst,
            proto: proto_class(c[col("Proto")]).to_string(),
            src_port: port(c[col("Sport")]),
            dst_port: port(c[col("Dport")]).unwrap_or(0),
            up_bytes: srcb,
            down_bytes: tot - srcb,
            duration: Some(c[col("Dur")].parse().unwrap()),
            packets: Some(c[col("TotPkts")].parse().unwrap()),
            label: names
                .iter()
                .position(|h| *h == "Label")
                .map(|i| c.get(i).copied().unwrap_or("").to_string()),
        });
    }
    (out, bad)
}

#[test]
fn binetflow_files() {
    let Some(td) = testdata("binetflow_files") else {
        return;
    };
    for f in [
        "test2-malicious",
        "test3-mixed",
        "test4-malicious",
        "test5-mixed",
        "test11-portscan",
    ] {
        let path = td.join(format!("binetflow/{f}.binetflow"));
        let (got, report) = read_rows(&path, &opts());
        assert_eq!(report.files[0].format, Format::Binetflow, "{f}");
        let (want, bad) = binetflow_expected(&path);
        assert_same(f, &got, &want);
        assert_eq!(report.rows_skipped(), bad.len() as u64, "{f}: bad rows");
        let lines: Vec<u64> = report
            .bad_rows
            .samples
            .iter()
            .map(|b| match b.location {
                flowhound::error::Location::Line(n) | flowhound::error::Location::Row(n) => n,
            })
            .collect();
        assert_eq!(
            lines,
            bad.iter().copied().take(lines.len()).collect::<Vec<_>>(),
            "{f}: bad row line numbers"
        );
    }
}

#[test]
fn binetflow_labels_kept() {
    let Some(td) = testdata("binetflow_labels_kept") else {
        return;
    };
    let path = td.join("binetflow/test5-mixed.binetflow");
    let (got, _) = read_rows(&path, &opts());
    let malware = got
        .iter()
        .filter(|r| {
            r.label
                .as_deref()
                .is_some_and(|l| l.starts_with("flow=Malware"))
        })
        .count();
    let raw = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| l.contains("flow=Malware"))
        .count();
    assert!(raw > 0);
    assert_eq!(malware, raw);
}

#[test]
fn directories_and_globs() {
    let Some(td) = testdata("directories_and_globs") else {
        return;
    };
    // zat/ holds conn.log, conn_date_issue.log, dns.log, LICENSE.zat: the non-conn files are passed over.
    let (batches, report) = read(&[s(&td.join("zeek/zat"))], &opts());
    let names: Vec<String> = report
        .files
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["conn.log", "conn_date_issue.log"]);
    let want = zeek_data_lines(&td.join("zeek/zat/conn.log")).len()
        + zeek_data_lines(&td.join("zeek/zat/conn_date_issue.log")).len();
    assert_eq!(rows(&batches).len(), want);
    assert_eq!(report.ignored.len(), 2, "{:?}", report.ignored);
    assert!(
        report
            .ignored
            .iter()
            .any(|(p, why)| p.ends_with("dns.log") && why.contains("'dns'")),
        "{:?}",
        report.ignored
    );
    // A glob over several capture folders.
    let pattern = s(&td.join("zeek/strato-00*/conn.log*"));
    let (batches, report) = read(&[pattern], &opts());
    assert_eq!(report.files.len(), 3);
    assert_eq!(rows(&batches).len(), 992 + 4504 + 5663);
}

#[test]
fn gzip_reads_like_the_plain_file() {
    use std::io::Write;
    let Some(td) = testdata("gzip_reads_like_the_plain_file") else {
        return;
    };
    let plain = td.join("zeek/strato-001-njrat-cc/conn.log.labeled");
    let dir = std::env::temp_dir().join(format!("fh-gz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gz = dir.join("conn.00:00:00-01:00:00.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    enc.finish().unwrap();
    let (a, _) = read_rows(&plain, &opts());
    let b = rows(&read(&[s(&dir.join("conn.*.log.gz"))], &opts()).0);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(a.len(), 992);
    assert_eq!(a, b);
}
