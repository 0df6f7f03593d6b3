//! Real Ballista processes for the cluster tests: a scheduler and executors started from the built
//! binary on 127.0.0.1, killed when dropped.

use super::{flowhound, Scratch};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_flowhound");

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One background `flowhound` process, its stderr in a log file.
pub struct Proc {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn start(name: &str, args: &[&str], dir: &Path) -> Proc {
        Proc::spawn(name, Command::new(BIN).args(args), dir)
    }

    /// [`Proc::start`] in a private mount namespace where `hidden` is an empty tmpfs: a machine that
    /// does not share that directory.
    pub fn start_hiding(name: &str, args: &[&str], dir: &Path, hidden: &Path) -> Proc {
        let script = format!(
            "mount -t tmpfs none '{}' && exec \"$0\" \"$@\"",
            hidden.display()
        );
        let mut cmd = Command::new("unshare");
        cmd.args(["-m", "--propagation", "private", "sh", "-c", &script, BIN])
            .args(args);
        Proc::spawn(name, &mut cmd, dir)
    }

    fn spawn(name: &str, cmd: &mut Command, dir: &Path) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Proc {
            name: name.into(),
            child,
            log,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Waits for the exit (after a signal), at most `deadline`; returns the exit code.
    pub fn wait(&mut self, deadline: Duration) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(
                start.elapsed() < deadline,
                "{} did not exit within {deadline:?}:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Every process of a test, killed when dropped (also when an assertion failed).
#[derive(Default)]
pub struct Procs(pub Vec<Proc>);

impl Drop for Procs {
    fn drop(&mut self) {
        for p in &mut self.0 {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

/// Polls `cluster status` until `n` executors are registered.
pub fn wait_for_executors(sched: &str, n: usize, procs: &Procs) {
    let start = Instant::now();
    loop {
        let run = flowhound(&[
            "cluster",
            "status",
            "--scheduler",
            sched,
            "--timeout",
            "1",
            "--min-executors",
            &n.to_string(),
        ]);
        if run.code == 0 {
            assert!(run.stdout.contains("ballista/55"), "{}", run.stdout);
            return;
        }
        if start.elapsed() > Duration::from_secs(40) {
            let logs: Vec<String> = procs
                .0
                .iter()
                .map(|p| format!("{}:\n{}", p.name, p.log()))
                .collect();
            panic!(
                "{n} executors did not register: {run:?}\n{}",
                logs.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A scheduler and `n` executors (2 concurrent tasks each) on 127.0.0.1 with their work directories
/// under `dir`, registered; returns the processes (scheduler first) and the scheduler's HOST:PORT.
pub fn start_cluster(dir: &Path, n: usize) -> (Procs, String, Vec<PathBuf>) {
    start_cluster_hiding(dir, n, None)
}

/// Whether this machine lets a test hide a directory from a process (a private mount namespace with a
/// tmpfs over it; needs root).
pub fn can_hide_directories() -> bool {
    Command::new("unshare")
        .args([
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            "mount -t tmpfs none /mnt",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// [`start_cluster`] whose executors do not see `hidden` (see [`Proc::start_hiding`]).
pub fn start_cluster_hiding(
    dir: &Path,
    n: usize,
    hidden: Option<&Path>,
) -> (Procs, String, Vec<PathBuf>) {
    let mut procs = Procs::default();
    let sched = format!("127.0.0.1:{}", free_port());
    procs.0.push(Proc::start(
        "scheduler",
        &[
            "cluster",
            "scheduler",
            "--bind",
            &sched,
            "--executor-timeout",
            "4",
        ],
        dir,
    ));
    let mut work_dirs = Vec::new();
    for i in 1..=n {
        let work = dir.join(format!("work{i}"));
        std::fs::create_dir_all(&work).unwrap();
        let bind = format!("127.0.0.1:{}", free_port());
        let grpc = free_port().to_string();
        let args = [
            "cluster",
            "executor",
            "--scheduler",
            &sched,
            "--bind",
            &bind,
            "--grpc-port",
            &grpc,
            "--concurrent-tasks",
            "2",
            "--heartbeat",
            "1",
            "--work-dir",
            work.to_str().unwrap(),
        ];
        let name = format!("executor{i}");
        procs.0.push(match hidden {
            Some(h) => Proc::start_hiding(&name, &args, dir, h),
            None => Proc::start(&name, &args, dir),
        });
        work_dirs.push(work);
    }
    wait_for_executors(&sched, n, &procs);
    (procs, sched, work_dirs)
}

/// Generated data (`flows` normal and test flows, `servers` server flows, 60 clients) converted to
/// canonical Parquet, which the cluster reads: `[normal, test]` paths.
pub fn canonical_data(tmp: &Scratch, flows: usize, servers: usize) -> Vec<String> {
    let gen = tmp.path("gen");
    let (n, s) = (flows.to_string(), servers.to_string());
    let g = gen.to_str().unwrap();
    flowhound(&[
        "generate",
        "--out",
        g,
        "--flows-normal",
        &n,
        "--flows-test",
        &n,
        "--flows-servers",
        &s,
        "--clients",
        "60",
        "-q",
    ])
    .ok("generate");
    ["normal", "test"]
        .iter()
        .map(|name| {
            let out = tmp.path(&format!("{name}.canon.parquet"));
            let src = gen.join(format!("{name}.parquet"));
            flowhound(&[
                "convert",
                src.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ])
            .ok("convert");
            out.to_string_lossy().into_owned()
        })
        .collect()
}
