//! Issue 7 through the real binary, against a real authoritative DNS server on 127.0.0.1 (the test
//! server of flowhound-dns, started in this process). Nothing is sent anywhere else: every command gets
//! `--nameserver` pointing at it.

#[path = "../../flowhound-dns/tests/common/mod.rs"]
mod common;

#[path = "common/mod.rs"]
mod cli;

use cli::{Run, Scratch};
use serde_json::Value;
use std::time::Duration;

struct Dns {
    _rt: tokio::runtime::Runtime,
    server: common::TestServer,
}

fn server() -> Dns {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt.block_on(common::start(Duration::from_secs(5)));
    Dns { _rt: rt, server }
}

/// Runs the binary against the in-process DNS server (`--nameserver` added).
fn flowhound(dns: &Dns, args: &[&str]) -> Run {
    let ns = dns.server.addr.to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--nameserver", ns.as_str()]);
    cli::flowhound(&all)
}

fn json(out: &Run) -> Value {
    out.json("dns --json")
}

#[test]
fn seed_examples_forward_and_reverse() {
    let dns = server();
    let rows = json(&flowhound(&dns, &["dns", "resolve", "--json", "www.ua.pt"]));
    assert_eq!(rows[0]["status"], "ok");
    assert_eq!(rows[0]["answers"][0]["data"], "193.136.172.20");
    let rows = json(&flowhound(
        &dns,
        &["dns", "reverse", "--json", "193.136.172.20"],
    ));
    assert_eq!(rows[0]["answers"][0]["data"], "dns.ua.pt.");
    let rows = json(&flowhound(
        &dns,
        &["dns", "resolve", "--json", "--type", "MX", "ua.pt"],
    ));
    assert_eq!(rows[0]["answers"].as_array().map(Vec::len), Some(2));
}

#[test]
fn failures_are_results_not_errors() {
    let dns = server();
    let rows = json(&flowhound(
        &dns,
        &["dns", "resolve", "--json", "nope.ua.pt"],
    ));
    assert_eq!(rows[0]["status"], "nxdomain");
    let started = std::time::Instant::now();
    let out = flowhound(
        &dns,
        &[
            "dns",
            "resolve",
            "--json",
            "--dns-timeout-ms",
            "300",
            "--dns-deadline-secs",
            "2",
            "slow.ua.pt",
        ],
    );
    let rows = json(&out);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "bounded by the timeout"
    );
    assert_ne!(rows[0]["status"], "ok");
}

#[test]
fn hostile_ptr_is_exact_in_json_and_clean_on_the_terminal() {
    let dns = server();
    let rows = json(&flowhound(
        &dns,
        &["dns", "reverse", "--json", "193.136.6.66"],
    ));
    let data = rows[0]["answers"][0]["data"].as_str().expect("answer");
    assert!(
        data.contains("<script>"),
        "JSON keeps the exact name: {data}"
    );
    let out = flowhound(&dns, &["dns", "reverse", "193.136.6.66"]);
    out.ok("dns reverse");
    assert!(
        !out.stdout.contains('\x1b'),
        "no escape sequence reaches the terminal"
    );
    assert!(
        out.stdout.contains("invalid"),
        "flagged as not a valid name"
    );
}

#[test]
fn enrich_rdns_adds_names_of_distinct_addresses() {
    let dns = server();
    let scratch = Scratch::new("dns-enrich");
    let dir = &scratch.0;
    let csv = dir.join("flows.csv");
    std::fs::write(&csv, "timestamp,src_ip,dst_ip,proto,port,up_bytes,down_bytes\n1700000000,10.0.0.5,193.136.172.20,tcp,443,1,2\n1700000001,10.0.0.5,193.136.172.20,tcp,443,1,2\n").unwrap();
    let out_json = dir.join("out.json");
    let out = flowhound(
        &dns,
        &[
            "enrich",
            "--rdns",
            "--quiet",
            csv.to_str().unwrap(),
            "-o",
            out_json.to_str().unwrap(),
        ],
    );
    let (_, err) = out.ok("enrich --rdns");
    assert!(
        err.contains("reverse DNS: 2 resolved"),
        "summary counts names: {err}"
    );
    let rows: Value = serde_json::from_str(&std::fs::read_to_string(&out_json).unwrap()).unwrap();
    assert_eq!(rows[0]["dst_name"], "dns.ua.pt.");
    assert_eq!(rows[1]["src_name"], "host-0-5.bulk.test.");
    assert_eq!(dns.server.queries(), 2, "one query per distinct address");
}
