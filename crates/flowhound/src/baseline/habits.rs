//! Habits: the recurring behaviours of normal traffic that every detector checks a candidate against
//! before raising it (`docs/baseline.md`, "habits").
//!
//! Per internal host the baseline keeps:
//! - the **peaks** it reached in one baseline window (bytes sent, bytes received, flows), with when and
//!   to whom, so "1.4 GB to 203.0.113.7 at 01:13 on the baseline day" is one occurrence of evidence;
//! - its **fan-out** per fan-out window: distinct destinations per (side, protocol, port) and distinct
//!   ports on one destination, so pollers and scheduled scanners present in normal are known;
//! - its **upload destinations**: external peers it sent much to, with their largest window.
//!
//! A baseline learned from a capture itself (single-capture mode) cannot take maxima, since the attack
//! would be its own reference. There the levels are robust: the median over the host's active windows,
//! counting the windows where the behaviour is absent as zero. Behaviour present most of the time (an
//! SNMP poller) keeps its level; a burst (a scan) does not. Peaks and uploads are then left empty.

#[cfg(test)]
pub use super::state::HabitFlow;
use super::state::{key_parts, Grid, HostState};
use crate::detect::p2p_overlay::overlay_port;
use crate::findings::format_ts;
use crate::ip;
use crate::schema::Proto;
use ahash::{AHashMap, AHashSet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Upload destinations kept per host.
const UPLOADS_KEPT: usize = 8;
/// Fan-out keys kept per host (largest levels first).
const FANOUT_KEPT: usize = 32;
/// Recurring channels kept per host (most windows first). A busy client (100k+ flows a day) keeps
/// hundreds of peers that recur all day (trackers, CDNs, its suite's many addresses); a channel of
/// its own that recurs only while it is on (a sync client's long-poll, an agent's check-in) must
/// still be listed, or its beacon is judged new. The bound only keeps the file finite.
const CHANNELS_KEPT: usize = 1024;
/// Baseline windows an external peer must recur in to be a channel.
pub const CHANNEL_MIN_WINDOWS: u64 = 3;

/// The largest value a host reached in one window, with when and the main peer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peak {
    /// The value (bytes or flows).
    pub value: f64,
    /// Start of the window (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The peer that took the most of it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
}

/// An external destination a host uploads to in normal.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// The destination.
    pub peer: String,
    /// Bytes sent to it over the baseline (flows of at least 64 KiB).
    pub up_bytes: u64,
    /// The most sent to it in one baseline window.
    pub peak_window_bytes: u64,
    /// Start of that window (RFC 3339).
    pub at: String,
}

/// An external peer a host talks to again and again in normal (heartbeats, update checks, sync).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// The peer.
    pub peer: String,
    /// Baseline windows in which the host talked to it.
    pub windows: u64,
    /// Flows.
    pub flows: u64,
    /// First of them (RFC 3339).
    pub first: String,
}

/// The habits of one internal host.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostHabits {
    /// Bytes sent in one baseline window (empty in a self-learned baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_up: Option<Peak>,
    /// Bytes received in one baseline window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_down: Option<Peak>,
    /// Flows in one baseline window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_flows: Option<Peak>,
    /// Distinct destinations per fan-out window, by `int:`/`ext:` side and `proto/port`
    /// (e.g. `int:udp/161`): the maximum (robust: median) level.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fanout: BTreeMap<String, f64>,
    /// The largest level among the keys left out of `fanout` (beyond the kept number): the level
    /// assumed for a key the host used but that is not listed.
    #[serde(default)]
    pub fanout_rest: f64,
    /// Distinct ports on one destination per fan-out window: the maximum (robust: median) level.
    #[serde(default)]
    pub vertical: f64,
    /// Seen in fewer than [`ROBUST_MIN_WINDOWS`] fan-out windows, self-learned (or, in normal,
    /// without any fan-out: a few flows of a host that joined late): the levels above are the host's
    /// vote in its peers' level, not a habit of its own; it is judged against its peers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub short: bool,
    /// Largest upload destinations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uploads: Vec<Upload>,
    /// External peers recurring in at least 3 baseline windows (empty in a self-learned baseline).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// Distinct high UDP ports of external peers the host dialled (peer-to-peer overlay ports,
    /// [`overlay_port`]): a P2P node's habit (0 in a self-learned baseline).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub p2p_ports: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The habits of every internal host, plus the peers' levels for hosts without history.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Habits {
    /// Fan-out window, seconds (0 in files written before habits existed).
    #[serde(default)]
    pub fanout_window_secs: u64,
    /// Per host, by address.
    #[serde(default)]
    pub hosts: BTreeMap<String, HostHabits>,
    /// Per fan-out key, the median level over the hosts that have the key (the peers' level).
    #[serde(default)]
    pub population_fanout: BTreeMap<String, f64>,
    /// The median vertical level over hosts.
    #[serde(default)]
    pub population_vertical: f64,
}

/// Per external peer, the hosts that keep it in one of their habit lists, with that habit.
pub struct PeerIndex<'a, T>(AHashMap<&'a str, Vec<(&'a str, &'a T)>>);

impl<'a, T> PeerIndex<'a, T> {
    /// The index of `list` (each host's habits of one kind), keyed by `peer`.
    fn of(
        hosts: &'a BTreeMap<String, HostHabits>,
        list: impl Fn(&'a HostHabits) -> &'a Vec<T>,
        peer: impl Fn(&'a T) -> &'a String,
    ) -> Self {
        let mut idx: AHashMap<&str, Vec<(&str, &T)>> = AHashMap::new();
        for (host, h) in hosts {
            for x in list(h) {
                idx.entry(peer(x).as_str())
                    .or_default()
                    .push((host.as_str(), x));
            }
        }
        PeerIndex(idx)
    }

    /// The hosts other than `host` that keep `peer`, with their habit, when at least `min_hosts`
    /// do: the fleet's habit.
    pub fn others(&self, host: u128, peer: u128, min_hosts: u64) -> Option<Vec<(&'a str, &'a T)>> {
        let h = ip::format(host);
        let others: Vec<(&str, &T)> = self
            .0
            .get(ip::format(peer).as_str())?
            .iter()
            .filter(|(o, _)| *o != h)
            .copied()
            .collect();
        (others.len() as u64 >= min_hosts).then_some(others)
    }
}

/// A fan-out key: the destination side, protocol and port, e.g. `int:udp/161`.
pub fn fanout_key(internal_dst: bool, proto: Proto, port: u16) -> String {
    let side = if internal_dst { "int" } else { "ext" };
    format!("{side}:{}/{port}", proto.as_str())
}

/// The median of `present` values over `active` windows, the other `active - present.len()` windows
/// counting as 0. `present` is sorted in place. 0 when `active` is 0.
pub fn median_with_zeros(present: &mut [f64], active: usize) -> f64 {
    let active = active.max(present.len());
    if active == 0 {
        return 0.0;
    }
    present.sort_by(f64::total_cmp);
    let zeros = active - present.len();
    let at = |k: usize| if k < zeros { 0.0 } else { present[k - zeros] };
    if active % 2 == 1 {
        at(active / 2)
    } else {
        (at(active / 2 - 1) + at(active / 2)) / 2.0
    }
}

/// The level of a behaviour: its maximum, or (robust) its median with absent windows as zeros.
pub fn level(present: &mut [f64], active: usize, robust: bool) -> f64 {
    if robust {
        median_with_zeros(present, active)
    } else {
        present.iter().copied().fold(0.0, f64::max)
    }
}

/// The median of a list (0 when empty); sorts in place.
fn median(v: &mut [f64]) -> f64 {
    median_with_zeros(v, v.len())
}

/// A self-learned level needs the host active in this many fan-out windows (half an hour at 300 s):
/// a capture shorter than that holds no habit, only the behaviour under test.
pub const ROBUST_MIN_WINDOWS: usize = 6;

fn key_text(code: u32) -> String {
    let (internal, proto, port) = key_parts(code);
    fanout_key(internal, proto, port)
}

/// Derives the habits of every host from the learning state (`grid.robust`: medians instead of
/// maxima, no peaks or uploads).
pub(crate) fn derive(hosts: &AHashMap<u128, HostState>, grid: Grid) -> Habits {
    let list: Vec<(&u128, &HostState)> = hosts.iter().collect();
    // per host, on every core (a busy host's fan-out sightings take long)
    let derived = crate::detect::in_parallel(&list, |(host, a)| {
        let h = match &a.habits {
            Some(h) => (**h).clone(),
            None => host_habits(a, grid.window_secs, grid.robust),
        };
        (ip::format(**host), h)
    });
    let out: BTreeMap<String, HostHabits> = derived.into_iter().collect();
    let (population_fanout, population_vertical) = population(&out, grid.robust);
    Habits {
        fanout_window_secs: grid.fanout_secs,
        hosts: out,
        population_fanout,
        population_vertical,
    }
}

/// Accumulates habits flow by flow (tests of the habit rules).
#[cfg(test)]
#[derive(Default)]
pub(crate) struct HabitAcc {
    hosts: AHashMap<u128, HostState>,
    robust: bool,
}

#[cfg(test)]
impl HabitAcc {
    pub fn new(robust: bool) -> HabitAcc {
        HabitAcc {
            robust,
            ..Default::default()
        }
    }

    pub fn add(&mut self, f: &HabitFlow, window_secs: u64, fanout_secs: u64) {
        let g = Grid {
            window_secs,
            fanout_secs,
            robust: self.robust,
        };
        self.hosts.entry(f.host).or_default().add(f, g);
    }

    pub fn finish(mut self, window_secs: u64, fanout_secs: u64) -> Habits {
        self.hosts.values_mut().for_each(HostState::settle);
        let g = Grid {
            window_secs,
            fanout_secs,
            robust: self.robust,
        };
        derive(&self.hosts, g)
    }
}

fn window_start(w: i64, window_secs: u64) -> String {
    format_ts(
        w.saturating_mul(window_secs as i64)
            .saturating_mul(1_000_000),
    )
}

/// Derives `a`'s habits and drops what they were derived from ([`super::State::compact`]).
pub(crate) fn compact(a: &mut HostState, grid: Grid) {
    if a.habits.is_some() {
        return;
    }
    a.settle();
    a.habits = Some(Box::new(host_habits(a, grid.window_secs, grid.robust)));
    a.fan = Vec::new();
    a.fan_runs = Default::default();
    a.uploads = AHashMap::new();
    a.peer_windows = AHashSet::new();
}

fn host_habits(a: &HostState, window_secs: u64, robust: bool) -> HostHabits {
    let (fanout, fanout_rest, vertical, short) = fanout_levels(&a.fan, robust);
    let mut h = HostHabits {
        fanout,
        fanout_rest,
        vertical,
        short,
        ..Default::default()
    };
    if robust {
        return h;
    }
    let top_peer = |w: i64| {
        a.uploads
            .iter()
            .filter(|((_, uw), _)| *uw == w)
            .max_by_key(|(k, b)| (**b, std::cmp::Reverse(k.0)))
            .map(|((p, _), _)| ip::format(*p))
    };
    let peak = |k: usize, with_peer: bool| {
        let (w, cell) = a
            .windows
            .iter()
            .max_by_key(|(w, c)| (c[k], std::cmp::Reverse(**w)))?;
        Some(Peak {
            value: cell[k] as f64,
            at: Some(window_start(*w, window_secs)),
            peer: if with_peer { top_peer(*w) } else { None },
        })
    };
    h.peak_up = peak(1, true);
    h.peak_down = peak(2, false);
    h.peak_flows = peak(0, false);
    h.uploads = uploads(&a.uploads, window_secs);
    h.channels = channels(a);
    h.p2p_ports = p2p_ports(&a.fan);
    h
}

/// Distinct high UDP ports ([`overlay_port`]) of the external destinations in fan-out sightings.
fn p2p_ports(fan: &[(i64, u128, u32)]) -> u64 {
    let ports: AHashSet<u16> = fan
        .iter()
        .map(|x| key_parts(x.2))
        .filter(|(internal, proto, port)| !internal && *proto == Proto::Udp && overlay_port(*port))
        .map(|(_, _, port)| port)
        .collect();
    ports.len() as u64
}

/// External peers recurring in at least [`CHANNEL_MIN_WINDOWS`] baseline windows.
fn channels(a: &HostState) -> Vec<Channel> {
    let mut windows: AHashMap<u128, u64> = AHashMap::new();
    for (p, _) in &a.peer_windows {
        *windows.entry(*p).or_default() += 1;
    }
    // (peer, windows, flows, first)
    let mut v: Vec<(u128, u64, u64, i64)> = windows
        .into_iter()
        .filter(|(_, n)| *n >= CHANNEL_MIN_WINDOWS)
        .map(|(p, n)| {
            let c = a.peers.get(&p).copied().unwrap_or_default();
            (p, n, c.0, c.1)
        })
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(CHANNELS_KEPT);
    v.into_iter()
        .map(|(p, windows, flows, first)| Channel {
            peer: ip::format(p),
            windows,
            flows,
            first: format_ts(first),
        })
        .collect()
}

/// The fan-out levels over both window grids: per key and for ports per destination, the larger of
/// the two grids' levels; and whether they are only a vote among peers (`short`: neither grid has
/// [`ROBUST_MIN_WINDOWS`] active windows, and the baseline is self-learned (the levels are then taken
/// without that guard) or the host did not fan out at all (no level of 2 or more)).
fn fanout_levels(
    fan: &[(i64, u128, u32)],
    robust: bool,
) -> (BTreeMap<String, f64>, f64, f64, bool) {
    let even = phase_levels(fan.iter().filter(|x| x.0 & 1 == 0), robust);
    let odd = phase_levels(fan.iter().filter(|x| x.0 & 1 == 1), robust);
    // seen in fewer than ROBUST_MIN_WINDOWS windows of either grid (and in at least one)
    let brief = !fan.is_empty() && even.2 < ROBUST_MIN_WINDOWS && odd.2 < ROBUST_MIN_WINDOWS;
    // a self-learned grid's levels need that many windows, unless the host is brief (a vote only)
    let kept = |(keys, vertical, active): PhaseLevels| {
        if robust && !brief && active < ROBUST_MIN_WINDOWS {
            (AHashMap::new(), 0.0)
        } else {
            (keys, vertical)
        }
    };
    let ((mut keys, v0), (shifted, v1)) = (kept(even), kept(odd));
    for (k, l) in shifted {
        let e = keys.entry(k).or_default();
        *e = e.max(l);
    }
    let mut levels: Vec<(u32, f64)> = keys.into_iter().filter(|(_, l)| *l >= 2.0).collect();
    levels.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let rest = levels.get(FANOUT_KEPT).map_or(0.0, |x| x.1);
    levels.truncate(FANOUT_KEPT);
    let fanout: BTreeMap<String, f64> = levels.into_iter().map(|(k, l)| (key_text(k), l)).collect();
    let vertical = v0.max(v1);
    // self-learned, a brief host has had no time to show a habit; in normal, one occurrence is
    // evidence (a scanner present 40 minutes a day), unless the host did not fan out at all in it
    let short = brief && (robust || (fanout.is_empty() && vertical < 2.0));
    (fanout, rest, vertical, short)
}

/// One window grid's levels: per key code, for ports per destination, and its active windows.
type PhaseLevels = (AHashMap<u32, f64>, f64, usize);

/// The levels of one window grid: per key code, and for ports per destination; with the number of
/// windows the host was active in.
fn phase_levels<'a>(fan: impl Iterator<Item = &'a (i64, u128, u32)>, robust: bool) -> PhaseLevels {
    let mut horizontal: AHashMap<(u32, i64), f64> = AHashMap::new();
    let mut vertical: AHashMap<(i64, u128), f64> = AHashMap::new();
    let mut windows: AHashSet<i64> = AHashSet::new();
    for &(w, dst, key) in fan {
        *horizontal.entry((key, w)).or_default() += 1.0;
        *vertical.entry((w, dst)).or_default() += 1.0;
        windows.insert(w);
    }
    let active = windows.len();
    let mut per_key: AHashMap<u32, Vec<f64>> = AHashMap::new();
    for ((key, _), n) in horizontal {
        per_key.entry(key).or_default().push(n);
    }
    let mut per_window_vertical: AHashMap<i64, f64> = AHashMap::new();
    for ((w, _), n) in vertical {
        let e = per_window_vertical.entry(w).or_default();
        *e = e.max(n);
    }
    let mut v: Vec<f64> = per_window_vertical.into_values().collect();
    let keys = per_key
        .into_iter()
        .map(|(k, mut xs)| (k, level(&mut xs, active, robust)))
        .collect();
    (keys, level(&mut v, active, robust), active)
}

fn uploads(m: &AHashMap<(u128, i64), u64>, window_secs: u64) -> Vec<Upload> {
    let mut per_peer: AHashMap<u128, (u64, u64, i64)> = AHashMap::new();
    for (&(peer, w), &b) in m {
        let e = per_peer.entry(peer).or_insert((0, 0, w));
        e.0 += b;
        if b > e.1 || (b == e.1 && w < e.2) {
            (e.1, e.2) = (b, w);
        }
    }
    let mut v: Vec<(u128, (u64, u64, i64))> = per_peer.into_iter().collect();
    v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    v.truncate(UPLOADS_KEPT);
    v.into_iter()
        .map(|(peer, (total, peak, w))| Upload {
            peer: ip::format(peer),
            up_bytes: total,
            peak_window_bytes: peak,
            at: window_start(w, window_secs),
        })
        .collect()
}

/// On a self-learned baseline, a key is the peers' habit only when at least this share of the hosts
/// with any fan-out use it (and [`POPULATION_MIN_HOSTS`]): the few hosts of a botnet sweeping one
/// port are not a population whose level raises their own limit.
pub const POPULATION_MIN_SHARE: f64 = 0.25;

/// ... and at least this many hosts.
pub const POPULATION_MIN_HOSTS: usize = 5;

/// The peers' levels: per key, the median level over the hosts with the key (on a self-learned
/// baseline, only keys that [`population_min_hosts`] hosts use); the median vertical level.
fn population(hosts: &BTreeMap<String, HostHabits>, robust: bool) -> (BTreeMap<String, f64>, f64) {
    let mut per_key: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut vertical = Vec::new();
    for h in hosts.values() {
        for (k, l) in &h.fanout {
            per_key.entry(k.clone()).or_default().push(*l);
        }
        vertical.push(h.vertical);
    }
    let with_fanout = hosts.values().filter(|h| !h.fanout.is_empty()).count();
    let min_hosts = if robust {
        population_min_hosts(with_fanout)
    } else {
        1
    };
    let fanout = per_key
        .into_iter()
        .filter(|(_, v)| v.len() >= min_hosts)
        .map(|(k, mut v)| (k, median(&mut v)))
        .collect();
    (fanout, median(&mut vertical))
}

/// The hosts a key needs for a self-learned peers' level, of `with_fanout` hosts with any fan-out.
pub fn population_min_hosts(with_fanout: usize) -> usize {
    POPULATION_MIN_HOSTS.max((POPULATION_MIN_SHARE * with_fanout as f64).ceil() as usize)
}

impl Habits {
    /// The habits of a host (integer address).
    pub fn host(&self, ip: u128) -> Option<&HostHabits> {
        self.hosts.get(&ip::format(ip))
    }

    /// True when the baseline has habits (files written before they existed have none).
    pub fn present(&self) -> bool {
        self.fanout_window_secs > 0
    }

    /// The fan-out level of `key` for `host`: its own when it has one, else its peers' (the median
    /// over hosts with the key), else 0. Returns the level and `host` or `peers`.
    pub fn fanout_level(&self, host: u128, key: &str) -> (f64, &'static str) {
        let own = self.host(host).filter(|h| !h.short);
        if let Some(l) = own.and_then(|h| h.fanout.get(key)) {
            return (*l, "host");
        }
        if let Some(h) = own {
            return (h.fanout_rest, "host");
        }
        (
            self.population_fanout.get(key).copied().unwrap_or(0.0),
            "peers",
        )
    }

    /// The vertical level for `host`: its own, else its peers'.
    pub fn vertical_level(&self, host: u128) -> (f64, &'static str) {
        match self.host(host).filter(|h| !h.short) {
            Some(h) => (h.vertical, "host"),
            None => (self.population_vertical, "peers"),
        }
    }

    /// The recurring channel from `host` to `peer`, when it is one.
    pub fn channel(&self, host: u128, peer: u128) -> Option<&Channel> {
        let p = ip::format(peer);
        self.host(host)?.channels.iter().find(|c| c.peer == p)
    }

    /// Per external peer, the hosts that keep it as a recurring channel in the baseline, with their
    /// channel: how a host without that habit of its own is judged against its peers (a new laptop
    /// running the same sync client the rest of the fleet runs).
    pub fn channel_index(&self) -> PeerIndex<'_, Channel> {
        PeerIndex::of(&self.hosts, |h| &h.channels, |c| &c.peer)
    }

    /// Per external peer, the hosts that keep it as a baseline upload destination, with their
    /// upload habit: a sync client's or a backup agent's destination shared by the fleet.
    pub fn upload_index(&self) -> PeerIndex<'_, Upload> {
        PeerIndex::of(&self.hosts, |h| &h.uploads, |u| &u.peer)
    }

    /// The upload destination `peer` of `host`, when it is one.
    pub fn upload(&self, host: u128, peer: u128) -> Option<&Upload> {
        let p = ip::format(peer);
        self.host(host)?.uploads.iter().find(|u| u.peer == p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_with_zeros_table() {
        let cases: [(&[f64], usize, f64); 7] = [
            (&[], 0, 0.0),
            (&[5.0], 1, 5.0),
            (&[5.0], 3, 0.0),
            (&[5.0, 7.0], 3, 5.0),
            (&[5.0, 7.0], 4, 2.5),
            (&[9.0, 1.0, 5.0], 3, 5.0),
            (&[4.0, 4.0], 1, 4.0),
        ];
        for (xs, active, want) in cases {
            let mut v = xs.to_vec();
            assert_eq!(
                median_with_zeros(&mut v, active),
                want,
                "{xs:?} over {active}"
            );
        }
    }

    #[test]
    fn level_is_max_or_robust_median() {
        let mut v = vec![1.0, 50.0, 2.0];
        assert_eq!(level(&mut v, 10, false), 50.0);
        assert_eq!(level(&mut v, 10, true), 0.0);
        assert_eq!(level(&mut v, 3, true), 2.0);
    }

    fn flow(ts_s: i64, host: &str, peer: &str, proto: Proto, port: u16, sent: u64) -> HabitFlow {
        let peer_v = ip::parse(peer).unwrap();
        HabitFlow {
            ts: ts_s * 1_000_000,
            host: ip::parse(host).unwrap(),
            peer: peer_v,
            peer_internal: peer.starts_with("10."),
            originator: true,
            proto,
            port,
            sent,
            received: 0,
        }
    }

    #[test]
    fn poller_backup_and_scan_burst() {
        let mut acc = HabitAcc::default();
        // a poller: 20 hosts on udp/161 in each of 12 five-minute windows
        for w in 0..12 {
            for h in 0..20 {
                let f = flow(
                    w * 300 + h,
                    "10.0.0.5",
                    &format!("10.0.1.{h}"),
                    Proto::Udp,
                    161,
                    80,
                );
                acc.add(&f, 3600, 300);
            }
        }
        // a burst: 30 ports on one host, in one window only
        for p in 0..30 {
            acc.add(
                &flow(100, "10.0.0.5", "10.0.2.1", Proto::Tcp, p, 0),
                3600,
                300,
            );
        }
        // a backup: 2 GB to one cloud address at 01:00
        acc.add(
            &flow(
                3600,
                "10.0.0.5",
                "203.0.113.7",
                Proto::Tcp,
                443,
                2_000_000_000,
            ),
            3600,
            300,
        );
        let max = acc.finish(3600, 300);
        let h = max.host(ip::parse("10.0.0.5").unwrap()).unwrap();
        assert_eq!(h.fanout["int:udp/161"], 20.0);
        assert_eq!(h.vertical, 30.0);
        let up = h.peak_up.as_ref().unwrap();
        assert_eq!(up.value, 2_000_000_000.0);
        assert_eq!(up.peer.as_deref(), Some("203.0.113.7"));
        assert_eq!(up.at.as_deref(), Some("1970-01-01T01:00:00.000000Z"));
        assert_eq!(h.uploads.len(), 1);
        assert_eq!(h.uploads[0].peak_window_bytes, 2_000_000_000);
        // one window only: not a recurring channel
        assert!(h.channels.is_empty());
    }

    #[test]
    fn a_burst_cut_by_one_grid_is_whole_in_the_other() {
        // 30 hosts on tcp/445, 10 s apart from 150 s: the 300-s grid cuts it 15 + 15, the shifted
        // grid (windows from 150 s) holds all 30
        let mut acc = HabitAcc::default();
        for h in 0..30 {
            let f = flow(
                150 + h * 10,
                "10.0.0.5",
                &format!("10.0.1.{h}"),
                Proto::Tcp,
                445,
                80,
            );
            acc.add(&f, 3600, 300);
        }
        let hb = acc.finish(3600, 300);
        let h = hb.host(ip::parse("10.0.0.5").unwrap()).unwrap();
        assert_eq!(h.fanout["int:tcp/445"], 30.0);
    }

    #[test]
    fn keys_beyond_the_kept_ones_keep_their_level() {
        // a scanner touching 40 ports on 16 hosts each: 8 keys are left out of the list, and their
        // level (16) stays known
        let mut acc = HabitAcc::default();
        for port in 1..=(FANOUT_KEPT as u16 + 8) {
            for h in 0..16 {
                let f = flow(10, "10.0.0.5", &format!("10.0.1.{h}"), Proto::Tcp, port, 0);
                acc.add(&f, 3600, 300);
            }
        }
        let hb = acc.finish(3600, 300);
        let host = ip::parse("10.0.0.5").unwrap();
        assert_eq!(hb.host(host).unwrap().fanout.len(), FANOUT_KEPT);
        let last = format!("int:tcp/{}", FANOUT_KEPT + 8);
        assert_eq!(hb.fanout_level(host, &last), (16.0, "host"));
    }

    #[test]
    fn heartbeat_is_a_channel() {
        let mut acc = HabitAcc::default();
        for k in 0..10 {
            acc.add(
                &flow(k * 1800, "10.0.0.7", "52.1.2.3", Proto::Tcp, 443, 300),
                3600,
                300,
            );
        }
        acc.add(
            &flow(10, "10.0.0.7", "52.9.9.9", Proto::Tcp, 443, 300),
            3600,
            300,
        );
        let hb = acc.finish(3600, 300);
        let host = ip::parse("10.0.0.7").unwrap();
        let c = hb.channel(host, ip::parse("52.1.2.3").unwrap()).unwrap();
        assert_eq!((c.windows, c.flows), (5, 10));
        assert!(hb.channel(host, ip::parse("52.9.9.9").unwrap()).is_none());
    }

    #[test]
    fn a_busy_hosts_part_time_channel_is_kept_among_its_all_day_peers() {
        // 300 peers in every one of 24 windows (a dense client's trackers and CDNs), and a sync
        // client's long-poll in 6 of them: still the host's channel
        let mut acc = HabitAcc::default();
        for w in 0..24 {
            for p in 0..300 {
                let peer = format!("52.1.{}.{}", p / 200, p % 200);
                acc.add(
                    &flow(w * 3600 + p, "10.0.0.7", &peer, Proto::Tcp, 443, 300),
                    3600,
                    300,
                );
            }
        }
        for w in 0..6 {
            acc.add(
                &flow(
                    w * 3600 + 900,
                    "10.0.0.7",
                    "162.125.1.2",
                    Proto::Tcp,
                    443,
                    300,
                ),
                3600,
                300,
            );
        }
        let hb = acc.finish(3600, 300);
        let host = ip::parse("10.0.0.7").unwrap();
        let c = hb.channel(host, ip::parse("162.125.1.2").unwrap()).unwrap();
        assert_eq!((c.windows, c.flows), (6, 6));
        assert_eq!(hb.host(host).unwrap().channels.len(), 301);
    }

    #[test]
    fn robust_levels_keep_the_poller_not_the_burst() {
        let mut acc = HabitAcc::new(true);
        for w in 0..12 {
            for h in 0..20 {
                let mut f = flow(
                    w * 300 + h,
                    "10.0.0.5",
                    &format!("10.0.1.{h}"),
                    Proto::Udp,
                    161,
                    80,
                );
                f.received = 120;
                acc.add(&f, 3600, 300);
            }
        }
        for p in 0..30 {
            let mut f = flow(100, "10.0.0.5", "10.0.2.1", Proto::Tcp, p, 0);
            f.received = 40;
            acc.add(&f, 3600, 300);
        }
        // a scan going on all capture long, unanswered: no habit
        for w in 0..12 {
            for h in 0..50 {
                acc.add(
                    &flow(
                        w * 300 + h,
                        "10.0.0.5",
                        &format!("10.0.3.{h}"),
                        Proto::Tcp,
                        23,
                        0,
                    ),
                    3600,
                    300,
                );
            }
        }
        let robust = acc.finish(3600, 300);
        let h = robust.host(ip::parse("10.0.0.5").unwrap()).unwrap();
        assert_eq!(h.fanout["int:udp/161"], 20.0);
        // one window of 12 had 30 ports on 10.0.2.1; the other 11 have 1 port per destination
        assert_eq!(h.vertical, 1.0);
        assert!(h.peak_up.is_none() && h.uploads.is_empty());
        assert!(!h.fanout.keys().any(|k| k.starts_with("int:tcp/")));
    }

    #[test]
    fn robust_levels_need_half_an_hour() {
        let mut acc = HabitAcc::new(true);
        for w in 0..(ROBUST_MIN_WINDOWS as i64 - 1) {
            for h in 0..20 {
                let mut f = flow(
                    w * 300 + h,
                    "10.0.0.5",
                    &format!("10.0.1.{h}"),
                    Proto::Tcp,
                    80,
                    60,
                );
                f.received = 60;
                acc.add(&f, 3600, 300);
            }
        }
        let robust = acc.finish(3600, 300);
        let host = ip::parse("10.0.0.5").unwrap();
        let h = robust.host(host).unwrap();
        // its levels are a vote among its peers, not its own habit (and one host is no population)
        assert!(h.short);
        assert_eq!(h.fanout["int:tcp/80"], 20.0);
        assert_eq!(robust.fanout_level(host, "int:tcp/80"), (0.0, "peers"));
        assert_eq!(robust.vertical_level(host), (1.0, "peers"));
    }

    /// `n` flows from `src` to `n` distinct external hosts on tcp/`port` in each of `windows` windows.
    fn sweep(acc: &mut HabitAcc, src: &str, port: u16, n: u16, windows: i64) {
        for w in 0..windows {
            for d in 0..n {
                let dst = format!("8.{}.{}.{}", port % 200, d / 250, d % 250);
                let mut f = flow(
                    w * 300 + i64::from(d % 250),
                    src,
                    &dst,
                    Proto::Tcp,
                    port,
                    60,
                );
                f.received = 60;
                acc.add(&f, 3600, 300);
            }
        }
    }

    #[test]
    fn short_captures_judge_hosts_against_their_peers() {
        // a 20-minute capture: eight browsing clients, two bots that browse and sweep tcp/445
        let mut acc = HabitAcc::new(true);
        for i in 1..=10 {
            sweep(&mut acc, &format!("10.0.0.{i}"), 80, 30 + i, 4);
        }
        for i in 9..=10 {
            sweep(&mut acc, &format!("10.0.0.{i}"), 445, 600, 4);
        }
        let hb = acc.finish(3600, 300);
        let bot = ip::parse("10.0.0.9").unwrap();
        assert!(hb.host(bot).unwrap().short);
        // the median of the ten browsers' 31 to 40 hosts per window
        assert_eq!(hb.fanout_level(bot, "ext:tcp/80"), (35.5, "peers"));
        // two hosts of ten are no population: the floor stays
        assert_eq!(hb.fanout_level(bot, "ext:tcp/445"), (0.0, "peers"));
    }

    #[test]
    fn population_min_hosts_table() {
        for (hosts, want) in [(0, 5), (4, 5), (20, 5), (21, 6), (100, 25), (479, 120)] {
            assert_eq!(population_min_hosts(hosts), want, "{hosts}");
        }
    }

    #[test]
    fn peers_level_for_unknown_hosts() {
        let mut acc = HabitAcc::default();
        // (host, destinations, windows): the fourth swept 40 hosts in ten minutes of the day (a
        // scanner's run), the fifth sent one flow all day (a laptop that joined late)
        for (i, n, windows) in [(1, 4, 1), (2, 6, 1), (3, 100, 1), (4, 40, 2), (5, 1, 1)] {
            for w in 0..windows {
                for d in 0..n {
                    let f = flow(
                        w * 300 + d,
                        &format!("10.0.0.{i}"),
                        &format!("8.8.{i}.{d}"),
                        Proto::Tcp,
                        443,
                        10,
                    );
                    acc.add(&f, 3600, 300);
                }
            }
        }
        let hb = acc.finish(3600, 300);
        let unknown = ip::parse("10.0.0.99").unwrap();
        assert_eq!(hb.fanout_level(unknown, "ext:tcp/443"), (23.0, "peers"));
        let known = ip::parse("10.0.0.3").unwrap();
        assert_eq!(hb.fanout_level(known, "ext:tcp/443"), (100.0, "host"));
        assert_eq!(hb.fanout_level(known, "int:tcp/445"), (0.0, "host"));
        // in normal one occurrence is a habit; a host that never fanned out has none
        let scanner = ip::parse("10.0.0.4").unwrap();
        assert_eq!(hb.fanout_level(scanner, "ext:tcp/443"), (40.0, "host"));
        let late = ip::parse("10.0.0.5").unwrap();
        assert!(hb.host(late).unwrap().short);
        assert_eq!(hb.fanout_level(late, "ext:tcp/443"), (23.0, "peers"));
        assert_eq!(hb.vertical_level(late), (1.0, "peers"));
    }
}
