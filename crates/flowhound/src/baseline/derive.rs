//! The baseline derived from a learning [`State`]: host profiles, population statistics, the heavy
//! tail, server inventory, internal graph, external prevalence and habits.

use super::habits;
use super::state::{HostState, State};
use super::stats::MetricStats;
use super::tail::{push_ratios, RelativeTails, TailModel};
use super::{
    parse_exclude, Baseline, ByteStats, Edge, External, HostProfile, KeyCount, Prevalence, Server,
    Source, SCHEMA_VERSION,
};
use crate::config::BaselineConfig;
use crate::error::{FlowError, Result};
use crate::findings::format_ts;
use crate::ip;
use ahash::AHashMap;
use std::collections::BTreeMap;

impl State {
    /// Derives the baseline (the statistics detectors read) from this state, with the settings it
    /// carries ([`State::set_settings`]).
    pub fn finish(mut self) -> Result<Baseline> {
        let Some(grid) = self.grid else {
            return Err(FlowError::Config(
                "no baseline state to derive a baseline from".into(),
            ));
        };
        if !self.pending[0].is_empty() {
            // a state merged before it was sealed: fold its values (geography is already there)
            self.seal(&flowhound_geo::GeoStack::new());
        }
        self.hosts.values_mut().for_each(HostState::settle);
        let cfg = self.settings.clone();
        let mut b = Baseline {
            schema_version: SCHEMA_VERSION,
            source: Source {
                files: self.files.clone(),
                flows: self.flows,
                first_seen: self.first.map(format_ts),
                last_seen: self.last.map(format_ts),
                self_learned: grid.robust,
            },
            internal_networks: self.nets.clone(),
            window_secs: grid.window_secs,
            global: ByteStats {
                up_bytes: stats_of_histogram(&self.global[0]),
                down_bytes: stats_of_histogram(&self.global[1]),
                flows: MetricStats::default(),
            },
            ..Default::default()
        };
        let (pop, ratios) = profiles(&self, cfg.usual_ports_count as usize, &mut b);
        let [mut up, mut down] = ratios;
        b.relative_tail = RelativeTails {
            up_bytes: TailModel::fit_trimmed(&mut up, grid.robust),
            down_bytes: TailModel::fit_trimmed(&mut down, grid.robust),
        };
        let [mut f, mut s, mut r] = pop;
        b.host_windows = ByteStats {
            flows: MetricStats::of(&mut f),
            up_bytes: MetricStats::of(&mut s),
            down_bytes: MetricStats::of(&mut r),
        };
        b.servers = servers(&self, &cfg)?;
        b.internal_graph = graph(&self);
        b.external = external(&self);
        b.habits = habits::derive(&self.hosts, grid);
        Ok(b)
    }
}

/// Statistics of the values of an ascending `(value, count)` histogram: exactly [`MetricStats::of`]
/// of the values it counts (the same sums in the same order, the same ranks), without expanding
/// them: the global histograms count every normal flow, and 100M flows expanded took 1.6 GB.
fn stats_of_histogram(h: &[(u64, u64)]) -> MetricStats {
    let n: u64 = h.iter().map(|x| x.1).sum();
    if n == 0 {
        return MetricStats::default();
    }
    let values = || {
        h.iter()
            .flat_map(|&(v, c)| std::iter::repeat_n(v, c as usize))
    };
    let sum: u128 = h.iter().map(|&(v, c)| v as u128 * c as u128).sum();
    let mean = sum as f64 / n as f64;
    let std = (n >= 2).then(|| {
        let ss: f64 = values().map(|v| (v as f64 - mean).powi(2)).sum();
        (ss / (n - 1) as f64).sqrt()
    });
    let at = |k: u64| ranked(h, k) as f64;
    let q = |p: f64| {
        let pos = p * (n - 1) as f64;
        let lo = pos.floor() as u64;
        crate::stats::lerp(at(lo), at((lo + 1).min(n - 1)), pos - lo as f64)
    };
    let (q1, median, q3) = (q(0.25), q(0.5), q(0.75));
    let (iqr_lower, iqr_upper) = super::stats::iqr_fences(q1, q3, 1.5);
    // the deviations from the median, as counts per deviation, ascending
    let mut dev: Vec<(f64, u64)> = h
        .iter()
        .map(|&(v, c)| ((v as f64 - median).abs(), c))
        .collect();
    dev.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mad = if n % 2 == 1 {
        ranked(&dev, n / 2)
    } else {
        (ranked(&dev, n / 2 - 1) + ranked(&dev, n / 2)) / 2.0
    };
    MetricStats {
        count: n,
        mean,
        std: std.unwrap_or(0.0),
        min: at(0),
        q1,
        median,
        q3,
        p90: q(0.9),
        p99: q(0.99),
        max: at(n - 1),
        iqr_lower,
        iqr_upper,
        mad,
    }
}

/// The value of rank `k` (0-based) of the values a sorted `(value, count)` histogram counts.
fn ranked<T: Copy + Default>(h: &[(T, u64)], k: u64) -> T {
    let mut seen = 0;
    for &(v, c) in h {
        seen += c;
        if k < seen {
            return v;
        }
    }
    h.last().map_or_else(T::default, |x| x.0)
}

fn top<K: ToString>(counts: impl IntoIterator<Item = (K, u64)>, n: usize) -> Vec<KeyCount> {
    let mut v: Vec<KeyCount> = counts
        .into_iter()
        .map(|(k, c)| KeyCount {
            key: k.to_string(),
            flows: c,
        })
        .collect();
    v.sort_by(|a, b| b.flows.cmp(&a.flows).then_with(|| a.key.cmp(&b.key)));
    v.truncate(n);
    v
}

fn proto_name(p: u8) -> &'static str {
    crate::schema::Proto::ALL
        .get(p as usize)
        .map_or("other", |x| x.as_str())
}

/// Flows of a host by country and by AS of its external peers.
fn host_geo(st: &State, a: &HostState) -> (AHashMap<String, u64>, AHashMap<u32, u64>) {
    let mut countries: AHashMap<String, u64> = AHashMap::new();
    let mut asns: AHashMap<u32, u64> = AHashMap::new();
    for (p, c) in &a.peers {
        let (cc, asn) = st.geo.get(p).cloned().unwrap_or_default();
        *countries
            .entry(cc.unwrap_or_else(|| "??".into()))
            .or_default() += c.0;
        if let Some(asn) = asn {
            *asns.entry(asn).or_default() += c.0;
        }
    }
    (countries, asns)
}

/// Every host's profile into `b`, on every core; returns the population's window values and the
/// hosts' ratios to their medians (in no particular order: their statistics sort them).
fn profiles(st: &State, ports_n: usize, b: &mut Baseline) -> ([Vec<u64>; 3], [Vec<f64>; 2]) {
    let list: Vec<(&u128, &HostState)> = st.hosts.iter().collect();
    let done = crate::detect::in_parallel(&list, |(h, a)| {
        let mut pop: [Vec<u64>; 3] = Default::default();
        let mut ratios: [Vec<f64>; 2] = Default::default();
        let p = profile(st, a, ports_n, &mut pop, &mut ratios);
        (ip::format(**h), p, pop, ratios)
    });
    let mut pop: [Vec<u64>; 3] = Default::default();
    let mut ratios: [Vec<f64>; 2] = Default::default();
    for (h, p, hp, hr) in done {
        b.hosts.insert(h, p);
        for (all, mine) in pop.iter_mut().zip(hp) {
            all.extend(mine);
        }
        for (all, mine) in ratios.iter_mut().zip(hr) {
            all.extend(mine);
        }
    }
    (pop, ratios)
}

fn profile(
    st: &State,
    a: &HostState,
    ports_n: usize,
    pop: &mut [Vec<u64>; 3],
    ratios: &mut [Vec<f64>; 2],
) -> HostProfile {
    let mut cols: [Vec<u64>; 3] = Default::default();
    // the population is the hosts that act: an address that only ever receives (dark space probed
    // by the Internet's scanners) would drag "a host's normal window" towards nothing
    let acts = !a.ports.is_empty();
    for w in a.windows.values() {
        for (k, v) in w.iter().enumerate() {
            cols[k].push(*v);
            if acts {
                pop[k].push(*v);
            }
        }
    }
    let [mut f, mut s, mut r] = cols;
    let (up, down) = (MetricStats::of(&mut s), MetricStats::of(&mut r));
    push_ratios(&s, up.median, &mut ratios[0]);
    push_ratios(&r, down.median, &mut ratios[1]);
    let mut peers: Vec<u128> = a.internal_peers.iter().copied().collect();
    peers.sort_unstable();
    let (countries, asns) = host_geo(st, a);
    HostProfile {
        flows: a.flows,
        up_bytes: a.sent,
        down_bytes: a.received,
        active_windows: a.windows.len() as u64,
        per_window: ByteStats {
            flows: MetricStats::of(&mut f),
            up_bytes: up,
            down_bytes: down,
        },
        distinct_destinations: (a.internal_peers.len() + a.peers.len()) as u64,
        usual_dst_ports: top(
            a.ports
                .iter()
                .map(|((p, port), c)| (format!("{}/{port}", proto_name(*p)), *c)),
            ports_n,
        ),
        countries: top(countries, usize::MAX),
        asns: top(asns, usize::MAX),
        active_hours: a.hours.to_vec(),
        internal_peers: peers.into_iter().map(ip::format).collect(),
    }
}

fn servers(st: &State, cfg: &BaselineConfig) -> Result<Vec<Server>> {
    let mut out: Vec<Server> = st
        .services
        .iter()
        .filter(|((_, _, port), (clients, _))| {
            *port as u64 <= cfg.server_max_port
                && clients.len() as u64 >= cfg.server_min_clients_count
        })
        .map(|((ipv, proto, port), (clients, flows))| Server {
            ip: ip::format(*ipv),
            proto: proto_name(*proto).to_string(),
            port: Some(*port),
            clients: clients.len() as u64,
            flows: *flows,
            source: "discovered".into(),
        })
        .collect();
    for e in &cfg.exclude {
        let (ipv, port) = parse_exclude(e)?;
        let name = ip::format(ipv);
        if !out
            .iter()
            .any(|s| s.ip == name && (port.is_none() || s.port == port))
        {
            out.push(Server {
                ip: name,
                proto: "any".into(),
                port,
                clients: 0,
                flows: 0,
                source: "configured".into(),
            });
        }
    }
    out.sort_by(|a, b| {
        a.ip.cmp(&b.ip)
            .then_with(|| a.port.cmp(&b.port))
            .then_with(|| a.proto.cmp(&b.proto))
    });
    Ok(out)
}

fn graph(st: &State) -> Vec<Edge> {
    let mut out: Vec<((u128, u128), Edge)> = st
        .edges
        .iter()
        .map(|((s, d), (ports, flows))| {
            (
                (*s, *d),
                Edge {
                    src: ip::format(*s),
                    dst: ip::format(*d),
                    ports: ports.iter().copied().collect(),
                    flows: *flows,
                },
            )
        })
        .collect();
    out.sort_by_key(|(k, _)| *k);
    out.into_iter().map(|(_, e)| e).collect()
}

fn bump<K: Ord>(m: &mut BTreeMap<K, Prevalence>, k: K, flows: u64) {
    let p = m.entry(k).or_default();
    p.hosts += 1;
    p.flows += flows;
}

/// External destinations, countries and ASNs with their prevalence (hosts that reached them).
fn external(st: &State) -> External {
    let mut dests: BTreeMap<u128, Prevalence> = BTreeMap::new();
    let mut ext = External::default();
    for a in st.hosts.values() {
        for (p, c) in &a.peers {
            bump(&mut dests, *p, c.0);
        }
        let (countries, asns) = host_geo(st, a);
        for (cc, n) in countries {
            bump(&mut ext.countries, cc, n);
        }
        for (asn, n) in asns {
            bump(&mut ext.asns, asn.to_string(), n);
        }
    }
    ext.destinations = dests.into_iter().map(|(k, p)| (ip::format(k), p)).collect();
    for (asn, p) in ext.asns.iter_mut() {
        let org = asn.parse::<u32>().ok().and_then(|a| st.asn_org.get(&a));
        p.org = org.and_then(|(_, o)| o.clone());
    }
    ext
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The histogram statistics equal those of the expanded values, bit for bit.
    #[test]
    fn histogram_stats_equal_expanded() {
        let mut seed = 7u64;
        let mut next = move |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        for len in [0usize, 1, 2, 3, 10, 57, 400] {
            let mut h: Vec<(u64, u64)> = Vec::new();
            let mut v = next(50);
            for _ in 0..len {
                v += 1 + next(5000);
                h.push((v, 1 + next(if len % 2 == 0 { 9 } else { 2 })));
            }
            let mut values: Vec<u64> = h
                .iter()
                .flat_map(|&(v, c)| std::iter::repeat_n(v, c as usize))
                .collect();
            assert_eq!(
                stats_of_histogram(&h),
                MetricStats::of(&mut values),
                "{len}"
            );
        }
    }
}
