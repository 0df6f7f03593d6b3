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
