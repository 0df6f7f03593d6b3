//! `inbound_attack`: built flows (a crowd of scanners and brute forcers against one host, a public
//! server's ordinary clients, a baseline that already held the same crowd) and the real CTU-Normal-40
//! capture (a Windows PC on a public address scanned from the Internet, `External-Attack-to-Device`),
//! whose hostile sources are counted from the raw log, not through flowhound. Real captures are
//! skipped when `../shared/testdata` is absent.

mod common;

use common::testdata;
use flowhound::baseline::{learn, Baseline};
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::{run, DetectCtx};
use flowhound::findings::{Finding, Severity};
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::ip;
use flowhound::net::{Cidr, InternalNets};
use flowhound::schema::Proto;
use flowhound_geo::GeoStack;
use std::collections::BTreeMap;

const HOUR: i64 = 3_600_000_000;

/// Flows as columns: (ts, src, dst, proto, port, up, down).
fn flows(rows: &[(i64, String, String, Proto, u16, u64, u64)]) -> Flows {
    let mut f = Flows::default();
    for (ts, s, d, p, port, up, down) in rows {
        f.ts.push(*ts);
        f.src.push(ip::parse(s).unwrap());
        f.dst.push(ip::parse(d).unwrap());
        f.proto.push(*p);
        f.dst_port.push(*port);
        f.up.push(*up);
        f.down.push(*down);
    }
    f
}

type Rows = Vec<(i64, String, String, Proto, u16, u64, u64)>;

/// `n` scanners probing `target` in hour `h` (failed SYNs on a few ports), sources from `base`.
fn scanners(rows: &mut Rows, target: &str, h: i64, n: u32, base: u32) {
    for s in 0..n {
        let src = ip::format(ip::v4_to_u128(base + s * 7919));
        for (k, port) in [23u16, 445, 3389].iter().enumerate() {
            rows.push((
                h * HOUR + (s as i64) * 1000 + k as i64,
                src.clone(),
                target.into(),
                Proto::Tcp,
                *port,
                0,
                0,
            ));
        }
    }
}

/// `n` ordinary web clients of `target` in hour `h`.
fn clients(rows: &mut Rows, target: &str, h: i64, n: u32, base: u32) {
    for s in 0..n {
        let src = ip::format(ip::v4_to_u128(base + s * 104_729));
        rows.push((
            h * HOUR + s as i64,
            src,
            target.into(),
            Proto::Tcp,
            443,
            1200,
            40_000,
        ));
    }
}

fn detect(test: &Flows, baseline: &Baseline) -> Vec<Finding> {
    let nets = InternalNets::default();
    let config = Config::default();
    let geo = GeoStack::new();
    let ctx = DetectCtx::new(&[], test, baseline, &geo, &nets, &config);
    run(&ctx, &["inbound_attack".to_string()]).unwrap()
}

fn self_learned(f: &Flows) -> Baseline {
    let nets = InternalNets::default();
    learn(
        f,
        &nets,
        &GeoStack::new(),
        &Config::default().baseline,
        vec![],
        true,
    )
    .unwrap()
}

/// The one finding of `test` on a baseline learned from it, which must be on `target`.
fn one_self_learned_finding(test: &Flows, target: &str) -> Finding {
    let got = detect(test, &self_learned(test));
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].hosts, [target]);
    got[0].clone()
}

/// Asserts that `test` gives nothing with `setting` in `[detectors.inbound_attack]`.
fn nothing_with(test: &Flows, setting: &str) {
    let text = format!("[detectors.inbound_attack]\n{setting}\n");
    let config = Config::from_toml(&text, "t").unwrap();
    let (nets, geo) = (InternalNets::default(), GeoStack::new());
    let baseline = self_learned(test);
    let ctx = DetectCtx::new(&[], test, &baseline, &geo, &nets, &config);
    let without = run(&ctx, &["inbound_attack".to_string()]).unwrap();
    assert!(without.is_empty(), "{without:#?}");
}

#[test]
fn one_finding_per_target_with_its_top_sources() {
    let mut rows = Rows::new();
    for h in 0..6 {
        scanners(
            &mut rows,
            "192.168.1.5",
            h,
            30,
            0x2d00_0000 + h as u32 * 100_003,
        );
        clients(&mut rows, "192.168.1.80", h, 400, 0x5000_0000);
    }
    // one persistent brute forcer against ssh with answers (a live login), 40 attempts in hour 2
    for k in 0..40 {
        rows.push((
            2 * HOUR + 5000 + k,
            "91.1.2.3".into(),
            "192.168.1.5".into(),
            Proto::Tcp,
            22,
            900,
            1500,
        ));
    }
    // the web server's background: 5 scanners of its closed ports every hour, and in hour 4, 30
    // sources whose connections to its served port fail (a flaky network, no scan)
    for h in 0..6 {
        scanners(
            &mut rows,
            "192.168.1.80",
            h,
            5,
            0x3300_0000 + h as u32 * 100_003,
        );
    }
    for s in 0..30u32 {
        let src = ip::format(ip::v4_to_u128(0x3400_0000 + s * 7919));
        rows.push((
            4 * HOUR + s as i64,
            src,
            "192.168.1.80".into(),
            Proto::Tcp,
            443,
            0,
            0,
        ));
    }
    let f = flows(&rows);
    let got = detect(&f, &self_learned(&f));
    assert_eq!(got.len(), 1, "{got:#?}");
    let a = &got[0];
    assert_eq!(
        (a.kind.as_str(), a.hosts.clone()),
        ("inbound_attack", vec!["192.168.1.5".to_string()])
    );
    assert_eq!(a.peers[0], "91.1.2.3", "the busiest source first");
    assert_eq!(a.evidence.details["sources_count"], 181);
    assert_eq!(a.evidence.details["live_brute_sources"], 1);
    assert_eq!(a.evidence.threshold, Some(10.0));
    assert!(a.severity >= Severity::Medium, "{a:#?}");
    // a scan of the web server's closed ports by 60 sources in hour 3: far below its 400 clients an
    // hour, twelve times its usual 5 scanners
    scanners(&mut rows, "192.168.1.80", 3, 60, 0x3500_0000);
    let f = flows(&rows);
    let got = detect(&f, &self_learned(&f));
    let web: Vec<&Finding> = got
        .iter()
        .filter(|g| g.hosts[0] == "192.168.1.80")
        .collect();
    assert_eq!(web.len(), 1, "{got:#?}");
    assert_eq!(web[0].evidence.details["sources_count"], 65);
    assert_eq!(
        web[0].evidence.details["max_scanners_of_unserved_ports"],
        65
    );
    assert_eq!(web[0].evidence.details["scanners_threshold"], 20.0);
    assert!(web[0]
        .evidence
        .explanation
        .contains("ports it serves nobody"));
    assert!(web[0].severity >= Severity::Medium, "{:#?}", web[0]);
}

#[test]
fn a_crowd_as_large_as_in_the_baseline_is_not_reported() {
    let (mut normal, mut test) = (Rows::new(), Rows::new());
    for h in 0..24 {
        scanners(
            &mut normal,
            "192.168.1.5",
            h,
            30,
            0x2d00_0000 + h as u32 * 100_003,
        );
    }
    for h in 0..6 {
        scanners(
            &mut test,
            "192.168.1.5",
            100 + h,
            30,
            0x2e00_0000 + h as u32 * 100_003,
        );
    }
    let nets = InternalNets::default();
    let nf = flows(&normal);
    let baseline = learn(
        &nf,
        &nets,
        &GeoStack::new(),
        &Config::default().baseline,
        vec![],
        false,
    )
    .unwrap();
    let tf = flows(&test);
    assert!(detect(&tf, &baseline).is_empty(), "30 per hour, as usual");
    // ten times the usual crowd is an attack
    let mut big = Rows::new();
    scanners(&mut big, "192.168.1.5", 100, 300, 0x2f00_0000);
    let got = detect(&flows(&big), &baseline);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].evidence.baseline, Some(30.0));
    assert_eq!(got[0].evidence.threshold, Some(120.0));
}

/// A login attempt (a session with data back) of `src` on `target`'s ssh at `ts`.
fn attempt(rows: &mut Rows, ts: i64, src: u32, target: &str) {
    let src = ip::format(ip::v4_to_u128(src));
    rows.push((ts, src, target.into(), Proto::Tcp, 22, 2200, 2900));
}

/// Two days of an exposed host: 150 web clients an hour, and on its ssh the Internet's background
/// (3 one-off handshakes and one guesser trying twice, every hour); with `crowd`, 40 sources trying
/// twice an hour each for hours 30-36.
fn exposed_ssh(crowd: bool) -> Rows {
    let target = "192.168.1.22";
    let mut rows = Rows::new();
    for h in 0..48i64 {
        clients(&mut rows, target, h, 150, 0x5000_0000);
        for k in 0..3 {
            attempt(
                &mut rows,
                h * HOUR + 1000 * k,
                0x2d00_0000 + (h * 3 + k) as u32 * 7919,
                target,
            );
        }
        for k in 0..2 {
            attempt(
                &mut rows,
                h * HOUR + 9000 + 600_000_000 * k,
                0x2e00_0000 + h as u32,
                target,
            );
        }
        if crowd && (30..37).contains(&h) {
            for s in 0..40u32 {
                for k in 0..2 {
                    let ts = h * HOUR + (s as i64 + 1) * 50_000_000 + k * 30_000_000;
                    attempt(&mut rows, ts, 0x5b00_0000 + s * 104_729, target);
                }
            }
        }
    }
    rows.sort_by_key(|r| r.0);
    rows
}

/// A slow distributed brute force: 40 sources at two attempts an hour each, under every per-source
/// bar and far under the host's level of web clients, are a crowd on its ssh against the steady
/// background of guessers; without the crowd, or with `crowd_services` emptied, nothing.
#[test]
fn a_slow_distributed_brute_force_is_a_crowd_on_its_login() {
    let attacked = flows(&exposed_ssh(true));
    let f = &one_self_learned_finding(&attacked, "192.168.1.22");
    let crowd: Vec<String> = (0..40u32)
        .map(|s| ip::format(ip::v4_to_u128(0x5b00_0000 + s * 104_729)))
        .collect();
    let guessers: Vec<String> = (30..37u32)
        .map(|h| ip::format(ip::v4_to_u128(0x2e00_0000 + h)))
        .collect();
    let named = |p: &String| crowd.contains(p) || guessers.contains(p);
    assert!(
        !f.peers.is_empty() && f.peers.iter().all(named),
        "{:?}",
        f.peers
    );
    // the crowd and the guesser of each of its hours; the one-off handshakes are no attempt series
    assert_eq!(f.evidence.details["sources_count"], 47);
    assert_eq!(f.evidence.details["windows"], 7);
    assert_eq!(f.evidence.details["max_crowd_sources"], 41); // the crowd and that hour's guesser
    assert!(
        f.evidence
            .explanation
            .contains("41 sources attempting logins on 22/tcp"),
        "{}",
        f.evidence.explanation
    );
    assert!(f.severity >= Severity::Medium, "{f:#?}");
    let quiet = flows(&exposed_ssh(false));
    assert!(detect(&quiet, &self_learned(&quiet)).is_empty());
    nothing_with(&attacked, "crowd_services = []");
}

/// Two days of an exposed host: 150 web clients an hour; on its ssh, every hour, two background
/// guessers of the Internet making 8 attempts each for one or two hours; a backup job's two sources
/// logging in 6 times an hour all the time (the service's routine); with `slow`, 3 sources guessing
/// 20 times an hour each for hours 20-29.
fn slow_guessers(slow: bool) -> Rows {
    let target = "192.168.1.22";
    let mut rows = Rows::new();
    for h in 0..48i64 {
        clients(&mut rows, target, h, 150, 0x5000_0000);
        for g in 0..2u32 {
            // guesser g of hour h, and the second hour of the odd ones
            let own = 0x2d00_0000 + (h as u32 * 2 + g) * 7919;
            let last = 0x2d00_0000 + ((h as u32).saturating_sub(1) * 2 + g) * 7919;
            let src = if h > 0 && g == 1 && h % 2 == 1 {
                last
            } else {
                own
            };
            for k in 0..8 {
                attempt(
                    &mut rows,
                    h * HOUR + (g as i64 * 8 + k) * 200_000_000,
                    src,
                    target,
                );
            }
        }
        for b in 0..2u32 {
            for k in 0..6 {
                attempt(
                    &mut rows,
                    h * HOUR + k * 600_000_000 + b as i64,
                    0x5e10_2000 + b,
                    target,
                );
            }
        }
        if slow && (20..30).contains(&h) {
            for s in 0..3u32 {
                for k in 0..20 {
                    let ts = h * HOUR + k * 180_000_000 + s as i64 * 1_000_000;
                    attempt(&mut rows, ts, 0x5b00_0000 + s * 104_729, target);
                }
            }
        }
    }
    rows.sort_by_key(|r| r.0);
    rows
}

/// A slow brute force: 3 sources guessing 20 times an hour each for 10 hours stay under every
/// per-window bar (the background's 2 guessers an hour at 8 attempts, the host's 150 web clients),
/// but no background guesser keeps at it for hours: they are an attack on the ssh. The backup job's
/// sources, at it all the time, are the service's routine; without the slow guessers, or with
/// `persistent_sources_count` above them, nothing.
#[test]
fn sources_guessing_for_hours_are_a_slow_brute_force() {
    let attacked = flows(&slow_guessers(true));
    let f = &one_self_learned_finding(&attacked, "192.168.1.22");
    let slow: Vec<String> = (0..3u32)
        .map(|s| ip::format(ip::v4_to_u128(0x5b00_0000 + s * 104_729)))
        .collect();
    assert_eq!(&f.peers[..3], &slow[..], "{:?}", f.peers);
    assert_eq!(f.evidence.details["windows"], 10);
    assert_eq!(f.evidence.details["max_persistent_sources"], 3);
    assert!(
        f.evidence
            .explanation
            .contains("3 sources guessing logins on 22/tcp for hours"),
        "{}",
        f.evidence.explanation
    );
    assert!(f.severity >= Severity::Medium, "{f:#?}");
    let quiet = flows(&slow_guessers(false));
    assert!(detect(&quiet, &self_learned(&quiet)).is_empty());
    nothing_with(&attacked, "persistent_sources_count = 4");
}

/// Two days of a mail server: 100 web clients an hour; 50 mail users whose clients poll IMAP (993) 6
/// times an hour all the time (hostile by the brute-force rule: five logins a window); 10 background
/// scanners of random closed ports an hour; with `scan`, 60 more scanners an hour in hours 30-32.
fn mail_server(scan: bool) -> Rows {
    let target = "192.168.1.25";
    let mut rows = Rows::new();
    let probe = |rows: &mut Rows, ts: i64, src: u32, port: u16| {
        let src = ip::format(ip::v4_to_u128(src));
        rows.push((ts, src, target.into(), Proto::Tcp, port, 60, 0));
    };
    for h in 0..48i64 {
        clients(&mut rows, target, h, 100, 0x5000_0000);
        for u in 0..50u32 {
            let src = ip::format(ip::v4_to_u128(0x5f00_0000 + u * 7919));
            for k in 0..6 {
                let ts = h * HOUR + k * 600_000_000 + i64::from(u) * 1_000;
                rows.push((
                    ts,
                    src.clone(),
                    target.into(),
                    Proto::Tcp,
                    993,
                    2_000,
                    30_000,
                ));
            }
        }
        let scanners = if scan && (30..33).contains(&h) {
            70
        } else {
            10
        };
        for s in 0..scanners {
            let src = 0x2d00_0000 + (h as u32 * 100 + s) * 7919;
            for k in 0..3u16 {
                let port = 20_000 + ((h as u32 * 100 + s) * 37 % 9_000) as u16 + k;
                probe(
                    &mut rows,
                    h * HOUR + i64::from(s) * 10_000_000 + i64::from(k),
                    src,
                    port,
                );
            }
        }
    }
    rows.sort_by_key(|r| r.0);
    rows
}

/// A crowd scanning a mail server's closed ports is judged against the Internet's background of
/// such scanners, not against its IMAP users: they poll all day, five logins an hour or more, and are
/// hostile by the brute-force rule, but their port answers, so it is no closed port. Without the
/// crowd, nothing.
#[test]
fn a_mail_servers_pollers_do_not_hide_a_scan_of_its_closed_ports() {
    let attacked = flows(&mail_server(true));
    let f = &one_self_learned_finding(&attacked, "192.168.1.25");
    assert_eq!(
        f.evidence.details["windows"], 3,
        "{}",
        f.evidence.explanation
    );
    assert_eq!(f.evidence.details["max_scanners_of_unserved_ports"], 70);
    let quiet = flows(&mail_server(false));
    assert!(detect(&quiet, &self_learned(&quiet)).is_empty());
}

/// Rows of a labelled Zeek TSV log as (field -> value) maps.
fn zeek_rows(path: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut fields: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("#fields\t") {
            fields = h.split('\t').map(String::from).collect();
        } else if !line.starts_with('#') && !line.is_empty() {
            out.push(
                fields
                    .iter()
                    .cloned()
                    .zip(line.split('\t').map(String::from))
                    .collect(),
            );
        }
    }
    out
}

fn analyze(path: &str, nets: &InternalNets) -> Vec<Finding> {
    let batches = read_all(&[path.to_string()], &ReadOptions::default())
        .unwrap()
        .0;
    let flows = Flows::from_batches(&batches).unwrap();
    let geo = GeoStack::new();
    let config = Config::default();
    let baseline = learn(
        &flows,
        nets,
        &geo,
        &config.baseline,
        vec![path.into()],
        true,
    )
    .unwrap();
    let ctx = DetectCtx::new(&batches, &flows, &baseline, &geo, nets, &config);
    run(&ctx, &["inbound_attack".to_string()]).unwrap()
}

#[test]
fn ctu_normal_40_gives_one_finding_on_the_attacked_pc() {
    let Some(dir) = testdata("ctu_normal_40") else {
        return;
    };
    let path = dir.join("zeek/strato-008-ctu-normal-40/conn.log.labeled");
    let path = path.display().to_string();
    let host = "147.32.81.167";
    // the oracle: Malicious flows towards the host, by source, from the raw log
    let mut by_src: BTreeMap<String, u64> = BTreeMap::new();
    for r in zeek_rows(&path) {
        if r["label"] == "Malicious" && r["id.resp_h"] == host {
            *by_src.entry(r["id.orig_h"].clone()).or_default() += 1;
        }
    }
    let mut top: Vec<(&String, &u64)> = by_src.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let nets = InternalNets::new(vec![Cidr::parse(&format!("{host}/32")).unwrap()]);
    let got = analyze(&path, &nets);
    eprintln!("{got:#?}");
    assert_eq!(got.len(), 1, "one finding for the one target");
    let f = &got[0];
    assert_eq!(f.hosts, [host]);
    assert!(
        f.severity >= Severity::Medium,
        "shown in the default table: {:?}",
        f.severity
    );
    assert_eq!(f.peers[0], *top[0].0, "the busiest attacker first");
    let named: Vec<&String> = top.iter().take(5).map(|t| t.0).collect();
    let hits = named.iter().filter(|s| f.peers.contains(s)).count();
    assert!(hits >= 4, "top sources named: {named:?} vs {:?}", f.peers);
    let n = f.evidence.details["sources_count"].as_u64().unwrap();
    assert!(
        n as f64 >= 0.8 * by_src.len() as f64,
        "{n} of {} attackers",
        by_src.len()
    );
}

#[test]
fn outbound_scans_are_not_inbound_attacks() {
    for c in [
        "zeek/slips-port-scans/vertical-conn.log",
        "zeek/slips-port-scans/horizontal-conn.log",
        "zeek/strato-002-nmap-portscans/conn.log",
    ] {
        let Some(dir) = testdata(c) else { return };
        let got = analyze(&dir.join(c).display().to_string(), &InternalNets::default());
        assert!(got.is_empty(), "{c}: {got:#?}");
    }
}
