//! `flowhound collect` as a process: real datagrams on 127.0.0.1, SIGTERM in the middle of a rotation
//! window, exit 0, complete files only, readable by `profile`/`sql`; and `nfcapd` files as input.

mod common;

use common::{fixture, flowhound, Scratch};
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A NetFlow v5 datagram of 30 flows.
fn v5_packet(seq: u32) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [5u16, 30] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    for v in [100_000u32, 1_764_806_400, 0, seq * 30, 0] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    for i in 0..30u32 {
        for v in [
            0x0a01_0000 | i,
            0xc000_0201,
            0,
            0x0001_0002,
            3,
            1500,
            90_000,
            99_000,
        ] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend_from_slice(&((40_000 + i as u16).to_be_bytes()));
        b.extend_from_slice(&443u16.to_be_bytes());
        b.extend_from_slice(&[0, 0x12, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }
    b
}

#[test]
fn collect_survives_sigterm_mid_rotation_and_leaves_complete_files() {
    let dir = Scratch::new("collect");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowhound"))
        .args([
            "collect",
            "--listen",
            "127.0.0.1:0",
            "--rotate-secs",
            "1",
            "--out",
        ])
        .arg(&dir.0)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    let addr = first
        .split_whitespace()
        .find(|w| w.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for seq in 0..50 {
        sender.send_to(&v5_packet(seq), &addr).unwrap();
    }
    std::thread::sleep(Duration::from_millis(1300)); // one rotation happens
    for seq in 50..100 {
        sender.send_to(&v5_packet(seq), &addr).unwrap();
    }
    sender.send_to(&[0, 9, 0, 1, 2], &addr).unwrap(); // truncated v9 header: malformed, not fatal
    std::thread::sleep(Duration::from_millis(200)); // mid-window
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(status.success(), "exit {status:?}; stderr {rest}");
    assert!(rest.contains("exporter 127.0.0.1: packets"), "{rest}");
    assert!(
        rest.contains("total: packets 101, flows 3000, drops 0, unknown templates 0, malformed 1"),
        "{rest}"
    );
    let files = dir.files();
    assert!(
        files
            .iter()
            .all(|f| f.starts_with("flows.") && f.ends_with(".parquet")),
        "{files:?}"
    );
    assert!(files.len() >= 2, "{files:?}");
    let (out, _) = flowhound(&[
        "sql",
        "--quiet",
        "SELECT count(*) AS n, sum(up_bytes) AS b FROM flows",
        &dir.0.to_string_lossy(),
    ])
    .ok("sql over the collected directory");
    assert!(out.contains("3000") && out.contains("4500000"), "{out}");
}

/// Starts `collect` on a free port rotating every second; returns the child and its address.
fn spawn_collect(dir: &std::path::Path) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowhound"))
        .args([
            "collect",
            "--listen",
            "127.0.0.1:0",
            "--rotate-secs",
            "1",
            "--out",
        ])
        .arg(dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stderr.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .split_whitespace()
        .find(|w| w.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    (child, addr)
}

/// Issue 16's fault test for `collect`: killed with SIGKILL at several points (mid-window, right
/// after a rotation), it never leaves a partial file under a final name; its open window is a hidden
/// temp file, which the next run removes.
#[test]
fn kill_9_during_collect_leaves_complete_files_and_the_next_run_sweeps() {
    let dir = Scratch::new("collect-kill9");
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for (round, kill_after_ms) in [350u64, 1150, 1900, 2650].into_iter().enumerate() {
        let (mut child, addr) = spawn_collect(&dir.0);
        let t0 = std::time::Instant::now();
        let mut seq = 0;
        while t0.elapsed() < Duration::from_millis(kill_after_ms) {
            sender.send_to(&v5_packet(seq), &addr).unwrap();
            seq += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for f in dir.files() {
            if f.starts_with('.') {
                assert!(f.ends_with(".tmp"), "round {round}: stray {f}");
                continue;
            }
            assert!(f.starts_with("flows.") && f.ends_with(".parquet"), "{f}");
            let path = dir.path(&f);
            flowhound(&[
                "sql",
                "--quiet",
                "SELECT count(*) FROM flows",
                &path.to_string_lossy(),
            ])
            .ok(&format!("round {round}: {f} is complete and readable"));
        }
    }
    // the next run sweeps what the killed ones left
    let (child, _) = spawn_collect(&dir.0);
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hidden: Vec<String> = dir
        .files()
        .into_iter()
        .filter(|f| f.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "left behind: {hidden:?}");
}

#[test]
fn nfcapd_directory_profiles_and_reports_exporters() {
    let dir = fixture("nfcapd");
    let r = flowhound(&["profile", &dir]);
    r.expect(0, "profile of an nfcapd directory");
    assert!(
        r.stderr.contains("exporters 127.0.1.1 (v10, 6 flows)"),
        "{}",
        r.stderr
    );
    let r = flowhound(&["profile", "--quiet", "--json", &dir]);
    r.expect(0, "profile --json");
    assert!(r.stdout.contains("1410"), "3 x 470 flows");
}
