//! `flowhound cluster` and `sql --cluster` with real processes on 127.0.0.1: one scheduler and two
//! executors from the built binary. The cluster's answer must equal the local `sql` run (the oracle); an
//! unreachable scheduler and a lost executor give clear errors within deadlines, never a hang; SIGTERM
//! stops the processes cleanly and removes the executors' work directories.

mod common;

use common::cluster::{canonical_data, free_port, start_cluster, BIN};
use common::{flowhound, Run, Scratch};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A CSV result's header and its rows, sorted (the order of GROUP BY output is not defined).
fn csv_rows(path: &Path) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().unwrap_or_default();
    let mut rows: Vec<String> = lines.collect();
    rows.sort();
    (header, rows)
}

fn timed(args: &[&str]) -> (Run, Duration) {
    let start = Instant::now();
    let run = flowhound(args);
    (run, start.elapsed())
}

const QUERY: &str =
    "SELECT geo_country(dst_ip) AS cc, ip_str(src_ip) AS src, proto, count(*) AS flows, \
                     sum(up_bytes) AS up FROM flows WHERE is_private(src_ip) GROUP BY 1, 2, 3";

/// Heavier (a few seconds on a debug build): a self-join over a sample, so that the query is still
/// running when an executor is killed.
const HEAVY: &str = "SELECT a.proto, count(*) AS pairs, sum(b.up_bytes) AS up FROM flows a JOIN \
                     (SELECT * FROM flows WHERE up_bytes % 32 = 0) b \
                     ON a.src_ip = b.src_ip AND a.dst_ip = b.dst_ip GROUP BY 1";

#[test]
fn a_two_executor_cluster_answers_like_the_local_run_and_survives_losing_an_executor() {
    let tmp = Scratch::new("cluster");
    let files = canonical_data(&tmp, 20_000, 2_000);
    let (mut procs, sched, work_dirs) = start_cluster(&tmp.0, 2);
    let url = format!("df://{sched}");
    assert!(
        procs.0[0].log().contains(&format!("listening on {sched}")),
        "{}",
        procs.0[0].log()
    );

    // The oracle: the same query, locally.
    let (local, cluster) = (tmp.path("local.csv"), tmp.path("cluster.csv"));
    let mut args = vec!["sql", QUERY];
    args.extend(files.iter().map(String::as_str));
    let mut local_args = args.clone();
    local_args.extend(["-o", local.to_str().unwrap()]);
    flowhound(&local_args).ok("local sql");
    let mut cluster_args = args.clone();
    cluster_args.extend([
        "-o",
        cluster.to_str().unwrap(),
        "--cluster",
        &url,
        "--timeout",
        "60",
    ]);
    let (run, _) = timed(&cluster_args);
    run.expect(0, "sql --cluster").stderr_has(
        &["ran on the cluster at", "2 executor(s)", "over 2 file(s)"],
        "sql --cluster",
    );
    let (want, got) = (csv_rows(&local), csv_rows(&cluster));
    assert_eq!(got.0, want.0, "same columns");
    assert!(
        want.1.len() > 50,
        "a real GROUP BY: {} groups",
        want.1.len()
    );
    assert_eq!(got.1, want.1, "the cluster's groups equal the local run's");

    // An executor killed in the middle of a query: a clear error or a retried success, in bounded time.
    let heavy_local = tmp.path("heavy_local.csv");
    let mut heavy = vec!["sql", HEAVY];
    heavy.extend(files.iter().map(String::as_str));
    let mut heavy_args = heavy.clone();
    heavy_args.extend(["-o", heavy_local.to_str().unwrap()]);
    flowhound(&heavy_args).ok("local heavy sql");
    let heavy_cluster = tmp.path("heavy_cluster.csv");
    let mut heavy_args = heavy.clone();
    heavy_args.extend([
        "-o",
        heavy_cluster.to_str().unwrap(),
        "--cluster",
        &url,
        "--timeout",
        "20",
    ]);
    let start = Instant::now();
    let query = Command::new(BIN)
        .args(&heavy_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    procs.0[1].signal(libc::SIGKILL);
    let out = query.wait_with_output().unwrap();
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        elapsed < Duration::from_secs(30),
        "bounded by --timeout 20: {elapsed:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    match out.status.code() {
        Some(0) => {
            assert_eq!(
                csv_rows(&heavy_cluster),
                csv_rows(&heavy_local),
                "the retried result"
            );
            eprintln!("query with a lost executor succeeded in {elapsed:?}");
        }
        Some(code) => {
            assert!(code == 5 || code == 7, "exit {code}: {stderr}");
            assert!(stderr.contains("flowhound: error:"), "{stderr}");
            eprintln!(
                "query with a lost executor failed cleanly in {elapsed:?}: {stderr}\nscheduler:\n{}",
                procs.0[0].log()
            );
        }
        None => panic!("killed by a signal: {stderr}"),
    }
    assert!(
        !heavy_cluster.exists() || out.status.success(),
        "no partial output"
    );

    // SIGTERM: the survivors stop cleanly, with a summary, and the work directory is removed.
    procs.0[2].signal(libc::SIGTERM);
    assert_eq!(
        procs.0[2].wait(Duration::from_secs(40)),
        0,
        "{}",
        procs.0[2].log()
    );
    assert!(
        procs.0[2].log().contains("executor stopped (SIGTERM)"),
        "{}",
        procs.0[2].log()
    );
    for w in &work_dirs {
        let left: Vec<_> = std::fs::read_dir(w).unwrap().collect();
        // The killed executor could not clean up; the stopped one did.
        if w.ends_with("work2") {
            assert!(left.is_empty(), "{} still holds {left:?}", w.display());
        }
    }
    procs.0[0].signal(libc::SIGTERM);
    assert_eq!(
        procs.0[0].wait(Duration::from_secs(20)),
        0,
        "{}",
        procs.0[0].log()
    );
    let log = procs.0[0].log();
    assert!(
        log.contains("scheduler stopped by SIGTERM")
            && log.contains("2 executor(s) registered while it ran"),
        "{log}"
    );
}

#[test]
fn an_unreachable_scheduler_is_a_clear_error_within_the_deadline() {
    let tmp = Scratch::new("cluster-unreachable");
    let input = common::fixture("formats/analysts_float.parquet");
    let sched = format!("127.0.0.1:{}", free_port());
    let url = format!("df://{sched}");
    let (run, took) = timed(&[
        "sql",
        "SELECT count(*) FROM flows",
        &input,
        "--cluster",
        &url,
        "--connect-timeout",
        "2",
    ]);
    run.expect(7, "sql --cluster, nobody there").stderr_has(
        &[
            &format!("no Ballista scheduler answered at {sched} within 2s"),
            "flowhound cluster scheduler --bind",
        ],
        "sql",
    );
    assert!(took < Duration::from_secs(6), "{took:?}");

    let (run, took) = timed(&["cluster", "status", "--scheduler", &sched, "--timeout", "1"]);
    run.expect(7, "status")
        .stderr_has(&["no Ballista scheduler answered"], "status");
    assert!(took < Duration::from_secs(5), "{took:?}");

    let work = tmp.path("work");
    let bind = format!("127.0.0.1:{}", free_port());
    let (run, took) = timed(&[
        "cluster",
        "executor",
        "--scheduler",
        &sched,
        "--bind",
        &bind,
        "--connect-timeout",
        "1",
        "--work-dir",
        work.to_str().unwrap(),
    ]);
    run.expect(7, "executor without scheduler")
        .stderr_has(&["no Ballista scheduler answered"], "executor");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // Not a scheduler: a service that answers with an SSH banner.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n");
    });
    let run = flowhound(&[
        "cluster",
        "status",
        "--scheduler",
        &format!("127.0.0.1:{port}"),
        "--timeout",
        "2",
    ]);
    run.expect(7, "not a scheduler")
        .stderr_has(&["not as a Ballista scheduler"], "status");
    server.join().unwrap();

    let run = flowhound(&["sql", "SELECT 1", &input, "--cluster", "http://x:1"]);
    run.expect(2, "bad url")
        .stderr_has(&["unknown scheme", "df://HOST:PORT"], "url");
}

#[test]
fn the_cluster_commands_explain_themselves() {
    for (args, parts) in [
        (
            vec!["cluster", "--help"],
            vec!["Examples", "absolute", "authentication"],
        ),
        (
            vec!["cluster", "scheduler", "--help"],
            vec!["--bind", "/readyz", "Examples"],
        ),
        (
            vec!["cluster", "executor", "--help"],
            vec![
                "--work-dir",
                "--concurrent-tasks",
                "--grpc-port",
                "Examples",
            ],
        ),
        (
            vec!["sql", "--help"],
            vec!["--cluster", "df://HOST:PORT", "executor"],
        ),
    ] {
        let run = flowhound(&args);
        run.expect(0, &args.join(" "));
        for p in parts {
            assert!(
                run.stdout.contains(p),
                "{args:?}: '{p}' not in {}",
                run.stdout
            );
        }
    }
    let run = flowhound(&[
        "cluster",
        "executor",
        "--scheduler",
        "127.0.0.1:1",
        "--bind",
        "sched.lan:50051",
    ]);
    run.expect(2, "a name as bind address")
        .stderr_has(&["must be an IP address"], "bind");
}
