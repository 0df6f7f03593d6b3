//! Rolling and mergeable baselines (issue 13 part 4) on generated data: learning days at once equals
//! learning the first day and updating with the others; a window of k days equals learning the last
//! k days; merging host shards (every scenario of the generator in the capture) equals learning the
//! whole capture; day states survive their file format; bad day states are errors, not panics.

use datafusion::arrow::array::BooleanArray;
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::baseline::days::{self, Day};
use flowhound::baseline::{
    day_of, learn, learn_days, learn_part, learn_state, merge, owner, Baseline, State,
};
use flowhound::config::BaselineConfig;
use flowhound::detect::flows::Flows;
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::InternalNets;
use flowhound_gen::GenConfig;
use flowhound_geo::GeoStack;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

struct Data {
    _dir: Scratch,
    normal: Vec<RecordBatch>,
    test: Vec<RecordBatch>,
}

struct Scratch(PathBuf);

#[path = "../../flowhound-cli/tests/common/stale.rs"]
mod stale;

impl Scratch {
    /// A fresh `fh-rolling-TAG-PID` directory; the data held in a `static` is never dropped, so
    /// the directories of runs that ended are removed first.
    fn new(tag: &str) -> Scratch {
        stale::remove_stale(&format!("fh-rolling-{tag}-"));
        let d = std::env::temp_dir().join(format!("fh-rolling-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Four days of normal and a test capture with every scenario (small: the debug build runs it).
fn data() -> &'static Data {
    static D: OnceLock<Data> = OnceLock::new();
    D.get_or_init(|| {
        let dir = Scratch::new("gen");
        let cfg = GenConfig {
            seed: 11,
            flows_normal: 24_000,
            flows_test: 20_000,
            flows_servers: 1_000,
            clients: 60,
            normal_days: 4,
            ..Default::default()
        };
        flowhound_gen::generate(&cfg, &dir.0, &|_, _| {}).unwrap();
        let read = |n: &str| {
            let p = dir.0.join(n).to_string_lossy().to_string();
            read_all(&[p], &ReadOptions::default()).unwrap().0
        };
        Data {
            normal: read("normal.parquet"),
            test: read("test.parquet"),
            _dir: dir,
        }
    })
}

/// The rows of `batches` whose index `keep` accepts, as flows.
fn subset(batches: &[RecordBatch], keep: impl Fn(usize) -> bool) -> Flows {
    let mut out = Vec::new();
    let mut at = 0;
    for b in batches {
        let mask: BooleanArray = (0..b.num_rows()).map(|i| Some(keep(at + i))).collect();
        at += b.num_rows();
        out.push(filter_record_batch(b, &mask).unwrap());
    }
    Flows::from_batches(&out).unwrap()
}

/// The flows of each UTC day, oldest first.
fn by_day(batches: &[RecordBatch]) -> Vec<(i64, Flows)> {
    let all = Flows::from_batches(batches).unwrap();
    let mut ds: Vec<i64> = all.ts.iter().map(|t| day_of(*t)).collect();
    ds.sort_unstable();
    ds.dedup();
    ds.into_iter()
        .map(|d| (d, subset(batches, |i| day_of(all.ts[i]) == d)))
        .collect()
}

/// Asserts that two baselines agree on everything detectors read (all but `days` and the input
/// file names), naming the first section that differs.
fn assert_same(a: &Baseline, b: &Baseline, what: &str) {
    let strip = |b: &Baseline| {
        let mut v = serde_json::to_value(b).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("days");
        o["source"].as_object_mut().unwrap().remove("files");
        v
    };
    let (x, y) = (strip(a), strip(b));
    for (k, v) in x.as_object().unwrap() {
        assert!(
            *v == y[k],
            "{what}: section '{k}' differs:\n{}\nvs\n{}",
            &v.to_string()[..v.to_string().len().min(2000)],
            &y[k].to_string()[..y[k].to_string().len().min(2000)]
        );
    }
    assert_eq!(x, y, "{what}");
}

fn ctx() -> (InternalNets, GeoStack, BaselineConfig) {
    let mut cfg = BaselineConfig::default();
    cfg.exclude.push("192.168.105.9:8080".into());
    (InternalNets::default(), GeoStack::new(), cfg)
}

fn roll_in(path: &Path, flows: &Flows, label: &str, keep: usize) -> Baseline {
    let (nets, geo, cfg) = ctx();
    let old = Baseline::load(path).unwrap();
    let mut kept = days::load(path, &old).unwrap();
    let st = learn_state(flows, &nets, &geo, &cfg, vec![format!("{label}.parquet")]).unwrap();
    days::check_compatible(path, &kept, &st).unwrap();
    days::roll(&mut kept, Day::new(label.into(), st), keep).unwrap();
    days::write(path, kept, State::empty(&cfg, &nets)).unwrap()
}

#[test]
fn first_day_plus_updates_equals_learning_all_days() {
    let d = data();
    let (nets, geo, cfg) = ctx();
    let all = Flows::from_batches(&d.normal).unwrap();
    let at_once = learn(&all, &nets, &geo, &cfg, vec![], false).unwrap();
    assert!(at_once.hosts.len() >= 60 && at_once.habits.present());
    let daily = by_day(&d.normal);
    assert!(daily.len() >= 4, "{} days", daily.len());
    let dir = Scratch::new("updates");
    let path = dir.0.join("b.json");
    // `flowhound baseline` over every day: one state per day, the same baseline
    let never = std::sync::atomic::AtomicBool::new(false);
    let states = learn_days(&all, &nets, &geo, &cfg, vec![], &never).unwrap();
    assert_eq!(states.len(), daily.len());
    let list = states
        .into_iter()
        .map(|(day, st)| Day::new(days::label(day), st))
        .collect();
    let b = days::write(&path, list, State::empty(&cfg, &nets)).unwrap();
    assert_same(&b, &at_once, "learn_days");
    assert_eq!(b.days.len(), daily.len());
    // the first day, then each other day as an update
    let (d0, f0) = &daily[0];
    let st = learn_state(f0, &nets, &geo, &cfg, vec![]).unwrap();
    days::write(
        &path,
        vec![Day::new(days::label(*d0), st)],
        State::empty(&cfg, &nets),
    )
    .unwrap();
    let mut rolled = Baseline::default();
    for (day, f) in &daily[1..] {
        rolled = roll_in(&path, f, &days::label(*day), 30);
    }
    assert_same(&rolled, &at_once, "first day + updates");
    // the file as written reads back the same, and one state file per day is left
    let back = Baseline::load(&path).unwrap();
    assert_eq!(back, rolled);
    let states = std::fs::read_dir(days::sidecar_dir(&path)).unwrap().count();
    assert_eq!(states, daily.len());
    // the same day again replaces it: nothing changes
    let (last_day, last) = daily.last().unwrap();
    let again = roll_in(&path, last, &days::label(*last_day), 30);
    assert_same(&again, &at_once, "a day updated twice counts once");
    // a window of 2 days equals learning the last 2 days
    let (prev_day, _) = &daily[daily.len() - 2];
    let last_two = subset(&d.normal, |i| day_of(all.ts[i]) >= *prev_day);
    let want = learn(&last_two, &nets, &geo, &cfg, vec![], false).unwrap();
    let got = roll_in(&path, last, &days::label(*last_day), 2);
    assert_same(&got, &want, "keep 2 days");
    assert_eq!(got.days.len(), 2);
    let states = std::fs::read_dir(days::sidecar_dir(&path)).unwrap().count();
    assert_eq!(states, 2, "aged-out day states are removed");
}

#[test]
fn host_shards_merge_to_the_whole_capture() {
    let d = data();
    let (nets, geo, cfg) = ctx();
    // the test capture holds every scenario of the generator (scans, floods, exfiltration, ...)
    let all = Flows::from_batches(&d.test).unwrap();
    let want = learn(&all, &nets, &geo, &cfg, vec![], false).unwrap();
    let shard = |ip: u128| (ip.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 64) as usize % 3;
    let parts: Vec<State> = (0..3)
        .map(|k| {
            // each shard's input: every flow touching one of its hosts (so a flow between two
            // internal hosts of different shards is in both inputs) plus the flows it owns
            let mine = subset(&d.test, |i| {
                let (s, t) = (all.src[i], all.dst[i]);
                (nets.contains(s) && shard(s) == k)
                    || (nets.contains(t) && shard(t) == k)
                    || shard(owner(s, t, &nets)) == k
            });
            learn_part(&mine, &nets, &geo, &cfg, vec![], |h| shard(h) == k).unwrap()
        })
        .collect();
    let hosts: Vec<usize> = parts.iter().map(|p| p.hosts()).collect();
    assert!(hosts.iter().all(|h| *h > 5), "shards of hosts: {hosts:?}");
    let overlap: u64 = parts.iter().map(|p| p.flows()).sum();
    assert_eq!(overlap, all.len() as u64, "each flow counted by one shard");
    // compacted (habits derived per shard, sightings dropped): the same baseline
    let compacted: Vec<State> = parts
        .iter()
        .map(|p| {
            let mut c = p.clone();
            c.compact();
            c
        })
        .collect();
    assert_same(
        &merge(compacted.clone()).unwrap(),
        &want,
        "3 compacted host shards",
    );
    // as a cluster executor sends them: their binary form keeps the derived habits
    let sent: Vec<State> = compacted
        .iter()
        .map(|c| State::from_bytes(&c.to_bytes().unwrap()).unwrap())
        .collect();
    assert_same(&merge(sent).unwrap(), &want, "3 compacted shards, encoded");
    // a compacted host cannot take more of its flows (its habits would be wrong): an error
    let mut twice = compacted[1].clone();
    let err = twice.merge(parts[1].clone()).unwrap_err().to_string();
    assert!(err.contains("learned in two parts"), "{err}");
    let got = merge(parts).unwrap();
    assert_same(&got, &want, "3 host shards");
}

#[test]
fn corrupt_or_missing_day_states_are_clear_errors() {
    let d = data();
    let (nets, geo, cfg) = ctx();
    let dir = Scratch::new("corrupt");
    let path = dir.0.join("b.json");
    let (day, f) = &by_day(&d.normal)[0];
    let st = learn_state(f, &nets, &geo, &cfg, vec![]).unwrap();
    let b = days::write(
        &path,
        vec![Day::new(days::label(*day), st)],
        State::empty(&cfg, &nets),
    )
    .unwrap();
    let file = days::sidecar_dir(&path).join(&b.days[0].state);
    let bytes = std::fs::read(&file).unwrap();
    for (name, content) in [
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("garbage", b"not a state".to_vec()),
        ("flipped", {
            let mut x = bytes.clone();
            let n = x.len();
            x[n - 9] ^= 0xff;
            x
        }),
    ] {
        std::fs::write(&file, &content).unwrap();
        let e = days::load(&path, &b).err().expect(name).to_string();
        assert!(
            e.contains(&*file.to_string_lossy()) && e.contains("re-learn"),
            "{name}: {e}"
        );
    }
    std::fs::remove_file(&file).unwrap();
    let e = days::load(&path, &b).err().unwrap().to_string();
    assert!(e.contains("re-learn"), "{e}");
    // a baseline without days (schema 1, or learned in memory) cannot be updated
    let old = learn(f, &nets, &geo, &cfg, vec![], false).unwrap();
    let e = days::load(&path, &old).err().unwrap().to_string();
    assert!(
        e.contains("no day state") && e.contains("flowhound baseline"),
        "{e}"
    );
    // a day learned with other windows does not merge
    let mut other = cfg.clone();
    other.window_secs = 600;
    let st = learn_state(f, &nets, &geo, &other, vec![]).unwrap();
    let kept = vec![Day::new(
        "x".into(),
        learn_state(f, &nets, &geo, &cfg, vec![]).unwrap(),
    )];
    let e = days::check_compatible(&path, &kept, &st)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("window_secs 3600") && e.contains("window_secs 600"),
        "{e}"
    );
}

/// The pandas oracle (`tests/oracle/notebook_oracle.py`) on the analysts' fixture, learned as two
/// halves of its rows merged: a host window cut between the halves is summed back, so the global and
/// per-host statistics are still pandas' own.
#[test]
fn merged_halves_keep_the_pandas_statistics() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests");
    let exp: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/oracle/notebook_expected.json")).unwrap(),
    )
    .unwrap();
    let path = format!("{root}/fixtures/outliers/normal.parquet");
    let batches = read_all(&[path], &ReadOptions::default()).unwrap().0;
    let n: usize = batches.iter().map(|b| b.num_rows()).sum();
    let (nets, geo, cfg) = ctx();
    let halves: Vec<State> = [0, 1]
        .iter()
        .map(|h| {
            let part = subset(&batches, |i| (i < n / 2) == (*h == 0));
            learn_state(&part, &nets, &geo, &cfg, vec![]).unwrap()
        })
        .collect();
    let b = merge(halves).unwrap();
    let close = |a: f64, b: &serde_json::Value| {
        let b = b.as_f64().unwrap();
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    };
    for (name, s) in [
        ("up_bytes", &b.global.up_bytes),
        ("down_bytes", &b.global.down_bytes),
    ] {
        let w = &exp["normal_stats"][name];
        for (k, got) in [
            ("mean", s.mean),
            ("std", s.std),
            ("q1", s.q1),
            ("median", s.median),
            ("q3", s.q3),
            ("mad", s.mad),
        ] {
            assert!(close(got, &w[k]), "{name} {k}: {got} vs {}", w[k]);
        }
    }
    let o = &exp["exfil_host"];
    let h = &b.hosts[o["host"].as_str().unwrap()];
    assert_eq!(h.active_windows, o["normal_windows"].as_u64().unwrap());
    let up = &h.per_window.up_bytes;
    assert!(close(up.median, &o["normal_median"]), "{}", up.median);
    assert!(close(up.p99, &o["normal_p99"]), "{}", up.p99);
    assert!(close(up.mean, &o["normal_mean"]) && close(up.std, &o["normal_std"]));
}

/// A connection that started before midnight but was logged in the next day's files stays with that
/// day's update and is counted once, with its true start: the result still equals learning every flow
/// at once (the documented rule for late flows).
#[test]
fn late_flows_in_the_next_days_input_count_once() {
    let d = data();
    let (nets, geo, cfg) = ctx();
    let all = Flows::from_batches(&d.normal).unwrap();
    let days_all = by_day(&d.normal);
    let (d0, d1) = (days_all[0].0, days_all[1].0);
    let evening = (d0 + 1) * flowhound::baseline::DAY_US - 3 * 3_600_000_000;
    let first = subset(&d.normal, |i| {
        day_of(all.ts[i]) == d0 && all.ts[i] < evening
    });
    let second = subset(&d.normal, |i| {
        (day_of(all.ts[i]) == d0 && all.ts[i] >= evening) || day_of(all.ts[i]) == d1
    });
    let both = subset(&d.normal, |i| day_of(all.ts[i]) <= d1);
    let want = learn(&both, &nets, &geo, &cfg, vec![], false).unwrap();
    let dir = Scratch::new("late");
    let path = dir.0.join("b.json");
    let st = learn_state(&first, &nets, &geo, &cfg, vec![]).unwrap();
    days::write(
        &path,
        vec![Day::new(days::label(d0), st)],
        State::empty(&cfg, &nets),
    )
    .unwrap();
    assert_eq!(days::main_day(&second.ts), Some(days::label(d1)));
    let got = roll_in(&path, &second, &days::label(d1), 7);
    assert_same(&got, &want, "late flows");
    assert_eq!(got.days.len(), 2);
}
