//! `exfiltration`: internal hosts uploading far more than usual to external destinations, weighted
//! by how new the destinations are, the night hours and the up/down ratio.

use super::behaviour::{clock, peers_text, Span};
use super::habit_match::{storage_orgs, Habit, HabitBytes, UploadHabits};
use super::{DetectCtx, Detector};
use crate::baseline::{hour_of, window_of, Baseline};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{score_from_ratio, Evidence, Finding};
use crate::ip;
use crate::output::table::human_bytes;
use ahash::AHashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The detector.
pub struct Exfiltration;

/// `[detectors.exfiltration]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExfiltrationConfig {
    /// Smallest weighted external upload of one window that can be flagged.
    pub min_window_upload_bytes: u64,
    /// Multiple of the host's own p99 window upload a window must exceed.
    pub k_own_p99: f64,
    /// Multiple of the population p99 window upload (hosts without enough history).
    pub k_population_p99: f64,
    /// Active baseline windows a host needs before its own profile is used.
    pub min_history_windows_count: u64,
    /// Upload to one never-seen destination network (its /24 or /48) over the whole test that is
    /// flagged on its own.
    pub min_total_new_upload_bytes: u64,
    /// Destinations contacted by at most this many hosts in the baseline are rare.
    pub rare_destination_max_hosts_count: u64,
    /// Weight of bytes sent to a rare destination (new: 1).
    pub rare_destination_weight: f64,
    /// Weight of bytes sent to a well-known destination.
    pub known_destination_weight: f64,
    /// First night hour (UTC, inclusive).
    pub night_start_hour: u64,
    /// End of the night (UTC, exclusive).
    pub night_end_hour: u64,
    /// Upload/download ratio that counts as one-way.
    pub min_up_down_ratio: f64,
    /// Bytes to one of the host's baseline upload destinations, within this multiple of its largest
    /// baseline window to it, are habitual and do not count (0: off).
    pub habit_upload_ratio: f64,
    /// Other hosts keeping a destination as a baseline upload destination that make it the fleet's
    /// (a sync or backup service): bytes to it within `habit_upload_ratio` of their largest baseline
    /// window there are habitual.
    pub fleet_upload_min_hosts_count: u64,
    /// AS organisations (case-insensitive substrings) of cloud storage and sync services, whose
    /// addresses rotate: a new address of such a network the host (or the fleet) uploads to in the
    /// baseline falls under that habit (empty: habits match by address only).
    pub habit_network_orgs: Vec<String>,
    /// A flow whose answer carries at least this share of what the host sent is a two-way exchange
    /// (a video call, an interactive session).
    pub two_way_min_down_ratio: f64,
    /// Weight of the bytes of a two-way exchange (data theft is one-way).
    pub two_way_weight: f64,
    /// Share of the upload that must go to new or rare destinations: below it, everything went
    /// where the network already sends data, and the finding is held low.
    pub min_unfamiliar_share_ratio: f64,
}

impl Default for ExfiltrationConfig {
    fn default() -> Self {
        ExfiltrationConfig {
            min_window_upload_bytes: 20_000_000,
            k_own_p99: 3.0,
            k_population_p99: 10.0,
            min_history_windows_count: 6,
            min_total_new_upload_bytes: 100_000_000,
            rare_destination_max_hosts_count: 1,
            rare_destination_weight: 0.6,
            known_destination_weight: 0.2,
            night_start_hour: 0,
            night_end_hour: 6,
            min_up_down_ratio: 5.0,
            habit_upload_ratio: 10.0,
            fleet_upload_min_hosts_count: 2,
            habit_network_orgs: storage_orgs(),
            two_way_min_down_ratio: 0.5,
            two_way_weight: 0.2,
            min_unfamiliar_share_ratio: 0.1,
        }
    }
}

static SETTINGS: [Setting; 17] = [
    Setting {
        key: "min_window_upload_bytes",
        doc: "smallest weighted external upload of one window that can be flagged",
        range: Range::Int(1_000, 1_000_000_000_000_000),
    },
    Setting {
        key: "k_own_p99",
        doc: "a window must upload more than k x the host's own p99 window upload",
        range: Range::Float(1.0, 1000.0),
    },
    Setting {
        key: "k_population_p99",
        doc: "hosts without history: k x the population p99 window upload",
        range: Range::Float(1.0, 1000.0),
    },
    Setting {
        key: "min_history_windows_count",
        doc: "baseline windows a host needs before its own profile is used",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "min_total_new_upload_bytes",
        doc: "upload to one never-seen destination network (/24 or /48) over the whole test flagged on its own",
        range: Range::Int(1_000, 1_000_000_000_000_000),
    },
    Setting {
        key: "rare_destination_max_hosts_count",
        doc: "destinations seen by at most this many baseline hosts are rare",
        range: Range::Int(0, 1_000_000),
    },
    Setting {
        key: "rare_destination_weight",
        doc: "weight of bytes to rare destinations (new ones weigh 1)",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "known_destination_weight",
        doc: "weight of bytes to well-known destinations",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "night_start_hour",
        doc: "first night hour, UTC",
        range: Range::Int(0, 23),
    },
    Setting {
        key: "night_end_hour",
        doc: "end of the night (exclusive), UTC",
        range: Range::Int(0, 24),
    },
    Setting {
        key: "min_up_down_ratio",
        doc: "upload/download ratio counted as one-way traffic",
        range: Range::Float(1.0, 1_000_000.0),
    },
    Setting {
        key: "habit_upload_ratio",
        doc: "bytes to one of the host's baseline upload destinations within this multiple of its largest baseline window to it are habitual and do not count (0 disables)",
        range: Range::Float(0.0, 1e6),
    },
    Setting {
        key: "fleet_upload_min_hosts_count",
        doc: "a destination that at least this many other hosts upload to in the baseline is the fleet's: bytes to it within habit_upload_ratio of their largest baseline window there are habitual",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "habit_network_orgs",
        doc: "AS organisations (case-insensitive substrings) of cloud storage and sync services, whose addresses rotate: a new address of such a network the host or the fleet uploads to in the baseline falls under that habit",
        range: Range::Strings,
    },
    Setting {
        key: "two_way_min_down_ratio",
        doc: "a flow whose answer carries at least this share of the bytes sent is a two-way exchange (a call, a session)",
        range: Range::Float(0.0, 1e6),
    },
    Setting {
        key: "two_way_weight",
        doc: "weight of the bytes sent in a two-way exchange (data theft is one-way)",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "min_unfamiliar_share_ratio",
        doc: "share of the upload that must go to new or rare destinations; below it everything went where the network already sends data: held low",
        range: Range::Float(0.0, 1.0),
    },
];

/// Novelty of a destination against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Novelty {
    /// Never seen in the baseline.
    New,
    /// Seen by few hosts.
    Rare,
    /// Seen by more hosts.
    Known,
}

/// The novelty of a destination seen by `hosts` baseline hosts (`None`: absent).
pub fn novelty(hosts: Option<u64>, rare_max_hosts: u64) -> Novelty {
    match hosts {
        None | Some(0) => Novelty::New,
        Some(h) if h <= rare_max_hosts => Novelty::Rare,
        Some(_) => Novelty::Known,
    }
}

/// True when `hour` is in the night `[start, end)`, wrapping over midnight when `start > end`.
pub fn is_night(hour: usize, start: u64, end: u64) -> bool {
    let h = hour as u64;
    if start <= end {
        (start..end).contains(&h)
    } else {
        h >= start || h < end
    }
}

/// The window threshold: `max(min_bytes, k * p99)` of the reference (own profile or population).
pub fn window_threshold(p99: f64, k: f64, min_bytes: u64) -> f64 {
    (k * p99.max(0.0)).max(min_bytes as f64)
}

/// The score: `score_from_ratio(ratio) + 0.1 new_share + 0.1 night_share + 0.1 [up/down >= min]`,
/// clamped to [0, 1]. `ratio` is the strongest excess (observed / threshold).
pub fn score(ratio: f64, new_share: f64, night_share: f64, one_way: bool) -> f64 {
    let s = score_from_ratio(ratio)
        + 0.1 * new_share.clamp(0.0, 1.0)
        + 0.1 * night_share.clamp(0.0, 1.0)
        + if one_way { 0.1 } else { 0.0 };
    s.clamp(0.0, 1.0)
}

/// Upload/download ratio, `up / max(down, 1)`.
pub fn up_down_ratio(up: u64, down: u64) -> f64 {
    up as f64 / down.max(1) as f64
}

#[derive(Default)]
struct HostAcc {
    windows: AHashMap<i64, f64>,
    /// Bytes to the host's (or the fleet's) baseline upload habits.
    habit: HabitBytes,
    span: Span,
    down: u64,
    new_bytes: f64,
    /// Bytes (two-way weighted) to never-seen destinations, per destination network
    /// ([`ip::network_of`]).
    new_by_network: AHashMap<u128, f64>,
    /// Bytes (two-way weighted) to destinations few baseline hosts used.
    rare_bytes: f64,
    night_bytes: u64,
}

impl Detector for Exfiltration {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = ExfiltrationConfig;
    fn name(&self) -> &'static str {
        "exfiltration"
    }
    fn description(&self) -> &'static str {
        "internal hosts uploading far beyond their own and the population's normal to new or rare external destinations"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn run(&self, cfg: &ExfiltrationConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let habits = UploadHabits::new(
            ctx,
            cfg.fleet_upload_min_hosts_count,
            &cfg.habit_network_orgs,
        );
        let accs = accumulate(cfg, ctx, &habits);
        let mut out: Vec<Finding> = accs
            .into_iter()
            .filter_map(|(h, a)| judge(cfg, ctx, h, a))
            .collect();
        out.sort_by(|a, b| a.hosts.cmp(&b.hosts));
        Ok(out)
    }
}

fn weight(cfg: &ExfiltrationConfig, n: Novelty) -> f64 {
    match n {
        Novelty::New => 1.0,
        Novelty::Rare => cfg.rare_destination_weight,
        Novelty::Known => cfg.known_destination_weight,
    }
}

/// The weight of a flow's bytes by its direction: `two_way_weight` when its answer carries at least
/// `two_way_min_down_ratio` of what was sent (a video call sends as much as it receives), else 1.
pub fn two_way(cfg: &ExfiltrationConfig, sent: u64, received: u64) -> f64 {
    if received as f64 >= cfg.two_way_min_down_ratio * sent as f64 {
        cfg.two_way_weight
    } else {
        1.0
    }
}

fn destination_novelty(cfg: &ExfiltrationConfig, ctx: &DetectCtx, peer: u128) -> Novelty {
    let hosts = ctx.baseline.external.destinations.get(&ip::format(peer));
    novelty(hosts.map(|p| p.hosts), cfg.rare_destination_max_hosts_count)
}

fn accumulate(
    cfg: &ExfiltrationConfig,
    ctx: &DetectCtx,
    habits: &UploadHabits,
) -> AHashMap<u128, HostAcc> {
    let f = ctx.flows;
    let mut novelty_cache: AHashMap<u128, Novelty> = AHashMap::new();
    // the baseline keys habits by address text: look each (host, peer) up once, not once per flow
    let mut upload_cache: AHashMap<(u128, u128), Option<Habit>> = AHashMap::new();
    let mut accs: AHashMap<u128, HostAcc> = AHashMap::new();
    for i in 0..f.len() {
        let Some(v) = f.host_view(i, ctx.nets) else {
            continue;
        };
        // an upload is what the host sends on connections it opens: what a server sends to the
        // clients that connect to it is served, not exfiltrated (server_abuse judges bulk pulls)
        if ctx.nets.contains(v.peer) || v.sent == 0 || !v.originator {
            continue;
        }
        // a mail exchanger delivering, a resolver recursing: forwarding the service it offers
        if ctx.relayed(v.host, f.dst_port[i]) {
            continue;
        }
        let habit = if cfg.habit_upload_ratio > 0.0 {
            upload_cache
                .entry((v.host, v.peer))
                .or_insert_with(|| habits.habit(v.host, v.peer))
                .as_ref()
        } else {
            None
        };
        // a new address of a network the host or the fleet uploads to is that habit's address
        let n = match habit {
            Some(h) if h.asn.is_some() => Novelty::Known,
            _ => *novelty_cache
                .entry(v.peer)
                .or_insert_with(|| destination_novelty(cfg, ctx, v.peer)),
        };
        let tw = two_way(cfg, v.sent, v.received);
        let w = weight(cfg, n) * tw;
        let a = accs.entry(v.host).or_default();
        let win = window_of(f.ts[i], ctx.baseline.window_secs);
        match habit {
            Some(h) => a.habit.add(win, h, w * v.sent as f64, v.sent),
            None => *a.windows.entry(win).or_default() += w * v.sent as f64,
        }
        a.span.add(i, f.ts[i], v.peer, v.sent);
        a.down += v.received;
        if is_night(hour_of(f.ts[i]), cfg.night_start_hour, cfg.night_end_hour) {
            a.night_bytes += v.sent;
        }
        if n == Novelty::New {
            a.new_bytes += tw * v.sent as f64;
            *a.new_by_network.entry(ip::network_of(v.peer)).or_default() += tw * v.sent as f64;
        } else if n == Novelty::Rare {
            a.rare_bytes += tw * v.sent as f64;
        }
    }
    accs
}

/// The never-seen destination network that took the most bytes, and those bytes (`None`, 0 when
/// there is none; ties go to the lower network).
pub fn top_new_network(by_network: &AHashMap<u128, f64>) -> (Option<u128>, f64) {
    by_network
        .iter()
        .max_by(|x, y| x.1.total_cmp(y.1).then(y.0.cmp(x.0)))
        .map_or((None, 0.0), |(n, b)| (Some(*n), *b))
}

/// The reference p99, its multiplier and its name for a host.
fn reference(cfg: &ExfiltrationConfig, b: &Baseline, host: u128) -> (f64, f64, &'static str) {
    match b
        .host(host)
        .filter(|p| !b.robust() && p.active_windows >= cfg.min_history_windows_count)
    {
        Some(p) => (p.per_window.up_bytes.p99, cfg.k_own_p99, "host"),
        None => (
            b.host_windows.up_bytes.p99,
            cfg.k_population_p99,
            "population",
        ),
    }
}

fn judge(cfg: &ExfiltrationConfig, ctx: &DetectCtx, host: u128, mut a: HostAcc) -> Option<Finding> {
    let (p99, k, reference) = reference(cfg, ctx.baseline, host);
    let thr = window_threshold(p99, k, cfg.min_window_upload_bytes);
    let habitual = std::mem::take(&mut a.habit).fold(cfg.habit_upload_ratio, &mut a.windows);
    let (peak_w, peak) = a
        .windows
        .iter()
        .max_by(|x, y| x.1.total_cmp(y.1).then(y.0.cmp(x.0)))
        .map(|(w, v)| (*w, *v))
        .unwrap_or((0, 0.0));
    let window_ratio = peak / thr;
    // data theft goes somewhere: the never-seen network that took the most, not the sum over a busy
    // client's hundreds of new sites
    let (top_network, top_new) = top_new_network(&a.new_by_network);
    let total_ratio = top_new / cfg.min_total_new_upload_bytes.max(1) as f64;
    if window_ratio <= 1.0 && total_ratio <= 1.0 {
        return None;
    }
    let up = a.span.bytes;
    let new_share = a.new_bytes / up.max(1) as f64;
    let night_share = a.night_bytes as f64 / up.max(1) as f64;
    let ud = up_down_ratio(up, a.down);
    let s = score(
        window_ratio.max(total_ratio),
        new_share,
        night_share,
        ud >= cfg.min_up_down_ratio,
    );
    let unfamiliar = (a.new_bytes + a.rare_bytes) / up.max(1) as f64;
    let familiar = unfamiliar < cfg.min_unfamiliar_share_ratio;
    let s = if familiar {
        s.min(super::volume::HABITUAL_SCORE)
    } else {
        s
    };
    let hot = a.windows.values().filter(|v| **v > thr).count();
    let mut explanation = format!(
        "uploaded {} to external destinations between {} and {} ({:.0} % at night, {:.0} % to never-seen destinations, up/down {:.0}): {}; \
         peak {} in one {} s window vs its normal p99 {} ({reference})",
        human_bytes(up as f64),
        clock(a.span.first, true),
        clock(a.span.last, true),
        night_share * 100.0,
        new_share * 100.0,
        ud,
        peers_text(ctx, &a.span, 3),
        human_bytes(peak),
        ctx.baseline.window_secs,
        human_bytes(p99),
    );
    if familiar {
        explanation.push_str(&format!(
            "; only {:.0} % went to new or rare destinations: the rest went where the network's hosts already sent data in the baseline, reported low",
            unfamiliar * 100.0
        ));
    }
    if let Some((_, h)) = &habitual.top {
        explanation.push_str(&format!(
            "; {} of it went to {} within their habit, not counted (as in the baseline: {} to {} in the window starting {})",
            human_bytes(habitual.bytes as f64),
            h.whose(),
            human_bytes(h.upload.peak_window_bytes as f64),
            h.upload.peer,
            h.upload.at
        ));
    }
    let mut details = serde_json::Map::new();
    details.insert("habitual_upload_bytes".into(), json!(habitual.bytes));
    details.insert("reference".into(), json!(reference));
    details.insert("total_upload_bytes".into(), json!(up));
    details.insert("total_download_bytes".into(), json!(a.down));
    details.insert("new_destination_upload_bytes".into(), json!(a.new_bytes));
    details.insert("new_destination_share".into(), json!(new_share));
    details.insert("top_new_network".into(), json!(top_network.map(ip::format)));
    details.insert("top_new_network_upload_bytes".into(), json!(top_new));
    details.insert("night_share".into(), json!(night_share));
    details.insert("up_down_ratio".into(), json!(ud));
    details.insert("windows_over_threshold".into(), json!(hot));
    details.insert(
        "peak_window_start".into(),
        json!(crate::findings::format_ts(
            peak_w * ctx.baseline.window_secs as i64 * 1_000_000
        )),
    );
    let evidence = Evidence {
        metric: format!(
            "weighted external upload per {} s window",
            ctx.baseline.window_secs
        ),
        observed: peak,
        baseline: Some(p99),
        threshold: Some(thr),
        explanation,
        details,
    };
    Some(a.span.finding(
        "exfiltration",
        "exfiltration",
        s,
        vec![ip::format(host)],
        evidence,
    ))
}

/// Documentation for `docs/detectors.md`.
pub const DOC: &str = r#"## `exfiltration`

**Looks at** every flow an internal host opens to an external address: the bytes it *sent*. What a
server sends to clients that connect to it is served, not exfiltrated (`server_abuse` judges bulk
pulls from the network's servers). Nor is what a store-and-forward server forwards on the port it
serves (`detect/infrastructure.rs`'s relays: a mail exchanger delivering on tcp/25, a resolver
recursing on 53, when the baseline knows it as that port's server or it answers at least 5 external
clients there in the test input). Each byte is weighted by the novelty of the destination in the baseline
(`external.destinations`): never seen = 1, seen by at most `rare_destination_max_hosts_count` hosts =
`rare_destination_weight`, otherwise `known_destination_weight`.

A flow whose answer carries at least `two_way_min_down_ratio` (half) of what the host sent is a
two-way exchange (a video call, an interactive session): its bytes weigh `two_way_weight` (0.2) more.
Data theft is one-way; a meeting sends as much as it receives. An upload of which less than
`min_unfamiliar_share_ratio` (10 %) went to new or rare destinations went where the network's hosts
already send data (its clouds, its SaaS): reported low, saying so.

**Formula.** Per host and baseline window (`baseline.window_secs`), `W = sum(weight * sent)`.
The reference is the host's own p99 window upload when it has `min_history_windows_count` baseline
windows, else the population p99 (all host windows of the baseline):
`T = max(min_window_upload_bytes, k * p99)` with `k = k_own_p99` or `k_population_p99`.
A host is flagged when `max(W) > T` or when its upload to one never-seen destination network (the
/24 or /48 of the destination) over the whole test exceeds `min_total_new_upload_bytes`: data theft
goes somewhere, while a busy client (100k flows a day) absent from the normal day uploads a few hundred
megabytes to hundreds of sites no baseline host visited (18-33 % of it to the largest network on the
dense corporate configurations; 94-100 % for the exfiltrations found by this rule). With `r` the larger of the two excess ratios:
`score = score_from_ratio(r) + 0.1 * new_share (bytes to never-seen destinations) + 0.1 * night_share + 0.1 * [up/down >= min_up_down_ratio]`.

**Evidence:** total upload and download, the time span, the top destinations with country and AS,
the peak window against the reference p99, the night and new-destination shares.

**Thresholds:** `min_window_upload_bytes` (20 MB), `k_own_p99` (3), `k_population_p99` (10),
`min_total_new_upload_bytes` (100 MB), night hours `night_start_hour`..`night_end_hour` (00-06 UTC).

**Blind spots.** Slow exfiltration below the window and total floors; uploads to a destination that
many hosts already use (cloud storage shared with normal traffic) weigh only `known_destination_weight`.
A host whose big upload is already in its baseline (a backup server) is not flagged: that is by design.
Bytes to one of the host's baseline upload destinations (`habits.hosts[...].uploads`, flows of 64 KiB
or more) count only in windows where they exceed `habit_upload_ratio` (10) times the largest window the
host sent there in the baseline; one night of normal is enough evidence. A destination that
`fleet_upload_min_hosts_count` (2) other hosts upload to in the baseline is the fleet's (a sync or
backup service): a host without that habit of its own is judged against the largest of theirs. In the
networks of `habit_network_orgs` (storage and sync services: Microsoft, Google, Dropbox, Apple, Box),
a destination absent from the habits whose AS number is that of the host's own upload destinations,
or of `fleet_upload_min_hosts_count` other hosts', falls under that habit too, and weighs as a known
destination: those services hand each connection another address of their network, so a one-day
baseline rarely holds tomorrow's address. Hosting and VPS networks (where anybody rents an address)
are not on the list, and an upload to a network nobody uploads to in the baseline stays new. The explanation says how
much was left out and names the baseline occurrence (and the network, when matched by it).

**Tuning.** Lower `min_total_new_upload_bytes` to catch smaller leaks; raise `known_destination_weight`
when attackers may use popular cloud services (and empty `habit_network_orgs`); move the night hours to the site's time zone (UTC).
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn novelty_table() {
        let cases = [
            (None, 1, Novelty::New),
            (Some(0), 1, Novelty::New),
            (Some(1), 1, Novelty::Rare),
            (Some(2), 1, Novelty::Known),
            (Some(1), 0, Novelty::Known),
        ];
        for (h, max, want) in cases {
            assert_eq!(novelty(h, max), want, "{h:?} {max}");
        }
    }

    #[test]
    fn two_way_table() {
        let c = ExfiltrationConfig::default();
        // (sent, received) -> weight
        let cases = [
            (1_000_000, 0, 1.0),
            (1_000_000, 400_000, 1.0),
            (1_000_000, 500_000, 0.2),
            (1_000_000, 3_000_000, 0.2),
            (0, 0, 0.2),
        ];
        for (sent, received, want) in cases {
            assert_eq!(two_way(&c, sent, received), want, "{sent} {received}");
        }
    }

    #[test]
    fn night_table() {
        let cases = [
            (0, 0, 6, true),
            (5, 0, 6, true),
            (6, 0, 6, false),
            (23, 22, 5, true),
            (3, 22, 5, true),
            (12, 22, 5, false),
            (0, 0, 0, false),
        ];
        for (h, s, e, want) in cases {
            assert_eq!(is_night(h, s, e), want, "{h} {s} {e}");
        }
    }

    #[test]
    fn threshold_and_ratio_table() {
        assert_eq!(window_threshold(1e6, 3.0, 20_000_000), 2e7);
        assert_eq!(window_threshold(1e8, 3.0, 20_000_000), 3e8);
        assert_eq!(window_threshold(f64::NAN, 3.0, 5), 5.0);
        assert_eq!(up_down_ratio(100, 0), 100.0);
        assert_eq!(up_down_ratio(100, 50), 2.0);
    }

    #[test]
    fn score_table() {
        // score_from_ratio(4) = 0.55 (see findings::score)
        let cases = [
            (4.0, 0.0, 0.0, false, 0.55),
            (4.0, 1.0, 1.0, true, 0.85),
            (4.0, 0.5, 0.0, false, 0.6),
            (1.0, 1.0, 1.0, true, 0.4),
            (1e9, 1.0, 1.0, true, 1.0),
        ];
        for (r, n, night, ow, want) in cases {
            assert!(
                (score(r, n, night, ow) - want).abs() < 1e-9,
                "{r} {n} {night} {ow}: {}",
                score(r, n, night, ow)
            );
        }
    }
}
