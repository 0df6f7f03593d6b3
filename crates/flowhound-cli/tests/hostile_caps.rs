//! Resource caps on hostile inputs, through the real binary: each test builds a hostile file, runs
//! `flowhound`, and checks the exit code, the message and the peak memory (RSS, from `wait4`).
//!
//! Stated bound: every hostile run peaks under [`RSS_BOUND_MIB`] (the debug binary alone peaks at
//! 35-45 MiB), while holding the hostile line whole would add at least its 64 MiB; the distinct-address
//! run is bounded against the same run without the cap.

mod common;

use common::Scratch;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// Peak RSS allowed for a hostile run.
const RSS_BOUND_MIB: u64 = 80;
/// The hostile line of the line-cap tests: 64 times the 1 MiB cap, and more than the RSS bound leaves.
const LONG_LINE_MIB: usize = 64;

/// Exit code, stdout, stderr and peak RSS (KiB) of one run.
struct Measured {
    code: i32,
    stdout: String,
    stderr: String,
    peak_kib: u64,
    took: std::time::Duration,
}

impl Measured {
    fn peak_mib(&self) -> u64 {
        self.peak_kib / 1024
    }

    fn check(&self, code: i32, parts: &[&str], what: &str) -> &Self {
        self.check_within(RSS_BOUND_MIB, code, parts, what)
    }

    fn check_within(&self, bound_mib: u64, code: i32, parts: &[&str], what: &str) -> &Self {
        assert_eq!(
            self.code, code,
            "{what}: exit code; stderr: {}",
            self.stderr
        );
        for p in parts {
            let all = format!("{}{}", self.stdout, self.stderr);
            assert!(all.contains(p), "{what}: '{p}' missing: {}", self.stderr);
        }
        assert!(!self.stderr.contains("panicked"), "{what}: {}", self.stderr);
        assert!(
            self.peak_mib() < bound_mib,
            "{what}: peak RSS {} MiB over the {bound_mib} MiB bound",
            self.peak_mib()
        );
        eprintln!(
            "{what}: peak RSS {} MiB in {:?}",
            self.peak_mib(),
            self.took
        );
        self
    }
}

/// The binary under test: this build's, or `FLOWHOUND_TEST_BIN` (e.g. a copy taken right after the
/// build when several checkouts share one target dir).
fn bin() -> std::ffi::OsString {
    std::env::var_os("FLOWHOUND_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_flowhound").into())
}

/// Runs `flowhound ARGS` and measures its peak RSS with `wait4`.
#[allow(clippy::zombie_processes)] // reaped by wait4, which std's wait cannot replace (it has no rusage)
fn measured(args: &[&str]) -> Measured {
    let started = std::time::Instant::now();
    let mut child = Command::new(bin())
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn flowhound");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let (mut status, mut usage) = (0i32, unsafe { std::mem::zeroed::<libc::rusage>() });
    // SAFETY: waits for our own child; `status` and `usage` are valid for writes.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4");
    Measured {
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        peak_kib: usage.ru_maxrss as u64,
        took: started.elapsed(),
    }
}

/// One gzip member holding `data`.
fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// One gzip member holding `data`, compressed hard (deflate's best is about 1030:1).
fn gz_best(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A gzip file (concatenated members, as `MultiGzDecoder` reads them): `head`, then `mib` MiB of
/// `fill` (the same compressed 1 MiB member repeated: about 1 KiB each), then `tail`.
fn hostile_gz(path: &std::path::Path, head: &str, fill: &[u8], mib: usize, tail: &str) {
    let block: Vec<u8> = fill.iter().copied().cycle().take(1 << 20).collect();
    let member = gz_best(&block);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(&gz(head.as_bytes())).unwrap();
    for _ in 0..mib {
        f.write_all(&member).unwrap();
    }
    f.write_all(&gz(tail.as_bytes())).unwrap();
    f.flush().unwrap();
}

const ZEEK_HEAD: &str = "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\torig_bytes\tresp_bytes\n";
const ZEEK_ROW: &str = "1700000000.5\t10.0.0.1\t5000\t8.8.8.8\t53\tudp\t40\t120\n";

#[test]
fn zeek_tsv_line_of_64_mib_in_gzip_is_a_bad_row_in_bounded_memory() {
    let dir = Scratch::new("cap-zeek");
    let p = dir.path("conn.log.gz");
    let head = format!("{ZEEK_HEAD}{ZEEK_ROW}1700000001.5\t10.0.0.1\t");
    hostile_gz(&p, &head, b"9", LONG_LINE_MIB, &format!("\n{ZEEK_ROW}"));
    let f = p.to_str().unwrap();
    let r = measured(&["profile", "--json", "--max-gzip-ratio", "100000", f]);
    r.check(
        0,
        &[
            "\"skipped_rows\": 1",
            "\"flows\": 2",
            "line 5",
            "--max-line-bytes",
        ],
        "zeek line",
    );
    // under --strict the same line is fatal, with its line number (exit 4)
    measured(&["profile", "--strict", "--max-gzip-ratio", "100000", f]).check(
        4,
        &["line 5", "longer than the cap"],
        "zeek line, strict",
    );
}

#[test]
fn zeek_json_line_of_64_mib_is_a_bad_row_in_bounded_memory() {
    let dir = Scratch::new("cap-json");
    let p = dir.path("conn.json.gz");
    let row = "{\"ts\":1700000000.5,\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":5000,\"id.resp_h\":\"8.8.8.8\",\"id.resp_p\":53,\"proto\":\"udp\",\"orig_bytes\":40,\"resp_bytes\":120}\n";
    let head = format!("{row}{{\"ts\":1.0,\"id.orig_h\":\"");
    hostile_gz(&p, &head, b"a", LONG_LINE_MIB, &format!("\"}}\n{row}"));
    let r = measured(&[
        "profile",
        "--json",
        "--max-gzip-ratio",
        "100000",
        p.to_str().unwrap(),
    ]);
    r.check(
        0,
        &["\"skipped_rows\": 1", "\"flows\": 2", "line 2"],
        "json line",
    );
}

#[test]
fn csv_quoted_field_without_end_is_a_bad_row_in_bounded_memory() {
    let dir = Scratch::new("cap-csv");
    let p = dir.path("flows.csv.gz");
    let head = "timestamp,src_ip,dst_ip,proto,port,up_bytes,down_bytes\n1700000000,10.0.0.1,8.8.8.8,udp,53,40,120\n1700000001,\"10.0.0.2";
    // lines of 1 KiB inside one quoted field that never closes: one record of 64 MiB
    let mut fill = vec![b'x'; 1023];
    fill.push(b'\n');
    hostile_gz(&p, head, &fill, LONG_LINE_MIB, "\n");
    let r = measured(&[
        "profile",
        "--json",
        "--max-gzip-ratio",
        "100000",
        p.to_str().unwrap(),
    ]);
    r.check(
        0,
        &["\"skipped_rows\": 1", "\"flows\": 1", "line 3"],
        "csv field",
    );
}

#[test]
fn gzip_bomb_is_refused_early_with_exit_3() {
    let dir = Scratch::new("cap-bomb");
    let p = dir.path("conn.log.gz");
    // about 1 MiB of gzip that expands to a data line of 1 GiB
    hostile_gz(&p, ZEEK_HEAD, b"9", 1024, "\n");
    let size = std::fs::metadata(&p).unwrap().len();
    assert!(size < 2 << 20, "bomb is {size} bytes");
    let started = std::time::Instant::now();
    let r = measured(&["profile", p.to_str().unwrap()]);
    r.check(
        3,
        &["decompression bomb", "--max-gzip-ratio", "conn.log.gz"],
        "bomb",
    );
    eprintln!("bomb refused in {:?}", started.elapsed());
}

#[test]
fn line_cap_flag_is_validated_and_applied() {
    let dir = Scratch::new("cap-flag");
    let p = dir.path("conn.log");
    let long = ZEEK_ROW.replace("5000", &"7".repeat(5000));
    std::fs::write(&p, format!("{ZEEK_HEAD}{ZEEK_ROW}{long}{ZEEK_ROW}")).unwrap();
    let f = p.to_str().unwrap();
    let r = measured(&["profile", "--json", "--max-line-bytes", "4K", f]);
    r.check(0, &["\"skipped_rows\": 1", "\"flows\": 2"], "4K cap");
    let r = measured(&["profile", "--json", "--max-line-bytes", "8K", f]);
    r.check(
        0,
        &["\"skipped_rows\": 1", "\"flows\": 2", "not a port"],
        "8K cap: the row parses and its port is bad",
    );
    let r = measured(&["profile", "--max-line-bytes", "lots", f]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a size in bytes"), "{}", r.stderr);
}

/// A CSV of `n` flows from distinct sources to distinct destinations, plus one flow in a hundred from
/// one heavy source 10.255.255.1 (the top source by flows).
fn distinct_hosts_csv(path: &std::path::Path, n: u32) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "timestamp,src_ip,dst_ip,proto,port,up_bytes,down_bytes").unwrap();
    for i in 0..n {
        let (s, d) = (0x0b00_0000 + i, 0x2c00_0000 + i);
        let ip = |v: u32| std::net::Ipv4Addr::from(v).to_string();
        writeln!(
            f,
            "{},{},{},tcp,443,{},1",
            1_700_000_000 + i,
            ip(s),
            ip(d),
            i % 100
        )
        .unwrap();
        if i % 100 == 0 {
            writeln!(f, "{},10.255.255.1,8.8.8.8,udp,53,1,1", 1_700_000_000 + i).unwrap();
        }
    }
    f.flush().unwrap();
}

#[test]
fn profile_top_hosts_stay_bounded_past_the_distinct_address_cap() {
    let dir = Scratch::new("cap-hosts");
    let p = dir.path("many.csv");
    distinct_hosts_csv(&p, 200_000);
    let f = p.to_str().unwrap();
    let exact = measured(&["profile", "--json", "--threads", "1", f]);
    exact.check_within(400, 0, &["\"flows\": 202000"], "exact");
    let capped = measured(&[
        "profile",
        "--json",
        "--threads",
        "1",
        "--max-hosts",
        "4096",
        f,
    ]);
    capped.check(
        0,
        &["\"approximate_top_hosts\"", "\"max_hosts\": 4096"],
        "capped",
    );
    assert!(
        !exact.stdout.contains("approximate_top_hosts"),
        "exact under the default cap"
    );
    let v: serde_json::Value = serde_json::from_str(&capped.stdout).unwrap();
    let top = &v["top_src"]["by_flows"][0];
    assert_eq!(
        (top["ip"].as_str(), top["flows"].as_u64()),
        (Some("10.255.255.1"), Some(2000))
    );
    // 400k distinct addresses cost the exact run tens of MiB that the capped run does not spend
    assert!(
        capped.peak_mib() + 16 < exact.peak_mib(),
        "capped {} MiB vs exact {} MiB",
        capped.peak_mib(),
        exact.peak_mib()
    );
}
