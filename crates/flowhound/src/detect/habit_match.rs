//! The baseline habits a host's traffic is matched against: its own, else the fleet's (a peer several
//! other hosts keep), by address first and then, for the networks of storage and sync services, by
//! network (AS number).
//!
//! Cloud storage and sync services (OneDrive, Dropbox, iCloud) hand each connection another address
//! of the same network, so a one-day baseline rarely holds tomorrow's address: traffic to a new
//! address of such a network that the host, or the fleet, uploads to or keeps a channel with is the
//! same habit. Only the networks of such services match by network ([`STORAGE_ORGS`]): a hosting
//! provider's addresses are anybody's, and traffic to a network nobody used stays new.

use super::DetectCtx;
use crate::baseline::habits::{Channel, HostHabits, PeerIndex, Upload};
use crate::ip;
use ahash::AHashMap;
use std::collections::BTreeMap;

/// Networks of the big storage and sync services (OneDrive, Google Drive, Dropbox, iCloud, Box): each
/// connection may get another address of the network. Not the hosting and VPS providers, where
/// anybody rents an address.
pub const STORAGE_ORGS: [&str; 5] = ["Microsoft", "Google", "Dropbox", "Apple", "Box, Inc"];

/// [`STORAGE_ORGS`] as a setting's default.
pub fn storage_orgs() -> Vec<String> {
    STORAGE_ORGS.iter().map(|s| s.to_string()).collect()
}

/// A kind of habit a host keeps with external peers (uploads, channels).
pub trait Kept: Sized {
    /// The host's habits of this kind.
    fn of(h: &HostHabits) -> &Vec<Self>;
    /// The peer.
    fn peer(&self) -> &String;
}

impl Kept for Upload {
    fn of(h: &HostHabits) -> &Vec<Self> {
        &h.uploads
    }
    fn peer(&self) -> &String {
        &self.peer
    }
}

impl Kept for Channel {
    fn of(h: &HostHabits) -> &Vec<Self> {
        &h.channels
    }
    fn peer(&self) -> &String {
        &self.peer
    }
}

/// Habits of one kind (uploads, channels) indexed by the AS number of their peer, for the peers in
/// the networks of some organisations.
pub struct Networks<'a, T>(AHashMap<u32, Vec<(&'a str, &'a T)>>);

/// A peer's network matched to a habit.
pub struct NetworkMatch<'a, T> {
    /// The AS number.
    pub asn: u32,
    /// The habit kept in that network with the most of the ranking key.
    pub habit: &'a T,
    /// Other hosts keeping one there (`None`: the host's own).
    pub fleet: Option<usize>,
}

impl<'a, T: Kept> Networks<'a, T> {
    /// The index of every host's habits of this kind whose peer is in a network of `orgs` (empty:
    /// none).
    pub fn of(ctx: &DetectCtx, hosts: &'a BTreeMap<String, HostHabits>, orgs: &[String]) -> Self {
        let mut by_asn: AHashMap<u32, Vec<(&'a str, &'a T)>> = AHashMap::new();
        for (host, h) in hosts {
            for x in T::of(h) {
                if let Some(asn) = ip::parse(x.peer()).and_then(|p| storage_asn(ctx, p, orgs)) {
                    by_asn.entry(asn).or_default().push((host.as_str(), x));
                }
            }
        }
        Networks(by_asn)
    }

    /// The habit `peer`'s network falls under for `host`: the host's own there, else the fleet's
    /// when at least `min_hosts` other hosts keep one there; the largest by `rank` of either.
    pub fn lookup<K: Ord>(
        &self,
        ctx: &DetectCtx,
        (host, peer): (u128, u128),
        min_hosts: u64,
        rank: impl Fn(&T) -> K,
    ) -> Option<NetworkMatch<'a, T>> {
        if self.0.is_empty() {
            return None;
        }
        let asn = ctx.geo.asn_u128(peer)?;
        let list = self.0.get(&asn)?;
        let h = ip::format(host);
        let (own, others): (Vec<_>, Vec<_>) = list.iter().copied().partition(|(o, _)| *o == h);
        let largest = |l: &[(&'a str, &'a T)]| l.iter().map(|(_, x)| *x).max_by_key(|x| rank(x));
        if let Some(habit) = largest(&own) {
            return Some(NetworkMatch {
                asn,
                habit,
                fleet: None,
            });
        }
        let hosts = distinct_hosts(&others);
        let habit = largest(&others).filter(|_| hosts as u64 >= min_hosts)?;
        Some(NetworkMatch {
            asn,
            habit,
            fleet: Some(hosts),
        })
    }
}

/// The AS number of `peer` when its organisation is one of `orgs`.
fn storage_asn(ctx: &DetectCtx, peer: u128, orgs: &[String]) -> Option<u32> {
    if orgs.is_empty() {
        return None;
    }
    let org = ctx.geo.org_u128(peer)?;
    super::cnc_beacon::is_trusted_org(&org, orgs)
        .then(|| ctx.geo.asn_u128(peer))
        .flatten()
}

fn distinct_hosts<T>(list: &[(&str, &T)]) -> usize {
    let mut hosts: Vec<&str> = list.iter().map(|(h, _)| *h).collect();
    hosts.sort_unstable();
    hosts.dedup();
    hosts.len()
}

/// The habit an upload falls under.
#[derive(Debug, Clone)]
pub struct Habit {
    /// The baseline destination that stands for the habit.
    pub key: u128,
    /// The baseline upload (its destination, largest window and when).
    pub upload: Upload,
    /// Other hosts sharing it (`None`: the host's own).
    pub fleet: Option<usize>,
    /// The AS number when matched by network rather than by address.
    pub asn: Option<u32>,
}

impl Habit {
    fn of(u: &Upload, fleet: Option<usize>, asn: Option<u32>) -> Habit {
        Habit {
            key: ip::parse(&u.peer).unwrap_or_default(),
            upload: u.clone(),
            fleet,
            asn,
        }
    }

    /// "its baseline upload destinations", "the fleet's (3 other hosts') baseline upload network
    /// AS8075".
    pub fn whose(&self) -> String {
        let who = self.fleet.map_or("its".to_string(), |n| {
            format!("the fleet's ({n} other hosts')")
        });
        match self.asn {
            Some(asn) => format!("{who} baseline upload network AS{asn}"),
            None => format!("{who} baseline upload destinations"),
        }
    }
}

/// The upload habits of the baseline, indexed by destination and by network.
pub struct UploadHabits<'a> {
    ctx: &'a DetectCtx<'a>,
    by_peer: PeerIndex<'a, Upload>,
    by_network: Networks<'a, Upload>,
    min_hosts: u64,
}

impl<'a> UploadHabits<'a> {
    /// The index; the fleet's habits need `min_hosts` other hosts; new addresses of the networks of
    /// `network_orgs` fall under the habits kept there.
    pub fn new(ctx: &'a DetectCtx<'a>, min_hosts: u64, network_orgs: &[String]) -> Self {
        let habits = &ctx.baseline.habits;
        UploadHabits {
            ctx,
            by_peer: habits.upload_index(),
            by_network: Networks::of(ctx, &habits.hosts, network_orgs),
            min_hosts,
        }
    }

    /// The habit `host`'s upload to `peer` falls under: the host's own to that address, the fleet's
    /// to it, the host's own to its network, the fleet's to its network; the largest of a kind.
    pub fn habit(&self, host: u128, peer: u128) -> Option<Habit> {
        if let Some(u) = self.ctx.baseline.habits.upload(host, peer) {
            return Some(Habit::of(u, None, None));
        }
        if let Some(others) = self.by_peer.others(host, peer, self.min_hosts) {
            let top = others
                .iter()
                .map(|(_, u)| *u)
                .max_by_key(|u| upload_rank(u))?;
            return Some(Habit::of(top, Some(others.len()), None));
        }
        let m = self
            .by_network
            .lookup(self.ctx, (host, peer), self.min_hosts, upload_rank)?;
        Some(Habit::of(m.habit, m.fleet, Some(m.asn)))
    }
}

/// Uploads rank by their largest window, then by the lower address.
fn upload_rank(u: &Upload) -> (u64, std::cmp::Reverse<String>) {
    (u.peak_window_bytes, std::cmp::Reverse(u.peer.clone()))
}

/// How far above a habit's baseline level (flows per window of a channel) traffic matched to it by
/// network may go and still be that habit: a storage network also rents servers (Azure, Google
/// Cloud), and a C&C there talks at its own level.
pub const LEVEL_RATIO: f64 = 10.0;

/// True when `flows_per_window` stays within [`LEVEL_RATIO`] times a channel's baseline level of
/// `flows` over `windows`.
pub fn within_level(flows_per_window: f64, flows: u64, windows: u64) -> bool {
    flows_per_window <= LEVEL_RATIO * flows as f64 / windows.max(1) as f64
}

/// The channel habits of the baseline (peers a host talks to again and again): the fleet's by
/// address, and the host's own or the fleet's by network.
pub struct ChannelHabits<'a> {
    /// The fleet's, by address.
    pub by_peer: PeerIndex<'a, Channel>,
    by_network: Networks<'a, Channel>,
    /// Other hosts that make a channel the fleet's.
    pub min_hosts: u64,
}

impl<'a> ChannelHabits<'a> {
    /// The index; the fleet's channels need `min_hosts` other hosts; new addresses of the networks
    /// of `network_orgs` fall under the channels kept there.
    pub fn new(ctx: &'a DetectCtx<'a>, min_hosts: u64, network_orgs: &[String]) -> Self {
        let habits = &ctx.baseline.habits;
        ChannelHabits {
            by_peer: habits.channel_index(),
            by_network: Networks::of(ctx, &habits.hosts, network_orgs),
            min_hosts,
        }
    }

    /// The channel `peer`'s network falls under for `host` (the one recurring in most windows).
    pub fn by_network(
        &self,
        ctx: &DetectCtx,
        (host, peer): (u128, u128),
    ) -> Option<NetworkMatch<'a, Channel>> {
        self.by_network
            .lookup(ctx, (host, peer), self.min_hosts, |c| c.windows)
    }
}

/// One host's bytes to habitual destinations, per (window, habit).
#[derive(Default)]
pub struct HabitBytes {
    /// (window, habit key) -> (weighted, raw) bytes.
    per_window: AHashMap<(i64, u128), (f64, u64)>,
    habits: AHashMap<u128, Habit>,
}

impl HabitBytes {
    /// Adds `raw` bytes (weighing `weighted`) sent in window `win` under `habit`.
    pub fn add(&mut self, win: i64, habit: &Habit, weighted: f64, raw: u64) {
        let key = habit.key;
        self.habits.entry(key).or_insert_with(|| habit.clone());
        let e = self.per_window.entry((win, key)).or_default();
        (e.0, e.1) = (e.0 + weighted, e.1 + raw);
    }

    /// Folds the windows where a habit's bytes exceed `ratio` times its baseline peak window back
    /// into `windows` (weighted); returns what stayed within.
    pub fn fold(self, ratio: f64, windows: &mut AHashMap<i64, f64>) -> Habitual {
        let mut out = Habitual::default();
        for ((w, key), (weighted, raw)) in self.per_window {
            let h = &self.habits[&key];
            if !within(raw, h.upload.peak_window_bytes, ratio) {
                *windows.entry(w).or_default() += weighted;
                continue;
            }
            out.bytes += raw;
            if out.top.as_ref().is_none_or(|(b, _)| raw > *b) {
                out.top = Some((raw, h.clone()));
            }
        }
        out
    }
}

/// True when `bytes` in one window stay within `ratio` times the habit's largest baseline window.
pub fn within(bytes: u64, peak_window_bytes: u64, ratio: f64) -> bool {
    bytes as f64 <= ratio * peak_window_bytes as f64
}

/// Bytes to baseline upload habits that stayed within them.
#[derive(Default)]
pub struct Habitual {
    /// The bytes.
    pub bytes: u64,
    /// The habit with the most bytes in one window, and those bytes.
    pub top: Option<(u64, Habit)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_table() {
        // (bytes, peak, ratio) -> within
        let cases = [
            (100, 10, 10.0, true),
            (101, 10, 10.0, false),
            (0, 0, 10.0, true),
            (1, 0, 10.0, false),
            (5, 10, 0.0, false),
        ];
        for (b, p, r, want) in cases {
            assert_eq!(within(b, p, r), want, "{b} {p} {r}");
        }
    }

    #[test]
    fn within_level_table() {
        // (test flows per window, baseline flows, baseline windows) -> the habit's level?
        let cases = [
            (42.0, 1000, 24, true),   // a long-poll moved to another address
            (416.0, 1000, 24, true),  // 10x
            (418.0, 1000, 24, false), // beyond 10x
            (600.0, 38, 12, false),   // a reconnect storm vs a few flows an hour
            (1.0, 0, 0, false),
        ];
        for (rate, flows, windows, want) in cases {
            assert_eq!(
                within_level(rate, flows, windows),
                want,
                "{rate} {flows} {windows}"
            );
        }
    }

    #[test]
    fn uploads_rank_by_peak_then_lower_address() {
        let u = |peer: &str, peak| Upload {
            peer: peer.into(),
            peak_window_bytes: peak,
            ..Default::default()
        };
        let (a, b, c) = (u("192.0.2.9", 5), u("192.0.2.1", 7), u("192.0.2.2", 7));
        let top = [&a, &b, &c].into_iter().max_by_key(|u| upload_rank(u));
        assert_eq!(top.unwrap().peer, "192.0.2.1");
        assert_eq!(distinct_hosts(&[("h1", &a), ("h1", &b), ("h2", &c)]), 2);
    }
}
