//! Out-of-core detection equals in-memory detection (issue 13, part 2): generated data with every
//! scenario and decoy (default configuration, and random small configurations of the acceptance sweep),
//! the test input routed into host shards on disk and detected shard by shard, must give exactly the
//! findings (every field, and the rows behind each) of the in-memory run over the same input.

mod detect_support;

use flowhound::baseline::{learn, Baseline};
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::{run, DetectCtx};
use flowhound::findings::Finding;
use flowhound::ingest::{prepare, read_all, ReadOptions};
use flowhound::net::{Cidr, InternalNets};
use flowhound::shard::{self, Inputs};
use flowhound_gen::GenConfig;
use flowhound_geo::GeoStack;
use std::path::{Path, PathBuf};

const CONFIG: &str = "[analysis]\nmin_severity = \"low\"\n";

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fh-shard-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A finding as comparable text: every serialised field plus its rows, the id and links last (so that
/// a difference shows as one finding, not as a shift of every id after it).
fn text(f: &Finding) -> String {
    let mut v = serde_json::to_value(f).unwrap();
    let id = v.as_object_mut().unwrap().remove("id");
    let related = v.as_object_mut().unwrap().remove("related");
    format!("{v} rows={:?} id={id:?} related={related:?}", f.flow_rows)
}

struct Case {
    inputs: Vec<String>,
    baseline: Baseline,
    nets: InternalNets,
    geo: GeoStack,
    config: Config,
}

fn case(cfg: &GenConfig, dir: &Path, self_learned: bool) -> Case {
    let summary = flowhound_gen::generate(cfg, dir, &|_, _| {}).unwrap();
    let p = |n: &str| dir.join(n).display().to_string();
    let inputs = vec![p("test.parquet"), p("servers.parquet")];
    let nets = InternalNets::new(vec![Cidr::parse(&summary.truth.network.subnet).unwrap()]);
    let learn_from = if self_learned {
        inputs.clone()
    } else {
        vec![p("normal.parquet")]
    };
    case_of(inputs, learn_from, nets, self_learned)
}

/// `inputs` with the baseline learned from `learn_from` (robustly when `self_learned`).
fn case_of(
    inputs: Vec<String>,
    learn_from: Vec<String>,
    nets: InternalNets,
    self_learned: bool,
) -> Case {
    let geo = GeoStack::from_options(&[], &[], true).unwrap();
    let config = Config::from_toml(CONFIG, "test config").unwrap();
    let flows =
        Flows::from_batches(&read_all(&learn_from, &ReadOptions::default()).unwrap().0).unwrap();
    let baseline = learn(
        &flows,
        &nets,
        &geo,
        &config.baseline,
        learn_from,
        self_learned,
    )
    .unwrap();
    Case {
        inputs,
        baseline,
        nets,
        geo,
        config,
    }
}

/// `normal` and `test` written as the analysts' CSV in `dir`, the baseline learned from `normal`
/// (default internal networks).
fn csv_case<R: detect_support::CsvRow>(dir: &Path, normal: &[R], test: &[R]) -> Case {
    detect_support::write_csv(dir, "normal.csv", normal);
    detect_support::write_csv(dir, "test.csv", test);
    let p = |n: &str| dir.join(n).display().to_string();
    case_of(
        vec![p("test.csv")],
        vec![p("normal.csv")],
        InternalNets::default(),
        false,
    )
}

fn in_memory(c: &Case) -> Vec<String> {
    let batches = read_all(&c.inputs, &ReadOptions::default()).unwrap().0;
    let flows = Flows::from_batches(&batches).unwrap();
    let ctx = DetectCtx::new(&batches, &flows, &c.baseline, &c.geo, &c.nets, &c.config);
    let names = c.config.analysis.detectors.clone();
    run(&ctx, &names).unwrap().iter().map(text).collect()
}

/// `inputs` routed into `shards` host shards under `tmp_dir`.
fn route(c: &Case, inputs: &[String], shards: usize, tmp_dir: &Path) -> shard::Sharded {
    let opts = ReadOptions::default();
    let plan = prepare(inputs, &opts).unwrap();
    let ro = shard::RouteOptions::new(shards, c.baseline.window_secs, &c.config);
    let spill = shard::spill_dir(Some(tmp_dir)).unwrap();
    shard::route(&plan, &opts, &c.nets, ro, spill).unwrap()
}

fn sharded(c: &Case, shards: usize, tmp_dir: &Path) -> Vec<String> {
    let s = route(c, &c.inputs, shards, tmp_dir);
    let inp = Inputs {
        baseline: &c.baseline,
        geo: &c.geo,
        nets: &c.nets,
        config: &c.config,
        limit_bytes: 64 << 30,
        cancel: None,
    };
    let env = (&c.nets, &c.geo, &c.config.baseline, 64u64 << 30);
    let relearned = s
        .learn(
            env,
            c.baseline.source.files.clone(),
            c.baseline.robust(),
            |_, _| {},
        )
        .unwrap();
    if c.baseline.robust() {
        // learned from these very flows: sharded learning gives the same baseline
        assert_eq!(relearned.to_json().unwrap(), c.baseline.to_json().unwrap());
    }
    // fewer shards than asked when there are fewer buckets with hosts (a capture of five hosts)
    let planned = s.shards;
    assert!(planned <= shards);
    let mut seen = 0;
    let d = s.detect(&inp, None, |done, _| seen = done).unwrap();
    assert_eq!(seen, planned + 1);
    let spill = s.dir().to_path_buf();
    assert!(spill.exists());
    drop(s);
    assert!(!spill.exists(), "the shard directory is removed");
    d.findings.iter().map(text).collect()
}

/// Where two texts first differ, with 150 characters of each from there.
fn first_diff(a: &str, b: &str) -> (usize, String) {
    let i = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let cut = |s: &str| {
        s.get(i.saturating_sub(60)..(i + 150).min(s.len()))
            .unwrap_or("")
            .to_string()
    };
    (i, format!("{} <<>> {}", cut(a), cut(b)))
}

/// Equal apart from id and links.
fn same(a: &str, b: &str) -> bool {
    a.split(" id=").next() == b.split(" id=").next()
}

fn check(name: &str, cfg: GenConfig, self_learned: bool) {
    let dir = tmp(name);
    let c = case(&cfg, &dir, self_learned);
    compare(name, &c, &dir);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The findings of `c` in memory, checked equal to those with 3 and 8 host shards.
fn compare(name: &str, c: &Case, dir: &Path) -> Vec<String> {
    let want = in_memory(c);
    assert!(!want.is_empty(), "{name}: the scenarios give findings");
    for shards in [3, 8] {
        let got = sharded(c, shards, dir);
        let diff: Vec<String> = want
            .iter()
            .filter(|w| !got.iter().any(|g| same(g, w)))
            .map(|w| {
                let near = got
                    .iter()
                    .filter(|g| !want.contains(g))
                    .map(|g| first_diff(w, g))
                    .max_by_key(|d| d.0);
                format!(
                    "missing: {}\n   nearest differs at: {:?}",
                    &w[..w.len().min(300)],
                    near.map(|d| d.1)
                )
            })
            .chain(
                got.iter()
                    .filter(|g| !want.iter().any(|w| same(g, w)))
                    .map(|g| format!("extra:   {}", &g[..g.len().min(400)])),
            )
            .collect();
        assert!(
            diff.is_empty() && got == want,
            "{name}, {shards} shards: {} findings in memory, {} sharded; differences:\n{}",
            want.len(),
            got.len(),
            diff.join("\n")
        );
    }
    want
}

#[test]
fn a_peer_to_peer_overlay_self_learned() {
    // a device in a P2P botnet's overlay: its dialled peers and those dialling in to its listen port
    // are all in its shard, so the overlay is the same finding
    let dir = tmp("p2p");
    let rows = detect_support::p2p::capture(7, 10, |_| Vec::new());
    detect_support::write_csv(&dir, "capture.csv", &rows);
    let inputs = vec![dir.join("capture.csv").display().to_string()];
    let c = case_of(inputs.clone(), inputs, InternalNets::default(), true);
    let found = compare("p2p", &c, &dir);
    assert!(
        found.iter().any(|f| f.contains("p2p_overlay")),
        "{found:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_scenario_default_configuration() {
    let cfg = GenConfig {
        seed: 7,
        flows_normal: 60_000,
        flows_test: 30_000,
        flows_servers: 15_000,
        clients: 60,
        ..GenConfig::default()
    };
    check("default", cfg, false);
}

/// Seeds of the random configurations: 3 and 11, or `FLOWHOUND_SHARD_SEEDS` (e.g. `1,2,3,4`) for a wider
/// local sweep.
fn seeds() -> Vec<u64> {
    std::env::var("FLOWHOUND_SHARD_SEEDS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![3, 11])
}

#[test]
fn random_small_configurations() {
    for seed in seeds() {
        check(
            &format!("random{seed}"),
            GenConfig::random_small(seed, 6_000),
            false,
        );
    }
}

#[test]
fn self_learned_baseline() {
    let cfg = GenConfig {
        seed: 5,
        flows_normal: 20_000,
        flows_test: 30_000,
        flows_servers: 15_000,
        clients: 40,
        ..GenConfig::default()
    };
    check("self", cfg, true);
}

#[test]
fn normal_baseline_learned_by_shards_equals_in_memory() {
    let dir = tmp("learn");
    let cfg = GenConfig {
        seed: 9,
        flows_normal: 40_000,
        flows_test: 10_000,
        flows_servers: 5_000,
        clients: 50,
        ..GenConfig::default()
    };
    let c = case(&cfg, &dir, false);
    let normal = vec![dir.join("normal.parquet").display().to_string()];
    for shards in [2, 5] {
        let s = route(&c, &normal, shards, &dir);
        let env = (&c.nets, &c.geo, &c.config.baseline, 64u64 << 30);
        let b = s.learn(env, normal.clone(), false, |_, _| {}).unwrap();
        assert_eq!(
            b.to_json().unwrap(),
            c.baseline.to_json().unwrap(),
            "{shards} shards"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `shared_cnc` pivots after the shards' findings are merged, on the whole input's statistics: a bot
/// beaconing to a new address every 5 minutes, and two more hosts reaching it a few times, give the
/// same findings out of core as in memory (the two are named).
#[test]
fn a_pivot_on_a_cnc_peer_is_the_same_out_of_core() {
    let dir = tmp("pivot");
    const DAY: i64 = 1_772_409_600;
    let csv = |name: &str, rows: &[(i64, u32, &str)]| -> String {
        let mut text = String::from("timestamp,src_ip,dst_ip,proto,port,up_bytes,down_bytes\n");
        for (ts, host, dst) in rows {
            text += &format!("{ts},10.1.0.{host},{dst},tcp,443,700,2100\n");
        }
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let browse = |day: i64| -> Vec<(i64, u32, &str)> {
        (1..=12u32)
            .flat_map(|i| {
                (8..18).map(move |h| {
                    (
                        DAY + day * 86_400 + h * 3600 + i64::from(i) * 60,
                        i,
                        "93.184.216.34",
                    )
                })
            })
            .collect()
    };
    let mut test = browse(1);
    let t0 = DAY + 86_400 + 8 * 3600;
    test.extend((0..120).map(|k| (t0 + k * 300 + (k * 5 % 7) - 3, 1, "185.220.101.7")));
    test.extend([400, 4_900, 9_100, 16_000].map(|s| (t0 + s, 2, "185.220.101.7")));
    test.push((t0 + 12_345, 3, "185.220.101.7"));
    let normal = vec![csv("normal.csv", &browse(0))];
    let nets = InternalNets::new(vec![Cidr::parse("10.1.0.0/24").unwrap()]);
    let geo = GeoStack::from_options(&[], &[], true).unwrap();
    let config = Config::from_toml(CONFIG, "test config").unwrap();
    let flows =
        Flows::from_batches(&read_all(&normal, &ReadOptions::default()).unwrap().0).unwrap();
    let baseline = learn(&flows, &nets, &geo, &config.baseline, normal, false).unwrap();
    let c = Case {
        inputs: vec![csv("test.csv", &test)],
        baseline,
        nets,
        geo,
        config,
    };
    let found = compare("pivot", &c, &dir);
    let pivots = found
        .iter()
        .filter(|f| f.contains("\"kind\":\"shared_cnc\""))
        .count();
    assert_eq!(pivots, 2, "{found:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spam_bot_beside_a_relay_only_the_test_input_shows() {
    // the relay is one by the external clients delivering to it in the test input, which are in its
    // own shard: the spam finding of a bot in another shard must read the same
    use detect_support::p2p::{clients, peers, Rng, T0};
    let dir = tmp("spam");
    let mut rng = Rng(3);
    let normal = clients(&mut rng, T0, 6);
    let t1 = T0 + 86_400;
    let mut test = clients(&mut rng, t1, 6);
    let (bot, relay) = ("192.168.1.20", "192.168.1.25");
    for (k, (mx, _)) in peers(&mut rng, 60).iter().enumerate() {
        let t = t1 + 60 * k as i64;
        test.push(("tcp", (t, bot.into(), mx.clone(), 25, 9_000, 600)));
        test.push(("tcp", (t + 5, mx.clone(), relay.into(), 25, 12_000, 700)));
        test.push(("tcp", (t + 9, relay.into(), mx.clone(), 25, 9_000, 600)));
    }
    test.sort_by_key(|r| r.1 .0);
    let c = csv_case(&dir, &normal, &test);
    let found = compare("spam", &c, &dir);
    let spam: Vec<&String> = found.iter().filter(|f| f.contains("\"spam\"")).collect();
    assert_eq!(spam.len(), 1, "the bot only, not the relay: {found:#?}");
    assert!(spam[0].contains(bot), "{spam:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `dropper` judges a browsing host's server by whether any other host reached it, which is a
/// whole-input statistic: a mirror one workstation fetched three files from, and a colleague in
/// another shard once, is no loader's server out of core either, and the loader's is found in both.
#[test]
fn a_browsing_hosts_dropper_is_the_same_out_of_core() {
    use detect_support::Row;
    let dir = tmp("dropper");
    const DAY: i64 = 1_767_225_600;
    let row = |t: i64, src: u32, dst: String, port: u16, down: u64| -> Row {
        (t, format!("10.0.0.{src}"), dst, port, 400, down)
    };
    // ten workstations, 40 sites each (a page and an object), sites numbered from `first`
    let lan = |day: i64, first: u32| -> Vec<Row> {
        let mut rows = Vec::new();
        for v in detect_support::browsing::visits(day, first) {
            let port = if v.s % 4 == 0 { 80 } else { 443 };
            rows.push(row(v.t, 10 + v.h, v.site.clone(), port, 3_000));
            rows.push(row(v.t + 2, 10 + v.h, v.site, port, 90_000));
        }
        rows
    };
    let mut test = lan(DAY + 86_400, 1_000);
    let t0 = DAY + 86_400 + 36_000;
    for k in 0..3i64 {
        test.push(row(t0 + k * 200, 12, "203.0.113.50".into(), 80, 600_000));
        test.push(row(
            t0 + 9_000 + k * 60,
            13,
            "203.0.113.60".into(),
            80,
            600_000,
        ));
    }
    test.push(row(t0 + 20_000, 14, "203.0.113.60".into(), 443, 9_000));
    test.sort_by_key(|r| r.0);
    let c = csv_case(&dir, &lan(DAY, 0), &test);
    let found = compare("dropper", &c, &dir);
    let droppers: Vec<&String> = found
        .iter()
        .filter(|f| f.contains("\"kind\":\"dropper\""))
        .collect();
    assert_eq!(droppers.len(), 1, "{found:#?}");
    assert!(droppers[0].contains("203.0.113.50"), "{droppers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `proxied_cnc` pairs the proxy's upstream connections (in the proxy's host shard) with the clients'
/// connections to it (in the internal-pairs shard): two bots behind the proxy, checking in with one
/// C&C server at interleaved moments, are both named out of core as in memory.
#[test]
fn a_beacon_through_the_proxy_is_the_same_out_of_core() {
    use detect_support::browsing::{proxied, proxied_lan};
    let dir = tmp("proxied");
    const DAY: i64 = 1_767_225_600;
    let mut test = proxied_lan(DAY + 86_400, 1_000);
    for k in 0..60i64 {
        let t = DAY + 86_400 + 30_000 + k * 300;
        test.extend(proxied(
            t + k % 7,
            "10.0.0.12",
            "203.0.113.66",
            (310, 1_150),
        ));
        test.extend(proxied(
            t + 140 + k % 5,
            "10.0.0.16",
            "203.0.113.66",
            (290, 1_230),
        ));
    }
    test.sort_by_key(|r| r.0);
    let c = csv_case(&dir, &proxied_lan(DAY, 0), &test);
    let found = compare("proxied", &c, &dir);
    let named: Vec<&String> = found
        .iter()
        .filter(|f| f.contains("\"detector\":\"proxied_cnc\""))
        .collect();
    assert_eq!(named.len(), 2, "{found:#?}");
    assert!(
        named.iter().all(|f| f.contains("203.0.113.66")),
        "{named:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
