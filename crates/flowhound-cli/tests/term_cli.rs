//! The findings table through the binary: no colour into a pipe under `--color auto` (and with
//! NO_COLOR), severity colours with `--color always` (even with NO_COLOR), and COLUMNS honoured.
//! `analyze` always runs with `--no-rdns`: tests never query the system resolver.

use std::process::Command;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests");

/// Runs `analyze` on the outliers fixture (stdout is a pipe) with these extra args and environment.
fn analyze(extra: &[&str], env: &[(&str, &str)]) -> String {
    let (n, t) = (
        format!("{ROOT}/fixtures/outliers/normal.parquet"),
        format!("{ROOT}/fixtures/outliers/test.parquet"),
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowhound"));
    cmd.args(["analyze", "--normal", &n, "--test", &t, "-q", "--no-rdns"])
        .args(extra)
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .env_remove("RUST_BACKTRACE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("binary runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{extra:?} {env:?}: {stderr}");
    assert!(!stderr.contains('\x1b'), "the summary is never coloured");
    stdout
}

#[test]
fn piped_auto_and_no_color_have_no_escape() {
    for (extra, env) in [
        (vec!["--color", "auto"], vec![("NO_COLOR", "1")]),
        (vec!["--color", "auto"], vec![]),
        (vec![], vec![]),
        (vec!["--color", "never"], vec![]),
    ] {
        let out = analyze(&extra, &env);
        assert!(out.starts_with("id "), "{out}");
        assert!(out.contains("critical"), "{out}");
        assert!(!out.contains('\x1b'), "{extra:?} {env:?}: {out:?}");
    }
}

#[test]
fn color_always_paints_the_severity() {
    for env in [vec![], vec![("NO_COLOR", "1")]] {
        let out = analyze(&["--color", "always"], &env);
        assert!(out.contains("\x1b[1;31mcritical\x1b[0m"), "{out:?}");
        let header = out.lines().next().expect("header");
        assert!(!header.contains('\x1b'), "titles stay plain: {header:?}");
    }
}

#[test]
fn columns_fits_the_table_and_unset_keeps_it_whole() {
    let fitted = analyze(&["--color", "never"], &[("COLUMNS", "120")]);
    assert!(fitted.lines().all(|l| l.chars().count() <= 120), "{fitted}");
    let whole = analyze(&["--color", "never"], &[]);
    let widest = whole.lines().map(|l| l.chars().count()).max();
    assert!(widest > Some(120), "a pipe is not fitted: {whole}");
    assert_eq!(
        fitted.lines().count(),
        whole.lines().count(),
        "same rows, only narrower"
    );
}

#[test]
fn bad_color_value_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_flowhound"))
        .args([
            "analyze",
            "--test",
            "x.parquet",
            "--no-rdns",
            "--color",
            "sometimes",
        ])
        .output()
        .expect("binary runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("auto") && err.contains("always") && err.contains("never"),
        "{err}"
    );
}
