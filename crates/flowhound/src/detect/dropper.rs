//! `dropper`: an internal host fetching several payload-sized files over cleartext HTTP in one burst
//! from peers it does not otherwise use, when such fetches are not its habit and its footprint on
//! the Internet is narrow (a device, not a person's browser), or, for a browsing host, when the
//! peers served it nothing but the payloads and no other host knows them. This is how malware is installed:
//! a loader runs `wget`/`curl` (busybox has no TLS) and fetches one binary per CPU architecture, or
//! the same binary from each address of its host name, within seconds. Pure maths in [`bursts`],
//! [`only_in_burst`] and [`score`].

use super::behaviour::{duration_text, geo_suffix, saturate};
use super::infrastructure::infrastructure;
use super::{DetectCtx, Detector};
use crate::config::{Range, Setting};
use crate::error::{FlowError, Result};
use crate::findings::score::SEVERITY_BOUNDS;
use crate::findings::{format_ts, Evidence, Finding};
use crate::ip;
use crate::output::table::human_bytes;
use crate::schema::Proto;
use ahash::{AHashMap, AHashSet};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The detector.
pub struct Dropper;

/// `[detectors.dropper]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DropperConfig {
    /// Cleartext web ports (tcp) a fetch goes to.
    pub ports: Vec<String>,
    /// A response of at least this many bytes is payload-sized.
    pub payload_min_bytes: u64,
    /// Fetches further apart than this are separate bursts.
    pub burst_max_gap_secs: f64,
    /// Fetches a burst needs.
    pub min_fetches_count: u64,
    /// Fetches at which the count term is 0.5.
    pub half_fetches_count: f64,
    /// Share of the burst's peers that must be new to the host (contacted in the burst only, and
    /// absent from a baseline learned from normal traffic).
    pub min_new_share_ratio: f64,
    /// Other windows (of the baseline's `window_secs`) with payload fetches by the host that make
    /// such fetches its habit.
    pub habit_min_windows_count: u64,
    /// External peers (not infrastructure) of the host above which it is no narrow device, in a test
    /// input of an hour or more (shorter ones: [`narrow_limit`]).
    pub narrow_max_peers_count: u64,
    /// The narrow limit of the shortest test inputs.
    pub narrow_min_peers_count: u64,
    /// Score of the strongest burst (the weakest that passes every gate scores 0.4, medium).
    pub max_score_ratio: f64,
    /// A browsing host's fetches from dedicated peers further apart than this are separate bursts.
    pub dedicated_max_gap_secs: f64,
}

impl Default for DropperConfig {
    fn default() -> Self {
        DropperConfig {
            ports: vec!["80".into(), "8080".into()],
            payload_min_bytes: 32_768,
            burst_max_gap_secs: 120.0,
            min_fetches_count: 3,
            half_fetches_count: 3.0,
            min_new_share_ratio: 0.5,
            habit_min_windows_count: 2,
            narrow_max_peers_count: 32,
            narrow_min_peers_count: 8,
            max_score_ratio: 0.64,
            dedicated_max_gap_secs: 3600.0,
        }
    }
}

impl DropperConfig {
    /// `burst_max_gap_secs` in µs: the gap of a narrow device's bursts.
    fn burst_gap_us(&self) -> i64 {
        (self.burst_max_gap_secs * 1e6) as i64
    }

    /// The gap of a browsing host's bursts of dedicated fetches, in µs: `dedicated_max_gap_secs`,
    /// never below `burst_max_gap_secs` (so its bursts hold a device's).
    fn dedicated_gap_us(&self) -> i64 {
        (self.dedicated_max_gap_secs.max(self.burst_max_gap_secs) * 1e6) as i64
    }
}

static SETTINGS: [Setting; 11] = [
    Setting {
        key: "ports",
        doc: "cleartext web ports (tcp, as strings such as \"80\") a fetch goes to",
        range: Range::Strings,
    },
    Setting {
        key: "payload_min_bytes",
        doc: "a response of at least this many bytes is payload-sized (an executable, not an API answer)",
        range: Range::Int(1, 1_000_000_000_000),
    },
    Setting {
        key: "burst_max_gap_secs",
        doc: "fetches further apart than this many seconds are separate bursts",
        range: Range::Float(1.0, 86_400.0),
    },
    Setting {
        key: "min_fetches_count",
        doc: "payload fetches a burst needs (one is an update; a loader fetches several)",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "half_fetches_count",
        doc: "fetches at which the count term is 0.5",
        range: Range::Float(0.001, 1e9),
    },
    Setting {
        key: "min_new_share_ratio",
        doc: "share of the burst's peers that must be new to the host: contacted in the burst only, and absent from a baseline learned from normal traffic",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "habit_min_windows_count",
        doc: "other windows (baseline window_secs) with payload fetches by the host that make fetching payloads over HTTP its habit",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "narrow_max_peers_count",
        doc: "external peers (infrastructure left out) of the host above which it is no narrow device but a browsing client, in a test input of an hour or more",
        range: Range::Int(1, 1_000_000_000),
    },
    Setting {
        key: "narrow_min_peers_count",
        doc: "the narrow limit of the shortest test inputs: shorter than an hour, the limit is narrow_max_peers_count times the input's share of an hour, at least this",
        range: Range::Int(1, 1_000_000_000),
    },
    Setting {
        key: "max_score_ratio",
        doc: "score of the strongest burst; bursts that pass every gate score from 0.4 (medium) up to this",
        range: Range::Float(0.4, 1.0),
    },
    Setting {
        key: "dedicated_max_gap_secs",
        doc: "a browsing host's fetches from peers dedicated to it (payloads only, nobody else's) further apart than this many seconds are separate bursts",
        range: Range::Float(1.0, 86_400.0),
    },
];

/// The markdown section of `docs/detectors.md`.
pub const DOC: &str = r#"## dropper

**Looks at** the TCP connections each internal host opens to external peers on cleartext web
`ports` (80 and 8080) whose response is payload-sized (at least `payload_min_bytes`, 32 KiB). Fetches
closer than `burst_max_gap_secs` (120 s) form a burst. A burst is reported when all of these hold:

- it has at least `min_fetches_count` (3) fetches: a loader fetches one binary per CPU architecture,
  or the same one from each address of its host name; one download is an update;
- at least `min_new_share_ratio` (half) of its peers are new to the host: no flow with them starts
  or ends outside the burst (± `burst_max_gap_secs`; a session held across it is contact) and, with a baseline learned from normal traffic,
  no baseline host used them;
- fetching payloads over HTTP is not the host's habit: it fetched payloads in fewer than
  `habit_min_windows_count` (2) other windows of the test input;
- the host is a narrow device: at most `narrow_max_peers_count` (32) external peers in the test
  input (infrastructure such as NTP pools left out: a device's NTP client rotates through dozens of
  pool servers a day). A test input shorter than an hour allows its share of an hour of that, at
  least `narrow_min_peers_count` (8): a person's browser meets 32 peers in a few pages, and in the
  16-minute campus captures of `bench/othersim` browsing clients met 14-33, which made 150 of them
  "narrow" and each burst of images a dropper.

A **broad host** (a person's client, past the narrow limit) fetches payloads over HTTP as part of
browsing, so neither the habit nor the host's own novelty says much. With a baseline learned from
normal traffic, its burst of at least `min_fetches_count` fetches is still reported when every one of
its peers is *dedicated*: each flow the host had with the peer is one of the burst's fetches, at
least two (a web page brings small objects, redirects and revisits with its large ones; a loader's
server is contacted for the payloads only; one download from an address nobody else uses is any
file, or a web proxy's fetch for a client), no other internal host reached the peer in the test
input, and no baseline host used it. The burst is formed from such fetches only, with gaps up to
`dedicated_max_gap_secs` (an hour: a loader on a workstation may fetch its stages minutes apart, and
the peers' dedication, not the rhythm, is the evidence). Single-capture mode (a baseline learned from the capture itself) cannot tell a peer new
to the network and leaves broad hosts out, as before. On `bench/othersim` (measured in pandas first,
then end to end) this found 9 of the 15 workstation droppers of its 48 ordinary configurations and 7
of the 8 of its 18 dense and large ones, with no benign finding; the rest fetch two files (two
dedicated fetches would have held 5 benign hosts' downloads too) or one server's files a day apart.

`score = 0.4 + (max_score_ratio - 0.4) * sat(fetches, half_fetches_count) * new_share`, with
`sat(x, h) = x / (x + h)`: medium at most by default.

**Why these defaults** (first principles, then checked on every capture in `../shared/testdata`):

- Busybox `wget` has no TLS, so IoT loaders fetch over plain HTTP; a statically linked executable
  for an embedded CPU is tens to hundreds of KB, while heartbeats and API answers are a few KB.
- One web page loads from tens of hosts: a person's client passes 32 external peers within a few
  pages, a device talks to a handful of cloud endpoints.
- A burst of downloads is a lead, not proof (an update run fetches several packages too), so on its
  own it is medium; other findings of the host rank it higher.

**Explanation**: the fetches, their sizes, the peers with country and AS, the burst's length, and
that the peers are new, the fetches unusual for the host and the host narrow; `evidence.details`
has every term.

**Blind spots**: payloads fetched over TLS or from a peer the host uses habitually; one-file
droppers; a browsing host's payloads from a server it also loaded a page from, or in single-capture
mode. An update over plain HTTP from a new mirror by a device looks the same in flows (medium); a
baseline from normal traffic that saw the mirror removes it.

**Tuning**: lower `min_fetches_count` to 2 to see two-file droppers; raise `narrow_max_peers_count`
for gateways that browse a little.
"#;

impl Detector for Dropper {
    type Config = DropperConfig;
    fn name(&self) -> &'static str {
        "dropper"
    }
    fn description(&self) -> &'static str {
        "a narrow device fetching several payloads over plain HTTP from new peers in one burst"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn validate(&self, c: &DropperConfig) -> Result<()> {
        parse_ports(&c.ports).map(|_| ())
    }
    fn run(&self, c: &DropperConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let ports = parse_ports(&c.ports)?;
        let hosts = accumulate(ctx, c, &ports);
        let mut out: Vec<Finding> = hosts
            .iter()
            .flat_map(|(h, acc)| judge_host(ctx, c, *h, acc))
            .collect();
        out.sort_by(crate::findings::ranked);
        Ok(out)
    }
}

/// The `ports` setting as numbers.
fn parse_ports(items: &[String]) -> Result<Vec<u16>> {
    items
        .iter()
        .map(|s| {
            s.trim().parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                FlowError::Config(format!(
                    "[detectors.dropper] ports: '{s}' is not a port: use numbers 1-65535 as strings, e.g. [\"80\", \"8080\"]"
                ))
            })
        })
        .collect()
}

/// One payload fetch: start (µs), peer, bytes received, row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fetch {
    /// Start time, µs.
    pub ts: i64,
    /// The external peer.
    pub peer: u128,
    /// Bytes the host received.
    pub bytes: u64,
    /// Row in the test input.
    pub row: u32,
}

/// A host's flows with one peer of its fetches: first start, last end (µs), how many.
#[derive(Debug, Clone, Copy, Default)]
struct Contact {
    span: (i64, i64),
    flows: u64,
}

/// What one host did.
#[derive(Default)]
struct HostAcc {
    fetches: Vec<Fetch>,
    /// First start and last end (µs) of the flows with each peer of its fetches, and their number.
    contact: AHashMap<u128, Contact>,
    /// External peers it opened flows to, infrastructure left out (counted up to one past
    /// `narrow_max_peers_count`).
    peers: AHashSet<u128>,
}

/// The host and external peer of flow `i`, when it has an internal end and an external one.
fn external_view(ctx: &DetectCtx, i: usize) -> Option<super::flows::HostView> {
    ctx.flows
        .host_view(i, ctx.nets)
        .filter(|v| !ctx.nets.contains(v.peer))
}

/// Two passes: the payload fetches (a few comparisons a flow), then, only for the hosts with a
/// burst of enough of them, the contacts with the fetches' peers and the count of external peers.
fn accumulate(ctx: &DetectCtx, c: &DropperConfig, ports: &[u16]) -> AHashMap<u128, HostAcc> {
    let f = ctx.flows;
    let mut hosts: AHashMap<u128, HostAcc> = AHashMap::new();
    for i in 0..f.len() {
        let web = f.proto[i] == Proto::Tcp && ports.contains(&f.dst_port[i]);
        let Some(v) = web.then(|| external_view(ctx, i)).flatten() else {
            continue;
        };
        if v.originator && v.received >= c.payload_min_bytes {
            hosts.entry(v.host).or_default().fetches.push(Fetch {
                ts: f.ts[i],
                peer: v.peer,
                bytes: v.received,
                row: i as u32,
            });
        }
    }
    // bursts of the wider gap hold a device's; only a baseline from normal traffic judges broad hosts
    let gap = if ctx.baseline.robust() {
        c.burst_gap_us()
    } else {
        c.dedicated_gap_us()
    };
    hosts.retain(|_, a| {
        bursts(&a.fetches, gap)
            .iter()
            .any(|b| b.len() as u64 >= c.min_fetches_count)
    });
    for acc in hosts.values_mut() {
        acc.contact = acc
            .fetches
            .iter()
            .map(|x| {
                (
                    x.peer,
                    Contact {
                        span: (x.ts, x.ts),
                        flows: 0,
                    },
                )
            })
            .collect();
    }
    if hosts.is_empty() {
        return hosts;
    }
    for i in 0..f.len() {
        let Some(v) = external_view(ctx, i) else {
            continue;
        };
        let Some(acc) = hosts.get_mut(&v.host) else {
            continue;
        };
        // only the fetches' peers need their contacts: is a peer new?
        if let Some(ct) = acc.contact.get_mut(&v.peer) {
            // a session open across the burst is contact too: its end counts, not only its start
            let end = f.ts[i] + (f.duration_secs(i).unwrap_or(0.0).max(0.0) * 1e6) as i64;
            ct.span = (ct.span.0.min(f.ts[i]), ct.span.1.max(end));
            ct.flows += 1;
        }
        // counting stops one past the narrow limit: the host is then broad whatever the rest
        let counting = acc.peers.len() as u64 <= c.narrow_max_peers_count;
        if counting
            && v.originator
            && infrastructure(v.peer, f.proto[i], f.dst_port[i], ctx).is_none()
        {
            acc.peers.insert(v.peer);
        }
    }
    hosts
}

/// The narrow limit for a test input spanning `span_secs`: `max_peers` for an hour or more (a
/// person's browser passes it within a few pages, a device not in a day), its share of an hour for a
/// shorter input (16 minutes of browsing meet 14-33 peers), never below `min_peers`.
pub fn narrow_limit(max_peers: u64, min_peers: u64, span_secs: f64) -> u64 {
    let share = (span_secs / 3600.0).clamp(0.0, 1.0);
    ((max_peers as f64 * share).ceil() as u64).max(min_peers)
}

/// Splits fetches (any order) into bursts: runs, by time, whose consecutive starts are at most
/// `max_gap_us` apart.
pub fn bursts(fetches: &[Fetch], max_gap_us: i64) -> Vec<Vec<Fetch>> {
    let mut sorted = fetches.to_vec();
    sorted.sort_by_key(|f| (f.ts, f.row));
    let mut out: Vec<Vec<Fetch>> = Vec::new();
    for f in sorted {
        match out.last_mut() {
            Some(b) if b.last().is_some_and(|l| f.ts - l.ts <= max_gap_us) => b.push(f),
            _ => out.push(vec![f]),
        }
    }
    out
}

/// True when every contact with a peer (its first and last flow, µs) falls within the burst
/// `[first, last]` widened by `margin_us` on both sides.
pub fn only_in_burst(contact: (i64, i64), burst: (i64, i64), margin_us: i64) -> bool {
    contact.0 >= burst.0 - margin_us && contact.1 <= burst.1 + margin_us
}

/// `0.4 + (max - 0.4) * sat(fetches, half) * new_share`, in [0.4, max].
pub fn score(fetches: u64, half: f64, new_share: f64, max: f64) -> f64 {
    let floor = SEVERITY_BOUNDS[0];
    let strength = saturate(fetches as f64, half) * new_share.clamp(0.0, 1.0);
    floor + (max.max(floor) - floor) * strength
}

/// The windows (of `window_secs`) holding fetches.
fn windows_of(fetches: &[Fetch], window_secs: u64) -> AHashSet<i64> {
    fetches
        .iter()
        .map(|f| crate::baseline::window_of(f.ts, window_secs))
        .collect()
}

/// What one burst is, for its finding.
struct Judged<'a> {
    host: u128,
    burst: &'a [Fetch],
    peers: Vec<u128>,
    new_peers: usize,
    other_windows: usize,
    host_peers: u64,
    /// A broad host, its burst judged by [`judge_broad`].
    broad: bool,
    score: f64,
}

fn judge_host(ctx: &DetectCtx, c: &DropperConfig, host: u128, acc: &HostAcc) -> Vec<Finding> {
    // the test input's own peers: a baseline's destination count holds the NTP pool's rotation
    let host_peers = acc.peers.len() as u64;
    let limit = narrow_limit(
        c.narrow_max_peers_count,
        c.narrow_min_peers_count,
        ctx.globals().span_secs(),
    );
    if host_peers > limit {
        return judge_broad(ctx, c, host, acc);
    }
    let gap = c.burst_gap_us();
    let all_windows = windows_of(&acc.fetches, ctx.baseline.window_secs);
    bursts(&acc.fetches, gap)
        .iter()
        .filter(|b| b.len() as u64 >= c.min_fetches_count)
        .filter_map(|burst| {
            let own = windows_of(burst, ctx.baseline.window_secs);
            let other_windows = all_windows.difference(&own).count();
            (other_windows < c.habit_min_windows_count as usize)
                .then(|| judge_burst(ctx, c, (host, acc), burst, other_windows))
                .flatten()
        })
        .map(|j| finding(ctx, &j))
        .collect()
}

/// The host's dedicated peers: every flow it had with the peer is one of its `fetched` payload
/// fetches, at least two (a single download from an address nobody else uses is any file, or a
/// proxy's), and no other host reached the peer, in the test input or in the baseline.
fn dedicated_peers(ctx: &DetectCtx, acc: &HostAcc) -> AHashSet<u128> {
    let mut fetched: AHashMap<u128, u64> = AHashMap::new();
    for f in &acc.fetches {
        *fetched.entry(f.peer).or_default() += 1;
    }
    fetched
        .into_iter()
        .filter(|&(peer, n)| dedicated(ctx, acc, peer, n))
        .map(|(peer, _)| peer)
        .collect()
}

/// Whether `peer`, which sent the host `fetched` payloads, is dedicated to it ([`dedicated_peers`]).
fn dedicated(ctx: &DetectCtx, acc: &HostAcc, peer: u128, fetched: u64) -> bool {
    fetched >= 2
        && acc.contact.get(&peer).is_some_and(|ct| ct.flows == fetched)
        && ctx.globals().hosts_of(peer) <= 1
        && !ctx
            .baseline
            .external
            .destinations
            .contains_key(&ip::format(peer))
}

/// A broad host (a person's client, whose HTTP downloads are no habit to judge): its bursts are
/// formed from its fetches from [`dedicated`] peers only, each peer's contact within its burst. A
/// web page brings small objects with its large ones and its site is shared; a loader's server is
/// contacted for the payloads only. Not with a baseline learned from the capture itself, which
/// cannot tell a peer new to the network.
fn judge_broad(ctx: &DetectCtx, c: &DropperConfig, host: u128, acc: &HostAcc) -> Vec<Finding> {
    if ctx.baseline.robust() {
        return Vec::new();
    }
    let peers = dedicated_peers(ctx, acc);
    let mine: Vec<Fetch> = acc
        .fetches
        .iter()
        .filter(|f| peers.contains(&f.peer))
        .copied()
        .collect();
    let gap = c.dedicated_gap_us();
    let all_windows = windows_of(&acc.fetches, ctx.baseline.window_secs);
    let within = |b: &[Fetch]| {
        let span = (b[0].ts, b[b.len() - 1].ts);
        b.iter()
            .all(|f| only_in_burst(acc.contact[&f.peer].span, span, gap))
    };
    bursts(&mine, gap)
        .iter()
        .filter(|b| b.len() as u64 >= c.min_fetches_count && within(b))
        .map(|burst| {
            let own = windows_of(burst, ctx.baseline.window_secs);
            let peers = ranked_peers(burst);
            finding(
                ctx,
                &Judged {
                    host,
                    burst,
                    new_peers: peers.len(),
                    peers,
                    other_windows: all_windows.difference(&own).count(),
                    host_peers: acc.peers.len() as u64,
                    broad: true,
                    score: score(
                        burst.len() as u64,
                        c.half_fetches_count,
                        1.0,
                        c.max_score_ratio,
                    ),
                },
            )
        })
        .collect()
}

/// A burst that is not the host's habit, judged by how new its peers are.
fn judge_burst<'a>(
    ctx: &DetectCtx,
    c: &DropperConfig,
    (host, acc): (u128, &HostAcc),
    burst: &'a [Fetch],
    other_windows: usize,
) -> Option<Judged<'a>> {
    let b = ctx.baseline;
    let margin = c.burst_gap_us();
    let span = (burst[0].ts, burst[burst.len() - 1].ts);
    let peers = ranked_peers(burst);
    let is_new = |p: &u128| {
        let here = acc
            .contact
            .get(p)
            .is_none_or(|ct| only_in_burst(ct.span, span, margin));
        here && (b.robust() || !b.external.destinations.contains_key(&ip::format(*p)))
    };
    let new_peers = peers.iter().filter(|p| is_new(p)).count();
    let new_share = new_peers as f64 / peers.len().max(1) as f64;
    (new_share >= c.min_new_share_ratio).then(|| Judged {
        host,
        burst,
        peers,
        new_peers,
        other_windows,
        host_peers: acc.peers.len() as u64,
        broad: false,
        score: score(
            burst.len() as u64,
            c.half_fetches_count,
            new_share,
            c.max_score_ratio,
        ),
    })
}

/// The burst's peers, most bytes first (ties by address).
fn ranked_peers(burst: &[Fetch]) -> Vec<u128> {
    let mut bytes: AHashMap<u128, u64> = AHashMap::new();
    for f in burst {
        *bytes.entry(f.peer).or_default() += f.bytes;
    }
    let mut v: Vec<(u128, u64)> = bytes.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter().map(|(p, _)| p).collect()
}

fn explanation(ctx: &DetectCtx, j: &Judged) -> String {
    let total: u64 = j.burst.iter().map(|f| f.bytes).sum();
    let (lo, hi) = j.burst.iter().fold((u64::MAX, 0), |(lo, hi), f| {
        (lo.min(f.bytes), hi.max(f.bytes))
    });
    let secs = (j.burst[j.burst.len() - 1].ts - j.burst[0].ts) as f64 / 1e6;
    let peers: Vec<String> = j
        .peers
        .iter()
        .take(4)
        .map(|p| format!("{}{}", ip::format(*p), geo_suffix(ctx.geo, *p)))
        .collect();
    let novelty = if j.broad {
        format!(
            "every flow with these peers is one of these fetches and no other host, in the input or the baseline, \
             reached them; payload fetches in {} other window(s) of the input; a browsing host (over {} external peers) \
             whose server served payloads only: a loader installing malware fetches like this",
            j.other_windows,
            j.host_peers.saturating_sub(1)
        )
    } else {
        format!(
            "{} of {} peers contacted in this burst only; payload fetches in {} other window(s) of the input; \
             a narrow host ({} external peers): a loader installing malware fetches like this, an update run too",
            j.new_peers,
            j.peers.len(),
            j.other_windows,
            j.host_peers
        )
    };
    format!(
        "{} fetched {} payload-sized responses ({} to {}, {} in all) over plain HTTP from {} peer(s) in {}: {}; {novelty}",
        ip::format(j.host),
        j.burst.len(),
        human_bytes(lo as f64),
        human_bytes(hi as f64),
        human_bytes(total as f64),
        j.peers.len(),
        duration_text(secs),
        peers.join(", "),
    )
}

fn finding(ctx: &DetectCtx, j: &Judged) -> Finding {
    let mut rows: Vec<u32> = j.burst.iter().map(|f| f.row).collect();
    rows.sort_unstable();
    let total: u64 = j.burst.iter().map(|f| f.bytes).sum();
    let details = json!({
        "fetches": j.burst.len(), "bytes": total, "peers": j.peers.len(), "new_peers": j.new_peers,
        "other_fetch_windows": j.other_windows, "host_external_peers": j.host_peers, "broad_host": j.broad,
        "span_secs": (j.burst[j.burst.len() - 1].ts - j.burst[0].ts) as f64 / 1e6,
    });
    Finding {
        kind: "dropper".into(),
        detector: "dropper".into(),
        score: j.score.clamp(0.0, 1.0),
        hosts: vec![ip::format(j.host)],
        peers: j.peers.iter().map(|p| ip::format(*p)).collect(),
        first_seen: j.burst.first().map(|f| format_ts(f.ts)),
        last_seen: j.burst.last().map(|f| format_ts(f.ts)),
        flows: rows.len() as u64,
        flow_rows: rows,
        evidence: Evidence {
            metric: "payload fetches over plain HTTP in one burst".into(),
            observed: j.burst.len() as f64,
            baseline: Some(j.other_windows as f64),
            threshold: None,
            explanation: explanation(ctx, j),
            details: details.as_object().cloned().unwrap_or_default(),
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{Baseline, Prevalence};
    use crate::config::Config;
    use crate::detect::flows::Flows;
    use crate::net::InternalNets;
    use flowhound_geo::GeoStack;

    const S: i64 = 1_000_000;

    fn fetch(ts_s: i64, peer: u128, row: u32) -> Fetch {
        Fetch {
            ts: ts_s * S,
            peer,
            bytes: 65_000,
            row,
        }
    }

    #[test]
    fn narrow_limit_table() {
        // (max, min, span seconds, limit)
        let rows = [
            (32, 8, 86_400.0, 32), // a day: the limit as configured
            (32, 8, 3_600.0, 32),  // an hour
            (32, 8, 1_800.0, 16),  // half an hour: half of it
            (32, 8, 960.0, 9),     // a 16-minute capture: 8.53 -> 9
            (32, 8, 60.0, 8),      // a minute: the floor
            (32, 8, 0.0, 8),       // one instant
            (4, 8, 86_400.0, 8),   // a floor above the limit wins
        ];
        for (max, min, span, want) in rows {
            assert_eq!(narrow_limit(max, min, span), want, "{max} {min} {span}");
        }
    }

    #[test]
    fn bursts_table() {
        let f = [
            fetch(43, 2, 3),
            fetch(5, 1, 0),
            fetch(10, 2, 1),
            fetch(400, 1, 4),
            fetch(6, 1, 2),
        ];
        let got: Vec<Vec<u32>> = bursts(&f, 120 * S)
            .iter()
            .map(|b| b.iter().map(|x| x.row).collect())
            .collect();
        assert_eq!(got, vec![vec![0, 2, 1, 3], vec![4]]);
        assert!(bursts(&[], S).is_empty());
        // a gap of exactly the limit stays in the burst
        assert_eq!(
            bursts(&[fetch(0, 1, 0), fetch(120, 1, 1)], 120 * S).len(),
            1
        );
    }

    #[test]
    fn only_in_burst_table() {
        let cases = [
            // (contact first, last, burst first, last, margin, want)
            ((5, 43), (5, 43), 120, true),
            ((-100, 43), (5, 43), 120, true),
            ((5, 200), (5, 43), 120, false),
            ((-3600, 43), (5, 43), 120, false),
        ];
        for ((a, b), (x, y), m, want) in cases {
            assert_eq!(
                only_in_burst((a * S, b * S), (x * S, y * S), m * S),
                want,
                "{a} {b}"
            );
        }
    }

    #[test]
    fn score_table() {
        let cases = [
            // (fetches, half, new share, max, want)
            (6, 3.0, 1.0, 0.64, 0.56),
            (3, 3.0, 1.0, 0.64, 0.52),
            (11, 3.0, 1.0, 0.64, 0.5886),
            (6, 3.0, 0.5, 0.64, 0.48),
            (6, 3.0, 0.0, 0.64, 0.4),
            (1_000_000, 3.0, 1.0, 1.0, 1.0),
            // a maximum below medium is taken as medium
            (6, 3.0, 1.0, 0.1, 0.4),
        ];
        for (n, h, s, m, want) in cases {
            let got = score(n, h, s, m);
            assert!((got - want).abs() < 1e-3, "{n} {s}: {got}");
        }
    }

    #[test]
    fn parse_ports_names_the_key() {
        assert_eq!(
            parse_ports(&["80".into(), " 8080".into()]).unwrap(),
            [80, 8080]
        );
        for bad in ["http", "0", "70000"] {
            let e = parse_ports(&[bad.into()]).unwrap_err().to_string();
            assert!(
                e.contains("[detectors.dropper] ports") && e.contains(bad),
                "{e}"
            );
        }
    }

    type Row = crate::detect::flows::TestRow;

    /// A flow 10.0.0.5 opens at `ts` (µs) to `peer`: port, bytes received, duration (s).
    fn row(ts: i64, peer: &str, port: u16, down: u64, dur: f64) -> Row {
        let proto = if port == 123 { Proto::Udp } else { Proto::Tcp };
        let (host, peer) = (ip::parse("10.0.0.5").unwrap(), ip::parse(peer).unwrap());
        (ts, host, peer, proto, port, 150, down, dur, 9)
    }

    /// `n` 65 KB fetches from `peer(i)` one every `every` s from `t0` (µs).
    fn payloads(t0: i64, n: i64, every: i64, peer: impl Fn(i64) -> &'static str) -> Vec<Row> {
        (0..n)
            .map(|i| row(t0 + i * every * S, peer(i), 80, 65_000, 1.0))
            .collect()
    }

    /// 10.0.0.5: an hourly 2 KB check-in to 198.51.100.1 for a day, NTP to 16 pool servers,
    /// `extra_peers` HTTPS peers, and `n` 65 KB fetches from 203.0.113.7/.8 5 s apart at 10:00.
    fn device(n: i64, extra_peers: u32) -> Flows {
        Flows::from_rows(&flows_rows(n, extra_peers))
    }

    /// The rows of [`device`].
    fn flows_rows(n: i64, extra_peers: u32) -> Vec<Row> {
        let mut rows = Vec::new();
        for h in 0..24i64 {
            rows.push(row(h * 3600 * S, "198.51.100.1", 80, 1745, 0.1));
            let ntp = format!("192.0.2.{}", h % 16 + 1);
            rows.push(row(h * 3600 * S + S, &ntp, 123, 48, 0.1));
        }
        let pair = |i: i64| ["203.0.113.7", "203.0.113.8"][(i % 2) as usize];
        rows.extend(payloads(36_000 * S, n, 5, pair));
        for k in 0..extra_peers {
            let peer = format!("198.18.{}.{}", k / 200, k % 200 + 1);
            rows.push(row(7200 * S + k as i64 * S, &peer, 443, 9000, 0.5));
        }
        rows
    }

    fn run_on(flows: &Flows, baseline: &Baseline) -> Vec<Finding> {
        let (nets, config, geo) = (InternalNets::default(), Config::default(), GeoStack::new());
        let ctx = DetectCtx::new(&[], flows, baseline, &geo, &nets, &config);
        Dropper.run(&DropperConfig::default(), &ctx).unwrap()
    }

    fn self_learned() -> Baseline {
        let mut b = Baseline::default();
        b.source.self_learned = true;
        b
    }

    #[test]
    fn a_devices_payload_burst_is_medium_and_explained() {
        let found = run_on(&device(6, 0), &self_learned());
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.hosts, ["10.0.0.5"]);
        assert_eq!(f.peers, ["203.0.113.7", "203.0.113.8"]);
        assert!((f.score - 0.56).abs() < 1e-9, "{}", f.score);
        assert_eq!(f.flows, 6);
        let e = &f.evidence.explanation;
        assert!(e.contains("6 payload-sized responses"), "{e}");
        assert!(
            e.contains("2 of 2 peers contacted in this burst only"),
            "{e}"
        );
        // NTP pool servers are infrastructure: 3 external peers, not 19
        assert_eq!(f.evidence.details["host_external_peers"], json!(3));
    }

    #[test]
    fn gates_table() {
        // (fetches, extra peers, want a finding)
        let cases = [(6, 0, true), (2, 0, false), (6, 40, false), (3, 29, true)];
        for (n, extra, want) in cases {
            let found = run_on(&device(n, extra), &self_learned());
            assert_eq!(!found.is_empty(), want, "{n} fetches, {extra} extra peers");
        }
    }

    #[test]
    fn habitual_fetches_and_known_peers_are_not_droppers() {
        const PEER: &str = "203.0.113.7";
        let run = |rows: &[Row]| run_on(&Flows::from_rows(rows), &self_learned());
        // the same fetches every hour: the host's habit
        let hourly: Vec<Row> = (0..24i64)
            .flat_map(|h| payloads(h * 3600 * S, 3, 1, |_| PEER))
            .collect();
        assert!(run(&hourly).is_empty());
        // a peer the host uses outside the burst is not new
        let mut rows = vec![row(0, PEER, 80, 1700, 0.1)];
        rows.extend(payloads(36_000 * S, 4, 1, |_| PEER));
        assert!(run(&rows).is_empty());
        // ... nor is one with a session held across the burst (its start alone is inside)
        rows[0] = row(36_000 * S - 10 * S, PEER, 23, 900, 7200.0);
        assert!(run(&rows).is_empty());
        rows[0].7 = 1.0;
        assert_eq!(run(&rows).len(), 1);
        // a peer a baseline learned from normal traffic knows is not new either
        let flows = device(6, 0);
        let mut normal = Baseline::default();
        for p in ["203.0.113.7", "203.0.113.8"] {
            normal
                .external
                .destinations
                .insert(p.into(), Prevalence::default());
        }
        assert!(run_on(&flows, &normal).is_empty());
        assert_eq!(run_on(&flows, &Baseline::default()).len(), 1);
    }

    #[test]
    fn a_browsing_hosts_burst_counts_only_from_peers_dedicated_to_it() {
        // 41 external peers: a browsing host, judged only against a baseline from normal traffic
        let flows = device(6, 40);
        let normal = Baseline::default();
        let found = run_on(&flows, &normal);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!((found[0].score - 0.56).abs() < 1e-9, "{}", found[0].score);
        assert_eq!(found[0].evidence.details["broad_host"], json!(true));
        let e = &found[0].evidence.explanation;
        assert!(e.contains("browsing host (over 32 external peers)"), "{e}");
        assert!(run_on(&flows, &self_learned()).is_empty());
        let with = |extra: Row| {
            let mut rows = flows_rows(6, 40);
            rows.push(extra);
            run_on(&Flows::from_rows(&rows), &normal)
        };
        // a small object from one of the peers: a page, not a loader's server; the other's three
        // fetches still make a burst
        let page = row(36_002 * S, "203.0.113.8", 80, 1700, 0.1);
        let found = with(page);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            (found[0].peers.as_slice(), found[0].flows),
            (&["203.0.113.7".to_string()][..], 3)
        );
        let mut rows = flows_rows(6, 40);
        rows.extend([page, row(36_003 * S, "203.0.113.7", 80, 1700, 0.1)]);
        assert!(run_on(&Flows::from_rows(&rows), &normal).is_empty());
        // another internal host reached a peer
        let other = ip::parse("10.0.0.6").unwrap();
        let peer = ip::parse("203.0.113.7").unwrap();
        assert_eq!(
            with((S, other, peer, Proto::Tcp, 443, 150, 900, 0.1, 9))[0].flows,
            3
        );
        // a loader's stages ten minutes apart from one dedicated server: one burst for a browsing host
        let mut rows = flows_rows(0, 40);
        rows.extend(payloads(36_000 * S, 3, 600, |_| "203.0.113.9"));
        let found = run_on(&Flows::from_rows(&rows), &normal);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].evidence.details["span_secs"], json!(1200.0));
        // one fetch from each of six addresses nobody else uses: single downloads (or a proxy's)
        let mut rows = flows_rows(0, 40);
        let six = [
            "203.0.113.1",
            "203.0.113.2",
            "203.0.113.3",
            "203.0.113.4",
            "203.0.113.5",
            "203.0.113.6",
        ];
        rows.extend(payloads(36_000 * S, 6, 5, |i| six[i as usize]));
        assert!(run_on(&Flows::from_rows(&rows), &normal).is_empty());
        // a flow of the host with an unrelated peer changes nothing
        assert_eq!(
            with(row(50_000 * S, "198.51.100.9", 80, 1700, 0.1)).len(),
            1
        );
        // the baseline's hosts used a peer
        let mut known = Baseline::default();
        for (peer, left) in [("203.0.113.8", 1), ("203.0.113.7", 0)] {
            known
                .external
                .destinations
                .insert(peer.into(), Prevalence::default());
            assert_eq!(run_on(&flows, &known).len(), left, "{peer} known");
        }
    }

    #[test]
    fn settings_cover_the_config() {
        let v = toml::Value::try_from(DropperConfig::default()).unwrap();
        let mut keys: Vec<&str> = v.as_table().unwrap().keys().map(|k| k.as_str()).collect();
        let mut documented: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
        keys.sort_unstable();
        documented.sort_unstable();
        assert_eq!(keys, documented);
    }
}
