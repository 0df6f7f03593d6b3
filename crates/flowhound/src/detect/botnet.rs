//! `botnet`: internal coordination. Internal client pairs that talk in the test data but never in the
//! baseline (known servers excluded) are grouped per shared port into connected components, sets that
//! share members across ports are merged, and each coordinated set becomes one finding, with a bonus
//! for synchronised timing (members active in the same time bins).

use super::{DetectCtx, Detector};
use crate::baseline::parse_exclude;
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{format_ts, Evidence, Finding};
use crate::ip;
use crate::schema::Proto;
use ahash::AHashSet;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// The detector.
pub struct Botnet;

/// `[detectors.botnet]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BotnetConfig {
    /// Members a coordinated set needs.
    pub min_members_count: u64,
    /// Members that must originate flows inside the set (a star from one host is a scan, not a botnet).
    pub min_originators_count: u64,
    /// A pair using more distinct ports than this is probing, not coordinating.
    pub max_edge_ports_count: u64,
    /// Time bin for synchronisation.
    pub sync_bin_secs: u64,
    /// Smallest score reported.
    pub min_score_ratio: f64,
    /// A flow carrying at most this many bytes (both ways) exchanged nothing (a refused connection).
    pub tiny_flow_bytes: u64,
}

impl Default for BotnetConfig {
    fn default() -> Self {
        BotnetConfig {
            min_members_count: 3,
            min_originators_count: 2,
            max_edge_ports_count: 5,
            sync_bin_secs: 60,
            min_score_ratio: 0.4,
            tiny_flow_bytes: 128,
        }
    }
}

static SETTINGS: [Setting; 6] = [
    Setting {
        key: "min_members_count",
        doc: "internal hosts a coordinated set needs",
        range: Range::Int(2, 1_000_000),
    },
    Setting {
        key: "min_originators_count",
        doc: "members that must originate flows inside the set",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "max_edge_ports_count",
        doc: "a pair using more distinct ports than this is probing, not coordinating",
        range: Range::Int(1, 65_536),
    },
    Setting {
        key: "sync_bin_secs",
        doc: "time bin in which members count as acting together",
        range: Range::Int(1, 86_400),
    },
    Setting {
        key: "min_score_ratio",
        doc: "smallest score reported",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "tiny_flow_bytes",
        doc: "a pair whose flows each carry at most this many bytes (up + down), or get nothing back, exchanged nothing",
        range: Range::Int(0, 1_000_000),
    },
];

/// The markdown section of `docs/detectors.md`.
pub const DOC: &str = r#"## botnet

**Looks at** internal-to-internal flows (RITA drops them). Flows to known servers are left out: the
servers the baseline discovered (an `IP:PORT` many internal clients reach) and those of `--exclude` /
`baseline.exclude`. A discovered server port is kept when the server itself also opens flows to
internal hosts on that same port (peer-to-peer behaviour), to peers it did not in the baseline (two
domain controllers replicate over the ports they serve every day; on a dense corporate configuration
that made their two new clients of the test day, hosts absent from the normal day, a high "set" with
one of them). A dynamic TCP port (49152 and above) of a
known MS-RPC server (a server of tcp/135, the endpoint mapper, in the baseline) is that server's
service too: Windows clients ask the endpoint mapper and connect to the port it names (a domain
controller's LSA, Netlogon and replication endpoints), which changes when the server restarts; on the
corporate simulator two workstations new to a domain controller's tcp/49668 made it and them a
medium "set". Broadcast addresses (`x.x.x.255`) are ignored. With a baseline learned from normal traffic only pairs absent from its internal graph count
(in either direction); with a self-learned baseline every client pair counts.

**Formula.** Pairs using more than `max_edge_ports_count` distinct ports are probes (see `port_scan`)
and dropped, and so are pairs that never exchanged data: no flow got bytes back with more than
`tiny_flow_bytes` in all (coordination is two-way; four bots sweeping tcp/139 made the 7,000 dead or
refusing addresses they reached one "set" of 7,058 members on a CTU-style capture), unless no pair of
the input got an answer at all (one-way records). For every (protocol, port) the remaining pairs form a graph; its connected components
with at least `min_members_count` members and `min_originators_count` members originating flows are
candidate sets; candidates sharing two or more members are merged. Per set:

- `size` = 1 - 1 / (members - 1);
- `sync` = mean over the `sync_bin_secs` bins where a member is active of (active members - 1) /
  (members - 1);
- `unusual` = 1 when none of the set's ports is a known server port (or, with a baseline from normal
  traffic, a port of its internal graph) or a port of the LAN's everyday peer-to-peer services
  (Windows Delivery Optimization tcp/7680, SMB 445 and 139, WS-Discovery 3702 and 5357: workstations
  meet new peers on them every day), else 0;
- `new` = 1 with a baseline from normal traffic (the pairs are new), 0 when self-learned;
- `act` = 1 when `unusual`, else `min(1, excess / 0.25)` with `excess = (sync - f) / (1 - f)` the
  synchronisation beyond the floor `f = 1 / (members - 1)` that pairs alone give (a flow makes both
  its ends active in the same bin): size and novelty are evidence only as far as the members act
  together (hundreds of hosts each meeting a few new neighbours on the ports the network always
  uses, never at the same time, are the LAN's everyday mesh; so are peer update caches fetching from
  a few neighbours each);
- `score = 0.3 + (0.2 size + 0.1 new + 0.25 sync) act + 0.15 unusual`; sets below `min_score_ratio`
  are dropped. Synchronisation, too, counts only as far as it goes beyond pairs: three workstations
  that each opened one new SMB session to the same server an hour apart have sync 0.5, exactly what
  their two pairs give, and are no coordinated set.

One finding per set: members in `hosts`, ports, edges, originators, burst count and period in
`evidence.details`.

**Blind spots**: bots that talk only to an internal server-like hub on a common port (the hub is a
discovered server), coordination through an external C&C only (see `cnc_beacon`), sets of two.

**Tuning**: add internal services to `baseline.exclude` / `--exclude` when legitimate peer-to-peer
software (backup agents, deployment tools) shows up; raise `min_members_count` on noisy networks.
"#;

impl Detector for Botnet {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = BotnetConfig;
    fn name(&self) -> &'static str {
        "botnet"
    }
    fn description(&self) -> &'static str {
        "internal client pairs new since the baseline, grouped into coordinated sets by shared port, with synchronised timing"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn internal_pairs_only(&self) -> bool {
        true
    }
    fn run(&self, c: &BotnetConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let excl = Exclusions::new(ctx)?;
        let edges = edges(ctx, c, &excl);
        let sets = coordinated_sets(&edges, c);
        let mut out = Vec::new();
        for set in sets {
            let f = set_finding(ctx, c, &excl, &edges, &set);
            if f.score >= c.min_score_ratio {
                out.push(f);
            }
        }
        out.sort_by(crate::findings::ranked);
        Ok(out)
    }
}

/// A (protocol index, port) key.
type PortKey = (u8, u16);

/// Which flows between internal hosts `botnet` can use, decided in two streaming passes (the
/// out-of-core runner's internal-pairs shard, [`crate::shard`], need then never be held whole): the
/// first notes the services whose server itself opens flows on their port (peer-to-peer), the second
/// keeps every flow [`edges`] would keep, plus the flows that show a service to be peer-to-peer, so
/// that `botnet` over the kept flows finds exactly what it finds over all of them.
pub struct PairFilter {
    x: Exclusions,
    p2p: AHashSet<(u128, u16)>,
}

impl PairFilter {
    /// The filter for `ctx`'s baseline and settings (its flows are not read).
    pub fn new(ctx: &DetectCtx) -> Result<PairFilter> {
        Ok(PairFilter {
            x: Exclusions::new(ctx)?,
            p2p: AHashSet::new(),
        })
    }

    fn candidate(ctx: &DetectCtx, (s, d, proto, port): (u128, u128, Proto, u16)) -> bool {
        s != d
            && ctx.nets.contains(s)
            && ctx.nets.contains(d)
            && !broadcast_like(d)
            && super::infrastructure::infrastructure(d, proto, port, ctx).is_none()
    }

    /// First pass: notes a flow `(src, dst, proto, dst_port)`.
    pub fn note(&mut self, ctx: &DetectCtx, f: (u128, u128, Proto, u16)) {
        if Self::candidate(ctx, f) && self.x.shows_p2p(f.0, f.1, f.3) {
            self.p2p.insert((f.0, f.3));
        }
    }

    /// Second pass: whether `botnet` may use the flow.
    pub fn keeps(&self, ctx: &DetectCtx, f: (u128, u128, Proto, u16)) -> bool {
        let (s, d, _, port) = f;
        if !Self::candidate(ctx, f) {
            return false;
        }
        if self.x.services.contains(&(s, port)) {
            return true;
        }
        let server = self.x.to_server(f, &self.p2p);
        !server && !self.x.known_pairs.contains(&unordered(s, d))
    }
}

/// Which flows are to known servers.
struct Exclusions {
    /// Addresses excluded on every port.
    hosts: AHashSet<u128>,
    /// Discovered or configured `IP:PORT` services.
    services: AHashSet<(u128, u16)>,
    /// Known pairs of the baseline graph (unordered), empty when self-learned.
    known_pairs: AHashSet<(u128, u128)>,
    /// Ports of the baseline graph and server inventory.
    usual_ports: AHashSet<u16>,
    /// Known MS-RPC servers (the baseline's servers of tcp/135, the endpoint mapper).
    rpc_servers: AHashSet<u128>,
}

/// The first port of the dynamic range (IANA, and Windows since Vista) where an MS-RPC server's
/// endpoint mapper places its services.
pub const DYNAMIC_PORT_MIN: u16 = 49_152;

impl Exclusions {
    fn new(ctx: &DetectCtx) -> Result<Exclusions> {
        let mut x = Exclusions {
            hosts: AHashSet::new(),
            services: AHashSet::new(),
            known_pairs: AHashSet::new(),
            usual_ports: AHashSet::new(),
            rpc_servers: AHashSet::new(),
        };
        for s in &ctx.baseline.servers {
            let Some(a) = ip::parse(&s.ip) else { continue };
            if s.port == Some(135) && s.proto == "tcp" {
                x.rpc_servers.insert(a);
            }
            match s.port {
                Some(p) => {
                    x.services.insert((a, p));
                    x.usual_ports.insert(p);
                }
                None => {
                    x.hosts.insert(a);
                }
            }
        }
        for e in &ctx.config.baseline.exclude {
            match parse_exclude(e)? {
                (a, Some(p)) => x.services.insert((a, p)),
                (a, None) => x.hosts.insert(a),
            };
        }
        if !ctx.baseline.robust() {
            for e in &ctx.baseline.internal_graph {
                if let (Some(a), Some(b)) = (ip::parse(&e.src), ip::parse(&e.dst)) {
                    x.known_pairs.insert(unordered(a, b));
                    x.usual_ports.extend(e.ports.iter().copied());
                }
            }
        }
        Ok(x)
    }

    /// Whether a flow from `s` to `d` on `port` shows `s`'s service on `port` to be peer-to-peer: `s`
    /// serves that port and opens a flow on it to a peer it did not already in the baseline. Two
    /// domain controllers replicate over the LDAP and RPC ports they serve, every day: a pair of the
    /// baseline's graph makes no service peer-to-peer (else every new client of the controllers,
    /// a laptop back from a trip, is a new pair of a "set" with them).
    fn shows_p2p(&self, s: u128, d: u128, port: u16) -> bool {
        self.services.contains(&(s, port)) && !self.known_pairs.contains(&unordered(s, d))
    }

    /// Whether the flow `(src, dst, proto, port)` goes to a known server: an excluded address, a
    /// discovered or configured service that is not peer-to-peer (`p2p`: its server opens flows on
    /// its port too), or a dynamic TCP port of a known MS-RPC server. A Windows client asks the
    /// server's endpoint mapper (tcp/135) for a service and connects to the dynamic port it names
    /// (a domain controller's replication, LSA and Netlogon on 49664-49700); the port changes when
    /// the server restarts, and new clients appear, so its pairs are new without being new behaviour.
    fn to_server(
        &self,
        (s, d, proto, port): (u128, u128, Proto, u16),
        p2p: &AHashSet<(u128, u16)>,
    ) -> bool {
        self.hosts.contains(&s)
            || self.hosts.contains(&d)
            || (self.services.contains(&(d, port)) && !p2p.contains(&(d, port)))
            || (proto == Proto::Tcp && port >= DYNAMIC_PORT_MIN && self.rpc_servers.contains(&d))
    }
}

/// The ports of the LAN's everyday peer-to-peer services, never unusual whatever the baseline
/// holds: Windows Delivery Optimization (7680: workstations fetching update pieces from each
/// other, new pairs every day), file sharing between workstations (SMB 445, NetBIOS session 139)
/// and WS-Discovery (3702, 5357). Their sets count only as far as their members act together.
pub const LAN_PEER_PORTS: [u16; 5] = [139, 445, 3702, 5357, 7680];

/// True for a port of [`LAN_PEER_PORTS`].
pub fn lan_peer_service(port: u16) -> bool {
    LAN_PEER_PORTS.contains(&port)
}

fn unordered(a: u128, b: u128) -> (u128, u128) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// True for an IPv4 address ending in `.255` or `.0` (subnet broadcast / network address).
pub fn broadcast_like(addr: u128) -> bool {
    ip::as_v4(addr).is_some_and(|v| matches!(v & 0xff, 0 | 255))
}

/// The new internal pairs (directed) with their ports and flow rows.
#[derive(Default)]
struct EdgeData {
    ports: BTreeSet<PortKey>,
    rows: Vec<u32>,
    /// Some flow of the pair got bytes back.
    answered: bool,
    /// Some flow of the pair got bytes back and carried more than `tiny_flow_bytes`.
    exchanged: bool,
}

type Edges = BTreeMap<(u128, u128), EdgeData>;

fn edges(ctx: &DetectCtx, c: &BotnetConfig, x: &Exclusions) -> Edges {
    let f = ctx.flows;
    let internal = |i: usize| {
        ctx.nets.contains(f.src[i]) && ctx.nets.contains(f.dst[i]) && f.src[i] != f.dst[i]
    };
    // discovery and time services (mDNS, SSDP, NetBIOS, NTP, DHCP, the resolvers) are how devices on
    // one network find each other, not coordination
    let infra = |i: usize| {
        super::infrastructure::infrastructure(f.dst[i], f.proto[i], f.dst_port[i], ctx).is_some()
    };
    let rows: Vec<usize> = (0..f.len())
        .filter(|i| internal(*i) && !broadcast_like(f.dst[*i]) && !infra(*i))
        .collect();
    // a server port stays in when the server itself opens flows on it (peer-to-peer)
    let p2p: AHashSet<(u128, u16)> = rows
        .iter()
        .filter(|i| x.shows_p2p(f.src[**i], f.dst[**i], f.dst_port[**i]))
        .map(|i| (f.src[*i], f.dst_port[*i]))
        .collect();
    let mut out = Edges::new();
    for i in rows {
        let (s, d, port) = (f.src[i], f.dst[i], f.dst_port[i]);
        let server = x.to_server((s, d, f.proto[i], port), &p2p);
        if server || x.known_pairs.contains(&unordered(s, d)) {
            continue;
        }
        let e = out.entry((s, d)).or_default();
        e.ports.insert((f.proto[i].index() as u8, port));
        e.rows.push(i as u32);
        e.answered |= f.down[i] > 0;
        e.exchanged |= super::public_servers::served(f.up[i], f.down[i], c.tiny_flow_bytes);
    }
    // coordination is two-way: a pair that never exchanged data is a probe (several bots sweeping one
    // port make the thousands of dead or refusing addresses they reach one "set"), unless the input
    // carries no answers at all (one-way records)
    let two_way = out.values().any(|e| e.answered);
    out.retain(|_, e| e.ports.len() as u64 <= c.max_edge_ports_count && (e.exchanged || !two_way));
    out
}

/// Union-find over indices.
struct Dsu(Vec<usize>);

impl Dsu {
    fn find(&mut self, mut a: usize) -> usize {
        while self.0[a] != a {
            self.0[a] = self.0[self.0[a]];
            a = self.0[a];
        }
        a
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[ra.max(rb)] = ra.min(rb);
        }
    }
}

/// Connected components of an undirected graph given as edges over node ids; each component sorted.
pub fn components(edges: &[(u128, u128)]) -> Vec<Vec<u128>> {
    let nodes: Vec<u128> = edges
        .iter()
        .flat_map(|(a, b)| [*a, *b])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let idx = |n: u128| nodes.binary_search(&n).unwrap_or(0);
    let mut dsu = Dsu((0..nodes.len()).collect());
    for (a, b) in edges {
        dsu.union(idx(*a), idx(*b));
    }
    let mut groups: BTreeMap<usize, Vec<u128>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let r = dsu.find(i);
        groups.entry(r).or_default().push(*n);
    }
    groups.into_values().collect()
}

/// Merges sets sharing at least `min_shared` members (repeatedly), each result sorted.
pub fn merge_overlapping(sets: Vec<BTreeSet<u128>>, min_shared: usize) -> Vec<BTreeSet<u128>> {
    let mut dsu = Dsu((0..sets.len()).collect());
    for i in 0..sets.len() {
        for j in i + 1..sets.len() {
            if sets[i].intersection(&sets[j]).count() >= min_shared {
                dsu.union(i, j);
            }
        }
    }
    let mut groups: BTreeMap<usize, BTreeSet<u128>> = BTreeMap::new();
    for (i, s) in sets.iter().enumerate() {
        let r = dsu.find(i);
        groups.entry(r).or_default().extend(s.iter().copied());
    }
    groups.into_values().collect()
}

/// A coordinated set: members and ports.
#[derive(Debug, Clone, PartialEq)]
struct CoordSet {
    members: BTreeSet<u128>,
    ports: BTreeSet<PortKey>,
}

fn coordinated_sets(edges: &Edges, c: &BotnetConfig) -> Vec<CoordSet> {
    let mut by_port: BTreeMap<PortKey, Vec<(u128, u128)>> = BTreeMap::new();
    for ((s, d), e) in edges {
        for p in &e.ports {
            by_port.entry(*p).or_default().push((*s, *d));
        }
    }
    let mut cands: Vec<(BTreeSet<u128>, PortKey)> = Vec::new();
    for (port, es) in &by_port {
        for comp in components(es) {
            let members: BTreeSet<u128> = comp.into_iter().collect();
            let originators = es
                .iter()
                .filter(|(s, _)| members.contains(s))
                .map(|(s, _)| *s)
                .collect::<BTreeSet<_>>()
                .len();
            if members.len() as u64 >= c.min_members_count
                && originators as u64 >= c.min_originators_count
            {
                cands.push((members, *port));
            }
        }
    }
    let merged = merge_overlapping(cands.iter().map(|(m, _)| m.clone()).collect(), 2);
    merged
        .into_iter()
        .map(|members| {
            let ports = cands
                .iter()
                .filter(|(m, _)| m.is_subset(&members))
                .map(|(_, p)| *p)
                .collect();
            CoordSet { members, ports }
        })
        .collect()
}

/// Synchronisation: mean over active bins of `(active members - 1) / (members - 1)`; 0 below two
/// members or without activity.
pub fn sync_score(bins: &BTreeMap<i64, BTreeSet<u128>>, members: usize) -> f64 {
    if members < 2 || bins.is_empty() {
        return 0.0;
    }
    let sum: f64 = bins
        .values()
        .map(|a| (a.len().saturating_sub(1)) as f64 / (members - 1) as f64)
        .sum();
    (sum / bins.len() as f64).clamp(0.0, 1.0)
}

/// Synchronisation beyond the pairwise floor at which a set counts as acting together in full
/// ([`set_score`]).
const SYNC_FULL: f64 = 0.25;

/// Synchronisation beyond what pairs alone give: every flow makes its two ends active in the same
/// bin, so a set of `members` whose members only ever meet in pairs has sync `1 / (members - 1)`;
/// `(sync - floor) / (1 - floor)`, in [0, 1].
pub fn excess_sync(sync: f64, members: usize) -> f64 {
    if members < 3 {
        return 0.0;
    }
    let floor = 1.0 / (members - 1) as f64;
    ((sync - floor) / (1.0 - floor)).clamp(0.0, 1.0)
}

/// `0.3 + (0.2 (1 - 1 / (members - 1)) + 0.1 new + 0.25 sync) act + 0.15 unusual`, in [0, 1], with
/// `act` = 1 on an unusual port, else `min(1, excess_sync / 0.25)`: size, novelty and synchronisation
/// are evidence only as far as the members act together beyond meeting in pairs. Hundreds of hosts that each meet a few new neighbours on the ports
/// the network always uses, never at the same time, are the LAN's everyday mesh (file sharing, peer
/// update caches), not a botnet.
pub fn set_score(members: usize, sync: f64, unusual: bool, new: bool) -> f64 {
    let size = if members >= 2 {
        1.0 - 1.0 / (members - 1) as f64
    } else {
        0.0
    };
    let sync = sync.clamp(0.0, 1.0);
    let act = if unusual {
        1.0
    } else {
        (excess_sync(sync, members) / SYNC_FULL).min(1.0)
    };
    (0.3 + (0.2 * size + 0.1 * f64::from(u8::from(new)) + 0.25 * sync) * act
        + 0.15 * f64::from(u8::from(unusual)))
    .clamp(0.0, 1.0)
}

/// Bursts: runs of consecutive active bins. Returns (burst count, median seconds between burst starts).
pub fn bursts(bins: &[i64], bin_secs: u64) -> (usize, Option<f64>) {
    let starts: Vec<i64> = bins
        .iter()
        .enumerate()
        .filter(|(i, b)| *i == 0 || bins[i - 1] + 1 != **b)
        .map(|(_, b)| *b)
        .collect();
    let mut gaps: Vec<f64> = starts
        .windows(2)
        .map(|w| ((w[1] - w[0]) as u64 * bin_secs) as f64)
        .collect();
    gaps.sort_unstable_by(f64::total_cmp);
    (starts.len(), super::beacon_math::quantile(&gaps, 0.5))
}

/// Flow rows, edges and bins of one set.
struct SetFlows {
    rows: Vec<u32>,
    edges: Vec<(u128, u128)>,
    bins: BTreeMap<i64, BTreeSet<u128>>,
}

fn set_flows(ctx: &DetectCtx, c: &BotnetConfig, edges: &Edges, set: &CoordSet) -> SetFlows {
    let f = ctx.flows;
    let mut out = SetFlows {
        rows: Vec::new(),
        edges: Vec::new(),
        bins: BTreeMap::new(),
    };
    for ((s, d), e) in edges {
        if !(set.members.contains(s) && set.members.contains(d)) || e.ports.is_disjoint(&set.ports)
        {
            continue;
        }
        out.edges.push((*s, *d));
        for &r in &e.rows {
            let i = r as usize;
            if set
                .ports
                .contains(&(f.proto[i].index() as u8, f.dst_port[i]))
            {
                out.rows.push(r);
                let b = out
                    .bins
                    .entry(f.ts[i].div_euclid(c.sync_bin_secs.max(1) as i64 * 1_000_000))
                    .or_default();
                b.extend([*s, *d]);
            }
        }
    }
    out.rows.sort_unstable();
    out
}

fn port_text(p: &PortKey) -> String {
    format!(
        "{}/{}",
        crate::schema::Proto::ALL
            .get(p.0 as usize)
            .map_or("other", |x| x.as_str()),
        p.1
    )
}

fn set_finding(
    ctx: &DetectCtx,
    c: &BotnetConfig,
    x: &Exclusions,
    edges: &Edges,
    set: &CoordSet,
) -> Finding {
    let sf = set_flows(ctx, c, edges, set);
    let n = set.members.len();
    let sync = sync_score(&sf.bins, n);
    let unusual = !set
        .ports
        .iter()
        .any(|p| x.usual_ports.contains(&p.1) || lan_peer_service(p.1));
    let new = !ctx.baseline.robust();
    let score = set_score(n, sync, unusual, new);
    let active: Vec<i64> = sf.bins.keys().copied().collect();
    let (count, period) = bursts(&active, c.sync_bin_secs);
    let ts: Vec<i64> = sf.rows.iter().map(|r| ctx.flows.ts[*r as usize]).collect();
    let (first, last) = (
        ts.iter().min().copied().unwrap_or(0),
        ts.iter().max().copied().unwrap_or(0),
    );
    let ports: Vec<String> = set.ports.iter().map(port_text).collect();
    let originators: BTreeSet<u128> = sf.edges.iter().map(|(s, _)| *s).collect();
    let period_text = period.map_or(String::new(), |p| {
        format!(" every ~{}", super::behaviour::duration_text(p))
    });
    let explanation = format!(
        "{n} internal hosts talk to each other on {} ({} {}pairs, {} flows) {}, in {count} bursts{period_text} (sync {:.2}: members active in the same {} s bins){}",
        ports.join(", "), sf.edges.len(), if new { "new " } else { "" }, sf.rows.len(), super::behaviour::span_text(first, last), sync, c.sync_bin_secs,
        if unusual { "; unusual port" } else { "" }
    );
    let edge_text: Vec<String> = sf
        .edges
        .iter()
        .take(100)
        .map(|(s, d)| format!("{}->{}", ip::format(*s), ip::format(*d)))
        .collect();
    let details = json!({
        "members": set.members.iter().map(|m| ip::format(*m)).collect::<Vec<_>>(), "ports": ports, "edges_count": sf.edges.len(),
        "edges": edge_text, "originators": originators.len(), "sync": sync, "sync_bin_secs": c.sync_bin_secs, "bursts": count,
        "burst_period_secs": period, "unusual_port": unusual, "new_pairs": new,
    });
    Finding {
        kind: "botnet".into(),
        detector: "botnet".into(),
        score,
        hosts: set.members.iter().map(|m| ip::format(*m)).collect(),
        peers: Vec::new(),
        first_seen: Some(format_ts(first)),
        last_seen: Some(format_ts(last)),
        flows: sf.rows.len() as u64,
        flow_rows: sf.rows,
        evidence: Evidence {
            metric: "coordinated internal set (size, synchronisation, port, novelty)".into(),
            observed: score,
            baseline: None,
            threshold: Some(c.min_score_ratio),
            explanation,
            details: details.as_object().cloned().unwrap_or_default(),
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_table() {
        type Case<'a> = (&'a [(u128, u128)], Vec<Vec<u128>>);
        let cases: [Case; 3] = [
            (&[(1, 2), (2, 3), (5, 6)], vec![vec![1, 2, 3], vec![5, 6]]),
            (&[(3, 1), (1, 3)], vec![vec![1, 3]]),
            (&[], vec![]),
        ];
        for (e, want) in cases {
            assert_eq!(components(e), want, "{e:?}");
        }
    }

    #[test]
    fn merge_table() {
        let s = |v: &[u128]| v.iter().copied().collect::<BTreeSet<u128>>();
        let got = merge_overlapping(
            vec![
                s(&[1, 2, 3]),
                s(&[2, 3, 4]),
                s(&[4, 9, 10]),
                s(&[20, 21, 22]),
            ],
            2,
        );
        assert_eq!(
            got,
            vec![s(&[1, 2, 3, 4]), s(&[4, 9, 10]), s(&[20, 21, 22])]
        );
    }

    #[test]
    fn sync_score_table() {
        let bins = |v: &[&[u128]]| {
            v.iter()
                .enumerate()
                .map(|(i, m)| (i as i64, m.iter().copied().collect()))
                .collect::<BTreeMap<i64, BTreeSet<u128>>>()
        };
        assert_eq!(sync_score(&bins(&[&[1, 2, 3], &[1, 2, 3]]), 3), 1.0);
        assert_eq!(
            sync_score(&bins(&[&[1, 2], &[2, 3], &[1, 2, 3]]), 3),
            (0.5 + 0.5 + 1.0) / 3.0
        );
        assert_eq!(sync_score(&bins(&[]), 3), 0.0);
    }

    #[test]
    fn score_and_bursts_table() {
        assert!((set_score(3, 1.0, true, true) - (0.3 + 0.1 + 0.25 + 0.15 + 0.1)).abs() < 1e-12);
        assert!((set_score(5, 0.0, false, false) - 0.3).abs() < 1e-12);
        // a usual port: size and novelty count as far as the members act together beyond pairs
        assert!((set_score(3, 1.0, false, true) - (0.3 + 0.1 + 0.1 + 0.25)).abs() < 1e-12);
        // three hosts meeting in pairs only (sync 0.5 = the floor): nothing beyond the pairs
        assert!((set_score(3, 0.5, false, true) - 0.3).abs() < 1e-12);
        // half-way to acting together in full: everything counts half
        // (sync 0.5625: excess 0.125, half of SYNC_FULL)
        let half = 0.3 + 0.5 * (0.2 * 0.5 + 0.1 + 0.25 * 0.5625);
        assert!((set_score(3, 0.5625, false, true) - half).abs() < 1e-12);
        // 5 members, sync 0.4375: excess (0.4375 - 0.25) / 0.75 = 0.25, acting together in full
        let full = 0.3 + 0.2 * 0.75 + 0.1 + 0.25 * 0.4375;
        assert!((set_score(5, 0.4375, false, true) - full).abs() < 1e-12);
        // peer update caches: 6 hosts meeting in pairs (sync 0.2 = the floor)
        assert!(set_score(6, 0.2, false, true) < 0.4);
        assert_eq!(excess_sync(0.5, 2), 0.0);
        // the LAN's everyday mesh: 444 hosts, each meeting a few new neighbours, never together
        assert!(set_score(444, 0.01, false, true) < 0.4);
        assert_eq!(bursts(&[10, 11, 40, 70, 71, 72], 60), (3, Some(1800.0)));
        assert_eq!(bursts(&[5], 60), (1, None));
        assert!(
            broadcast_like(ip::parse("192.168.1.255").unwrap())
                && !broadcast_like(ip::parse("192.168.1.25").unwrap())
        );
    }
}
