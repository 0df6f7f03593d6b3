//! `port_scan` on real captures (skipped when ../shared/testdata is absent): the nmap capture's scanner
//! 172.16.1.11 is found with every detector running, and the Slips horizontal and vertical scan logs are
//! classified as such. The ground truth is the capture authors' (README of the data set).

mod common;
use common::testdata;

use flowhound::baseline::learn;
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::{run, DetectCtx};
use flowhound::findings::Finding;
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::InternalNets;
use flowhound_geo::GeoStack;

/// Analyses one capture alone (self-learned baseline) with the given detectors (all when empty).
fn analyse(rel: &str, detectors: &[&str]) -> Option<Vec<Finding>> {
    let path = testdata(module_path!())?.join(rel);
    let batches = read_all(&[path.display().to_string()], &ReadOptions::default())
        .unwrap()
        .0;
    let flows = Flows::from_batches(&batches).unwrap();
    let (nets, geo, config) = (
        InternalNets::default(),
        GeoStack::from_options(&[], &[], true).unwrap(),
        Config::default(),
    );
    let baseline = learn(&flows, &nets, &geo, &config.baseline, vec![], true).unwrap();
    let ctx = DetectCtx::new(&batches, &flows, &baseline, &geo, &nets, &config);
    let names: Vec<String> = if detectors.is_empty() {
        config.analysis.detectors.clone()
    } else {
        detectors.iter().map(|s| s.to_string()).collect()
    };
    Some(run(&ctx, &names).unwrap())
}

fn scans(findings: &[Finding]) -> Vec<&Finding> {
    findings.iter().filter(|f| f.kind == "port_scan").collect()
}

#[test]
fn nmap_scanner_is_found() {
    let Some(all) = analyse("zeek/strato-002-nmap-portscans/conn.log", &[]) else {
        return;
    };
    let s = scans(&all);
    for f in &s {
        println!(
            "{} {:.3} {:?} {}",
            f.id, f.score, f.hosts, f.evidence.explanation
        );
    }
    let f = s
        .iter()
        .find(|f| f.hosts == ["172.16.1.11"])
        .expect("a port_scan finding for 172.16.1.11");
    assert!(
        f.severity >= flowhound::findings::Severity::High,
        "{:?}",
        f.severity
    );
    assert!(f.evidence.details["targets_count"].as_u64().unwrap() >= 20);
    assert!(f.evidence.details["ports_count"].as_u64().unwrap() >= 100);
    assert_eq!(s.len(), 1, "only the scanner");
}

#[test]
fn slips_horizontal_scan_is_horizontal() {
    let Some(all) = analyse("zeek/slips-port-scans/horizontal-conn.log", &["port_scan"]) else {
        return;
    };
    let s = scans(&all);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(s[0].hosts, ["10.0.2.112"]);
    assert_eq!(
        s[0].evidence.details["scan_type"], "horizontal",
        "{}",
        s[0].evidence.explanation
    );
    assert_eq!(s[0].evidence.details["top_horizontal_port"], "80/tcp");
}

#[test]
fn slips_vertical_scan_is_vertical() {
    let Some(all) = analyse("zeek/slips-port-scans/vertical-conn.log", &["port_scan"]) else {
        return;
    };
    let s = scans(&all);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(s[0].hosts, ["192.168.1.9"]);
    assert_eq!(
        s[0].evidence.details["scan_type"], "vertical",
        "{}",
        s[0].evidence.explanation
    );
    assert_eq!(s[0].evidence.details["top_vertical_target"], "45.33.32.156");
}

mod detect_support;
use detect_support::{csv_run, Row};

/// A day of a small LAN: 30 workstations (10.0.0.10-39) using the file server and the web, and a
/// monitoring server (10.0.0.2) polling them and 40 switched-off addresses (10.0.0.100-139, no answer)
/// every 5 minutes. `day` is the day's first second.
fn lan_day(day: i64) -> Vec<Row> {
    let ip = |last: u32| format!("10.0.0.{last}");
    let mut rows: Vec<Row> = Vec::new();
    for t in (0..8 * 3600).step_by(300).map(|s| day + s) {
        for h in 10..40 {
            rows.push((t + i64::from(h), ip(h), ip(5), 445, 900, 20_000));
            rows.push((t + 60, ip(h), "93.184.216.34".into(), 443, 1_500, 40_000));
            rows.push((t + 1, ip(2), ip(h), 9100, 80, 300));
        }
        for h in 100..140 {
            rows.push((t + 2, ip(2), ip(h), 9100, 60, 0));
        }
    }
    rows
}

#[test]
fn a_slow_internal_scan_is_found_over_the_hour_not_the_poller_nor_a_few_failures() {
    let normal = lan_day(1_700_006_400);
    let day = 1_700_092_800;
    let mut test = lan_day(day);
    // 10.0.0.20 probes tcp/445 on 10.0.1.1-160, one address every 45 s (6-7 a 5-minute window),
    // nothing answers; 10.0.0.21 fails to reach 3 peers on tcp/7680 in the same hours
    for k in 0..160u32 {
        let t = day + 3_600 + 45 * i64::from(k);
        test.push((
            t,
            "10.0.0.20".into(),
            format!("10.0.1.{}", k + 1),
            445,
            66,
            0,
        ));
    }
    for k in 0..3u32 {
        let t = day + 4_000 + 600 * i64::from(k);
        test.push((
            t,
            "10.0.0.21".into(),
            format!("10.0.0.{}", 30 + k),
            7680,
            66,
            0,
        ));
    }
    let config = |extra: &str| {
        let text = format!("{}[detectors.port_scan]\n{extra}", detect_support::CONFIG);
        flowhound::config::Config::from_toml(&text, "test").unwrap()
    };
    let found = csv_run(&normal, &test, &config(""), &["port_scan"]);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.hosts, ["10.0.0.20"]);
    let e = &f.evidence.explanation;
    assert!(
        e.contains("slow horizontal port scan") && e.contains("3600 s window"),
        "{e}"
    );
    assert_eq!(f.evidence.details["slow"], true);
    assert!(
        f.severity >= flowhound::findings::Severity::Medium,
        "{f:#?}"
    );
    // 80 unanswered probes in the busiest hour (and its file server on tcp/445, established: 0.1)
    // against a floor of 20
    let h = f.evidence.details["horizontal_max"].as_f64().unwrap();
    assert!((h - 80.1).abs() < 1e-6, "{h}");
    // without the slow windows the scan stays under every 5-minute limit
    let off = csv_run(
        &normal,
        &test,
        &config("slow_window_secs = 0\n"),
        &["port_scan"],
    );
    assert!(off.is_empty(), "{off:#?}");
}

/// The network's resolver (clients query it on 53 in the baseline) recursing to 300 authoritative
/// servers in 5 minutes is doing its job when they answer: no scan. The same 300 servers unanswered
/// still add up (0.1 each: 30 weighted hosts against a floor of 10).
#[test]
fn the_resolver_recursing_is_not_a_scan_unless_nothing_answers() {
    let ip = |last: u32| format!("10.0.0.{last}");
    let with_resolver = |day: i64| -> Vec<Row> {
        let mut rows = lan_day(day);
        for t in (0..8 * 3600).step_by(300).map(|s| day + s) {
            for h in 10..40 {
                rows.push((t + 5, ip(h), ip(53), 53, 70, 200));
            }
            for k in 0..5u32 {
                rows.push((t + 6, ip(53), format!("198.51.100.{k}"), 53, 80, 300));
            }
        }
        rows
    };
    let normal = with_resolver(1_700_006_400);
    let day = 1_700_092_800;
    let recursion = |down: u64| -> Vec<Row> {
        let mut test = with_resolver(day);
        test.extend((0..300u32).map(|k| {
            let dst = format!("203.0.{}.{}", k / 200, k % 200 + 1);
            (day + 3_600 + i64::from(k / 2), ip(53), dst, 53, 80, down)
        }));
        test
    };
    let config = flowhound::config::Config::from_toml(detect_support::CONFIG, "test").unwrap();
    let of_resolver = |found: Vec<Finding>| -> Vec<Finding> {
        found.into_iter().filter(|f| f.hosts == [ip(53)]).collect()
    };
    let answered = of_resolver(csv_run(&normal, &recursion(300), &config, &["port_scan"]));
    assert!(answered.is_empty(), "{answered:#?}");
    let unanswered = of_resolver(csv_run(&normal, &recursion(0), &config, &["port_scan"]));
    assert_eq!(unanswered.len(), 1, "{unanswered:#?}");
    let h = unanswered[0].evidence.details["horizontal_max"]
        .as_f64()
        .unwrap();
    assert!((h - 30.0).abs() < 1e-6, "{h}");
}

/// Four bots sweeping tcp/139 over the same 200 addresses (refused or unanswered) are scanners, not a
/// botnet of 204 members; three hosts trading data on tcp/6881 every 10 minutes are a coordinated set.
/// With one-way records (nothing ever answered) pairs cannot be told apart and all count.
#[test]
fn several_bots_sweeping_a_port_are_no_botnet_but_hosts_trading_data_are() {
    let ip = |last: u32| format!("10.0.0.{last}");
    let day = 1_700_092_800;
    let test = |answers: bool| -> Vec<Row> {
        let mut rows = lan_day(day);
        for (b, bot) in (60..64u32).enumerate() {
            for k in 0..200u32 {
                let down = if answers && k % 2 == 0 { 62 } else { 0 };
                let t = day + 3_600 + 30 * b as i64 + i64::from(k);
                rows.push((t, ip(bot), format!("10.0.2.{}", k + 1), 139, 60, down));
            }
        }
        for t in (0..6 * 3600).step_by(600).map(|s| day + 3_600 + s) {
            for (a, b) in [(70, 71), (71, 72), (72, 70)] {
                let down = if answers { 300 } else { 0 };
                rows.push((t + i64::from(a - 70), ip(a), ip(b), 6881, 400, down));
            }
        }
        rows
    };
    let talkers = vec![ip(70), ip(71), ip(72)];
    assert_eq!(botnet_sets(&test(true)), vec![talkers.clone()]);
    let one_way = botnet_sets(&test(false));
    assert!(one_way.contains(&talkers), "{one_way:?}");
}

/// The members (sorted) of each `botnet` set found in `test` against a baseline of an ordinary LAN day.
fn botnet_sets(test: &[Row]) -> Vec<Vec<String>> {
    botnet_sets_after(&lan_day(1_700_006_400), test)
}

/// The member sets (sorted) `botnet` finds in `test` against a baseline of `normal`.
fn botnet_sets_after(normal: &[Row], test: &[Row]) -> Vec<Vec<String>> {
    let config = flowhound::config::Config::from_toml(detect_support::CONFIG, "test").unwrap();
    let mut out: Vec<Vec<String>> = csv_run(normal, test, &config, &["botnet"])
        .into_iter()
        .map(|f| f.hosts)
        .collect();
    out.iter_mut().for_each(|h| h.sort());
    out
}

/// Windows Delivery Optimization: eight workstations fetch update pieces from a few new neighbours
/// each on tcp/7680, a flow or two per pair, never together. On the LAN's everyday peer-to-peer port
/// that is no botnet; the same sparse pattern on a port nothing on the network uses still counts as
/// one (the port is then the evidence).
#[test]
fn update_peers_on_delivery_optimization_are_no_botnet() {
    let ip = |last: u32| format!("10.0.0.{last}");
    let day = 1_700_092_800;
    let test = |port: u16| -> Vec<Row> {
        let mut rows = lan_day(day);
        let pairs = [
            (80, 81),
            (80, 82),
            (81, 83),
            (82, 84),
            (83, 85),
            (84, 86),
            (85, 87),
            (86, 80),
            (87, 81),
        ];
        for (k, (a, b)) in pairs.iter().enumerate() {
            let t = day + 2 * 3_600 + 1_800 * k as i64;
            rows.push((t, ip(*a), ip(*b), port, 3_000, 4_000_000));
            if k % 2 == 0 {
                rows.push((t + 900, ip(*b), ip(*a), port, 2_000, 900_000));
            }
        }
        rows.sort();
        rows
    };
    assert_eq!(botnet_sets(&test(7680)), Vec::<Vec<String>>::new());
    let unusual = botnet_sets(&test(31_337));
    assert_eq!(unusual.len(), 1, "{unusual:?}");
    assert_eq!(unusual[0].len(), 8, "{unusual:?}");
}

/// A laptop that sent one flow in the normal day and browses as busily as every client in the test
/// day: one flow is no fan-out habit of its own, so its limits are its peers' (100 web servers every
/// 5 minutes), not the minimum counts its near-empty history gave.
#[test]
fn a_host_that_barely_appeared_in_normal_is_judged_against_its_peers() {
    let day = 1_700_006_400;
    let browse = |rows: &mut Vec<Row>, host: &str, start: i64, windows: i64, tiny_every: u32| {
        for w in 0..windows {
            for d in 0..100u32 {
                let t = start + w * 300 + i64::from(d * 2);
                let dst = format!("{}.{}.{}.20", 20 + w % 50, d, 7 + d % 3);
                let (up, down) = if tiny_every > 0 && d % tiny_every == 0 {
                    (60, 60)
                } else {
                    (2_000, 40_000)
                };
                rows.push((t, host.into(), dst, 443, up, down));
            }
        }
    };
    let mut normal = Vec::new();
    for c in 10..20 {
        browse(
            &mut normal,
            &format!("10.0.0.{c}"),
            day + 9 * 3_600 + c,
            24,
            0,
        );
    }
    normal.push((
        day + 10 * 3_600,
        "10.0.0.90".into(),
        "93.184.216.34".into(),
        443,
        900,
        5_000,
    ));
    normal.sort();
    let mut test = Vec::new();
    for c in 10..20 {
        browse(
            &mut test,
            &format!("10.0.0.{c}"),
            day + 86_400 + 9 * 3_600 + c,
            12,
            0,
        );
    }
    // weighted 80 x 0.1 + 20 x 0.25 = 13 hosts on tcp/443 a window, over the floor of 10
    browse(&mut test, "10.0.0.90", day + 86_400 + 9 * 3_600 + 3, 12, 5);
    test.sort();
    let config = flowhound::config::Config::from_toml(detect_support::CONFIG, "test").unwrap();
    let got = csv_run(&normal, &test, &config, &["port_scan"]);
    assert!(!got.iter().any(|f| f.hosts == ["10.0.0.90"]), "{got:#?}");
}

/// `dropper` on a 16-minute capture: a browsing client that met 20 sites and a device that met its
/// cloud both fetch three images-or-binaries from new peers in one minute over HTTP. In 16 minutes 20
/// peers is a browser (the narrow limit is 32 for an hour, its share for less: 8), so only the device's
/// burst is a dropper; with the hour's limit both are.
#[test]
fn in_a_short_capture_a_browsing_client_is_no_narrow_device() {
    let day = 1_700_092_800;
    let t0 = day + 9 * 3600;
    let burst = |host: &str, net: u32| -> Vec<Row> {
        (0..3u32)
            .map(|k| {
                let t = t0 + 300 + 20 * i64::from(k);
                (
                    t,
                    host.to_string(),
                    format!("198.51.{net}.{}", k + 1),
                    80,
                    400,
                    60_000,
                )
            })
            .collect()
    };
    let mut test: Vec<Row> = (0..20u32)
        .map(|k| {
            (
                t0 + 45 * i64::from(k),
                "10.0.0.10".into(),
                format!("203.0.113.{}", k + 1),
                443,
                900,
                2_000,
            )
        })
        .collect();
    test.extend(burst("10.0.0.10", 100));
    test.extend([0, 900].map(|s| {
        (
            t0 + s,
            "10.0.0.11".to_string(),
            "192.0.2.7".to_string(),
            443,
            300,
            500,
        )
    }));
    test.extend(burst("10.0.0.11", 101));
    let normal: Vec<Row> = ["10.0.0.10", "10.0.0.11"]
        .iter()
        .map(|h| {
            (
                day - 86_400 + 9 * 3600,
                h.to_string(),
                "192.0.2.7".to_string(),
                443,
                300,
                500,
            )
        })
        .collect();
    let run = |extra: &str| -> Vec<Vec<String>> {
        let text = format!("{}[detectors.dropper]\n{extra}", detect_support::CONFIG);
        let config = flowhound::config::Config::from_toml(&text, "test").unwrap();
        let mut hosts: Vec<Vec<String>> = csv_run(&normal, &test, &config, &["dropper"])
            .into_iter()
            .map(|f| f.hosts)
            .collect();
        hosts.sort();
        hosts
    };
    assert_eq!(run(""), vec![vec!["10.0.0.11".to_string()]]);
    assert_eq!(
        run("narrow_min_peers_count = 32\n"),
        vec![vec!["10.0.0.10".to_string()], vec!["10.0.0.11".to_string()]]
    );
}

/// `port_scan` alone on a normal and a test day.
fn port_scans(normal: &[Row], test: &[Row]) -> Vec<Finding> {
    let config = flowhound::config::Config::from_toml(detect_support::CONFIG, "test").unwrap();
    csv_run(normal, test, &config, &["port_scan"])
}

/// The scan finding of `host`, asserting its 12 telnet sessions to 12 external hosts as follow-ups.
fn twelve_telnet_follow_ups<'a>(found: &'a [Finding], host: &str) -> &'a Finding {
    let bot = found
        .iter()
        .find(|f| f.hosts == [host])
        .expect("the bot's scan");
    let e = &bot.evidence;
    assert_eq!(e.details["follow_up_sessions"], 12, "{}", e.explanation);
    let text = "12 login sessions with data to 12 external hosts on 23/tcp";
    assert!(e.explanation.contains(text), "{}", e.explanation);
    bot
}

/// A bot scans tcp/23 across the Internet for five minutes, then logs in to telnet on a few external
/// hosts an hour for three hours: those sessions belong to its `port_scan` finding (its span, rows and
/// explanation), so the hours it only brute-forced are blamed too. Its ssh to a cloud server (a
/// service it did not sweep) is not; the same telnet sessions from a host that never scanned, or
/// after a scan of internal hosts only, are no follow-ups.
#[test]
fn a_scanners_logins_between_scans_are_part_of_its_scan() {
    let ip = |last: u32| format!("10.0.0.{last}");
    let normal = lan_day(1_700_006_400);
    let day = 1_700_092_800;
    let mut test = lan_day(day);
    for k in 0..300u32 {
        let ext = format!("45.{}.{}.{}", k % 7 + 60, k / 7, k % 250 + 1);
        test.push((day + 3_600 + i64::from(k), ip(12), ext, 23, 60, 0));
        test.push((
            day + 3_610 + i64::from(k),
            ip(14),
            format!("10.0.{}.{}", k / 200 + 1, k % 200 + 1),
            23,
            60,
            0,
        ));
    }
    for h in 3..6i64 {
        for k in 0..4u32 {
            let ext = |n: u32| format!("81.{}.{}.{}", n, h, k + 1);
            // the bot's own ssh to a cloud server: a login service it did not sweep
            test.push((
                day + h * 3_600 + 900,
                ip(12),
                "52.1.2.3".into(),
                22,
                9_000,
                30_000,
            ));
            for (host, n) in [(12, 10), (13, 20), (14, 30)] {
                test.push((
                    day + h * 3_600 + 60 * i64::from(k),
                    ip(host),
                    ext(n),
                    23,
                    150,
                    400,
                ));
            }
        }
    }
    test.sort_by_key(|r| r.0);
    let found = port_scans(&normal, &test);
    let of = |host: u32| found.iter().find(|f| f.hosts == [ip(host)]);
    let bot = twelve_telnet_follow_ups(&found, &ip(12));
    let hour_5 = flowhound::findings::format_ts((day + 5 * 3_600) * 1_000_000);
    assert!(
        bot.last_seen.as_deref().unwrap() >= hour_5.as_str(),
        "{:?}",
        bot.last_seen
    );
    assert!(of(13).is_none(), "logins alone are no scan: {found:#?}");
    let inside = of(14).expect("the internal scan");
    assert_eq!(inside.evidence.details["follow_up_sessions"], 0);
}

/// A bot sweeps tcp/80 across the Internet for five minutes, then logs in to telnet (a service it
/// never swept) on 12 external hosts, once each, over three hours: a sweep of logins, part of its
/// `port_scan` finding. Its ssh to two cloud servers, 12 sessions, is not; nor are another scanning
/// host's 24 ssh sessions to four servers.
#[test]
fn a_scanners_login_sweep_of_an_unswept_service_is_part_of_its_scan() {
    let ip = |last: u32| format!("10.0.0.{last}");
    let normal = lan_day(1_700_006_400);
    let day = 1_700_092_800;
    let mut test = lan_day(day);
    for k in 0..300u32 {
        for host in [15, 16] {
            let ext = format!("46.{}.{}.{}", host + k % 7, k / 7, k % 250 + 1);
            test.push((day + 3_600 + i64::from(k), ip(host), ext, 80, 60, 0));
        }
    }
    for h in 3..6i64 {
        for k in 0..4u32 {
            let t = day + h * 3_600 + 60 * i64::from(k);
            let victim = format!("82.{h}.{k}.9");
            test.push((t, ip(15), victim, 23, 150, 400));
            let cloud = format!("52.1.2.{}", k % 2 + 1);
            test.push((t + 7, ip(15), cloud, 22, 9_000, 30_000));
            for n in 0..2 {
                let server = format!("52.9.9.{}", k + 1);
                test.push((t + 9 + n, ip(16), server, 22, 9_000, 30_000));
            }
        }
    }
    test.sort_by_key(|r| r.0);
    let found = port_scans(&normal, &test);
    let of = |host: u32| found.iter().find(|f| f.hosts == [ip(host)]);
    twelve_telnet_follow_ups(&found, &ip(15));
    let other = of(16).expect("the other scan");
    assert_eq!(other.evidence.details["follow_up_sessions"], 0);
}

/// A LAN day where workstations 10-19 use a domain controller's (10.0.0.5) MS-RPC service: the endpoint
/// mapper on tcp/135 (with `mapper`) and the dynamic port it names, tcp/49668, every 10 minutes; `new`
/// hosts (absent from the LAN day: laptops back from travel) do the same.
fn rpc_day(day: i64, mapper: bool, new: &[u32]) -> Vec<Row> {
    let ip = |last: u32| format!("10.0.0.{last}");
    let mut rows = lan_day(day);
    for t in (0..8 * 3600).step_by(600).map(|s| day + s) {
        for h in (10..20).chain(new.iter().copied()) {
            if mapper {
                rows.push((t + 30, ip(h), ip(5), 135, 800, 600));
            }
            rows.push((t + 31, ip(h), ip(5), 49_668, 1_500, 2_500));
        }
    }
    rows.sort();
    rows
}

/// Two workstations new to a domain controller's dynamic RPC port are its clients, not a botnet with
/// it: a dynamic port of a known endpoint-mapper server is that server's service. Without the mapper
/// in the baseline, the same new pairs make a set.
#[test]
fn new_clients_of_a_domain_controllers_rpc_port_are_no_botnet() {
    let (normal_day, day) = (1_700_006_400, 1_700_092_800);
    let sets = |mapper: bool| {
        let test = rpc_day(day, mapper, &[50, 51]);
        botnet_sets_after(&rpc_day(normal_day, mapper, &[]), &test)
    };
    assert_eq!(sets(true), Vec::<Vec<String>>::new());
    let without = sets(false);
    assert_eq!(
        without,
        vec![vec!["10.0.0.5", "10.0.0.50", "10.0.0.51"]],
        "{without:?}"
    );
}

/// A LAN day where workstations 10-19 query two domain controllers' LDAP (tcp/389: 10.0.0.5 and
/// 10.0.0.6) every 10 minutes, and, with `replicate`, the controllers replicate to each other over
/// the same port; `new` hosts (absent from the normal day) query 10.0.0.5 too.
fn ldap_day(day: i64, replicate: bool, new: &[u32]) -> Vec<Row> {
    let ip = |last: u32| format!("10.0.0.{last}");
    let mut rows = lan_day(day);
    for t in (0..8 * 3600).step_by(600).map(|s| day + s) {
        for h in 10..20u32 {
            rows.push((t + 20, ip(h), ip(5 + h % 2), 389, 700, 1_900));
        }
        for h in new {
            rows.push((t + 30, ip(*h), ip(5), 389, 700, 1_900));
        }
        if replicate {
            rows.push((t + 40, ip(5), ip(6), 389, 30_000, 20_000));
            rows.push((t + 41, ip(6), ip(5), 389, 30_000, 20_000));
        }
    }
    rows.sort();
    rows
}

/// Two domain controllers replicating over the LDAP port they serve, as they did in the normal day,
/// do not make their service peer-to-peer: two workstations new on the test day are their clients,
/// not a botnet with them. When the replication is itself new on the test day, the service is
/// peer-to-peer there and the new pairs make a set.
#[test]
fn domain_controllers_replicating_as_in_the_baseline_keep_their_clients_out_of_sets() {
    let (normal_day, day) = (1_700_006_400, 1_700_092_800);
    let sets = |in_normal: bool| {
        let test = ldap_day(day, true, &[50, 51]);
        botnet_sets_after(&ldap_day(normal_day, in_normal, &[]), &test)
    };
    assert_eq!(sets(true), Vec::<Vec<String>>::new());
    let new = sets(false);
    assert!(
        new.iter().any(|s| ["10.0.0.5", "10.0.0.50", "10.0.0.51"]
            .iter()
            .all(|h| s.iter().any(|m| m == h))),
        "{new:?}"
    );
}
