//! Shared helpers of the CLI tests: run the real `flowhound` binary, find fixtures, make scratch dirs.
#![allow(dead_code)]

pub mod cluster;
pub mod stale;

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code and that the binary did not panic or leak a raw engine message.
    pub fn expect(&self, code: i32, what: &str) -> &Self {
        assert_eq!(
            self.code, code,
            "{what}: exit code\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self.no_panic(what)
    }

    /// No panic, no raw DataFusion / Arrow / Parquet error text.
    pub fn no_panic(&self, what: &str) -> &Self {
        assert_ne!(self.code, 101, "{what}: panicked: {}", self.stderr);
        for raw in [
            "panicked",
            "RUST_BACKTRACE",
            "DataFusionError",
            "ArrowError",
            "ParquetError",
            "internal error",
        ] {
            assert!(
                !self.stderr.contains(raw),
                "{what}: '{raw}' in stderr: {}",
                self.stderr
            );
        }
        self
    }

    /// Asserts success and returns (stdout, stderr).
    pub fn ok(&self, what: &str) -> (String, String) {
        self.expect(0, what);
        (self.stdout.clone(), self.stderr.clone())
    }

    /// Asserts success and parses stdout as JSON.
    pub fn json(&self, what: &str) -> serde_json::Value {
        self.expect(0, what);
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{what}: stdout is not JSON ({e}): {}", self.stdout))
    }

    /// Asserts that stderr contains every part.
    pub fn stderr_has(&self, parts: &[&str], what: &str) -> &Self {
        for p in parts {
            assert!(
                self.stderr.contains(p),
                "{what}: '{p}' not in stderr: {}",
                self.stderr
            );
        }
        self
    }
}

/// Runs `flowhound ARGS` with a quiet environment. `analyze` and `detect` get `--no-rdns` unless the
/// arguments name a `--nameserver`: tests must never query the system resolver.
pub fn flowhound<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let mut all: Vec<std::ffi::OsString> = args.iter().map(|a| a.as_ref().to_owned()).collect();
    let first = all.first().and_then(|a| a.to_str()).unwrap_or("");
    let has = |flag: &str| all.iter().any(|a| a == flag);
    if matches!(first, "analyze" | "detect") && !has("--no-rdns") && !has("--nameserver") {
        all.push("--no-rdns".into());
    }
    let out = Command::new(env!("CARGO_BIN_EXE_flowhound"))
        .args(&all)
        .env_remove("RUST_BACKTRACE")
        .env("NO_COLOR", "1")
        .output()
        .expect("run flowhound");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A committed fixture (tests/fixtures/...), as a string argument.
pub fn fixture(rel: &str) -> String {
    root()
        .join("tests/fixtures")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

/// A fresh scratch directory, removed when dropped. One held in a `static` is never dropped, so a
/// new one first removes those that processes no longer running left (`fh-cli-TAG-PID`).
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Self {
        stale::remove_stale(&format!("fh-cli-{tag}-"));
        let dir = std::env::temp_dir().join(format!("fh-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Names of the files in the directory (temp files included), sorted.
    pub fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
