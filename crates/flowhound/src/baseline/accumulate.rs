//! One pass of grouped accumulators over address integers, then the summaries of the baseline.

use super::habits::{HabitAcc, HabitFlow};
use super::stats::MetricStats;
use super::tail::{push_ratios, RelativeTails, TailModel};
use super::{
    Baseline, ByteStats, Edge, External, HostProfile, KeyCount, Prevalence, Server, Source,
    SCHEMA_VERSION,
};
use crate::config::BaselineConfig;
use crate::detect::flows::{host_view, Flows};
use crate::error::{FlowError, Result};
use crate::findings::format_ts;
use crate::ip;
use crate::net::InternalNets;
use ahash::{AHashMap, AHashSet};
use flowhound_geo::GeoStack;
use std::collections::{BTreeMap, BTreeSet};

/// Microseconds per second.
const US: i64 = 1_000_000;

#[derive(Default)]
struct HostAcc {
    flows: u64,
    sent: u64,
    received: u64,
    windows: AHashMap<i64, [u64; 3]>,
    peers: AHashSet<u128>,
    ports: AHashMap<(u8, u16), u64>,
    countries: AHashMap<String, u64>,
    asns: AHashMap<u32, u64>,
    hours: [u64; 24],
    internal_peers: AHashSet<u128>,
}

#[derive(Default)]
struct PrevAcc {
    hosts: AHashSet<u128>,
    flows: u64,
}

#[derive(Default)]
struct Acc {
    hosts: AHashMap<u128, HostAcc>,
    services: AHashMap<(u128, u8, u16), (AHashSet<u128>, u64)>,
    edges: AHashMap<(u128, u128), (BTreeSet<u16>, u64)>,
    dests: AHashMap<u128, PrevAcc>,
    countries: AHashMap<String, PrevAcc>,
    asns: AHashMap<u32, PrevAcc>,
    geo: AHashMap<u128, (Option<String>, Option<u32>)>,
    habits: HabitAcc,
}

/// The window index of a timestamp (microseconds) for windows of `window_secs`.
pub fn window_of(ts_us: i64, window_secs: u64) -> i64 {
    ts_us.div_euclid(window_secs.max(1) as i64 * US)
}

/// The UTC hour of day of a timestamp (microseconds).
pub fn hour_of(ts_us: i64) -> usize {
    (ts_us.div_euclid(3600 * US).rem_euclid(24)) as usize
}

/// Learns a baseline from `flows`. `files` and `self_learned` are recorded in its `source`.
pub fn learn(
    flows: &Flows,
    nets: &InternalNets,
    geo: &GeoStack,
    cfg: &BaselineConfig,
    files: Vec<String>,
    self_learned: bool,
) -> Result<Baseline> {
    let never = std::sync::atomic::AtomicBool::new(false);
    learn_cancellable(flows, nets, geo, cfg, files, self_learned, &never)
}

/// [`learn`], failing soon after `cancel` is set (checked every 65,536 flows).
pub fn learn_cancellable(
    flows: &Flows,
    nets: &InternalNets,
    geo: &GeoStack,
    cfg: &BaselineConfig,
    files: Vec<String>,
    self_learned: bool,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<Baseline> {
    if cfg.window_secs == 0 {
        return Err(FlowError::Config(
            "baseline.window_secs must be at least 1".into(),
        ));
    }
    let mut acc = Acc {
        habits: HabitAcc::new(self_learned),
        ..Default::default()
    };
    let fanout_secs = cfg.fanout_window_secs.max(1);
    for i in 0..flows.len() {
        if i % 65_536 == 0 && cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(FlowError::Internal("interrupted".into()));
        }
        add_flow(
            &mut acc,
            flows,
            i,
            nets,
            geo,
            (cfg.window_secs, fanout_secs),
        );
    }
    let mut b = Baseline {
        schema_version: SCHEMA_VERSION,
        source: source(flows, files, self_learned),
        internal_networks: nets.blocks().iter().map(|c| c.to_string()).collect(),
        window_secs: cfg.window_secs,
        global: global_stats(flows),
        ..Default::default()
    };
    let mut pop: [Vec<u64>; 3] = Default::default();
    let mut ratios: [Vec<f64>; 2] = Default::default();
    for (h, a) in &acc.hosts {
        let p = profile(a, cfg.usual_ports_count as usize, &mut pop, &mut ratios);
        b.hosts.insert(ip::format(*h), p);
    }
    let [mut up, mut down] = ratios;
    b.relative_tail = RelativeTails {
        up_bytes: TailModel::fit_trimmed(&mut up, self_learned),
        down_bytes: TailModel::fit_trimmed(&mut down, self_learned),
    };
    let [mut f, mut s, mut r] = pop;
    b.host_windows = ByteStats {
        flows: MetricStats::of(&mut f),
        up_bytes: MetricStats::of(&mut s),
        down_bytes: MetricStats::of(&mut r),
    };
    b.servers = servers(&acc, cfg)?;
    b.internal_graph = graph(&acc);
    b.external = external(&acc);
    name_asns(&mut b.external, &acc, geo);
    let habits = std::mem::take(&mut acc.habits);
    b.habits = habits.finish(cfg.window_secs, fanout_secs);
    Ok(b)
}

fn source(flows: &Flows, files: Vec<String>, self_learned: bool) -> Source {
    let first = flows.ts.iter().min().copied();
    let last = flows.ts.iter().max().copied();
    Source {
        files,
        flows: flows.len() as u64,
        first_seen: first.map(format_ts),
        last_seen: last.map(format_ts),
        self_learned,
    }
}

fn global_stats(flows: &Flows) -> ByteStats {
    ByteStats {
        up_bytes: MetricStats::of(&mut flows.up.clone()),
        down_bytes: MetricStats::of(&mut flows.down.clone()),
        flows: MetricStats::default(),
    }
}

fn geo_of<'a>(
    cache: &'a mut AHashMap<u128, (Option<String>, Option<u32>)>,
    geo: &GeoStack,
    ip: u128,
) -> &'a (Option<String>, Option<u32>) {
    cache.entry(ip).or_insert_with(|| {
        (
            geo.country_u128(ip).map(|c| c.to_string()),
            geo.asn_u128(ip),
        )
    })
}

fn add_flow(
    acc: &mut Acc,
    f: &Flows,
    i: usize,
    nets: &InternalNets,
    geo: &GeoStack,
    (window_secs, fanout_secs): (u64, u64),
) {
    let Some(v) = host_view(f.src[i], f.dst[i], f.up[i], f.down[i], nets) else {
        return;
    };
    let proto = f.proto[i].index() as u8;
    let peer_internal = nets.contains(v.peer);
    let hf = HabitFlow {
        ts: f.ts[i],
        host: v.host,
        peer: v.peer,
        peer_internal,
        originator: v.originator,
        proto: f.proto[i],
        port: f.dst_port[i],
        sent: v.sent,
        received: v.received,
    };
    acc.habits.add(&hf, window_secs, fanout_secs);
    let h = acc.hosts.entry(v.host).or_default();
    h.flows += 1;
    h.sent += v.sent;
    h.received += v.received;
    let w = h
        .windows
        .entry(window_of(f.ts[i], window_secs))
        .or_default();
    w[0] += 1;
    w[1] += v.sent;
    w[2] += v.received;
    h.peers.insert(v.peer);
    h.hours[hour_of(f.ts[i])] += 1;
    if v.originator {
        *h.ports.entry((proto, f.dst_port[i])).or_default() += 1;
    }
    if peer_internal {
        h.internal_peers.insert(v.peer);
        let e = acc.edges.entry((f.src[i], f.dst[i])).or_default();
        if e.0.len() < 32 {
            e.0.insert(f.dst_port[i]);
        }
        e.1 += 1;
        let s = acc
            .services
            .entry((f.dst[i], proto, f.dst_port[i]))
            .or_default();
        s.0.insert(f.src[i]);
        s.1 += 1;
        return;
    }
    let (cc, asn) = geo_of(&mut acc.geo, geo, v.peer).clone();
    let cc = cc.unwrap_or_else(|| "??".into());
    *h.countries.entry(cc.clone()).or_default() += 1;
    if let Some(a) = asn {
        *h.asns.entry(a).or_default() += 1;
        bump(acc.asns.entry(a).or_default(), v.host);
    }
    bump(acc.dests.entry(v.peer).or_default(), v.host);
    bump(acc.countries.entry(cc).or_default(), v.host);
}

fn bump(p: &mut PrevAcc, host: u128) {
    p.hosts.insert(host);
    p.flows += 1;
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

fn profile(
    a: &HostAcc,
    ports_n: usize,
    pop: &mut [Vec<u64>; 3],
    ratios: &mut [Vec<f64>; 2],
) -> HostProfile {
    let mut cols: [Vec<u64>; 3] = Default::default();
    for w in a.windows.values() {
        for (k, v) in w.iter().enumerate() {
            cols[k].push(*v);
            pop[k].push(*v);
        }
    }
    let [mut f, mut s, mut r] = cols;
    let (up, down) = (MetricStats::of(&mut s), MetricStats::of(&mut r));
    push_ratios(&s, up.median, &mut ratios[0]);
    push_ratios(&r, down.median, &mut ratios[1]);
    let proto_name = |p: u8| {
        crate::schema::Proto::ALL
            .get(p as usize)
            .map_or("other", |x| x.as_str())
    };
    let mut peers: Vec<u128> = a.internal_peers.iter().copied().collect();
    peers.sort_unstable();
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
        distinct_destinations: a.peers.len() as u64,
        usual_dst_ports: top(
            a.ports
                .iter()
                .map(|((p, port), c)| (format!("{}/{port}", proto_name(*p)), *c)),
            ports_n,
        ),
        countries: top(a.countries.iter().map(|(k, c)| (k.clone(), *c)), usize::MAX),
        asns: top(a.asns.iter().map(|(k, c)| (*k, *c)), usize::MAX),
        active_hours: a.hours.to_vec(),
        internal_peers: peers.into_iter().map(ip::format).collect(),
    }
}

/// Parses a `--exclude` / `baseline.exclude` entry: `IP` or `IP:PORT` (`[v6]:PORT` for IPv6).
pub fn parse_exclude(text: &str) -> Result<(u128, Option<u16>)> {
    let bad = || {
        FlowError::Config(format!(
            "exclude '{text}': expected IP or IP:PORT, e.g. 192.168.105.5 or 192.168.105.5:445"
        ))
    };
    if let Some(v) = ip::parse(text) {
        return Ok((v, None));
    }
    let (addr, port) = text.trim().rsplit_once(':').ok_or_else(bad)?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    Ok((
        ip::parse(addr).ok_or_else(bad)?,
        Some(port.parse().map_err(|_| bad())?),
    ))
}

fn servers(acc: &Acc, cfg: &BaselineConfig) -> Result<Vec<Server>> {
    let mut out: Vec<Server> = acc
        .services
        .iter()
        .filter(|((_, _, port), (clients, _))| {
            *port as u64 <= cfg.server_max_port
                && clients.len() as u64 >= cfg.server_min_clients_count
        })
        .map(|((ipv, proto, port), (clients, flows))| Server {
            ip: ip::format(*ipv),
            proto: crate::schema::Proto::ALL
                .get(*proto as usize)
                .map_or("other", |p| p.as_str())
                .to_string(),
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

fn graph(acc: &Acc) -> Vec<Edge> {
    let mut out: Vec<((u128, u128), Edge)> = acc
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

/// Fills the AS organisation of each AS in `ext` from one of its addresses (distinct lookups only).
fn name_asns(ext: &mut External, acc: &Acc, geo: &GeoStack) {
    let mut one_ip: AHashMap<u32, u128> = AHashMap::new();
    for (ip, (_, asn)) in &acc.geo {
        if let Some(a) = asn {
            let e = one_ip.entry(*a).or_insert(*ip);
            *e = (*e).min(*ip);
        }
    }
    for (asn, p) in ext.asns.iter_mut() {
        let ip = asn.parse::<u32>().ok().and_then(|a| one_ip.get(&a));
        p.org = ip.and_then(|ip| geo.org_u128(*ip)).map(|o| o.to_string());
    }
}

fn prevalence<K: Ord>(m: impl Iterator<Item = (K, u64, u64)>) -> BTreeMap<K, Prevalence> {
    m.map(|(k, hosts, flows)| {
        (
            k,
            Prevalence {
                hosts,
                flows,
                org: None,
            },
        )
    })
    .collect()
}

fn external(acc: &Acc) -> External {
    let destinations = prevalence(
        acc.dests
            .iter()
            .map(|(k, p)| (ip::format(*k), p.hosts.len() as u64, p.flows)),
    );
    let countries = prevalence(
        acc.countries
            .iter()
            .map(|(k, p)| (k.clone(), p.hosts.len() as u64, p.flows)),
    );
    let asns = prevalence(
        acc.asns
            .iter()
            .map(|(k, p)| (k.to_string(), p.hosts.len() as u64, p.flows)),
    );
    External {
        destinations,
        countries,
        asns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_hours() {
        let cases = [
            (0, 3600, 0, 0),
            (3_599_999_999, 3600, 0, 0),
            (3_600_000_000, 3600, 1, 1),
            (-1, 3600, -1, 23),
            (86_400_000_000 + 7_200_000_000, 600, 156, 2),
        ];
        for (ts, w, want_w, want_h) in cases {
            assert_eq!((window_of(ts, w), hour_of(ts)), (want_w, want_h), "{ts}");
        }
    }

    #[test]
    fn exclude_table() {
        let v4 = ip::parse("192.168.1.5").unwrap();
        assert_eq!(parse_exclude("192.168.1.5").unwrap(), (v4, None));
        assert_eq!(parse_exclude("192.168.1.5:445").unwrap(), (v4, Some(445)));
        assert_eq!(
            parse_exclude("[fd00::1]:53").unwrap(),
            (ip::parse("fd00::1").unwrap(), Some(53))
        );
        assert!(parse_exclude("nope:1").is_err());
        assert!(parse_exclude("1.2.3.4:99999").is_err());
    }
}
