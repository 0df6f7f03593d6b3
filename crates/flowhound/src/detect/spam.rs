//! `spam`: an internal host delivering mail straight to many external mail servers (SMTP on
//! tcp/25). A network's mail leaves through its relays; a workstation or a device that speaks SMTP
//! to hundreds of the Internet's mail exchangers is a spam bot (Neris and Virut in CTU-13, Cutwail,
//! Necurs). The network's relays and mail servers are left out, and a host that delivered to as
//! many servers in the baseline is held low. Pure maths in [`Delivery::qualifies`] and [`score`].

use super::behaviour::{describe_peer, span_text, Span};
use super::{DetectCtx, Detector};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{Evidence, Finding};
use crate::ip;
use crate::output::table::human_bytes;
use crate::schema::Proto;
use ahash::{AHashMap, AHashSet};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The detector.
pub struct Spam;

/// SMTP delivery: the port mail exchangers receive mail on.
pub const SMTP_PORT: u16 = 25;

/// Ports whose server (in the baseline's inventory) is a mail server: delivery, SMTPS, submission.
pub const MAIL_SERVER_PORTS: [u16; 3] = [25, 465, 587];

/// `[detectors.spam]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpamConfig {
    /// Distinct external mail servers a host must deliver to (or try) before it is reported.
    pub min_servers_count: u64,
    /// Servers at which the breadth term is 0.5.
    pub half_servers_count: f64,
    /// Score at the gate (breadth term 0).
    pub floor_score_ratio: f64,
    /// Score the breadth term tends to.
    pub max_score_ratio: f64,
    /// A host whose own baseline level of external servers on tcp/25 per fan-out window, times
    /// this, reaches its busiest window here delivers mail as it did in the baseline (held low).
    pub baseline_fanout_ratio: f64,
}

impl Default for SpamConfig {
    fn default() -> Self {
        SpamConfig {
            min_servers_count: 10,
            half_servers_count: 25.0,
            floor_score_ratio: 0.4,
            max_score_ratio: 0.9,
            baseline_fanout_ratio: 3.0,
        }
    }
}

const UNIT: Range = Range::Float(0.0, 1.0);

static SETTINGS: [Setting; 5] = [
    Setting {
        key: "min_servers_count",
        doc: "distinct external mail servers (tcp/25) a host must deliver to, or try, before it is reported",
        range: Range::Int(1, 1_000_000_000),
    },
    Setting {
        key: "half_servers_count",
        doc: "servers at which the breadth term is 0.5",
        range: Range::Float(0.001, 1e9),
    },
    Setting {
        key: "floor_score_ratio",
        doc: "score at the gate (breadth term 0)",
        range: UNIT,
    },
    Setting {
        key: "max_score_ratio",
        doc: "score the breadth term tends to (critical still needs corroboration)",
        range: UNIT,
    },
    Setting {
        key: "baseline_fanout_ratio",
        doc: "a host whose own baseline level of external servers on tcp/25 per fan-out window, times this, reaches its busiest window delivers mail as in the baseline: held low",
        range: Range::Float(1.0, 1e6),
    },
];

/// The markdown section of `docs/detectors.md`.
pub const DOC: &str = r#"## spam

**Looks at** each internal host's SMTP delivery: TCP flows it opens to external addresses on port
25, where mail exchangers receive mail. A network's mail leaves through its relays; a host that
speaks SMTP to many of the Internet's mail exchangers itself is a spam bot (Neris and Virut in
CTU-13, Cutwail, Necurs). Left out: the network's relays (a server of tcp/25 to internal clients in
the baseline, or to 5 external clients in the test input) and the baseline's mail servers (tcp/25,
465 or 587).

A host is reported when it delivered to, or tried, at least `min_servers_count` (10) distinct
external servers. `score = floor_score_ratio + (max_score_ratio - floor_score_ratio) * sat(servers,
half_servers_count)` with `sat(x, h) = x / (x + h)`: 10 servers 0.54 (medium), 25 servers 0.65
(high), 300 servers 0.86 (critical when corroborated). With a baseline learned from normal
traffic, a host whose own fan-out level on `ext:tcp/25` (distinct external servers per fan-out
window) times `baseline_fanout_ratio` (3) reaches its busiest window in the test input delivers
mail as it did in the baseline (an MTA the inventory does not name): held at 0.3 (low), saying so.

**Why these defaults**: people send mail through their provider or the company's relay (submission
on 587, or webmail); only mail servers deliver on port 25, and ISPs block it for home users for this
reason. Ten exchangers in one capture is already far from a client's habit; a spam run reaches
hundreds to thousands.

**Explanation**: the servers, messages (connections), the share unanswered or refused (mail
exchangers reject listed bots), the bytes sent, the busiest window, the busiest servers with
country and AS, and the baseline's mail servers on tcp/25; `evidence.details` has every term. The same host is often
also a horizontal `port_scan` on 25/tcp: this finding names what it is.

**Blind spots**: spam sent through a webmail account or a provider's submission port (one peer on
443 or 587); a relay that is itself abused (left out by role).

**Tuning**: raise `min_servers_count` where hosts run their own MTA; list such hosts' habits in a
normal-period baseline.
"#;

impl Detector for Spam {
    type Config = SpamConfig;
    fn name(&self) -> &'static str {
        "spam"
    }
    fn description(&self) -> &'static str {
        "a host delivering mail straight to many external mail servers (tcp/25): a spam bot"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn run(&self, c: &SpamConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let mut out: Vec<Finding> = accumulate(ctx)
            .into_iter()
            .filter(|(host, _)| !mail_server(ctx, *host))
            .filter_map(|(host, acc)| {
                let d = acc.delivery(ctx, host);
                d.qualifies(c).then(|| finding(ctx, c, host, acc, &d))
            })
            .collect();
        out.sort_by(crate::findings::ranked);
        Ok(out)
    }
}

/// One host's SMTP deliveries.
#[derive(Default)]
struct HostAcc {
    span: Span,
    /// Flows that got nothing back (refused, or no answer).
    unanswered: u64,
    /// Distinct servers per fan-out window.
    windows: AHashMap<i64, AHashSet<u128>>,
}

/// Every host's flows to external addresses on tcp/25 that it opened.
fn accumulate(ctx: &DetectCtx) -> AHashMap<u128, HostAcc> {
    let f = ctx.flows;
    let window_us = fanout_window_secs(ctx) as i64 * 1_000_000;
    let mut hosts: AHashMap<u128, HostAcc> = AHashMap::new();
    for i in 0..f.len() {
        if f.proto[i] != Proto::Tcp || f.dst_port[i] != SMTP_PORT {
            continue;
        }
        let Some(v) = f.host_view(i, ctx.nets) else {
            continue;
        };
        if !v.originator || ctx.nets.contains(v.peer) {
            continue;
        }
        let acc = hosts.entry(v.host).or_default();
        acc.span.add(i, f.ts[i], v.peer, v.sent);
        acc.unanswered += u64::from(v.received == 0);
        let w = f.ts[i].div_euclid(window_us);
        acc.windows.entry(w).or_default().insert(v.peer);
    }
    hosts
}

/// The baseline's fan-out window (the configured one when the baseline has no habits).
fn fanout_window_secs(ctx: &DetectCtx) -> u64 {
    match ctx.baseline.habits.fanout_window_secs {
        0 => ctx.config.baseline.fanout_window_secs.max(1),
        s => s,
    }
}

/// True for one of the network's relays of tcp/25 or a baseline mail server.
fn mail_server(ctx: &DetectCtx, host: u128) -> bool {
    let text = ip::format(host);
    ctx.relayed(host, SMTP_PORT)
        || MAIL_SERVER_PORTS
            .iter()
            .any(|p| ctx.baseline.is_server(&text, *p))
}

/// What a host's SMTP delivery amounts to: the terms of its score.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Delivery {
    /// Distinct external servers.
    pub servers: u64,
    /// Connections (messages tried).
    pub flows: u64,
    /// Connections that got nothing back.
    pub unanswered: u64,
    /// Most distinct servers in one fan-out window.
    pub peak_servers: u64,
    /// The host's own baseline level on `ext:tcp/25` (servers per fan-out window), when it has one
    /// (never on a self-learned baseline).
    pub baseline_level: Option<f64>,
}

impl Delivery {
    /// True when the host reached enough servers to be reported.
    pub fn qualifies(&self, c: &SpamConfig) -> bool {
        self.servers >= c.min_servers_count
    }

    /// True when the host delivered to as many servers per window in the baseline.
    pub fn habitual(&self, c: &SpamConfig) -> bool {
        self.baseline_level
            .is_some_and(|l| l > 0.0 && c.baseline_fanout_ratio * l >= self.peak_servers as f64)
    }

    /// Share of connections that got nothing back.
    pub fn unanswered_share(&self) -> f64 {
        self.unanswered as f64 / self.flows.max(1) as f64
    }
}

impl HostAcc {
    fn delivery(&self, ctx: &DetectCtx, host: u128) -> Delivery {
        Delivery {
            servers: self.span.peers.len() as u64,
            flows: self.span.rows.len() as u64,
            unanswered: self.unanswered,
            peak_servers: self
                .windows
                .values()
                .map(|s| s.len() as u64)
                .max()
                .unwrap_or(0),
            baseline_level: own_level(ctx, host),
        }
    }
}

/// The host's own fan-out level on `ext:tcp/25` in a baseline learned from normal traffic.
fn own_level(ctx: &DetectCtx, host: u128) -> Option<f64> {
    if ctx.baseline.robust() {
        return None;
    }
    let key = crate::baseline::habits::fanout_key(false, Proto::Tcp, SMTP_PORT);
    match ctx.baseline.habits.fanout_level(host, &key) {
        (level, "host") => Some(level),
        _ => None,
    }
}

/// `floor + (max - floor) * sat(servers, half)`, at most `habit_cap`.
pub fn score(servers: u64, habit_cap: Option<f64>, c: &SpamConfig) -> f64 {
    let breadth = super::behaviour::saturate(servers as f64, c.half_servers_count);
    let s = c.floor_score_ratio + (c.max_score_ratio - c.floor_score_ratio) * breadth;
    habit_cap.map_or(s, |cap| s.min(cap))
}

fn finding(ctx: &DetectCtx, c: &SpamConfig, host: u128, acc: HostAcc, d: &Delivery) -> Finding {
    let cap = d.habitual(c).then_some(super::volume::HABITUAL_SCORE);
    let score = score(d.servers, cap, c);
    let details = json!({
        "servers": d.servers, "connections": d.flows, "unanswered": d.unanswered,
        "unanswered_share": d.unanswered_share(), "peak_servers": d.peak_servers,
        "fanout_window_secs": fanout_window_secs(ctx), "sent_bytes": acc.span.bytes,
        "baseline_level": d.baseline_level, "habitual": cap.is_some(),
    });
    let evidence = Evidence {
        metric: "distinct external mail servers the host delivered to (SMTP tcp/25)".into(),
        observed: d.servers as f64,
        baseline: d.baseline_level,
        threshold: Some(c.min_servers_count as f64),
        explanation: explanation(ctx, c, host, &acc, d),
        details: details.as_object().cloned().unwrap_or_default(),
    };
    let hosts = vec![ip::format(host)];
    acc.span.finding("spam", "spam", score, hosts, evidence)
}

/// The baseline's servers of tcp/25, sorted (the whole input's: the same in every host shard).
fn baseline_relays(ctx: &DetectCtx) -> Vec<String> {
    let mut v: Vec<u128> = super::infrastructure::baseline_relays(ctx.baseline)
        .filter(|(_, port)| *port == SMTP_PORT)
        .map(|(host, _)| host)
        .collect();
    v.sort_unstable();
    v.dedup();
    v.into_iter().map(ip::format).collect()
}

/// The servers by connections (most first; ties by address).
fn busiest_servers(acc: &HostAcc) -> Vec<(u128, u64)> {
    let mut v: Vec<(u128, u64)> = acc.span.peers.iter().map(|(p, (f, _))| (*p, *f)).collect();
    v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

fn explanation(ctx: &DetectCtx, c: &SpamConfig, host: u128, acc: &HostAcc, d: &Delivery) -> String {
    let busiest: Vec<String> = busiest_servers(acc)
        .iter()
        .take(3)
        .map(|(p, f)| format!("{} ({f} connections)", describe_peer(ctx.geo, *p)))
        .collect();
    let relays = baseline_relays(ctx);
    let relays = match relays.len() {
        0 => "the baseline knows no mail server of the network's own on tcp/25".to_string(),
        _ => format!(
            "the network's mail servers ({}) deliver its mail",
            relays.join(", ")
        ),
    };
    let held = if d.habitual(c) {
        format!(
            "; as in the baseline: up to {:.0} external mail servers per fan-out window there (held low)",
            d.baseline_level.unwrap_or(0.0)
        )
    } else {
        String::new()
    };
    format!(
        "{} delivered mail straight to {} external mail servers (SMTP, tcp/25) {}: {} connections, \
         {:.0} % unanswered or refused, {} sent, up to {} servers in one {} s window; busiest {}; \
         {relays}; a host that is not a mail server does not deliver mail itself: the shape of a spam bot{held}",
        ip::format(host),
        d.servers,
        span_text(acc.span.first, acc.span.last),
        d.flows,
        100.0 * d.unanswered_share(),
        human_bytes(acc.span.bytes as f64),
        d.peak_servers,
        fanout_window_secs(ctx),
        busiest.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(servers: u64, peak: u64, level: Option<f64>) -> Delivery {
        Delivery {
            servers,
            flows: servers * 3,
            peak_servers: peak,
            baseline_level: level,
            ..Default::default()
        }
    }

    #[test]
    fn gates_and_habits_table() {
        let c = SpamConfig::default();
        let rows = [
            // (servers, peak per window, own baseline level, qualifies, habitual, why)
            (
                339,
                57,
                None,
                true,
                false,
                "a spam run, no baseline of its own",
            ),
            (9, 3, None, false, false, "a few servers: below the gate"),
            (10, 2, None, true, false, "at the gate"),
            (
                500,
                40,
                Some(15.0),
                true,
                true,
                "an MTA delivering as in normal",
            ),
            (
                500,
                46,
                Some(15.0),
                true,
                false,
                "three times its normal level and more",
            ),
            (500, 40, Some(0.0), true, false, "no delivery in normal"),
        ];
        for (servers, peak, level, q, h, why) in rows {
            let d = delivery(servers, peak, level);
            assert_eq!((d.qualifies(&c), d.habitual(&c)), (q, h), "{why}");
        }
    }

    #[test]
    fn score_table() {
        let c = SpamConfig::default();
        let rows = [
            // (servers, habit cap, want)
            (10, None, 0.4 + 0.5 * 10.0 / 35.0),
            (25, None, 0.65),
            (300, None, 0.4 + 0.5 * 300.0 / 325.0),
            (300, Some(0.3), 0.3),
            (0, None, 0.4),
        ];
        for (servers, cap, want) in rows {
            let got = score(servers, cap, &c);
            assert!((got - want).abs() < 1e-9, "{servers}: {got} vs {want}");
        }
        let sev = |n| crate::findings::severity(score(n, None, &c));
        use crate::findings::Severity;
        assert_eq!(sev(10), Severity::Medium);
        assert_eq!(sev(25), Severity::High);
        assert_eq!(sev(300), Severity::Critical);
    }
}
