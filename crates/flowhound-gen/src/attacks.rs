//! The scenarios added for issue 12: `cnc_channel` (a reconnect storm),
//! `dos` (flood participation), `inbound_attack` (many external sources
//! against one exposed server) and `threat_intel` (traffic to an address of
//! the generated blocklist `intel.txt`).

use crate::config::Scenario;
use crate::dist::{bytes, choose_distinct, lognormal, GenRng};
use crate::flow::{Flow, Label, Proto, HOUR_US, US};
use crate::ip::{dotted, prefix_mask};
use crate::model::web_sizes;
use crate::plan::{params, strings, summarise, Injected, Planner};
use crate::GenError;
use rand::Rng;

fn flow(ts_us: i64, ends: (u32, u32), svc: (Proto, u16), sizes: (i64, i64), k: Scenario) -> Flow {
    Flow::new(ts_us, ends, svc, sizes, Label::Scenario(k))
}

/// A usual or an unusual country, half and half.
fn any_country(p: &mut Planner, rng: &mut GenRng) -> Result<String, GenError> {
    if rng.random_bool(0.5) {
        Ok(p.usual_country(rng))
    } else {
        p.unusual_country()
    }
}

/// A reconnect storm: one client opens short, mostly empty or failed tcp
/// connections to one external address:port every 3-7 s (uniform, so not
/// strictly periodic), max(300, 3000 * intensity) of them.
pub(crate) fn cnc_channel(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    const PORTS: [u16; 6] = [6667, 6667, 23, 2323, 1337, 5555];
    let bot = p.take_clients(1)?[0];
    let cc = any_country(p, rng)?;
    let cnc = p.fresh_ip(rng, &cc)?;
    let port = PORTS[rng.random_range(0..PORTS.len())];
    let n = p.scaled(3000, 300) as i64;
    let (t0, _) = p.window(rng, n * 5 * US + HOUR_US);
    let mut flows = Vec::with_capacity(n as usize);
    let mut t = t0;
    for _ in 0..n {
        let sizes = match rng.random_range(0..10) {
            0..=6 => (0, 0),
            7 | 8 => (60, 0),
            _ => (bytes(lognormal(rng, 120.0, 0.3), 60, 400), 40),
        };
        flows.push(flow(
            t,
            (bot, cnc),
            (Proto::Tcp, port),
            sizes,
            Scenario::CncChannel,
        ));
        t += rng.random_range(3 * US..=7 * US);
    }
    let mut truth = summarise(Scenario::CncChannel, "test", &flows);
    truth.hosts = strings(&[bot]);
    truth.peers = strings(&[cnc]);
    truth.ports = vec![port];
    truth.countries = vec![cc];
    truth.note = format!("reconnect storm: {n} short/failed tcp attempts every 3-7 s");
    truth.params = params(&[
        ("attempts", n as f64),
        ("min_gap_s", 3.0),
        ("max_gap_s", 7.0),
    ]);
    Ok(Injected::new(flows, truth))
}

/// Flood participation: one client sends max(2000, 14000 * intensity) small
/// udp, icmp or SYN flows to one external target at 50-500 flows/s.
pub(crate) fn dos(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    let host = p.take_clients(1)?[0];
    let cc = p.usual_country(rng);
    let target = p.fresh_ip(rng, &cc)?;
    let (proto, port, mode) = match rng.random_range(0..3) {
        0 => (
            Proto::Udp,
            [53u16, 123, 80, 27015][rng.random_range(0..4)],
            "udp",
        ),
        1 => (Proto::Icmp, 0, "icmp"),
        _ => (Proto::Tcp, [80u16, 443][rng.random_range(0..2)], "syn"),
    };
    let n = p.scaled(14_000, 2000);
    let rate = rng.random_range(50.0..500.0);
    let (t0, _) = p.window(rng, (n as f64 / rate) as i64 * US + 10 * US);
    let flows = (0..n)
        .map(|i| {
            let ts = t0 + (i as f64 / rate * 1e6) as i64;
            let up = match proto {
                Proto::Tcp => 40 + 4 * rng.random_range(0..5),
                _ => rng.random_range(28..=120),
            };
            flow(ts, (host, target), (proto, port), (up, 0), Scenario::Dos)
        })
        .collect::<Vec<_>>();
    let mut truth = summarise(Scenario::Dos, "test", &flows);
    truth.hosts = strings(&[host]);
    truth.peers = strings(&[target]);
    truth.ports = vec![port];
    truth.countries = vec![cc];
    truth.note = format!("{mode} flood: {n} small flows at {rate:.0} flows/s");
    truth.params = params(&[("flows_per_s", rate), ("flows", n as f64)]);
    Ok(Injected::new(flows, truth))
}

/// Many external sources against one exposed server: a public server (in
/// `servers.parquet`) or the intranet web server exposed through NAT (in
/// `test.parquet`); either a port scan (1-20 ports per source) or a
/// brute-force on a login port (5-60 attempts per source).
pub(crate) fn inbound_attack(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    let public = rng.random_bool(0.5);
    let (target, file) = if public {
        (p.net.public.vpn, "servers")
    } else {
        (p.net.servers.web, "test")
    };
    let n_src = p.scaled(rng.random_range(200..=1600), 30) as usize;
    let mut sources = Vec::with_capacity(n_src);
    for _ in 0..n_src {
        let cc = any_country(p, rng)?;
        sources.push(p.fresh_ip(rng, &cc)?);
    }
    let brute = rng.random_bool(0.5);
    let login = [22u16, 3389, 23, 445][rng.random_range(0..4)];
    let dur = rng.random_range(1..=6) * HOUR_US;
    let (t0, t1) = p.window(rng, dur);
    let mut flows = Vec::new();
    let all_ports: Vec<u16> = (1..=1024).chain([3389, 5900, 8080, 8443]).collect();
    for &src in &sources {
        let ports = if brute {
            vec![login; rng.random_range(5..=60)]
        } else {
            let k = rng.random_range(1..=20);
            choose_distinct(rng, &all_ports, k)
        };
        for port in ports {
            let sizes = if brute {
                let up = bytes(lognormal(rng, 1800.0, 0.3), 300, 20_000);
                (up, bytes(lognormal(rng, 2500.0, 0.3), 300, 20_000))
            } else {
                (
                    [0, 40, 44, 60][rng.random_range(0..4)],
                    [0, 40][rng.random_range(0..2)],
                )
            };
            let ts = rng.random_range(t0..t1);
            flows.push(flow(
                ts,
                (src, target),
                (Proto::Tcp, port),
                sizes,
                Scenario::InboundAttack,
            ));
        }
    }
    let mut truth = summarise(Scenario::InboundAttack, file, &flows);
    truth.hosts = strings(&[target]);
    truth.peers = strings(&sources);
    truth.ports = if brute { vec![login] } else { Vec::new() };
    let mode = if brute { "brute-force" } else { "port scan" };
    truth.note = format!("{n_src} external sources, {mode} of {}", dotted(target));
    truth.params = params(&[
        ("sources", n_src as f64),
        ("brute_force", f64::from(u8::from(brute))),
    ]);
    Ok(Injected::new(flows, truth))
}

/// An ordinary-looking client visits an address (in a usual country) that
/// the generated blocklist `intel.txt` lists, as the address itself or its
/// /24; the list also holds 20 never-used addresses and the TEST-NET blocks.
pub(crate) fn threat_intel(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    let host = p.take_clients(1)?[0];
    let cc = p.usual_country(rng);
    let bad = p.fresh_ip(rng, &cc)?;
    let mut flows = Vec::new();
    for _ in 0..rng.random_range(5..=40) {
        let sizes = web_sizes(rng);
        let ts = p.office_ts(rng);
        flows.push(flow(
            ts,
            (host, bad),
            (Proto::Tcp, 443),
            sizes,
            Scenario::ThreatIntel,
        ));
    }
    let block = bad & prefix_mask(24);
    let as_cidr = rng.random_bool(0.5) && p.reserve_block(block, bad);
    let listed = if as_cidr {
        format!("{}/24", dotted(block))
    } else {
        dotted(bad)
    };
    let mut intel = vec![listed.clone()];
    for _ in 0..20 {
        let cc = any_country(p, rng)?;
        intel.push(dotted(p.fresh_ip(rng, &cc)?));
    }
    intel.extend(["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map(String::from));
    intel.sort();
    let mut truth = summarise(Scenario::ThreatIntel, "test", &flows);
    truth.hosts = strings(&[host]);
    truth.peers = strings(&[bad]);
    truth.ports = vec![443];
    truth.countries = vec![cc];
    truth.note = format!("https to {}, listed in intel.txt as {listed}", dotted(bad));
    truth.params = params(&[("listed_prefix_len", if as_cidr { 24.0 } else { 32.0 })]);
    Ok(Injected {
        flows,
        truth,
        intel,
    })
}
