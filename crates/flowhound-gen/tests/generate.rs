//! Integration tests of `generate`: determinism, schema, truth consistency
//! (checked against the label files), decoys, periods.

mod common;

use arrow::datatypes::{DataType, TimeUnit};
use common::{batches, gen, labels, rows, truth, Row};
use flowhound_gen::{generate, DecoyKind, GenConfig, Scenario, Truth, TsFormat};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn small(seed: u64) -> GenConfig {
    GenConfig {
        seed,
        flows_normal: 20_000,
        flows_test: 10_000,
        flows_servers: 3_000,
        labels: true,
        ..GenConfig::default()
    }
}

const FILES: [&str; 7] = [
    "normal.parquet",
    "test.parquet",
    "servers.parquet",
    "labels.parquet",
    "servers_labels.parquet",
    "intel.txt",
    "truth.json",
];

#[test]
fn same_seed_gives_identical_bytes_and_other_seed_differs() {
    let a = gen(&small(7));
    let b = gen(&small(7));
    let c = gen(&small(8));
    for f in FILES {
        let fa = std::fs::read(a.path().join(f)).expect("read a");
        assert_eq!(
            fa,
            std::fs::read(b.path().join(f)).expect("read b"),
            "{f} differs for the same seed"
        );
        assert_ne!(
            fa,
            std::fs::read(c.path().join(f)).expect("read c"),
            "{f} equal for another seed"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(a.path())
        .expect("ls")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        FILES.len(),
        "temporary files left: {leftovers:?}"
    );
}

#[test]
fn schema_is_the_analysts_schema_for_every_timestamp_format() {
    let formats = [
        (TsFormat::Seconds, DataType::Int64),
        (TsFormat::Millis, DataType::Int64),
        (TsFormat::FloatSeconds, DataType::Float64),
        (
            TsFormat::ArrowTimestamp,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        ),
    ];
    for (fmt, ts_type) in formats {
        let cfg = GenConfig {
            flows_normal: 3000,
            flows_test: 1500,
            flows_servers: 500,
            ts_format: fmt,
            ..small(1)
        };
        let dir = gen(&cfg);
        for f in ["normal.parquet", "test.parquet", "servers.parquet"] {
            let b = batches(&dir.path().join(f));
            let schema = b[0].schema();
            let got: Vec<(String, DataType)> = schema
                .fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect();
            let want = vec![
                ("timestamp".to_string(), ts_type.clone()),
                ("src_ip".into(), DataType::Utf8),
                ("dst_ip".into(), DataType::Utf8),
                ("proto".into(), DataType::Utf8),
                ("port".into(), DataType::Int64),
                ("up_bytes".into(), DataType::Int64),
                ("down_bytes".into(), DataType::Int64),
            ];
            assert_eq!(got, want, "{f} with {fmt:?}");
        }
    }
}

#[test]
fn millis_are_seconds_times_1000() {
    let secs = gen(&GenConfig {
        flows_normal: 2000,
        flows_test: 1000,
        flows_servers: 300,
        ..small(3)
    });
    let ms = gen(&GenConfig {
        flows_normal: 2000,
        flows_test: 1000,
        flows_servers: 300,
        ts_format: TsFormat::Millis,
        ..small(3)
    });
    let a = rows(&secs.path().join("normal.parquet"));
    let b = rows(&ms.path().join("normal.parquet"));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.ts, y.ts.div_euclid(1000));
        assert_eq!((&x.src, &x.dst, x.up), (&y.src, &y.dst, y.up));
    }
}

#[test]
fn rows_periods_and_order_match_the_truth() {
    let cfg = small(11);
    let dir = gen(&cfg);
    let t = truth(dir.path());
    let normal = rows(&dir.path().join("normal.parquet"));
    let test = rows(&dir.path().join("test.parquet"));
    let servers = rows(&dir.path().join("servers.parquet"));
    assert_eq!(
        (normal.len() as u64, test.len() as u64, servers.len() as u64),
        (t.rows.normal, t.rows.test, t.rows.servers)
    );
    // The figures cover ordinary traffic and scenarios; decoys come on top.
    let test_decoys = labels(&dir.path().join("labels.parquet"))
        .iter()
        .filter(|l| l.1.is_some())
        .count() as u64;
    assert_eq!(t.rows.test, 10_000 + test_decoys);
    assert!(t.rows.normal > 20_000 && t.rows.servers >= 3_000);
    assert_eq!(t.periods.normal.start, 1_772_409_600);
    assert_eq!(t.periods.normal.end, t.periods.normal.start + 7 * 86_400);
    assert_eq!(t.periods.test.start, t.periods.normal.end);
    let inside = |r: &[Row], a: i64, b: i64| r.iter().all(|x| x.ts >= a && x.ts < b);
    assert!(inside(
        &normal,
        t.periods.normal.start,
        t.periods.normal.end
    ));
    assert!(inside(&test, t.periods.test.start, t.periods.test.end));
    assert!(inside(&servers, t.periods.normal.start, t.periods.test.end));
    for r in [&normal, &test, &servers] {
        assert!(
            r.windows(2).all(|w| w[0].ts <= w[1].ts),
            "not sorted by time"
        );
        assert!(r
            .iter()
            .all(|x| ["tcp", "udp", "icmp"].contains(&x.proto.as_str())
                && x.up >= 0
                && x.down >= 0));
    }
}

#[test]
fn normal_traffic_is_plausible() {
    let dir = gen(&small(5));
    let t = truth(dir.path());
    let decoy_hosts: BTreeSet<&String> = t.decoys.iter().flat_map(|d| &d.hosts).collect();
    let normal: Vec<Row> = rows(&dir.path().join("normal.parquet"))
        .into_iter()
        .filter(|r| !decoy_hosts.contains(&r.src))
        .collect();
    let resolver = &t.network.internal_servers["dns"];
    assert!(
        normal
            .iter()
            .filter(|r| r.port == 53)
            .all(|r| &r.dst == resolver),
        "DNS only to the resolver"
    );
    let web: Vec<&Row> = normal
        .iter()
        .filter(|r| r.port == 443 || r.port == 80)
        .collect();
    assert!(web.len() * 2 > normal.len(), "web dominates");
    let down_gt_up = web.iter().filter(|r| r.down > r.up).count();
    assert!(
        down_gt_up * 10 > web.len() * 8,
        "web downloads larger than uploads"
    );
    // Day/night: 10-11 UTC much busier than 03-04 UTC.
    let hour = |h: i64| {
        normal
            .iter()
            .filter(|r| r.ts.rem_euclid(86_400) / 3600 == h)
            .count()
    };
    assert!(hour(10) > 5 * hour(3));
    // Nights (20:00-06:59 UTC): only the always-on minority of clients (and decoys).
    let night_srcs: BTreeSet<&String> = normal
        .iter()
        .filter(|r| !(7..20).contains(&(r.ts.rem_euclid(86_400) / 3600)))
        .map(|r| &r.src)
        .filter(|s| !decoy_hosts.contains(s))
        .collect();
    let day_srcs: BTreeSet<&String> = normal.iter().map(|r| &r.src).collect();
    assert!(
        night_srcs.len() * 4 < t.network.clients.len(),
        "{} night clients",
        night_srcs.len()
    );
    assert!(day_srcs.len() * 10 > t.network.clients.len() * 9);
    let servers = rows(&dir.path().join("servers.parquet"));
    assert!(
        servers.iter().all(|r| r.dst.starts_with("200.0.0.")),
        "servers.parquet targets 200.0.0.0/24"
    );
}

/// Every scenario host has flows of that scenario in its file; the flow count
/// matches; the scenario's signature is absent from the normal period.
#[test]
fn truth_is_consistent_with_labels() {
    let dir = gen(&small(21));
    let t = truth(dir.path());
    let kinds: BTreeSet<Scenario> = t.scenarios.iter().map(|s| s.kind).collect();
    assert_eq!(kinds.len(), Scenario::ALL.len(), "all scenarios by default");
    let test = rows(&dir.path().join("test.parquet"));
    let test_labels = labels(&dir.path().join("labels.parquet"));
    let servers = rows(&dir.path().join("servers.parquet"));
    let server_labels = labels(&dir.path().join("servers_labels.parquet"));
    assert_eq!(test.len(), test_labels.len());
    assert_eq!(servers.len(), server_labels.len());
    let mut all_hosts = BTreeSet::new();
    for s in &t.scenarios {
        let (data, lab) = if s.file == "servers" {
            (&servers, &server_labels)
        } else {
            (&test, &test_labels)
        };
        let mine: Vec<&Row> = data
            .iter()
            .zip(lab)
            .filter(|(_, l)| l.0 == s.kind.name())
            .map(|(r, _)| r)
            .collect();
        assert_eq!(mine.len() as u64, s.flows, "{} flow count", s.kind);
        // inbound_attack blames its target, the destination of its flows.
        let inbound = s.kind == Scenario::InboundAttack;
        let blamed = |r: &Row| {
            if inbound {
                r.dst.clone()
            } else {
                r.src.clone()
            }
        };
        for h in &s.hosts {
            assert!(
                mine.iter().any(|r| &blamed(r) == h),
                "{} host {h} has no flow",
                s.kind
            );
            assert!(
                all_hosts.insert(h.clone()),
                "host {h} used by two scenarios"
            );
        }
        assert!(
            mine.iter().all(|r| s.hosts.contains(&blamed(r))),
            "{} flow from a non-host",
            s.kind
        );
        assert!(
            mine.iter().all(|r| r.ts >= s.start && r.ts <= s.end),
            "{} outside its span",
            s.kind
        );
    }
    signatures_absent_from_normal(dir.path(), &t);
}

fn signatures_absent_from_normal(dir: &Path, t: &Truth) {
    let normal = rows(&dir.join("normal.parquet"));
    let dsts: BTreeSet<&str> = normal.iter().map(|r| r.dst.as_str()).collect();
    let pairs: BTreeSet<(&str, &str)> = normal
        .iter()
        .map(|r| (r.src.as_str(), r.dst.as_str()))
        .collect();
    let book = flowhound_gen::default_address_book();
    let normal_cc: BTreeSet<String> = dsts
        .iter()
        .filter_map(|d| d.parse::<std::net::Ipv4Addr>().ok())
        .filter_map(|ip| book.lookup(u32::from(ip)).map(|(cc, _)| cc.to_string()))
        .collect();
    for s in &t.scenarios {
        match s.kind {
            Scenario::Botnet | Scenario::PortScan => {
                for h in &s.hosts {
                    assert!(
                        s.peers
                            .iter()
                            .all(|p| !pairs.contains(&(h.as_str(), p.as_str()))),
                        "{} pair in normal",
                        s.kind
                    );
                }
            }
            Scenario::ServerAbuse => {
                let before: BTreeSet<String> = rows(&dir.join("servers.parquet"))
                    .into_iter()
                    .filter(|r| r.ts < t.periods.test.start)
                    .map(|r| r.src)
                    .collect();
                assert!(
                    s.hosts.iter().all(|h| !before.contains(h)),
                    "abuser seen before the test period"
                );
            }
            _ => assert!(
                s.peers.iter().all(|p| !dsts.contains(p.as_str())),
                "{} peer seen in normal",
                s.kind
            ),
        }
        if matches!(
            s.kind,
            Scenario::CncBeacon | Scenario::UnusualCountry | Scenario::DnsTunnel
        ) {
            assert!(!s.countries.is_empty());
            assert!(
                s.countries.iter().all(|c| !normal_cc.contains(c)),
                "{} country {:?} in normal",
                s.kind,
                s.countries
            );
        }
    }
}

#[test]
fn decoys_appear_where_they_should() {
    let dir = gen(&small(33));
    let t = truth(dir.path());
    let normal = rows(&dir.path().join("normal.parquet"));
    let test = rows(&dir.path().join("test.parquet"));
    let test_labels = labels(&dir.path().join("labels.parquet"));
    let by_kind: BTreeMap<DecoyKind, _> = t.decoys.iter().map(|d| (d.kind, d)).collect();
    assert_eq!(by_kind.len(), 6);
    for kind in [DecoyKind::NightlyBackup, DecoyKind::UpdateCheck] {
        let d = by_kind[&kind];
        for h in &d.hosts {
            let talks = |r: &Vec<Row>| r.iter().any(|x| &x.src == h && x.dst == d.peers[0]);
            assert!(
                talks(&normal) && talks(&test),
                "{kind} host {h} missing from a period"
            );
        }
        let labelled = test_labels
            .iter()
            .filter(|l| l.1.as_deref() == Some(kind.name()))
            .count();
        assert!(labelled > 0 && test_labels.iter().all(|l| l.1.is_none() || l.0 == "normal"));
    }
    let backup = by_kind[&DecoyKind::NightlyBackup];
    let nightly: Vec<&Row> = normal.iter().filter(|r| r.src == backup.hosts[0]).collect();
    assert!(
        nightly
            .iter()
            .all(|r| (3600..3 * 3600 + 60).contains(&r.ts.rem_euclid(86_400))),
        "backup at night"
    );
    let mut per_night: BTreeMap<i64, i64> = BTreeMap::new();
    for r in &nightly {
        *per_night.entry(r.ts.div_euclid(86_400)).or_default() += r.up;
    }
    assert_eq!(per_night.len(), 7, "a backup every night");
    assert!(
        per_night
            .values()
            .all(|&b| (700_000_000..5_000_000_000).contains(&b)),
        "1-4 GB every night: {per_night:?}"
    );
    let peers: BTreeSet<&String> = normal
        .iter()
        .chain(&test)
        .filter(|r| r.src == backup.hosts[0])
        .map(|r| &r.dst)
        .collect();
    assert_eq!(peers.len(), 1, "one cloud address in both periods");
    let newbie = &by_kind[&DecoyKind::NewEmployee].hosts[0];
    assert!(
        normal.iter().all(|r| &r.src != newbie && &r.dst != newbie),
        "new employee in normal"
    );
    let newbie_flows = test.iter().filter(|r| &r.src == newbie).count() as u64;
    assert!(newbie_flows > 0);
    assert_eq!(newbie_flows, by_kind[&DecoyKind::NewEmployee].flows);
}

#[test]
fn scenario_selection_and_no_decoys() {
    let cfg = GenConfig {
        scenarios: vec![Scenario::PortScan],
        decoys: false,
        ..small(2)
    };
    let dir = gen(&cfg);
    let t = truth(dir.path());
    assert_eq!(
        t.scenarios.iter().map(|s| s.kind).collect::<Vec<_>>(),
        vec![Scenario::PortScan]
    );
    assert!(t.decoys.is_empty());
    let labs = labels(&dir.path().join("labels.parquet"));
    assert!(labs
        .iter()
        .all(|l| (l.0 == "normal" || l.0 == "port_scan") && l.1.is_none()));
}

#[test]
fn bad_configs_are_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    for cfg in [
        GenConfig {
            subnet: "10.0.0.0/99".into(),
            ..small(1)
        },
        GenConfig {
            subnet: "nonsense".into(),
            ..small(1)
        },
        GenConfig {
            clients: 10,
            ..small(1)
        },
        GenConfig {
            clients: 0,
            scenarios: vec![],
            decoys: false,
            ..small(1)
        },
        GenConfig {
            usual_countries: vec!["ZZ".into()],
            ..small(1)
        },
    ] {
        assert!(generate(&cfg, dir.path(), &|_, _| {}).is_err(), "{cfg:?}");
    }
}

#[test]
fn unwritable_output_is_an_io_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let err = generate(&small(1), &file, &|_, _| {}).expect_err("must fail");
    assert!(matches!(err, flowhound_gen::GenError::Io { .. }), "{err}");
}

#[test]
fn progress_reaches_the_total() {
    let dir = tempfile::tempdir().expect("tempdir");
    let last = std::cell::Cell::new((0u64, 0u64));
    let cfg = GenConfig {
        flows_normal: 5000,
        flows_test: 2000,
        flows_servers: 1000,
        ..small(4)
    };
    let s = generate(&cfg, dir.path(), &|d, t| last.set((d, t))).expect("generate");
    let total = s.rows.normal + s.rows.test + s.rows.servers;
    assert_eq!(last.get(), (total, total));
    assert!(s.rows.normal > 5000 && s.rows.servers >= 1000);
    // 2000 test rows cannot hold every scenario: the test file grows to fit them.
    let injected: u64 = s
        .truth
        .scenarios
        .iter()
        .filter(|x| x.file == "test")
        .map(|x| x.flows)
        .sum();
    assert!(s.rows.test >= 2000 && s.rows.test >= injected);
}

#[test]
fn truth_file_round_trips_to_the_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = GenConfig {
        flows_normal: 4000,
        flows_test: 2000,
        flows_servers: 500,
        labels: false,
        ..small(9)
    };
    let s = generate(&cfg, dir.path(), &|_, _| {}).expect("generate");
    assert_eq!(truth(dir.path()), s.truth);
    let names: Vec<String> = s
        .files
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "normal.parquet",
            "test.parquet",
            "servers.parquet",
            "intel.txt",
            "truth.json"
        ]
    );
    assert!(s.files.iter().all(|p| p.exists()));
    assert!(!dir.path().join("labels.parquet").exists());
}

fn scenario_rows<'a>(
    rows: &'a [Row],
    labels: &[(String, Option<String>)],
    kind: Scenario,
) -> Vec<&'a Row> {
    rows.iter()
        .zip(labels)
        .filter(|(_, l)| l.0 == kind.name())
        .map(|(r, _)| r)
        .collect()
}

#[test]
fn beacon_and_botnet_timing_follow_the_truth() {
    let dir = gen(&small(21));
    let t = truth(dir.path());
    let test = rows(&dir.path().join("test.parquet"));
    let labs = labels(&dir.path().join("labels.parquet"));
    let cnc = t
        .scenarios
        .iter()
        .find(|s| s.kind == Scenario::CncBeacon)
        .expect("cnc");
    let (period, jit) = (cnc.params["period_s"], cnc.params["jitter"]);
    assert!((30.0..=600.0).contains(&period) && (0.0..0.06).contains(&jit));
    let beacons = scenario_rows(&test, &labs, Scenario::CncBeacon);
    for h in &cnc.hosts {
        let mine: Vec<&&Row> = beacons.iter().filter(|r| &r.src == h).collect();
        assert!(mine.len() >= 10, "beacon of {h} too short");
        for w in mine.windows(2) {
            let gap = (w[1].ts - w[0].ts) as f64; // whole seconds: allow 1 s of rounding
            assert!(
                gap >= period * (1.0 - jit) - 1.0 && gap <= period * (1.0 + jit) + 1.0,
                "gap {gap}"
            );
        }
        let ups: Vec<i64> = mine.iter().map(|r| r.up).collect();
        let (lo, hi) = (
            ups.iter().min().copied().unwrap_or(0),
            ups.iter().max().copied().unwrap_or(0),
        );
        assert!(
            hi as f64 <= lo as f64 * 1.05 + 2.0,
            "beacon sizes vary too much: {lo}..{hi}"
        );
        assert!(mine.iter().all(|r| r.dst == cnc.peers[0]));
    }
    let bot = t
        .scenarios
        .iter()
        .find(|s| s.kind == Scenario::Botnet)
        .expect("botnet");
    let interval = bot.params["burst_interval_s"];
    let mut bursts: BTreeMap<i64, Vec<&Row>> = BTreeMap::new();
    for r in scenario_rows(&test, &labs, Scenario::Botnet) {
        bursts
            .entry(((r.ts - bot.start) as f64 / interval).round() as i64)
            .or_default()
            .push(r);
    }
    assert!(bursts.len() >= 2);
    let members: BTreeSet<&String> = bot.hosts.iter().collect();
    for flows in bursts.values() {
        let srcs: BTreeSet<&String> = flows.iter().map(|r| &r.src).collect();
        assert_eq!(srcs, members, "every member talks in every burst");
        let span = flows.iter().map(|r| r.ts).max().unwrap_or(0)
            - flows.iter().map(|r| r.ts).min().unwrap_or(0);
        assert!(span <= 6, "burst spread over {span} s");
        assert_eq!(flows.len(), members.len() * (members.len() - 1));
    }
}
