//! Short captures analysed alone (single-capture mode, a baseline learned robustly from a 16-minute
//! capture): no host has a fan-out or volume history of its own there, so a host is judged against its
//! peers, in their role. Browsing clients are not scanners because the other clients browse as much;
//! a public web server's responses to its many clients are its service, not uploads. The bots sweeping
//! a port and the server handing one client a dump stay findings.

mod detect_support;

use detect_support::{csv_self_run, Row, CONFIG};
use flowhound::config::Config;
use flowhound::findings::{severity, Finding, Severity};

/// 2011-08-10 09:00 UTC, the start of a capture of 16 to 20 minutes.
const T0: i64 = 1_312_966_800;

fn ext(n: u32) -> String {
    format!(
        "{}.{}.{}.{}",
        20 + n / 65_536 % 180,
        n / 256 % 256,
        n % 256,
        7
    )
}

/// `per_window` distinct external hosts on tcp/`port` from `src` in each of four 5-minute windows; `answered`: a tiny answer came back (a browser's short request), else nothing did.
fn sweep(rows: &mut Vec<Row>, src: &str, port: u16, per_window: u32, first: u32, answered: bool) {
    for w in 0..4 {
        for d in 0..per_window {
            let ts = T0 + w * 300 + i64::from(d % 200);
            let down = if answered { 60 } else { 0 };
            rows.push((
                ts,
                src.into(),
                ext(first + w as u32 * per_window + d),
                port,
                60,
                down,
            ));
        }
    }
}

fn at_least(findings: &[Finding], kind: &str, host: &str, s: Severity) -> bool {
    findings
        .iter()
        .any(|f| f.kind == kind && f.hosts == [host] && severity(f.score) >= s)
}

#[test]
fn browsing_clients_of_a_short_capture_are_judged_against_each_other() {
    let mut rows = Vec::new();
    // 24 clients each reaching 60 web servers per window with short answered requests: weighted
    // 15 hosts per window, over the floor of 10
    for c in 0..24 {
        sweep(
            &mut rows,
            &format!("192.168.1.{}", 10 + c),
            80,
            60,
            c * 1_000,
            true,
        );
    }
    // two bots: one sweeping tcp/445, one sweeping tcp/80 far beyond what the clients do
    sweep(&mut rows, "192.168.1.200", 445, 400, 500_000, false);
    sweep(&mut rows, "192.168.1.201", 80, 400, 600_000, false);
    rows.sort();
    let config = Config::from_toml(CONFIG, "t").unwrap();
    let got = csv_self_run(&rows, &config, &["port_scan"]);
    for c in 0..24 {
        let host = format!("192.168.1.{}", 10 + c);
        assert!(
            !at_least(&got, "port_scan", &host, Severity::Low),
            "{host}: {got:#?}"
        );
    }
    for bot in ["192.168.1.200", "192.168.1.201"] {
        assert!(
            at_least(&got, "port_scan", bot, Severity::High),
            "{bot}: {got:#?}"
        );
    }
}

/// A web server answering `clients` external clients, 300 kB each, over the capture.
fn web_server(rows: &mut Vec<Row>, server: &str, clients: u32) {
    for c in 0..clients {
        let ts = T0 + i64::from(c * 960 / clients);
        rows.push((ts, ext(900_000 + c), server.into(), 80, 500, 300_000));
    }
}

/// Ordinary clients: a few small requests each.
fn office(rows: &mut Vec<Row>) {
    for c in 0..30 {
        for k in 0..8 {
            let ts = T0 + c * 7 + k * 110;
            rows.push((
                ts,
                format!("192.168.1.{}", 10 + c),
                ext(c as u32 * 10 + k as u32),
                443,
                2_000,
                40_000,
            ));
        }
    }
}

#[test]
fn a_web_servers_responses_are_its_service_not_uploads() {
    let mut rows = Vec::new();
    office(&mut rows);
    web_server(&mut rows, "192.168.1.80", 300);
    rows.sort();
    let config = Config::from_toml(CONFIG, "t").unwrap();
    let got = csv_self_run(&rows, &config, &["sigma"]);
    let server: Vec<&Finding> = got
        .iter()
        .filter(|f| f.kind == "volume_outlier" && f.hosts == ["192.168.1.80"])
        .collect();
    assert!(!server.is_empty(), "{got:#?}");
    for f in server {
        assert_eq!(severity(f.score), Severity::Low, "{f:#?}");
        assert!(
            f.evidence
                .explanation
                .contains("answered 300 external clients"),
            "{}",
            f.evidence.explanation
        );
    }
}

#[test]
fn a_dump_fetched_through_a_server_by_one_client_stays_a_finding() {
    let mut rows = Vec::new();
    office(&mut rows);
    web_server(&mut rows, "192.168.1.80", 30);
    // one client takes 90 MB from it
    for k in 0..30 {
        rows.push((
            T0 + 300 + k * 10,
            "45.9.148.3".into(),
            "192.168.1.80".into(),
            443,
            800,
            3_000_000,
        ));
    }
    rows.sort();
    let config = Config::from_toml(CONFIG, "t").unwrap();
    let got = csv_self_run(&rows, &config, &["sigma"]);
    assert!(
        at_least(&got, "volume_outlier", "192.168.1.80", Severity::Medium),
        "{got:#?}"
    );
}
