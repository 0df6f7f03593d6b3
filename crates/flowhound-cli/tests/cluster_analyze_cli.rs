//! `analyze`/`detect --cluster` on real Ballista processes (one scheduler, two executors on
//! 127.0.0.1, from the built binary): the findings document and the verdicts equal the local run's
//! (the oracle: the in-memory analysis of the same files), with a normal input, self-learned, and
//! against a saved baseline, and a C&C beacon through the LAN's web proxy (`proxied_cnc`: the
//! proxy's upstream flows join the internal-pairs shard on the executors); inputs the cluster cannot read and outputs it cannot make are refused
//! with the fix; the job files are removed.

#[path = "../../flowhound/tests/detect_support/browsing.rs"]
mod browsing;
mod common;

use common::cluster::{canonical_data, start_cluster};
use common::{flowhound, Scratch};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The findings document without what differs by design between two runs (the generator string is
/// equal; nothing else is left out).
fn doc(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Runs `args` locally and with `--cluster url`, each writing its JSON and verdicts; both must equal.
fn same_as_local(tmp: &Scratch, name: &str, args: &[&str], url: &str) -> Value {
    same_as_local_with(tmp, name, args, url, 3)
}

/// [`same_as_local`] for data whose scenarios give at least `min_findings` findings.
fn same_as_local_with(
    tmp: &Scratch,
    name: &str,
    args: &[&str],
    url: &str,
    min_findings: usize,
) -> Value {
    let run = |tag: &str, extra: &[&str]| {
        let (json, verdicts) = (
            tmp.path(&format!("{name}-{tag}.json")),
            tmp.path(&format!("{name}-{tag}.csv")),
        );
        let mut all: Vec<&str> = args.to_vec();
        all.extend([
            "--json",
            json.to_str().unwrap(),
            "--verdicts",
            verdicts.to_str().unwrap(),
            "--no-rdns",
            "--min-severity",
            "low",
            "--color",
            "never",
        ]);
        all.extend(extra);
        let r = flowhound(&all);
        r.expect(0, &format!("{name} {tag}"));
        (r, doc(&json), std::fs::read_to_string(&verdicts).unwrap())
    };
    let (_, want, want_v) = run("local", &[]);
    let jobs = tmp.path(&format!("{name}-jobs"));
    std::fs::create_dir_all(&jobs).unwrap();
    let (r, got, got_v) = run(
        "cluster",
        &[
            "--cluster",
            url,
            "--cluster-timeout",
            "300",
            "--tmp-dir",
            jobs.to_str().unwrap(),
        ],
    );
    r.stderr_has(
        &["ran on the cluster at", "2 executor(s)", "host shards"],
        name,
    );
    assert!(
        want["findings"]
            .as_array()
            .is_some_and(|f| f.len() >= min_findings),
        "{name}: the scenarios give findings: {}",
        want["findings"]
    );
    for key in [
        "findings",
        "per_severity",
        "top_hosts",
        "input",
        "baseline",
        "detectors",
    ] {
        assert_eq!(
            got[key], want[key],
            "{name}: `{key}` on the cluster == local"
        );
    }
    assert_eq!(got_v, want_v, "{name}: verdicts on the cluster == local");
    let left: Vec<_> = std::fs::read_dir(&jobs).unwrap().collect();
    assert!(left.is_empty(), "{name}: job files removed: {left:?}");
    got
}

#[test]
fn analyze_and_detect_on_a_two_executor_cluster_equal_the_local_run() {
    let tmp = Scratch::new("cluster-analyze");
    let files = canonical_data(&tmp, 20_000, 2_000);
    let (normal, test) = (files[0].as_str(), files[1].as_str());
    let (_procs, sched, _) = start_cluster(&tmp.0, 2);
    let url = format!("df://{sched}");

    let d = same_as_local(
        &tmp,
        "analyze",
        &["analyze", "--normal", normal, "--test", test],
        &url,
    );
    assert_eq!(d["baseline"]["source"], "normal");
    let d = same_as_local(&tmp, "self", &["analyze", "--test", test], &url);
    assert_eq!(d["baseline"]["source"], "self");

    let (pn, pt) = proxied_data(&tmp);
    let args = ["analyze", "--normal", &pn, "--test", &pt];
    let d = same_as_local_with(&tmp, "proxied", &args, &url, 1);
    let named = d["findings"].as_array().unwrap().iter();
    let named: Vec<&Value> = named.filter(|f| f["detector"] == "proxied_cnc").collect();
    assert_eq!(named.len(), 1, "the bot behind the proxy: {named:#?}");
    assert_eq!(named[0]["hosts"][0], "10.0.0.12");

    let b = tmp.path("baseline.json");
    flowhound(&["baseline", normal, "-o", b.to_str().unwrap(), "-q"]).ok("baseline");
    let detect = ["detect", "--baseline", b.to_str().unwrap(), test];
    same_as_local(&tmp, "detect", &detect, &url);

    // baseline --cluster: the same JSON and the same day states (byte for byte) as learned here
    let bc = tmp.path("baseline-cluster.json");
    let r = flowhound(&[
        "baseline",
        normal,
        "-o",
        bc.to_str().unwrap(),
        "--cluster",
        &url,
    ]);
    r.expect(0, "baseline --cluster").stderr_has(
        &["learned on the cluster at", "host shards", "days kept"],
        "baseline",
    );
    let read = |p: &Path| std::fs::read(p).unwrap();
    assert_eq!(
        read(&bc),
        read(&b),
        "baseline JSON learned on the cluster == here"
    );
    let days = |p: &Path| {
        let dir = PathBuf::from(format!("{}.days", p.display()));
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| read(&dir.join(n)))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        days(&bc),
        days(&b),
        "day states learned on the cluster == here"
    );

    // baseline update --cluster: the test day merged in, equal to the update made here
    let update = |p: &Path, extra: &[&str]| {
        let mut args = vec![
            "baseline",
            "update",
            "--baseline",
            p.to_str().unwrap(),
            test,
        ];
        args.extend(extra);
        flowhound(&args)
    };
    update(&b, &["-q"]).ok("baseline update");
    update(&bc, &["--cluster", &url])
        .expect(0, "baseline update --cluster")
        .stderr_has(
            &["learned on the cluster at", "baseline update: day"],
            "update",
        );
    assert_eq!(read(&bc), read(&b), "updated on the cluster == here");
    assert_eq!(days(&bc), days(&b), "updated day states");
    assert!(days(&b).len() >= 2, "the test day was added");

    // What the cluster cannot do is refused up front, with the fix.
    let raw = tmp.0.join("gen").join("test.parquet");
    let r = flowhound(&[
        "analyze",
        "--test",
        raw.to_str().unwrap(),
        "--cluster",
        &url,
        "-q",
    ]);
    r.no_panic("analyze --cluster, analysts' Parquet");
    assert_ne!(r.code, 0);
    r.stderr_has(
        &["canonical flowhound Parquet", "flowhound convert"],
        "non-canonical",
    );
    let html = tmp.path("r.html");
    let r = flowhound(&[
        "analyze",
        "--test",
        test,
        "--cluster",
        &url,
        "--html",
        html.to_str().unwrap(),
    ]);
    r.expect(1, "--html on a cluster")
        .stderr_has(&["--html", "--cluster"], "html");
    assert!(!html.exists());
}

#[test]
fn an_unreachable_cluster_is_a_clear_error_within_the_deadline_and_leaves_nothing() {
    let tmp = Scratch::new("cluster-analyze-unreachable");
    let input = common::fixture("formats/analysts_float.parquet");
    let sched = format!("127.0.0.1:{}", common::cluster::free_port());
    let url = format!("df://{sched}");
    let jobs = tmp.path("jobs");
    std::fs::create_dir_all(&jobs).unwrap();
    for cmd in [
        vec!["analyze", "--test", &input],
        vec!["baseline", &input, "-o", "/nonexistent/never-written.json"],
    ] {
        let started = std::time::Instant::now();
        let mut args = cmd.clone();
        args.extend(["--cluster", &url, "--connect-timeout", "2"]);
        if cmd[0] == "analyze" {
            args.extend(["--tmp-dir", jobs.to_str().unwrap()]);
        }
        let r = flowhound(&args);
        r.expect(7, cmd[0]).stderr_has(
            &[&format!(
                "no Ballista scheduler answered at {sched} within 2s"
            )],
            cmd[0],
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
    }
    let left: Vec<_> = std::fs::read_dir(&jobs).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Executors that do not see the client's `--tmp-dir` (each in a mount namespace with an empty tmpfs
/// over it, as on a machine without that shared directory): a clear error naming the fix, in bounded
/// time, and the job directory removed.
#[test]
fn a_job_directory_the_executors_cannot_read_is_explained() {
    if !common::cluster::can_hide_directories() {
        eprintln!(
            "skipped: this machine cannot hide a directory from a process (needs root and unshare)"
        );
        return;
    }
    let tmp = Scratch::new("cluster-hidden");
    let files = canonical_data(&tmp, 3_000, 300);
    let private = tmp.path("not-shared");
    std::fs::create_dir_all(&private).unwrap();
    let (_procs, sched, _) = common::cluster::start_cluster_hiding(&tmp.0, 1, Some(&private));
    let url = format!("df://{sched}");
    let started = std::time::Instant::now();
    let r = flowhound(&[
        "analyze",
        "--test",
        &files[1],
        "--cluster",
        &url,
        "--tmp-dir",
        private.to_str().unwrap(),
        "--cluster-timeout",
        "60",
        "-q",
    ]);
    r.expect(7, "analyze, job directory not shared").stderr_has(
        &[
            "could not read the job directory",
            "--tmp-dir",
            "every executor can read",
        ],
        "hidden job directory",
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(50),
        "{:?}",
        started.elapsed()
    );
    let left: Vec<_> = std::fs::read_dir(&private).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A normal and a test day of a LAN browsing through its web proxy, 10.0.0.12 checking in with a
/// C&C server through it every 300 s on the test day, as canonical Parquet files.
fn proxied_data(tmp: &Scratch) -> (String, String) {
    const DAY: i64 = 1_767_225_600;
    let mut test = browsing::proxied_lan(DAY + 86_400, 1_000);
    for k in 0..60i64 {
        let t = DAY + 86_400 + 30_000 + k * 300 + k % 7;
        test.extend(browsing::proxied(
            t,
            "10.0.0.12",
            "203.0.113.66",
            (310, 1_150),
        ));
    }
    let normal = browsing::proxied_lan(DAY, 0);
    let write = |name: &str, rows: &[browsing::Row]| {
        let csv = tmp.path(&format!("{name}.csv"));
        let mut text = String::from("timestamp,src_ip,dst_ip,proto,port,up_bytes,down_bytes\n");
        for (ts, src, dst, port, up, down) in rows {
            text.push_str(&format!("{ts},{src},{dst},tcp,{port},{up},{down}\n"));
        }
        std::fs::write(&csv, text).unwrap();
        let out = tmp.path(&format!("{name}.parquet"));
        let (csv, out) = (csv.to_str().unwrap(), out.to_str().unwrap().to_string());
        flowhound(&["convert", csv, "-o", &out, "-q"]).ok("convert");
        out
    };
    (
        write("proxied-normal", &normal),
        write("proxied-test", &test),
    )
}
