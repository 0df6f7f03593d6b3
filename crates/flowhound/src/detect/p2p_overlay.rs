//! `p2p_overlay`: an internal host that is a node of a peer-to-peer overlay: it exchanges UDP with
//! many external peers, each on its own high port, and peers dial in to one port of its own. This is
//! how P2P botnets keep their C&C (Hajime and Mozi on a BitTorrent-style DHT, Hide and Seek on its
//! own protocol): no server to find, only a crowd of peers. Its findings are of kind `cnc_channel`.
//! A file-sharing client is such a node too; the finding says so when the host moved bulk data with
//! its peers, and scores it lower. Pure maths in [`Overlay::strength`] and [`score`].

use super::behaviour::{duration_text, geo_suffix, saturate};
use super::infrastructure::classify;
use super::{DetectCtx, Detector};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{format_ts, Evidence, Finding};
use crate::ip;
use crate::output::table::human_bytes;
use crate::schema::Proto;
use ahash::{AHashMap, AHashSet};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The detector.
pub struct P2pOverlay;

/// `[detectors.p2p_overlay]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pOverlayConfig {
    /// Distinct external peers (dialled or dialling in) an overlay needs.
    pub min_peers_count: u64,
    /// Distinct external peers the host dials an overlay needs (a UDP server only answers).
    pub min_dialled_peers_count: u64,
    /// Distinct ports per dialled peer an overlay needs (each peer listens on its own port; a
    /// service's addresses share one).
    pub min_port_diversity_ratio: f64,
    /// Peers that answered or dialled in (live peers) an overlay needs (a scan of random UDP ports
    /// gets no answers).
    pub min_live_peers_count: u64,
    /// Peers at which the peers term is 0.5.
    pub half_peers_count: f64,
    /// Active span (first to last overlay flow) that earns the full persistence term.
    pub persistence_ideal_secs: f64,
    /// Bytes exchanged with one peer that make the overlay a file-sharing one.
    pub transfer_min_bytes: u64,
    /// Share of the score lost by an overlay that moved bulk data (file sharing).
    pub transfer_discount_ratio: f64,
    /// External peers, each on its own high port, with which the host moved `transfer_min_bytes`
    /// in one TCP flow, that make the overlay a file-sharing swarm.
    pub swarm_min_peers_count: u64,
    /// Score of the strongest overlay.
    pub max_score_ratio: f64,
    /// Smallest score reported.
    pub min_score_ratio: f64,
}

impl Default for P2pOverlayConfig {
    fn default() -> Self {
        P2pOverlayConfig {
            min_peers_count: 20,
            min_dialled_peers_count: 10,
            min_port_diversity_ratio: 0.5,
            min_live_peers_count: 10,
            half_peers_count: 50.0,
            persistence_ideal_secs: 21_600.0,
            transfer_min_bytes: 1_000_000,
            transfer_discount_ratio: 0.4,
            swarm_min_peers_count: 3,
            max_score_ratio: 0.6,
            min_score_ratio: 0.2,
        }
    }
}

const UNIT: Range = Range::Float(0.0, 1.0);
const COUNT: Range = Range::Int(1, 1_000_000_000);

static SETTINGS: [Setting; 11] = [
    Setting {
        key: "min_peers_count",
        doc: "distinct external peers (dialled, or dialling in to the host's listen port) an overlay needs",
        range: COUNT,
    },
    Setting {
        key: "min_dialled_peers_count",
        doc: "distinct external peers the host itself dials an overlay needs (a UDP server only answers)",
        range: COUNT,
    },
    Setting {
        key: "min_port_diversity_ratio",
        doc: "distinct peer ports per dialled peer an overlay needs (each node listens on its own port; a service's addresses share one)",
        range: UNIT,
    },
    Setting {
        key: "min_live_peers_count",
        doc: "peers that answered or dialled in an overlay needs (a scan of random UDP ports gets no answers)",
        range: Range::Int(0, 1_000_000_000),
    },
    Setting {
        key: "half_peers_count",
        doc: "peers at which the peers term is 0.5",
        range: Range::Float(0.001, 1e9),
    },
    Setting {
        key: "persistence_ideal_secs",
        doc: "active span (first to last overlay flow) that earns the full persistence term (the term is the square root of the span's share of it)",
        range: Range::Float(1.0, 31_536_000.0),
    },
    Setting {
        key: "transfer_min_bytes",
        doc: "bytes exchanged with one peer that make the overlay a file-sharing one",
        range: Range::Int(1, 1_000_000_000_000_000),
    },
    Setting {
        key: "transfer_discount_ratio",
        doc: "share of the score lost by an overlay that moved bulk data (file sharing)",
        range: UNIT,
    },
    Setting {
        key: "swarm_min_peers_count",
        doc: "external peers, each on its own high port, with which the host moved transfer_min_bytes in one TCP flow, that make the overlay a file-sharing swarm (BitTorrent's peer wire)",
        range: COUNT,
    },
    Setting {
        key: "max_score_ratio",
        doc: "score of the strongest overlay (medium at most by default: P2P software is a lead, not proof)",
        range: UNIT,
    },
    Setting {
        key: "min_score_ratio",
        doc: "smallest score reported",
        range: UNIT,
    },
];

/// The markdown section of `docs/detectors.md`.
pub const DOC: &str = r#"## p2p_overlay

**Looks at** each internal host's UDP flows with external peers on high ports (1024 and up, the
ports of well-known UDP services such as STUN, Zoom, SIP, RTP, VPNs and game consoles left out, and
infrastructure such as multicast left out): the peers it dials, on their ports, and the peers that
dial its busiest listen port. Findings are of kind `cnc_channel`: a peer-to-peer botnet keeps its
C&C in an overlay (Hajime and Mozi on a BitTorrent-style DHT, Hide and Seek on its own protocol),
with no server to find.

An overlay is reported when all of these hold:

- at least `min_peers_count` (20) distinct peers, dialled or dialling in, of which at least
  `min_dialled_peers_count` (10) dialled by the host;
- the dialled peers' ports are their own: at least `min_port_diversity_ratio` (0.5) distinct ports
  per dialled peer (a cloud service's many addresses share one port);
- at least `min_live_peers_count` (10) peers answered or dialled in (a scan of random UDP ports gets
  no answers).

`score = max_score_ratio * sat(peers, half_peers_count) * sqrt(min(1, span / persistence_ideal_secs))`,
with `sat(x, h) = x / (x + h)` and `span` from the first overlay flow to the last: a node shows
itself over hours, and a 16-minute capture earns a fifth of the persistence term. An overlay that
moved at least `transfer_min_bytes` (1 MB) with one peer, or whose host moved that much in one TCP
flow with each of `swarm_min_peers_count` (3) external peers on as many distinct high ports (a
BitTorrent swarm's peer wire), is file sharing as much as C&C: it loses `transfer_discount_ratio`
(0.4) of its score. With a baseline learned from normal traffic, a host
that already dialled at least half as many distinct high UDP peer ports there
(`hosts[ip].p2p_ports`) keeps its overlay: the finding is held at 0.3 (low) and says "as in the
baseline". Reported from `min_score_ratio` (0.2).

**Why these defaults**: a DHT node keeps a routing table of hundreds of nodes and is queried by
others on its one port; the Internet's services a host uses over UDP (DNS, NTP, QUIC, STUN, media
relays) sit on few, well-known ports. Medium at most by default: BitTorrent, IPFS or a game's
peer-to-peer mode look the same in flows, and an analyst decides whether the host should run P2P
software at all. A host that also scans or floods is ranked by those findings, with this one as
its C&C.

**Explanation**: the peers dialled and dialling in, their ports and countries, the listen port, the
span, the live share, the busiest peers and the largest exchange, and whether it was file sharing;
`evidence.details` has every term.

**Blind spots**: overlays over TCP or on well-known ports (443); a node with fewer than 20 peers in
the input; P2P C&C relayed through a few supernodes looks like a channel (`cnc_channel`,
`cnc_beacon`).

**Tuning**: raise `min_peers_count` where P2P software is allowed; set `max_score_ratio` to 0.7 to
rank every overlay high where it is forbidden.
"#;

/// Well-known UDP services at 1024 and above that are not peer-to-peer overlays: OpenVPN, L2TP,
/// RADIUS, SSDP, NFS, Xbox Live, WS-Discovery, STUN/TURN and Teams relays, IPsec NAT-T, RTP, SIP, TURN over TLS,
/// mDNS, LLMNR, Zoom, Jitsi, Google STUN, Steam, WireGuard.
pub const SERVICE_PORTS: [(u16, u16); 18] = [
    (1194, 1194),
    (1701, 1701),
    (1812, 1813),
    (1900, 1900),
    (2049, 2049),
    (3074, 3075),
    (3702, 3702),
    (3478, 3481),
    (4500, 4500),
    (5004, 5005),
    (5060, 5061),
    (5349, 5349),
    (5353, 5355),
    (8801, 8810),
    (10_000, 10_000),
    (19_302, 19_309),
    (27_015, 27_015),
    (51_820, 51_820),
];

/// True for a UDP port an overlay node may listen on: 1024 or above, not a well-known service's.
pub fn overlay_port(port: u16) -> bool {
    port >= 1024
        && !SERVICE_PORTS
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&port))
}

impl Detector for P2pOverlay {
    type Config = P2pOverlayConfig;
    fn name(&self) -> &'static str {
        "p2p_overlay"
    }
    fn description(&self) -> &'static str {
        "a host in a peer-to-peer overlay: UDP with many external peers on their own ports (P2P botnet C&C, or file sharing)"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn run(&self, c: &P2pOverlayConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let mut out: Vec<Finding> = accumulate(ctx, c.transfer_min_bytes)
            .into_iter()
            .filter_map(|(host, acc)| {
                let listen_port = acc.listen_port();
                let all = acc.peers(listen_port);
                let o = acc.overlay(c, listen_port, &all);
                o.qualifies(c)
                    .then(|| finding(ctx, c, host, &acc, (&o, all)))
            })
            .flatten()
            .collect();
        out.sort_by(crate::findings::ranked);
        Ok(out)
    }
}

/// Peers named first for the bytes they exchanged, before the busiest by flows.
const BULKIEST_FIRST: usize = 3;

/// One peer's flows with the host.
#[derive(Debug, Default, Clone, Copy)]
struct PeerAcc {
    flows: u64,
    bytes: u64,
    /// Flows the peer answered (the host dialled) or opened (dialling in).
    live: u64,
}

impl PeerAcc {
    fn add(&mut self, bytes: u64, live: bool) {
        self.flows += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        self.live += u64::from(live);
    }
}

/// One host's overlay-shaped flows.
#[derive(Default)]
struct HostAcc {
    dialled: AHashMap<u128, PeerAcc>,
    dialled_ports: AHashSet<u16>,
    /// By the host's port: the peers dialling in.
    inbound: AHashMap<u16, AHashMap<u128, PeerAcc>>,
    span: Option<(i64, i64)>,
    rows: Vec<u32>,
    /// (peer, port) of its bulk TCP flows with external peers on high ports.
    swarm: AHashSet<(u128, u16)>,
}

/// Every host's UDP flows with external peers on overlay ports, and its bulk TCP flows with
/// external peers on high ports, in one pass.
fn accumulate(ctx: &DetectCtx, bulk_bytes: u64) -> AHashMap<u128, HostAcc> {
    let f = ctx.flows;
    let mut hosts: AHashMap<u128, HostAcc> = AHashMap::new();
    for i in 0..f.len() {
        let bulk = f.proto[i] == Proto::Tcp
            && f.dst_port[i] >= 1024
            && f.up[i].saturating_add(f.down[i]) >= bulk_bytes;
        if bulk {
            add_bulk(ctx, i, &mut hosts);
            continue;
        }
        if f.proto[i] != Proto::Udp || !overlay_port(f.dst_port[i]) {
            continue;
        }
        let Some(v) = f.host_view(i, ctx.nets) else {
            continue;
        };
        let infra = || classify(v.peer, f.proto[i], f.dst_port[i], ctx.nets, ctx.baseline);
        if ctx.nets.contains(v.peer) || infra().is_some() {
            continue;
        }
        let acc = hosts.entry(v.host).or_default();
        let bytes = v.sent.saturating_add(v.received);
        if v.originator {
            let p = acc.dialled.entry(v.peer).or_default();
            p.add(bytes, v.received > 0);
            acc.dialled_ports.insert(f.dst_port[i]);
        } else {
            let by_port = acc.inbound.entry(f.dst_port[i]).or_default();
            by_port.entry(v.peer).or_default().add(bytes, true);
        }
        let t = f.ts[i];
        acc.span = Some(acc.span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        acc.rows.push(i as u32);
    }
    hosts
}

/// Records a bulk TCP flow with an external peer on a high port.
fn add_bulk(ctx: &DetectCtx, i: usize, hosts: &mut AHashMap<u128, HostAcc>) {
    let Some(v) = ctx.flows.host_view(i, ctx.nets) else {
        return;
    };
    if !ctx.nets.contains(v.peer) {
        let acc = hosts.entry(v.host).or_default();
        acc.swarm.insert((v.peer, ctx.flows.dst_port[i]));
    }
}

/// What an overlay amounts to: the terms of its score.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Overlay {
    /// Distinct peers, dialled or dialling in to the listen port.
    pub peers: u64,
    /// Distinct peers the host dialled.
    pub dialled: u64,
    /// Distinct ports of the dialled peers.
    pub dialled_ports: u64,
    /// Peers that answered or dialled in.
    pub live: u64,
    /// The host's busiest listen port (most distinct peers dialling in), when any.
    pub listen_port: Option<u16>,
    /// Peers dialling in to it.
    pub dialling_in: u64,
    /// Seconds from the first overlay flow to the last.
    pub span_secs: f64,
    /// Most bytes exchanged with one peer.
    pub max_peer_bytes: u64,
    /// Peers with bulk TCP flows on high ports, and their distinct ports.
    pub swarm: (u64, u64),
    /// True when the overlay moved bulk data: with one peer (the transfer limit), or with a swarm
    /// (file sharing).
    pub transfers: bool,
}

impl Overlay {
    /// Distinct dialled ports per dialled peer.
    pub fn diversity(&self) -> f64 {
        self.dialled_ports as f64 / self.dialled.max(1) as f64
    }

    /// True when every gate of the detector passes.
    pub fn qualifies(&self, c: &P2pOverlayConfig) -> bool {
        self.peers >= c.min_peers_count
            && self.dialled >= c.min_dialled_peers_count
            && self.diversity() >= c.min_port_diversity_ratio
            && self.live >= c.min_live_peers_count
    }

    /// `sat(peers, half) * sqrt(min(1, span / ideal))`, in [0, 1].
    pub fn strength(&self, c: &P2pOverlayConfig) -> f64 {
        let persistence = (self.span_secs / c.persistence_ideal_secs).clamp(0.0, 1.0);
        saturate(self.peers as f64, c.half_peers_count) * persistence.sqrt()
    }
}

/// The score of an overlay of `strength`: `max_score_ratio * strength`, less the transfer discount
/// for file sharing, at most `habit_cap` when the host kept such an overlay in the baseline.
pub fn score(strength: f64, transfers: bool, habit_cap: Option<f64>, c: &P2pOverlayConfig) -> f64 {
    let discount = if transfers {
        1.0 - c.transfer_discount_ratio
    } else {
        1.0
    };
    let s = c.max_score_ratio * strength.clamp(0.0, 1.0) * discount;
    habit_cap.map_or(s, |cap| s.min(cap))
}

impl HostAcc {
    /// The host's busiest listen port (most distinct peers dialling in; ties: the lower port).
    fn listen_port(&self) -> Option<u16> {
        self.inbound
            .iter()
            .max_by_key(|(port, peers)| (peers.len(), std::cmp::Reverse(**port)))
            .map(|(port, _)| *port)
    }

    /// Its overlay's peers: those it dialled and those dialling in to `listen_port`.
    fn peers(&self, listen_port: Option<u16>) -> AHashMap<u128, PeerAcc> {
        let mut all = self.dialled.clone();
        let inbound = listen_port.and_then(|p| self.inbound.get(&p));
        for (peer, p) in inbound.into_iter().flatten() {
            let e = all.entry(*peer).or_default();
            e.flows += p.flows;
            e.bytes = e.bytes.saturating_add(p.bytes);
            e.live += p.live;
        }
        all
    }

    /// The host's overlay over `all`, its [`peers`](Self::peers) with `listen_port`.
    fn overlay(
        &self,
        c: &P2pOverlayConfig,
        listen_port: Option<u16>,
        all: &AHashMap<u128, PeerAcc>,
    ) -> Overlay {
        let max_peer_bytes = all.values().map(|p| p.bytes).max().unwrap_or(0);
        let swarm_peers: AHashSet<u128> = self.swarm.iter().map(|x| x.0).collect();
        let swarm_ports: AHashSet<u16> = self.swarm.iter().map(|x| x.1).collect();
        let swarm = (swarm_peers.len() as u64, swarm_ports.len() as u64);
        Overlay {
            peers: all.len() as u64,
            dialled: self.dialled.len() as u64,
            dialled_ports: self.dialled_ports.len() as u64,
            live: all.values().filter(|p| p.live > 0).count() as u64,
            listen_port,
            dialling_in: listen_port
                .and_then(|p| self.inbound.get(&p))
                .map_or(0, |m| m.len() as u64),
            span_secs: self.span.map_or(0.0, |(a, b)| (b - a) as f64 / 1e6),
            max_peer_bytes,
            swarm,
            transfers: max_peer_bytes >= c.transfer_min_bytes
                || swarm.0.min(swarm.1) >= c.swarm_min_peers_count,
        }
    }
}

/// An overlay's peers, with their flows and bytes: the [`BULKIEST_FIRST`] that exchanged the most
/// bytes (what the overlay delivered: modules, configuration), then the rest by flows (its routing
/// core); ties by address.
fn ranked_peers(all: AHashMap<u128, PeerAcc>) -> Vec<(u128, PeerAcc)> {
    let mut v: Vec<(u128, PeerAcc)> = all.into_iter().collect();
    v.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(&b.0)));
    let n = BULKIEST_FIRST.min(v.len());
    v[n..].sort_by(|a, b| b.1.flows.cmp(&a.1.flows).then(a.0.cmp(&b.0)));
    v
}

/// The host's baseline overlay, when it dialled at least half as many distinct high UDP peer ports
/// in normal traffic (a self-learned baseline has none: the capture cannot be its own alibi).
fn habit(ctx: &DetectCtx, host: u128, o: &Overlay) -> Option<u64> {
    let h = ctx.baseline.habits.hosts.get(&ip::format(host))?;
    (h.p2p_ports > 0 && 2 * h.p2p_ports >= o.dialled_ports).then_some(h.p2p_ports)
}

fn finding(
    ctx: &DetectCtx,
    c: &P2pOverlayConfig,
    host: u128,
    acc: &HostAcc,
    (o, all): (&Overlay, AHashMap<u128, PeerAcc>),
) -> Option<Finding> {
    let habit = habit(ctx, host, o);
    let cap = habit.map(|_| super::volume::HABITUAL_SCORE);
    let score = score(o.strength(c), o.transfers, cap, c);
    if score < c.min_score_ratio {
        return None;
    }
    let peers = ranked_peers(all);
    let mut rows = acc.rows.clone();
    rows.sort_unstable();
    let details = json!({
        "peers": o.peers, "dialled_peers": o.dialled, "dialled_ports": o.dialled_ports,
        "port_diversity": o.diversity(), "live_peers": o.live, "listen_port": o.listen_port,
        "dialling_in": o.dialling_in, "span_secs": o.span_secs, "max_peer_bytes": o.max_peer_bytes,
        "file_sharing": o.transfers, "swarm_peers": o.swarm.0, "swarm_ports": o.swarm.1, "strength": o.strength(c), "baseline_p2p_ports": habit,
    });
    Some(Finding {
        kind: "cnc_channel".into(),
        detector: "p2p_overlay".into(),
        score,
        hosts: vec![ip::format(host)],
        peers: peers.iter().map(|(p, _)| ip::format(*p)).collect(),
        first_seen: acc.span.map(|s| format_ts(s.0)),
        last_seen: acc.span.map(|s| format_ts(s.1)),
        flows: rows.len() as u64,
        flow_rows: rows,
        evidence: Evidence {
            metric: "distinct external UDP peers on their own high ports (P2P overlay)".into(),
            observed: o.peers as f64,
            baseline: habit.map(|h| h as f64),
            threshold: Some(c.min_peers_count as f64),
            explanation: explanation(ctx, host, o, &peers, habit),
            details: details.as_object().cloned().unwrap_or_default(),
        },
        ..Default::default()
    })
}

fn explanation(
    ctx: &DetectCtx,
    host: u128,
    o: &Overlay,
    peers: &[(u128, PeerAcc)],
    habit: Option<u64>,
) -> String {
    let countries: AHashSet<String> = peers
        .iter()
        .filter_map(|(p, _)| ctx.geo.lookup_u128(*p).country.map(|c| c.to_string()))
        .collect();
    let named = |list: &[(u128, PeerAcc)]| -> String {
        let text: Vec<String> = list
            .iter()
            .map(|(p, a)| {
                let (flows, bytes) = (a.flows, human_bytes(a.bytes as f64));
                format!(
                    "{}{} ({flows} flows, {bytes})",
                    ip::format(*p),
                    geo_suffix(ctx.geo, *p)
                )
            })
            .collect();
        text.join(", ")
    };
    let n = BULKIEST_FIRST.min(peers.len());
    let (bulkiest, busiest) = (
        named(&peers[..n]),
        named(&peers[n..(n + 3).min(peers.len())]),
    );
    let listen = o.listen_port.map_or(String::new(), |p| {
        format!(", {} dialling in to its udp/{p}", o.dialling_in)
    });
    let role = if o.transfers {
        format!(
            "bulk data moved ({} with one peer, bulk TCP with {} peers on {} high ports): file sharing, or a botnet fetching modules",
            human_bytes(o.max_peer_bytes as f64),
            o.swarm.0,
            o.swarm.1
        )
    } else {
        format!(
            "control traffic only (at most {} with one peer): the shape of a P2P botnet's C&C, or of a DHT client",
            human_bytes(o.max_peer_bytes as f64)
        )
    };
    let held = habit.map_or(String::new(), |h| {
        format!("; as in the baseline: {h} distinct high UDP peer ports dialled there (held low)")
    });
    format!(
        "{} is a node of a peer-to-peer overlay: UDP with {} external peers in {} countries for {} \
         ({} dialled on {} distinct ports{listen}; {} live); most bytes with {bulkiest}; busiest others \
         {busiest}; {role}{held}",
        ip::format(host),
        o.peers,
        countries.len(),
        duration_text(o.span_secs),
        o.dialled,
        o.dialled_ports,
        o.live,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlay(peers: u64, dialled: u64, ports: u64, live: u64, span_h: f64) -> Overlay {
        Overlay {
            peers,
            dialled,
            dialled_ports: ports,
            live,
            span_secs: span_h * 3600.0,
            ..Default::default()
        }
    }

    #[test]
    fn gates_table() {
        let c = P2pOverlayConfig::default();
        let rows = [
            // (peers, dialled, ports, live, qualifies, why)
            (2750, 2743, 2684, 1500, true, "a DHT node"),
            (
                376,
                30,
                30,
                200,
                true,
                "a small peer list, many dialling in",
            ),
            (19, 19, 19, 19, false, "too few peers"),
            (
                300,
                5,
                5,
                300,
                false,
                "a UDP server: peers dial in, it dials few",
            ),
            (
                200,
                200,
                3,
                150,
                false,
                "a cloud service's addresses on one port",
            ),
            (
                500,
                500,
                480,
                2,
                false,
                "a scan of random UDP ports: nobody answers",
            ),
            (20, 10, 5, 10, true, "every gate at its limit"),
        ];
        for (peers, dialled, ports, live, want, why) in rows {
            assert_eq!(
                overlay(peers, dialled, ports, live, 10.0).qualifies(&c),
                want,
                "{why}"
            );
        }
    }

    #[test]
    fn score_table() {
        let c = P2pOverlayConfig::default();
        let rows = [
            // (peers, span hours, transfers, habit cap, want)
            (2750, 19.0, false, None, 0.6 * 2750.0 / 2800.0),
            (50, 6.0, false, None, 0.3), // half the peers term
            // a 16-minute capture earns a fifth of the persistence term
            (
                1500,
                16.0 / 60.0,
                false,
                None,
                0.6 * 1500.0 / 1550.0 * (16.0_f64 / 360.0).sqrt(),
            ),
            (2750, 19.0, true, None, 0.36 * 2750.0 / 2800.0), // file sharing
            (2750, 19.0, false, Some(0.3), 0.3),              // kept in the baseline
            (0, 19.0, false, None, 0.0),
        ];
        for (peers, span_h, transfers, cap, want) in rows {
            let o = overlay(peers, peers, peers, peers, span_h);
            let got = score(o.strength(&c), transfers, cap, &c);
            assert!(
                (got - want).abs() < 1e-9,
                "{peers} {span_h} {transfers}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn overlay_ports_table() {
        for (port, want) in [
            (6881, true),
            (51413, true),
            (25660, true),
            (123, false),
            (443, false),
            (1023, false),
            (3478, false),
            (8805, false),
            (19305, false),
            (51820, false),
            (5353, false),
        ] {
            assert_eq!(overlay_port(port), want, "{port}");
        }
    }
}
