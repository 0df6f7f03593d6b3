//! `port_scan`: vertical scans (many ports on one host) and horizontal scans (one port on many hosts),
//! measured per source and time window with failed and tiny probes weighing most. One finding per
//! source, with the counts, the port range and the targets.

use super::public_servers::served;
use super::{DetectCtx, Detector};
use crate::baseline::habits::fanout_key;
use crate::baseline::window_of;
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{format_ts, severity, Evidence, Finding, Severity};
use crate::ip;
use ahash::{AHashMap, AHashSet};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// The detector.
pub struct PortScan;

/// `[detectors.port_scan]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortScanConfig {
    /// Window over which a source's probes are counted.
    pub window_secs: u64,
    /// Weighted distinct ports on one host that make a vertical scan.
    pub vertical_min_ports_count: f64,
    /// Weighted distinct hosts on one port that make a horizontal scan.
    pub horizontal_min_hosts_count: f64,
    /// A flow with at most this many bytes (up + down) is tiny.
    pub tiny_flow_bytes: u64,
    /// Weight of a tiny flow that got an answer (a failed flow, with nothing back, weighs 1).
    pub answered_tiny_weight_ratio: f64,
    /// Weight of an ordinary (established, carrying data) flow.
    pub established_weight_ratio: f64,
    /// Also report external sources scanning internal hosts (named in `hosts`).
    pub external_sources: bool,
    /// A window must exceed this multiple of the source's own baseline fan-out (per port, and ports
    /// per destination), or of its peers' when it has no history; the minimum counts stay as floors.
    pub baseline_fanout_ratio: f64,
    /// Longer window for slow scans of internal hosts (0: off): one port on many internal hosts,
    /// spread so thinly that no `window_secs` window reaches its limit.
    pub slow_window_secs: u64,
    /// Weighted distinct internal hosts on one port in a `slow_window_secs` window that make a slow
    /// horizontal scan (raised by `baseline_fanout_ratio` x the source's level, like the others).
    pub slow_min_hosts_count: f64,
}

impl Default for PortScanConfig {
    fn default() -> Self {
        PortScanConfig {
            window_secs: 300,
            vertical_min_ports_count: 15.0,
            horizontal_min_hosts_count: 10.0,
            tiny_flow_bytes: 128,
            answered_tiny_weight_ratio: 0.25,
            established_weight_ratio: 0.1,
            external_sources: false,
            baseline_fanout_ratio: 3.0,
            slow_window_secs: 3_600,
            slow_min_hosts_count: 20.0,
        }
    }
}

static SETTINGS: [Setting; 10] = [
    Setting {
        key: "window_secs",
        doc: "window over which a source's probes are counted",
        range: Range::Int(1, 86_400),
    },
    Setting {
        key: "vertical_min_ports_count",
        doc: "weighted distinct ports on one host that make a vertical scan",
        range: Range::Float(2.0, 65_536.0),
    },
    Setting {
        key: "horizontal_min_hosts_count",
        doc: "weighted distinct hosts on one port that make a horizontal scan",
        range: Range::Float(2.0, 1e9),
    },
    Setting {
        key: "tiny_flow_bytes",
        doc: "a flow with at most this many bytes (up + down) is a tiny probe",
        range: Range::Int(0, 1_000_000),
    },
    Setting {
        key: "answered_tiny_weight_ratio",
        doc: "weight of a tiny flow that got an answer (a failed flow weighs 1)",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "established_weight_ratio",
        doc: "weight of an ordinary flow carrying data",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "external_sources",
        doc: "also report external sources scanning internal hosts",
        range: Range::Bool,
    },
    Setting {
        key: "baseline_fanout_ratio",
        doc: "multiple of the source's baseline fan-out (its own, else its peers') a window must exceed; the minimum counts stay as floors",
        range: Range::Float(1.0, 1e6),
    },
    Setting {
        key: "slow_window_secs",
        doc: "longer window for slow horizontal scans of internal hosts (0: off)",
        range: Range::Int(0, 86_400),
    },
    Setting {
        key: "slow_min_hosts_count",
        doc: "weighted distinct internal hosts on one port in a slow window that make a slow scan",
        range: Range::Float(2.0, 1e9),
    },
];

/// The markdown section of `docs/detectors.md`.
pub const DOC: &str = r#"## port_scan

**Looks at** every source (internal, and external ones reaching internal hosts when
`external_sources`), per window of `window_secs`.

**Formula.** Each distinct probe (destination, protocol, port) gets the weight of its strongest flow:
1 for a failed flow (nothing came back), `answered_tiny_weight_ratio` for a tiny flow
(up + down <= `tiny_flow_bytes`) that got an answer, `established_weight_ratio` for an ordinary flow.
Then per window:

- vertical `V` = max over destinations of the summed weights of its distinct ports;
- horizontal `H` = max over (protocol, port) of the summed weights of its distinct destinations;
- a window is a scan when `V >= vertical_min_ports_count` or `H >= horizontal_min_hosts_count`;
- ratio `r = max(V / vertical_min_ports_count, H / horizontal_min_hosts_count)`, failed share `f` (probes
  with nothing back), `score = 0.3 + 0.5 (1 - 1 / (1 + log2 r)) + 0.2 f`.

One finding per source (the strongest window is the evidence) with `scan_type` (`vertical`,
`horizontal` or `vertical+horizontal`), distinct targets and ports, the port range, the windows and
the top targets in `evidence.details`. For an external scanner `hosts` names the scanner itself.
`external_sources` is off by default: `inbound_attack` reports external scanners once per attacked
host, with its top sources.

Probes to well-known infrastructure (NTP, the network's resolvers, DHCP, discovery multicast and
broadcast: `detect/infrastructure.rs`) weigh at most `established_weight_ratio`: an IoT device asking a
pool of time servers is not probing them, while a sweep of thousands of NTP servers still adds up. The
DNS queries of the network's own resolvers (a server on 53 in the baseline) recursing to the
authoritative servers weigh nothing when answered and at most `established_weight_ratio` when not:
resolving its clients' names is the resolver's job, and a campus resolver reaches 700-800 authoritative
servers in 5 minutes (80 weighted hosts at 0.1 each, a high "scan" on every CTU-style capture).

**Habits.** Each limit is `max(minimum count, baseline_fanout_ratio x level)`, with the level the source's
own fan-out in the baseline for that destination side, protocol and port (horizontal) or ports per
destination (vertical), or its peers' median level when it has no history (`habits` in
`docs/baseline.md`). A monitoring server polling every host on udp/161 in normal, or a client that
browses 200 sites per window, stays within its own level; a scan is new behaviour. The explanation
gives the limits and whether the baseline raised them.

**Follow-ups.** A bot sweeping a login service across the Internet (telnet, ssh: `inbound_attack`'s
`auth_services`, failed or tiny probes to at least `horizontal_min_hosts_count` external hosts in its
scan windows) brute-forces or exploits what it found between its scanning bursts: a few sessions an
hour, to one victim each, which no fan-out limit sees. Those sessions (data back, more than a tiny
probe) to external hosts on a swept service, outside the scan windows, belong to its finding: its
rows, span and explanation ("outside its scan windows, N login sessions with data to M external
hosts on 23/tcp"; `follow_up_sessions` in the details), so the hours it only brute-forced are blamed
too. The score stays the scan's. A bot that sweeps other ports (web, IoT exploits) and brute-forces a
login service it never swept is caught the same way when those sessions are a sweep of logins: at least
`horizontal_min_hosts_count` external hosts on that service, most of them logged in to once (a worm
tries each victim once; Muhstik-style bots scan 80/8080/7001 and guess telnet passwords on a list of
addresses). The host's other logins (a developer's ssh to a few servers, again and again, while a worm
on the same host sweeps telnet) are not follow-ups.

**Blind spots**: slow scans of external addresses, and internal ones spreading fewer than
`slow_min_hosts_count` probes over each slow window; scans
through many source addresses; application-level scans of ports that all answer with data (they
weigh `established_weight_ratio` each).

**Slow scans.** A second pass counts the same weighted probes between internal hosts over windows of
`slow_window_secs` (1 h), horizontal only, against `max(slow_min_hosts_count, baseline_fanout_ratio x
level)`: an intruder probing one port of the LAN every 10-30 s never fills a 5-minute window, but in an
hour reaches dozens of addresses that are dead or refuse, where a workstation's own hour has one or two.
A source both passes flag is reported by the short windows, unless they score it low and the hour
scores it higher (in a dense LAN most probes are refused rather than unanswered and weigh less, so an
hour can say more than 5 minutes); the explanation says "slow".

**Tuning**: raise `window_secs` to catch slow scans of external addresses (more noise from busy
clients); raise the minimum counts on networks with service discovery (SSDP, NetBIOS) or busy resolvers.
"#;

impl Detector for PortScan {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = PortScanConfig;
    fn name(&self) -> &'static str {
        "port_scan"
    }
    fn description(&self) -> &'static str {
        "vertical (many ports on one host) and horizontal (one port on many hosts) scans per source and window"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn run(&self, c: &PortScanConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let fast = Pass {
            secs: c.window_secs,
            slow: false,
        };
        let (logins, _) = super::inbound_attack::login_services(ctx)?;
        let mut by_src = findings(ctx, c, fast, &logins);
        if c.slow_window_secs > 0 {
            let slow = Pass {
                secs: c.slow_window_secs,
                slow: true,
            };
            for (src, found) in findings(ctx, c, slow, &logins) {
                if prefer_slow(by_src.get(&src), &found) {
                    by_src.insert(src, found);
                }
            }
        }
        let mut out: Vec<Finding> = by_src.into_values().collect();
        out.sort_by(crate::findings::ranked);
        Ok(out)
    }
}

/// The windows one pass counts probes over: the short ones, or the slow ones (internal hosts only).
#[derive(Debug, Clone, Copy)]
struct Pass {
    secs: u64,
    slow: bool,
}

/// The windows of `pass` that are scans, with their rows.
fn scan_windows(
    ctx: &DetectCtx,
    c: &PortScanConfig,
    pass: Pass,
) -> AHashMap<(u128, i64), WindowScan> {
    let mut flagged: AHashMap<(u128, i64), WindowScan> = AHashMap::new();
    for (key, probes) in gather(ctx, c, pass) {
        let base = BaselineLimits { ctx, c, src: key.0 };
        let slow;
        let limits: &dyn Limits = if pass.slow {
            slow = SlowLimits(base);
            &slow
        } else {
            &base
        };
        // the distinct targets and ports only for the windows that are scans
        if measure(&probes.probes, limits, false).ratio() >= 1.0 {
            let scan = WindowScan {
                window: key.1,
                shape: shape(&probes.probes, limits),
                rows: Vec::new(),
                first: probes.first,
                last: probes.last,
            };
            flagged.insert(key, scan);
        }
    }
    // the rows of flagged windows only (keeping every row of every window costs memory)
    let f = ctx.flows;
    for i in (0..f.len()).filter(|i| in_pass(ctx, c, pass, *i)) {
        if let Some(s) = flagged.get_mut(&(f.src[i], window_of(f.ts[i], pass.secs))) {
            s.rows.push(i as u32);
        }
    }
    flagged
}

/// One finding per source: the short windows' where they are evidence enough (medium or above),
/// else the slow windows' when they score higher (each pass is scored against its own floor, so
/// their ratios are not compared).
fn prefer_slow(short: Option<&Finding>, slow: &Finding) -> bool {
    short.is_none_or(|f| severity(f.score) < Severity::Medium && slow.score > f.score)
}

/// One finding per source from the scan windows of `pass`.
fn findings(
    ctx: &DetectCtx,
    c: &PortScanConfig,
    pass: Pass,
    logins: &AHashSet<(u8, u16)>,
) -> AHashMap<u128, Finding> {
    let mut by_src: AHashMap<u128, Vec<WindowScan>> = AHashMap::new();
    for ((src, _), scan) in scan_windows(ctx, c, pass) {
        by_src.entry(src).or_default().push(scan);
    }
    let mut logged_in = follow_ups(ctx, c, pass, &by_src, logins);
    by_src
        .into_iter()
        .map(|(src, scans)| {
            let follow = logged_in.remove(&src).unwrap_or_default();
            (src, finding(ctx, c, pass, src, scans, follow))
        })
        .collect()
}

/// The services a source's scan windows swept across the Internet: those where its probes (failed
/// or tiny flows) reached at least `horizontal_min_hosts_count` distinct external hosts.
fn swept_services(
    ctx: &DetectCtx,
    c: &PortScanConfig,
    scans: &[WindowScan],
) -> AHashSet<(u8, u16)> {
    let f = ctx.flows;
    let mut hosts: AHashMap<(u8, u16), AHashSet<u128>> = AHashMap::new();
    for i in scans
        .iter()
        .flat_map(|w| w.rows.iter().map(|&i| i as usize))
    {
        let service = (f.proto[i].index() as u8, f.dst_port[i]);
        let probe = !served(f.up[i], f.down[i], c.tiny_flow_bytes);
        if probe && !ctx.nets.contains(f.dst[i]) {
            hosts.entry(service).or_default().insert(f.dst[i]);
        }
    }
    hosts
        .into_iter()
        .filter(|(_, h)| h.len() as f64 >= c.horizontal_min_hosts_count)
        .map(|(s, _)| s)
        .collect()
}

/// Whether `sessions` logins to `hosts` distinct external hosts on one service are a sweep of
/// logins: at least `min_hosts` hosts, most of them logged in to once (a worm tries each victim it
/// found; a person or a tool returns to its few servers again and again).
pub fn login_sweep(sessions: usize, hosts: usize, min_hosts: f64) -> bool {
    hosts > 0 && hosts as f64 >= min_hosts && hosts * 2 >= sessions
}

/// Per internal source that swept a service across the Internet, its sessions to external hosts on
/// a login service outside its scan windows, when it swept that login service too or those sessions
/// are a sweep of logins themselves ([`login_sweep`]): a bot brute-forces or exploits the logins its
/// scans found (or a loader hands it) between scanning bursts, a few an hour, which no fan-out limit
/// sees. Its other logins (a developer's ssh to a few servers while a worm sweeps telnet) are not
/// counted. None for the slow pass, whose windows hold only flows between internal hosts.
fn follow_ups(
    ctx: &DetectCtx,
    c: &PortScanConfig,
    pass: Pass,
    scans: &AHashMap<u128, Vec<WindowScan>>,
    logins: &AHashSet<(u8, u16)>,
) -> AHashMap<u128, Vec<u32>> {
    if pass.slow {
        return AHashMap::new();
    }
    type Swept = (AHashSet<i64>, AHashSet<(u8, u16)>);
    let external = |ip: u128| !ctx.nets.contains(ip);
    let swept: AHashMap<u128, Swept> = scans
        .iter()
        .filter(|(src, _)| !external(**src))
        .map(|(src, s)| {
            let windows = s.iter().map(|w| w.window).collect();
            (*src, (windows, swept_services(ctx, c, s)))
        })
        .filter(|(_, (_, services))| !services.is_empty())
        .collect();
    if swept.is_empty() {
        return AHashMap::new();
    }
    let f = ctx.flows;
    let mut sessions: AHashMap<(u128, (u8, u16)), Vec<u32>> = AHashMap::new();
    for i in 0..f.len() {
        let Some((windows, _)) = swept.get(&f.src[i]) else {
            continue;
        };
        let service = (f.proto[i].index() as u8, f.dst_port[i]);
        if external(f.dst[i])
            && logins.contains(&service)
            && served(f.up[i], f.down[i], c.tiny_flow_bytes)
            && !windows.contains(&window_of(f.ts[i], pass.secs))
        {
            sessions
                .entry((f.src[i], service))
                .or_default()
                .push(i as u32);
        }
    }
    let mut out: AHashMap<u128, Vec<u32>> = AHashMap::new();
    for ((src, service), rows) in sessions {
        let hosts: AHashSet<u128> = rows.iter().map(|&i| f.dst[i as usize]).collect();
        let sweep = login_sweep(rows.len(), hosts.len(), c.horizontal_min_hosts_count);
        if sweep || swept[&src].1.contains(&service) {
            out.entry(src).or_default().extend(rows);
        }
    }
    for rows in out.values_mut() {
        rows.sort_unstable();
    }
    out
}

/// "; outside its scan windows, N login sessions with data to M external hosts on 23/tcp" when
/// there are any.
fn follow_up_text(ctx: &DetectCtx, rows: &[u32]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let f = ctx.flows;
    let hosts: AHashSet<u128> = rows.iter().map(|&i| f.dst[i as usize]).collect();
    let mut services: BTreeMap<(u8, u16), u64> = BTreeMap::new();
    for &i in rows {
        let i = i as usize;
        *services
            .entry((f.proto[i].index() as u8, f.dst_port[i]))
            .or_default() += 1;
    }
    let mut top: Vec<((u8, u16), u64)> = services.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let names: Vec<String> = top
        .iter()
        .take(3)
        .map(|(s, _)| super::inbound_attack::service_text(*s))
        .collect();
    format!(
        "; outside its scan windows, {} login sessions with data to {} external hosts on {} (brute-forcing or exploiting what a scan found)",
        rows.len(),
        hosts.len(),
        names.join(", ")
    )
}

/// The weight of a probe: 1 when nothing came back, `tiny_w` for a tiny answered flow, else `est_w`.
pub fn probe_weight(up: u64, down: u64, tiny_bytes: u64, tiny_w: f64, est_w: f64) -> f64 {
    if down == 0 {
        1.0
    } else if up.saturating_add(down) <= tiny_bytes {
        tiny_w
    } else {
        est_w
    }
}

/// A probe: destination, protocol index, port, weight.
pub type Probe = (u128, u8, u16, f64);

/// The limits a source's window is judged against.
pub trait Limits {
    /// The limit of weighted distinct ports on one destination.
    fn vertical(&self) -> f64;
    /// The limit of weighted distinct destinations on one (protocol, port) of a destination side.
    fn horizontal(&self, internal_dst: bool, proto: u8, port: u16) -> f64;
    /// True when the destination is internal.
    fn internal(&self, dst: u128) -> bool;
}

/// Fixed limits (the minimum counts alone), every destination external.
#[derive(Debug, Clone, Copy)]
pub struct FixedLimits(pub f64, pub f64);

impl Limits for FixedLimits {
    fn vertical(&self) -> f64 {
        self.0
    }
    fn horizontal(&self, _: bool, _: u8, _: u16) -> f64 {
        self.1
    }
    fn internal(&self, _: u128) -> bool {
        false
    }
}

/// `max(floor, ratio * level)`: a limit relative to a baseline level with an absolute floor.
pub fn relative_limit(floor: f64, ratio: f64, level: f64) -> f64 {
    floor.max(ratio * level)
}

/// Limits from the baseline's habits: the minimum counts as floors, raised to
/// `baseline_fanout_ratio` times the source's own fan-out level (or its peers').
struct BaselineLimits<'a> {
    ctx: &'a DetectCtx<'a>,
    c: &'a PortScanConfig,
    src: u128,
}

impl Limits for BaselineLimits<'_> {
    fn vertical(&self) -> f64 {
        let level = self.ctx.baseline.habits.vertical_level(self.src).0;
        relative_limit(
            self.c.vertical_min_ports_count,
            self.c.baseline_fanout_ratio,
            level,
        )
    }
    fn horizontal(&self, internal_dst: bool, proto: u8, port: u16) -> f64 {
        relative_limit(
            self.c.horizontal_min_hosts_count,
            self.c.baseline_fanout_ratio,
            self.level(internal_dst, proto, port),
        )
    }
    fn internal(&self, dst: u128) -> bool {
        self.ctx.nets.contains(dst)
    }
}

impl BaselineLimits<'_> {
    /// The source's baseline fan-out level (per `window_secs` window) on one destination side and port.
    fn level(&self, internal_dst: bool, proto: u8, port: u16) -> f64 {
        let key = fanout_key(
            internal_dst,
            crate::schema::Proto::from_index(proto as usize),
            port,
        );
        self.ctx.baseline.habits.fanout_level(self.src, &key).0
    }
}

/// The limits of a slow window: horizontal scans of internal hosts only, with
/// `slow_min_hosts_count` as the floor, raised to `baseline_fanout_ratio` times the source's level.
/// A source whose baseline fan-out already raised its short windows' limit sweeps addresses as a
/// habit (a poller, the vulnerability scanner): its level then counts once per short window of the
/// slow one, since its hour may hold a new sweep every 5 minutes. An ordinary host's few peers (its
/// file servers) are the same ones all hour, so its level counts once.
struct SlowLimits<'a>(BaselineLimits<'a>);

impl Limits for SlowLimits<'_> {
    fn vertical(&self) -> f64 {
        f64::INFINITY
    }
    fn horizontal(&self, internal_dst: bool, proto: u8, port: u16) -> f64 {
        slow_limit(self.0.c, self.0.level(internal_dst, proto, port))
    }
    fn internal(&self, dst: u128) -> bool {
        self.0.internal(dst)
    }
}

/// The slow windows' horizontal limit for a source with baseline fan-out `level` (per short window).
pub fn slow_limit(c: &PortScanConfig, level: f64) -> f64 {
    let windows = c.slow_window_secs as f64 / c.window_secs.max(1) as f64;
    let sweeps = c.baseline_fanout_ratio * level > c.horizontal_min_hosts_count;
    let level = if sweeps {
        level * windows.max(1.0)
    } else {
        level
    };
    relative_limit(c.slow_min_hosts_count, c.baseline_fanout_ratio, level)
}

/// The shape of one source's probes in one window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shape {
    /// Vertical count: weighted distinct ports on the destination with the largest count/limit.
    pub v_max: f64,
    /// The destination reaching it.
    pub v_dst: u128,
    /// Its limit.
    pub v_limit: f64,
    /// Horizontal count: weighted distinct destinations on the (side, protocol, port) with the largest
    /// count/limit.
    pub h_max: f64,
    /// The (protocol, port) reaching it.
    pub h_port: (u8, u16),
    /// Its limit.
    pub h_limit: f64,
    /// Distinct destinations.
    pub targets: BTreeSet<u128>,
    /// Distinct ports (any protocol).
    pub ports: BTreeSet<u16>,
    /// Share of distinct probes that failed (weight 1).
    pub failed_ratio: f64,
}

impl Shape {
    /// The larger of the vertical and horizontal counts over their limits (>= 1: a scan).
    pub fn ratio(&self) -> f64 {
        let r = |x: f64, l: f64| if l > 0.0 { x / l } else { 0.0 };
        r(self.v_max, self.v_limit).max(r(self.h_max, self.h_limit))
    }
}

fn best_over<K: Copy + Ord>(
    m: AHashMap<K, u64>,
    limit: impl Fn(K) -> f64,
) -> Option<(K, f64, f64)> {
    m.into_iter()
        .map(|(k, x)| (k, x as f64 / FIXED_ONE, limit(k)))
        .max_by(|a, b| (a.1 / a.2).total_cmp(&(b.1 / b.2)).then(b.0.cmp(&a.0)))
}

/// A probe weight of 1 in the fixed-point sums of [`measure`] (2^32).
const FIXED_ONE: f64 = 4_294_967_296.0;

/// Deduplicates probes (keeping each one's strongest weight) and measures the vertical and
/// horizontal counts, each against its limit.
pub fn shape(probes: &[Probe], limits: &dyn Limits) -> Shape {
    measure(probes, limits, true)
}

/// [`shape`], with its sets of distinct targets and ports only when `sets`.
fn measure(probes: &[Probe], limits: &dyn Limits, sets: bool) -> Shape {
    let mut best: AHashMap<(u128, u8, u16), f64> = AHashMap::new();
    for &(d, p, port, w) in probes {
        let e = best.entry((d, p, port)).or_insert(w);
        *e = e.max(w);
    }
    // weights are summed in fixed point: the same total whatever order the map yields them in
    let mut per_dst: AHashMap<u128, u64> = AHashMap::new();
    let mut per_port: AHashMap<(bool, u8, u16), u64> = AHashMap::new();
    let mut s = Shape::default();
    let mut failed = 0usize;
    for (&(d, p, port), &w) in &best {
        let fixed = (w.clamp(0.0, 1.0) * FIXED_ONE).round() as u64;
        *per_dst.entry(d).or_default() += fixed;
        *per_port.entry((limits.internal(d), p, port)).or_default() += fixed;
        if sets {
            s.targets.insert(d);
            s.ports.insert(port);
        }
        failed += usize::from(w >= 1.0);
    }
    let v_limit = limits.vertical();
    if let Some((d, v, l)) = best_over(per_dst, |_| v_limit) {
        (s.v_dst, s.v_max, s.v_limit) = (d, v, l);
    }
    if let Some(((_, p, port), h, l)) =
        best_over(per_port, |(i, p, port)| limits.horizontal(i, p, port))
    {
        (s.h_port, s.h_max, s.h_limit) = ((p, port), h, l);
    }
    s.failed_ratio = if best.is_empty() {
        0.0
    } else {
        failed as f64 / best.len() as f64
    };
    s
}

/// `vertical`, `horizontal` or `vertical+horizontal` for counts against their minimums.
pub fn classify(v: f64, h: f64, v_min: f64, h_min: f64) -> &'static str {
    match (v >= v_min, h >= h_min) {
        (true, true) => "vertical+horizontal",
        (true, false) => "vertical",
        (false, true) => "horizontal",
        (false, false) => "none",
    }
}

/// `0.3 + 0.5 (1 - 1 / (1 + log2 r)) + 0.2 f` for a ratio `r >= 1` to the threshold and a failed
/// share `f`; in [0, 1].
pub fn scan_score(ratio: f64, failed_ratio: f64) -> f64 {
    let l = if ratio.is_finite() && ratio > 1.0 {
        ratio.log2()
    } else if ratio > 1.0 {
        1e9
    } else {
        0.0
    };
    (0.3 + 0.5 * (1.0 - 1.0 / (1.0 + l)) + 0.2 * failed_ratio.clamp(0.0, 1.0)).clamp(0.0, 1.0)
}

#[derive(Default)]
struct WindowProbes {
    probes: Vec<Probe>,
    first: i64,
    last: i64,
}

struct WindowScan {
    window: i64,
    shape: Shape,
    rows: Vec<u32>,
    first: i64,
    last: i64,
}

/// True for a DNS query (`53`/`853`, UDP or TCP) sent by one of the network's resolvers (a server the
/// baseline knows on port 53): recursion, not probing. Cached per source.
fn recursing(
    cache: &mut AHashMap<u128, bool>,
    ctx: &DetectCtx,
    src: u128,
    proto: crate::schema::Proto,
    port: u16,
) -> bool {
    use crate::schema::Proto;
    matches!(port, 53 | 853)
        && matches!(proto, Proto::Udp | Proto::Tcp)
        && *cache
            .entry(src)
            .or_insert_with(|| ctx.baseline.is_server(&ip::format(src), 53))
}

/// Probes per (source, window); sources with too few flows in a window are dropped first.
fn gather(ctx: &DetectCtx, c: &PortScanConfig, pass: Pass) -> AHashMap<(u128, i64), WindowProbes> {
    let f = ctx.flows;
    let least = if pass.slow {
        c.slow_min_hosts_count
    } else {
        c.vertical_min_ports_count.min(c.horizontal_min_hosts_count)
    };
    let min_flows = least.floor().max(1.0) as u64;
    let mut counts: AHashMap<(u128, i64), u64> = AHashMap::new();
    for i in (0..f.len()).filter(|i| in_pass(ctx, c, pass, *i)) {
        *counts
            .entry((f.src[i], window_of(f.ts[i], pass.secs)))
            .or_default() += 1;
    }
    counts.retain(|_, n| *n >= min_flows);
    let mut out: AHashMap<(u128, i64), WindowProbes> = AHashMap::new();
    let mut resolvers: AHashMap<u128, bool> = AHashMap::new();
    for i in (0..f.len()).filter(|i| in_pass(ctx, c, pass, *i)) {
        let key = (f.src[i], window_of(f.ts[i], pass.secs));
        if !counts.contains_key(&key) {
            continue;
        }
        let mut w = probe_weight(
            f.up[i],
            f.down[i],
            c.tiny_flow_bytes,
            c.answered_tiny_weight_ratio,
            c.established_weight_ratio,
        );
        if recursing(&mut resolvers, ctx, f.src[i], f.proto[i], f.dst_port[i]) {
            // the network's resolver asking the authoritative servers of the names its clients look
            // up is doing its job: an answered query is no probe (a campus resolver reaches
            // hundreds of servers in 5 minutes), an unanswered one weighs as an ordinary flow
            w = if f.down[i] > 0 {
                0.0
            } else {
                w.min(c.established_weight_ratio)
            };
        } else if super::infrastructure::infrastructure(f.dst[i], f.proto[i], f.dst_port[i], ctx)
            .is_some()
        {
            // a client asking several time servers or resolvers is not probing them
            w = w.min(c.established_weight_ratio);
        }
        let e = out.entry(key).or_insert_with(|| WindowProbes {
            first: f.ts[i],
            last: f.ts[i],
            ..Default::default()
        });
        e.probes
            .push((f.dst[i], f.proto[i].index() as u8, f.dst_port[i], w));
        e.first = e.first.min(f.ts[i]);
        e.last = e.last.max(f.ts[i]);
    }
    out
}

/// A flow counts when its source is internal, or (with `external_sources`) its destination is; in a
/// slow pass, only flows between two internal hosts.
fn in_pass(ctx: &DetectCtx, c: &PortScanConfig, pass: Pass, i: usize) -> bool {
    let f = ctx.flows;
    let (src, dst) = (ctx.nets.contains(f.src[i]), ctx.nets.contains(f.dst[i]));
    if pass.slow {
        src && dst
    } else {
        src || (c.external_sources && dst)
    }
}

fn finding(
    ctx: &DetectCtx,
    c: &PortScanConfig,
    pass: Pass,
    src: u128,
    mut scans: Vec<WindowScan>,
    follow: Vec<u32>,
) -> Finding {
    scans.sort_by_key(|s| s.window);
    let best = scans
        .iter()
        .max_by(|a, b| a.shape.ratio().total_cmp(&b.shape.ratio()))
        .map(|s| s.shape.clone())
        .unwrap_or_default();
    let (mut targets, mut ports, mut rows) = (BTreeSet::new(), BTreeSet::new(), Vec::new());
    let (mut v, mut h) = (0.0f64, 0.0f64);
    let (mut v_kind, mut h_kind) = (false, false);
    for s in &scans {
        targets.extend(s.shape.targets.iter().copied());
        ports.extend(s.shape.ports.iter().copied());
        rows.extend(s.rows.iter().copied());
        (v, h) = (v.max(s.shape.v_max), h.max(s.shape.h_max));
        v_kind |= s.shape.v_max >= s.shape.v_limit;
        h_kind |= s.shape.h_max >= s.shape.h_limit;
    }
    let follow_text = follow_up_text(ctx, &follow);
    rows.extend(follow.iter().copied());
    rows.sort_unstable();
    let kind = classify(
        f64::from(u8::from(v_kind)),
        f64::from(u8::from(h_kind)),
        1.0,
        1.0,
    );
    let follow_ts = follow.iter().map(|&i| ctx.flows.ts[i as usize]);
    let first = scans
        .iter()
        .map(|s| s.first)
        .chain(follow_ts.clone())
        .min()
        .unwrap_or(0);
    let last = scans
        .iter()
        .map(|s| s.last)
        .chain(follow_ts)
        .max()
        .unwrap_or(0);
    let ratio = best.ratio();
    let score = scan_score(ratio, best.failed_ratio);
    let (pmin, pmax) = (
        ports.first().copied().unwrap_or(0),
        ports.last().copied().unwrap_or(0),
    );
    let top: Vec<String> = targets
        .iter()
        .take(ctx.config.analysis.max_peers_count as usize)
        .map(|t| ip::format(*t))
        .collect();
    let proto = crate::schema::Proto::ALL
        .get(best.h_port.0 as usize)
        .map_or("other", |p| p.as_str());
    let slow = if pass.slow { "slow " } else { "" };
    let explanation = format!(
        "{} {slow}{kind} port scan: {} ports (range {pmin}-{pmax}) on {} hosts {}; at most {:.0} ports on {} and {:.0} hosts on {}/{} in one {} s window, {:.0} % of probes unanswered; {}{follow_text}",
        ip::format(src), ports.len(), targets.len(), super::behaviour::span_text(first, last), v, ip::format(best.v_dst), h,
        best.h_port.1, proto, pass.secs, best.failed_ratio * 100.0, limits_text(c, pass, &best)
    );
    let details = json!({
        "scan_type": kind, "ports_count": ports.len(), "targets_count": targets.len(), "port_min": pmin, "port_max": pmax,
        "vertical_max": v, "horizontal_max": h, "windows": scans.len(), "failed_ratio": best.failed_ratio,
        "top_vertical_target": ip::format(best.v_dst), "top_horizontal_port": format!("{}/{proto}", best.h_port.1),
        "targets": top, "source_internal": ctx.nets.contains(src),
        "vertical_limit": best.v_limit, "horizontal_limit": best.h_limit,
        "window_secs": pass.secs, "slow": pass.slow, "follow_up_sessions": follow.len(),
    });
    Finding {
        kind: "port_scan".into(),
        detector: "port_scan".into(),
        score,
        hosts: vec![ip::format(src)],
        peers: targets.iter().map(|t| ip::format(*t)).collect(),
        first_seen: Some(format_ts(first)),
        last_seen: Some(format_ts(last)),
        flows: rows.len() as u64,
        flow_rows: rows,
        evidence: Evidence {
            metric: format!(
                "weighted distinct ports per host / hosts per port per {} s window",
                pass.secs
            ),
            observed: ratio,
            baseline: None,
            threshold: Some(1.0),
            explanation,
            details: details.as_object().cloned().unwrap_or_default(),
        },
        ..Default::default()
    }
}

/// How the strongest window's limits were set: the floors, or the baseline fan-out.
fn limits_text(c: &PortScanConfig, pass: Pass, s: &Shape) -> String {
    if pass.slow {
        let basis = if s.h_limit > c.slow_min_hosts_count {
            "raised by the baseline fan-out"
        } else {
            "nothing like it in the baseline"
        };
        return format!(
            "limit {:.0} internal hosts per port in {} s ({basis}); no {} s window reached its limits",
            s.h_limit, pass.secs, c.window_secs
        );
    }
    let raised = s.v_limit > c.vertical_min_ports_count || s.h_limit > c.horizontal_min_hosts_count;
    let basis = if raised {
        format!(
            "raised to {} x the baseline fan-out where it was higher",
            c.baseline_fanout_ratio
        )
    } else {
        "the minimum counts; nothing like it in the baseline".to_string()
    };
    format!(
        "limits {:.0} ports per host and {:.0} hosts per port ({basis})",
        s.v_limit, s.h_limit
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_table() {
        let cases = [
            ((0, 0), 1.0),
            ((60, 0), 1.0),
            ((40, 40), 0.25),
            ((64, 64), 0.25),
            ((800, 600), 0.1),
        ];
        for ((up, down), want) in cases {
            assert_eq!(probe_weight(up, down, 128, 0.25, 0.1), want, "{up} {down}");
        }
    }

    #[test]
    fn shape_counts_vertical_and_horizontal() {
        // host 1: ports 1..=20 failed (+ a duplicate of port 1 answered); port 80 on hosts 2..=5: two
        // failed, two established -> 2.2 weighted hosts, more than any port of host 1 (1.0)
        let mut p: Vec<Probe> = (1..=20).map(|port| (1, 0, port, 1.0)).collect();
        p.push((1, 0, 1, 0.1));
        p.extend((2..=5).map(|d| (d, 0, 80, if d < 4 { 1.0 } else { 0.1 })));
        let s = shape(&p, &FixedLimits(15.0, 10.0));
        assert_eq!((s.v_max, s.v_dst, s.v_limit), (20.0, 1, 15.0));
        assert_eq!(s.h_port, (0, 80));
        assert!((s.h_max - 2.2).abs() < 1e-9);
        assert_eq!((s.targets.len(), s.ports.len()), (5, 21));
        assert!((s.failed_ratio - 22.0 / 24.0).abs() < 1e-12);
    }

    struct Habitual;
    impl Limits for Habitual {
        fn vertical(&self) -> f64 {
            15.0
        }
        fn horizontal(&self, internal: bool, _: u8, port: u16) -> f64 {
            // a poller's baseline: 40 internal hosts on udp/161 (x 3); floors elsewhere
            if internal && port == 161 {
                relative_limit(10.0, 3.0, 40.0)
            } else {
                relative_limit(10.0, 3.0, 0.0)
            }
        }
        fn internal(&self, dst: u128) -> bool {
            dst < 1000
        }
    }

    #[test]
    fn relative_limits_table() {
        // (probes on udp/161 internal, probes on tcp/445 internal, ratio, scan?)
        let cases = [
            (40, 0, 40.0 / 120.0),
            (130, 0, 130.0 / 120.0),
            (40, 12, 1.2),
            (0, 9, 0.9),
        ];
        for (poll, smb, want) in cases {
            let mut p: Vec<Probe> = (0..poll).map(|d| (d as u128, 1, 161, 1.0)).collect();
            p.extend((0..smb).map(|d| (500 + d as u128, 0, 445, 1.0)));
            let s = shape(&p, &Habitual);
            assert!(
                (s.ratio() - want).abs() < 1e-12,
                "{poll} {smb}: {}",
                s.ratio()
            );
        }
        assert_eq!(relative_limit(10.0, 3.0, 2.0), 10.0);
        assert_eq!(relative_limit(10.0, 3.0, 200.0), 600.0);
    }

    #[test]
    fn slow_limit_table() {
        let c = PortScanConfig::default();
        // (baseline level per 5 minutes, limit per hour): an ordinary host's few peers keep the
        // floor or count once; a poller/scanner (3 x level above the short floor) once per 5 minutes
        let cases = [
            (0.0, 20.0),
            (0.3, 20.0),
            (3.0, 20.0),
            (3.3, 20.0),
            (4.0, 3.0 * 4.0 * 12.0),
            (27.0, 3.0 * 27.0 * 12.0),
        ];
        for (level, want) in cases {
            assert!((slow_limit(&c, level) - want).abs() < 1e-9, "{level}");
        }
        let hourly_windows = PortScanConfig {
            window_secs: 3_600,
            ..c
        };
        assert_eq!(slow_limit(&hourly_windows, 27.0), 81.0);
    }

    #[test]
    fn login_sweep_table() {
        // (sessions, distinct external hosts, minimum hosts, a sweep)
        let cases = [
            (145, 145, 10.0, true), // a worm: each victim once
            (20, 10, 10.0, true),   // twice each
            (21, 10, 10.0, false),  // more than twice each: a tool's servers
            (307, 29, 10.0, false), // a developer's ssh to its cloud servers
            (9, 9, 10.0, false),    // too few hosts
            (0, 0, 0.0, false),
        ];
        for (n, hosts, min, want) in cases {
            assert_eq!(login_sweep(n, hosts, min), want, "{n} {hosts} {min}");
        }
    }

    #[test]
    fn prefer_slow_table() {
        let f = |score: f64| Finding {
            score,
            ..Default::default()
        };
        // (short windows' score, slow windows' score, the slow finding is kept)
        let cases = [
            (None, 0.45, true),
            (Some(0.38), 0.70, true),
            (Some(0.38), 0.35, false),
            (Some(0.50), 0.90, false),
        ];
        for (short, slow, want) in cases {
            assert_eq!(
                prefer_slow(short.map(f).as_ref(), &f(slow)),
                want,
                "{short:?} {slow}"
            );
        }
    }

    #[test]
    fn classify_and_score_table() {
        assert_eq!(classify(20.0, 1.0, 15.0, 10.0), "vertical");
        assert_eq!(classify(1.0, 12.0, 15.0, 10.0), "horizontal");
        assert_eq!(classify(20.0, 12.0, 15.0, 10.0), "vertical+horizontal");
        let cases = [
            (1.0, 0.0, 0.3),
            (2.0, 0.0, 0.55),
            (4.0, 1.0, 0.3 + 0.5 * (2.0 / 3.0) + 0.2),
            (0.5, 0.5, 0.4),
        ];
        for (r, f, want) in cases {
            assert!(
                (scan_score(r, f) - want).abs() < 1e-12,
                "{r} {f}: {}",
                scan_score(r, f)
            );
        }
        assert!((scan_score(f64::INFINITY, 1.0) - 1.0).abs() < 1e-6);
    }
}
