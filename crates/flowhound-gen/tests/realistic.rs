//! Issue 12: the realistic benign behaviours (poller, scanner, IoT, backups) in
//! both periods at their stated rates, the new scenarios with their shapes, a
//! 1-day normal period, density and random configurations — all checked by
//! reading the Parquet files back.

mod common;

use common::{gen, labels, rows, truth, Row};
use flowhound_gen::{DecoyKind, DecoyTruth, GenConfig, Scenario, ScenarioTruth, Truth};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::Path;

/// 30 clients, a 1-day normal period and a 24-h test period, 60k flows a day
/// (dense enough that the poller keeps its drawn interval).
fn one_day(seed: u64) -> GenConfig {
    GenConfig {
        seed,
        clients: 45,
        normal_days: 1,
        test_hours: Some(24),
        flows_normal: 60_000,
        flows_test: 30_000,
        flows_servers: 2_000,
        iot_devices: 3,
        labels: true,
        ..GenConfig::default()
    }
}

struct Data {
    dir: tempfile::TempDir,
    truth: Truth,
    normal: Vec<Row>,
    test: Vec<Row>,
}

fn data(cfg: &GenConfig) -> Data {
    let dir = gen(cfg);
    let truth = truth(dir.path());
    let normal = rows(&dir.path().join("normal.parquet"));
    let test = rows(&dir.path().join("test.parquet"));
    Data {
        dir,
        truth,
        normal,
        test,
    }
}

impl Data {
    fn decoy(&self, k: DecoyKind) -> &DecoyTruth {
        self.truth
            .decoys
            .iter()
            .find(|d| d.kind == k)
            .expect("decoy")
    }
    fn scenario(&self, k: Scenario) -> &ScenarioTruth {
        self.truth
            .scenarios
            .iter()
            .find(|s| s.kind == k)
            .expect("scenario")
    }
    /// Flows of `src` in each period.
    fn both<'a>(&'a self, src: &'a str) -> [Vec<&'a Row>; 2] {
        [&self.normal, &self.test].map(|r| r.iter().filter(|x| x.src == src).collect())
    }
    /// Test-period rows labelled `kind`.
    fn labelled(&self, kind: Scenario) -> Vec<Row> {
        let labs = labels(&self.dir.path().join("labels.parquet"));
        self.test
            .iter()
            .zip(labs)
            .filter(|(_, l)| l.0 == kind.name())
            .map(|(r, _)| r.clone())
            .collect()
    }
}

fn gaps(ts: &[i64]) -> Vec<i64> {
    ts.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn snmp_poller_polls_every_internal_host_every_5_to_15_minutes_in_both_periods() {
    let d = data(&one_day(3));
    let poller = &d.decoy(DecoyKind::SnmpPoller).hosts[0];
    assert_eq!(poller, &d.truth.network.internal_servers["monitoring"]);
    let mut hosts: BTreeSet<&String> = d.truth.network.clients.iter().collect();
    hosts.extend(d.truth.network.internal_servers.values());
    hosts.extend(&d.truth.network.iot);
    hosts.remove(poller);
    for period in d.both(poller) {
        let mut by_host: BTreeMap<&String, Vec<i64>> = BTreeMap::new();
        for r in &period {
            assert_eq!((r.proto.as_str(), r.port), ("udp", 161));
            by_host.entry(&r.dst).or_default().push(r.ts);
        }
        assert_eq!(by_host.keys().copied().collect::<BTreeSet<_>>(), hosts);
        for (h, ts) in by_host {
            let g = gaps(&ts);
            assert!(g.len() >= 90, "{h}: {} polls in a day", ts.len());
            assert!(
                g.iter().all(|&x| (280..=930).contains(&x)),
                "{h}: gaps {:?}",
                (g.iter().min(), g.iter().max())
            );
        }
    }
}

#[test]
fn vuln_scanner_sweeps_at_the_same_time_every_day_in_both_periods() {
    let d = data(&one_day(4));
    let scanner = &d.decoy(DecoyKind::VulnScanner).hosts[0];
    let mut starts = Vec::new();
    for period in d.both(scanner) {
        let first = period
            .iter()
            .map(|r| r.ts)
            .min()
            .expect("scan in both periods");
        starts.push(first.rem_euclid(86_400));
        let targets: BTreeSet<&String> = period.iter().map(|r| &r.dst).collect();
        let ports: BTreeSet<i64> = period
            .iter()
            .filter(|r| r.proto == "tcp")
            .map(|r| r.port)
            .collect();
        assert!(
            targets.len() >= 5 && ports.len() >= 20,
            "{} hosts x {} ports",
            targets.len(),
            ports.len()
        );
        let last = period.iter().map(|r| r.ts).max().unwrap_or(first);
        assert!(
            last - first < 3600,
            "a scan lasts minutes, not {} s",
            last - first
        );
    }
    assert!(
        starts[0].abs_diff(starts[1]) <= 1,
        "scheduled time {starts:?}"
    );
}

#[test]
fn iot_devices_send_ntp_and_heartbeats_in_both_periods() {
    let d = data(&one_day(5));
    let iot = d.decoy(DecoyKind::IotDevice);
    // the device the dropper scenario infects is its host, no longer a benign decoy
    let infected: Vec<&String> = d
        .truth
        .scenarios
        .iter()
        .filter(|s| s.kind == Scenario::Dropper)
        .flat_map(|s| &s.hosts)
        .collect();
    assert_eq!(infected.len(), 1);
    let benign: Vec<String> = d
        .truth
        .network
        .iot
        .iter()
        .filter(|h| !infected.contains(h))
        .cloned()
        .collect();
    assert_eq!(iot.hosts, benign);
    assert_eq!(d.truth.network.iot.len(), 3);
    for dev in &iot.hosts {
        for period in d.both(dev) {
            let ntp: Vec<i64> = period
                .iter()
                .filter(|r| r.port == 123)
                .map(|r| r.ts)
                .collect();
            assert!(period
                .iter()
                .filter(|r| r.port == 123)
                .all(|r| r.proto == "udp"));
            let g = gaps(&ntp);
            assert!(
                !g.is_empty() && g.iter().all(|&x| (60..=1060).contains(&x)),
                "ntp gaps {g:?}"
            );
            let beats: Vec<&&Row> = period.iter().filter(|r| r.proto == "tcp").collect();
            let g = gaps(&beats.iter().map(|r| r.ts).collect::<Vec<_>>());
            assert!(
                g.len() >= 250 && g.iter().all(|&x| (28..=310).contains(&x)),
                "heartbeat gaps"
            );
            let ups: Vec<i64> = beats.iter().map(|r| r.up).collect();
            let (lo, hi) = (
                ups.iter().min().copied().unwrap_or(0),
                ups.iter().max().copied().unwrap_or(0),
            );
            assert!(
                hi as f64 <= lo as f64 * 1.07 + 1.0,
                "heartbeat sizes {lo}..{hi}"
            );
            assert!(
                period.iter().all(|r| iot.peers.contains(&r.dst)),
                "only time servers and cloud"
            );
        }
    }
}

#[test]
fn one_day_normal_period_and_nightly_backups_of_1_to_4_gb() {
    let d = data(&one_day(6));
    let p = d.truth.periods;
    assert_eq!(p.normal.end - p.normal.start, 86_400);
    assert_eq!(p.test.end - p.test.start, 86_400);
    assert!(d
        .normal
        .iter()
        .all(|r| (p.normal.start..p.normal.end).contains(&r.ts)));
    let backup = d.decoy(DecoyKind::NightlyBackup);
    for period in d.both(&backup.hosts[0]) {
        let total: i64 = period.iter().map(|r| r.up).sum();
        assert!(
            (700_000_000..5_000_000_000).contains(&total),
            "{total} bytes"
        );
        assert!(period.iter().all(|r| r.dst == backup.peers[0]));
    }
}

#[test]
fn new_scenarios_have_their_shapes() {
    let d = data(&one_day(7));
    let storm = d.labelled(Scenario::CncChannel);
    let s = d.scenario(Scenario::CncChannel);
    assert!(storm.len() >= 300 && storm.len() as u64 == s.flows);
    assert!(storm
        .iter()
        .all(|r| r.dst == s.peers[0] && r.port == i64::from(s.ports[0])));
    let g = gaps(&storm.iter().map(|r| r.ts).collect::<Vec<_>>());
    assert!(g.iter().all(|&x| (2..=8).contains(&x)), "storm gaps");
    let empty = storm.iter().filter(|r| r.up + r.down == 0).count();
    assert!(empty * 2 > storm.len(), "mostly empty/failed attempts");

    let flood = d.labelled(Scenario::Dos);
    let s = d.scenario(Scenario::Dos);
    assert!(
        flood.len() >= 2000
            && flood
                .iter()
                .all(|r| r.dst == s.peers[0] && r.up <= 120 && r.down == 0)
    );
    let span = (flood.last().map_or(0, |r| r.ts) - flood[0].ts).max(1);
    assert!(
        flood.len() as i64 / span >= 40,
        "{} flows in {span} s",
        flood.len()
    );

    let intel = d.scenario(Scenario::ThreatIntel);
    let visits = d.labelled(Scenario::ThreatIntel);
    assert!(
        !visits.is_empty()
            && visits
                .iter()
                .all(|r| r.src == intel.hosts[0] && r.dst == intel.peers[0])
    );
}

#[test]
fn inbound_attack_targets_one_server_from_many_sources() {
    for seed in [8, 9, 10, 11] {
        let d = data(&GenConfig {
            scenarios: vec![Scenario::InboundAttack],
            ..one_day(seed)
        });
        let s = d.scenario(Scenario::InboundAttack);
        let (data_rows, labs) = if s.file == "servers" {
            (
                rows(&d.dir.path().join("servers.parquet")),
                labels(&d.dir.path().join("servers_labels.parquet")),
            )
        } else {
            (d.test.clone(), labels(&d.dir.path().join("labels.parquet")))
        };
        let mine: Vec<&Row> = data_rows
            .iter()
            .zip(&labs)
            .filter(|(_, l)| l.0 == "inbound_attack")
            .map(|(r, _)| r)
            .collect();
        let sources: BTreeSet<&String> = mine.iter().map(|r| &r.src).collect();
        assert!(
            sources.len() >= 30 && mine.iter().all(|r| r.dst == s.hosts[0]),
            "seed {seed}"
        );
        assert!(sources
            .iter()
            .all(|a| !a.parse::<Ipv4Addr>().expect("ip").is_private()));
    }
}

/// Parses `intel.txt`: (network, prefix length) per line, comments skipped.
fn intel_entries(path: &Path) -> Vec<(u32, u32)> {
    let text = std::fs::read_to_string(path).expect("intel.txt");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (ip, len) = l.split_once('/').unwrap_or((l, "32"));
            let ip: Ipv4Addr = ip.trim().parse().expect("IPv4 entry");
            (u32::from(ip), len.trim().parse().expect("prefix"))
        })
        .collect()
}

#[test]
fn intel_file_lists_the_threat_peer_and_nothing_else_of_the_data() {
    let d = data(&one_day(12));
    assert_eq!(d.truth.intel_file.as_deref(), Some("intel.txt"));
    let entries = intel_entries(&d.dir.path().join("intel.txt"));
    let hit = |ip: &str| {
        let ip = u32::from(ip.parse::<Ipv4Addr>().expect("ip"));
        entries
            .iter()
            .any(|&(net, len)| len == 0 || (ip ^ net) >> (32 - len) == 0)
    };
    let bad = &d.scenario(Scenario::ThreatIntel).peers[0];
    assert!(hit(bad) && entries.len() > 20);
    let servers = rows(&d.dir.path().join("servers.parquet"));
    for r in d.normal.iter().chain(&d.test).chain(&servers) {
        assert_eq!(hit(&r.dst) || hit(&r.src), &r.dst == bad, "{r:?}");
    }
    let without = gen(&GenConfig {
        scenarios: vec![Scenario::Dos],
        ..one_day(12)
    });
    assert!(!without.path().join("intel.txt").exists());
}

#[test]
fn density_sets_the_flow_figures() {
    let cfg = GenConfig {
        clients: 50,
        normal_days: 2,
        flows_per_host_day: Some(5_000),
        ..GenConfig::default()
    };
    let r = cfg.resolved();
    assert_eq!(
        (r.flows_normal, r.flows_test, r.test_hours),
        (500_000, 250_000, Some(24))
    );
    let bad = GenConfig {
        flows_per_host_day: Some(0),
        ..GenConfig::default()
    };
    assert!(bad.validate().is_err());
}

#[test]
fn random_small_configurations_generate_consistent_truth() {
    let mut kinds = BTreeSet::new();
    for seed in 0..3 {
        let cfg = GenConfig::random_small(seed, 4_000);
        let dir = gen(&cfg);
        let t = truth(dir.path());
        let got: BTreeSet<Scenario> = t.scenarios.iter().map(|s| s.kind).collect();
        assert_eq!(got, cfg.scenarios.iter().copied().collect(), "seed {seed}");
        assert_eq!(t.network.clients.len() as u32, cfg.clients);
        assert_eq!(
            labels(&dir.path().join("labels.parquet")).len() as u64,
            t.rows.test
        );
        kinds.extend(got);
    }
    assert!(kinds.len() >= 5, "{kinds:?}");
}
