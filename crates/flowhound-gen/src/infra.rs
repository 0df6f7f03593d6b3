//! The infrastructure decoys, present in BOTH periods: the monitoring server
//! polling every internal host on udp/161 (`snmp_poller`), the scheduled
//! vulnerability scanner (`vuln_scanner`), and IoT devices with NTP and cloud
//! heartbeats (`iot_device`). Benign behaviours that look like scans and
//! beacons: what keeps the evaluation honest.

use crate::config::DecoyKind;
use crate::dist::{bytes, choose_distinct, jitter, lognormal, GenRng};
use crate::flow::{Flow, Label, Proto, HOUR_US, US};
use crate::ip::dotted;
use crate::plan::{strings, Planner};
use crate::truth::DecoyTruth;
use crate::GenError;
use rand::Rng;

/// One decoy flow.
pub(crate) fn decoy_flow(
    ts_us: i64,
    ends: (u32, u32),
    service: (Proto, u16),
    sizes: (i64, i64),
    kind: DecoyKind,
) -> Flow {
    Flow::new(ts_us, ends, service, sizes, Label::Decoy(kind))
}

/// A truth record of a decoy present in both periods.
fn both_periods(kind: DecoyKind, hosts: Vec<String>, peers: Vec<String>) -> DecoyTruth {
    DecoyTruth {
        kind,
        hosts,
        peers,
        ports: Vec::new(),
        files: vec!["normal".into(), "test".into()],
        flows: 0,
        note: String::new(),
    }
}

/// The monitoring server polls every internal host on udp/161 every 5-15 min
/// (one interval per dataset, +-2 %); about half the hosts answer. In a
/// sparse configuration (the polls would outnumber the ordinary flows) the
/// interval is stretched until they do not.
pub(crate) fn snmp_poller(p: &Planner, rng: &mut GenRng, out: &mut Vec<Flow>) -> DecoyTruth {
    let poller = p.net.servers.monitoring;
    let targets: Vec<u32> = p
        .net
        .internal_hosts()
        .into_iter()
        .filter(|&h| h != poller)
        .collect();
    let answers: Vec<Option<f64>> = targets
        .iter()
        .map(|_| {
            rng.random_bool(0.5)
                .then(|| rng.random_range(150.0..1400.0))
        })
        .collect();
    let drawn = rng.random_range(5..=15) * 60 * US;
    let polls_per_day = (p.flows_per_day / targets.len().max(1) as f64).max(1.0);
    let every = drawn.max((24.0 * HOUR_US as f64 / polls_per_day) as i64 / (60 * US) * 60 * US);
    let (s0, s1) = p.span;
    let before = out.len();
    let mut t = s0 + rng.random_range(0..every);
    while t < s1 {
        for (i, (&dst, answer)) in targets.iter().zip(&answers).enumerate() {
            let ts = t + i as i64 * 50_000 + rng.random_range(0..50_000);
            let up = bytes(lognormal(rng, 95.0, 0.05), 60, 200);
            let down = answer.map_or(0, |d| bytes(jitter(rng, d, 0.03), 60, 10_000));
            if ts < s1 {
                let ends = (poller, dst);
                out.push(decoy_flow(
                    ts,
                    ends,
                    (Proto::Udp, 161),
                    (up, down),
                    KIND_SNMP,
                ));
            }
        }
        t += jitter(rng, every as f64, 0.02) as i64;
    }
    let mut d = both_periods(KIND_SNMP, strings(&[poller]), Vec::new());
    d.ports = vec![161];
    d.flows = (out.len() - before) as u64;
    d.note = format!(
        "polls {} internal hosts on udp/161 every {} min",
        targets.len(),
        every / 60 / US
    );
    d
}

const KIND_SNMP: DecoyKind = DecoyKind::SnmpPoller;

/// Well-known service ports the vulnerability scanner tries.
const SCAN_PORTS: [u16; 40] = [
    21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 161, 389, 443, 445, 465, 514, 587, 631, 636,
    873, 993, 995, 1433, 1521, 2049, 3306, 3389, 5060, 5432, 5900, 5985, 6379, 8000, 8080, 8443,
    9000, 9200, 11211, 27017,
];

/// Every day at a fixed time the scanner sweeps a rotating share of the
/// internal hosts (a ping, then tcp probes of 20-40 service ports at 50-300
/// probes/s).
pub(crate) fn vuln_scanner(p: &Planner, rng: &mut GenRng, out: &mut Vec<Flow>) -> DecoyTruth {
    let scanner = p.net.servers.scanner;
    let hosts: Vec<u32> = p
        .net
        .internal_hosts()
        .into_iter()
        .filter(|&h| h != scanner)
        .collect();
    let per_day = (hosts.len() / 4).clamp(5, 40).min(hosts.len());
    let k = rng.random_range(20..=40);
    let mut ports = choose_distinct(rng, &SCAN_PORTS, k);
    ports.sort_unstable();
    let at = rng.random_range(0..24 * 60) * 60 * US;
    let rate = rng.random_range(50.0..300.0);
    let (s0, s1) = p.span;
    let before = out.len();
    let mut day = s0 - s0.rem_euclid(24 * HOUR_US);
    let mut next = 0usize;
    while day < s1 {
        let targets: Vec<u32> = (0..per_day)
            .map(|i| hosts[(next + i) % hosts.len()])
            .collect();
        next = (next + per_day) % hosts.len().max(1);
        scan_once(scanner, &targets, &ports, (day + at, rate), rng, out);
        day += 24 * HOUR_US;
    }
    out.retain(|f| f.label != Label::Decoy(DecoyKind::VulnScanner) || (s0..s1).contains(&f.ts_us));
    let mut d = both_periods(DecoyKind::VulnScanner, strings(&[scanner]), Vec::new());
    d.ports = ports.clone();
    d.flows = (out.len() - before) as u64;
    d.note = format!(
        "daily at {:02}:{:02} UTC: {per_day} internal hosts x {} ports at {rate:.0} probes/s",
        at / HOUR_US,
        (at % HOUR_US) / 60 / US,
        ports.len()
    );
    d
}

/// One scan run starting at `t0`.
fn scan_once(
    scanner: u32,
    targets: &[u32],
    ports: &[u16],
    (t0, rate): (i64, f64),
    rng: &mut GenRng,
    out: &mut Vec<Flow>,
) {
    let kind = DecoyKind::VulnScanner;
    let mut i = 0usize;
    for &dst in targets {
        let ts = t0 + (i as f64 / rate * 1e6) as i64;
        out.push(decoy_flow(
            ts,
            (scanner, dst),
            (Proto::Icmp, 0),
            (28, 28),
            kind,
        ));
        i += 1;
        for &port in ports {
            let ts = t0 + (i as f64 / rate * 1e6) as i64;
            let up = [0, 40, 44, 60][rng.random_range(0..4)];
            let down = if rng.random_bool(0.2) { 40 } else { 0 };
            out.push(decoy_flow(
                ts,
                (scanner, dst),
                (Proto::Tcp, port),
                (up, down),
                kind,
            ));
            i += 1;
        }
    }
}

/// IoT devices: NTP (udp/123) to 1-2 public time servers every 64-1024 s, and
/// a small constant-size https heartbeat to their vendor's cloud every
/// 30-300 s, around the clock.
pub(crate) fn iot_devices(
    p: &mut Planner,
    rng: &mut GenRng,
    out: &mut Vec<Flow>,
) -> Result<Option<DecoyTruth>, GenError> {
    let devices = p.net.iot.clone();
    if devices.is_empty() {
        return Ok(None);
    }
    let (n_time, n_cloud) = (rng.random_range(2..=4), rng.random_range(1..=3));
    let time_servers = fresh_many(p, rng, n_time)?;
    let clouds = fresh_many(p, rng, n_cloud)?;
    let before = out.len();
    let mut periods = Vec::new();
    for &dev in &devices {
        let ntp = time_servers[rng.random_range(0..time_servers.len())];
        let ntp_every = 64i64 << rng.random_range(0..=4);
        periodic(
            p,
            rng,
            out,
            (dev, ntp),
            (Proto::Udp, 123),
            ntp_every,
            (48.0, 48.0),
        );
        let cloud = clouds[rng.random_range(0..clouds.len())];
        let beat = rng.random_range(30..=300);
        let port = if rng.random_bool(0.7) { 443 } else { 8883 };
        let sizes = (
            rng.random_range(150.0..600.0),
            rng.random_range(80.0..400.0),
        );
        periodic(p, rng, out, (dev, cloud), (Proto::Tcp, port), beat, sizes);
        periods.push(format!(
            "{}: ntp {ntp_every} s, heartbeat {beat} s",
            dotted(dev)
        ));
    }
    let peers: Vec<u32> = time_servers.iter().chain(&clouds).copied().collect();
    // a device a scenario infected is that scenario's host, not a benign decoy
    let benign: Vec<u32> = devices
        .iter()
        .copied()
        .filter(|d| !p.iot_taken.contains(d))
        .collect();
    let mut d = both_periods(DecoyKind::IotDevice, strings(&benign), strings(&peers));
    d.ports = vec![123, 443, 8883];
    d.flows = (out.len() - before) as u64;
    d.note = format!(
        "time servers {}, clouds {}; {}",
        strings(&time_servers).join(" "),
        strings(&clouds).join(" "),
        periods.join("; ")
    );
    Ok(Some(d))
}

/// `n` never-seen addresses in usual countries.
fn fresh_many(p: &mut Planner, rng: &mut GenRng, n: usize) -> Result<Vec<u32>, GenError> {
    (0..n)
        .map(|_| {
            let cc = p.usual_country(rng);
            p.fresh_ip(rng, &cc)
        })
        .collect()
}

/// Flows every `every_s` seconds (+-2 %) over the whole span, sizes +-3 %.
fn periodic(
    p: &Planner,
    rng: &mut GenRng,
    out: &mut Vec<Flow>,
    ends: (u32, u32),
    service: (Proto, u16),
    every_s: i64,
    (up0, down0): (f64, f64),
) {
    let (s0, s1) = p.span;
    let every = every_s * US;
    let mut t = s0 + rng.random_range(0..every);
    while t < s1 {
        let up = bytes(jitter(rng, up0, 0.03), 1, 100_000);
        let down = bytes(jitter(rng, down0, 0.03), 1, 100_000);
        out.push(decoy_flow(
            t,
            ends,
            service,
            (up, down),
            DecoyKind::IotDevice,
        ));
        t += jitter(rng, every as f64, 0.02) as i64;
    }
}
