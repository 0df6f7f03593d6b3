//! A device in a peer-to-peer overlay (a P2P botnet's C&C), as analysts' CSV rows, for
//! `tests/detect_p2p.rs` and `tests/shard_equal.rs`.

use super::Row;

pub const T0: i64 = 1_700_000_000;
pub const DEVICE: &str = "192.168.1.50";
pub const LISTEN: u16 = 25_660;

/// A small deterministic generator (xorshift).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `n` public addresses, each with its own high port.
pub fn peers(rng: &mut Rng, n: usize) -> Vec<(String, u16)> {
    (0..n)
        .map(|_| {
            let a = [81, 95, 109, 176, 188, 31, 46, 78][rng.below(8) as usize];
            let ip = format!(
                "{a}.{}.{}.{}",
                rng.below(250) + 1,
                rng.below(250),
                rng.below(250) + 1
            );
            (ip, 1025 + rng.below(64_000) as u16)
        })
        .collect()
}

/// The device's everyday traffic over `hours` from `t0`: DNS to the router, NTP, a cloud heartbeat.
pub fn everyday(t0: i64, hours: i64) -> Vec<(&'static str, Row)> {
    let mut v = Vec::new();
    for k in 0..hours * 12 {
        let t = t0 + k * 300;
        v.push(("udp", (t, DEVICE.into(), "192.168.1.1".into(), 53, 60, 120)));
        v.push((
            "tcp",
            (t + 7, DEVICE.into(), "52.1.2.3".into(), 443, 900, 700),
        ));
    }
    for k in 0..hours {
        v.push((
            "udp",
            (
                t0 + k * 3600 + 30,
                DEVICE.into(),
                "203.0.113.10".into(),
                123,
                48,
                48,
            ),
        ));
    }
    v
}

/// An overlay over `hours` from `t0`: `dials` flows to random peers (55 % answered) and `inbound`
/// flows from peers to the device's listen port.
pub fn overlay(
    rng: &mut Rng,
    t0: i64,
    hours: i64,
    peers: &[(String, u16)],
    dials: usize,
    inbound: usize,
) -> Vec<(&'static str, Row)> {
    let span = hours as u64 * 3600;
    let mut v = Vec::new();
    for _ in 0..dials {
        let (ip, port) = &peers[rng.below(peers.len() as u64) as usize];
        let down = if rng.below(100) < 55 {
            200 + rng.below(250)
        } else {
            0
        };
        let t = t0 + rng.below(span) as i64;
        v.push((
            "udp",
            (
                t,
                DEVICE.into(),
                ip.clone(),
                *port,
                90 + rng.below(60),
                down,
            ),
        ));
    }
    for _ in 0..inbound {
        let (ip, _) = &peers[rng.below(peers.len() as u64) as usize];
        let t = t0 + rng.below(span) as i64;
        v.push(("udp", (t, ip.clone(), DEVICE.into(), LISTEN, 120, 300)));
    }
    v
}

/// Four other clients browsing, so the capture has a population.
pub fn clients(rng: &mut Rng, t0: i64, hours: i64) -> Vec<(&'static str, Row)> {
    let mut v = Vec::new();
    for c in 10..14 {
        for k in 0..hours * 30 {
            let dst = format!("151.101.{}.{}", rng.below(4), rng.below(200) + 1);
            v.push((
                "tcp",
                (
                    t0 + k * 120,
                    format!("192.168.1.{c}"),
                    dst,
                    443,
                    2_000,
                    40_000,
                ),
            ));
        }
    }
    v
}

/// `hours` of the device's everyday traffic and its overlay (300 peers, 4,000 dials, 800 flows
/// dialling in), four browsing clients and `extra` rows, sorted by time.
pub fn capture(
    seed: u64,
    hours: i64,
    extra: impl FnOnce(&mut Rng) -> Vec<(&'static str, Row)>,
) -> Vec<(&'static str, Row)> {
    let mut rng = Rng(seed);
    let ps = peers(&mut rng, 300);
    let mut v = everyday(T0, hours);
    v.extend(overlay(&mut rng, T0, hours, &ps, 4_000, 800));
    v.extend(clients(&mut rng, T0, hours));
    v.extend(extra(&mut rng));
    v.sort_by_key(|r| r.1 .0);
    v
}
