//! What a detector judging one host needs to know about the whole test input: the capture's span, the
//! active internal hosts, how many of them originate flows to each external destination (and, for
//! destinations few of them reach, which ones, when and how often), and the network's typical DNS query
//! size.
//!
//! One pass over flows fills it and parts merge ([`TestGlobals::merge`]), so the out-of-core runner
//! ([`crate::shard`]) fills it while routing and every shard sees the values the in-memory run sees. In
//! memory, [`DetectCtx::globals`](super::DetectCtx::globals) computes it once from the flows.

use super::behaviour::is_dns;
use super::flows::{host_view, Flows};
use crate::net::InternalNets;
use crate::stats::quantile_sorted;
use ahash::{AHashMap, AHashSet};
use std::collections::BTreeMap;

/// Flows in each half from which [`TestGlobals::of`] uses two threads.
const PARALLEL_MIN_HALF: usize = 200_000;

/// [`TestGlobals::count_hosts`] keeps who reached an external destination when at most this many
/// internal hosts did (a memory bound for "who else reached this peer", not a detection threshold: a
/// peer shared by more hosts is not rare in any network this tool judges host by host).
pub const SHARED_DEST_MAX_HOSTS: usize = 32;

/// One internal host's flows to one external destination: how many, the first and the last start (µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contact {
    /// Flows the host originated to the destination.
    pub flows: u64,
    /// Start of the first (µs).
    pub first_us: i64,
    /// Start of the last (µs).
    pub last_us: i64,
}

impl Contact {
    /// One flow starting at `ts` (µs).
    pub fn at(ts: i64) -> Contact {
        Contact {
            flows: 1,
            first_us: ts,
            last_us: ts,
        }
    }

    /// Adds another part's flows.
    pub fn merge(&mut self, o: Contact) {
        self.flows += o.flows;
        self.first_us = self.first_us.min(o.first_us);
        self.last_us = self.last_us.max(o.last_us);
    }
}

/// Whole-input statistics shared by per-host detectors.
#[derive(Debug, Clone, Default)]
pub struct TestGlobals {
    /// Earliest and latest flow start (µs).
    pub ts_range: Option<(i64, i64)>,
    /// Internal hosts with at least one flow (as [`host_view`] attributes flows).
    pub internal_hosts: AHashSet<u128>,
    /// (External destination, internal host that originated flows to it) -> those flows (while
    /// summing; emptied by [`TestGlobals::count_hosts`]).
    pub dest_hosts: AHashMap<(u128, u128), Contact>,
    /// External destination -> how many internal hosts originated flows to it: `dest_hosts` reduced
    /// by [`TestGlobals::count_hosts`] once every part is merged (what detectors read, so the
    /// out-of-core runner does not hold a host set per destination while it detects).
    pub dest_counts: AHashMap<u128, u64>,
    /// External destination -> the internal hosts that originated flows to it, sorted, for the
    /// destinations that 2 to [`SHARED_DEST_MAX_HOSTS`] hosts reach: `dest_hosts` kept by
    /// [`TestGlobals::count_hosts`] where a peer is shared but rare ([`TestGlobals::contacts_of`]).
    pub shared_dests: AHashMap<u128, Vec<(u128, Contact)>>,
    /// Internal host -> sizes (bytes sent) of the DNS queries it originated, as counts per size.
    pub dns_sizes: AHashMap<u128, BTreeMap<u64, u64>>,
    /// Whether any DNS query got bytes back (bidirectional input).
    pub dns_answered: bool,
    /// Per (internal host, window) sums of the whole input, when computed outside the detection
    /// context (the out-of-core runner); in memory the context computes its own.
    pub host_windows: Option<super::volume::HostWindows>,
}

impl TestGlobals {
    /// The statistics of `flows`, hosts per destination counted.
    pub fn of(flows: &Flows, nets: &InternalNets) -> TestGlobals {
        let half = flows.len() / 2;
        let part = |rows: std::ops::Range<usize>| {
            let mut g = TestGlobals::default();
            g.add_rows(flows, nets, rows);
            g
        };
        // two halves on two threads, merged (the parts' sums and sets merge exactly)
        let (mut a, b) = super::flows::both(
            half >= PARALLEL_MIN_HALF,
            || part(0..half),
            || part(half..flows.len()),
        );
        a.merge(b);
        a.count_hosts();
        a
    }

    /// Adds flows (call [`TestGlobals::count_hosts`] after the last).
    pub fn add(&mut self, f: &Flows, nets: &InternalNets) {
        self.add_rows(f, nets, 0..f.len());
    }

    /// Adds the flows of rows `rows`.
    fn add_rows(&mut self, f: &Flows, nets: &InternalNets, rows: std::ops::Range<usize>) {
        for i in rows {
            let t = f.ts[i];
            let r = self.ts_range.get_or_insert((t, t));
            *r = (r.0.min(t), r.1.max(t));
            let Some(v) = host_view(f.src[i], f.dst[i], f.up[i], f.down[i], nets) else {
                continue;
            };
            self.internal_hosts.insert(v.host);
            if !v.originator {
                continue;
            }
            if !nets.contains(v.peer) {
                self.dest_hosts
                    .entry((v.peer, v.host))
                    .and_modify(|c| c.merge(Contact::at(t)))
                    .or_insert(Contact::at(t));
            }
            if is_dns(f.proto[i], f.dst_port[i]) {
                *self
                    .dns_sizes
                    .entry(v.host)
                    .or_default()
                    .entry(v.sent)
                    .or_default() += 1;
                self.dns_answered |= v.received > 0;
            }
        }
    }

    /// Merges another part in.
    pub fn merge(&mut self, o: TestGlobals) {
        self.ts_range = match (self.ts_range, o.ts_range) {
            (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
            (a, b) => a.or(b),
        };
        self.internal_hosts.extend(o.internal_hosts);
        for (pair, c) in o.dest_hosts {
            self.dest_hosts
                .entry(pair)
                .and_modify(|m| m.merge(c))
                .or_insert(c);
        }
        for (host, sizes) in o.dns_sizes {
            let mine = self.dns_sizes.entry(host).or_default();
            for (size, n) in sizes {
                *mine.entry(size).or_default() += n;
            }
        }
        self.dns_answered |= o.dns_answered;
    }

    /// Reduces the host sets per destination to counts (after the last [`TestGlobals::merge`]:
    /// counts of parts that share hosts do not add up).
    pub fn count_hosts(&mut self) {
        let pairs = std::mem::take(&mut self.dest_hosts);
        for (peer, _) in pairs.keys() {
            *self.dest_counts.entry(*peer).or_default() += 1;
        }
        let shared =
            |n: Option<&u64>| n.is_some_and(|n| (2..=SHARED_DEST_MAX_HOSTS as u64).contains(n));
        for ((peer, host), c) in pairs {
            if shared(self.dest_counts.get(&peer)) {
                self.shared_dests.entry(peer).or_default().push((host, c));
            }
        }
        for hosts in self.shared_dests.values_mut() {
            hosts.sort_unstable_by_key(|(h, _)| *h);
        }
        self.dest_counts.shrink_to_fit();
        self.shared_dests.shrink_to_fit();
    }

    /// The internal hosts that originated flows to external `peer`, sorted, with their flows, once
    /// counted; empty when only one host did, or more than [`SHARED_DEST_MAX_HOSTS`].
    pub fn contacts_of(&self, peer: u128) -> Vec<(u128, Contact)> {
        self.shared_dests.get(&peer).cloned().unwrap_or_default()
    }

    /// Seconds from the first flow start to the last (0 without flows).
    pub fn span_secs(&self) -> f64 {
        self.ts_range
            .map_or(0.0, |(first, last)| (last - first).max(0) as f64 / 1e6)
    }

    /// Internal hosts that originated flows to external `peer`, once counted (1 when unknown).
    pub fn hosts_of(&self, peer: u128) -> u64 {
        self.dest_counts.get(&peer).copied().unwrap_or(1)
    }

    /// The typical DNS query size: the median over hosts of their median query size (0 without DNS).
    pub fn typical_dns_query(&self) -> f64 {
        let mut medians: Vec<f64> = self
            .dns_sizes
            .values()
            .filter_map(|h| {
                let sorted: Vec<u64> = h
                    .iter()
                    .flat_map(|(s, n)| std::iter::repeat_n(*s, *n as usize))
                    .collect();
                quantile_sorted(&sorted, 0.5)
            })
            .collect();
        super::beacon_math::median(&mut medians)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Cidr;
    use crate::schema::Proto;

    fn flows(rows: &[(i64, &str, &str, Proto, u16, u64, u64)]) -> Flows {
        let a = |s: &str| crate::ip::parse(s).unwrap();
        let mut f = Flows::default();
        for (ts, s, d, p, port, up, down) in rows {
            f.ts.push(*ts);
            f.src.push(a(s));
            f.dst.push(a(d));
            f.proto.push(*p);
            f.dst_port.push(*port);
            f.up.push(*up);
            f.down.push(*down);
        }
        f
    }

    #[test]
    fn parts_merge_to_the_whole() {
        let nets = InternalNets::new(vec![Cidr::parse("10.0.0.0/8").unwrap()]);
        let rows = [
            (5, "10.0.0.1", "8.8.8.8", Proto::Udp, 53, 40, 90),
            (1, "10.0.0.2", "8.8.8.8", Proto::Udp, 53, 60, 0),
            (9, "10.0.0.2", "8.8.8.8", Proto::Udp, 53, 80, 0),
            (7, "1.2.3.4", "10.0.0.3", Proto::Tcp, 22, 10, 10),
            (3, "10.0.0.1", "10.0.0.3", Proto::Tcp, 445, 10, 10),
            (4, "9.9.9.9", "1.1.1.1", Proto::Tcp, 80, 1, 1),
        ];
        let whole = TestGlobals::of(&flows(&rows), &nets);
        let mut parts = TestGlobals::default();
        parts.add(&flows(&rows[..2]), &nets);
        let mut second = TestGlobals::default();
        second.add(&flows(&rows[2..]), &nets);
        parts.merge(second);
        assert_eq!(parts.dest_hosts.len(), 2); // (8.8.8.8, .1), (8.8.8.8, .2)
        parts.count_hosts();
        for g in [&whole, &parts] {
            assert_eq!(g.ts_range, Some((1, 9)));
            // 10.0.0.3 only receives (from outside) and 10.0.0.1 -> .3 belongs to the client
            assert_eq!(g.internal_hosts.len(), 3);
            assert_eq!(g.hosts_of(crate::ip::parse("8.8.8.8").unwrap()), 2);
            // medians per host: 40 and 70; their median 55
            assert_eq!(g.typical_dns_query(), 55.0);
            assert!(g.dns_answered);
        }
        let google = crate::ip::parse("8.8.8.8").unwrap();
        let (h1, h2) = (
            crate::ip::parse("10.0.0.1").unwrap(),
            crate::ip::parse("10.0.0.2").unwrap(),
        );
        let want = vec![
            (
                h1,
                Contact {
                    flows: 1,
                    first_us: 5,
                    last_us: 5,
                },
            ),
            (
                h2,
                Contact {
                    flows: 2,
                    first_us: 1,
                    last_us: 9,
                },
            ),
        ];
        for g in [&whole, &parts] {
            assert!(g.dest_hosts.is_empty());
            assert_eq!(g.contacts_of(google), want);
            assert_eq!(g.hosts_of(crate::ip::parse("9.9.9.9").unwrap()), 1);
        }
    }
}
