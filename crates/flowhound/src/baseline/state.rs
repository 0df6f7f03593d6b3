//! The mergeable learning state of a baseline: the counts, sums, maxima, sets and per-window series
//! every derived statistic is computed from (`docs/baseline.md`, "Rolling and mergeable baselines").
//!
//! A [`State`] holds the flows of one day, or of one host shard, or any union of them: [`State::merge`]
//! sums counts and unions sets key by key, so merging the states of any partition of a capture's flows
//! gives the state of the whole capture, and deriving the baseline from it ([`State::finish`]) gives the
//! baseline learned from the whole capture at once. Quantiles and medians are exact because the state
//! keeps what they are computed from: the per-host window series (hosts x windows) and, for the
//! per-flow statistics, a histogram of byte values.

use super::accumulate::{hour_of, window_of};
use super::habits::HostHabits;
use crate::config::BaselineConfig;
use crate::error::{FlowError, Result};
use crate::schema::Proto;
use ahash::{AHashMap, AHashSet};
use std::collections::BTreeSet;

/// Ports kept per internal edge (the smallest ones).
pub(crate) const EDGE_PORTS_KEPT: usize = 32;

/// (flows, first start µs, last baseline window seen) of one external peer of a host.
pub(crate) type PeerSeen = (u64, i64, i64);

/// What one internal host did: the source of its profile and of its habits.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostState {
    /// Flows attributed to the host.
    pub flows: u64,
    /// Bytes it sent.
    pub sent: u64,
    /// Bytes it received.
    pub received: u64,
    /// Baseline window -> (flows, sent, received).
    pub windows: AHashMap<i64, [u64; 3]>,
    /// Flows per UTC hour of day.
    pub hours: [u64; 24],
    /// (protocol index, destination port) -> flows it originated.
    pub ports: AHashMap<(u8, u16), u64>,
    /// Internal peers.
    pub internal_peers: AHashSet<u128>,
    /// (fan-out window of either grid, destination, fan-out key) seen: sorted and distinct once
    /// settled ([`HostState::settle`]); before that, runs flushed from `fan_runs` (maybe repeated).
    pub fan: Vec<(i64, u128, u32)>,
    /// The sightings of the current fan-out window of each grid: a small set, flushed into `fan`
    /// when the window changes (sorted-run counting instead of one large hash set).
    pub fan_runs: [FanRun; 2],
    /// `fan` is sorted and deduplicated when it reaches this length (bounds it on unsorted input).
    pub fan_compact_at: usize,
    /// The last fan-out sighting inserted (a run of flows to one destination costs one lookup).
    pub last_fan: Option<(i64, i64, u128, u32)>,
    /// (external peer, baseline window) -> bytes sent in flows of at least 64 KiB.
    pub uploads: AHashMap<(u128, i64), u64>,
    /// External peer -> (flows, first start, last window seen).
    pub peers: AHashMap<u128, PeerSeen>,
    /// (external peer, baseline window) in which the host talked to it.
    pub peer_windows: AHashSet<(u128, i64)>,
    /// The host's habits, derived once its flows are all counted ([`State::compact`]); `fan`,
    /// `uploads` and `peer_windows` are then empty.
    pub habits: Option<Box<HostHabits>>,
}

/// The fan-out sightings of one window of one grid.
#[derive(Debug, Clone, Default)]
pub(crate) struct FanRun {
    /// The window.
    pub w: i64,
    /// (destination, key) seen in it.
    pub seen: AHashSet<(u128, u32)>,
}

/// Smallest length at which `HostState::fan` is compacted.
const FAN_COMPACT_MIN: usize = 4096;

/// One flow seen from its internal host, as the per-host state needs it.
#[derive(Debug, Clone, Copy)]
pub struct HabitFlow {
    /// Start, microseconds.
    pub ts: i64,
    /// The internal host.
    pub host: u128,
    /// The other end.
    pub peer: u128,
    /// True when the peer is internal.
    pub peer_internal: bool,
    /// True when the host originated the flow.
    pub originator: bool,
    /// Protocol.
    pub proto: Proto,
    /// Destination port.
    pub port: u16,
    /// Bytes the host sent.
    pub sent: u64,
    /// Bytes the host received.
    pub received: u64,
}

/// The windows of one learning run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grid {
    /// Baseline window, seconds.
    pub window_secs: u64,
    /// Fan-out window, seconds.
    pub fanout_secs: u64,
    /// Self-learned (robust) habits: fan-out counts answered flows only.
    pub robust: bool,
}

/// A flow sending less than this is not counted towards upload destinations.
pub(crate) const UPLOAD_FLOW_MIN_BYTES: u64 = 64 * 1024;

pub(crate) fn key_code(internal_dst: bool, proto: Proto, port: u16) -> u32 {
    (u32::from(internal_dst) << 24) | ((proto.index() as u32) << 16) | port as u32
}

/// The destination side (internal or not), protocol and port of a [`key_code`].
pub(crate) fn key_parts(code: u32) -> (bool, Proto, u16) {
    let proto = Proto::from_index(((code >> 16) & 0xff) as usize);
    (code >> 24 == 1, proto, code as u16)
}

impl HostState {
    /// Adds one flow of the host.
    pub fn add(&mut self, f: &HabitFlow, g: Grid) {
        self.flows += 1;
        self.sent += f.sent;
        self.received += f.received;
        let w = window_of(f.ts, g.window_secs);
        let cell = self.windows.entry(w).or_default();
        cell[0] += 1;
        cell[1] += f.sent;
        cell[2] += f.received;
        self.hours[hour_of(f.ts)] += 1;
        if f.originator {
            *self
                .ports
                .entry((f.proto.index() as u8, f.port))
                .or_default() += 1;
            if !g.robust || f.received > 0 {
                self.add_fan(f, g.fanout_secs);
            }
        }
        if f.peer_internal {
            self.internal_peers.insert(f.peer);
            return;
        }
        if f.sent >= UPLOAD_FLOW_MIN_BYTES {
            *self.uploads.entry((f.peer, w)).or_default() += f.sent;
        }
        let c = self.peers.entry(f.peer).or_insert((0, f.ts, i64::MIN));
        c.0 += 1;
        c.1 = c.1.min(f.ts);
        // the set is only consulted when the window changes (once per run of sorted input)
        if c.2 != w {
            c.2 = w;
            self.peer_windows.insert((f.peer, w));
        }
    }

    /// Two grids of fan-out windows, the second shifted by half a window (odd indices), so a burst
    /// that one grid cuts in two is whole in the other.
    fn add_fan(&mut self, f: &HabitFlow, fanout_secs: u64) {
        let key = key_code(f.peer_internal, f.proto, f.port);
        let half = fanout_secs as i64 * 500_000;
        let fw = 2 * window_of(f.ts, fanout_secs);
        let shifted = 2 * window_of(f.ts.saturating_add(half), fanout_secs) + 1;
        if self.last_fan != Some((fw, shifted, f.peer, key)) {
            self.last_fan = Some((fw, shifted, f.peer, key));
            self.sight(0, fw, f.peer, key);
            self.sight(1, shifted, f.peer, key);
        }
    }

    fn sight(&mut self, grid: usize, w: i64, dst: u128, key: u32) {
        if self.fan_runs[grid].w != w {
            self.flush(grid);
            self.fan_runs[grid].w = w;
        }
        self.fan_runs[grid].seen.insert((dst, key));
    }

    /// Moves the current window's sightings of `grid` into `fan`.
    fn flush(&mut self, grid: usize) {
        let run = &mut self.fan_runs[grid];
        let w = run.w;
        self.fan.extend(run.seen.drain().map(|(d, k)| (w, d, k)));
        if self.fan.len() >= self.fan_compact_at.max(FAN_COMPACT_MIN) {
            self.fan.sort_unstable();
            self.fan.dedup();
            self.fan_compact_at = 2 * self.fan.len();
        }
    }

    /// Flushes the current fan-out windows and sorts and deduplicates `fan`.
    pub fn settle(&mut self) {
        self.flush(0);
        self.flush(1);
        self.fan.sort_unstable();
        self.fan.dedup();
        self.last_fan = None;
    }

    /// Adds another state of the same host.
    pub fn merge(&mut self, mut o: HostState) {
        o.settle();
        self.flows += o.flows;
        self.sent += o.sent;
        self.received += o.received;
        for (w, c) in o.windows {
            let e = self.windows.entry(w).or_default();
            for k in 0..3 {
                e[k] += c[k];
            }
        }
        for (h, n) in o.hours.iter().enumerate() {
            self.hours[h] += n;
        }
        for (k, n) in o.ports {
            *self.ports.entry(k).or_default() += n;
        }
        self.internal_peers.extend(o.internal_peers);
        self.fan.append(&mut o.fan);
        self.settle();
        for (k, b) in o.uploads {
            *self.uploads.entry(k).or_default() += b;
        }
        for (p, c) in o.peers {
            let e = self.peers.entry(p).or_insert((0, c.1, i64::MIN));
            e.0 += c.0;
            e.1 = e.1.min(c.1);
            e.2 = i64::MIN;
        }
        self.peer_windows.extend(o.peer_windows);
    }
}

/// The geography of an external peer as looked up when it was learned: (country, AS number).
pub(crate) type PeerGeo = (Option<String>, Option<u32>);

/// The mergeable state of a baseline (see the module documentation). Build it with
/// [`super::learn_state`] (one capture), [`super::learn_days`] (one state per UTC day) or
/// [`super::learn_part`] (one host shard); combine with [`State::merge`] or [`super::merge`].
#[derive(Debug, Clone, Default)]
pub struct State {
    pub(crate) grid: Option<Grid>,
    /// Internal networks the flows were attributed with (CIDR text).
    pub(crate) nets: Vec<String>,
    /// Settings of the derived statistics (server inventory, usual ports, exclusions).
    pub(crate) settings: BaselineConfig,
    /// Input files.
    pub(crate) files: Vec<String>,
    /// Flows counted.
    pub(crate) flows: u64,
    /// First and last flow start (µs).
    pub(crate) first: Option<i64>,
    pub(crate) last: Option<i64>,
    /// Histograms `(value, flows)` (ascending) of per-flow bytes from source and from destination.
    pub(crate) global: [Vec<(u64, u64)>; 2],
    /// Per-flow values not yet folded into `global` (during a learning pass).
    pub(crate) pending: [Vec<u64>; 2],
    /// Internal hosts.
    pub(crate) hosts: AHashMap<u128, HostState>,
    /// (server, protocol index, port) -> (internal clients, flows).
    pub(crate) services: AHashMap<(u128, u8, u16), (AHashSet<u128>, u64)>,
    /// (client, server) -> (smallest ports, flows).
    pub(crate) edges: AHashMap<(u128, u128), (BTreeSet<u16>, u64)>,
    /// External peers' geography.
    pub(crate) geo: AHashMap<u128, PeerGeo>,
    /// AS number -> (its smallest address seen, organisation of that address).
    pub(crate) asn_org: AHashMap<u32, (u128, Option<String>)>,
}

/// A host whose habits were derived ([`State::compact`]) cannot take more flows.
fn compacted_merge(ip: u128) -> FlowError {
    FlowError::Internal(format!(
        "host {} was learned in two parts after its habits were derived; learn each host in one part",
        crate::ip::format(ip)
    ))
}

/// Folds sorted values into a `(value, count)` histogram.
fn histogram(sorted: &[u64]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &v in sorted {
        match out.last_mut() {
            Some((last, n)) if *last == v => *n += 1,
            _ => out.push((v, 1)),
        }
    }
    out
}

/// Merges two ascending histograms.
fn merge_histograms(a: Vec<(u64, u64)>, b: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    if a.is_empty() {
        return b;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let take_a = j >= b.len() || (i < a.len() && a[i].0 <= b[j].0);
        let x = if take_a {
            i += 1;
            a[i - 1]
        } else {
            j += 1;
            b[j - 1]
        };
        match out.last_mut() {
            Some((v, n)) if *v == x.0 => *n += x.1,
            _ => out.push(x),
        }
    }
    out
}

/// Adds `port` to an edge's ports, keeping the smallest [`EDGE_PORTS_KEPT`].
pub(crate) fn keep_port(ports: &mut BTreeSet<u16>, port: u16) {
    if ports.len() < EDGE_PORTS_KEPT || ports.last().is_some_and(|l| port < *l) {
        ports.insert(port);
        if ports.len() > EDGE_PORTS_KEPT {
            ports.pop_last();
        }
    }
}

impl State {
    /// An empty state for flows learned with `cfg` over `nets`.
    pub(crate) fn new(
        cfg: &BaselineConfig,
        nets: &crate::net::InternalNets,
        robust: bool,
    ) -> State {
        State {
            grid: Some(Grid {
                window_secs: cfg.window_secs,
                fanout_secs: cfg.fanout_window_secs.max(1),
                robust,
            }),
            nets: nets.blocks().iter().map(|c| c.to_string()).collect(),
            settings: cfg.clone(),
            ..Default::default()
        }
    }

    /// An empty state: no flows, the windows and settings of `cfg`, internal networks `nets`. The
    /// base a rolling baseline's days are merged into.
    pub fn empty(cfg: &BaselineConfig, nets: &crate::net::InternalNets) -> State {
        State::new(cfg, nets, false)
    }

    /// Flows counted in this state.
    pub fn flows(&self) -> u64 {
        self.flows
    }

    /// Internal hosts in this state.
    pub fn hosts(&self) -> usize {
        self.hosts.len()
    }

    /// Input files recorded in this state.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// First flow start (µs), when any.
    pub fn first_ts(&self) -> Option<i64> {
        self.first
    }

    /// Replaces the settings used to derive the statistics (e.g. an update's config).
    pub fn set_settings(&mut self, cfg: &BaselineConfig) {
        self.settings = cfg.clone();
    }

    /// Records one flow's start and byte counts (every counted flow, internal end or not).
    pub(crate) fn count_flow(&mut self, ts: i64, up: u64, down: u64) {
        self.flows += 1;
        self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
        self.last = Some(self.last.map_or(ts, |l| l.max(ts)));
        self.pending[0].push(up);
        self.pending[1].push(down);
    }

    /// Records an internal-to-internal flow from `src` to `dst`.
    pub(crate) fn add_internal(&mut self, src: u128, dst: u128, proto: u8, port: u16) {
        let e = self.edges.entry((src, dst)).or_default();
        keep_port(&mut e.0, port);
        e.1 += 1;
        let s = self.services.entry((dst, proto, port)).or_default();
        s.0.insert(src);
        s.1 += 1;
    }

    /// Ends a learning pass: settles the hosts' fan-out sightings, folds the per-flow values into
    /// histograms and looks up the geography of the external peers (distinct addresses only).
    pub(crate) fn seal(&mut self, geo: &flowhound_geo::GeoStack) {
        for h in self.hosts.values_mut() {
            h.settle();
        }
        for k in 0..2 {
            let mut v = std::mem::take(&mut self.pending[k]);
            v.sort_unstable();
            let h = histogram(&v);
            self.global[k] = merge_histograms(std::mem::take(&mut self.global[k]), h);
        }
        let mut peers: Vec<u128> = self
            .hosts
            .values()
            .flat_map(|h| h.peers.keys().copied())
            .filter(|p| !self.geo.contains_key(p))
            .collect();
        peers.sort_unstable();
        peers.dedup();
        for p in peers {
            let g = (geo.country_u128(p).map(|c| c.to_string()), geo.asn_u128(p));
            if let Some(a) = g.1 {
                let e = self.asn_org.entry(a).or_insert((p, None));
                if p <= e.0 {
                    *e = (p, geo.org_u128(p).map(|o| o.to_string()));
                }
            }
            self.geo.insert(p, g);
        }
    }

    /// Derives every host's habits now and drops what they are derived from (fan-out sightings,
    /// upload and peer windows: the part of the state that grows with the flows). Only for a state
    /// holding all the flows of its hosts, e.g. a host shard's, whose hosts no later merge adds to
    /// (such a merge fails): the baseline derived from the merged state is unchanged. Its binary
    /// form ([`State::to_bytes`]) carries the derived habits.
    pub fn compact(&mut self) {
        let Some(grid) = self.grid else { return };
        for h in self.hosts.values_mut() {
            super::habits::compact(h, grid);
        }
    }

    /// Adds `other` (another day, or another host shard) into this state. Fails when the two were
    /// learned with different windows or internal networks (their sums would not mean the same).
    pub fn merge(&mut self, other: State) -> Result<()> {
        if self.grid.is_none() {
            *self = other;
            return Ok(());
        }
        if other.grid.is_some() && (other.grid != self.grid || other.nets != self.nets) {
            return Err(FlowError::Config(format!(
                "cannot merge baseline states learned with different settings: windows {:?} vs {:?}, internal networks {:?} vs {:?}; re-learn with `flowhound baseline` using one --config and --internal",
                self.grid, other.grid, self.nets, other.nets
            )));
        }
        for f in other.files {
            if !self.files.contains(&f) {
                self.files.push(f);
            }
        }
        self.flows += other.flows;
        self.first = min_opt(self.first, other.first, i64::min);
        self.last = min_opt(self.last, other.last, i64::max);
        let [u, d] = other.global;
        self.global[0] = merge_histograms(std::mem::take(&mut self.global[0]), u);
        self.global[1] = merge_histograms(std::mem::take(&mut self.global[1]), d);
        for k in 0..2 {
            self.pending[k].extend_from_slice(&other.pending[k]);
        }
        for (ip, h) in other.hosts {
            match self.hosts.get_mut(&ip) {
                Some(mine) if mine.habits.is_some() || h.habits.is_some() => {
                    return Err(compacted_merge(ip));
                }
                Some(mine) => mine.merge(h),
                None => {
                    self.hosts.insert(ip, h);
                }
            }
        }
        for (k, (clients, n)) in other.services {
            let e = self.services.entry(k).or_default();
            e.0.extend(clients);
            e.1 += n;
        }
        for (k, (ports, n)) in other.edges {
            let e = self.edges.entry(k).or_default();
            for p in ports {
                keep_port(&mut e.0, p);
            }
            e.1 += n;
        }
        // the newer lookup wins when a database changed between days
        self.geo.extend(other.geo);
        for (a, (ip, org)) in other.asn_org {
            let e = self.asn_org.entry(a).or_insert((ip, org.clone()));
            if ip < e.0 {
                *e = (ip, org);
            }
        }
        Ok(())
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>, f: fn(i64, i64) -> i64) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(f(x, y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_merge_and_count() {
        assert_eq!(histogram(&[1, 1, 2, 5, 5, 5]), [(1, 2), (2, 1), (5, 3)]);
        let m = merge_histograms(vec![(1, 2), (5, 3)], vec![(0, 1), (1, 1), (7, 2)]);
        assert_eq!(m, [(0, 1), (1, 3), (5, 3), (7, 2)]);
        assert_eq!(merge_histograms(vec![], vec![(3, 1)]), [(3, 1)]);
        assert_eq!(merge_histograms(vec![(3, 1)], vec![]), [(3, 1)]);
    }

    #[test]
    fn edges_keep_the_smallest_ports() {
        let mut s = BTreeSet::new();
        for p in (1..=40u16).rev() {
            keep_port(&mut s, p * 10);
        }
        assert_eq!(s.len(), EDGE_PORTS_KEPT);
        assert_eq!(s.first(), Some(&10));
        assert_eq!(s.last(), Some(&320));
        keep_port(&mut s, 5);
        assert_eq!((s.first(), s.last()), (Some(&5), Some(&310)));
    }
}
