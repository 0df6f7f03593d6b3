//! End-to-end tests against a real DNS server on 127.0.0.1 (see `common`).
//! Every resolver here is given the loopback server explicitly.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use flowhound_dns::{
    render_name, render_table, run_resolve, run_reverse, sanitize_for_terminal, DnsConfig, Outcome,
    RecordKind, Resolver, ResultRow,
};

use common::{TestServer, SOA_MINIMUM, TTL};

/// A config pointing only at the local server.
fn cfg(server: &TestServer) -> DnsConfig {
    DnsConfig::with_nameservers(vec![server.addr])
}

fn datas(o: &Outcome) -> Vec<String> {
    let mut v: Vec<String> = o.answers().iter().map(|a| a.data.clone()).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_examples_forward_and_reverse() {
    let server = common::start(Duration::from_secs(3)).await;
    let r = Resolver::new(cfg(&server)).unwrap();
    let a = r.resolve("www.ua.pt", RecordKind::A).await;
    assert_eq!(datas(&a), ["193.136.172.20"]);
    assert_eq!(a.ttl(), Some(TTL));
    let ptr = r.reverse("193.136.172.20".parse().unwrap()).await;
    assert_eq!(ptr.first_data(), Some("dns.ua.pt."));
    assert!(ptr.answers()[0].valid);
    // PTR through resolve() with an IP, and the u128 fast path, hit the cache.
    let sent = server.queries();
    let again = r.resolve("193.136.172.20", RecordKind::Ptr).await;
    let mapped = u128::from(Ipv4Addr::new(193, 136, 172, 20).to_ipv6_mapped());
    assert_eq!(r.reverse_u128(mapped).await, again);
    assert_eq!(again.first_data(), Some("dns.ua.pt."));
    assert_eq!(server.queries(), sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_types() {
    let server = common::start(Duration::from_secs(3)).await;
    let r = Resolver::new(cfg(&server)).unwrap();
    let aaaa = r.resolve("www.ua.pt.", RecordKind::Aaaa).await;
    assert_eq!(datas(&aaaa), ["2001:690:2200:a10::20"]);
    let mx = r.resolve("UA.PT", RecordKind::Mx).await;
    assert_eq!(datas(&mx), ["10 mail.ua.pt.", "20 mail2.ua.pt."]);
    let ns = r.resolve("ua.pt", RecordKind::Ns).await;
    assert_eq!(datas(&ns), ["ns.test."]);
    let txt = r.resolve("text.ua.pt", RecordKind::Txt).await;
    assert_eq!(datas(&txt), ["v=spf1 -all"]);
    let cname = r.resolve("alias.ua.pt", RecordKind::Cname).await;
    assert_eq!(datas(&cname), ["www.ua.pt."]);
    // An A query for the alias returns the chain: CNAME then A.
    let chain = r.resolve("alias.ua.pt", RecordKind::A).await;
    let types: Vec<&str> = chain.answers().iter().map(|a| a.rtype.as_str()).collect();
    assert_eq!(types, ["CNAME", "A"]);
    assert_eq!(chain.answers()[1].data, "193.136.172.20");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_outcomes() {
    let server = common::start(Duration::from_secs(3)).await;
    let r = Resolver::new(cfg(&server)).unwrap();
    assert_eq!(
        r.resolve("nope.ua.pt", RecordKind::A).await,
        Outcome::NxDomain
    );
    assert_eq!(
        r.resolve("www.ua.pt", RecordKind::Mx).await,
        Outcome::NoData
    );
    assert_eq!(
        r.resolve("servfail.ua.pt", RecordKind::A).await,
        Outcome::ServFail
    );
    assert_eq!(
        r.resolve("refused.ua.pt", RecordKind::A).await,
        Outcome::Refused
    );
    let bad = r.resolve("a..b", RecordKind::A).await;
    assert!(matches!(bad, Outcome::InvalidName(_)), "{bad:?}");
    let nx_rev = r.reverse("193.136.1.1".parse().unwrap()).await;
    assert_eq!(nx_rev, Outcome::NxDomain);
    let s = r.stats();
    assert_eq!(
        (s.nxdomain, s.nodata, s.servfail, s.refused, s.invalid),
        (2, 1, 1, 1, 1)
    );
    assert_eq!(s.resolved, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_udp_answer_falls_back_to_tcp() {
    let server = common::start(Duration::from_secs(3)).await;
    let r = Resolver::new(cfg(&server)).unwrap();
    let big = r.resolve("big.ua.pt", RecordKind::Txt).await;
    assert_eq!(big.answers().len(), 40);
    let expected: Vec<String> = (0..40)
        .map(|i| format!("{i:02}-{}", "x".repeat(200)))
        .collect();
    assert_eq!(datas(&big), expected);
    assert!(server.tcp_queries() >= 1, "no TCP retry seen by the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_lookup_is_served_from_cache() {
    let server = common::start(Duration::from_secs(3)).await;
    let r = Resolver::new(cfg(&server)).unwrap();
    let names: Vec<String> = ["www.ua.pt", "nope.ua.pt", "alias.ua.pt"]
        .map(String::from)
        .to_vec();
    let first = r.resolve_many(&names, RecordKind::A).await;
    let sent = server.queries();
    assert!(sent >= 3, "server saw {sent}"); // >3 only with UDP retransmits
    let second = r.resolve_many(&names, RecordKind::A).await;
    assert_eq!(server.queries(), sent, "second run sent queries");
    assert_eq!(first, second);
    let s = r.stats();
    assert_eq!((s.queries_sent, s.from_cache), (3, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_cache_round_trip_sends_nothing() {
    let server = common::start(Duration::from_secs(3)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = DnsConfig {
        cache_path: Some(dir.path().join("dns-cache.json")),
        ..cfg(&server)
    };
    let ips: Vec<IpAddr> = ["193.136.172.20", "193.136.1.1", "10.0.0.7"]
        .map(|s| s.parse().unwrap())
        .to_vec();
    let first = run_reverse(&config, &ips).await.unwrap();
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);
    let sent = server.queries();
    assert!(sent >= 3, "server saw {sent}"); // >3 only with UDP retransmits
    let second = run_reverse(&config, &ips).await.unwrap();
    assert_eq!(server.queries(), sent, "run from disk cache sent queries");
    assert_eq!(second.stats.from_cache, 3);
    let statuses: Vec<&str> = second.rows.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["ok", "nxdomain", "ok"]);
    assert_eq!(second.rows[2].answers[0].data, common::bulk_name(7));
    // TTLs count down from what the server sent, never up.
    assert!(second.rows[0].ttl.unwrap() <= TTL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_ttl_comes_from_soa_minimum() {
    let server = common::start(Duration::from_secs(3)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    let config = DnsConfig {
        cache_path: Some(path.clone()),
        ..cfg(&server)
    };
    run_resolve(&config, &["nope.ua.pt".to_string()], RecordKind::A)
        .await
        .unwrap();
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let entry = &file["entries"][0];
    assert_eq!(entry["name"], "nope.ua.pt.");
    assert_eq!(entry["outcome"]["status"], "nx_domain");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let left = entry["expires"].as_u64().unwrap().saturating_sub(now);
    assert!(
        left <= u64::from(SOA_MINIMUM) && left + 5 >= u64::from(SOA_MINIMUM),
        "left {left}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_cache_file_is_reported_and_ignored() {
    let server = common::start(Duration::from_secs(3)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    std::fs::write(&path, "not json {").unwrap();
    let config = DnsConfig {
        cache_path: Some(path.clone()),
        ..cfg(&server)
    };
    let report = run_resolve(&config, &["www.ua.pt".to_string()], RecordKind::A)
        .await
        .unwrap();
    assert_eq!(report.rows[0].status, "ok");
    assert_eq!(report.warnings.len(), 1);
    assert!(report.warnings[0].contains("ignoring DNS cache"));
    // ... and replaced by a good one.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("www.ua.pt."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answer_times_out() {
    let server = common::start(Duration::from_secs(5)).await;
    let config = DnsConfig {
        timeout: Duration::from_millis(300),
        attempts: 0,
        deadline: None,
        ..cfg(&server)
    };
    let r = Resolver::new(config).unwrap();
    let t0 = Instant::now();
    let o = r.resolve("slow.ua.pt", RecordKind::A).await;
    let took = t0.elapsed();
    assert_eq!(o, Outcome::Timeout);
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert_eq!(r.stats().timed_out, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_bounds_a_batch() {
    let server = common::start(Duration::from_secs(5)).await;
    let deadline = Duration::from_millis(500);
    let config = DnsConfig {
        deadline: Some(deadline),
        ..cfg(&server)
    };
    let r = Resolver::new(config).unwrap();
    let mut names = vec!["www.ua.pt".to_string()];
    names.extend((0..500).map(|i| format!("n{i}.slow.test")));
    let t0 = Instant::now();
    let results = r.resolve_many(&names, RecordKind::A).await;
    let took = t0.elapsed();
    assert!(
        took < deadline + Duration::from_millis(700),
        "took {took:?}"
    );
    assert_eq!(results.len(), 501);
    assert_eq!(results[0].1.first_data(), Some("193.136.172.20"));
    assert!(results[1..]
        .iter()
        .all(|(_, o)| *o == Outcome::DeadlineExceeded));
    let s = r.stats();
    assert_eq!(s.deadline_exceeded, 500);
    // Only the first window of 64 slow queries was ever sent.
    let window = flowhound_dns::DEFAULT_CONCURRENCY as u64;
    assert!(
        s.queries_sent <= 1 + window,
        "queries started after the deadline: {}",
        s.queries_sent
    );
    // The server may also see hickory's UDP retransmissions of those queries.
    assert!(
        server.queries() <= 3 * (1 + window),
        "server saw {}",
        server.queries()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_ptr_is_kept_exact_flagged_and_sanitised() {
    let server = common::start(Duration::from_secs(3)).await;
    let r = Resolver::new(cfg(&server)).unwrap();
    let ip: IpAddr = "193.136.6.66".parse().unwrap();
    let o = r.reverse(ip).await;
    let answer = &o.answers()[0];
    assert!(!answer.valid);
    // Exact data: the escape byte and the HTML are still there.
    let expected = render_name(&common::hostile_ptr_name());
    assert_eq!(answer.data, expected);
    assert!(answer
        .data
        .starts_with("\u{1b}[31m<script>alert(1)</script>.aaa"));
    // JSON keeps it exact (escaped by serde, decoded back identically).
    let row = ResultRow::new(ip.to_string(), RecordKind::Ptr, &o);
    let json = serde_json::to_string(&row).unwrap();
    assert!(!json.contains('\u{1b}'));
    let back: ResultRow = serde_json::from_str(&json).unwrap();
    assert_eq!(back.answers[0].data, expected);
    assert!(!back.valid);
    // Terminal output: no control characters, bounded length.
    let shown = sanitize_for_terminal(&answer.data);
    assert!(shown.chars().all(|c| !c.is_control()));
    assert!(shown.chars().count() <= flowhound_dns::DEFAULT_DISPLAY_CHARS);
    let table = render_table(&[row]);
    assert!(table.chars().all(|c| c == '\n' || !c.is_control()));
    assert!(table.contains("[invalid]"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_txt_of_10000_chars() {
    let server = common::start(Duration::from_secs(3)).await;
    let r = Resolver::new(cfg(&server)).unwrap();
    let o = r.resolve("hostile-txt.ua.pt", RecordKind::Txt).await;
    let answer = &o.answers()[0];
    assert_eq!(answer.data, common::hostile_txt_string());
    assert_eq!(answer.data.chars().count(), common::HOSTILE_TXT_CHARS);
    assert!(!answer.valid);
    let table = render_table(&[ResultRow::new("hostile-txt.ua.pt", RecordKind::Txt, &o)]);
    assert!(table.chars().all(|c| c == '\n' || !c.is_control()));
    assert!(table.lines().all(|l| l.chars().count() < 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_distinct_reverse_lookups() {
    let server = common::start(Duration::from_secs(3)).await;
    let r = Resolver::new(cfg(&server)).unwrap();
    let ips: Vec<IpAddr> = (0..common::BULK)
        .map(|i| IpAddr::V4(common::bulk_ip(i)))
        .collect();
    let t0 = Instant::now();
    let results = r.reverse_many(&ips).await;
    let took = t0.elapsed();
    assert_eq!(results.len(), ips.len());
    for (i, (ip, o)) in results.iter().enumerate() {
        assert_eq!(*ip, ips[i]);
        assert_eq!(
            o.first_data(),
            Some(common::bulk_name(i as u32).as_str()),
            "{ip}: {o:?}"
        );
    }
    let s = r.stats();
    assert_eq!(s.resolved, u64::from(common::BULK));
    assert_eq!(s.queries_sent, u64::from(common::BULK));
    // hickory retransmits a UDP query unanswered after 333 ms, so under load
    // the server may see a few more than 10,000.
    assert!(server.queries() >= u64::from(common::BULK));
    eprintln!("10,000 reverse lookups (debug build): {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_queried_once() {
    let server = common::start(Duration::from_secs(3)).await;
    let r = Resolver::new(cfg(&server)).unwrap();
    let ip: IpAddr = "193.136.172.20".parse().unwrap();
    let mapped = IpAddr::V6(Ipv4Addr::new(193, 136, 172, 20).to_ipv6_mapped());
    let results = r.reverse_many(&[ip, ip, mapped]).await;
    assert_eq!(r.stats().queries_sent, 1);
    assert_eq!(results[2].0, mapped);
    assert!(results
        .iter()
        .all(|(_, o)| o.first_data() == Some("dns.ua.pt.")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_server_is_an_outcome_not_a_hang() {
    // A loopback port with nothing listening.
    let port = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let config = DnsConfig {
        timeout: Duration::from_millis(300),
        ..DnsConfig::with_nameservers(vec![format!("127.0.0.1:{port}").parse().unwrap()])
    };
    let r = Resolver::new(config).unwrap();
    let t0 = Instant::now();
    let o = r.resolve("www.ua.pt", RecordKind::A).await;
    assert!(matches!(o, Outcome::Timeout | Outcome::Error(_)), "{o:?}");
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t0.elapsed()
    );
    // Failures from the network are not cached: the next try goes out again.
    r.resolve("www.ua.pt", RecordKind::A).await;
    assert_eq!(r.stats().queries_sent, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servfail_is_remembered_briefly_and_can_be_disabled() {
    let server = common::start(Duration::from_secs(3)).await;
    let r = Resolver::new(cfg(&server)).unwrap();
    r.resolve("servfail.ua.pt", RecordKind::A).await;
    let sent = server.queries();
    assert_eq!(
        r.resolve("servfail.ua.pt", RecordKind::A).await,
        Outcome::ServFail
    );
    assert_eq!(server.queries(), sent);
    let no_memory = Resolver::new(DnsConfig {
        failure_ttl: 0,
        ..cfg(&server)
    })
    .unwrap();
    no_memory.resolve("servfail.ua.pt", RecordKind::A).await;
    no_memory.resolve("servfail.ua.pt", RecordKind::A).await;
    assert_eq!(no_memory.stats().queries_sent, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolver_is_shareable_across_tasks() {
    let server = common::start(Duration::from_secs(3)).await;
    let r = std::sync::Arc::new(Resolver::new(cfg(&server)).unwrap());
    let tasks: Vec<_> = (0..4u32)
        .map(|i| {
            let r = r.clone();
            tokio::spawn(async move { r.reverse(IpAddr::V4(common::bulk_ip(i))).await })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        let o = t.await.unwrap();
        assert_eq!(o.first_data(), Some(common::bulk_name(i as u32).as_str()));
    }
}
