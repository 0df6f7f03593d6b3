//! Learning a baseline from a normal input routed into host shards: each shard's learning state
//! counts exactly the flows its hosts own ([`crate::baseline::owner`], the routing rule), and the
//! states merge into the one learned from every flow at once (tests/shard_equal.rs).

use super::memory::{flows_per_shard, format_size, limit_for, release_free, resident_bytes};
use super::run::pack;
use super::Sharded;
use crate::baseline::union;
use crate::baseline::{learn_days, learn_shard, Baseline, State};
use crate::config::BaselineConfig;
use crate::error::{FlowError, Result};
use crate::net::InternalNets;
use flowhound_geo::GeoStack;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// What learning needs besides the flows: the internal networks, the geo stack, the settings and
/// the memory one shard may use.
pub type LearnEnv<'a> = (&'a InternalNets, &'a GeoStack, &'a BaselineConfig, u64);

impl Sharded {
    /// Learns a baseline shard by shard ([`crate::baseline::learn_shard`], then
    /// [`crate::baseline::merge`]): equal to learning from every flow at once. `self_learned`: the
    /// robust baseline single-capture mode learns from the test input itself.
    pub fn learn(
        &self,
        env: LearnEnv,
        files: Vec<String>,
        self_learned: bool,
        progress: impl FnMut(usize, usize),
    ) -> Result<Baseline> {
        let all = self.states(env, self_learned, true, progress)?;
        let mut b = all.finish()?;
        release_free();
        b.source.files = files;
        Ok(b)
    }

    /// The learning state of every flow ([`crate::baseline::learn_state`] of the whole input),
    /// learned shard by shard.
    pub fn learn_state(
        &self,
        env: LearnEnv,
        files: Vec<String>,
        self_learned: bool,
        progress: impl FnMut(usize, usize),
    ) -> Result<State> {
        let mut all = self.states(env, self_learned, false, progress)?;
        all.files = files;
        Ok(all)
    }

    /// The shards' learning states merged as they come, so that one shard's state is held beside
    /// the sum, not all of them. `compact`: each shard's hosts' habits are derived before it is
    /// merged ([`State::compact`]; a host lives in one shard), so the sum grows with the hosts,
    /// not the flows; the state then derives a baseline but cannot take more flows of its hosts.
    fn states(
        &self,
        (nets, geo, cfg, limit_bytes): LearnEnv,
        self_learned: bool,
        compact: bool,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<State> {
        let mut all = State::default();
        for s in 0..self.shards {
            for (buckets, rows) in self.parts(s, limit_bytes)? {
                let (flows, _) = self.load_buckets(&buckets, rows)?;
                let owns = |h: u128| self.shard_of_host(h) == s;
                let mut st = learn_shard(&flows, nets, geo, (cfg, self_learned), vec![], owns)?;
                drop(flows);
                if compact {
                    st.compact();
                }
                all.merge(st)?;
                release_free();
            }
            progress(s + 1, self.shards);
        }
        Ok(all)
    }

    /// The learning states per UTC day ([`crate::baseline::learn_days`] of the whole input) of the
    /// newest `keep` days (all without), learned shard by shard. A host shard holds exactly the
    /// flows its hosts own, so each part's day states count each flow once. They are spilled as they
    /// are learned and read back one day at a time ([`SpilledDays::day`]); their union is merged
    /// part by part, each part's hosts compacted ([`State::compact`]), so neither every day's state
    /// nor their full union is held at once.
    pub fn learn_days(
        &self,
        (nets, geo, cfg, limit_bytes): LearnEnv,
        (files, keep): (Vec<String>, Option<usize>),
        cancel: &AtomicBool,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<SpilledDays> {
        let first_kept = keep.and_then(|k| {
            let days: Vec<i64> = self.day_flows.keys().copied().collect();
            days.len().checked_sub(k.max(1)).map(|cut| days[cut])
        });
        let dir = self.dir.path().join("days");
        std::fs::create_dir_all(&dir).map_err(|e| FlowError::io(&dir, e))?;
        let mut out = SpilledDays::default();
        for s in 0..self.shards {
            for (buckets, rows) in self.parts(s, limit_bytes)? {
                let (flows, _) = self.load_buckets(&buckets, rows)?;
                let states = learn_days(&flows, nets, geo, cfg, files.clone(), cancel)?;
                drop(flows);
                out.add_part(&dir, states, first_kept)?;
                release_free();
            }
            progress(s + 1, self.shards);
        }
        Ok(out)
    }

    /// The parts of shard `s` to learn one at a time, as (buckets, rows): the whole shard when it
    /// fits under `limit` beside what the process holds now (the learning state merged so far grows
    /// with the input: 1.8 GiB for 100M generated flows), else its buckets packed into groups that
    /// do. A bucket holds whole hosts, so any group of buckets learns exactly its hosts' flows.
    fn parts(&self, s: usize, limit: u64) -> Result<Vec<(Vec<usize>, u64)>> {
        if self.shard_rows[s] == 0 {
            return Ok(vec![]);
        }
        let held = resident_bytes().unwrap_or(0);
        let room = flows_per_shard(limit.saturating_sub(held));
        let members = &self.groups[s];
        if self.shard_rows[s] <= room {
            return Ok(vec![(members.clone(), self.shard_rows[s])]);
        }
        let rows: Vec<u64> = members.iter().map(|b| self.bucket_rows[*b]).collect();
        // one bucket beyond the room: its hosts' flows cannot be split
        split(members, &rows, room).map_err(|n| {
            let need = held + limit_for(n);
            FlowError::Config(format!(
                "learning the baseline: host shard {s} of {} has a bucket of {n} flows (its hosts' flows cannot be split), which needs about {} beside the {} already held (the learning state so far), but the memory limit is {}; use --memory-limit {} or more",
                self.shards,
                format_size(limit_for(n)),
                format_size(held),
                format_size(limit),
                format_size(need.next_multiple_of(1 << 30)),
            ))
        })
    }
}

/// Day states learned out of core ([`Sharded::learn_days`]): per day, the files of its parts' states
/// in the spill directory; the days left out; the union of the kept days, compacted part by part.
#[derive(Default)]
pub struct SpilledDays {
    parts: BTreeMap<i64, Vec<PathBuf>>,
    /// Days older than the kept ones (UTC day numbers), left out.
    pub aged: BTreeSet<i64>,
    /// The union of the kept days' states (each host's habits derived: it derives the baseline).
    pub union: State,
}

impl SpilledDays {
    /// The kept days (UTC day numbers), oldest first.
    pub fn days(&self) -> Vec<i64> {
        self.parts.keys().copied().collect()
    }

    /// The learning state of day `k` of [`SpilledDays::days`]: its parts read back and merged.
    pub fn day(&self, k: usize) -> Result<State> {
        let mut st = State::default();
        for path in self.parts.values().nth(k).into_iter().flatten() {
            st.merge(union::read(path)?)?;
        }
        Ok(st)
    }

    /// Spills one part's day states (days before `first_kept` are left out) and merges their union,
    /// compacted, into [`SpilledDays::union`].
    fn add_part(
        &mut self,
        dir: &Path,
        states: Vec<(i64, State)>,
        first_kept: Option<i64>,
    ) -> Result<()> {
        let mut mine = State::default();
        for (d, st) in states {
            if first_kept.is_some_and(|f| d < f) {
                self.aged.insert(d);
                continue;
            }
            let files = self.parts.entry(d).or_default();
            let path = dir.join(format!("{d}-{}.fhstate", files.len()));
            union::write(&path, &st)?;
            files.push(path);
            mine.merge(st)?;
        }
        mine.compact();
        self.union.merge(mine)
    }
}

/// Buckets `members` (of `rows` rows each) packed into groups of at most `room` rows, as (buckets,
/// rows); `Err(rows)` of a bucket larger than `room`.
fn split(
    members: &[usize],
    rows: &[u64],
    room: u64,
) -> std::result::Result<Vec<(Vec<usize>, u64)>, u64> {
    pack(rows, 1, Some(room))
        .into_iter()
        .map(|group| {
            let n: u64 = group.iter().map(|i| rows[*i]).sum();
            match n <= room {
                true => Ok((group.iter().map(|i| members[*i]).collect(), n)),
                false => Err(n),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn oversized_shards_split_into_bucket_groups() {
        let members = [3, 7, 9, 12];
        let rows = [40, 10, 30, 20];
        let parts = split(&members, &rows, 50).unwrap();
        // every bucket exactly once, every group within the room
        let mut seen: Vec<usize> = parts.iter().flat_map(|p| p.0.clone()).collect();
        seen.sort();
        assert_eq!(seen, members);
        assert!(parts.iter().all(|p| p.1 <= 50));
        assert_eq!(parts.iter().map(|p| p.1).sum::<u64>(), 100);
        assert_eq!(parts.len(), 2);
        assert_eq!(split(&members, &rows, 35), Err(40));
    }
}
