//! Out-of-core `analyze` / `detect` through the binary (issue 13, part 2): inputs routed into host
//! shards on disk (the baseline learned shard by shard too, from normal or from the test input itself)
//! give byte-identical outputs (table, JSON, CSV, verdicts, flows Parquet) to the in-memory run; the
//! spill directory is removed after success, after errors and on Ctrl-C; bad limits get clear errors.

mod common;

use common::{flowhound, Scratch};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn scratch() -> &'static Scratch {
    static DIR: OnceLock<Scratch> = OnceLock::new();
    DIR.get_or_init(|| Scratch::new("outofcore"))
}

/// A generated dataset (every scenario and decoy), made once per test binary.
fn data() -> &'static PathBuf {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let d = scratch().path("data");
        let s = d.to_str().unwrap();
        flowhound(&[
            "generate",
            "--out",
            s,
            "--seed",
            "3",
            "--clients",
            "60",
            "--flows-normal",
            "60000",
            "--flows-test",
            "40000",
            "--flows-servers",
            "10000",
        ])
        .ok("generate");
        d
    })
}

fn p(name: &str) -> String {
    data().join(name).display().to_string()
}

/// Spill directories left in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("flowhound-shards-"))
                .collect()
        })
        .unwrap_or_default()
}

fn analyze(tag: &str, extra: &[&str]) -> (String, String) {
    let out = |ext: &str| {
        scratch()
            .path(&format!("{tag}.{ext}"))
            .display()
            .to_string()
    };
    let mut args: Vec<String> = [
        "analyze",
        "--normal",
        &p("normal.parquet"),
        "--test",
        &p("test.parquet"),
        &p("servers.parquet"),
        "--min-severity",
        "low",
        "--json",
        &out("json"),
        "--csv",
        &out("csv"),
        "--verdicts",
        &out("verdicts.csv"),
        "--flows-out",
        &out("parquet"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    flowhound(&args).ok(tag)
}

fn read(tag: &str, ext: &str) -> Vec<u8> {
    std::fs::read(scratch().path(&format!("{tag}.{ext}"))).unwrap()
}

#[test]
fn sharded_outputs_equal_the_in_memory_run() {
    let spill = scratch().path("spill");
    std::fs::create_dir_all(&spill).unwrap();
    let (table, _) = analyze("mem", &[]);
    assert!(
        table.contains("critical"),
        "the scenarios give findings: {table}"
    );
    for shards in ["2", "6"] {
        let tag = format!("ooc{shards}");
        let (t, err) = analyze(
            &tag,
            &["--shards", shards, "--tmp-dir", spill.to_str().unwrap()],
        );
        assert!(
            err.contains(&format!("out of core: {shards} host shards")),
            "{err}"
        );
        assert_eq!(t, table, "{shards} shards: table");
        for ext in ["json", "csv", "verdicts.csv", "parquet"] {
            assert!(
                read(&tag, ext) == read("mem", ext),
                "{shards} shards: {ext} differs"
            );
        }
        assert_eq!(leftovers(&spill), Vec::<String>::new(), "spill removed");
    }
}

#[test]
fn detect_with_a_saved_baseline_runs_out_of_core_too() {
    let b = scratch().path("b.json").display().to_string();
    flowhound(&["baseline", &p("normal.parquet"), "-o", &b]).ok("baseline");
    let t = p("test.parquet");
    let run = |extra: &[&str]| {
        let mut a = vec!["detect", "--baseline", &b, "--min-severity", "low", &t];
        a.extend(extra);
        flowhound(&a).ok("detect").0
    };
    assert_eq!(run(&["--shards", "3"]), run(&[]));
}

#[test]
fn errors_remove_the_spill_and_bad_limits_are_explained() {
    let spill = scratch().path("spill-err");
    std::fs::create_dir_all(&spill).unwrap();
    let html = scratch().path("r.html").display().to_string();
    flowhound(&[
        "analyze",
        "--normal",
        &p("normal.parquet"),
        "--test",
        &p("test.parquet"),
        "--shards",
        "3",
        "--tmp-dir",
        spill.to_str().unwrap(),
        "--html",
        &html,
    ])
    .expect(1, "html out of core")
    .stderr_has(
        &[
            "--html needs every test flow in memory",
            "raise --memory-limit",
        ],
        "html",
    );
    assert_eq!(
        leftovers(&spill),
        Vec::<String>::new(),
        "spill removed after the error"
    );
    assert!(!Path::new(&html).exists());

    let t = p("test.parquet");
    let limits: [(&str, [&str; 2]); 2] = [
        (
            "100MiB",
            ["too small to make progress", "at least 512.0 MiB"],
        ),
        ("lots", ["memory size 'lots'", "e.g. 4GiB"]),
    ];
    for (limit, parts) in limits {
        flowhound(&[
            "detect",
            "--baseline",
            "x.json",
            &t,
            "--memory-limit",
            limit,
        ])
        .expect(2, limit)
        .stderr_has(&parts, limit);
    }
    assert_eq!(leftovers(&spill), Vec::<String>::new());
}

#[test]
fn self_learned_analysis_out_of_core_equals_in_memory() {
    let spill = scratch().path("spill-self");
    std::fs::create_dir_all(&spill).unwrap();
    let t = p("test.parquet");
    let base = ["analyze", "--test", &t, "--min-severity", "low"];
    let (mem, _) = flowhound(&base).ok("self in memory");
    let mut args = base.to_vec();
    args.extend(["--shards", "3", "--tmp-dir", spill.to_str().unwrap()]);
    let (ooc, err) = flowhound(&args).ok("self out of core");
    assert!(err.contains("out of core: 3 host shards"), "{err}");
    assert_eq!(ooc, mem);
    assert_eq!(leftovers(&spill), Vec::<String>::new());
}

#[test]
fn ctrl_c_removes_the_spill() {
    let spill = scratch().path("spill-int");
    std::fs::create_dir_all(&spill).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowhound"))
        .args([
            "analyze",
            "--no-rdns",
            "--normal",
            &p("normal.parquet"),
            "--test",
            &p("test.parquet"),
            "--shards",
            "64",
            "--tmp-dir",
            spill.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while leftovers(&spill).is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no spill directory appeared"
        );
        if child.try_wait().unwrap().is_some() {
            panic!("finished before it could be interrupted");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id() as i32;
    unsafe { libc_kill(pid, 2) };
    let t1 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t1.elapsed() < Duration::from_secs(10),
            "still running after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    assert_eq!(
        leftovers(&spill),
        Vec::<String>::new(),
        "spill removed on Ctrl-C"
    );
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
