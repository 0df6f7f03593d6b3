//! `dos`: an internal host taking part in a flood against one target. Per (internal host, target,
//! window of the baseline) it sums the unanswered flows the host opened to that target (ICMP, UDP,
//! SYN-like TCP: the target sent back at most a few bytes) and their packets, and scores the packet
//! rate against a floor and against the host's own baseline rate ([`flood_threshold`],
//! [`flood_score`]). A scan is not a flood: it touches each port once or twice, so a target needs
//! many packets per distinct port.

use super::behaviour::{duration_text, geo_suffix};
use super::infrastructure::infrastructure;
use super::{DetectCtx, Detector};
use crate::baseline::window_of;
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{format_ts, score_from_ratio, Evidence, Finding};
use crate::ip;
use crate::output::table::human_bytes;
use ahash::AHashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The detector.
pub struct Dos;

/// `[detectors.dos]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DosConfig {
    /// A flow whose target sent at most this many bytes went unanswered.
    pub answer_max_down_bytes: u64,
    /// Packets per second (of unanswered flows to one target) below which nothing is a flood.
    pub min_packets_per_sec: f64,
    /// Unanswered flows (connection attempts) per second to one target below which, whatever the
    /// packets, nothing is a flood of new connections.
    pub min_flows_per_sec: f64,
    /// Packets a flood needs in one window.
    pub min_packets_count: u64,
    /// Packets per distinct destination port a flood needs (a scan sends one or two per port).
    pub min_packets_per_port_count: f64,
    /// Mean bytes per unanswered packet at which the per-port rule is waived: a flood to random
    /// ports fills its packets with payload, a scan's probes carry a few dozen bytes.
    pub flood_min_packet_bytes: u64,
    /// Floor of the payload rate (bytes per second) of such a flood sprayed over the target's ports:
    /// it counts beside the packet and flow rates.
    pub min_sprayed_bytes_per_sec: f64,
    /// Times the host's own baseline flow rate the packet rate must also exceed.
    pub baseline_multiple_ratio: f64,
    /// Rates are taken over at least this span (a burst of packets in a millisecond is no flood).
    pub rate_min_span_secs: f64,
    /// Share of the score lost by a target that is well-known infrastructure (NTP, DNS resolvers...).
    pub infrastructure_discount_ratio: f64,
    /// Smallest score reported.
    pub min_score_ratio: f64,
}

impl Default for DosConfig {
    fn default() -> Self {
        DosConfig {
            answer_max_down_bytes: 64,
            min_packets_per_sec: 100.0,
            min_flows_per_sec: 20.0,
            min_packets_count: 1000,
            min_packets_per_port_count: 10.0,
            flood_min_packet_bytes: 512,
            min_sprayed_bytes_per_sec: 2_000.0,
            baseline_multiple_ratio: 10.0,
            rate_min_span_secs: 10.0,
            infrastructure_discount_ratio: 0.5,
            min_score_ratio: 0.1,
        }
    }
}

const UNIT: Range = Range::Float(0.0, 1.0);

static SETTINGS: [Setting; 11] = [
    Setting {
        key: "answer_max_down_bytes",
        doc: "a flow whose target sent at most this many bytes went unanswered",
        range: Range::Int(0, 1_000_000),
    },
    Setting {
        key: "min_packets_per_sec",
        doc: "floor of the packet rate (unanswered flows to one target) that makes a flood",
        range: Range::Float(0.001, 1e9),
    },
    Setting {
        key: "min_flows_per_sec",
        doc: "floor of the rate of unanswered flows (connection attempts) to one target that makes a flood",
        range: Range::Float(0.001, 1e9),
    },
    Setting {
        key: "min_packets_count",
        doc: "packets a flood needs in one window",
        range: Range::Int(1, 1_000_000_000_000),
    },
    Setting {
        key: "min_packets_per_port_count",
        doc: "packets per distinct destination port a flood needs (a scan sends one or two per port)",
        range: Range::Float(0.0, 1e9),
    },
    Setting {
        key: "flood_min_packet_bytes",
        doc: "mean bytes per unanswered packet at which min_packets_per_port_count is waived (a flood to random ports fills its packets; a scan's probes carry a few dozen bytes)",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "min_sprayed_bytes_per_sec",
        doc: "floor of the payload rate of a flood of full packets sprayed over the target's ports (fewer than min_packets_per_port_count per port), judged beside the packet and flow rates (raised by the baseline as they are)",
        range: Range::Float(0.001, 1e12),
    },
    Setting {
        key: "baseline_multiple_ratio",
        doc: "times the host's own baseline flow rate (flows per window / window) the packet rate must also exceed",
        range: Range::Float(0.0, 1e6),
    },
    Setting {
        key: "rate_min_span_secs",
        doc: "rates are taken over at least this span",
        range: Range::Float(0.001, 86_400.0),
    },
    Setting {
        key: "infrastructure_discount_ratio",
        doc: "share of the score lost by a target that is well-known infrastructure (multicast and broadcast targets are never a flood's)",
        range: UNIT,
    },
    Setting {
        key: "min_score_ratio",
        doc: "smallest score reported",
        range: UNIT,
    },
];

/// The markdown section of `docs/detectors.md`.
pub const DOC: &str = r#"## dos

**Looks at** the flows each internal host opens, per (host, target, baseline window), keeping the
unanswered ones: the target sent back at most `answer_max_down_bytes` (ICMP and UDP floods, SYN-like
TCP). Their packets are counted (the `packets` column of Zeek and binetflow; one per flow when the
input has none), and the rate is `packets / max(active span, rate_min_span_secs)`, where the active
span runs from the first start to the last end (start + duration) in the window.

**Formula.** Two rates are judged, packets per second and unanswered flows (connection attempts)
per second, each against `threshold = max(floor, baseline_multiple_ratio * reference / window)`, with
floors `min_packets_per_sec` and `min_flows_per_sec`, and `reference` the host's flows per window in
the baseline (p99, or the median with a self-learned baseline); a new host with no baseline profile
gets the floors. `r` is the larger of the two rate ratios. A (host, target, window) is a flood when
`r >= 1`, the packets reach `min_packets_count`, and there are at least `min_packets_per_port_count`
packets per distinct destination port, or the packets carry at least `flood_min_packet_bytes` (512)
on average (a flood to random ports, as Rbot's UDP flood in CTU-13: one 1,066-byte packet per port; a
scan's probes carry a few dozen bytes). Such full packets sprayed over the ports (fewer than
`min_packets_per_port_count` per port) are also judged on their payload rate, against
`min_sprayed_bytes_per_sec` (2 kB/s, raised by the baseline as the packet threshold is): a bot's share
of a DDoS is modest (the CTU-13-style Rbot bots send 4-20 packets a second), the crowd makes it one;
nothing legitimate sends a thousand full datagrams to as many ports of one address without an
answer, and a scan's probes never fill packets. The floors are where nothing legitimate goes, so crossing one
is already medium: `score = score_from_ratio(4 * sqrt(r * packets / min_packets_count))` (the shared
scale: 4x is 0.55, 16x 0.7, 256x 0.82), halved for an internal target that is well-known
infrastructure (the network's DNS resolver or time server: busy by design; an external address on
udp/123 or udp/53 is a flood's target like any other); multicast and broadcast targets are skipped.

**Why these defaults**: nothing legitimate sends 100 packets a second for ten seconds to one
address and gets no byte back, nor opens 20 new connections a second to one address that all go
unanswered (a client whose server is down backs off; a bot re-dialling its C&C waits for each
attempt to time out: `cnc_channel`) (a bulk upload is answered by acknowledgements, a stream by its
control channel; the busiest one-way stream a host sends without answers, RTP voice at 20 ms
packetisation, is 50 packets a second, half the floor); 1,000 packets is ten seconds of that; a vertical scan sends one or two packets per
port (retransmissions included, at most three), a flood ten or more; the host's own rate counts only
when it is ten times higher than what the host normally does (its baseline is in flows, which
undercounts its packets, so the comparison is conservative).

**Explanation**: target (country, AS), packets, bytes, flows, ports, span, rate, the threshold and
which of floor or baseline set it.

**Blind spots**: floods whose packets are answered (HTTP floods, amplification through a
reflector: the reflector answers the host), floods spread over many targets (seen per target),
low-rate floods (slowloris), and inputs without packet counts and with one flow per flood.

**Tuning**: lower `min_packets_per_sec` to catch slower floods; raise `baseline_multiple_ratio` on
networks whose hosts burst.
"#;

impl Detector for Dos {
    type Config = DosConfig;
    fn name(&self) -> &'static str {
        "dos"
    }
    fn description(&self) -> &'static str {
        "internal hosts flooding one target: high packet rates of unanswered flows, not a scan"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn run(&self, c: &DosConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let mut out: Vec<Finding> = accumulate(ctx, c)
            .into_iter()
            .filter_map(|(key, flood)| judge(ctx, c, key, flood))
            .filter(|f| f.score >= c.min_score_ratio)
            .collect();
        out.sort_by(crate::findings::ranked);
        Ok(out)
    }
}

/// (internal host, target, window).
type Key = (u128, u128, i64);

/// The unanswered flows of one (host, target, window).
#[derive(Debug, Clone, Default)]
struct Flood {
    packets: u64,
    up_bytes: u64,
    first_us: i64,
    last_end_us: i64,
    ports: AHashMap<(u8, u16), u64>,
    rows: Vec<u32>,
}

fn accumulate(ctx: &DetectCtx, c: &DosConfig) -> AHashMap<Key, Flood> {
    let f = ctx.flows;
    let mut out: AHashMap<Key, Flood> = AHashMap::new();
    for i in 0..f.len() {
        if f.down[i] > c.answer_max_down_bytes || !ctx.nets.contains(f.src[i]) {
            continue;
        }
        let (host, target) = (f.src[i], f.dst[i]);
        if host == target {
            continue;
        }
        let key = (host, target, window_of(f.ts[i], ctx.baseline.window_secs));
        let end = f.ts[i] + (f.duration_secs(i).unwrap_or(0.0) * 1e6) as i64;
        let e = out.entry(key).or_default();
        if e.rows.is_empty() {
            (e.first_us, e.last_end_us) = (f.ts[i], end);
        }
        e.first_us = e.first_us.min(f.ts[i]);
        e.last_end_us = e.last_end_us.max(end);
        e.packets += f.packets(i).unwrap_or(1);
        e.up_bytes = e.up_bytes.saturating_add(f.up[i]);
        *e.ports
            .entry((f.proto[i].index() as u8, f.dst_port[i]))
            .or_default() += 1;
        e.rows.push(i as u32);
    }
    out.retain(|_, e| e.packets >= c.min_packets_count);
    out
}

/// The rate a flood must reach: `max(floor, multiple * reference_flows_per_window / window_secs)`;
/// the floor alone without a reference. Returns the threshold and whether the baseline set it.
pub fn flood_threshold(
    floor_per_sec: f64,
    multiple: f64,
    reference_per_window: Option<f64>,
    window_secs: u64,
) -> (f64, bool) {
    let own = reference_per_window.map_or(0.0, |r| multiple * r / window_secs.max(1) as f64);
    if own > floor_per_sec {
        (own, true)
    } else {
        (floor_per_sec, false)
    }
}

/// Where the floors sit on the shared ratio scale: crossing one is already medium (0.55).
const AT_FLOOR_RATIO: f64 = 4.0;

/// The flood score of a rate `ratio` times its threshold: 0 unless `ratio >= 1` and `packets >=
/// min_packets`, else `score_from_ratio(4 * sqrt(ratio * packets / min_packets))`.
pub fn flood_score(ratio: f64, packets: u64, min_packets: u64) -> f64 {
    let v = packets as f64 / min_packets.max(1) as f64;
    if ratio.is_nan() || ratio < 1.0 || v < 1.0 {
        return 0.0;
    }
    score_from_ratio(AT_FLOOR_RATIO * (ratio * v).sqrt())
}

/// Events (packets, or flows) per second over `[first, last_end]`, the span taken as at least
/// `min_span_secs`.
pub fn rate_per_sec(events: u64, first_us: i64, last_end_us: i64, min_span_secs: f64) -> f64 {
    let span = ((last_end_us - first_us).max(0) as f64 / 1e6).max(min_span_secs.max(1e-3));
    events as f64 / span
}

/// The host's flows per window in the baseline: p99, or the median when self-learned.
fn reference(ctx: &DetectCtx, host: u128) -> Option<f64> {
    let p = ctx.baseline.host(host)?;
    let s = &p.per_window.flows;
    (s.count > 0).then(|| {
        if ctx.baseline.robust() {
            s.median
        } else {
            s.p99
        }
    })
}

/// True when the unanswered flows are a flood's, not a scan's: enough packets per destination port,
/// or packets full of payload (a UDP flood to random ports).
fn flood_shaped(flood: &Flood, c: &DosConfig) -> bool {
    !spread(flood, c) || full_packets(flood, c)
}

/// Fewer than `min_packets_per_port_count` packets per destination port (a scan's shape).
fn spread(flood: &Flood, c: &DosConfig) -> bool {
    (flood.packets as f64) < c.min_packets_per_port_count * flood.ports.len().max(1) as f64
}

/// At least `flood_min_packet_bytes` per packet on average.
fn full_packets(flood: &Flood, c: &DosConfig) -> bool {
    flood.up_bytes / flood.packets.max(1) >= c.flood_min_packet_bytes
}

fn judge(ctx: &DetectCtx, c: &DosConfig, key: Key, flood: Flood) -> Option<Finding> {
    let (host, target, _) = key;
    let (proto, port) = sorted_ports(&flood).first().map(|(k, _)| **k)?;
    let infra = infrastructure(
        target,
        crate::schema::Proto::from_index(proto as usize),
        port,
        ctx,
    );
    if matches!(infra, Some("multicast" | "broadcast" | "subnet broadcast")) {
        return None;
    }
    if !flood_shaped(&flood, c) {
        return None;
    }
    let per_sec = |n| rate_per_sec(n, flood.first_us, flood.last_end_us, c.rate_min_span_secs);
    let (rate, flow_rate) = (per_sec(flood.packets), per_sec(flood.rows.len() as u64));
    let window = ctx.baseline.window_secs;
    let refr = reference(ctx, host);
    let threshold_of = |floor| flood_threshold(floor, c.baseline_multiple_ratio, refr, window);
    let (threshold, by_baseline) = threshold_of(c.min_packets_per_sec);
    let (flow_threshold, _) = threshold_of(c.min_flows_per_sec);
    // full packets sprayed over the target's ports (Rbot's UDP flood: one 1,066-byte packet per
    // port) are judged on their payload rate too, the floor raised as the packet threshold is
    let sprayed = (spread(&flood, c) && full_packets(&flood, c)).then(|| {
        let floor = c.min_sprayed_bytes_per_sec * threshold / c.min_packets_per_sec;
        (per_sec(flood.up_bytes), floor)
    });
    let ratio = (rate / threshold)
        .max(flow_rate / flow_threshold)
        .max(sprayed.map_or(0.0, |(b, t)| b / t));
    let mut score = flood_score(ratio, flood.packets, c.min_packets_count);
    if score <= 0.0 {
        return None;
    }
    // the network's own resolver or time server is busy by design; an external address on port
    // 123 or 53 receiving thousands of unanswered packets is a flood's target like any other
    let infra = infra.filter(|_| ctx.nets.contains(target));
    if infra.is_some() {
        score *= 1.0 - c.infrastructure_discount_ratio;
    }
    let facts = Facts {
        rate,
        threshold,
        flow_rate,
        flow_threshold,
        by_baseline,
        reference: refr,
        infra,
        sprayed,
    };
    Some(finding(ctx, c, host, target, flood, score, &facts))
}

/// What the explanation and details report.
struct Facts {
    rate: f64,
    threshold: f64,
    flow_rate: f64,
    flow_threshold: f64,
    by_baseline: bool,
    reference: Option<f64>,
    infra: Option<&'static str>,
    /// For full packets sprayed over the ports: the payload rate and its threshold, bytes/s.
    sprayed: Option<(f64, f64)>,
}

/// The (protocol, port)s of a flood, busiest first.
fn sorted_ports(flood: &Flood) -> Vec<(&(u8, u16), &u64)> {
    let mut ports: Vec<(&(u8, u16), &u64)> = flood.ports.iter().collect();
    ports.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    ports
}

fn ports_text(flood: &Flood) -> String {
    let ports = sorted_ports(flood);
    let mut parts: Vec<String> = ports
        .iter()
        .take(3)
        .map(|((p, port), _)| {
            format!(
                "{port}/{}",
                crate::schema::Proto::from_index(*p as usize).as_str()
            )
        })
        .collect();
    if ports.len() > 3 {
        parts.push(format!("+{} more ports", ports.len() - 3));
    }
    parts.join(", ")
}

fn explanation(
    ctx: &DetectCtx,
    c: &DosConfig,
    host: u128,
    target: u128,
    flood: &Flood,
    x: &Facts,
) -> String {
    let span = (flood.last_end_us - flood.first_us).max(0) as f64 / 1e6;
    let set_by = if x.by_baseline {
        format!(
            "{}x its own baseline of {:.0} flows per window",
            c.baseline_multiple_ratio,
            x.reference.unwrap_or(0.0)
        )
    } else {
        "the floor".to_string()
    };
    let mut text = format!(
        "{} floods {}{}: {} packets ({}) in {} unanswered flows to {} over {}, {:.0} packets/s and {:.0} flows/s (thresholds {:.0}/s and {:.0}/s, {set_by})",
        ip::format(host),
        ip::format(target),
        geo_suffix(ctx.geo, target),
        flood.packets,
        human_bytes(flood.up_bytes as f64),
        flood.rows.len(),
        ports_text(flood),
        duration_text(span),
        x.rate,
        x.flow_rate,
        x.threshold,
        x.flow_threshold,
    );
    if let Some((rate, threshold)) = x.sprayed {
        text.push_str(&format!(
            "; {}/s of full packets ({} each on average) sprayed over {} ports (threshold {}/s): a flood to random ports, not a scan",
            human_bytes(rate),
            human_bytes(flood.up_bytes as f64 / flood.packets.max(1) as f64),
            flood.ports.len(),
            human_bytes(threshold),
        ));
    }
    if let Some(label) = x.infra {
        text.push_str(&format!("; the target is {label}: score discounted"));
    }
    text
}

fn finding(
    ctx: &DetectCtx,
    c: &DosConfig,
    host: u128,
    target: u128,
    mut flood: Flood,
    score: f64,
    x: &Facts,
) -> Finding {
    let details = json!({
        "target": ip::format(target), "packets": flood.packets, "flows": flood.rows.len(),
        "up_bytes": flood.up_bytes, "ports": flood.ports.len(), "top_ports": ports_text(&flood),
        "span_secs": (flood.last_end_us - flood.first_us).max(0) as f64 / 1e6,
        "packets_per_sec": x.rate, "threshold_per_sec": x.threshold,
        "flows_per_sec": x.flow_rate, "flow_threshold_per_sec": x.flow_threshold, "threshold_from_baseline": x.by_baseline,
        "baseline_flows_per_window": x.reference, "infrastructure": x.infra,
        "packets_per_port": flood.packets as f64 / flood.ports.len().max(1) as f64,
        "sprayed_bytes_per_sec": x.sprayed.map(|s| s.0), "sprayed_threshold_bytes_per_sec": x.sprayed.map(|s| s.1),
    });
    let explanation = explanation(ctx, c, host, target, &flood, x);
    flood.rows.sort_unstable();
    Finding {
        kind: "dos".into(),
        detector: "dos".into(),
        score: score.clamp(0.0, 1.0),
        hosts: vec![ip::format(host)],
        peers: vec![ip::format(target)],
        first_seen: Some(format_ts(flood.first_us)),
        last_seen: Some(format_ts(flood.last_end_us)),
        flows: flood.rows.len() as u64,
        flow_rows: flood.rows,
        evidence: Evidence {
            metric: "packets per second of unanswered flows to one target".into(),
            observed: x.rate,
            baseline: x
                .reference
                .map(|r| r / ctx.baseline.window_secs.max(1) as f64),
            threshold: Some(x.threshold),
            explanation,
            details: details.as_object().cloned().unwrap_or_default(),
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{Baseline, HostProfile};
    use crate::config::Config;
    use crate::detect::flows::Flows;
    use crate::net::InternalNets;
    use crate::schema::Proto;
    use flowhound_geo::GeoStack;

    const HOST: &str = "10.0.0.5";
    const TARGET: &str = "203.0.113.9";

    /// `n` unanswered flows from HOST to TARGET over 10 s, to `port(i)`, `packets` each of 40 bytes.
    fn burst(n: i64, port: impl Fn(i64) -> u16, proto: Proto, packets: u64) -> Flows {
        sized_burst(n, port, (proto, packets), (40, 10))
    }

    /// [`burst`] with `up` bytes per flow over `secs` seconds.
    fn sized_burst(
        n: i64,
        port: impl Fn(i64) -> u16,
        (proto, packets): (Proto, u64),
        (up, secs): (u64, i64),
    ) -> Flows {
        let (h, t) = (ip::parse(HOST).unwrap(), ip::parse(TARGET).unwrap());
        let rows: Vec<_> = (0..n)
            .map(|i| {
                (
                    i * secs * 1_000_000 / n,
                    h,
                    t,
                    proto,
                    port(i),
                    up,
                    0,
                    0.0,
                    packets,
                )
            })
            .collect();
        Flows::from_rows(&rows)
    }

    fn run_on(flows: &Flows, baseline: &Baseline) -> Vec<Finding> {
        let (nets, config, geo) = (InternalNets::default(), Config::default(), GeoStack::new());
        let ctx = DetectCtx::new(&[], flows, baseline, &geo, &nets, &config);
        Dos.run(&DosConfig::default(), &ctx).unwrap()
    }

    fn window_baseline() -> Baseline {
        Baseline {
            window_secs: 3600,
            ..Default::default()
        }
    }

    #[test]
    fn syn_flood_is_found_and_a_vertical_scan_is_not() {
        let b = window_baseline();
        let flood = run_on(&burst(4000, |_| 80, Proto::Tcp, 1), &b);
        assert_eq!(flood.len(), 1, "{flood:#?}");
        assert_eq!(
            (flood[0].hosts[0].as_str(), flood[0].peers[0].as_str()),
            (HOST, TARGET)
        );
        assert!((flood[0].evidence.observed - 400.0).abs() < 1.0);
        let scan = run_on(&burst(4000, |i| i as u16 + 1, Proto::Tcp, 1), &b);
        assert!(scan.is_empty(), "one probe per port is a scan: {scan:#?}");
        let udp_random_ports = run_on(&burst(4000, |i| i as u16 + 1, Proto::Udp, 50), &b);
        assert_eq!(udp_random_ports.len(), 1, "50 packets per port is a flood");
        // Rbot's UDP flood in CTU-13: one 1,066-byte packet to each random port
        let spray = |up, secs| {
            run_on(
                &sized_burst(4000, |i| i as u16 + 1, (Proto::Udp, 1), (up, secs)),
                &b,
            )
        };
        assert_eq!(
            spray(1066, 10).len(),
            1,
            "packets full of payload are a flood"
        );
        assert!(
            spray(60, 10).is_empty(),
            "small probes to every port are a scan"
        );
        // 15 packets a second (16 kB/s of payload) sprayed for 4.4 minutes: under the packet floor,
        // over the payload floor
        let slow = spray(1066, 267);
        assert_eq!(slow.len(), 1, "{slow:#?}");
        assert!(slow[0]
            .evidence
            .explanation
            .contains("a flood to random ports"));
        assert!(spray(60, 267).is_empty());
        assert_eq!(spray(1066, 800).len(), 1, "5 kB/s");
        assert!(
            spray(1066, 3000).is_empty(),
            "1.4 kB/s: under the payload floor"
        );
        let multicast = {
            let mut f = burst(4000, |_| 5353, Proto::Udp, 1);
            f.dst
                .iter_mut()
                .for_each(|d| *d = ip::parse("224.0.0.251").unwrap());
            run_on(&f, &b)
        };
        assert!(multicast.is_empty());
    }

    #[test]
    fn the_hosts_own_rate_raises_the_threshold() {
        let mut b = window_baseline();
        let mut p = HostProfile::default();
        p.per_window.flows.count = 24;
        p.per_window.flows.p99 = 36_000_000.0;
        b.hosts.insert(HOST.into(), p);
        let flows = burst(4000, |_| 80, Proto::Tcp, 1);
        assert!(run_on(&flows, &b).is_empty(), "400/s is its usual 10,000/s");
        let f = &run_on(&flows, &window_baseline())[0];
        assert!(
            f.evidence.explanation.contains("the floor"),
            "{}",
            f.evidence.explanation
        );
    }

    #[test]
    fn threshold_table() {
        let cases = [
            (100.0, 10.0, None, 3600, (100.0, false)),
            (100.0, 10.0, Some(360.0), 3600, (100.0, false)),
            (100.0, 10.0, Some(72_000.0), 3600, (200.0, true)),
            (100.0, 0.0, Some(1e9), 3600, (100.0, false)),
        ];
        for (floor, k, r, w, want) in cases {
            assert_eq!(flood_threshold(floor, k, r, w), want, "{r:?}");
        }
    }

    #[test]
    fn score_table() {
        let cases = [
            // Mirai (IoT-23 44-1): 1,305,034 packets in 300.8 s, 43x the packet floor
            (43.385, 1_305_034, 1000, 0.849),
            // at both floors: medium
            (1.0, 1000, 1000, 0.55),
            (0.99, 100_000, 1000, 0.0),
            (10.0, 999, 1000, 0.0),
            // a 2,000-flow SYN flood at 50 flows/s: 2.5x the flow floor
            (2.5, 2000, 1000, 0.651),
            (4.0, 4000, 1000, 0.7),
            (f64::NAN, 4000, 1000, 0.0),
        ];
        for (ratio, p, m, want) in cases {
            let got = flood_score(ratio, p, m);
            assert!((got - want).abs() < 1e-3, "{ratio} {p}: {got}");
        }
    }

    #[test]
    fn rate_table() {
        let s = 1_000_000;
        assert!((rate_per_sec(1000, 0, 10 * s, 1.0) - 100.0).abs() < 1e-9);
        assert!((rate_per_sec(1000, 0, 0, 10.0) - 100.0).abs() < 1e-9);
        assert!((rate_per_sec(1000, 5 * s, 0, 20.0) - 50.0).abs() < 1e-9);
    }
}
