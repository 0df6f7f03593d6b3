//! The union of day states too large to hold together (a rolling baseline of busy days, `flowhound
//! baseline update` under `--memory-limit`): derived host part by part. Each day's state file is read
//! once and split by host into parts spilled to a temporary directory; then each part's days are
//! merged and compacted ([`State::compact`]: a part holds every day of its hosts), and the compacted
//! parts merged. The baseline derived from the result equals the one derived from all days merged.

use super::codec;
use super::state::State;
use crate::error::{FlowError, Result};
use std::path::{Path, PathBuf};

/// Splits `st` into `parts` states by host (the host-shard hash of its address): part `p` holds the
/// hosts of `p`; part 0 also holds everything not kept per host (counts, histograms, services, edges,
/// geography). Merged back together they are `st`.
pub(crate) fn split_hosts(mut st: State, parts: usize) -> Vec<State> {
    let parts = parts.max(1);
    let hosts = std::mem::take(&mut st.hosts);
    let mut out: Vec<State> = (0..parts)
        .map(|_| State {
            grid: st.grid,
            nets: st.nets.clone(),
            settings: st.settings.clone(),
            ..Default::default()
        })
        .collect();
    for (ip, h) in hosts {
        out[crate::shard::route::shard_of(ip, parts)]
            .hosts
            .insert(ip, h);
    }
    let base = std::mem::take(&mut out[0]);
    st.hosts = base.hosts;
    out[0] = st;
    out
}

/// The union of `n` day states (`load(k)` reads day `k`), each host's habits derived, computed
/// `parts` host parts at a time with spill files under `tmp` (removed before returning).
pub fn compacted_union(
    n: usize,
    load: impl Fn(usize) -> Result<State>,
    parts: usize,
    tmp: &Path,
) -> Result<State> {
    let dir = tempfile::Builder::new()
        .prefix("flowhound-union-")
        .tempdir_in(tmp)
        .map_err(|e| FlowError::io(tmp, e))?;
    let mut spilled: Vec<Vec<PathBuf>> = vec![Vec::new(); parts.max(1)];
    for d in 0..n {
        for (p, part) in split_hosts(load(d)?, parts).into_iter().enumerate() {
            let path = dir.path().join(format!("{p}-{d}"));
            write(&path, &part)?;
            spilled[p].push(path);
        }
        crate::shard::memory::release_free();
    }
    let mut union = State::default();
    for part in spilled {
        let mut mine = State::default();
        for path in &part {
            mine.merge(read(path)?)?;
        }
        mine.compact();
        union.merge(mine)?;
        crate::shard::memory::release_free();
    }
    Ok(union)
}

/// A state spilled by [`write`], read back.
pub(crate) fn read(path: &Path) -> Result<State> {
    let bytes = std::fs::read(path).map_err(|e| FlowError::io(path, e))?;
    codec::decode(&bytes)
        .map_err(|why| FlowError::Internal(format!("{}: spilled state: {why}", path.display())))
}

/// Spills `st` to `path` (its binary form).
pub(crate) fn write(path: &Path, st: &State) -> Result<()> {
    let bytes = codec::encode(st).map_err(|e| FlowError::io(path, e))?;
    std::fs::write(path, bytes).map_err(|e| FlowError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::learn_days;
    use crate::config::BaselineConfig;
    use crate::detect::flows::Flows;
    use crate::net::InternalNets;
    use flowhound_geo::GeoStack;
    use std::sync::atomic::AtomicBool;

    /// Day states of a generated normal input over 3 days: split by host and merged back they are
    /// the same state, and their union derived by parts gives the baseline of all days merged.
    #[test]
    fn unions_by_host_parts_equal_the_union() {
        let g = flowhound_gen::GenConfig {
            seed: 8,
            flows_normal: 30_000,
            flows_test: 1_000,
            flows_servers: 200,
            clients: 40,
            normal_days: 3,
            ..Default::default()
        };
        let (dir, read) = crate::test_data::generated(&g, "normal.parquet");
        let flows = Flows::from_batches(&read).unwrap();
        let (nets, geo, cfg) = (
            InternalNets::default(),
            GeoStack::new(),
            BaselineConfig::default(),
        );
        let never = AtomicBool::new(false);
        let days: Vec<State> = learn_days(&flows, &nets, &geo, &cfg, vec![], &never)
            .unwrap()
            .into_iter()
            .map(|(_, st)| st)
            .collect();
        assert_eq!(days.len(), 3);
        let bytes = |st: &State| codec::encode(st).unwrap();
        let five = split_hosts(days[0].clone(), 5);
        assert!(five.iter().all(|p| p.hosts() > 0), "every part holds hosts");
        assert!(
            five[1..].iter().all(|p| p.flows() == 0),
            "counted once, in part 0"
        );
        for parts in [1, 2, 5] {
            let mut back = State::default();
            for part in split_hosts(days[0].clone(), parts) {
                back.merge(part).unwrap();
            }
            assert_eq!(bytes(&back), bytes(&days[0]), "split in {parts}, merged");
        }
        let baseline = |st: State| serde_json::to_string(&st.finish().unwrap()).unwrap();
        let mut all = State::default();
        days.iter().for_each(|d| all.merge(d.clone()).unwrap());
        let whole = baseline(all);
        assert!(whole.contains("192.168.105."), "hosts learned");
        for parts in [1, 3, 64] {
            let union = compacted_union(days.len(), |k| Ok(days[k].clone()), parts, dir.path());
            assert_eq!(baseline(union.unwrap()), whole, "{parts} parts");
        }
        let left = std::fs::read_dir(dir.path()).unwrap();
        let spills = left.filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("flowhound-union-")
        });
        assert_eq!(spills.count(), 0, "spill removed");
    }
}
