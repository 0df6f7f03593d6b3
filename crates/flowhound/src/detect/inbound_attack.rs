//! `inbound_attack`: many external sources scanning or brute-forcing one internal host. Per internal
//! target and window, the external sources whose flows are mostly failed or tiny probes, or that
//! repeat attempts on an authentication service, are counted; a window is an attack when that count
//! reaches an absolute floor and a multiple of the target's usual level of distinct peers. One
//! finding per target, naming its top sources.

use super::beacon_math::median;
use super::{DetectCtx, Detector};
use crate::baseline::window_of;
use crate::config::{Range, Setting};
use crate::error::{FlowError, Result};
use crate::findings::{format_ts, Evidence, Finding};
use crate::ip;
use crate::schema::Proto;
use ahash::{AHashMap, AHashSet};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// The detector.
pub struct InboundAttack;

/// `[detectors.inbound_attack]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InboundAttackConfig {
    /// Hostile external sources in one window never flagged below this (the absolute floor).
    pub min_sources_count: u64,
    /// Hostile sources must also reach this multiple of the target's usual distinct peers per window.
    pub usual_ratio: f64,
    /// A flow with nothing back, or at most this many bytes (up + down), is a probe.
    pub tiny_flow_bytes: u64,
    /// A source whose share of probes among its flows to the target reaches this is hostile.
    pub probe_share_ratio: f64,
    /// Attempts on one authentication service of the target in one window that make a brute force.
    pub brute_force_attempts_count: u64,
    /// Authentication services (`proto/port`).
    pub auth_services: Vec<String>,
    /// Attempts of one source on one live authentication service in one window that make an attack
    /// whatever the number of sources (a login cracker needs no crowd).
    pub heavy_brute_attempts_count: u64,
    /// The authentication services where a crowd of distinct sources attempting logins in one
    /// window is an attack whatever each source's rate (a distributed brute force), and where
    /// sources guessing for hours are one too ([`persistent`]).
    pub crowd_services: Vec<String>,
    /// Time a source must spend brute-forcing one crowd service (windows of at least
    /// `brute_force_attempts_count` attempts with data back, added up) to be a persistent guesser.
    pub persistent_secs: u64,
    /// Persistent guessers of one service in one window that make an attack.
    pub persistent_sources_count: u64,
}

/// The default authentication services: FTP, SSH, Telnet, SMTP submission (465, 587), POP3 (110, 995),
/// NetBIOS, IMAP (143, 993), SMB, MS-SQL, MySQL, RDP, PostgreSQL, VNC, Redis. Not SMTP delivery
/// (tcp/25): a mail exchanger's senders deliver many messages an hour without logging in.
pub const AUTH_SERVICES: [&str; 18] = [
    "tcp/21", "tcp/22", "tcp/23", "tcp/110", "tcp/139", "tcp/143", "tcp/445", "tcp/465", "tcp/587",
    "tcp/993", "tcp/995", "tcp/1433", "tcp/3306", "tcp/3389", "tcp/5432", "tcp/5900", "tcp/6379",
    "tcp/2323",
];

/// The default crowd services: the authentication services without mail access (POP3, IMAP,
/// submission), where a company's remote staff make a crowd of logins every morning.
pub const CROWD_SERVICES: [&str; 12] = [
    "tcp/21", "tcp/22", "tcp/23", "tcp/139", "tcp/445", "tcp/1433", "tcp/3306", "tcp/3389",
    "tcp/5432", "tcp/5900", "tcp/6379", "tcp/2323",
];

impl Default for InboundAttackConfig {
    fn default() -> Self {
        InboundAttackConfig {
            min_sources_count: 10,
            usual_ratio: 4.0,
            tiny_flow_bytes: 128,
            probe_share_ratio: 0.5,
            brute_force_attempts_count: 5,
            auth_services: AUTH_SERVICES.iter().map(|s| s.to_string()).collect(),
            heavy_brute_attempts_count: 100,
            crowd_services: CROWD_SERVICES.iter().map(|s| s.to_string()).collect(),
            persistent_secs: 4 * 3600,
            persistent_sources_count: 2,
        }
    }
}

static SETTINGS: [Setting; 10] = [
    Setting {
        key: "min_sources_count",
        doc: "hostile external sources of one target in one window never flagged below this",
        range: Range::Int(2, 1_000_000_000),
    },
    Setting {
        key: "usual_ratio",
        doc: "hostile sources must also reach this multiple of the target's usual distinct peers per window",
        range: Range::Float(1.0, 1000.0),
    },
    Setting {
        key: "tiny_flow_bytes",
        doc: "a flow with nothing back or at most this many bytes (up + down) is a probe",
        range: Range::Int(0, 1_000_000),
    },
    Setting {
        key: "probe_share_ratio",
        doc: "a source whose flows to the target are at least this share of probes is hostile",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "brute_force_attempts_count",
        doc: "attempts of one source on one authentication service of the target per window that make a brute force",
        range: Range::Int(2, 1_000_000),
    },
    Setting {
        key: "auth_services",
        doc: "authentication services, `proto/port` (e.g. tcp/22)",
        range: Range::Strings,
    },
    Setting {
        key: "heavy_brute_attempts_count",
        doc: "attempts of one source on one live authentication service of the target per window that make an attack whatever the number of sources",
        range: Range::Int(2, 1_000_000_000),
    },
    Setting {
        key: "crowd_services",
        doc: "authentication services (a subset of auth_services) where a crowd of sources attempting logins in one window is an attack whatever each one's rate, and so are sources guessing for hours",
        range: Range::Strings,
    },
    Setting {
        key: "persistent_secs",
        doc: "time one source must spend brute-forcing a crowd service (its windows of brute_force_attempts_count attempts, added up) to be a persistent guesser",
        range: Range::Int(60, 31_536_000),
    },
    Setting {
        key: "persistent_sources_count",
        doc: "persistent guessers of one service active in one window that make an attack",
        range: Range::Int(1, 1_000_000),
    },
];

/// The (protocol index, port) set of `proto/port` items of setting `key`.
fn service_set(key: &str, items: &[String]) -> Result<AHashSet<(u8, u16)>> {
    Ok(parse_services(key, items)?
        .into_iter()
        .map(|(p, port)| (p.index() as u8, port))
        .collect())
}

/// The login services (`auth_services`) and the attempts of one source in one window that make a
/// cracker on its own (`heavy_brute_attempts_count`), as configured: `server_abuse` judges one
/// external client's rate on a login service by the same bar.
pub fn login_services(ctx: &DetectCtx) -> Result<(AHashSet<(u8, u16)>, u64)> {
    let cfg = super::settings_of(&InboundAttack, ctx.config)?;
    Ok((
        service_set("auth_services", &cfg.auth_services)?,
        cfg.heavy_brute_attempts_count,
    ))
}

/// Parses `proto/port` items of setting `key` (of `[detectors.inbound_attack]`), naming it in errors.
pub fn parse_services(key: &str, items: &[String]) -> Result<Vec<(Proto, u16)>> {
    items
        .iter()
        .map(|s| {
            let bad = || {
                FlowError::Config(format!(
                    "detectors.inbound_attack.{key}: '{s}' is not proto/port; write e.g. tcp/22"
                ))
            };
            let (p, port) = s.split_once('/').ok_or_else(bad)?;
            let proto = Proto::parse(p.trim());
            if proto == Proto::Other && !p.trim().eq_ignore_ascii_case("other") {
                return Err(bad());
            }
            Ok((proto, port.trim().parse::<u16>().map_err(|_| bad())?))
        })
        .collect()
}

/// One source's flows to one target in one window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceWindow {
    /// Flows.
    pub flows: u64,
    /// Probes among them (nothing back, or tiny).
    pub probes: u64,
    /// Distinct (protocol, port) touched.
    pub ports: Vec<(u8, u16)>,
    /// Per authentication service touched: (service, attempts, attempts with data exchanged).
    pub auth: Vec<((u8, u16), u64, u64)>,
}

impl SourceWindow {
    /// Adds one flow.
    pub fn add(&mut self, service: (u8, u16), probe: bool, auth: bool) {
        self.flows += 1;
        self.probes += u64::from(probe);
        if !self.ports.contains(&service) {
            self.ports.push(service);
        }
        if auth {
            match self.auth.iter_mut().find(|a| a.0 == service) {
                Some(a) => {
                    a.1 += 1;
                    a.2 += u64::from(!probe);
                }
                None => self.auth.push((service, 1, u64::from(!probe))),
            }
        }
    }

    /// Most attempts on one authentication service, and whether that service answered with data
    /// at least `min` times (a brute force against a live login).
    pub fn brute(&self, min: u64) -> (u64, bool) {
        let top = self.auth.iter().map(|a| a.1).max().unwrap_or(0);
        let live = self.auth.iter().any(|a| a.1 >= min && a.2 >= min);
        (top, live)
    }

    /// Adds another window's flows of the same source.
    pub fn merge(&mut self, o: &SourceWindow) {
        self.flows += o.flows;
        self.probes += o.probes;
        for p in &o.ports {
            if !self.ports.contains(p) {
                self.ports.push(*p);
            }
        }
        for a in &o.auth {
            match self.auth.iter_mut().find(|x| x.0 == a.0) {
                Some(x) => (x.1, x.2) = (x.1 + a.1, x.2 + a.2),
                None => self.auth.push(*a),
            }
        }
    }

    /// Hostile: mostly probes, or a brute force on an authentication service.
    pub fn hostile(&self, probe_share: f64, brute_min: u64) -> bool {
        let share = self.probes as f64 / self.flows.max(1) as f64;
        (self.flows > 0 && share >= probe_share) || self.brute(brute_min).0 >= brute_min
    }
}

/// The sources of one target in one window, summed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetWindow {
    /// Hostile sources.
    pub hostile: u64,
    /// Other (ordinary client) sources.
    pub ordinary: u64,
    /// Attempts (flows) of the hostile sources.
    pub attempts: u64,
    /// Their probes.
    pub probes: u64,
    /// Their attempts on authentication services.
    pub auth_attempts: u64,
    /// Hostile sources brute-forcing a live authentication service.
    pub live_brute: u64,
    /// Hostile sources that touched only services the target serves nobody (scanners of its closed
    /// ports), when it serves something.
    pub scanners: u64,
    /// The most attempts one hostile source made on one live authentication service.
    pub heaviest: u64,
    /// The largest crowd of sources attempting logins on one crowd service ([`Crowd`]), 0 if none
    /// reached its threshold.
    pub crowd: Crowd,
    /// The persistent guessers of one service active in the window ([`Persistent`]), 0 sources if
    /// fewer than make an attack.
    pub persistent: Persistent,
}

/// Sources guessing logins on one service for hours, active in one window: each made at least
/// `brute_force_attempts_count` attempts with data back there in this window and in enough others
/// ([`persistent`]). A slow brute force keeps a handful of sources at a few dozen attempts an hour
/// for the whole campaign, under every per-window bar; the Internet's background guessers come in
/// bursts of an hour or two.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Persistent {
    /// The service, (protocol index, port).
    pub service: (u8, u16),
    /// Persistent guessers active in the window.
    pub sources: u64,
    /// Guessers that make an attack (`persistent_sources_count`).
    pub threshold: u64,
}

impl Persistent {
    /// The guessers over their threshold (0 when there are none).
    pub fn excess(&self) -> f64 {
        if self.sources == 0 || self.threshold == 0 {
            return 0.0;
        }
        self.sources as f64 / self.threshold as f64
    }
}

/// Whether a source that brute-forced one login in `windows` of the input's `n_windows` windows is
/// a persistent guesser: in at least `min_windows` of them, and in fewer than three quarters (a
/// source at it nearly all the time is the service's routine, a monitor's or a backup job's logins,
/// and sets its own level as a steady crowd does).
pub fn persistent(windows: usize, min_windows: usize, n_windows: usize) -> bool {
    windows >= min_windows.max(1) && windows * 4 < n_windows * 3
}

/// A crowd of distinct sources attempting logins on one service of a target in one window: a
/// distributed brute force spreads a handful of attempts per source per hour over dozens of
/// sources, each under every per-source bar.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Crowd {
    /// The service, (protocol index, port).
    pub service: (u8, u16),
    /// Distinct sources that attempted a login there in the window (and more than once in the
    /// input: a background scanner's single handshake is no attempt series).
    pub sources: u64,
    /// The service's usual number of such sources per window.
    pub usual: f64,
    /// Sources that make a crowd: `max(min_sources_count, usual_ratio * usual)`.
    pub threshold: f64,
}

impl Crowd {
    /// The crowd's size over its threshold (0 when there is none).
    pub fn excess(&self) -> f64 {
        if self.sources == 0 || self.threshold <= 0.0 {
            return 0.0;
        }
        self.sources as f64 / self.threshold
    }
}

/// Whether a hostile source's services in a window are all outside what the target serves its
/// ordinary clients: a scanner of closed ports, whatever the server's load.
pub fn scans_unserved(sw: &SourceWindow, served: &AHashSet<(u8, u16)>) -> bool {
    !served.is_empty() && sw.ports.iter().all(|p| !served.contains(p))
}

/// Sums the sources of one target window, each with whether it is hostile to the target.
pub fn summarise<'a>(
    sources: impl IntoIterator<Item = (&'a SourceWindow, bool)>,
    brute_min: u64,
) -> TargetWindow {
    let mut t = TargetWindow::default();
    for (s, hostile) in sources {
        if !hostile {
            t.ordinary += 1;
            continue;
        }
        t.hostile += 1;
        t.attempts += s.flows;
        t.probes += s.probes;
        t.auth_attempts += s.auth.iter().map(|a| a.1).sum::<u64>();
        let (top, live) = s.brute(brute_min);
        t.live_brute += u64::from(live);
        if live {
            t.heaviest = t.heaviest.max(top);
        }
    }
    t
}

/// The target's threshold of hostile sources per window: `max(min_sources, ratio * usual)`.
pub fn threshold(usual: f64, min_sources: u64, ratio: f64) -> f64 {
    (ratio * usual.max(0.0)).max(min_sources as f64)
}

/// The target's usual distinct peers per window: the baseline's distinct peers over its active
/// windows (a normal-period baseline only: a self-learned one holds the attack itself), and at
/// least the median ordinary (non-hostile) sources per window in the test input, so that a public
/// server the baseline does not hold is judged against its own clients.
pub fn usual_level(baseline_peers: Option<(u64, u64)>, ordinary: &mut [f64]) -> f64 {
    let from_baseline =
        baseline_peers.map_or(0.0, |(peers, windows)| peers as f64 / windows.max(1) as f64);
    from_baseline.max(median(ordinary))
}

/// `0.25 + 0.4 (1 - 1 / (1 + log2 r)) + 0.2 b + 0.15 a` for a ratio `r >= 1` to the threshold, the
/// live brute forces `b = n / (n + 3)` and the authentication share of the attempts `a`; in [0, 1].
pub fn attack_score(ratio: f64, live_brute: u64, auth_share: f64) -> f64 {
    let l = if ratio.is_finite() && ratio > 1.0 {
        ratio.log2()
    } else if ratio > 1.0 {
        1e9
    } else {
        0.0
    };
    let b = super::behaviour::saturate(live_brute as f64, 3.0);
    (0.25 + 0.4 * (1.0 - 1.0 / (1.0 + l)) + 0.2 * b + 0.15 * auth_share.clamp(0.0, 1.0))
        .clamp(0.0, 1.0)
}

type Key = (u128, i64);

struct Gathered {
    /// (target, window) -> source -> its flows.
    cells: AHashMap<Key, AHashMap<u128, SourceWindow>>,
    /// (target, source) pairs hostile over the whole input ([`hostile_sources`]).
    hostile: AHashSet<(u128, u128)>,
    /// Per target, the services it answered, then also those its ordinary (non-hostile) sources
    /// used ([`add_ordinary_ports`]).
    served: AHashMap<u128, AHashSet<(u8, u16)>>,
}

impl Detector for InboundAttack {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = InboundAttackConfig;
    fn name(&self) -> &'static str {
        "inbound_attack"
    }
    fn description(&self) -> &'static str {
        "many external sources scanning or brute-forcing one internal host: one finding per target with its top sources"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn validate(&self, cfg: &InboundAttackConfig) -> Result<()> {
        let auth = service_set("auth_services", &cfg.auth_services)?;
        let crowd = parse_services("crowd_services", &cfg.crowd_services)?;
        match crowd.iter().find(|(p, port)| !auth.contains(&(p.index() as u8, *port))) {
            Some((p, port)) => Err(FlowError::Config(format!(
                "detectors.inbound_attack.crowd_services: '{}/{port}' is not one of auth_services; add it there too, or remove it",
                p.as_str()
            ))),
            None => Ok(()),
        }
    }
    fn run(&self, cfg: &InboundAttackConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let auth = service_set("auth_services", &cfg.auth_services)?;
        let public = super::server_abuse::public_server_test(ctx)?;
        let mut g = gather(ctx, cfg, &auth, &public);
        let (share, brute) = (cfg.probe_share_ratio, cfg.brute_force_attempts_count);
        g.hostile = hostile_sources(&g, share, brute);
        add_ordinary_ports(&mut g);
        let crowd_set = service_set("crowd_services", &cfg.crowd_services)?;
        let n_windows = input_windows(ctx);
        let (crowds, joined) = crowds(&g, &crowd_set, n_windows, cfg);
        g.hostile.extend(joined);
        let guessers = persistence(&g, &crowd_set, n_windows, ctx, cfg);
        let mut per_target: AHashMap<u128, Vec<(i64, TargetWindow)>> = AHashMap::new();
        for ((t, w), srcs) in &g.cells {
            let is_hostile = |src: &u128| g.hostile.contains(&(*t, *src));
            let marked = srcs.iter().map(|(src, sw)| (sw, is_hostile(src)));
            let mut tw = summarise(marked, brute);
            let none = AHashSet::new();
            let served = g.served.get(t).unwrap_or(&none);
            tw.scanners = srcs
                .iter()
                .filter(|(src, sw)| is_hostile(src) && scans_unserved(sw, served))
                .count() as u64;
            tw.crowd = crowds.get(&(*t, *w)).copied().unwrap_or_default();
            tw.persistent = guessers.get(&(*t, *w)).copied().unwrap_or_default();
            per_target.entry(*t).or_default().push((*w, tw));
        }
        let mut out = Vec::new();
        for (target, windows) in per_target {
            if let Some(f) = judge(ctx, cfg, &g, target, windows) {
                out.push(f);
            }
        }
        out.sort_by(|a, b| a.hosts.cmp(&b.hosts));
        Ok(out)
    }
}

/// The (target, source) pairs where the source is hostile over the whole input: an attacker
/// spreading its attempts over windows (six an hour for five hours) is no ordinary client in any of
/// them.
fn hostile_sources(g: &Gathered, share: f64, brute: u64) -> AHashSet<(u128, u128)> {
    let mut whole: AHashMap<(u128, u128), SourceWindow> = AHashMap::new();
    for ((t, _), srcs) in &g.cells {
        for (src, sw) in srcs {
            whole.entry((*t, *src)).or_default().merge(sw);
        }
    }
    whole
        .into_iter()
        .filter(|(_, sw)| sw.hostile(share, brute))
        .map(|(k, _)| k)
        .collect()
}

/// The windows where one crowd service of `window_counts` (window, distinct attempting sources)
/// drew a crowd: at least `max(min_sources, ratio * usual)` sources, with `usual` the median per
/// window over every window of the input (`n_windows`, windows without any counted as zero), so
/// that the Internet's steady guessing sets the level and an attack of a few hours stands out.
pub fn crowd_windows(
    service: (u8, u16),
    window_counts: &[(i64, u64)],
    n_windows: usize,
    min_sources: u64,
    ratio: f64,
) -> Vec<(i64, Crowd)> {
    let counts: Vec<u64> = window_counts.iter().map(|w| w.1).collect();
    let usual = padded_median(&counts, n_windows);
    let threshold = threshold(usual, min_sources, ratio);
    window_counts
        .iter()
        .filter(|w| w.1 as f64 >= threshold)
        .map(|&(w, sources)| {
            let c = Crowd {
                service,
                sources,
                usual,
                threshold,
            };
            (w, c)
        })
        .collect()
}

/// Per (target, source, crowd service), the attempts with data back over the whole input.
fn attempt_totals(
    g: &Gathered,
    crowd: &AHashSet<(u8, u16)>,
) -> AHashMap<(u128, u128, (u8, u16)), u64> {
    let mut totals = AHashMap::new();
    for ((t, _), srcs) in &g.cells {
        for (src, sw) in srcs {
            for a in sw.auth.iter().filter(|a| crowd.contains(&a.0)) {
                *totals.entry((*t, *src, a.0)).or_default() += a.2;
            }
        }
    }
    totals
}

/// The crowd windows of every target (the largest crowd of a window, by excess) and the
/// (target, source) pairs that took part: hostile, though each stayed under every per-source bar.
fn crowds(
    g: &Gathered,
    crowd: &AHashSet<(u8, u16)>,
    n_windows: usize,
    cfg: &InboundAttackConfig,
) -> (AHashMap<Key, Crowd>, AHashSet<(u128, u128)>) {
    let totals = attempt_totals(g, crowd);
    type Attempters = AHashMap<i64, Vec<u128>>;
    let mut per_service: AHashMap<(u128, (u8, u16)), Attempters> = AHashMap::new();
    for ((t, w), srcs) in &g.cells {
        for (src, sw) in srcs {
            for a in &sw.auth {
                if a.2 > 0 && totals.get(&(*t, *src, a.0)).is_some_and(|n| *n >= 2) {
                    let cell = per_service.entry((*t, a.0)).or_default();
                    cell.entry(*w).or_default().push(*src);
                }
            }
        }
    }
    let (mut best, mut joined) = (AHashMap::new(), AHashSet::new());
    for ((t, service), windows) in &per_service {
        let counts: Vec<(i64, u64)> = windows.iter().map(|(w, s)| (*w, s.len() as u64)).collect();
        let (min, ratio) = (cfg.min_sources_count, cfg.usual_ratio);
        for (w, c) in crowd_windows(*service, &counts, n_windows, min, ratio) {
            joined.extend(windows[&w].iter().map(|src| (*t, *src)));
            let slot: &mut Crowd = best.entry((*t, w)).or_default();
            if c.excess() > slot.excess()
                || (c.excess() == slot.excess() && c.service < slot.service)
            {
                *slot = c;
            }
        }
    }
    (best, joined)
}

/// The windows of every target where at least `persistent_sources_count` persistent guessers of one
/// crowd service ([`persistent`]) brute-forced it (the most guessers of a window, by excess). The
/// guessers are hostile already: each made `brute_force_attempts_count` attempts in a window.
fn persistence(
    g: &Gathered,
    crowd: &AHashSet<(u8, u16)>,
    n_windows: usize,
    ctx: &DetectCtx,
    cfg: &InboundAttackConfig,
) -> AHashMap<Key, Persistent> {
    let brute = cfg.brute_force_attempts_count;
    let mut brute_windows: AHashMap<(u128, u128, (u8, u16)), Vec<i64>> = AHashMap::new();
    for ((t, w), srcs) in &g.cells {
        for (src, sw) in srcs {
            for a in sw
                .auth
                .iter()
                .filter(|a| crowd.contains(&a.0) && a.2 >= brute)
            {
                brute_windows.entry((*t, *src, a.0)).or_default().push(*w);
            }
        }
    }
    let min_windows = cfg
        .persistent_secs
        .div_ceil(ctx.baseline.window_secs.max(1)) as usize;
    let mut active: AHashMap<(u128, i64, (u8, u16)), u64> = AHashMap::new();
    for ((t, _, service), windows) in brute_windows {
        if persistent(windows.len(), min_windows, n_windows) {
            for w in windows {
                *active.entry((t, w, service)).or_default() += 1;
            }
        }
    }
    let mut best: AHashMap<Key, Persistent> = AHashMap::new();
    for ((t, w, service), sources) in active {
        let p = Persistent {
            service,
            sources,
            threshold: cfg.persistent_sources_count,
        };
        let slot = best.entry((t, w)).or_default();
        if p.excess() >= 1.0 && (p.sources, slot.service) > (slot.sources, p.service) {
            *slot = p;
        }
    }
    best
}

/// Adds to each target's services that it answered (`g.served` from [`gather`]) those its ordinary
/// (non-hostile) sources used: its open ports. A mail server's IMAP users poll all day
/// and, five logins a window, are hostile by the brute-force rule; their port is no closed port.
fn add_ordinary_ports(g: &mut Gathered) {
    let Gathered {
        cells,
        hostile,
        served,
    } = g;
    for ((t, _), srcs) in cells.iter() {
        for (src, sw) in srcs {
            if !hostile.contains(&(*t, *src)) {
                served
                    .entry(*t)
                    .or_default()
                    .extend(sw.ports.iter().copied());
            }
        }
    }
}

/// True for a TCP or UDP flow from an external source to an internal host or one of the network's
/// public servers (`public`). ICMP is left out: inbound ICMP is mostly errors answering the host's
/// own traffic (unreachable, time exceeded), or pings, neither a scan of its services nor a login
/// attempt.
fn inbound_service(ctx: &DetectCtx, i: usize, public: &dyn Fn(u128) -> bool) -> bool {
    let f = ctx.flows;
    matches!(f.proto[i], Proto::Tcp | Proto::Udp)
        && !ctx.nets.contains(f.src[i])
        && (ctx.nets.contains(f.dst[i]) || public(f.dst[i]))
}

/// Inbound flows (external source, internal destination) per (target, window, source), and per target
/// the services that answered (data back, more than a tiny probe).
fn gather(
    ctx: &DetectCtx,
    cfg: &InboundAttackConfig,
    auth: &AHashSet<(u8, u16)>,
    public: &dyn Fn(u128) -> bool,
) -> Gathered {
    let f = ctx.flows;
    let mut cells: AHashMap<Key, AHashMap<u128, SourceWindow>> = AHashMap::new();
    let mut answered: AHashMap<u128, AHashSet<(u8, u16)>> = AHashMap::new();
    for i in 0..f.len() {
        if !inbound_service(ctx, i, public) {
            continue;
        }
        let service = (f.proto[i].index() as u8, f.dst_port[i]);
        let probe = !super::public_servers::served(f.up[i], f.down[i], cfg.tiny_flow_bytes);
        if !probe {
            answered.entry(f.dst[i]).or_default().insert(service);
        }
        let key = (f.dst[i], window_of(f.ts[i], ctx.baseline.window_secs));
        cells
            .entry(key)
            .or_default()
            .entry(f.src[i])
            .or_default()
            .add(service, probe, auth.contains(&service));
    }
    Gathered {
        cells,
        hostile: AHashSet::new(),
        served: answered,
    }
}

fn judge(
    ctx: &DetectCtx,
    cfg: &InboundAttackConfig,
    g: &Gathered,
    target: u128,
    mut windows: Vec<(i64, TargetWindow)>,
) -> Option<Finding> {
    let b = &ctx.baseline;
    let held = (!b.robust())
        .then(|| b.host(target))
        .flatten()
        .map(|h| (h.distinct_destinations, h.active_windows));
    let mut ordinary: Vec<f64> = windows.iter().map(|w| w.1.ordinary as f64).collect();
    let clients = usual_level(held, &mut ordinary);
    let mut usual = clients;
    if held.is_none() && !b.robust() {
        // a server the normal-period baseline does not hold (its flows given as test input only):
        // its own steady hostile background, over every window of the input, is its normal
        let hostile: Vec<u64> = windows.iter().map(|w| w.1.hostile).collect();
        usual = usual.max(padded_median(&hostile, input_windows(ctx)));
    }
    let thr = threshold(usual, cfg.min_sources_count, cfg.usual_ratio);
    // crackers of a live login are judged against the clients, not against the scanning background
    let thr_live = threshold(clients, cfg.min_sources_count, cfg.usual_ratio);
    let mut scanners: Vec<f64> = windows.iter().map(|w| w.1.scanners as f64).collect();
    let thr_scan = threshold(
        median(&mut scanners),
        cfg.min_sources_count,
        cfg.usual_ratio,
    );
    let heavy = cfg.heavy_brute_attempts_count as f64;
    windows
        .retain(|w| attack_window(&w.1, thr, thr_scan, heavy) || w.1.live_brute as f64 >= thr_live);
    if windows.is_empty() {
        return None;
    }
    windows.sort_by_key(|w| w.0);
    let refs = Reference {
        usual,
        thr,
        thr_scan,
        heavy,
        held,
    };
    Some(finding(ctx, g, target, &windows, &refs))
}

/// Windows of `baseline.window_secs` the test input spans.
fn input_windows(ctx: &DetectCtx) -> usize {
    let Some((first, last)) = ctx.globals().ts_range else {
        return 0;
    };
    let w = ctx.baseline.window_secs;
    (window_of(last, w) - window_of(first, w) + 1).max(0) as usize
}

/// The median of `values` padded with zeros to `n` values (the windows where nothing happened).
pub fn padded_median(values: &[u64], n: usize) -> f64 {
    let mut v: Vec<f64> = values.iter().map(|x| *x as f64).collect();
    v.resize(n.max(values.len()), 0.0);
    median(&mut v)
}

/// What a target's windows were judged against.
#[derive(Clone, Copy)]
struct Reference {
    /// Usual distinct peers per window.
    usual: f64,
    /// Hostile sources that make an attack.
    thr: f64,
    /// Scanners of unserved services that make an attack (against their usual level).
    thr_scan: f64,
    /// Attempts of one source on one live login that make an attack.
    heavy: f64,
    /// The baseline's (distinct peers, active windows) of the target, when used.
    held: Option<(u64, u64)>,
}

/// A window is an attack when its hostile sources reach the threshold of the target's usual peers,
/// or its scanners of unserved services reach theirs (a busy server's many clients set a high bar
/// for the first, not for a crowd probing ports it serves nobody), or one source hammers a live
/// login `heavy` times (a cracker needs no crowd), or a crowd of sources attempts logins on one
/// service far above that service's usual level (a distributed brute force), or enough sources
/// guess logins on one service for hours (a slow brute force).
pub fn attack_window(t: &TargetWindow, thr: f64, thr_scan: f64, heavy: f64) -> bool {
    t.hostile as f64 >= thr
        || t.scanners as f64 >= thr_scan
        || t.heaviest as f64 >= heavy
        || t.crowd.excess() >= 1.0
        || t.persistent.excess() >= 1.0
}

/// The strongest window's excess: hostile sources over their threshold, or scanners over theirs.
pub fn excess(t: &TargetWindow, thr: f64, thr_scan: f64, heavy: f64) -> f64 {
    (t.hostile as f64 / thr)
        .max(t.scanners as f64 / thr_scan)
        .max(t.heaviest as f64 / heavy)
        .max(t.crowd.excess())
        .max(t.persistent.excess())
}

/// What the flagged windows of one target add up to.
#[derive(Default)]
struct Attack {
    rows: Vec<u32>,
    sources: AHashMap<u128, u64>,
    ports: BTreeMap<(u8, u16), u64>,
    attempts: u64,
    probes: u64,
    auth_attempts: u64,
    first: i64,
    last: i64,
}

fn collect(ctx: &DetectCtx, g: &Gathered, target: u128, windows: &[(i64, TargetWindow)]) -> Attack {
    let flagged: AHashSet<i64> = windows.iter().map(|w| w.0).collect();
    let f = ctx.flows;
    let mut a = Attack {
        first: i64::MAX,
        last: i64::MIN,
        ..Default::default()
    };
    for i in 0..f.len() {
        if f.dst[i] != target || !inbound_service(ctx, i, &|_| true) {
            continue;
        }
        let w = window_of(f.ts[i], ctx.baseline.window_secs);
        if !flagged.contains(&w) || !g.hostile.contains(&(target, f.src[i])) {
            continue;
        }
        a.rows.push(i as u32);
        *a.sources.entry(f.src[i]).or_default() += 1;
        *a.ports
            .entry((f.proto[i].index() as u8, f.dst_port[i]))
            .or_default() += 1;
        (a.first, a.last) = (a.first.min(f.ts[i]), a.last.max(f.ts[i]));
    }
    for (_, tw) in windows {
        a.attempts += tw.attempts;
        a.probes += tw.probes;
        a.auth_attempts += tw.auth_attempts;
    }
    a
}

/// ", N sources scanning only ports it serves nobody in one window (threshold T)" when the most
/// scanners of one window (`most`) made it an attack.
fn scan_text(most: u64, thr_scan: f64) -> String {
    if (most as f64) < thr_scan {
        return String::new();
    }
    format!(", {most} sources scanning only ports it serves nobody in one window (threshold {thr_scan:.0})")
}

/// The windows' `part` with the largest `excess` (the default when there are no windows).
fn strongest<T: Copy + Default>(
    windows: &[(i64, TargetWindow)],
    part: impl Fn(&TargetWindow) -> T,
    excess: impl Fn(&T) -> f64,
) -> T {
    windows
        .iter()
        .map(|w| part(&w.1))
        .max_by(|a, b| excess(a).total_cmp(&excess(b)))
        .unwrap_or_default()
}

/// ", N sources attempting logins on 22/tcp in one window (usual U, threshold T)" for the largest
/// crowd of the flagged windows, if any.
fn crowd_text(windows: &[(i64, TargetWindow)]) -> (String, Crowd) {
    let c = strongest(windows, |t| t.crowd, Crowd::excess);
    if c.excess() < 1.0 {
        return (String::new(), c);
    }
    let text = format!(
        ", {} sources attempting logins on {} in one window (usual {:.1}, threshold {:.0}): a distributed brute force",
        c.sources,
        service_text(c.service),
        c.usual,
        c.threshold
    );
    (text, c)
}

/// ", N sources guessing logins on 22/tcp for hours (threshold T): a slow brute force" for the most
/// persistent guessers of one window, if any.
fn persistent_text(windows: &[(i64, TargetWindow)]) -> (String, Persistent) {
    let p = strongest(windows, |t| t.persistent, Persistent::excess);
    if p.excess() < 1.0 {
        return (String::new(), p);
    }
    let text = format!(
        ", {} sources guessing logins on {} for hours, together in one window (threshold {}): a slow brute force",
        p.sources,
        service_text(p.service),
        p.threshold
    );
    (text, p)
}

/// A (protocol index, port) service as "22/tcp".
pub(crate) fn service_text(s: (u8, u16)) -> String {
    let p = Proto::ALL.get(s.0 as usize).map_or("other", |p| p.as_str());
    format!("{}/{p}", s.1)
}

fn finding(
    ctx: &DetectCtx,
    g: &Gathered,
    target: u128,
    windows: &[(i64, TargetWindow)],
    refs: &Reference,
) -> Finding {
    let Reference {
        usual,
        thr,
        thr_scan,
        heavy,
        held,
    } = *refs;
    let best = windows
        .iter()
        .max_by(|a, b| a.1.hostile.cmp(&b.1.hostile).then(b.0.cmp(&a.0)))
        .map(|w| w.1.clone())
        .unwrap_or_default();
    let a = collect(ctx, g, target, windows);
    let most_scanners = windows.iter().map(|w| w.1.scanners).max().unwrap_or(0);
    let (crowd, largest_crowd) = crowd_text(windows);
    let (slow, guessers) = persistent_text(windows);
    let ratio = windows
        .iter()
        .map(|w| excess(&w.1, thr, thr_scan, heavy))
        .fold(0.0, f64::max);
    let auth_share = best.auth_attempts as f64 / best.attempts.max(1) as f64;
    let score = attack_score(ratio, best.live_brute, auth_share);
    let mut sources: Vec<(u128, u64)> = a.sources.iter().map(|(s, n)| (*s, *n)).collect();
    sources.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let mut ports: Vec<((u8, u16), u64)> = a.ports.iter().map(|(p, n)| (*p, *n)).collect();
    ports.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let failed = a.probes as f64 / a.attempts.max(1) as f64;
    let top_sources: Vec<String> = sources
        .iter()
        .take(5)
        .map(|(s, n)| format!("{} ({n})", ip::format(*s)))
        .collect();
    let top_ports: Vec<String> = ports
        .iter()
        .take(5)
        .map(|(p, n)| format!("{} ({n})", service_text(*p)))
        .collect();
    let reference = match held {
        Some(_) => "baseline distinct peers per window, or its ordinary clients in the test input",
        None if ctx.baseline.robust() => {
            "its ordinary clients per window in the test input (self-learned baseline)"
        }
        None => "its ordinary clients per window in the test input (not in the baseline)",
    };
    let explanation = format!(
        "{} attacked by {} external sources in {} window(s) {}: at most {} hostile sources in one {} s window (usual level {usual:.1} distinct peers, threshold {thr:.0}){}{crowd}{slow}; {} attempts on {} ports, {:.0} % failed or tiny, {} on authentication services{}; top sources {}; top ports {}",
        ip::format(target),
        sources.len(),
        windows.len(),
        super::behaviour::span_text(a.first, a.last),
        best.hostile,
        ctx.baseline.window_secs,
        scan_text(most_scanners, thr_scan),
        a.attempts,
        ports.len(),
        failed * 100.0,
        a.auth_attempts,
        if best.live_brute > 0 {
            format!(", {} source(s) brute-forcing a live login", best.live_brute)
        } else {
            String::new()
        },
        top_sources.join(", "),
        top_ports.join(", "),
    );
    let details = json!({
        "sources_count": sources.len(), "windows": windows.len(), "max_hostile_sources": best.hostile,
        "attempts": a.attempts, "failed_ratio": failed, "ports_count": ports.len(),
        "auth_attempts": a.auth_attempts, "live_brute_sources": best.live_brute,
        "max_scanners_of_unserved_ports": most_scanners,
        "scanners_threshold": thr_scan,
        "max_crowd_sources": largest_crowd.sources,
        "crowd_threshold": largest_crowd.threshold,
        "max_persistent_sources": guessers.sources,
        "top_ports": ports.iter().take(10).map(|(p, n)| json!({"service": service_text(*p), "attempts": n})).collect::<Vec<_>>(),
        "top_sources": sources.iter().take(10).map(|(s, n)| json!({"source": ip::format(*s), "attempts": n})).collect::<Vec<_>>(),
        "reference": reference,
    });
    Finding {
        kind: "inbound_attack".into(),
        detector: "inbound_attack".into(),
        score,
        hosts: vec![ip::format(target)],
        peers: sources.iter().map(|(s, _)| ip::format(*s)).collect(),
        first_seen: Some(format_ts(a.first)),
        last_seen: Some(format_ts(a.last)),
        flows: a.rows.len() as u64,
        flow_rows: a.rows,
        evidence: Evidence {
            metric: format!(
                "hostile external sources per target and {} s window",
                ctx.baseline.window_secs
            ),
            observed: best.hostile as f64,
            baseline: Some(usual),
            threshold: Some(thr),
            explanation,
            details: details.as_object().cloned().unwrap_or_default(),
        },
        ..Default::default()
    }
}

/// Documentation for `docs/detectors.md`.
pub const DOC: &str = r#"## `inbound_attack`

**Looks at** inbound TCP and UDP flows (external source, internal destination or one of the
network's public servers, as `server_abuse` names or infers them), per target and window of
`baseline.window_secs`, per external source. ICMP is left out: inbound ICMP is mostly
errors answering the host's own traffic (unreachable, time exceeded) or pings.

**Hostile sources.** A source is hostile towards a target in a window when at least
`probe_share_ratio` of its flows there are probes (nothing came back, or at most `tiny_flow_bytes`
both ways: a SYN to a closed port, a refused or reset connection), or when it made at least
`brute_force_attempts_count` attempts on one authentication service (`auth_services`: FTP, SSH,
Telnet, SMTP submission (465, 587), POP3, IMAP, SMB, NetBIOS, MS-SQL, MySQL, RDP, PostgreSQL, VNC,
Redis by default), whatever their answers. Mail delivery (tcp/25) is left out: at a busy mail exchanger's
peak hour, 185 ordinary senders each delivered 5 or more messages (a generated network at 1M rows), and
a delivery is not a login; add `"tcp/25"` where the exchanger also offers AUTH on port 25. It is brute-forcing a *live* login when that many attempts got data back.

**Threshold.** `H` hostile sources in a window make an attack when
`H >= max(min_sources_count, usual_ratio * usual)`. `usual` is the target's usual number of distinct
peers per window: from a normal-period baseline, its distinct peers over its active windows (a lower
bound of the mean per window, which includes the Internet's background scanners when the host was
exposed then too, so that the same background is not reported again); and at least the median, over
the target's windows, of its ordinary (non-hostile) sources in the test input, so that a public server
that the baseline does not hold (or a self-learned baseline, which holds the attack itself and is
therefore not used) is judged against its own clients. A server's many clients set that bar high, so
its scanners are also judged on their own: a window is an attack too when the hostile sources that
touched only services the target serves nobody (services its ordinary sources never used: its
closed ports) reach `max(min_sources_count, usual_ratio * their median per window)`. The Internet's
steady background scanning of a public address sets that median; a crowd scanning a busy VPN server's
closed ports in one hour (230 sources against its 70 clients an hour) stands out against it, while the
clients' own failed sessions (on served ports) never count. Defaults from first principles: one scanner is
`port_scan`'s business, so "many" starts an order of magnitude above it, at 10 distinct sources in one
window; `usual_ratio = 4` clears the daily peak of a server's client count (peak hours are typically 2
to 3 times the mean of active hours); a probe is what `port_scan` calls one (128 bytes holds a TCP
handshake and reset); five attempts on one login service in a window are more than any user retrying a
password.

A server the normal-period baseline does not hold (its flows given as test input only, e.g. a
`servers.parquet` spanning both periods) is judged against its own steady hostile background too:
`usual` is at least the median of its hostile sources per window over every window of the test input
(windows without any counted as zero). The Internet scans every public address all day; that
background on both days is the server's normal, not an attack. Sources brute-forcing a live login are
still judged against the clients' level alone: a window is an attack when they reach it. (Not on a self-learned baseline, where
the exposed host's background is what there is to report.)

A cracker needs no crowd: a window is an attack too when one hostile source made
`heavy_brute_attempts_count` (100) attempts on one live authentication service in it (one every 36 s
for an hour; tools try several a second, a person retrying a password a handful). `r` is then those
attempts over that count.

A distributed brute force needs no cracker either: dozens of sources each trying a password or two
an hour stay under every per-source bar, and a VPN gateway's or web server's many clients set the
target's bar of hostile sources far above them. So each login service of `crowd_services` (the
authentication services without mail access: remote staff make a crowd of IMAP and submission logins
every morning) is also judged on its own: per window, the distinct sources that attempted a login
there (a session with data back) and attempted more than once in the input (the Internet's background
scanners complete one handshake and leave); a window is an attack when they reach
`max(min_sources_count, usual_ratio * usual)`, `usual` their median per window over every window of
the test input (windows without any counted as zero). The steady guessing of an exposed ssh (2-4
sources an hour) sets that level; 35-90 sources an hour for 5-7 hours stand out (the slow distributed
SSH brute forces of Javed and Paxson, "Detecting stealthy, distributed SSH brute-forcing", CCS 2013,
who also judge the aggregate against the service's history). Every source of a crowd window is
hostile and named; `r` is the crowd over its threshold. An attack spanning most of the input sets its
own level and is not seen this way.

A slow brute force needs neither: a handful of sources guessing a few dozen times an hour each for
the whole campaign stay under every per-window bar, while the Internet's background guessers come in
bursts of an hour or two. So a source that brute-forced one crowd service (at least
`brute_force_attempts_count` attempts with data back in a window) in windows adding up to
`persistent_secs` (4 hours) is a persistent guesser, unless it did so in three quarters of the input's
windows or more (a monitor's or a backup job's logins: the service's routine, as a steady crowd sets its
own level); a window where `persistent_sources_count` (2) persistent guessers of one service are at it
is an attack. In the 48 configurations of the independent corporate simulator no background guesser
brute-forced a login service in more than 2 windows, while the slow campaigns kept at it for 5 to 11.
One lone slow guesser is not reported this way: a developer's tool fetching over ssh every few
minutes looks the same.

**Score** for the strongest window: `0.25 + 0.4 (1 - 1 / (1 + log2 r)) + 0.2 b + 0.15 a`, with `r` =
`H` / threshold, `b = n / (n + 3)` for `n` sources brute-forcing a live login, and `a` the share of
attempts on authentication services. Background scanning at ten times the floor scores about 0.6
(medium); high needs a far larger crowd or live brute forces.

**Finding.** One per target: `hosts` is the target, `peers` its hostile sources by attempts (capped by
`analysis.max_peers_count`), evidence with the number of sources, windows, attempts, ports, failed
share, attempts on authentication services, the top sources and ports. With `inbound_attack` on,
`port_scan` no longer reports external scanners one by one (its `external_sources` is off by default).

**Blind spots.** Slow distributed scans spreading fewer than `min_sources_count` hostile sources over
each window; one source guessing slowly for hours, or sources under `brute_force_attempts_count`
attempts a window; attacks from inside; a brute force that succeeds at once (few attempts).

**Tuning.** Lower `min_sources_count` for a small exposed surface; raise it (or `usual_ratio`) for
hosts on the open Internet whose background scanning you do not want to see.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn sw(flows: u64, probes: u64, auth: &[((u8, u16), u64, u64)]) -> SourceWindow {
        SourceWindow {
            flows,
            probes,
            ports: vec![(0, 22)],
            auth: auth.to_vec(),
        }
    }

    #[test]
    fn hostile_table() {
        let ssh = (0u8, 22u16);
        let cases = [
            (sw(1, 1, &[]), true),             // one failed probe
            (sw(4, 2, &[]), true),             // half probes
            (sw(4, 1, &[]), false),            // an ordinary client with one reset
            (sw(6, 0, &[(ssh, 6, 6)]), true),  // brute force on a live ssh
            (sw(4, 0, &[(ssh, 4, 4)]), false), // four logins: a user retrying
            (sw(0, 0, &[]), false),
        ];
        for (s, want) in cases {
            assert_eq!(s.hostile(0.5, 5), want, "{s:?}");
        }
        assert_eq!(
            sw(9, 2, &[(ssh, 6, 5), ((0, 23), 3, 0)]).brute(5),
            (6, true)
        );
        assert_eq!(sw(9, 9, &[(ssh, 6, 0)]).brute(5), (6, false));
    }

    #[test]
    fn add_and_summarise() {
        let mut a = SourceWindow::default();
        a.add((0, 22), false, true);
        a.add((0, 22), true, true);
        a.add((0, 80), true, false);
        assert_eq!((a.flows, a.probes, a.ports.len()), (3, 2, 2));
        assert_eq!(a.auth, vec![((0, 22), 2, 1)]);
        let srcs = [sw(3, 3, &[]), sw(10, 1, &[((0, 22), 8, 8)]), sw(5, 0, &[])];
        let t = summarise(srcs.iter().map(|s| (s, s.hostile(0.5, 5))), 5);
        assert_eq!(
            t,
            TargetWindow {
                hostile: 2,
                ordinary: 1,
                attempts: 13,
                probes: 4,
                auth_attempts: 8,
                live_brute: 1,
                scanners: 0,
                heaviest: 8,
                crowd: Crowd::default(),
                persistent: Persistent::default(),
            }
        );
    }

    /// A scan of a busy server's closed ports: its clients set the bar of hostile sources high, the
    /// scanners of services it serves nobody are judged against their own usual level.
    #[test]
    fn scanners_of_unserved_services_table() {
        let served: AHashSet<(u8, u16)> = [(1u8, 1194u16)].into_iter().collect();
        let with_ports = |ports: &[(u8, u16)]| SourceWindow {
            flows: 1,
            probes: 1,
            ports: ports.to_vec(),
            auth: vec![],
        };
        assert!(scans_unserved(&with_ports(&[(0, 657), (0, 321)]), &served));
        assert!(!scans_unserved(
            &with_ports(&[(0, 657), (1, 1194)]),
            &served
        ));
        assert!(!scans_unserved(&with_ports(&[(0, 657)]), &AHashSet::new())); // serves nothing
        let tw = |hostile, scanners| TargetWindow {
            hostile,
            scanners,
            ..Default::default()
        };
        // (window, threshold of hostile sources, of scanners) -> attack?
        let cases = [
            (tw(150, 140), 280.0, 10.0, true), // 140 scanners of a busy VPN server's closed ports
            (tw(150, 0), 280.0, 10.0, false),  // its clients' failed sessions: no scan
            (tw(300, 0), 280.0, 10.0, true),   // a crowd above the clients' level
            (tw(30, 30), 280.0, 120.0, false), // scanned as usual (30 a window, 4x = 120)
            (
                TargetWindow {
                    hostile: 3,
                    heaviest: 697,
                    ..Default::default()
                },
                10.0,
                10.0,
                true,
            ), // three crackers hammering a live ssh: no crowd needed
            (
                TargetWindow {
                    hostile: 3,
                    heaviest: 40,
                    ..Default::default()
                },
                10.0,
                10.0,
                false,
            ), // a few retries of a forgotten password
        ];
        for (t, thr, thr_scan, want) in cases {
            assert_eq!(attack_window(&t, thr, thr_scan, 100.0), want, "{t:?}");
        }
        assert_eq!(excess(&tw(150, 140), 280.0, 10.0, 100.0), 14.0);
    }

    /// A distributed brute force: dozens of sources a few attempts each per hour on one login, against
    /// the service's steady level of guessers.
    #[test]
    fn crowd_windows_table() {
        let ssh = (0u8, 22u16);
        let steady: Vec<(i64, u64)> = (0..40).map(|w| (w, 2 + (w % 3) as u64)).collect();
        let mut attacked = steady.clone();
        attacked.extend((40..47).map(|w| (w, 60 + w as u64)));
        let busy: Vec<(i64, u64)> = (0..48).map(|w| (w, 30 + (w % 5) as u64)).collect();
        // (sources per window, windows of the input) -> crowd windows
        type Case<'a> = (&'a [(i64, u64)], usize, Vec<i64>);
        let cases: [Case; 5] = [
            (&steady, 48, vec![]),               // the Internet's guessers, 2-4 an hour
            (&attacked, 48, (40..47).collect()), // 100-106 sources for 7 hours
            (&[(3, 9), (4, 12)], 48, vec![4]),   // two hours in two days: the floor decides
            (&busy, 48, vec![]),                 // a busy login service: 30-34 every hour
            (&[(0, 50), (1, 52), (2, 49)], 3, vec![]), // the whole input is the crowd: no contrast
        ];
        for (counts, n, want) in cases {
            let got: Vec<i64> = crowd_windows(ssh, counts, n, 10, 4.0)
                .into_iter()
                .map(|w| w.0)
                .collect();
            assert_eq!(got, want, "{counts:?}");
        }
        let c = crowd_windows(ssh, &attacked, 48, 10, 4.0)[0].1;
        assert_eq!((c.sources, c.usual, c.threshold), (100, 3.0, 12.0));
        let t = TargetWindow {
            hostile: 100,
            crowd: c,
            ..Default::default()
        };
        // far under the target's level of hostile sources (a VPN's users), a crowd all the same
        assert!(attack_window(&t, 400.0, 400.0, 100.0));
        assert!((excess(&t, 400.0, 400.0, 100.0) - 100.0 / 12.0).abs() < 1e-12);
        assert!(!attack_window(&TargetWindow::default(), 10.0, 10.0, 100.0));
    }

    #[test]
    fn crowd_services_must_be_login_services() {
        let mut cfg = InboundAttackConfig::default();
        assert!(InboundAttack.validate(&cfg).is_ok());
        cfg.crowd_services.push("tcp/8443".into());
        let e = InboundAttack.validate(&cfg).unwrap_err().to_string();
        assert!(
            e.contains("crowd_services") && e.contains("tcp/8443") && e.contains("auth_services"),
            "{e}"
        );
    }

    #[test]
    fn persistent_table() {
        // (windows brute-forced, windows needed, windows of the input, persistent)
        let cases = [
            (4, 4, 48, true),
            (10, 4, 48, true),
            (3, 4, 48, false),  // a background burst
            (35, 4, 48, true),  // under three quarters
            (36, 4, 48, false), // at it nearly all the time: routine
            (48, 4, 48, false),
            (1, 0, 48, true), // at least one window however short persistent_secs
            (0, 0, 48, false),
            (4, 4, 4, false), // the whole input
        ];
        for (w, min, n, want) in cases {
            assert_eq!(persistent(w, min, n), want, "{w} {min} {n}");
        }
        // enough guessers make an attack window whatever the other counts, and set its excess
        for (sources, want) in [(0, false), (1, false), (2, true), (6, true)] {
            let t = TargetWindow {
                persistent: Persistent {
                    service: (0, 22),
                    sources,
                    threshold: 2,
                },
                ..Default::default()
            };
            assert_eq!(attack_window(&t, 10.0, 10.0, 100.0), want, "{sources}");
            assert_eq!(excess(&t, 10.0, 10.0, 100.0), sources as f64 / 2.0);
        }
    }

    #[test]
    fn padded_median_table() {
        // (hostile per active window, windows of the input) -> median
        let cases: [(&[u64], usize, f64); 4] = [
            (&[], 0, 0.0),
            (&[30, 40, 50], 3, 40.0),
            (&[300, 400], 48, 0.0), // an attack of two hours in two days: no background
            (&[30, 40, 50, 60], 6, 35.0),
        ];
        for (v, n, want) in cases {
            assert_eq!(padded_median(v, n), want, "{v:?} {n}");
        }
    }

    /// (baseline peers, windows), ordinary sources per window, usual, threshold.
    type UsualCase = (Option<(u64, u64)>, Vec<f64>, f64, f64);

    #[test]
    fn threshold_and_usual_table() {
        // (baseline peers, windows), ordinary per window, usual, threshold (floor 10, ratio 4)
        let cases: [UsualCase; 5] = [
            (None, vec![0.0, 0.0, 1.0], 0.0, 10.0),
            (Some((48, 24)), vec![0.0], 2.0, 10.0),
            (Some((2400, 24)), vec![0.0], 100.0, 400.0),
            (None, vec![500.0, 520.0, 3.0], 500.0, 2000.0),
            (Some((24, 24)), vec![50.0, 60.0], 55.0, 220.0),
        ];
        for (held, mut ord, usual, thr) in cases {
            let u = usual_level(held, &mut ord);
            assert!((u - usual).abs() < 1e-12, "{held:?}: {u}");
            assert_eq!(threshold(u, 10, 4.0), thr, "{held:?}");
        }
    }

    #[test]
    fn score_table() {
        use crate::findings::{severity, Severity};
        let cases = [
            (1.0, 0, 0.0, 0.25),
            (2.0, 0, 0.0, 0.45),
            (8.0, 0, 1.0, 0.25 + 0.3 + 0.15),
            (4.0, 3, 0.0, 0.25 + 0.4 * (2.0 / 3.0) + 0.1),
        ];
        for (r, b, a, want) in cases {
            assert!((attack_score(r, b, a) - want).abs() < 1e-12, "{r} {b} {a}");
        }
        // background scanning ten times the floor, a quarter on login ports: medium
        assert_eq!(severity(attack_score(10.0, 0, 0.25)), Severity::Medium);
        // a large crowd brute-forcing live logins: high or more
        assert!(severity(attack_score(50.0, 10, 0.9)) >= Severity::High);
        assert!(attack_score(f64::INFINITY, u64::MAX, 2.0) <= 1.0);
    }

    #[test]
    fn services_parse_or_name_the_fix() {
        assert_eq!(
            parse_services("auth_services", &["tcp/22".into(), "udp/5060".into()]).unwrap(),
            vec![(Proto::Tcp, 22), (Proto::Udp, 5060)]
        );
        for bad in ["22", "tcp/x", "foo/22", "tcp/70000"] {
            let e = parse_services("auth_services", &[bad.into()])
                .unwrap_err()
                .to_string();
            assert!(e.contains(bad) && e.contains("tcp/22"), "{e}");
        }
        let defaults = InboundAttackConfig::default();
        assert!(parse_services("auth_services", &defaults.auth_services).is_ok());
        // a bad item of crowd_services names crowd_services, not auth_services
        let mut cfg = defaults;
        cfg.crowd_services = vec!["ssh".into()];
        let e = InboundAttack.validate(&cfg).unwrap_err().to_string();
        assert!(e.contains("inbound_attack.crowd_services: 'ssh'"), "{e}");
    }
}
