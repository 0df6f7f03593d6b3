//! Golden tests of the terminal output of findings: the ranked table and the summary on a fixed fixture
//! (rows sorted by rank first), without colour and with colour, at 100 columns.
//! Regenerate after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --workspace --test term_golden`, then read the diff.

use flowhound::findings::{severity, BaselineRef, Evidence, Finding, FindingsDoc, InputSummary};
use flowhound::output::term::{findings_table, summary_text, visible_width, Term};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/golden/terminal");

fn finding(id: &str, kind: &str, score: f64, hosts: &[&str], explanation: &str) -> Finding {
    Finding {
        id: id.into(),
        kind: kind.into(),
        detector: kind.into(),
        score,
        severity: severity(score),
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        flows: (score * 100.0) as u64,
        evidence: Evidence {
            explanation: explanation.into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Six findings of every severity: a long explanation, many hosts, a hostile escape sequence.
fn findings() -> Vec<Finding> {
    let mut v = vec![
        finding("F3", "botnet", 0.7, &["192.168.1.22", "192.168.1.23", "192.168.1.24", "192.168.1.25"],
            "4 internal hosts opened new connections to each other in synchronised bursts on tcp/6667 (baseline: none)"),
        finding("F1", "exfiltration", 0.93, &["192.168.1.12"],
            "uploaded 950.0 MB to 45.142.212.61 (RU, AS64500) between 01:00 and 04:00, 47500x its baseline of 20.0 kB per hour"),
        finding("F2", "cnc_beacon", 0.81, &["192.168.1.13"], "contacted 203.0.113.9 every 60.0 s (jitter 1.2 s) 40 times"),
        Finding {
            detector: "iqr,mad,sigma,zscore".into(),
            ..finding("F4", "volume_outlier", 0.45, &["192.168.1.10"], "hostile \x1b[2J\x1b]0;pwned\x07 explanation")
        },
        finding("F5", "unusual_country", 0.2, &["192.168.1.11"], "first contact with KP"),
        finding("F6", "off_hours", 0.1, &["192.168.1.14"], "active at 03:00"),
    ];
    v.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    v
}

fn doc() -> FindingsDoc {
    let input = InputSummary {
        files: vec!["test.parquet".into()],
        rows_read: 5000,
        ..Default::default()
    };
    let bref = BaselineRef {
        source: "normal".into(),
        inputs: vec!["normal.parquet".into()],
        flows: 20000,
    };
    FindingsDoc::new(input, bref, vec!["mad".into()], findings())
}

/// What the terminal shows: the table (stdout) then the summary (stderr), five rows at most.
fn terminal(color: bool) -> String {
    let d = doc();
    let term = Term {
        color,
        width: Some(100),
    };
    findings_table(&d.findings, 5, &term) + &summary_text(&d)
}

fn check(name: &str, got: &str) {
    let path = format!("{GOLDEN}/{name}");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(GOLDEN).expect("golden dir");
        std::fs::write(&path, got).expect("write golden");
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {path}; run with UPDATE_GOLDEN=1"));
    assert_eq!(
        got, want,
        "{name} differs from the golden file (UPDATE_GOLDEN=1 to accept)"
    );
}

fn strip_ansi(s: &str) -> String {
    s.replace("\x1b[1;31m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[33m", "")
        .replace("\x1b[2m", "")
        .replace("\x1b[0m", "")
}

#[test]
fn plain_at_100_columns_matches_golden() {
    let got = terminal(false);
    assert!(!got.contains('\x1b'), "no escape byte without colour");
    check("findings_never_100.txt", &got);
}

#[test]
fn coloured_at_100_columns_matches_golden() {
    let got = terminal(true);
    check("findings_always_100.txt", &got);
    assert!(got.contains("\x1b[1;31mcritical\x1b[0m") && got.contains("\x1b[31mhigh\x1b[0m"));
    assert!(got.contains("\x1b[33mmedium\x1b[0m") && got.contains("\x1b[2mlow\x1b[0m"));
    assert_eq!(
        strip_ansi(&got),
        terminal(false),
        "colour adds escapes only"
    );
}

#[test]
fn every_line_fits_and_columns_align() {
    for color in [false, true] {
        let out = terminal(color);
        let table: Vec<&str> = out.lines().take(7).collect();
        for l in &table {
            assert!(visible_width(l) <= 100, "too wide: {l:?}");
        }
        // the explanation column starts at the same screen column on every line
        let at = |l: &str| visible_width(&l[..l.rfind("  ").expect("columns")]);
        let first = at(table[0]);
        assert!(table.iter().all(|l| at(l) == first), "{out}");
    }
}

#[test]
fn unfitted_keeps_full_explanations() {
    let d = doc();
    let out = findings_table(&d.findings, 10, &Term::default());
    assert!(
        out.contains("47500x its baseline of 20.0 kB per hour"),
        "{out}"
    );
    assert!(out.contains("192.168.1.22 192.168.1.23 192.168.1.24 …"));
    assert!(!out.contains("more (see --json)"));
}
