//! `server_abuse`: external clients whose request rate or volume towards one of the organisation's
//! public servers breaks that server's normal (DoS-like bursts, scraping, bulk transfers).

use super::behaviour::{clock, describe_peer, parse_cidrs, Span};
use super::public_servers::{infer, InferParams};
use super::{DetectCtx, Detector};
use crate::baseline::stats::MAD_TO_SIGMA;
use crate::baseline::window_of;
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{score_from_ratio, Evidence, Finding};
use crate::ip;
use crate::output::table::human_bytes;
use ahash::{AHashMap, AHashSet};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The detector.
pub struct ServerAbuse;

/// `[detectors.server_abuse]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerAbuseConfig {
    /// The organisation's public server ranges (CIDR); flows towards them are checked. Empty: the
    /// public servers are inferred from the data.
    pub public_ranges: Vec<String>,
    /// Distinct external clients served on one port that make an address a public server.
    pub min_clients_count: u64,
    /// Distinct client networks (IPv4 /16, IPv6 /32) those clients must come from.
    pub min_client_networks_count: u64,
    /// More qualifying service ports than this: not a server (a honeypot, a gateway).
    pub max_service_ports_count: u64,
    /// A flow with nothing back, or at most this many bytes (up + down), served nothing.
    pub tiny_flow_bytes: u64,
    /// Robust deviations (1.4826 MAD) above the median of flows per client and window.
    pub k_flows_mad: f64,
    /// Flows per client, server and window never flagged below this.
    pub min_window_flows_count: u64,
    /// Robust deviations above the median of log bytes per client and window.
    pub k_log_bytes_mad: f64,
    /// Bytes per client, server and window never flagged below this.
    pub min_window_bytes: u64,
    /// Flows a window needs before its volume can be flagged (one huge flow is not abuse).
    pub min_volume_flows_count: u64,
    /// A client active towards a server in at least this share of the server's windows is one of
    /// its regulars: its rate is judged against its own level.
    pub regular_min_windows_ratio: f64,
    /// A regular's window is a rate burst only above this multiple of its own median flows per
    /// active window.
    pub regular_burst_ratio: f64,
    /// Consecutive windows of sustained volume that make bulk abuse on their own.
    pub sustained_windows_count: u64,
    /// Robust deviations above the median of log bytes per client and window that a window of a
    /// sustained run must reach (lower than `k_log_bytes_mad`: the run is the evidence).
    pub k_sustained_log_bytes_mad: f64,
}

impl Default for ServerAbuseConfig {
    fn default() -> Self {
        ServerAbuseConfig {
            public_ranges: Vec::new(),
            min_clients_count: 20,
            min_client_networks_count: 5,
            max_service_ports_count: 8,
            tiny_flow_bytes: 128,
            k_flows_mad: 10.0,
            min_window_flows_count: 25,
            k_log_bytes_mad: 6.0,
            min_window_bytes: 100_000_000,
            min_volume_flows_count: 5,
            regular_min_windows_ratio: 0.25,
            regular_burst_ratio: 3.0,
            sustained_windows_count: 3,
            k_sustained_log_bytes_mad: 3.0,
        }
    }
}

static SETTINGS: [Setting; 14] = [
    Setting {
        key: "public_ranges",
        doc: "public server ranges (CIDR) whose incoming flows are checked; empty = inferred from the data",
        range: Range::Strings,
    },
    Setting {
        key: "min_clients_count",
        doc: "distinct external clients served on one port that make an address a public server",
        range: Range::Int(2, 1_000_000_000),
    },
    Setting {
        key: "min_client_networks_count",
        doc: "distinct client networks (IPv4 /16, IPv6 /32) those clients must come from",
        range: Range::Int(1, 1_000_000_000),
    },
    Setting {
        key: "max_service_ports_count",
        doc: "an address serving more ports than this is not inferred as a server",
        range: Range::Int(1, 65_536),
    },
    Setting {
        key: "tiny_flow_bytes",
        doc: "a flow with nothing back or at most this many bytes (up + down) served nothing",
        range: Range::Int(0, 1_000_000),
    },
    Setting {
        key: "k_flows_mad",
        doc: "robust deviations above the median of flows per client and window",
        range: Range::Float(1.0, 1000.0),
    },
    Setting {
        key: "min_window_flows_count",
        doc: "flows per client, server and window never flagged below this",
        range: Range::Int(1, 1_000_000_000),
    },
    Setting {
        key: "k_log_bytes_mad",
        doc: "robust deviations above the median of log bytes per client and window",
        range: Range::Float(1.0, 100.0),
    },
    Setting {
        key: "min_window_bytes",
        doc: "bytes per client, server and window never flagged below this",
        range: Range::Int(1, 1_000_000_000_000_000),
    },
    Setting {
        key: "min_volume_flows_count",
        doc: "flows a window needs before its volume can be flagged",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "regular_min_windows_ratio",
        doc: "a client active in at least this share of a server's windows is a regular, judged by its own rate",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "regular_burst_ratio",
        doc: "a regular's window is a rate burst only above this multiple of its own median flows per window",
        range: Range::Float(1.0, 1000.0),
    },
    Setting {
        key: "sustained_windows_count",
        doc: "consecutive windows of sustained volume (each above the sustained threshold) that make bulk abuse",
        range: Range::Int(2, 1_000_000),
    },
    Setting {
        key: "k_sustained_log_bytes_mad",
        doc: "robust deviations above the median of log bytes per client and window for a window of a sustained run",
        range: Range::Float(0.5, 100.0),
    },
];

/// The `public_ranges` setting as CIDR blocks (the error names the key and the bad item).
fn public_ranges(cfg: &ServerAbuseConfig) -> Result<Vec<flowhound_geo::Cidr>> {
    parse_cidrs("detectors.server_abuse.public_ranges", &cfg.public_ranges)
}

/// The public servers as `server_abuse` sees them (its `public_ranges`, else inferred from the data),
/// as a test of a destination address: other detectors treat them as the network's own hosts.
pub fn public_server_test<'a>(ctx: &'a DetectCtx) -> Result<Box<dyn Fn(u128) -> bool + 'a>> {
    let cfg = super::settings_of(&ServerAbuse, ctx.config)?;
    let ranges = public_ranges(&cfg)?;
    if !ranges.is_empty() {
        return Ok(Box::new(move |a| ranges.iter().any(|c| c.contains_u128(a))));
    }
    let servers = infer(ctx, &infer_params(&cfg, ctx));
    Ok(Box::new(move |a| servers.contains_key(&a)))
}

/// The inference settings of a config (the service-port bound is `[baseline] server_max_port`).
pub fn infer_params(cfg: &ServerAbuseConfig, ctx: &DetectCtx) -> InferParams {
    InferParams {
        min_clients: cfg.min_clients_count,
        min_networks: cfg.min_client_networks_count,
        max_ports: cfg.max_service_ports_count as usize,
        max_port: ctx.config.baseline.server_max_port.min(65_535) as u16,
        tiny_bytes: cfg.tiny_flow_bytes,
    }
}

/// Median and robust scale (`1.4826 * MAD`) of values; `(0, 0)` when empty.
pub fn median_scale(values: &[f64]) -> (f64, f64) {
    let (med, mad) = super::beacon_math::median_mad(values);
    (med, MAD_TO_SIGMA * mad)
}

/// Thresholds of one server: flows ([`flows_threshold`]) and bytes
/// `max(min_bytes, exp(med_log + k_log * max(scale_log, 0.5)))`, from the per-cell flows and
/// `ln(1 + bytes)`.
pub fn thresholds(flows: (f64, f64), log_bytes: (f64, f64), cfg: &ServerAbuseConfig) -> (f64, f64) {
    let tf = flows_threshold(flows, cfg);
    let tb = (log_bytes.0 + cfg.k_log_bytes_mad * log_bytes.1.max(0.5))
        .exp()
        .max(cfg.min_window_bytes as f64);
    (tf, tb)
}

/// The count threshold `max(min_window_flows_count, med + k_flows_mad * max(scale, 1))` of a median
/// and robust scale of counts (flows per cell, or services touched beyond one).
pub fn flows_threshold((med, scale): (f64, f64), cfg: &ServerAbuseConfig) -> f64 {
    (med + cfg.k_flows_mad * scale.max(1.0)).max(cfg.min_window_flows_count as f64)
}

/// A window of a sustained run needs `max(min_window_bytes, exp(med_log + k_sustained *
/// max(scale_log, 0.5)))` bytes (its largest flow left out).
pub fn sustained_threshold(log_bytes: (f64, f64), cfg: &ServerAbuseConfig) -> f64 {
    (log_bytes.0 + cfg.k_sustained_log_bytes_mad * log_bytes.1.max(0.5))
        .exp()
        .max(cfg.min_window_bytes as f64)
}

/// The windows of `windows` (sorted, distinct) that lie in a run of at least `min_len`
/// consecutive windows.
pub fn in_runs(windows: &[i64], min_len: usize) -> Vec<i64> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=windows.len() {
        if i == windows.len() || windows[i] != windows[i - 1] + 1 {
            if i - start >= min_len.max(1) {
                out.extend_from_slice(&windows[start..i]);
            }
            start = i;
        }
    }
    out
}

/// The score of an observation against its threshold and the server's typical cell:
/// `(score_from_ratio(x / threshold) + score_from_ratio(x / max(typical, 1))) / 2`.
pub fn score(x: f64, threshold: f64, typical: f64) -> f64 {
    (score_from_ratio(x / threshold) + score_from_ratio(x / typical.max(1.0))) / 2.0
}

/// Whether a rate-only window of `flows` is a regular client's own level: the client is one of the
/// server's regulars (`regular`) and the window stays within `burst` times its own median flows per
/// active window, scaled up by the server's load in that window (`load_ratio`: the other clients'
/// flows in the window over the server's median window; busy hours raise every regular's rate).
pub fn legitimate_rate(
    flows: f64,
    (regular, own_median): (bool, f64),
    burst: f64,
    load_ratio: f64,
) -> bool {
    regular && flows <= burst * own_median * load_ratio.max(1.0)
}

/// Per (client, server): active windows, median flows and median bytes (largest flow left out) per
/// active window; per server: its windows; per (server, window): its flows, and per server the median
/// of those.
struct Habits {
    pairs: AHashMap<(u128, Service), (usize, f64, f64)>,
    servers: AHashMap<Service, usize>,
    load: AHashMap<(Service, i64), u64>,
    median_load: AHashMap<Service, f64>,
}

impl Habits {
    fn of(cells: &AHashMap<CellKey, Cell>) -> Habits {
        let mut per: AHashMap<(u128, Service), (Vec<f64>, Vec<f64>)> = AHashMap::new();
        let mut load: AHashMap<(Service, i64), u64> = AHashMap::new();
        for ((client, server, w), c) in cells {
            let e = per.entry((*client, *server)).or_default();
            e.0.push(c.flows as f64);
            e.1.push(c.spread_bytes() as f64);
            *load.entry((*server, *w)).or_default() += c.flows;
        }
        let pairs = per
            .into_iter()
            .map(|(k, (fl, by))| (k, (fl.len(), median_scale(&fl).0, median_scale(&by).0)))
            .collect();
        let mut loads: AHashMap<Service, Vec<f64>> = AHashMap::new();
        for ((server, _), n) in &load {
            loads.entry(*server).or_default().push(*n as f64);
        }
        let servers = loads.iter().map(|(s, v)| (*s, v.len())).collect();
        let median_load = loads
            .into_iter()
            .map(|(s, v)| (s, median_scale(&v).0))
            .collect();
        Habits {
            pairs,
            servers,
            load,
            median_load,
        }
    }

    fn is_regular(&self, client: u128, server: Service, min_share: f64) -> bool {
        let windows = self.servers.get(&server).copied().unwrap_or(0);
        let own = self.pairs.get(&(client, server)).map_or(0, |p| p.0);
        own >= 3 && own as f64 >= min_share * windows as f64
    }

    /// The other clients' flows to the server in the window of `k` over the server's median window.
    fn load_ratio(&self, k: &CellKey, own_flows: u64) -> f64 {
        let total = self.load.get(&(k.1, k.2)).copied().unwrap_or(0);
        let median = self.median_load.get(&k.1).copied().unwrap_or(0.0);
        if median <= 0.0 {
            return 1.0;
        }
        total.saturating_sub(own_flows) as f64 / median
    }
}

#[derive(Default, Clone, Copy)]
struct Cell {
    flows: u64,
    bytes: u64,
    /// The largest flow's bytes.
    largest: u64,
}

impl Cell {
    /// The bytes of the window's flows but its largest: one huge download among a client's ordinary
    /// requests (a big file, a Pareto tail draw) is no bulk abuse; many big ones are.
    fn spread_bytes(&self) -> u64 {
        self.bytes - self.largest
    }
}

struct ServerRef {
    thr_flows: f64,
    thr_bytes: f64,
    thr_sustained: f64,
    typical_flows: f64,
    typical_bytes: f64,
}

#[derive(Default)]
struct Client {
    span: Span,
    best: f64,
    why: String,
    hot_windows: u64,
}

impl Detector for ServerAbuse {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = ServerAbuseConfig;
    fn name(&self) -> &'static str {
        "server_abuse"
    }
    fn description(&self) -> &'static str {
        "external clients whose request rate or volume towards a public server breaks its normal (DoS, scraping)"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn validate(&self, cfg: &ServerAbuseConfig) -> Result<()> {
        public_ranges(cfg).map(|_| ())
    }
    fn run(&self, cfg: &ServerAbuseConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let ranges = public_ranges(cfg)?;
        let f = ctx.flows;
        let inferred = ranges.is_empty();
        let rows: Vec<usize> = if inferred {
            let servers = infer(ctx, &infer_params(cfg, ctx));
            (0..f.len())
                .filter(|&i| {
                    !ctx.nets.contains(f.src[i])
                        && servers.get(&f.dst[i]).is_some_and(|ports| {
                            ports.contains(&(f.proto[i].index() as u8, f.dst_port[i]))
                        })
                })
                .collect()
        } else {
            (0..f.len())
                .filter(|i| {
                    ranges.iter().any(|c| c.contains_u128(f.dst[*i]))
                        && !ctx.nets.contains(f.src[*i])
                })
                .collect()
        };
        let login = super::inbound_attack::login_services(ctx)?;
        let hot = hot_cells(cfg, &cells(ctx, &rows), &login);
        let clients = collect(ctx, &rows, &hot);
        let mut out: Vec<Finding> = clients
            .into_iter()
            .map(|(c, a)| finding(ctx, c, a, inferred))
            .collect();
        out.sort_by(|a, b| a.hosts.cmp(&b.hosts));
        Ok(out)
    }
}

/// A public server's service: (address, protocol index, port). A client is judged against the
/// typical client of the same service: a VPN user moving gigabytes over udp/4500 in a record a
/// minute is not compared with the password guessers and scanners of the gateway's other ports.
type Service = (u128, u8, u16);

/// (client, service, window).
type CellKey = (u128, Service, i64);

fn cells(ctx: &DetectCtx, rows: &[usize]) -> AHashMap<CellKey, Cell> {
    let f = ctx.flows;
    let mut m: AHashMap<CellKey, Cell> = AHashMap::new();
    for &i in rows {
        let c = m.entry(cell_key(ctx, i)).or_default();
        let b = f.up[i] + f.down[i];
        c.flows += 1;
        c.bytes += b;
        c.largest = c.largest.max(b);
    }
    m
}

/// "22/tcp".
fn service_text((_, proto, port): Service) -> String {
    super::inbound_attack::service_text((proto, port))
}

/// The cell of flow `i`.
fn cell_key(ctx: &DetectCtx, i: usize) -> CellKey {
    let f = ctx.flows;
    let service = (f.dst[i], f.proto[i].index() as u8, f.dst_port[i]);
    (
        f.src[i],
        service,
        window_of(f.ts[i], ctx.baseline.window_secs),
    )
}

fn server_refs(
    cfg: &ServerAbuseConfig,
    cells: &AHashMap<CellKey, Cell>,
) -> AHashMap<Service, ServerRef> {
    let mut per: AHashMap<Service, (Vec<f64>, Vec<f64>)> = AHashMap::new();
    for ((_, server, _), c) in cells {
        let e = per.entry(*server).or_default();
        e.0.push(c.flows as f64);
        e.1.push((1.0 + c.bytes as f64).ln());
    }
    per.into_iter()
        .map(|(s, (fl, lb))| {
            let (mf, ml) = (median_scale(&fl), median_scale(&lb));
            let (thr_flows, thr_bytes) = thresholds(mf, ml, cfg);
            let r = ServerRef {
                thr_flows,
                thr_bytes,
                thr_sustained: sustained_threshold(ml, cfg),
                typical_flows: mf.0,
                typical_bytes: ml.0.exp(),
            };
            (s, r)
        })
        .collect()
}

/// (client, server address, window): where a client was abnormal.
type HotKey = (u128, u128, i64);

/// Keeps the higher of two scores for a key.
fn keep(hot: &mut AHashMap<HotKey, (f64, String)>, key: HotKey, s: f64, why: String) {
    if hot.get(&key).is_none_or(|o| o.0 < s) {
        hot.insert(key, (s, why));
    }
}

/// The (client, server, window) of a cell.
fn hot_key(k: &CellKey) -> HotKey {
    (k.0, k.1 .0, k.2)
}

/// The login services, as (protocol index, port), and the attempts one source makes there in a
/// window to be a cracker on its own ([`super::inbound_attack::login_services`]).
type Login = (AHashSet<(u8, u16)>, u64);

/// Flagged (client, server, window) with their score and a reason, each cell judged against its
/// service.
fn hot_cells(
    cfg: &ServerAbuseConfig,
    cells: &AHashMap<CellKey, Cell>,
    login: &Login,
) -> AHashMap<HotKey, (f64, String)> {
    let mut hot = AHashMap::new();
    let refs = server_refs(cfg, cells);
    let h = Habits::of(cells);
    rate_cells(cfg, cells, login, &refs, &h, &mut hot);
    spread_cells(cfg, cells, &mut hot);
    volume_cells(cfg, cells, &refs, &mut hot);
    sustained_cells(cfg, cells, &refs, &h, &mut hot);
    hot
}

/// Per (client, server, window): how many of the server's services the client touched.
fn spreads(cells: &AHashMap<CellKey, Cell>) -> AHashMap<HotKey, u64> {
    let mut per: AHashMap<HotKey, u64> = AHashMap::new();
    for k in cells.keys() {
        *per.entry(hot_key(k)).or_default() += 1;
    }
    per
}

/// A client spreading over a server's services (a vertical scan, logins tried on every service) is
/// judged per server on how many services it touched beyond one, against the server's other
/// clients: most use one or two, so the median is 0 and the floor `min_window_flows_count` decides.
/// An uptime monitor checking 80 and 443 every minute, or a VPN user's IKE packets beside its
/// udp/4500 records, spreads over one more service, whatever its rate.
fn spread_cells(
    cfg: &ServerAbuseConfig,
    cells: &AHashMap<CellKey, Cell>,
    hot: &mut AHashMap<HotKey, (f64, String)>,
) {
    let extra: AHashMap<HotKey, u64> = spreads(cells)
        .into_iter()
        .map(|(k, n)| (k, n - 1))
        .collect();
    let mut per_server: AHashMap<u128, Vec<f64>> = AHashMap::new();
    for ((_, server, _), n) in &extra {
        per_server.entry(*server).or_default().push(*n as f64);
    }
    let thr: AHashMap<u128, (f64, f64)> = per_server
        .into_iter()
        .map(|(s, v)| {
            let m = median_scale(&v);
            (s, (flows_threshold(m, cfg), m.0))
        })
        .collect();
    for (k, n) in extra {
        let Some(&(t, typical)) = thr.get(&k.1) else {
            continue;
        };
        if n as f64 <= t {
            continue;
        }
        let why = format!(
            "{} of the server's services in one window (typical client {typical:.0} beyond one, threshold {t:.0})",
            n + 1
        );
        keep(hot, k, score(n as f64, t, typical), why);
    }
}

/// Windows with more flows than the service's threshold, unless a regular's own level. On a login
/// service the threshold is at least the attempts that make one source a cracker: the Internet's
/// password guessers try a few dozen times an hour at every exposed ssh, and a crowd of them is
/// `inbound_attack`'s to judge.
fn rate_cells(
    cfg: &ServerAbuseConfig,
    cells: &AHashMap<CellKey, Cell>,
    login: &Login,
    refs: &AHashMap<Service, ServerRef>,
    h: &Habits,
    hot: &mut AHashMap<HotKey, (f64, String)>,
) {
    let regular = |k: &CellKey, flows: f64| {
        let own = h.pairs.get(&(k.0, k.1)).map_or(0.0, |p| p.1);
        let is_regular = h.is_regular(k.0, k.1, cfg.regular_min_windows_ratio);
        let load = h.load_ratio(k, flows as u64);
        legitimate_rate(flows, (is_regular, own), cfg.regular_burst_ratio, load)
    };
    for (k, c) in cells {
        let Some(r) = refs.get(&k.1) else { continue };
        let (_, proto, port) = k.1;
        let (thr, of_login) = if login.0.contains(&(proto, port)) {
            (r.thr_flows.max(login.1 as f64), ", a login service,")
        } else {
            (r.thr_flows, "")
        };
        if c.flows as f64 <= thr || regular(k, c.flows as f64) {
            continue;
        }
        let why = format!(
            "{} flows in one window (typical client of {}{of_login} {:.0}, threshold {thr:.0})",
            c.flows,
            service_text(k.1),
            r.typical_flows,
        );
        let s = score(c.flows as f64, thr, r.typical_flows);
        keep(hot, hot_key(k), s, why);
    }
}

/// Windows of at least `min_volume_flows_count` flows carrying more than the service's threshold.
fn volume_cells(
    cfg: &ServerAbuseConfig,
    cells: &AHashMap<CellKey, Cell>,
    refs: &AHashMap<Service, ServerRef>,
    hot: &mut AHashMap<HotKey, (f64, String)>,
) {
    for (k, c) in cells {
        let Some(r) = refs.get(&k.1) else { continue };
        if c.flows < cfg.min_volume_flows_count || c.spread_bytes() as f64 <= r.thr_bytes {
            continue;
        }
        let why = format!(
            "{} in {} flows in one window ({} without its largest flow; typical client of {} {}, threshold {})",
            human_bytes(c.bytes as f64),
            c.flows,
            human_bytes(c.spread_bytes() as f64),
            service_text(k.1),
            human_bytes(r.typical_bytes),
            human_bytes(r.thr_bytes)
        );
        let s = score(c.spread_bytes() as f64, r.thr_bytes, r.typical_bytes);
        keep(hot, hot_key(k), s, why);
    }
}

/// Sustained bulk transfer: a client whose windows carry more than the service's sustained threshold
/// (its largest flow left out, with at least `min_volume_flows_count` flows) for
/// `sustained_windows_count` windows in a row, unless it is a regular of the service within
/// `regular_burst_ratio` times its own median window. Ordinary clients reach the tail of a server's
/// heavy-tailed downloads now and then, not window after window.
fn sustained_cells(
    cfg: &ServerAbuseConfig,
    cells: &AHashMap<CellKey, Cell>,
    refs: &AHashMap<Service, ServerRef>,
    h: &Habits,
    hot: &mut AHashMap<HotKey, (f64, String)>,
) {
    let mut heavy: AHashMap<(u128, Service), Vec<i64>> = AHashMap::new();
    for (k, c) in cells {
        let Some(r) = refs.get(&k.1) else { continue };
        let spread = c.spread_bytes() as f64;
        let own = h.pairs.get(&(k.0, k.1)).map_or(0.0, |p| p.2);
        let habit = h.is_regular(k.0, k.1, cfg.regular_min_windows_ratio)
            && spread <= cfg.regular_burst_ratio * own;
        if c.flows >= cfg.min_volume_flows_count && spread > r.thr_sustained && !habit {
            heavy.entry((k.0, k.1)).or_default().push(k.2);
        }
    }
    for ((client, service), mut windows) in heavy {
        windows.sort_unstable();
        let Some(r) = refs.get(&service) else {
            continue;
        };
        let run = in_runs(&windows, cfg.sustained_windows_count as usize);
        let n = run.len();
        for w in run {
            let k = (client, service, w);
            let c = cells[&k];
            let why = format!(
                "{} in {} flows in one window, sustained: {n} windows, at least {} in a row, above {} (largest flow left out; typical client of {} {})",
                human_bytes(c.bytes as f64),
                c.flows,
                cfg.sustained_windows_count,
                human_bytes(r.thr_sustained),
                service_text(service),
                human_bytes(r.typical_bytes)
            );
            let s = score(c.spread_bytes() as f64, r.thr_sustained, r.typical_bytes);
            keep(hot, hot_key(&k), s, why);
        }
    }
}

fn collect(
    ctx: &DetectCtx,
    rows: &[usize],
    hot: &AHashMap<HotKey, (f64, String)>,
) -> AHashMap<u128, Client> {
    let f = ctx.flows;
    let mut clients: AHashMap<u128, Client> = AHashMap::new();
    for &i in rows {
        let Some((s, why)) = hot.get(&hot_key(&cell_key(ctx, i))) else {
            continue;
        };
        let c = clients.entry(f.src[i]).or_default();
        c.span.add(i, f.ts[i], f.dst[i], f.up[i] + f.down[i]);
        if *s > c.best {
            (c.best, c.why) = (*s, why.clone());
        }
    }
    for (k, _) in hot.iter() {
        if let Some(c) = clients.get_mut(&k.0) {
            c.hot_windows += 1;
        }
    }
    clients
}

fn finding(ctx: &DetectCtx, client: u128, c: Client, inferred: bool) -> Finding {
    let server = c.span.ranked_peers().first().map_or(0, |p| p.0);
    let explanation = format!(
        "{} sent {} flows ({}) to public server {} between {} and {} in {} abnormal window(s); worst: {}",
        describe_peer(ctx.geo, client),
        c.span.rows.len(),
        human_bytes(c.span.bytes as f64),
        ip::format(server),
        clock(c.span.first, true),
        clock(c.span.last, true),
        c.hot_windows,
        c.why
    );
    let mut details = serde_json::Map::new();
    details.insert(
        "reference".into(),
        json!("test input (robust per-server statistics)"),
    );
    details.insert("abnormal_windows".into(), json!(c.hot_windows));
    let servers = if inferred {
        "inferred from the data (many external clients from many networks served on a few ports)"
    } else {
        "public_ranges"
    };
    details.insert("servers".into(), json!(servers));
    details.insert("bytes".into(), json!(c.span.bytes));
    let evidence = Evidence {
        metric: format!(
            "flows and bytes per client, server and {} s window",
            ctx.baseline.window_secs
        ),
        observed: c.span.rows.len() as f64,
        baseline: None,
        threshold: None,
        explanation,
        details,
    };
    let score = c.best;
    c.span.finding(
        "server_abuse",
        "server_abuse",
        score,
        vec![ip::format(client)],
        evidence,
    )
}

/// Documentation for `docs/detectors.md`.
pub const DOC: &str = r#"## `server_abuse`

**Looks at** flows from external clients towards the organisation's public servers. With
`public_ranges` set, those are every flow whose destination is in the ranges. Otherwise (the default)
the public servers are inferred from the data.

**Inference.** An address (internal or not: public servers often sit outside the internal ranges,
like a `servers.parquet` in 200.0.0.0/24) is a public server on a service (protocol, port at most
`baseline.server_max_port`) when at least `min_clients_count` distinct external clients were *served*
there (something came back and the flow carried more than `tiny_flow_bytes`), from at least
`min_client_networks_count` distinct networks (IPv4 /16, IPv6 /32), and when it has at most
`max_service_ports_count` such services. Only its flows on those services are checked. An internal host
that a normal-period baseline knows as busy (at least `min_clients_count` distinct peers) needs a
quarter of the clients. Why these defaults: the baseline calls an internal service a server with 3
internal clients; external clients are cheap to come by (scanners, crawlers), so an order of magnitude
more, 20; scanners get no data back from closed ports and so never make a server; requiring 5 client
networks keeps out a popular external service (a resolver, a CDN) reached by many of *our* hosts when
their addresses are not declared internal (they share one or two networks), while a real public
server's clients come from everywhere; a server offers a few services, and an address serving more
than 8 is a honeypot or a gateway.

**Formula.** Flows and bytes are summed per (client, service, window of `baseline.window_secs`), a
service being a server's (protocol, port): each client is judged against the typical client of the
same service (a VPN gateway's users move hundreds of megabytes an hour over udp/4500 in a record a
minute, while its ssh port sees password guessers and scanners of a flow or two; a mail server's IMAP
users download far more than its SMTP senders). Per service, over all its cells, the median and robust scale (`1.4826 * MAD`) of the flow counts and of
`ln(1 + bytes)` are computed on the test input itself: the baseline holds no per-client cells of public
servers (a `servers.parquet` spanning both periods is test input only), and a handful of abusers cannot
move the median of a server's client cells, as in single-capture mode. A cell is abnormal when
`flows > max(min_window_flows_count, median + k_flows_mad * max(scale, 1))` (rate: DoS bursts,
scraping) or, with at least `min_volume_flows_count` flows,
`bytes > max(min_window_bytes, exp(median_log + k_log_bytes_mad * max(scale_log, 0.5)))` (volume),
where `bytes` leaves out the window's largest flow: one huge download among a client's ordinary
requests (a big file; web sizes are heavy-tailed) is not bulk abuse, many big ones are.
`score = (score_from_ratio(x / threshold) + score_from_ratio(x / typical)) / 2` for the worst cell.
`hosts` are the external clients, `peers` the servers; `details.servers` says whether the servers were
configured or inferred.

A client spreading over a server's services (a vertical scan, logins tried on every service) is
judged per server too: how many services it touched beyond one in a window, against the same count
of the server's other clients (most use one or two: the median is 0 and `min_window_flows_count`
decides). An uptime monitor checking 80 and 443 every minute, or a VPN user's IKE packets beside its
udp/4500 records, spreads over one more service; a source touching 35 ports of an exposed PC in an
hour (one probe each, so no service sees more than its typical client) spreads over 34.

On a login service (`inbound_attack`'s `auth_services`: ssh, RDP, telnet, IMAP, ...) the rate threshold
is at least `inbound_attack`'s `heavy_brute_attempts_count` (100 attempts a window), the bar at which
one source is a cracker on its own: the Internet's password guessers try a few dozen times an hour at
every exposed ssh (an independent simulation's background guessers reached 27-59 attempts in their
busiest hour: 409 medium findings over 48 networks), and a crowd of them is `inbound_attack`'s to judge.

A client active towards the server in at least `regular_min_windows_ratio` of the server's windows
(and 3 or more) is one of its regulars: its rate is its own habit, and one of its windows is a rate
burst only above `regular_burst_ratio` times its median flows per active window, times the server's
load in that window when it is above usual (the other clients' flows over the server's median window:
at the busy hour of the day every regular is busier) (a busy API client or proxy is not a DoS; a
regular that suddenly multiplies its rate still is). Volume is judged as before.

**Sustained volume.** A client whose windows each carry more than
`max(min_window_bytes, exp(median_log + k_sustained_log_bytes_mad * max(scale_log, 0.5)))` (largest
flow left out, at least `min_volume_flows_count` flows) for `sustained_windows_count` windows in a row
is abnormal in each of them, unless it is a regular of the server within `regular_burst_ratio` times its
own median window. A web server's downloads are heavy-tailed: an ordinary client reaches the tail now
and then, so one window must be far out (`k_log_bytes_mad`), but a bulk puller (a scraper mirroring
the site, data theft through the public interface) stays in the tail hour after hour, where three
robust deviations suffice.

**Blind spots.** Distributed attacks where each client stays under the per-client thresholds (look at
per-server totals instead); slow scraping below `min_window_flows_count` per window; a public server
with fewer than `min_clients_count` served clients in the test input (set `public_ranges`).

**Tuning.** Set `public_ranges` (e.g. `["200.0.0.0/24"]`) to name the servers yourself. Lower
`min_window_flows_count` for small sites; raise `k_log_bytes_mad` when the servers host large
downloads.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_scale_table() {
        let cases: [(&[f64], f64, f64); 3] = [
            (&[], 0.0, 0.0),
            (&[1.0, 1.0, 1.0, 50.0], 1.0, 0.0),
            (&[1.0, 2.0, 3.0, 4.0, 5.0], 3.0, 1.4826),
        ];
        for (xs, m, s) in cases {
            let (gm, gs) = median_scale(xs);
            assert!(
                (gm - m).abs() < 1e-12 && (gs - s).abs() < 1e-12,
                "{xs:?}: {gm} {gs}"
            );
        }
    }

    #[test]
    fn thresholds_table() {
        let cfg = ServerAbuseConfig::default();
        // flows: max(25, 1 + 10 * max(0, 1)) = 25; bytes: max(1e8, e^(10 + 6 * 0.5)) = 1e8
        assert_eq!(thresholds((1.0, 0.0), (10.0, 0.0), &cfg), (25.0, 1e8));
        // flows: 20 + 10 * 3 = 50; bytes: e^(15 + 6 * 2) = e^27
        let (tf, tb) = thresholds((20.0, 3.0), (15.0, 2.0), &cfg);
        assert_eq!(tf, 50.0);
        assert!((tb - 27f64.exp()).abs() < 1e-3 * tb);
    }

    #[test]
    fn legitimate_rate_table() {
        // (flows, (regular, own median), server load ratio) -> a regular's own level?
        let cases = [
            (45.0, (true, 33.0), 1.0, true),   // a busy regular at its usual rate
            (120.0, (true, 33.0), 1.0, false), // a regular multiplying its rate
            (33.0, (false, 33.0), 1.0, false), // not a regular: the server's thresholds decide
            (99.0, (true, 33.0), 1.0, true),   // exactly three times its median
            (46.0, (true, 15.0), 1.0, false),  // over three times its median on an average hour
            (46.0, (true, 15.0), 2.0, true), // the same at the server's busy hour (twice the load)
            (46.0, (true, 15.0), 0.2, false), // a quiet hour never lowers the bar below its own
            (400.0, (true, 15.0), 2.0, false), // a flood at the busy hour still stands out
        ];
        for (flows, own, load, want) in cases {
            assert_eq!(
                legitimate_rate(flows, own, 3.0, load),
                want,
                "{flows} {own:?} {load}"
            );
        }
    }

    /// One huge download among a client's ordinary requests is not bulk abuse; many big flows are.
    #[test]
    fn volume_leaves_out_the_windows_largest_flow() {
        let cfg = ServerAbuseConfig::default();
        let server: Service = (7, 0, 443);
        let mut cells: AHashMap<CellKey, Cell> = AHashMap::new();
        for client in 100..400u128 {
            for w in 0..3 {
                let c = Cell {
                    flows: 3,
                    bytes: 60_000 + client as u64 * 10,
                    largest: 30_000,
                };
                cells.insert((client, server, w), c);
            }
        }
        let cases = [
            // (flows, bytes, largest flow) -> flagged by volume? (20 flows: under the rate threshold)
            ((20, 2_100_000_000, 2_058_000_000), false), // a 2 GB file among 19 requests
            ((20, 5_000_000_000, 300_000_000), true),    // 20 bulk downloads of 250 MB
            ((5, 600_000_000, 150_000_000), true),       // a few big ones still add up
        ];
        for (i, ((flows, bytes, largest), want)) in cases.into_iter().enumerate() {
            let mut all = cells.clone();
            let key = (1_000 + i as u128, server, 1);
            all.insert(
                key,
                Cell {
                    flows,
                    bytes,
                    largest,
                },
            );
            let hot = hot_cells(&cfg, &all, &no_login());
            assert_eq!(
                hot.contains_key(&(key.0, server.0, key.2)),
                want,
                "{flows} {bytes} {largest}"
            );
        }
    }

    #[test]
    fn in_runs_table() {
        let cases: [(&[i64], usize, &[i64]); 6] = [
            (&[], 3, &[]),
            (&[4, 5], 3, &[]),
            (&[4, 5, 6], 3, &[4, 5, 6]),
            (&[1, 3, 5, 7], 2, &[]), // every other window is no run
            (&[1, 2, 3, 7, 9, 10, 11, 12], 3, &[1, 2, 3, 9, 10, 11, 12]),
            (&[8], 1, &[8]),
        ];
        for (w, n, want) in cases {
            assert_eq!(in_runs(w, n), want, "{w:?} {n}");
        }
    }

    /// A bulk puller below the one-window volume threshold for five hours in a row is abnormal; a
    /// client as heavy for two hours, or a regular at its own heavy level, is not.
    #[test]
    fn sustained_volume_table() {
        let cfg = ServerAbuseConfig::default();
        let server: Service = (7, 0, 443);
        let mut cells: AHashMap<CellKey, Cell> = AHashMap::new();
        let typical = |b| Cell {
            flows: 5,
            bytes: b,
            largest: b / 4,
        };
        // heavy-tailed ordinary windows: e^(11 + 2z), z spread over [-2, 2] (60 kB median, up to 3 MB)
        for client in 100..400u128 {
            for w in 0..24 {
                if (client as i64 + w) % 6 == 0 {
                    let z = ((client as i64 * 7 + w * 13) % 41 - 20) as f64 / 10.0;
                    cells.insert((client, server, w), typical((11.0 + 2.0 * z).exp() as u64));
                }
            }
        }
        // a regular mirror pulling 4 GB every hour
        for w in 0..24 {
            cells.insert((50, server, w), typical(4_000_000_000));
        }
        let heavy = Cell {
            flows: 15,
            bytes: 3_000_000_000,
            largest: 200_000_000,
        };
        for w in 10..15 {
            cells.insert((60, server, w), heavy); // five hours in a row
        }
        for w in [3, 4, 9, 20] {
            cells.insert((61, server, w), heavy); // two in a row, then apart
        }
        let refs = server_refs(&cfg, &cells);
        let r = &refs[&server];
        assert!(
            r.thr_bytes > 5e9,
            "one window alone is not enough: {}",
            r.thr_bytes
        );
        assert!(r.thr_sustained < 2.8e9, "{}", r.thr_sustained);
        let hot = hot_cells(&cfg, &cells, &no_login());
        let flagged = |c: u128| {
            (0..24)
                .filter(|w| hot.contains_key(&(c, server.0, *w)))
                .count()
        };
        assert_eq!(flagged(60), 5);
        assert_eq!(flagged(61), 0);
        assert_eq!(flagged(50), 0);
    }

    /// A VPN gateway: its users move megabytes to gigabytes an hour over udp/4500, while the password
    /// guessers of its ssh port send a few tiny flows. Each service has its own typical client: a
    /// user's busy evening is no bulk abuse, and a guesser hammering ssh still stands out.
    #[test]
    fn each_service_has_its_own_typical_client() {
        let cfg = ServerAbuseConfig::default();
        let (vpn, ssh): (Service, Service) = ((7, 1, 4500), (7, 0, 22));
        let mut cells: AHashMap<CellKey, Cell> = AHashMap::new();
        for client in 100..1_600u128 {
            // guessers and scanners, outnumbering the users: 1-10 attempts an hour of a few hundred
            // bytes, in one or two hours each
            for w in 0..(1 + (client % 2) as i64) {
                let flows = 1 + (client % 10) as u64;
                let c = Cell {
                    flows,
                    bytes: flows * 400,
                    largest: 400,
                };
                cells.insert((client, ssh, (client as i64 + w) % 48), c);
            }
        }
        for user in 2_000..2_060u128 {
            // users: a session record a minute, e^(16 + z) bytes an hour, z over [-2, 2]
            for w in 0..8 {
                let z = ((user as i64 * 7 + w * 13) % 41 - 20) as f64 / 10.0;
                let bytes = (16.0 + z).exp() as u64;
                let c = Cell {
                    flows: 60,
                    bytes,
                    largest: bytes / 5,
                };
                cells.insert((user, vpn, (user as i64 + w) % 48), c);
            }
        }
        let evening = Cell {
            flows: 60,
            bytes: 485_000_000,
            largest: 12_000_000,
        };
        for w in 40..45 {
            cells.insert((5_000, vpn, w), evening); // a user's five busy hours
        }
        let hammer = Cell {
            flows: 240,
            bytes: 96_000,
            largest: 400,
        };
        cells.insert((6_000, ssh, 30), hammer);
        let hot = hot_cells(&cfg, &cells, &no_login());
        let flagged = |c: u128| hot.keys().filter(|k| k.0 == c).count();
        assert_eq!(flagged(5_000), 0, "{:?}", hot.get(&(5_000, 7, 40)));
        assert_eq!(flagged(6_000), 1);
        assert_eq!(hot.len(), 1, "{:?}", hot.keys().collect::<Vec<_>>());
    }

    /// One source touching 35 ports of a server in an hour (a vertical scan: one flow each, so no
    /// service sees more than its typical client) spreads over the server; a VPN user's record a
    /// minute on udp/4500 with a few IKE packets on udp/500, or a monitor checking 80 and 443 every
    /// minute, does not.
    #[test]
    fn spreading_over_a_servers_services_is_judged_per_server() {
        let cfg = ServerAbuseConfig::default();
        let server = 7u128;
        let mut cells: AHashMap<CellKey, Cell> = AHashMap::new();
        let one = |flows: u64| each(flows, 60_000);
        for user in 100..160u128 {
            for w in 0..6 {
                cells.insert((user, (server, 1, 4500), w), one(60));
                cells.insert((user, (server, 1, 500), w), one(2));
            }
        }
        for port in 1..=35u16 {
            cells.insert((900, (server, 0, port), 3), one(1)); // the vertical scan
        }
        for port in 1..=5u16 {
            cells.insert((901, (server, 0, port), 3), one(1)); // a glance at five ports
        }
        for port in [80, 443] {
            cells.insert((902, (server, 0, port), 3), one(60)); // an uptime monitor
        }
        let hot = hot_cells(&cfg, &cells, &no_login());
        assert_eq!(clients(&hot), vec![900], "{hot:?}");
        assert!(hot[&(900, server, 3)]
            .1
            .starts_with("35 of the server's services"));
    }

    /// A cell of `flows` flows of `bytes` each.
    fn each(flows: u64, bytes: u64) -> Cell {
        Cell {
            flows,
            bytes: flows * bytes,
            largest: bytes,
        }
    }

    fn no_login() -> Login {
        (AHashSet::new(), 100)
    }

    /// The flagged clients, sorted.
    fn clients(hot: &AHashMap<HotKey, (f64, String)>) -> Vec<u128> {
        let mut v: Vec<u128> = hot.keys().map(|k| k.0).collect();
        v.sort_unstable();
        v
    }

    /// On a login service one source is abusive at the attempts that make a cracker (100 an hour by
    /// default), not at the 25 flows of the general floor: a guesser trying 45 passwords in an hour
    /// is the Internet's background at every exposed ssh; 240 is a cracker.
    #[test]
    fn a_login_service_needs_a_crackers_rate() {
        let cfg = ServerAbuseConfig::default();
        let ssh: Service = (7, 0, 22);
        let mut cells: AHashMap<CellKey, Cell> = AHashMap::new();
        let tries = |flows: u64| each(flows, 2_000);
        for client in 100..400u128 {
            cells.insert((client, ssh, client as i64 % 48), tries(1));
        }
        cells.insert((1_000, ssh, 3), tries(45));
        cells.insert((1_001, ssh, 4), tries(240));
        let flagged = |login: &Login| clients(&hot_cells(&cfg, &cells, login));
        let login: Login = ([(0u8, 22u16)].into_iter().collect(), 100);
        assert_eq!(flagged(&no_login()), vec![1_000, 1_001]);
        assert_eq!(flagged(&login), vec![1_001]);
        let web: Login = ([(0u8, 443u16)].into_iter().collect(), 100);
        assert_eq!(flagged(&web), vec![1_000, 1_001], "only the login services");
    }

    #[test]
    fn score_table() {
        // (score_from_ratio(2) + score_from_ratio(16)) / 2 = (0.4 + 0.7) / 2
        assert!((score(32.0, 16.0, 2.0) - 0.55).abs() < 1e-12);
        assert!((score(1.0, 16.0, 0.0) - 0.1).abs() < 1e-12);
    }
}
