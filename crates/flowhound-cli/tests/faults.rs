//! Faults through the real binary: `kill -9` of `convert` and of `analyze --json --html` at
//! pseudo-random points, and a read-only output directory. After a kill, an output under its final
//! name is complete and valid (or absent); leftovers are hidden temp files (`.NAME.PID.tmp`) that the
//! next run removes.

mod common;

use common::{Run, Scratch};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kill points per command.
const KILLS: u64 = 4;

/// The binary under test: this build's, or `FLOWHOUND_TEST_BIN` (e.g. a copy taken right after the
/// build when several checkouts share one target dir).
fn bin() -> std::ffi::OsString {
    std::env::var_os("FLOWHOUND_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_flowhound").into())
}

/// Runs `flowhound ARGS` to the end.
fn flowhound(args: &[&str]) -> Run {
    let out = Command::new(bin())
        .args(args)
        .output()
        .expect("run flowhound");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Deterministic kill delays spread over `0..span` (an LCG: the same points every run).
fn kill_points(span: Duration, seed: u64) -> Vec<Duration> {
    let mut x = seed;
    (0..KILLS)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            span.mul_f64((x >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

/// Starts `flowhound ARGS` and SIGKILLs it after `delay` (if still running). True when killed.
fn kill_after(args: &[&str], delay: Duration) -> bool {
    let mut child = Command::new(bin())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn flowhound");
    std::thread::sleep(delay);
    let killed = matches!(child.try_wait(), Ok(None));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    killed
}

/// How long a whole run takes (the span the kill points are spread over).
fn timed(args: &[&str]) -> Duration {
    let t = Instant::now();
    flowhound(args).ok(&format!("{args:?}"));
    t.elapsed()
}

/// The files in `dir` that are not hidden must be among `finals`; returns the hidden ones.
fn hidden_leftovers(dir: &Path, finals: &[&str]) -> Vec<String> {
    let mut hidden = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            assert!(name.ends_with(".tmp"), "unexpected hidden file {name}");
            hidden.push(name);
        } else {
            assert!(finals.contains(&name.as_str()), "stray visible file {name}");
        }
    }
    hidden
}

/// A CSV of `n` flows (a few MB, long enough to convert that kills land mid-run).
fn flows_csv(path: &Path, n: u32) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "timestamp,src_ip,dst_ip,proto,port,up_bytes,down_bytes").unwrap();
    for i in 0..n {
        let d = std::net::Ipv4Addr::from(0x0800_0000 + i * 7919);
        writeln!(
            f,
            "{},192.168.1.{},{d},tcp,443,{},{}",
            1_700_000_000 + i,
            i % 200,
            i % 9000,
            i % 700
        )
        .unwrap();
    }
    f.flush().unwrap();
}

/// The flow count of a Parquet file as flowhound reads it, or a failure message.
fn parquet_flows(path: &Path) -> Result<u64, String> {
    let r = flowhound(&["profile", "--json", "-q", path.to_str().unwrap()]);
    if r.code != 0 {
        return Err(r.stderr);
    }
    let v: serde_json::Value = serde_json::from_str(&r.stdout).map_err(|e| e.to_string())?;
    v["flows"].as_u64().ok_or_else(|| "no flow count".into())
}

#[test]
fn kill_9_during_convert_never_leaves_a_partial_parquet() {
    let dir = Scratch::new("fault-convert");
    let (input, n) = (dir.path("in.csv"), 80_000);
    flows_csv(&input, n);
    let out_dir = dir.path("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join("flows.parquet");
    let args = [
        "convert",
        "-q",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    let span = timed(&args);
    std::fs::remove_file(&out).unwrap();
    let mut killed = 0;
    for (i, delay) in kill_points(span, 16).into_iter().enumerate() {
        killed += kill_after(&args, delay) as u32;
        if out.exists() {
            assert_eq!(
                parquet_flows(&out),
                Ok(u64::from(n)),
                "kill {i} at {delay:?}: final file incomplete"
            );
        }
        hidden_leftovers(&out_dir, &["flows.parquet"]);
    }
    assert!(
        killed >= 3,
        "only {killed} of {KILLS} kills landed mid-run ({span:?} per run)"
    );
    // the next run completes and sweeps the temp files of the killed runs
    flowhound(&args).ok("convert after kills");
    assert_eq!(
        hidden_leftovers(&out_dir, &["flows.parquet"]),
        Vec::<String>::new()
    );
    assert_eq!(parquet_flows(&out), Ok(u64::from(n)));
}

#[test]
fn kill_9_during_analyze_never_leaves_partial_findings_or_report() {
    let dir = Scratch::new("fault-analyze");
    let d = dir.0.to_str().unwrap().to_string();
    let gen = [
        "generate",
        "-q",
        "--out",
        &d,
        "--seed",
        "5",
        "--flows-normal",
        "12000",
        "--flows-test",
        "6000",
        "--flows-servers",
        "500",
    ];
    flowhound(&gen).ok("generate");
    let out_dir = dir.path("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let (json, html) = (out_dir.join("findings.json"), out_dir.join("report.html"));
    let (n, t) = (format!("{d}/normal.parquet"), format!("{d}/test.parquet"));
    let args = [
        "analyze",
        "-q",
        "--no-rdns",
        "--normal",
        &n,
        "--test",
        &t,
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ];
    let span = timed(&args);
    let finals = ["findings.json", "report.html"];
    let mut killed = 0;
    for (i, delay) in kill_points(span, 61).into_iter().enumerate() {
        let _ = std::fs::remove_file(&json);
        let _ = std::fs::remove_file(&html);
        killed += kill_after(&args, delay) as u32;
        if json.exists() {
            let v: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(&json).unwrap(),
            )
            .unwrap_or_else(|e| panic!("kill {i} at {delay:?}: findings.json invalid: {e}"));
            assert_eq!(v["schema_version"], 1, "kill {i}");
            assert!(v["findings"].is_array(), "kill {i}");
        }
        if html.exists() {
            let page = std::fs::read_to_string(&html).unwrap();
            assert!(
                page.trim_end().ends_with("</html>"),
                "kill {i} at {delay:?}: report.html cut short"
            );
        }
        hidden_leftovers(&out_dir, &finals);
    }
    assert!(
        killed >= 3,
        "only {killed} of {KILLS} kills landed mid-run ({span:?} per run)"
    );
    flowhound(&args).ok("analyze after kills");
    assert_eq!(hidden_leftovers(&out_dir, &finals), Vec::<String>::new());
}

#[test]
fn read_only_output_directory_is_exit_6_and_leaves_nothing() {
    let dir = Scratch::new("fault-readonly");
    let input = dir.path("in.csv");
    flows_csv(&input, 100);
    let ro = dir.path("ro");
    std::fs::create_dir_all(&ro).unwrap();
    let mut targets = vec![ro.join("out.parquet")];
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(ro.join("probe"), "x").is_ok() {
        // root ignores directory modes: a kernel read-only directory stands in for it
        println!("read-only test: directory modes do not bind (root); using /proc/self instead");
        std::fs::remove_file(ro.join("probe")).unwrap();
        targets = vec![Path::new("/proc/self/out.parquet").to_path_buf()];
    }
    for target in &targets {
        let r = flowhound(&[
            "convert",
            "-q",
            input.to_str().unwrap(),
            "-o",
            target.to_str().unwrap(),
        ]);
        r.expect(6, "read-only directory")
            .stderr_has(&[target.to_str().unwrap()], "names the output");
        assert!(!target.exists());
    }
    assert_eq!(
        std::fs::read_dir(&ro).unwrap().count(),
        0,
        "nothing written"
    );
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}
