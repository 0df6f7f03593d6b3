//! `cnc_beacon`: sub-scores against the numpy oracle (`tests/oracle/beacon_oracle.py`, output in
//! `tests/oracle/beacon_expected.json`), and the NjRAT capture analysed alone (self-learned baseline):
//! the labelled C&C pair 192.168.1.115 -> 41.108.179.197:1177 is among the top three findings.

mod common;
mod detect_support;
use common::testdata;

use flowhound::baseline::learn;
use flowhound::config::Config;
use flowhound::detect::cnc_beacon::{beacon_stats, CncBeaconConfig};
use flowhound::detect::flows::Flows;
use flowhound::detect::{run, DetectCtx};
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::InternalNets;
use flowhound_geo::GeoStack;
use serde_json::Value;

const ORACLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/oracle/beacon_expected.json"
);

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(ORACLE).unwrap()).unwrap()
}

fn close(a: f64, b: &Value) -> bool {
    let b = b.as_f64().unwrap();
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// The same synthetic series as the oracle script.
fn synthetic() -> Vec<(&'static str, Vec<i64>, Vec<f64>, f64)> {
    let s = 1_000_000i64;
    let alternating: Vec<i64> = (0..50)
        .map(|i: i64| {
            (0..i)
                .map(|k| if k % 2 == 0 { 9 * s } else { 14 * s })
                .sum()
        })
        .collect();
    vec![
        (
            "every_60s_small_jitter",
            (0..100).map(|i| i * 60 * s + (i % 3) * 100_000).collect(),
            vec![300.0; 100],
            6000.0,
        ),
        ("alternating_9_14", alternating, vec![0.0; 50], 5000.0),
        (
            "bursty_sizes",
            (0..40).map(|i| i * 30 * s).collect(),
            (0..40)
                .map(|i| (100 * (1 + i % 7) * (1 + i % 7)) as f64)
                .collect(),
            1200.0,
        ),
        (
            "night_off",
            [0, 470 * s]
                .into_iter()
                .chain((0..74).map(|i| (51_000 + i * 470 + (i % 5) * 20) * s))
                .collect(),
            vec![1700.0; 76],
            86400.0,
        ),
    ]
}

#[test]
fn sub_scores_match_the_numpy_oracle() {
    let exp = expected();
    let c = CncBeaconConfig {
        min_duration_secs: 0.0,
        ..Default::default()
    };
    for (name, ts, bytes, span) in synthetic() {
        let s = beacon_stats(&c, &ts, &bytes, span).unwrap();
        let e = &exp[name];
        let got = [
            ("ts", s.sub.ts),
            ("ds", s.sub.ds),
            ("hist", s.sub.hist),
            ("dur", s.sub.dur),
            ("raw", s.raw),
            ("period_secs", s.period_secs),
            ("jitter_secs", s.jitter_secs),
        ];
        for (k, v) in got {
            assert!(
                close(v, &e[k]),
                "{name}.{k}: flowhound {v}, oracle {}",
                e[k]
            );
        }
        assert_eq!(s.events as u64, e["events"].as_u64().unwrap(), "{name}");
    }
}

#[test]
fn njrat_cc_is_a_top_three_beacon() {
    let Some(root) = testdata(module_path!()) else {
        return;
    };
    let path = root.join("zeek/strato-001-njrat-cc/conn.log.labeled");
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
    let findings = run(&ctx, &config.analysis.detectors).unwrap();
    for f in findings.iter().take(5) {
        println!(
            "{} {} {:.3} {:?} {}",
            f.id, f.kind, f.score, f.hosts, f.evidence.explanation
        );
    }
    // The C&C was down: 237 failed dials, so the beacon is folded into a reconnect-storm channel
    // (one channel, one finding), and the beacon's evidence travels with it.
    let pos = findings.iter().position(|f| {
        (f.kind == "cnc_beacon" || f.kind == "cnc_channel")
            && f.hosts == ["192.168.1.115"]
            && f.peers.first().map(String::as_str) == Some("41.108.179.197")
    });
    let pos = pos.expect("a C&C finding for 192.168.1.115 -> 41.108.179.197");
    assert!(pos < 3, "rank {}", pos + 1);
    let f = &findings[pos];
    assert_eq!(f.flows, 237, "the labelled C&C flows");
    let beacon = std::iter::once(&f.evidence)
        .chain(&f.other_evidence)
        .find(|e| e.metric.starts_with("beacon score"))
        .expect("the beacon's evidence");
    let d = &beacon.details;
    assert_eq!(d["port"], "1177/tcp");
    let e = &expected()["njrat"];
    for k in ["ts", "ds", "hist", "dur"] {
        let key = format!("{k}_score");
        assert!(
            close(d[key.as_str()].as_f64().unwrap(), &e[k]),
            "{k}: {} vs oracle {}",
            d[key.as_str()],
            e[k]
        );
    }
    assert!(
        close(d["period_secs"].as_f64().unwrap(), &e["period_secs"])
            && close(d["jitter_secs"].as_f64().unwrap(), &e["jitter_secs"])
    );
    let x = &beacon.explanation;
    assert!(
        x.contains("every 11.5 s")
            && x.contains("jitter ±2.5 s")
            && x.contains("237 connections")
            && x.contains("41.108.179.197:1177/tcp"),
        "{x}"
    );
}

#[test]
fn weights_not_summing_to_one_rejected_at_load() {
    let e = Config::from_toml("[detectors.cnc_beacon]\nts_weight_ratio = 0.5\n", "c.toml")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "c.toml: [detectors.cnc_beacon]: ts/ds/hist/dur_weight_ratio must each be in 0..=1 and sum to 1 (they sum to 1.25)"
    );
    assert!(Config::from_toml(
        "[detectors.cnc_beacon]\nts_weight_ratio = 0.5\nds_weight_ratio = 0.0\n",
        "c.toml"
    )
    .is_ok());
}

/// Dropbox's notification long-poll (a check-in every 85 s) moves between addresses of its network:
/// three hosts kept it as a channel to one address on the normal day; on the test day a new host
/// polls another address of the same network (held low: the fleet's channel, the network named),
/// and another host polls a rented server at Hetzner the same way (a beacon, reported). With
/// `channel_network_orgs` empty, the Dropbox poll is reported too.
#[test]
fn a_storage_service_channel_on_a_new_address_is_the_fleets() {
    use detect_support::{csv_run, Row};
    use flowhound::findings::Severity;
    const DAY: i64 = 1_772_409_600; // 2026-03-02 00:00 UTC
    let host = |i: u32| format!("10.1.0.{i}");
    // host i polls `dst` every 85 s (+/- 4 s) for `hours` from 08:00 of `day`
    let poll = |day: i64, i: u32, dst: &str, hours: i64| -> Vec<Row> {
        let start = DAY + day * 86_400 + 8 * 3600;
        (0..hours * 3600 / 85)
            .map(|k| {
                (
                    start + k * 85 + (k * 7 % 9) - 4,
                    host(i),
                    dst.to_string(),
                    443,
                    900,
                    400,
                )
            })
            .collect()
    };
    let normal: Vec<Row> = (1..=3)
        .flat_map(|i| poll(0, i, "162.125.65.226", 10))
        .collect();
    let mut test: Vec<Row> = (1..=3)
        .flat_map(|i| poll(1, i, "162.125.65.226", 10))
        .collect();
    test.extend(poll(1, 10, "162.125.198.252", 8));
    test.extend(poll(1, 11, "49.12.22.99", 8));
    let run = |extra: &str| {
        let text = format!("{}{extra}", detect_support::CONFIG);
        csv_run(
            &normal,
            &test,
            &Config::from_toml(&text, "t").unwrap(),
            &["cnc_beacon"],
        )
    };
    let of = |fs: &[flowhound::findings::Finding], i: u32| {
        fs.iter().find(|f| f.hosts == [host(i)]).cloned()
    };
    let found = run("");
    let dropbox = of(&found, 10).unwrap_or_else(|| panic!("{found:#?}"));
    assert!(dropbox.severity < Severity::Medium, "{dropbox:#?}");
    let e = &dropbox.evidence.explanation;
    assert!(
        e.contains("in the same storage network (AS19679): 3 other hosts' channel"),
        "{e}"
    );
    let rented = of(&found, 11).unwrap_or_else(|| panic!("{found:#?}"));
    assert!(rented.severity >= Severity::Medium, "{rented:#?}");
    let off = run("[detectors.cnc_beacon]\nchannel_network_orgs = []\n");
    assert!(
        of(&off, 10).is_some_and(|f| f.severity >= Severity::Medium),
        "{off:#?}"
    );
}

/// A mail exchanger (SMTP from 8 external senders) delivering to one external MX every 10 minutes on
/// tcp/25 is forwarding its queue: held low, saying so. A workstation doing the same is a beacon.
#[test]
fn a_mail_exchanger_delivering_is_not_beaconing() {
    use detect_support::{csv_run, Row};
    use flowhound::findings::Severity;
    const DAY: i64 = 1_772_409_600; // 2026-03-02 00:00 UTC
    let row = |secs: i64, src: &str, dst: &str, port: u16| -> Row {
        (
            DAY + 86_400 + secs,
            src.into(),
            dst.into(),
            port,
            3_000,
            300,
        )
    };
    let senders = (1..=8).map(|k| row(3600 * k, &format!("203.0.113.{k}"), "10.1.0.25", 25));
    let mut test: Vec<Row> = senders.collect();
    for (host, k0) in [("10.1.0.25", 0), ("10.1.0.30", 1)] {
        test.extend((0..60).map(|k| row(8 * 3600 + k * 600 + k0, host, "198.51.100.7", 25)));
    }
    let normal: Vec<Row> = ["10.1.0.25", "10.1.0.30"]
        .iter()
        .map(|h| {
            (
                DAY + 9 * 3600,
                h.to_string(),
                "93.184.216.34".into(),
                443,
                900,
                9_000,
            )
        })
        .collect();
    let config = Config::from_toml(detect_support::CONFIG, "t").unwrap();
    let found = csv_run(&normal, &test, &config, &["cnc_beacon"]);
    let of = |h: &str| {
        found
            .iter()
            .find(|f| f.hosts == [h.to_string()])
            .unwrap_or_else(|| panic!("{h}: {found:#?}"))
    };
    let mx = of("10.1.0.25");
    assert!(mx.severity < Severity::Medium, "{mx:#?}");
    assert!(
        mx.evidence.explanation.contains("serves port 25"),
        "{mx:#?}"
    );
    assert!(of("10.1.0.30").severity >= Severity::Medium);
}

/// A bot on an always-on machine beacons to a new address every 5 minutes; two more hosts reached the
/// same address a few times, too irregularly to be beacons: `shared_cnc` names both, scored from the
/// beacon's score and their own flows. Not when the address is in the baseline, nor when too many
/// hosts reach it.
#[test]
fn the_other_hosts_of_a_cnc_peer_are_named_with_the_beacon() {
    use detect_support::csv_run;
    use flowhound::findings::{Finding, Severity};
    const CNC: &str = "185.220.101.7";
    let mut test = browse(1);
    let t0 = DAY + 86_400 + 8 * 3600;
    // 10.1.0.1: every 300 s (+/- 3 s) for 10 hours
    test.extend((0..120).map(|k| {
        (
            t0 + k * 300 + (k * 5 % 7) - 3,
            host(1),
            CNC.into(),
            443,
            700,
            2_100,
        )
    }));
    // 10.1.0.2: 6 check-ins at irregular times; 10.1.0.3: one
    let odd = [400, 4_900, 9_100, 16_000, 21_700, 33_000];
    test.extend(
        odd.iter()
            .map(|s| (t0 + s, host(2), CNC.into(), 443, 700, 2_100)),
    );
    test.push((t0 + 12_345, host(3), CNC.into(), 443, 700, 2_100));
    let config = |extra: &str| {
        let text = format!("{}[detectors.shared_cnc]\n{extra}", detect_support::CONFIG);
        Config::from_toml(&text, "t").unwrap()
    };
    let names = ["cnc_beacon", "shared_cnc"];
    let kind = |fs: &[Finding], k: &str| -> Vec<Finding> {
        fs.iter().filter(|f| f.kind == k).cloned().collect()
    };
    let found = csv_run(&browse(0), &test, &config(""), &names);
    let beacon = kind(&found, "cnc_beacon");
    assert_eq!(beacon.len(), 1, "{found:#?}");
    assert_eq!(beacon[0].hosts, [host(1)]);
    assert!(beacon[0].severity >= Severity::High, "{beacon:#?}");
    let members = kind(&found, "shared_cnc");
    assert_eq!(members.len(), 2, "{found:#?}");
    // the member score of the detector's documentation, recomputed here
    let src = beacon[0].score;
    for (i, flows, first) in [(2, 6u64, t0 + 400), (3, 1, t0 + 12_345)] {
        let f = members
            .iter()
            .find(|f| f.hosts == [host(i)])
            .unwrap_or_else(|| panic!("{members:#?}"));
        let n = flows as f64;
        let want = (src * 0.9 * (0.5 + 0.5 * n / (n + 3.0))).min(0.79);
        assert!((f.score - want).abs() < 1e-9, "{} != {want}", f.score);
        assert_eq!(f.peers, [CNC]);
        assert_eq!(f.flows, flows);
        let e = &f.evidence.explanation;
        assert!(
            e.contains(&format!("{} also reached {CNC}", host(i)))
                && e.contains(&format!("cnc_beacon names as C&C of {}", host(1)))
                && e.contains(&format!(
                    "{flows} flows from {}",
                    flowhound::findings::format_ts(first * 1_000_000)
                ))
                && e.contains("reached by 3 of 12 internal hosts, new since the baseline"),
            "{e}"
        );
    }
    // 6 check-ins on another host's evidence: medium at least; one contact is weaker
    assert!(members
        .iter()
        .any(|f| f.hosts == [host(2)] && f.severity >= Severity::Medium));
    // the address known in the baseline (one flow from another host): no pivot, at any source score
    let mut normal = browse(0);
    normal.push((DAY + 10 * 3600, host(9), CNC.into(), 443, 700, 2_100));
    let known = csv_run(
        &normal,
        &test,
        &config("min_source_score_ratio = 0.0\n"),
        &names,
    );
    assert!(kind(&known, "shared_cnc").is_empty(), "{known:#?}");
    assert_eq!(kind(&known, "cnc_beacon").len(), 1, "{known:#?}");
    // 3 of 12 hosts is more than a tenth of the network
    let crowd = csv_run(
        &browse(0),
        &test,
        &config("max_hosts_share_ratio = 0.1\n"),
        &names,
    );
    assert!(kind(&crowd, "shared_cnc").is_empty(), "{crowd:#?}");
    assert_eq!(kind(&crowd, "cnc_beacon"), beacon);
}

/// Periods count by how tightly they repeat: ten check-ins an hour apart within 2 s, to a new
/// address, are high (nine periods, each worth three and a half of a 10 % timer's), while fourteen
/// visits of another host to a new address whose gaps come within 30 % of their median (what chance
/// office-hour visits do about once in 70 draws) stay below medium. Both were medium when every period
/// counted once.
#[test]
fn a_tight_timers_few_periods_outweigh_loose_visits() {
    use detect_support::csv_run;
    use flowhound::findings::Severity;
    let mut test = browse(1);
    let t0 = DAY + 86_400 + 7 * 3600;
    let (tight, loose) = ("185.220.101.7", "185.220.101.9");
    test.extend((0..10i64).map(|k| {
        let t = t0 + k * 3600 + (k * 3 % 5) - 2;
        (t, host(1), tight.to_string(), 443, 700, 2_100)
    }));
    let gaps = [
        1400, 2000, 2600, 2000, 1400, 2600, 2000, 1400, 2600, 2000, 2000, 1400, 2600,
    ];
    let mut t = t0 + 300;
    test.push((t, host(2), loose.to_string(), 443, 700, 2_100));
    for g in gaps {
        t += g;
        test.push((t, host(2), loose.to_string(), 443, 700, 2_100));
    }
    let found = csv_run(&browse(0), &test, &Config::default(), &["cnc_beacon"]);
    let of = |h: u32| found.iter().find(|f| f.hosts == [host(h)]);
    let f = of(1).unwrap_or_else(|| panic!("{found:#?}"));
    assert!(f.severity >= Severity::High, "{f:#?}");
    assert!(
        f.evidence.details["period_weight"].as_f64().unwrap() > 3.0,
        "{f:#?}"
    );
    assert!(
        of(2).is_none_or(|f| f.severity < Severity::Medium),
        "{:#?}",
        of(2)
    );
}

/// 2026-03-02 00:00 UTC.
const DAY: i64 = 1_772_409_600;

/// Internal host `10.1.0.i`.
fn host(i: u32) -> String {
    format!("10.1.0.{i}")
}

/// Day `day` after [`DAY`]: hosts 1-12 each open one page of 93.184.216.34 an hour, 08:00-17:00.
fn browse(day: i64) -> Vec<detect_support::Row> {
    (1..=12)
        .flat_map(|i| {
            (8..18).map(move |h| {
                let t = DAY + day * 86_400 + h * 3600 + i64::from(i) * 60;
                (t, host(i), "93.184.216.34".to_string(), 443, 1_500, 40_000)
            })
        })
        .collect()
}
