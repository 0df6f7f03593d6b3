//! `proxied_cnc`, end to end through the analysts' CSV: a workstation beaconing to a new address
//! through the LAN's web proxy is named (with the C&C peer and the proxy), against a normal day of
//! the same browsing; the workstation that happens to browse at the same moments is not, nor is a
//! peer the proxy already reached on the normal day, nor anything in single-capture mode.

mod detect_support;

use detect_support::browsing::{proxied, proxied_lan, PROXY};
use detect_support::{csv_run, csv_self_run, Row};
use flowhound::config::Config;
use flowhound::findings::{Finding, Severity};

const DAY: i64 = 1_767_225_600; // 2026-01-01 00:00 UTC
const CNC: &str = "203.0.113.66";

/// The test day: the LAN's browsing, 10.0.0.12 checking in with [`CNC`] every 300 s (within 10 s)
/// for six hours through the proxy, and 10.0.0.13 opening larger pages through the proxy in the same
/// seconds as every check-in.
fn test_day() -> Vec<Row> {
    let mut rows = proxied_lan(DAY + 86_400, 1_000);
    for k in 0..72i64 {
        let t = DAY + 86_400 + 30_000 + k * 300 + (k * 7) % 11;
        rows.extend(proxied(t, "10.0.0.12", CNC, (310, 1_150)));
        rows.extend(proxied(
            t,
            "10.0.0.13",
            &format!("198.19.0.{}", k + 1),
            (900, 48_000),
        ));
    }
    rows
}

fn proxied_findings(found: &[Finding]) -> Vec<&Finding> {
    found
        .iter()
        .filter(|f| f.detector == "proxied_cnc")
        .collect()
}

#[test]
fn a_beacon_through_the_web_proxy_is_named_on_the_client_behind_it() {
    let normal = proxied_lan(DAY, 0);
    let config = Config::default();
    let found = csv_run(&normal, &test_day(), &config, &["proxied_cnc"]);
    let found = proxied_findings(&found);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = found[0];
    assert_eq!(f.kind, "cnc_beacon");
    assert_eq!(f.hosts, ["10.0.0.12"]);
    assert_eq!(f.peers, [CNC, PROXY.0]);
    // both flows of every check-in: the client's to the proxy and the proxy's to the C&C server
    assert_eq!(f.flows, 144);
    assert!(f.severity >= Severity::High, "{f:#?}");
    let e = &f.evidence;
    assert!(
        e.explanation
            .contains("through the internal proxy 10.0.0.2:3128: 72 of its 72 connections"),
        "{}",
        e.explanation
    );
    assert_eq!(e.details["via_proxy"], PROXY.0);
}

#[test]
fn a_peer_the_proxy_reached_on_the_normal_day_or_a_self_learned_day_is_not_judged() {
    let config = Config::default();
    let mut normal = proxied_lan(DAY, 0);
    normal.extend(proxied(DAY + 40_000, "10.0.0.15", CNC, (310, 1_150)));
    assert!(proxied_findings(&csv_run(&normal, &test_day(), &config, &["proxied_cnc"])).is_empty());
    assert!(proxied_findings(&csv_self_run(&test_day(), &config, &["proxied_cnc"])).is_empty());
}

#[test]
fn the_client_connections_must_carry_the_upstream_ones() {
    // sizes that must match exactly (the proxy protocol's 200 and 100 bytes then tell them apart),
    // or a client that must start its connection before the proxy's by more than the log's second
    let normal = proxied_lan(DAY, 0);
    for toml in [
        "[detectors.proxied_cnc]\nsize_slack_bytes = 0\nsize_slack_ratio = 0.0\n",
        "[detectors.proxied_cnc]\nmin_clients_count = 11\n",
    ] {
        let config = Config::from_toml(toml, "test").unwrap();
        let found = csv_run(&normal, &test_day(), &config, &["proxied_cnc"]);
        assert!(proxied_findings(&found).is_empty(), "{toml}: {found:#?}");
    }
}

/// The proxy's own beacon to the C&C server (its upstream connections alone are periodic with one
/// bot behind it) is the proxy doing its job once the bot is named: held low, naming the bot.
#[test]
fn the_proxys_own_beacon_is_held_low_naming_the_client() {
    let config = Config::from_toml("[analysis]\nmin_severity = \"low\"\n", "test").unwrap();
    let names = ["cnc_beacon", "proxied_cnc"];
    let found = csv_run(&proxied_lan(DAY, 0), &test_day(), &config, &names);
    let on = |h: &str| {
        found
            .iter()
            .find(|f| f.hosts == [h])
            .unwrap_or_else(|| panic!("{h}: {found:#?}"))
    };
    let (bot, proxy) = (on("10.0.0.12"), on(PROXY.0));
    assert!(bot.severity >= Severity::High, "{bot:#?}");
    assert_eq!(proxy.severity, Severity::Low, "{proxy:#?}");
    assert!(
        proxy
            .evidence
            .explanation
            .contains("relays these connections to 203.0.113.66 for 10.0.0.12"),
        "{}",
        proxy.evidence.explanation
    );
    // without proxied_cnc nobody explains it: the proxy's beacon stands
    let alone = csv_run(&proxied_lan(DAY, 0), &test_day(), &config, &["cnc_beacon"]);
    assert!(
        alone
            .iter()
            .any(|f| f.hosts == [PROXY.0] && f.severity >= Severity::High),
        "{alone:#?}"
    );
}
