//! `cnc_channel`: C&C that is persistent but not strictly periodic, per (internal host, external
//! peer, proto, port) channel the host opens: reconnect storms, long connections and strobes
//! ([`channel_math`](super::channel_math)). Strictly periodic channels are `cnc_beacon`'s. Channels
//! to well-known infrastructure ([`infrastructure`](super::infrastructure)) or to destinations most
//! hosts use in the baseline are scored down, and the explanation says so.

use super::behaviour::{duration_text, geo_suffix, prevalent};
use super::channel_math as cm;
use super::cnc_beacon::{is_trusted_org, TRUSTED_ORGS};
use super::habit_match::ChannelHabits;
use super::infrastructure::infrastructure;
use super::{DetectCtx, Detector};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{format_ts, Evidence, Finding};
use crate::ip;
use crate::schema::Proto;
use ahash::AHashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The detector.
pub struct CncChannel;

/// `[detectors.cnc_channel]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CncChannelConfig {
    /// A connection whose peer sent at most this many bytes failed (or went unanswered).
    pub failed_max_down_bytes: u64,
    /// Failed connections a channel needs to be scored as a reconnect storm.
    pub storm_min_failed_count: u64,
    /// Median gap between a storm's connections below which it is a flood (`dos`), not re-dials.
    pub storm_min_median_gap_secs: f64,
    /// Failed connections at which the storm's count term is 0.5.
    pub storm_half_failed_count: f64,
    /// Failed connections per active hour at which the storm's rate term is 0.5.
    pub storm_half_failed_per_hour: f64,
    /// Active span that earns the full length half of persistence.
    pub persistence_ideal_secs: f64,
    /// Shortest connection scored as a long connection.
    pub long_min_secs: f64,
    /// Connection length that earns a full length term, whatever the capture's length.
    pub long_ideal_secs: f64,
    /// Sessions at least this long add up to the time a channel was held (successive sessions, or
    /// one connection cut into records by an exporter's active timeout, are one long connection).
    pub held_min_session_secs: f64,
    /// Most a long connection earns without failed reconnects to its peer.
    pub long_alone_ratio: f64,
    /// Failed connections to the peer below which there is no reconnect evidence (a blip).
    pub reconnect_min_failed_count: u64,
    /// Failed connections to the peer at which the reconnect evidence is 0.5.
    pub reconnect_half_count: f64,
    /// Connections a channel needs to be scored as a strobe.
    pub strobe_min_connections_count: u64,
    /// Connections per active hour at which the strobe term is 0.5.
    pub strobe_half_per_hour: f64,
    /// Most a strobe earns on its own.
    pub strobe_weight_ratio: f64,
    /// Share of the score lost by a channel to well-known infrastructure (NTP, DNS resolvers, ...).
    pub infrastructure_discount_ratio: f64,
    /// Baseline hosts that make a destination prevalent (with `prevalent_min_share_ratio`).
    pub prevalent_min_hosts_count: u64,
    /// Share of the baseline's hosts that makes a destination prevalent.
    pub prevalent_min_share_ratio: f64,
    /// Share of the score lost by a destination prevalent in the baseline.
    pub prevalence_discount_ratio: f64,
    /// AS organisations (case-insensitive substrings) whose agents hold push channels by design.
    pub trusted_orgs: Vec<String>,
    /// Share of the score lost by a channel to a trusted organisation.
    pub trusted_org_discount_ratio: f64,
    /// Smallest score reported.
    pub min_score_ratio: f64,
    /// Other hosts keeping the peer as a recurring baseline channel that make a channel the
    /// fleet's software (held low).
    pub fleet_channel_min_hosts_count: u64,
    /// AS organisations (case-insensitive substrings) of storage and sync services, whose addresses
    /// rotate: a channel to a new address of such a network where the host, or
    /// `fleet_channel_min_hosts_count` other hosts, kept a baseline channel is that habit (held low).
    pub channel_network_orgs: Vec<String>,
}

impl Default for CncChannelConfig {
    fn default() -> Self {
        CncChannelConfig {
            failed_max_down_bytes: 64,
            storm_min_failed_count: 10,
            storm_min_median_gap_secs: 1.0,
            storm_half_failed_count: 100.0,
            storm_half_failed_per_hour: 30.0,
            persistence_ideal_secs: 21_600.0,
            long_min_secs: 3600.0,
            long_ideal_secs: 21_600.0,
            held_min_session_secs: 900.0,
            long_alone_ratio: 0.35,
            reconnect_min_failed_count: 3,
            reconnect_half_count: 10.0,
            strobe_min_connections_count: 1000,
            strobe_half_per_hour: 3600.0,
            strobe_weight_ratio: 0.5,
            infrastructure_discount_ratio: 0.75,
            prevalent_min_hosts_count: 3,
            prevalent_min_share_ratio: 0.25,
            prevalence_discount_ratio: 0.5,
            trusted_orgs: TRUSTED_ORGS.iter().map(|s| s.to_string()).collect(),
            trusted_org_discount_ratio: 0.5,
            min_score_ratio: 0.2,
            fleet_channel_min_hosts_count: 2,
            channel_network_orgs: super::habit_match::storage_orgs(),
        }
    }
}

const UNIT: Range = Range::Float(0.0, 1.0);
const SECS: Range = Range::Float(0.0, 31_536_000.0);
const HALF: Range = Range::Float(0.001, 1e9);

static SETTINGS: [Setting; 24] = [
    Setting {
        key: "failed_max_down_bytes",
        doc: "a connection whose peer sent at most this many bytes failed or went unanswered",
        range: Range::Int(0, 1_000_000),
    },
    Setting {
        key: "storm_min_failed_count",
        doc: "failed connections a channel needs to be scored as a reconnect storm",
        range: Range::Int(1, 1_000_000_000),
    },
    Setting {
        key: "storm_min_median_gap_secs",
        doc: "median gap between a storm's connections below which it is a flood (dos), not re-dials",
        range: Range::Float(0.0, 86_400.0),
    },
    Setting {
        key: "storm_half_failed_count",
        doc: "failed connections at which the storm's count term is 0.5",
        range: HALF,
    },
    Setting {
        key: "storm_half_failed_per_hour",
        doc: "failed connections per active hour at which the storm's rate term is 0.5",
        range: HALF,
    },
    Setting {
        key: "persistence_ideal_secs",
        doc: "active span (first to last connection) that earns the full length half of persistence",
        range: SECS,
    },
    Setting {
        key: "long_min_secs",
        doc: "shortest connection scored as a long connection",
        range: SECS,
    },
    Setting {
        key: "long_ideal_secs",
        doc: "connection length that earns the full length term whatever the capture's length",
        range: SECS,
    },
    Setting {
        key: "held_min_session_secs",
        doc: "sessions at least this long add up to the time a channel was held (successive sessions, or one connection cut into records by an exporter's active timeout)",
        range: SECS,
    },
    Setting {
        key: "long_alone_ratio",
        doc: "most a long connection earns without failed reconnects to its peer",
        range: UNIT,
    },
    Setting {
        key: "reconnect_min_failed_count",
        doc: "failed connections to the peer below which there is no reconnect evidence (one or two are a network blip)",
        range: Range::Int(1, 1_000_000_000),
    },
    Setting {
        key: "reconnect_half_count",
        doc: "failed connections to the peer (any port) at which the reconnect evidence is 0.5",
        range: HALF,
    },
    Setting {
        key: "strobe_min_connections_count",
        doc: "connections a channel needs to be scored as a strobe",
        range: Range::Int(1, 1_000_000_000),
    },
    Setting {
        key: "strobe_half_per_hour",
        doc: "connections per active hour at which the strobe term is 0.5",
        range: HALF,
    },
    Setting {
        key: "strobe_weight_ratio",
        doc: "most a strobe earns on its own",
        range: UNIT,
    },
    Setting {
        key: "infrastructure_discount_ratio",
        doc: "share of the score lost by a channel to well-known infrastructure (NTP, the network's DNS resolvers, DHCP, multicast and broadcast discovery)",
        range: UNIT,
    },
    Setting {
        key: "prevalent_min_hosts_count",
        doc: "baseline hosts that make a destination prevalent (with prevalent_min_share_ratio; not used with a self-learned baseline)",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "prevalent_min_share_ratio",
        doc: "share of the baseline's hosts that makes a destination prevalent",
        range: UNIT,
    },
    Setting {
        key: "prevalence_discount_ratio",
        doc: "share of the score lost by a destination prevalent in the baseline",
        range: UNIT,
    },
    Setting {
        key: "trusted_orgs",
        doc: "AS organisations (case-insensitive substrings) whose agents hold push channels by design (AV and OS vendors; as cnc_beacon's)",
        range: Range::Strings,
    },
    Setting {
        key: "trusted_org_discount_ratio",
        doc: "share of the score lost by a channel to a trusted organisation (it is still reported when above min_score_ratio)",
        range: UNIT,
    },
    Setting {
        key: "min_score_ratio",
        doc: "smallest score reported",
        range: UNIT,
    },
    Setting {
        key: "fleet_channel_min_hosts_count",
        doc: "a channel to a peer that at least this many other hosts kept as a recurring channel in the baseline is the fleet's software: held low (the host's own baseline channel always is)",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "channel_network_orgs",
        doc: "AS organisations (case-insensitive substrings) of storage and sync services, whose addresses rotate: a channel to a new address of such a network where the host or fleet_channel_min_hosts_count other hosts kept a baseline channel is that habit: held low",
        range: Range::Strings,
    },
];

/// The markdown section of `docs/detectors.md`.
pub const DOC: &str = r#"## cnc_channel

**Looks at** every channel (internal host, external peer, protocol, destination port) that the
internal host opens. Strictly periodic C&C is `cnc_beacon`'s; this finds C&C that is persistent but
irregular, with three kinds of evidence, each a strength in [0, 1]:

- **Reconnect storm** (TCP only: re-dials are connections, unanswered UDP at a rate is a flood for
  `dos`; at least `storm_min_failed_count` failed connections; a connection failed when the peer sent at
  most `failed_max_down_bytes`; a median gap between connections of at least
  `storm_min_median_gap_secs`, since a client re-dialling waits for each attempt to fail, at least
  TCP's initial retransmission timeout of 1 s (RFC 6298), while sub-second SYNs to one address are a
  flood for `dos`):
  `share * sqrt(sat(failed, storm_half_failed_count) * sat(failed per active hour,
  storm_half_failed_per_hour)) * (0.5 + 0.5 * persistence)`, with `sat(x, h) = x / (x + h)`, `share` =
  failed / connections, and `persistence = 0.5 * (active hours / capture hours) + 0.5 * min(1, active
  span / persistence_ideal_secs)`. A dense storm is evidence on its own (300 failed dials 5 s apart in
  half an hour is no back-off): persistence raises it, from half to full strength.
- **Long connection** (RITA's module; needs durations, which Zeek and binetflow carry): a channel
  held for at least `long_min_secs` scores `min(1, max(held / capture span, held /
  long_ideal_secs)) * (long_alone_ratio + (1 - long_alone_ratio) * reconnect)`, where `held` is the
  longest connection or, when larger, the sum of its sessions of at least `held_min_session_secs`
  (15 min; capped at the capture's span): a bot re-opening its C&C session after every reset, and
  one connection that a NetFlow exporter cut into 30-minute records, are held as long as one
  session (like RITA, which sums a pair's durations). `reconnect =
  sat(failed connections to the same peer on any port, reconnect_half_count)`, counted only from
  `reconnect_min_failed_count` failures on (one or two are a network blip).
- **Strobe** (at least `strobe_min_connections_count` connections):
  `strobe_weight_ratio * sat(connections per active hour, strobe_half_per_hour) * persistence`.

`score = 1 - (1 - storm) (1 - long) (1 - strobe)`, then times `1 - infrastructure_discount_ratio` for
well-known infrastructure (NTP, DNS to the network's resolvers, DHCP, mDNS, SSDP, LLMNR, NetBIOS,
multicast and broadcast) and times `1 - prevalence_discount_ratio` for a destination contacted by at
least `prevalent_min_hosts_count` hosts and `prevalent_min_share_ratio` of the hosts of a baseline
learned from normal traffic (a self-learned baseline is the capture itself, so it is not used for
this), and times `1 - trusted_org_discount_ratio` for a long connection (the strongest evidence) to a peer in a trusted vendor's AS (`trusted_orgs`,
the AV and OS vendors of `cnc_beacon`: ESET's MQTT push channel holds 6-hour sessions by design). Channels below `min_score_ratio` are dropped. Only connections the internal host opens count
(inbound attempts are the inbound detectors').

**Why these defaults** (first principles, then checked on every capture in `../shared/testdata`):

- 64 bytes back is less than one minimal Ethernet frame: a bare RST or ICMP error (Argus counts
  headers), never an answer with content. Zeek counts payload only, so a failed connection has 0.
- A client whose server is down backs off to minutes between attempts; a bot's loop retries every
  few seconds. 30 failed attempts an hour (one every 2 minutes) is the midpoint between them, and 100
  failed attempts the midpoint between an outage (a handful) and a storm (thousands).
- 6 hours (a quarter of a day, as `cnc_beacon`'s `dur_ideal_secs`) of activity is persistent whatever
  the capture's length; a short capture earns at most half of persistence from its coverage.
- One hour is RITA's long-connection threshold. A long session alone is how many devices hold their
  cloud push channel (IoT hubs, voice assistants), so it earns at most `long_alone_ratio` (low); failed
  re-dials of the same peer are what a bot does when its session drops or its C&C is down: 10 such
  failures bring the evidence to half.
- 3,600 connections an hour (one a second) is RITA's strobe rate (86,400 a day); a strobe alone is at
  most medium.

**Habits.** A channel to a peer the host kept in the baseline (recurring in 3 or more baseline
windows), or that `fleet_channel_min_hosts_count` (2) other hosts kept, is habitual: held low with the
baseline occurrence named (a stale app retrying its dead server every 30 s did so yesterday too). So
is a channel to a new address of a storage or sync service's network (`channel_network_orgs`) where
the host, or 2 other hosts, kept one. Not on a self-learned baseline, which keeps no channels.

**Explanation**: the peer with country and AS, the channel (port/protocol), connections, failed share,
active span and hours of the capture, median gap, the longest connection, and the discounts;
`evidence.details` has every term.

**Blind spots**: a C&C that answers every connection and is neither long nor busy (that is a
beacon, or invisible in flows); storms spread over many addresses (fast flux); captures without
durations lose the long-connection evidence; with a self-learned baseline a C&C shared by most hosts
is not discounted, but neither is it recognised as shared.

**Tuning**: lower `storm_half_failed_per_hour` to weigh slower re-dial loops; raise
`long_alone_ratio` when long sessions to the Internet are unusual on your network.
"#;

impl Detector for CncChannel {
    type Config = CncChannelConfig;
    fn name(&self) -> &'static str {
        "cnc_channel"
    }
    fn description(&self) -> &'static str {
        "persistent irregular C&C channels: reconnect storms, long connections, strobes"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn run(&self, c: &CncChannelConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let acc = accumulate(ctx, c);
        let mut out: Vec<Finding> = acc
            .channels
            .iter()
            .filter_map(|(key, ch)| score_channel(ctx, c, &acc, *key, ch))
            .filter(|f| f.score >= c.min_score_ratio)
            .collect();
        hold_habits(ctx, c, &mut out);
        out.sort_by(crate::findings::ranked);
        Ok(out)
    }
}

/// (internal host, external peer, protocol index, destination port).
type Key = (u128, u128, u8, u16);

/// A channel the host kept in the baseline, or that `fleet_channel_min_hosts_count` other hosts
/// kept, is habitual: held low with the baseline occurrence named (a stale app retrying its dead
/// server every 30 s did so yesterday too). Not on a self-learned baseline, which keeps no channels.
fn hold_habits(ctx: &DetectCtx, c: &CncChannelConfig, out: &mut [Finding]) {
    let fleet = ChannelHabits::new(
        ctx,
        c.fleet_channel_min_hosts_count,
        &c.channel_network_orgs,
    );
    for f in out.iter_mut() {
        let (Some(host), Some(peer)) = (
            f.hosts.first().and_then(|h| ip::parse(h)),
            f.peers.first().and_then(|p| ip::parse(p)),
        ) else {
            continue;
        };
        super::cnc_beacon::hold_habitual(ctx, host, peer, f);
        super::cnc_beacon::hold_fleet_channel(ctx, &fleet, (host, peer), f);
    }
}

/// What one channel did (first pass: counts; second pass, for candidates: times and rows).
#[derive(Debug, Clone, Default)]
struct Channel {
    flows: u64,
    failed: u64,
    longest_secs: f64,
    /// Summed length of its sessions of at least `held_min_session_secs`.
    held_secs: f64,
    ts: Vec<i64>,
    rows: Vec<u32>,
}

impl Channel {
    /// How long the channel was held: its longest connection, or its sessions' sum (at most
    /// `span_secs`, the capture's span) when larger.
    fn held(&self, span_secs: f64) -> f64 {
        self.longest_secs.max(self.held_secs.min(span_secs))
    }
}

#[derive(Default)]
struct Acc {
    channels: AHashMap<Key, Channel>,
    /// Failed connections per (host, peer) over its channels that are not infrastructure.
    peer_failed: AHashMap<(u128, u128), u64>,
    first: i64,
    span_secs: f64,
}

/// The host and external peer of a flow the internal host opened.
fn channel_of(ctx: &DetectCtx, i: usize) -> Option<Key> {
    let f = ctx.flows;
    let v = f.host_view(i, ctx.nets)?;
    (v.originator && !ctx.nets.contains(v.peer))
        .then(|| (v.host, v.peer, f.proto[i].index() as u8, f.dst_port[i]))
}

fn proto_of(key: &Key) -> Proto {
    Proto::from_index(key.2 as usize)
}

/// Two passes: counts per channel, then times and rows of the channels that meet a floor.
fn accumulate(ctx: &DetectCtx, c: &CncChannelConfig) -> Acc {
    let f = ctx.flows;
    let g = ctx.globals();
    let mut acc = Acc {
        first: g.ts_range.map_or(0, |r| r.0),
        span_secs: g.span_secs(),
        ..Default::default()
    };
    for i in 0..f.len() {
        let Some(key) = channel_of(ctx, i) else {
            continue;
        };
        let ch = acc.channels.entry(key).or_default();
        ch.flows += 1;
        ch.failed += u64::from(f.down[i] <= c.failed_max_down_bytes);
        let secs = f.duration_secs(i).unwrap_or(0.0);
        ch.longest_secs = ch.longest_secs.max(secs);
        if secs >= c.held_min_session_secs {
            ch.held_secs += secs;
        }
    }
    for (key, ch) in acc.channels.iter().filter(|(_, ch)| ch.failed > 0) {
        if infrastructure(key.1, proto_of(key), key.3, ctx).is_none() {
            *acc.peer_failed.entry((key.0, key.1)).or_default() += ch.failed;
        }
    }
    acc.channels.retain(|_, ch| {
        ch.failed >= c.storm_min_failed_count
            || ch.held(f64::INFINITY) >= c.long_min_secs
            || ch.flows >= c.strobe_min_connections_count
    });
    for i in 0..f.len() {
        if let Some(ch) = channel_of(ctx, i).and_then(|k| acc.channels.get_mut(&k)) {
            ch.ts.push(f.ts[i]);
            ch.rows.push(i as u32);
        }
    }
    acc
}

/// The terms of one channel's score.
#[derive(Debug, Clone, Default)]
struct Terms {
    storm: f64,
    long: f64,
    strobe: f64,
    raw: f64,
    active_hours: u64,
    capture_hours: u64,
    span_secs: f64,
    median_gap_secs: f64,
    reconnect_failed: u64,
    /// How long the channel was held ([`Channel::held`] over the capture's span).
    held_secs: f64,
    held_min_secs: f64,
}

fn terms(c: &CncChannelConfig, acc: &Acc, key: Key, ch: &Channel, ts: &[i64]) -> Terms {
    let span_secs = match (ts.first(), ts.last()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e6,
        _ => 0.0,
    };
    let active_hours = cm::active_hours(ts, acc.first);
    let capture_hours = cm::capture_hours(acc.span_secs);
    let persistence = cm::persistence(
        active_hours,
        capture_hours,
        span_secs,
        c.persistence_ideal_secs,
    );
    // a storm is of connections: re-dials over TCP; unanswered UDP or ICMP at a rate is a flood
    // (`dos`), not a reconnect loop
    let tcp = key.2 == crate::schema::Proto::Tcp.index() as u8;
    // ... and re-dials wait for each attempt to fail: sub-second attempts are a flood too
    let median_gap_secs = cm::median_gap_secs(ts);
    let redials = median_gap_secs >= c.storm_min_median_gap_secs;
    let storm = if tcp && redials && ch.failed >= c.storm_min_failed_count {
        let halves = (c.storm_half_failed_count, c.storm_half_failed_per_hour);
        cm::storm_strength(ch.failed, ch.flows, active_hours, halves, persistence)
    } else {
        0.0
    };
    let reconnect_failed = acc.peer_failed.get(&(key.0, key.1)).copied().unwrap_or(0);
    let held = ch.held(acc.span_secs);
    let long = if held >= c.long_min_secs {
        let counted = if reconnect_failed >= c.reconnect_min_failed_count {
            reconnect_failed as f64
        } else {
            0.0
        };
        let reconnect = super::behaviour::saturate(counted, c.reconnect_half_count);
        let capture = acc.span_secs.max(held);
        cm::long_strength(
            held,
            capture,
            c.long_ideal_secs,
            c.long_alone_ratio,
            reconnect,
        )
    } else {
        0.0
    };
    let strobe = if ch.flows >= c.strobe_min_connections_count {
        cm::strobe_strength(
            ch.flows,
            active_hours,
            c.strobe_half_per_hour,
            c.strobe_weight_ratio,
            persistence,
        )
    } else {
        0.0
    };
    Terms {
        storm,
        long,
        strobe,
        raw: cm::combine(&[storm, long, strobe]),
        active_hours,
        capture_hours,
        span_secs,
        median_gap_secs,
        reconnect_failed,
        held_secs: held,
        held_min_secs: c.held_min_session_secs,
    }
}

/// Why a channel is scored down: infrastructure, a destination most baseline hosts use, a trusted
/// vendor's network.
struct Discounts {
    infrastructure: Option<&'static str>,
    prevalent_hosts: Option<(u64, u64)>,
    trusted_org: Option<String>,
}

fn discounts(ctx: &DetectCtx, c: &CncChannelConfig, key: Key) -> Discounts {
    let b = ctx.baseline;
    let prevalent_hosts = if b.robust() {
        None
    } else {
        let total = b.hosts.len() as u64;
        b.external
            .destinations
            .get(&ip::format(key.1))
            .map(|p| (p.hosts, total))
            .filter(|(h, t)| {
                prevalent(
                    *h,
                    *t,
                    c.prevalent_min_share_ratio,
                    c.prevalent_min_hosts_count,
                )
            })
    };
    let trusted_org = ctx
        .geo
        .org_u128(key.1)
        .map(|o| o.to_string())
        .filter(|o| is_trusted_org(o, &c.trusted_orgs));
    Discounts {
        infrastructure: infrastructure(key.1, proto_of(&key), key.3, ctx),
        prevalent_hosts,
        trusted_org,
    }
}

fn score_channel(
    ctx: &DetectCtx,
    c: &CncChannelConfig,
    acc: &Acc,
    key: Key,
    ch: &Channel,
) -> Option<Finding> {
    let mut ts = ch.ts.clone();
    ts.sort_unstable();
    let t = terms(c, acc, key, ch, &ts);
    if t.raw < c.min_score_ratio {
        return None;
    }
    let mut d = discounts(ctx, c, key);
    // vendors' agents hold long push sessions; they do not storm or strobe a telnet port
    if t.long < t.storm.max(t.strobe) {
        d.trusted_org = None;
    }
    let mut score = t.raw;
    if d.infrastructure.is_some() {
        score *= 1.0 - c.infrastructure_discount_ratio;
    }
    if d.prevalent_hosts.is_some() {
        score *= 1.0 - c.prevalence_discount_ratio;
    }
    if d.trusted_org.is_some() {
        score *= 1.0 - c.trusted_org_discount_ratio;
    }
    Some(finding(ctx, c, acc, key, ch, &t, &d, score, &ts))
}

/// `443/tcp`.
fn port_text(key: &Key) -> String {
    format!("{}/{}", key.3, proto_of(key).as_str())
}

fn explanation(
    ctx: &DetectCtx,
    acc: &Acc,
    key: Key,
    ch: &Channel,
    t: &Terms,
    d: &Discounts,
) -> String {
    let peer = format!(
        "{}:{}{}",
        ip::format(key.1),
        port_text(&key),
        geo_suffix(ctx.geo, key.1)
    );
    let mut parts = Vec::new();
    if t.long > 0.0 {
        let held = t.held_secs;
        let sessions = if held > ch.longest_secs {
            let min = duration_text(t.held_min_secs);
            format!(
                "held {} in sessions of {min} or more, ",
                duration_text(held)
            )
        } else {
            String::new()
        };
        parts.push(format!(
            "{sessions}longest connection {} ({:.0} % of the capture held), {} failed connections to the peer",
            duration_text(ch.longest_secs),
            100.0 * (held / acc.span_secs.max(held)).min(1.0),
            t.reconnect_failed
        ));
    }
    if ch.flows > 1 {
        parts.push(format!(
            "{} connections, {:.0} % failed or unanswered, over {} ({} of {} hours of the capture), median gap {:.1} s",
            ch.flows,
            100.0 * ch.failed as f64 / ch.flows.max(1) as f64,
            duration_text(t.span_secs),
            t.active_hours,
            t.capture_hours,
            t.median_gap_secs
        ));
    }
    if let Some(label) = d.infrastructure {
        parts.push(format!(
            "{label}: well-known periodic infrastructure, score discounted"
        ));
    }
    if let Some((h, n)) = d.prevalent_hosts {
        parts.push(format!(
            "well-known destination in the baseline ({h} of {n} hosts): score discounted"
        ));
    }
    if let Some(org) = &d.trusted_org {
        parts.push(format!(
            "{org} is a trusted vendor (its agents hold push channels): score discounted"
        ));
    }
    format!(
        "{} keeps a {} channel to {peer}: {}",
        ip::format(key.0),
        kind_text(t),
        parts.join("; ")
    )
}

/// The strongest evidence, in words.
fn kind_text(t: &Terms) -> &'static str {
    if t.storm >= t.long && t.storm >= t.strobe {
        "reconnect-storm"
    } else if t.long >= t.strobe {
        "long-connection"
    } else {
        "strobe"
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    ctx: &DetectCtx,
    c: &CncChannelConfig,
    acc: &Acc,
    key: Key,
    ch: &Channel,
    t: &Terms,
    d: &Discounts,
    score: f64,
    ts: &[i64],
) -> Finding {
    let details = json!({
        "peer": ip::format(key.1), "port": port_text(&key), "flows": ch.flows, "failed": ch.failed,
        "failed_share": ch.failed as f64 / ch.flows.max(1) as f64, "span_secs": t.span_secs,
        "active_hours": t.active_hours, "capture_hours": t.capture_hours,
        "median_gap_secs": t.median_gap_secs, "longest_secs": ch.longest_secs,
        "held_secs": t.held_secs,
        "peer_failed": t.reconnect_failed, "storm_score": t.storm, "long_score": t.long,
        "strobe_score": t.strobe, "raw_score": t.raw, "evidence": kind_text(t),
        "infrastructure": d.infrastructure, "prevalent_hosts": d.prevalent_hosts.map(|p| p.0), "trusted_org": d.trusted_org,
    });
    let mut rows = ch.rows.clone();
    rows.sort_unstable();
    Finding {
        kind: "cnc_channel".into(),
        detector: "cnc_channel".into(),
        score: score.clamp(0.0, 1.0),
        hosts: vec![ip::format(key.0)],
        peers: vec![ip::format(key.1)],
        first_seen: ts.first().map(|t| format_ts(*t)),
        last_seen: ts.last().map(|t| format_ts(*t)),
        flows: rows.len() as u64,
        flow_rows: rows,
        evidence: Evidence {
            metric: "C&C channel score (reconnect storm, long connection, strobe)".into(),
            observed: score,
            baseline: Some(t.raw),
            threshold: Some(c.min_score_ratio),
            explanation: explanation(ctx, acc, key, ch, t, d),
            details: details.as_object().cloned().unwrap_or_default(),
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{Baseline, HostProfile, Prevalence};
    use crate::config::Config;
    use crate::detect::flows::Flows;
    use crate::net::InternalNets;
    use flowhound_geo::GeoStack;

    /// A day of failed dials every 20 s from 10.0.0.5 to each `(peer, proto, port)`.
    fn storms(peers: &[(&str, Proto, u16)]) -> Flows {
        let host = ip::parse("10.0.0.5").unwrap();
        let mut rows = Vec::new();
        for (peer, proto, port) in peers {
            let peer = ip::parse(peer).unwrap();
            for i in 0..4320i64 {
                rows.push((i * 20_000_000, host, peer, *proto, *port, 60, 0, 0.0, 1));
            }
        }
        Flows::from_rows(&rows)
    }

    fn run_on(flows: &Flows, baseline: &Baseline) -> Vec<Finding> {
        let (nets, config, geo) = (InternalNets::default(), Config::default(), GeoStack::new());
        let ctx = DetectCtx::new(&[], flows, baseline, &geo, &nets, &config);
        CncChannel.run(&CncChannelConfig::default(), &ctx).unwrap()
    }

    #[test]
    fn infrastructure_and_prevalent_peers_are_scored_down_and_say_so() {
        let flows = storms(&[
            ("203.0.113.9", Proto::Tcp, 6667),
            ("193.136.1.1", Proto::Tcp, 53),
            ("198.51.100.7", Proto::Tcp, 443),
            ("192.0.2.99", Proto::Udp, 123),
        ]);
        let mut baseline = Baseline::default();
        // 193.136.1.1 is the network's resolver (a baseline server on 53): infrastructure
        baseline.servers.push(crate::baseline::Server {
            ip: "193.136.1.1".into(),
            proto: "tcp".into(),
            port: Some(53),
            ..Default::default()
        });
        for h in 1..=8 {
            baseline
                .hosts
                .insert(format!("10.0.0.{h}"), HostProfile::default());
        }
        let known = Prevalence {
            hosts: 6,
            ..Default::default()
        };
        baseline
            .external
            .destinations
            .insert("198.51.100.7".into(), known);
        let found = run_on(&flows, &baseline);
        // unanswered UDP at a rate is a flood (dos), never a reconnect storm
        assert!(
            found.iter().all(|f| f.peers != ["192.0.2.99"]),
            "{found:#?}"
        );
        let by_peer = |p: &str| found.iter().find(|f| f.peers == [p]).unwrap();
        let (cnc, ntp, known) = (
            by_peer("203.0.113.9"),
            by_peer("193.136.1.1"),
            by_peer("198.51.100.7"),
        );
        assert!(cnc.score > 0.9, "{cnc:#?}");
        assert!((ntp.score - cnc.score * 0.25).abs() < 1e-9);
        assert!(ntp
            .evidence
            .explanation
            .contains("DNS to the network's resolver"));
        assert!((known.score - cnc.score * 0.5).abs() < 1e-9);
        assert!(known
            .evidence
            .explanation
            .contains("well-known destination in the baseline (6 of 8 hosts)"));
        assert_eq!(cnc.evidence.details["failed_share"], json!(1.0));
        assert_eq!(cnc.evidence.details["median_gap_secs"], json!(20.0));
        // a self-learned baseline is the capture itself: no prevalence discount
        baseline.source.self_learned = true;
        let again = run_on(&flows, &baseline);
        let known = again.iter().find(|f| f.peers == ["198.51.100.7"]).unwrap();
        assert_eq!(known.score, cnc.score);
    }

    /// 8 hours of back-to-back sessions of `session_secs` from 10.0.0.5 to 203.0.113.9:81/tcp, and
    /// 4 failed re-dials.
    fn sessions(session_secs: i64) -> Flows {
        let (host, peer) = (
            ip::parse("10.0.0.5").unwrap(),
            ip::parse("203.0.113.9").unwrap(),
        );
        let mut rows = Vec::new();
        for k in 0..8 * 3600 / session_secs {
            let ts = k * session_secs * 1_000_000;
            rows.push((
                ts,
                host,
                peer,
                Proto::Tcp,
                81,
                500,
                480,
                session_secs as f64 - 5.0,
                8,
            ));
        }
        for k in 0..4i64 {
            rows.push((
                k * 7_000_000_000 + 1,
                host,
                peer,
                Proto::Tcp,
                81,
                0,
                0,
                3.0,
                3,
            ));
        }
        Flows::from_rows(&rows)
    }

    #[test]
    fn successive_sessions_hold_a_channel_like_one_long_connection() {
        // 40-minute sessions re-opened for 8 hours: held all the capture, with re-dials: medium
        let found = run_on(&sessions(2400), &Baseline::default());
        assert_eq!(found.len(), 1);
        let f = &found[0];
        let medium = crate::findings::Severity::Medium;
        assert_eq!(
            crate::findings::severity(f.score),
            medium,
            "{}",
            f.evidence.explanation
        );
        assert!(
            f.evidence
                .explanation
                .contains("in sessions of 15 min or more"),
            "{}",
            f.evidence.explanation
        );
        // 10-minute sessions are not held (a client's ordinary connections): nothing
        assert!(run_on(&sessions(600), &Baseline::default()).is_empty());
    }

    #[test]
    fn answered_connections_are_no_storm() {
        let mut flows = storms(&[("203.0.113.9", Proto::Tcp, 443)]);
        flows.down.iter_mut().for_each(|d| *d = 5000);
        assert!(run_on(&flows, &Baseline::default()).is_empty());
    }

    #[test]
    fn kind_text_table() {
        let t = |storm, long, strobe| Terms {
            storm,
            long,
            strobe,
            ..Default::default()
        };
        assert_eq!(kind_text(&t(0.9, 0.1, 0.0)), "reconnect-storm");
        assert_eq!(kind_text(&t(0.1, 0.7, 0.2)), "long-connection");
        assert_eq!(kind_text(&t(0.0, 0.0, 0.3)), "strobe");
    }

    #[test]
    fn settings_cover_the_config() {
        let v = toml::Value::try_from(CncChannelConfig::default()).unwrap();
        let keys: Vec<&str> = v.as_table().unwrap().keys().map(|k| k.as_str()).collect();
        let mut documented: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
        documented.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, documented);
    }
}
