//! Out-of-core `baseline` and `baseline update` through the binary (issue 13, part 2): a normal input
//! routed into host shards on disk (`--shards 3`) and learned shard by shard writes the same baseline
//! JSON and the same per-day learning states as the in-memory run, and the spill directory is gone.

mod common;

use common::{flowhound, Scratch};
use std::path::Path;

/// Every file under `dir` (relative name, bytes), sorted by name.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            for (n, b) in tree(&p) {
                out.push((format!("{name}/{n}"), b));
            }
        } else {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

/// The baseline JSON with its own path (which differs between the two runs) taken out.
fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let dir = path.parent().unwrap().display().to_string();
    serde_json::from_str(&text.replace(&dir, "DIR")).unwrap()
}

#[test]
fn sharded_baseline_and_update_equal_in_memory() {
    let s = Scratch::new("baseline-ooc");
    let data = s.path("data");
    let d = |n: &str| data.join(n).display().to_string();
    flowhound(&[
        "generate",
        "--out",
        &data.display().to_string(),
        "--seed",
        "5",
        "--clients",
        "40",
        "--flows-normal",
        "40000",
        "--flows-test",
        "20000",
        "--flows-servers",
        "5000",
    ])
    .ok("generate");
    let spill = s.path("spill");
    std::fs::create_dir_all(&spill).unwrap();
    let (mem, ooc) = (s.path("mem"), s.path("ooc"));
    for dir in [&mem, &ooc] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let b = |dir: &Path| dir.join("baseline.json").display().to_string();
    let normal = [d("normal.parquet"), d("servers.parquet")];
    let scale = ["--shards", "3", "--tmp-dir", &spill.display().to_string()];
    let learn = |out: String, extra: &[&str]| {
        let mut args = vec!["baseline".to_string(), "-q".into()];
        args.extend(normal.iter().cloned());
        args.extend(["-o".to_string(), out]);
        args.extend(extra.iter().map(|x| x.to_string()));
        flowhound(&args)
    };
    learn(b(&mem), &[]).ok("in memory");
    let (_, err) = learn(b(&ooc), &scale).ok("out of core");
    assert!(err.is_empty(), "quiet run printed: {err}");
    assert_eq!(
        json(&mem.join("baseline.json")),
        json(&ooc.join("baseline.json"))
    );
    let days = |dir: &Path| tree(&dir.join("baseline.json.days"));
    assert!(!days(&mem).is_empty());
    assert_eq!(days(&mem), days(&ooc), "per-day learning states");

    // the newest day only: older days age out before they are written, out of core as in memory
    let (mem1, ooc1) = (s.path("mem1"), s.path("ooc1"));
    for dir in [&mem1, &ooc1] {
        std::fs::create_dir_all(dir).unwrap();
    }
    learn(b(&mem1), &["--keep-days", "1"]).ok("in memory, 1 day");
    let mut one_day = scale.to_vec();
    one_day.extend(["--keep-days", "1"]);
    learn(b(&ooc1), &one_day).ok("out of core, 1 day");
    assert_eq!(days(&mem1).len(), 1);
    assert!(days(&mem).len() > 1, "the input spans several days");
    assert_eq!(
        json(&mem1.join("baseline.json")),
        json(&ooc1.join("baseline.json"))
    );
    assert_eq!(days(&mem1), days(&ooc1), "the kept day's state");

    // a new day rolled in (its day found from the routed flows out of core), in memory and out of core
    let update = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["baseline", "update", "-q", "--baseline"];
        let path = b(dir);
        let test = d("test.parquet");
        args.extend([path.as_str(), test.as_str()]);
        args.extend(extra);
        flowhound(&args).ok("update");
    };
    update(&mem, &[]);
    update(&ooc, &scale);
    assert_eq!(
        json(&mem.join("baseline.json")),
        json(&ooc.join("baseline.json"))
    );
    assert_eq!(
        days(&mem),
        days(&ooc),
        "per-day learning states after the update"
    );

    // the verbose run says it went out of core; no spill directory is left behind
    let (_, err) = flowhound(&[
        "baseline",
        &normal[0],
        "-o",
        &s.path("v.json").display().to_string(),
        "--shards",
        "3",
        "--tmp-dir",
        &spill.display().to_string(),
    ])
    .ok("verbose");
    assert!(
        err.contains("out of core: learned from 3 host shards"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(&spill).unwrap().collect();
    assert!(left.is_empty(), "spill left behind: {left:?}");
}
