//! `dns_anomaly` end to end on generated data: the generator's ground truth is the oracle.

mod detect_support;

use detect_support::dataset;

#[test]
fn the_tunnel_is_a_dns_tunnel_finding_to_the_unknown_resolver() {
    let d = dataset(13, 40_000);
    let findings = d.run(&["dns_anomaly"]);
    let s = d
        .truth
        .scenarios
        .iter()
        .find(|s| s.kind.name() == "dns_tunnel")
        .expect("scenario");
    let host = &s.hosts[0];
    let f = findings
        .iter()
        .find(|f| &f.hosts[0] == host)
        .unwrap_or_else(|| panic!("{host} missed: {findings:#?}"));
    assert_eq!(f.kind, "dns_tunnel");
    assert_eq!(f.peers[0], s.peers[0]);
    assert_eq!(
        f.evidence.details["unknown_resolvers"][0],
        s.peers[0].as_str()
    );
    assert!(f.flows >= s.flows, "{} < {}", f.flows, s.flows);
    let tunnels: Vec<_> = findings
        .iter()
        .filter(|f| f.kind == "dns_tunnel")
        .map(|f| &f.hosts[0])
        .collect();
    assert_eq!(tunnels, [host], "only the tunnelling host");
    let truth = d.all_scenario_hosts();
    assert!(
        findings.iter().all(|f| truth.contains(&f.hosts[0])),
        "{findings:#?}"
    );
}

/// Twelve hours of a LAN's DNS through its resolver 10.0.0.53: nine hosts at 40 lookups an hour and
/// a busy one (10.0.0.12) at 400, all of 60 B; with `tunnel`, 10.0.0.12 also sends 1,200 queries of
/// 180 B an hour through the resolver in hours 5 and 6. `day` is the first second.
fn lan_dns(day: i64, tunnel: bool) -> Vec<detect_support::Row> {
    let ip = |last: u32| format!("10.0.0.{last}");
    let mut rows = Vec::new();
    for h in 0..12i64 {
        for host in 10..20u32 {
            let n = if host == 12 { 400 } else { 40 };
            for k in 0..n {
                let ts = day + h * 3_600 + k * 3_600 / n + i64::from(host);
                rows.push((ts, ip(host), ip(53), 53, 60, 140));
            }
        }
        if tunnel && (5..7).contains(&h) {
            for k in 0..1_200 {
                rows.push((day + h * 3_600 + k * 3 + 1, ip(12), ip(53), 53, 180, 220));
            }
        }
    }
    rows.sort_by_key(|r| r.0);
    rows
}

/// A tunnel of two hours through the internal resolver, by a host whose ordinary lookups over the
/// day dilute it (mean query 100 B against 60 B typical: under the size multiple), is judged in its
/// hours of long queries: a `dns_tunnel` spanning those hours. The same day without it: nothing.
#[test]
fn a_tunnel_of_a_few_hours_is_judged_in_its_hours() {
    let config = flowhound::config::Config::from_toml(detect_support::CONFIG, "t").unwrap();
    let normal = lan_dns(1_700_006_400, false);
    let day = 1_700_092_800;
    let run =
        |tunnel| detect_support::csv_run(&normal, &lan_dns(day, tunnel), &config, &["dns_anomaly"]);
    let found = run(true);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(
        (f.kind.as_str(), f.hosts[0].as_str()),
        ("dns_tunnel", "10.0.0.12")
    );
    assert!(
        f.evidence
            .explanation
            .contains("in its 2 windows of long queries"),
        "{}",
        f.evidence.explanation
    );
    let at = |h: i64| flowhound::findings::format_ts((day + h * 3_600) * 1_000_000);
    let (first, last) = (f.first_seen.clone().unwrap(), f.last_seen.clone().unwrap());
    assert!(first >= at(5) && last < at(7), "{first} {last}");
    assert!(run(false).is_empty());
}

/// A day of a home network learned from itself: a device (192.168.1.50) resolving 80 names an hour
/// through the router, of varying length (22, 35 and 48 B: cv 0.30, mean at the typical size), and 3 an
/// hour through 8.8.8.8; four other devices at 10 lookups an hour of 35 B. Names of varying length
/// through the network's own resolver are what any client sends: no tunnel (the flows to 8.8.8.8,
/// judged on their own, are too few to be one). The same lookups with queries of 120 B are one.
fn home_dns(long: bool) -> Vec<(&'static str, detect_support::Row)> {
    let ip = |last: u32| format!("192.168.1.{last}");
    let mut rows = Vec::new();
    for h in 0..24i64 {
        let t0 = 1_700_006_400 + h * 3_600;
        for k in 0..80i64 {
            let size = if long {
                120
            } else {
                [22, 35, 48][(k % 3) as usize]
            };
            rows.push(("udp", (t0 + k * 45, ip(50), ip(1), 53, size, 3 * size)));
        }
        for k in 0..3i64 {
            let resolver = "8.8.8.8".to_string();
            rows.push(("udp", (t0 + k * 1_000 + 7, ip(50), resolver, 53, 35, 100)));
        }
        for host in 60..64u32 {
            for k in 0..10i64 {
                rows.push((
                    "udp",
                    (t0 + k * 360 + i64::from(host), ip(host), ip(1), 53, 35, 100),
                ));
            }
        }
    }
    rows.sort_by_key(|r| r.1 .0);
    rows
}

#[test]
fn a_devices_varied_lookups_through_its_router_are_no_tunnel() {
    let config = flowhound::config::Config::from_toml(detect_support::CONFIG, "t").unwrap();
    let found = detect_support::csv_self_run(&home_dns(false), &config, &["dns_anomaly"]);
    assert!(found.iter().all(|f| f.kind != "dns_tunnel"), "{found:#?}");
    let long = detect_support::csv_self_run(&home_dns(true), &config, &["dns_anomaly"]);
    let kinds: Vec<(&str, &str)> = long
        .iter()
        .map(|f| (f.kind.as_str(), f.hosts[0].as_str()))
        .collect();
    assert_eq!(kinds, [("dns_tunnel", "192.168.1.50")], "{long:#?}");
}

/// Twelve hours of a busy LAN client (10.0.0.12: 4,000 lookups of 60 B an hour) and nine quiet ones
/// (40 an hour) through the resolver 10.0.0.53, which forwards 1,000 queries of 60 B an hour to
/// 8.8.8.8. With `tunnel`, the busy client sends 7,000 queries of 180 B an hour through the resolver
/// in hours 5 and 6, and the resolver forwards them.
fn busy_lan_dns(day: i64, tunnel: bool) -> Vec<(&'static str, detect_support::Row)> {
    let ip = |last: u32| format!("10.0.0.{last}");
    let mut rows = Vec::new();
    let mut add = |n: i64, h: i64, src: String, dst: String, size: u64, offset: i64| {
        for k in 0..n {
            let ts = day + h * 3_600 + k * 3_600 / n + offset;
            rows.push(("udp", (ts, src.clone(), dst.clone(), 53, size, 2 * size)));
        }
    };
    for h in 0..12i64 {
        for host in 10..20u32 {
            let n = if host == 12 { 4_000 } else { 40 };
            add(n, h, ip(host), ip(53), 60, i64::from(host));
        }
        add(1_000, h, ip(53), "8.8.8.8".into(), 60, 1);
        if tunnel && (5..7).contains(&h) {
            add(7_000, h, ip(12), ip(53), 180, 2);
            add(7_000, h, ip(53), "8.8.8.8".into(), 180, 3);
        }
    }
    rows.sort_by_key(|r| r.1 .0);
    rows
}

/// The tunnel's hours hold 2.75 times the client's usual lookups with a mean query of 2.3 times the
/// typical one: its thousands of ordinary lookups halve what the tunnel's own queries show (3 times
/// the typical size). Judged beyond its usual lookups, the client is a `dns_tunnel` at medium or
/// above; the resolver, which relays it (2.2 times its usual forwarding), is not reported above low
/// (the client is named in its own finding). The same day without the tunnel: nothing.
#[test]
fn a_tunnel_through_a_busy_clients_resolver_is_measured_beyond_its_usual_lookups() {
    let config = flowhound::config::Config::from_toml(detect_support::CONFIG, "t").unwrap();
    let normal = busy_lan_dns(1_700_006_400, false);
    let day = 1_700_092_800;
    let run = |tunnel| {
        detect_support::csv_run(
            &normal,
            &busy_lan_dns(day, tunnel),
            &config,
            &["dns_anomaly"],
        )
    };
    let found = run(true);
    let client = found.iter().find(|f| f.hosts == ["10.0.0.12"]).unwrap();
    assert_eq!(client.kind, "dns_tunnel");
    assert!(client.score >= 0.4, "{client:#?}");
    assert!(
        client
            .evidence
            .explanation
            .contains("beyond its usual lookups"),
        "{}",
        client.evidence.explanation
    );
    let resolver = found.iter().filter(|f| f.hosts == ["10.0.0.53"]);
    assert!(resolver.clone().all(|f| f.score < 0.4), "{found:#?}");
    assert!(run(false).is_empty(), "{:#?}", run(false));
}
