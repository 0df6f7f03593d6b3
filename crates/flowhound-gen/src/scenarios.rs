//! The attack scenarios injected into the test period. Each function draws its
//! hosts, peers, ports, countries, timing and sizes from the seeded RNG and
//! returns the flows with their truth record.

use crate::attacks;
use crate::config::Scenario;
use crate::dist::{bytes, choose_distinct, jitter, lognormal, GenRng};
use crate::flow::{Flow, Label, Proto, HOUR_US, US};
use crate::model::web_sizes;
use crate::plan::{params, strings, summarise, Injected, Planner};
use crate::GenError;
use rand::Rng;

/// Injects `kind`.
pub(crate) fn inject(
    p: &mut Planner,
    rng: &mut GenRng,
    kind: Scenario,
) -> Result<Injected, GenError> {
    match kind {
        Scenario::Botnet => botnet(p, rng),
        Scenario::CncBeacon => cnc_beacon(p, rng),
        Scenario::Exfiltration => exfiltration(p, rng),
        Scenario::DnsTunnel => dns_tunnel(p, rng),
        Scenario::PortScan => port_scan(p, rng),
        Scenario::UnusualCountry => unusual_country(p, rng),
        Scenario::ServerAbuse => server_abuse(p, rng),
        Scenario::CncChannel => attacks::cnc_channel(p, rng),
        Scenario::Dos => attacks::dos(p, rng),
        Scenario::InboundAttack => attacks::inbound_attack(p, rng),
        Scenario::ThreatIntel => attacks::threat_intel(p, rng),
        Scenario::Dropper => crate::dropper::dropper(p, rng),
        Scenario::Spam => crate::spam::spam(p, rng),
    }
}

fn flow(
    ts_us: i64,
    (src, dst): (u32, u32),
    proto: Proto,
    port: u16,
    (up, down): (i64, i64),
    kind: Scenario,
) -> Flow {
    Flow::new(
        ts_us,
        (src, dst),
        (proto, port),
        (up, down),
        Label::Scenario(kind),
    )
}

/// Ports a botnet may use: classic IRC/RAT ports, or a random high port.
fn botnet_port(rng: &mut GenRng) -> u16 {
    const CLASSIC: [u16; 8] = [6667, 4444, 31337, 12345, 5555, 1604, 8545, 9001];
    if rng.random_bool(0.5) {
        CLASSIC[rng.random_range(0..CLASSIC.len())]
    } else {
        rng.random_range(20_000..60_000)
    }
}

fn botnet(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    let k = rng.random_range(3..=8);
    let members = p.take_clients(k)?;
    let port = botnet_port(rng);
    let every = rng.random_range(15..=60) * 60 * US;
    let dur = rng.random_range(2..=8) * HOUR_US;
    let (t0, t1) = p.window(rng, dur);
    let mut flows = Vec::new();
    let mut t = t0;
    while t < t1 {
        for &a in &members {
            for &b in members.iter().filter(|&&b| b != a) {
                let ts = t + rng.random_range(0..5 * US);
                let up = bytes(lognormal(rng, 400.0, 0.5), 40, 100_000);
                let down = bytes(lognormal(rng, 300.0, 0.5), 40, 100_000);
                flows.push(flow(
                    ts,
                    (a, b),
                    Proto::Tcp,
                    port,
                    (up, down),
                    Scenario::Botnet,
                ));
            }
        }
        t += every;
    }
    let mut truth = summarise(Scenario::Botnet, "test", &flows);
    truth.hosts = strings(&members);
    truth.peers = truth.hosts.clone();
    truth.ports = vec![port];
    truth.note = format!(
        "{k} clients, bursts every {} min on tcp/{port}",
        every / 60 / US
    );
    truth.params = params(&[("burst_interval_s", (every / US) as f64)]);
    Ok(Injected::new(flows, truth))
}

fn cnc_beacon(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    const PORTS: [u16; 5] = [443, 8443, 8080, 1177, 4444];
    let k = rng.random_range(1..=3);
    let bots = p.take_clients(k)?;
    let cc = p.unusual_country()?;
    let cnc = p.fresh_ip(rng, &cc)?;
    let port = PORTS[rng.random_range(0..PORTS.len())];
    let period = rng.random_range(30..=600) * US;
    let jit = rng.random_range(0.02..0.05);
    let max_n = p.scaled(1200, 40) as i64;
    let dur = (rng.random_range(3..=12) * HOUR_US).min(max_n * period);
    let (t0, t1) = p.window(rng, dur);
    let (up0, down0) = (
        rng.random_range(200.0..800.0),
        rng.random_range(100.0..600.0),
    );
    let mut flows = Vec::new();
    for &bot in &bots {
        let mut t = t0 + rng.random_range(0..period);
        while t < t1 {
            let up = bytes(jitter(rng, up0, 0.02), 1, 10_000);
            let down = bytes(jitter(rng, down0, 0.02), 1, 10_000);
            flows.push(flow(
                t,
                (bot, cnc),
                Proto::Tcp,
                port,
                (up, down),
                Scenario::CncBeacon,
            ));
            t += jitter(rng, period as f64, jit) as i64;
        }
    }
    let mut truth = summarise(Scenario::CncBeacon, "test", &flows);
    truth.hosts = strings(&bots);
    truth.peers = strings(&[cnc]);
    truth.ports = vec![port];
    truth.countries = vec![cc];
    truth.note = format!("period {} s, jitter {:.1} %", period / US, jit * 100.0);
    truth.params = params(&[("period_s", (period / US) as f64), ("jitter", jit)]);
    Ok(Injected::new(flows, truth))
}

fn exfiltration(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    const PORTS: [u16; 4] = [443, 443, 22, 8443];
    let k = rng.random_range(1..=2);
    let hosts = p.take_clients(k)?;
    let cc = p.usual_country(rng);
    let target = p.fresh_ip(rng, &cc)?;
    let port = PORTS[rng.random_range(0..PORTS.len())];
    let mut flows = Vec::new();
    for &h in &hosts {
        let total = (rng.random_range((3e8f64).ln()..(3e9f64).ln())).exp();
        let n = p.scaled(rng.random_range(50..=400), 30) as usize;
        let shares: Vec<f64> = (0..n).map(|_| lognormal(rng, 1.0, 0.6)).collect();
        let sum: f64 = shares.iter().sum();
        for s in shares {
            let ts = if rng.random_bool(0.8) {
                p.night_ts(rng)
            } else {
                p.window(rng, US).0
            };
            let up = bytes(total * s / sum, 1000, i64::MAX);
            let down = bytes(lognormal(rng, 8000.0, 0.6), 100, 1_000_000);
            flows.push(flow(
                ts,
                (h, target),
                Proto::Tcp,
                port,
                (up, down),
                Scenario::Exfiltration,
            ));
        }
    }
    let mut truth = summarise(Scenario::Exfiltration, "test", &flows);
    truth.hosts = strings(&hosts);
    truth.peers = strings(&[target]);
    truth.ports = vec![port];
    truth.countries = vec![cc];
    truth.note = "large uploads to a never-seen address, 80 % at night (00-05 UTC)".into();
    Ok(Injected::new(flows, truth))
}

fn dns_tunnel(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    let host = p.take_clients(1)?;
    let cc = p.unusual_country()?;
    let resolver = p.fresh_ip(rng, &cc)?;
    let n = p.scaled(rng.random_range(800..=3000), 200);
    let dur = rng.random_range(2..=10) * HOUR_US;
    let (t0, t1) = p.window(rng, dur);
    let mut flows = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let ts = rng.random_range(t0..t1);
        let up = bytes(lognormal(rng, 180.0, 0.35), 90, 512);
        let down = bytes(lognormal(rng, 220.0, 0.4), 60, 1200);
        flows.push(flow(
            ts,
            (host[0], resolver),
            Proto::Udp,
            53,
            (up, down),
            Scenario::DnsTunnel,
        ));
    }
    let mut truth = summarise(Scenario::DnsTunnel, "test", &flows);
    truth.hosts = strings(&host);
    truth.peers = strings(&[resolver]);
    truth.ports = vec![53];
    truth.countries = vec![cc];
    truth.note = "udp/53 to an external resolver, up_bytes 90-512".into();
    Ok(Injected::new(flows, truth))
}

fn port_scan(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    let scanner = p.take_clients(1)?[0];
    let targets = scan_targets(p, rng, scanner);
    let ports = scan_ports(rng);
    let rate = rng.random_range(20.0..200.0); // probes per second
    let probes = (targets.len() * ports.len()) as f64;
    let (t0, _) = p.window(rng, (probes / rate) as i64 * US + 10 * US);
    let mut flows = Vec::with_capacity(targets.len() * (ports.len() + 1));
    for (i, &dst) in targets.iter().enumerate() {
        let ts = t0 + i as i64 * US / 10; // ping sweep first
        let ends = (scanner, dst);
        flows.push(flow(ts, ends, Proto::Icmp, 0, (28, 28), Scenario::PortScan));
    }
    let t1 = t0 + targets.len() as i64 * US / 10;
    let pairs = targets
        .iter()
        .flat_map(|t| ports.iter().map(move |q| (*t, *q)));
    for (i, (dst, port)) in pairs.enumerate() {
        let ts = t1 + (i as f64 / rate * 1e6) as i64;
        let up = [0, 40, 44, 60][rng.random_range(0..4)];
        let down = if rng.random_bool(0.3) { 40 } else { 0 };
        flows.push(flow(
            ts,
            (scanner, dst),
            Proto::Tcp,
            port,
            (up, down),
            Scenario::PortScan,
        ));
    }
    let mut truth = summarise(Scenario::PortScan, "test", &flows);
    truth.note = format!(
        "{} hosts x {} ports at {rate:.0} probes/s",
        targets.len(),
        ports.len()
    );
    truth.hosts = strings(&[scanner]);
    truth.peers = strings(&targets);
    truth.params = params(&[("probes_per_s", rate), ("targets", targets.len() as f64)]);
    truth.ports = ports;
    Ok(Injected::new(flows, truth))
}

/// Internal hosts (clients and servers) the scanner probes, sorted.
fn scan_targets(p: &Planner, rng: &mut GenRng, scanner: u32) -> Vec<u32> {
    let s = p.net.servers;
    let internal: Vec<u32> = p
        .net
        .clients
        .iter()
        .map(|c| c.ip)
        .filter(|&ip| ip != scanner)
        .chain([s.dns, s.web, s.file, s.mail, s.db, s.backup])
        .collect();
    let n_targets = p.scaled(rng.random_range(5..=20), 3) as usize;
    let mut targets = choose_distinct(rng, &internal, n_targets);
    targets.sort_unstable();
    targets
}

/// 100-500 distinct ports among 1-1024 and common high service ports, sorted.
fn scan_ports(rng: &mut GenRng) -> Vec<u16> {
    let all: Vec<u16> = (1..=1024)
        .chain([1433, 3306, 3389, 5432, 5900, 8080, 8443])
        .collect();
    let n = rng.random_range(100..=500);
    let mut ports = choose_distinct(rng, &all, n);
    ports.sort_unstable();
    ports
}

fn unusual_country(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    let hosts = p.take_clients(rng.random_range(2..=4))?;
    let n_cc = rng.random_range(1..=3);
    let mut countries = Vec::new();
    let mut dests = Vec::new();
    for _ in 0..n_cc {
        let cc = p.unusual_country()?;
        for _ in 0..rng.random_range(1..=3) {
            dests.push(p.fresh_ip(rng, &cc)?);
        }
        if !countries.contains(&cc) {
            countries.push(cc);
        }
    }
    let mut flows = Vec::new();
    for &h in &hosts {
        for _ in 0..rng.random_range(5..=30) {
            let dst = dests[rng.random_range(0..dests.len())];
            let (up, down) = web_sizes(rng);
            flows.push(flow(
                p.office_ts(rng),
                (h, dst),
                Proto::Tcp,
                443,
                (up, down),
                Scenario::UnusualCountry,
            ));
        }
    }
    let mut truth = summarise(Scenario::UnusualCountry, "test", &flows);
    truth.hosts = strings(&hosts);
    truth.peers = strings(&dests);
    truth.ports = vec![443];
    truth.countries = countries;
    truth.note = "ordinary HTTPS to countries absent from the normal period".into();
    Ok(Injected::new(flows, truth))
}

fn server_abuse(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    let k = rng.random_range(1..=4);
    let (abusers, countries) = p.fresh_mixed(rng, k, 0.5)?;
    let target = if rng.random_bool(0.8) {
        p.net.public.web
    } else {
        p.net.public.mail
    };
    let port = if target == p.net.public.web { 443 } else { 25 };
    let by_volume = rng.random_bool(0.5);
    let dur = rng.random_range(1..=4) * HOUR_US;
    let (t0, t1) = p.window(rng, dur);
    let mut flows = Vec::new();
    for &a in &abusers {
        let n = if by_volume {
            rng.random_range(50..=300)
        } else {
            p.scaled(rng.random_range(300..=3000), 150)
        };
        for _ in 0..n {
            let (up, down) = abuse_sizes(rng, by_volume, port);
            let ts = rng.random_range(t0..t1);
            flows.push(flow(
                ts,
                (a, target),
                Proto::Tcp,
                port,
                (up, down),
                Scenario::ServerAbuse,
            ));
        }
    }
    let mut truth = summarise(Scenario::ServerAbuse, "servers", &flows);
    truth.hosts = strings(&abusers);
    truth.peers = strings(&[target]);
    truth.ports = vec![port];
    truth.countries = countries;
    truth.params = params(&[("by_volume", f64::from(u8::from(by_volume)))]);
    truth.note = if by_volume {
        "abnormal volume"
    } else {
        "abnormal request count"
    }
    .into();
    Ok(Injected::new(flows, truth))
}

fn abuse_sizes(rng: &mut GenRng, by_volume: bool, port: u16) -> (i64, i64) {
    match (by_volume, port) {
        (true, 25) => (bytes(lognormal(rng, 2e7, 0.5), 1000, i64::MAX), 1200),
        (true, _) => (
            bytes(lognormal(rng, 900.0, 0.3), 100, 10_000),
            bytes(lognormal(rng, 5e7, 0.5), 1000, i64::MAX),
        ),
        (false, _) => (
            bytes(lognormal(rng, 600.0, 0.3), 100, 10_000),
            bytes(lognormal(rng, 2000.0, 0.5), 100, 100_000),
        ),
    }
}
