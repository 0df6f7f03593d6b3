//! `proxied_cnc`: C&C relayed by an internal proxy, named on the client behind it. A web proxy's
//! flow log shows the client's connection to the proxy and, a moment later, the proxy's own
//! connection to the server, of about the same size; the C&C peer is never seen next to the client.
//! Each connection of a relay (an internal server with several internal clients, by the baseline) to a
//! new external address is paired with the client connection to the relay that started at most
//! `max_lead_secs` before it with the same bytes each way (within `size_slack_bytes` or
//! `size_slack_ratio`); the pairs form each client's own connections to that address, which
//! `cnc_beacon`'s scoring then judges as if the client had opened them. Only with a baseline learned
//! from normal traffic: the external address must be new to the network.

use super::cnc_beacon::{CncBeacon, CncBeaconConfig};
use super::flows::Flows;
use super::{DetectCtx, Detector};
use crate::baseline::Baseline;
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::Finding;
use crate::ip;
use crate::schema::Proto;
use ahash::AHashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// The detector.
pub struct ProxiedCnc;

/// `[detectors.proxied_cnc]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxiedCncConfig {
    /// Internal clients (in the baseline) a server needs on a TCP port to be taken as a relay there.
    pub min_clients_count: u64,
    /// The client's connection starts at most this long before the relay's upstream one.
    pub max_lead_secs: f64,
    /// Bytes each way a client connection may differ from the upstream one (headers of the proxy
    /// protocol), or [`ProxiedCncConfig::size_slack_ratio`] of the larger, whichever is more.
    pub size_slack_bytes: u64,
    /// See [`ProxiedCncConfig::size_slack_bytes`].
    pub size_slack_ratio: f64,
}

impl Default for ProxiedCncConfig {
    fn default() -> Self {
        ProxiedCncConfig {
            min_clients_count: 5,
            max_lead_secs: 2.0,
            size_slack_bytes: 1024,
            size_slack_ratio: 0.1,
        }
    }
}

static SETTINGS: [Setting; 4] = [
    Setting {
        key: "min_clients_count",
        doc: "internal clients (in the baseline) a server needs on a TCP port to be taken as a relay (a proxy) there",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "max_lead_secs",
        doc: "a client's connection to the relay starts at most this long before the relay's upstream connection it carries",
        range: Range::Float(0.0, 60.0),
    },
    Setting {
        key: "size_slack_bytes",
        doc: "bytes each way a client's connection to the relay may differ from the upstream one (the proxy protocol's headers)",
        range: Range::Int(0, 1 << 30),
    },
    Setting {
        key: "size_slack_ratio",
        doc: "or this share of the larger of the two, whichever is more",
        range: Range::Float(0.0, 1.0),
    },
];

const DOC: &str = r#"
A web proxy hides the C&C peer from the client's flows: the client talks to the proxy, the proxy to
the Internet. `cnc_beacon` may find the proxy's own connections to the peer periodic (when one client
uses it), but names the proxy; with several bots behind it their check-ins interleave and nothing is
periodic. This detector puts the client back in front of its peer.

Relays are the baseline's internal servers on a TCP port with at least `min_clients_count` internal
clients (mail and DNS relays, tcp/25 and 53, are left to the other detectors). Every connection of a
relay to an external address that is new since the baseline and that the relay reached at least
`cnc_beacon.min_connections_count` times is paired with one client connection to the relay: the one
that started at most `max_lead_secs` before it whose bytes up and down both match within
`size_slack_bytes` or `size_slack_ratio` of the larger (the closest sizes, then the closest start,
win; a client connection carries one upstream connection). The pairs are the client's own
connections to the peer; `cnc_beacon`'s scoring (its settings, rarity and novelty from the whole
input, the baseline's habits) judges them, and a finding names the client, the peer and the proxy,
with both the client's and the proxy's flows. A first pass pairs by the closest sizes; a second by
the proxy's typical overhead for that server (its median over the first pass: the proxy adds the same
headers to every connection to one server), which tells the carrier from a page of about the same
size opened in the same second on a busy proxy.

Once the findings are merged, the proxy's own C&C finding about that peer (`cnc_beacon`,
`cnc_channel`, `shared_cnc`) is held low, naming the clients, when they account for at least 80 % of
its connections to the peer: the proxy is doing its job.

Blind spots: a self-learned baseline (no peer is new, so nothing is judged); a proxy that keeps
client connections open and carries many requests in one (the sizes no longer match); an exporter
that sees only one side of the proxy; clocks of two exporters more than `max_lead_secs` apart.
Out of core, the relays' upstream connections to new peers are collected from their host shards and
judged with the internal-pairs shard, which holds the clients' connections to the relays.
"#;

impl Detector for ProxiedCnc {
    type Config = ProxiedCncConfig;
    fn name(&self) -> &'static str {
        "proxied_cnc"
    }
    fn description(&self) -> &'static str {
        "C&C through an internal web proxy, named on the client behind it (connections matched by time and size)"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn internal_pairs_only(&self) -> bool {
        true
    }
    fn run(&self, c: &ProxiedCncConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let beacon = beacon_config(ctx)?;
        let up = upstream_rows(ctx, c, beacon.min_connections_count);
        if up.is_empty() {
            return Ok(Vec::new());
        }
        let filter = ClientFilter::new(ctx, c, ctx.flows, &up);
        let clients: Vec<usize> = (0..ctx.flows.len())
            .filter(|&i| filter.keeps(ctx.flows, i, ctx.nets))
            .collect();
        let pairs = attribute_all(ctx.flows, &up, &clients, c);
        let (virt, origin) = virtual_flows(ctx.flows, &pairs);
        let vctx = DetectCtx::new(&[], &virt, ctx.baseline, ctx.geo, ctx.nets, ctx.config)
            .with_globals(ctx.globals());
        let found = CncBeacon.run(&beacon, &vctx)?;
        let totals = upstream_totals(ctx.flows, &up);
        Ok(found
            .into_iter()
            .map(|f| relabel(f, &origin, (ctx.flows, &totals), c))
            .collect())
    }
}

/// `cnc_beacon`'s settings, whose scoring judges the attributed connections.
fn beacon_config(ctx: &DetectCtx) -> Result<CncBeaconConfig> {
    super::settings_of(&CncBeacon, ctx.config)
}

/// This detector's settings in `ctx`'s config.
pub fn config_of(ctx: &DetectCtx) -> Result<ProxiedCncConfig> {
    super::settings_of(&ProxiedCnc, ctx.config)
}

/// The network's relays and the TCP ports they relay on: the baseline's internal servers with at
/// least `min_clients_count` internal clients on a port, but for the mail and DNS relay ports. None
/// with a self-learned baseline.
pub fn relays(baseline: &Baseline, c: &ProxiedCncConfig) -> AHashMap<u128, Vec<u16>> {
    let mut out: AHashMap<u128, Vec<u16>> = AHashMap::new();
    if baseline.robust() {
        return out;
    }
    for s in &baseline.servers {
        let (Some(port), Some(host)) = (s.port, ip::parse(&s.ip)) else {
            continue;
        };
        let relay_port = super::infrastructure::RELAY_PORTS.contains(&port);
        if s.proto == "tcp" && s.clients >= c.min_clients_count && !relay_port {
            out.entry(host).or_default().push(port);
        }
    }
    out
}

/// The rows of `ctx`'s flows that are relays' connections to external addresses new since the
/// baseline, of (relay, address) pairs with at least `min_count` of them.
pub fn upstream_rows(ctx: &DetectCtx, c: &ProxiedCncConfig, min_count: u64) -> Vec<usize> {
    let relays = relays(ctx.baseline, c);
    if relays.is_empty() {
        return Vec::new();
    }
    let f = ctx.flows;
    let upstream = |i: usize| relays.contains_key(&f.src[i]) && !ctx.nets.contains(f.dst[i]);
    let mut counts: AHashMap<(u128, u128), u64> = AHashMap::new();
    for i in (0..f.len()).filter(|&i| upstream(i)) {
        *counts.entry((f.src[i], f.dst[i])).or_default() += 1;
    }
    // each pair's address formatted once, not each flow's
    let dests = &ctx.baseline.external.destinations;
    counts.retain(|(_, d), n| *n >= min_count && !dests.contains_key(&ip::format(*d)));
    (0..f.len())
        .filter(|&i| upstream(i) && counts.contains_key(&(f.src[i], f.dst[i])))
        .collect()
}

/// The relays' addresses, comma-separated, when `config` runs this detector against `baseline`
/// (empty otherwise): what a cluster job sends to the internal-pairs shard with the relays' external
/// flows ([`crate::distributed::job_query`]).
pub fn relay_list(baseline: &Baseline, config: &crate::config::Config) -> Result<String> {
    if !config.analysis.detectors.iter().any(|n| n == "proxied_cnc") {
        return Ok(String::new());
    }
    let c = super::settings_of(&ProxiedCnc, config)?;
    let mut hosts: Vec<u128> = relays(baseline, &c).into_keys().collect();
    hosts.sort_unstable();
    Ok(hosts
        .iter()
        .map(|h| ip::format(*h))
        .collect::<Vec<_>>()
        .join(","))
}

/// The upstream rows of this host shard (or of all flows), as [`upstream_rows`] with the config's
/// settings: what the out-of-core runner collects for the internal-pairs shard.
pub fn upstream_of(ctx: &DetectCtx) -> Result<Vec<usize>> {
    let min = beacon_config(ctx)?.min_connections_count;
    Ok(upstream_rows(ctx, &config_of(ctx)?, min))
}

/// Which flows are client connections to a relay that may carry one of the upstream connections: to
/// one of its relay ports, from another internal host, starting at most `max_lead_secs` before one.
pub struct ClientFilter {
    relays: AHashMap<u128, Vec<u16>>,
    /// Per relay, its upstream connections' start times (µs), sorted.
    times: AHashMap<u128, Vec<i64>>,
    lead_us: i64,
}

impl ClientFilter {
    /// The filter for the upstream rows `up` of `flows`.
    pub fn new(ctx: &DetectCtx, c: &ProxiedCncConfig, flows: &Flows, up: &[usize]) -> Self {
        let mut times: AHashMap<u128, Vec<i64>> = AHashMap::new();
        for &i in up {
            times.entry(flows.src[i]).or_default().push(flows.ts[i]);
        }
        times.values_mut().for_each(|t| t.sort_unstable());
        ClientFilter {
            relays: relays(ctx.baseline, c),
            times,
            lead_us: (c.max_lead_secs * 1e6) as i64,
        }
    }

    /// Whether flow `i` of `f` is such a client connection.
    pub fn keeps(&self, f: &Flows, i: usize, nets: &crate::net::InternalNets) -> bool {
        let (Some(t), Some(ports)) = (self.times.get(&f.dst[i]), self.relays.get(&f.dst[i])) else {
            return false;
        };
        let ok = f.proto[i] == Proto::Tcp
            && ports.contains(&f.dst_port[i])
            && f.src[i] != f.dst[i]
            && nets.contains(f.src[i]);
        let k = t.partition_point(|&u| u < f.ts[i]);
        ok && t.get(k).is_some_and(|&u| u - f.ts[i] <= self.lead_us)
    }
}

/// One connection: start (µs), bytes up, bytes down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conn {
    /// Start, µs.
    pub ts: i64,
    /// Bytes sent by the originator.
    pub up: u64,
    /// Bytes sent back.
    pub down: u64,
}

/// Pairs each upstream connection (sorted by start) with a client connection (sorted by start):
/// started at most `lead_us` before it, both byte counts within `max(slack_bytes, slack_ratio x the
/// larger)`; the one whose extra bytes each way (client minus upstream) are closest to `expect` (that
/// upstream connection's expected proxy overhead, up and down), then the latest start, wins; a client
/// connection is used once. Returns, per upstream connection, the index of its client connection.
pub fn attribute(
    up: &[Conn],
    clients: &[Conn],
    lead_us: i64,
    slack: (u64, f64),
    expect: &[(i64, i64)],
) -> Vec<Option<usize>> {
    let mut used = vec![false; clients.len()];
    let near =
        |a: u64, b: u64| a.abs_diff(b) as f64 <= (slack.0 as f64).max(slack.1 * a.max(b) as f64);
    let off = |c: &Conn, u: &Conn, e: (i64, i64)| {
        let (du, dd) = overhead(c, u);
        du.abs_diff(e.0) + dd.abs_diff(e.1)
    };
    up.iter()
        .zip(expect)
        .map(|(u, &e)| {
            let lo = clients.partition_point(|c| c.ts < u.ts - lead_us);
            let hi = clients.partition_point(|c| c.ts <= u.ts);
            let best = (lo..hi)
                .filter(|&j| !used[j] && near(clients[j].up, u.up) && near(clients[j].down, u.down))
                .min_by_key(|&j| (off(&clients[j], u, e), u.ts - clients[j].ts))?;
            used[best] = true;
            Some(best)
        })
        .collect()
}

/// The bytes a client connection carries beyond the upstream one, up and down.
fn overhead(c: &Conn, u: &Conn) -> (i64, i64) {
    let d = |a: u64, b: u64| a as i64 - b as i64;
    (d(c.up, u.up), d(c.down, u.down))
}

/// Per upstream connection, the median overhead of the attributed connections to the same peer
/// (`peers[k]` is upstream connection `k`'s): a proxy adds the same headers to every connection of
/// one client to one server (its CONNECT line names the server), so a first attribution's typical
/// overhead tells the carrier from a page of about the same size opened in the same second.
pub fn expected_overheads(
    peers: &[u128],
    up: &[Conn],
    clients: &[Conn],
    got: &[Option<usize>],
) -> Vec<(i64, i64)> {
    let mut seen: AHashMap<u128, (Vec<i64>, Vec<i64>)> = AHashMap::new();
    for ((p, u), j) in peers.iter().zip(up).zip(got) {
        if let Some(j) = j {
            let (du, dd) = overhead(&clients[*j], u);
            let e = seen.entry(*p).or_default();
            e.0.push(du);
            e.1.push(dd);
        }
    }
    let median = |v: &mut Vec<i64>| {
        v.sort_unstable();
        v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or(0)
    };
    let typical: AHashMap<u128, (i64, i64)> = seen
        .into_iter()
        .map(|(p, (mut a, mut b))| (p, (median(&mut a), median(&mut b))))
        .collect();
    peers
        .iter()
        .map(|p| typical.get(p).copied().unwrap_or((0, 0)))
        .collect()
}

/// (client row, upstream row) of every attributed upstream connection, relay by relay.
fn attribute_all(
    f: &Flows,
    up: &[usize],
    clients: &[usize],
    c: &ProxiedCncConfig,
) -> Vec<(usize, usize)> {
    let mut cls = by_key(f, clients, |i| f.dst[i]);
    let mut out = Vec::new();
    for (relay, u) in by_key(f, up, |i| f.src[i]) {
        let cl = cls.remove(&relay).unwrap_or_default();
        out.extend(attribute_relay(f, &u, &cl, c));
    }
    out.sort_unstable();
    out
}

/// `rows` grouped by `key`, each group in start order.
fn by_key(f: &Flows, rows: &[usize], key: impl Fn(usize) -> u128) -> AHashMap<u128, Vec<usize>> {
    let mut m: AHashMap<u128, Vec<usize>> = AHashMap::new();
    for &i in rows {
        m.entry(key(i)).or_default().push(i);
    }
    m.values_mut()
        .for_each(|v| v.sort_by_key(|&i| (f.ts[i], i)));
    m
}

/// One relay's upstream rows `u` paired with its client rows `cl` (both in start order): by sizes,
/// then by the typical overhead per server ([`expected_overheads`]).
fn attribute_relay(
    f: &Flows,
    u: &[usize],
    cl: &[usize],
    c: &ProxiedCncConfig,
) -> Vec<(usize, usize)> {
    let conn = |i: &usize| Conn {
        ts: f.ts[*i],
        up: f.up[*i],
        down: f.down[*i],
    };
    let (uc, cc): (Vec<Conn>, Vec<Conn>) =
        (u.iter().map(conn).collect(), cl.iter().map(conn).collect());
    let (lead_us, slack) = (
        (c.max_lead_secs * 1e6) as i64,
        (c.size_slack_bytes, c.size_slack_ratio),
    );
    let first = attribute(&uc, &cc, lead_us, slack, &vec![(0, 0); uc.len()]);
    let peers: Vec<u128> = u.iter().map(|&i| f.dst[i]).collect();
    let expect = expected_overheads(&peers, &uc, &cc, &first);
    let got = attribute(&uc, &cc, lead_us, slack, &expect);
    got.into_iter()
        .zip(u)
        .filter_map(|(j, &ui)| Some((cl[j?], ui)))
        .collect()
}

/// Where a virtual connection came from: the client's row, the relay's upstream row.
type Origin = (usize, usize);

/// The attributed connections as flows from the client to the upstream peer (the upstream
/// connection's start, port and bytes), in upstream order, and their origins.
fn virtual_flows(f: &Flows, pairs: &[(usize, usize)]) -> (Flows, Vec<Origin>) {
    let mut order: Vec<Origin> = pairs.to_vec();
    order.sort_unstable_by_key(|&(_, u)| u);
    let mut v = Flows::select(f, &order.iter().map(|&(_, u)| u).collect::<Vec<_>>());
    for (k, &(cl, _)) in order.iter().enumerate() {
        v.src[k] = f.src[cl];
    }
    (v, order)
}

/// Upstream connections per (relay, peer).
fn upstream_totals(f: &Flows, up: &[usize]) -> AHashMap<(u128, u128), u64> {
    let mut m = AHashMap::new();
    for &i in up {
        *m.entry((f.src[i], f.dst[i])).or_default() += 1;
    }
    m
}

/// A `cnc_beacon` finding over attributed connections as this detector's: both flows of each
/// connection, the proxy among the peers, and the attribution in the explanation.
fn relabel(
    mut f: Finding,
    origin: &[Origin],
    (flows, totals): (&Flows, &AHashMap<(u128, u128), u64>),
    c: &ProxiedCncConfig,
) -> Finding {
    let mine: Vec<Origin> = f
        .flow_rows
        .iter()
        .filter_map(|&r| origin.get(r as usize).copied())
        .collect();
    let Some(&(cl, ui)) = mine.first() else {
        return f;
    };
    let (relay, peer, port) = (flows.src[ui], flows.dst[ui], flows.dst_port[cl]);
    let total = totals.get(&(relay, peer)).copied().unwrap_or(0);
    let mut rows: Vec<u32> = mine
        .iter()
        .flat_map(|&(a, b)| [a as u32, b as u32])
        .collect();
    rows.sort_unstable();
    f.detector = "proxied_cnc".into();
    f.flows = rows.len() as u64;
    f.flow_rows = rows;
    f.peers.push(ip::format(relay));
    f.evidence.explanation.push_str(&format!(
        "; through the internal proxy {}:{port}: {} of its {total} connections to {} matched this host's connections to it (started at most {} s before, the same bytes each way)",
        ip::format(relay), mine.len(), ip::format(peer), c.max_lead_secs
    ));
    let d = &mut f.evidence.details;
    d.insert("via_proxy".into(), json!(ip::format(relay)));
    d.insert("proxy_port".into(), json!(port));
    d.insert("proxy_connections".into(), json!(total));
    d.insert("matched_connections".into(), json!(mine.len()));
    d.insert("proxied_peer".into(), json!(ip::format(peer)));
    f
}

/// Kinds of a proxy's own findings about a peer that the attribution explains.
pub const RELAYED_KINDS: [&str; 3] = ["cnc_beacon", "cnc_channel", "shared_cnc"];
/// Share of a proxy's connections to a peer that the clients named by `proxied_cnc` must account for
/// before the proxy's own finding about that peer is held low.
pub const RELAYED_SHARE: f64 = 0.8;

/// Per (proxy, peer): the clients `proxied_cnc` named, the connections attributed to them, and the
/// proxy's connections to the peer.
type Relayed = BTreeMap<(String, String), (Vec<String>, u64, u64)>;

fn relayed(findings: &[Finding]) -> Relayed {
    let mut by: Relayed = BTreeMap::new();
    for f in findings {
        for e in std::iter::once(&f.evidence).chain(&f.other_evidence) {
            let d = &e.details;
            let text = |k: &str| d.get(k).and_then(|v| v.as_str()).map(str::to_string);
            let num = |k: &str| d.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
            let (Some(proxy), Some(peer)) = (text("via_proxy"), text("proxied_peer")) else {
                continue;
            };
            let entry = by.entry((proxy, peer)).or_default();
            entry.0.extend(f.hosts.iter().cloned());
            entry.1 += num("matched_connections");
            entry.2 = num("proxy_connections");
        }
    }
    by
}

/// Once the findings are merged: a proxy's own C&C finding ([`RELAYED_KINDS`]) about a peer whose
/// connections through it the clients named by `proxied_cnc` account for ([`RELAYED_SHARE`] of them)
/// is the proxy doing its job: held low, naming the clients. The clients' findings carry the case.
pub fn hold_relayed(findings: &mut [Finding]) {
    let by = relayed(findings);
    if by.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        let ([host], true) = (f.hosts.as_slice(), RELAYED_KINDS.contains(&f.kind.as_str())) else {
            continue;
        };
        let explained = f.peers.iter().find_map(|p| {
            let (clients, matched, total) = by.get(&(host.clone(), p.clone()))?;
            (*matched as f64 >= RELAYED_SHARE * *total as f64)
                .then_some((p.clone(), clients.clone()))
        });
        let Some((peer, clients)) = explained else {
            continue;
        };
        f.score = f.score.min(super::corroborate::HELD_LOW_SCORE);
        f.severity = crate::findings::severity(f.score);
        f.evidence.explanation.push_str(&format!(
            "; the proxy relays these connections to {peer} for {} (proxied_cnc): reported low",
            clients.join(", ")
        ));
        f.evidence
            .details
            .insert("relayed_for".into(), json!(clients));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    fn conn(ts: i64, up: u64, down: u64) -> Conn {
        Conn { ts, up, down }
    }

    /// (upstream connections, client connections, expected client index per upstream connection).
    type Case = (Vec<Conn>, Vec<Conn>, Vec<Option<usize>>);

    #[test]
    fn attribute_table() {
        let cases: Vec<(&str, Case)> = vec![
            (
                "the same second, headers added",
                (
                    vec![conn(10 * S, 300, 1_100)],
                    vec![conn(10 * S, 500, 1_200)],
                    vec![Some(0)],
                ),
            ),
            (
                "half a second before",
                (
                    vec![conn(10 * S, 300, 1_100)],
                    vec![conn(10 * S - S / 2, 500, 1_200)],
                    vec![Some(0)],
                ),
            ),
            (
                "three seconds before: too early",
                (
                    vec![conn(10 * S, 300, 1_100)],
                    vec![conn(7 * S, 500, 1_200)],
                    vec![None],
                ),
            ),
            (
                "after the upstream one: not its carrier",
                (
                    vec![conn(10 * S, 300, 1_100)],
                    vec![conn(10 * S + 1, 300, 1_100)],
                    vec![None],
                ),
            ),
            (
                "a page of 48 kB is not a 1 kB check-in",
                (
                    vec![conn(10 * S, 300, 1_100)],
                    vec![conn(10 * S, 900, 48_000)],
                    vec![None],
                ),
            ),
            (
                "within 10 % of a large transfer",
                (
                    vec![conn(10 * S, 300, 1_000_000)],
                    vec![conn(10 * S, 500, 1_090_000)],
                    vec![Some(0)],
                ),
            ),
            (
                "the closest sizes win over the closest start",
                (
                    vec![conn(10 * S, 300, 1_100)],
                    vec![conn(9 * S, 520, 1_210), conn(10 * S, 900, 1_900)],
                    vec![Some(0)],
                ),
            ),
            (
                "a client connection carries one upstream connection",
                (
                    vec![conn(10 * S, 300, 1_100), conn(10 * S + 1, 300, 1_100)],
                    vec![conn(10 * S, 500, 1_200)],
                    vec![Some(0), None],
                ),
            ),
        ];
        for (name, (up, clients, want)) in cases {
            let zero = vec![(0, 0); up.len()];
            assert_eq!(
                attribute(&up, &clients, 2 * S, (1024, 0.1), &zero),
                want,
                "{name}"
            );
        }
    }

    /// A page of about the check-in's size opened in the same second wins on raw sizes; the proxy's
    /// typical overhead for that server (learned from the first attribution) picks the carrier.
    #[test]
    fn the_typical_overhead_picks_the_carrier() {
        let up = vec![
            conn(10 * S, 300, 1_100),
            conn(20 * S, 300, 1_100),
            conn(30 * S, 300, 1_100),
        ];
        let clients = vec![
            conn(10 * S, 500, 1_200),
            conn(20 * S - 1, 500, 1_200),
            conn(20 * S, 320, 1_120),
            conn(30 * S, 500, 1_200),
        ];
        let zero = vec![(0, 0); 3];
        let first = attribute(&up, &clients, 2 * S, (1024, 0.1), &zero);
        assert_eq!(first, [Some(0), Some(2), Some(3)]);
        let expect = expected_overheads(&[7, 7, 7], &up, &clients, &first);
        assert_eq!(expect, [(200, 100); 3]);
        let got = attribute(&up, &clients, 2 * S, (1024, 0.1), &expect);
        assert_eq!(got, [Some(0), Some(1), Some(3)]);
        // per peer: another server's connections keep their own overhead, none without matches
        let expect = expected_overheads(&[7, 8, 9], &up, &clients, &[Some(0), Some(2), None]);
        assert_eq!(expect, [(200, 100), (20, 20), (0, 0)]);
    }

    fn found(detector: &str, host: &str, peers: &[&str], details: serde_json::Value) -> Finding {
        let mut f = Finding {
            kind: "cnc_beacon".into(),
            detector: detector.into(),
            score: 0.95,
            hosts: vec![host.into()],
            peers: peers.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        };
        f.evidence.details = details.as_object().cloned().unwrap_or_default();
        f
    }

    /// (connections the named clients account for, of the proxy's) -> the proxy's finding held low.
    #[test]
    fn hold_relayed_table() {
        for (matched, total, held) in [(60, 60, true), (48, 60, true), (47, 60, false)] {
            let client = |h: &str, n: u64| {
                let d = json!({"via_proxy": "10.0.0.2", "proxied_peer": "203.0.113.66", "matched_connections": n, "proxy_connections": total});
                found("proxied_cnc", h, &["203.0.113.66", "10.0.0.2"], d)
            };
            let mut all = vec![
                client("10.0.0.12", matched / 2),
                client("10.0.0.16", matched - matched / 2),
                found("cnc_beacon", "10.0.0.2", &["203.0.113.66"], json!({})),
                found("cnc_beacon", "10.0.0.2", &["198.51.100.7"], json!({})),
            ];
            hold_relayed(&mut all);
            assert_eq!(all[2].score < 0.4, held, "{matched} of {total}");
            assert!(all[..2].iter().chain(&all[3..]).all(|f| f.score == 0.95));
            if held {
                assert_eq!(
                    all[2].evidence.details["relayed_for"],
                    json!(["10.0.0.12", "10.0.0.16"])
                );
            }
        }
    }
}
