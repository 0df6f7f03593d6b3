//! Public servers inferred from the data, for `server_abuse` when `public_ranges` is not set: an
//! address that serves many distinct external clients, from many networks, on a few service ports.

use super::DetectCtx;
use crate::baseline::Baseline;
use crate::ip;
use ahash::{AHashMap, AHashSet};

/// The inference's settings (from `[detectors.server_abuse]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InferParams {
    /// Distinct external clients served on one service port.
    pub min_clients: u64,
    /// Distinct client networks (IPv4 /16, IPv6 /32) among them.
    pub min_networks: u64,
    /// At most this many service ports (more: a honeypot or a gateway, not a server).
    pub max_ports: usize,
    /// Highest service port (above: ephemeral).
    pub max_port: u16,
    /// A flow with nothing back, or at most this many bytes, served nothing.
    pub tiny_bytes: u64,
}

/// What one (address, protocol, port) served.
#[derive(Debug, Default, Clone)]
pub struct ServiceAcc {
    /// Distinct external clients that got data back.
    pub clients: AHashSet<u128>,
    /// Their networks.
    pub networks: AHashSet<u128>,
}

/// The network of a client: IPv4 /16, IPv6 /32.
pub fn network_of(addr: u128) -> u128 {
    ip::prefix(addr, 16, 32)
}

/// True when a flow served its client: something came back and it carried more than `tiny` bytes.
pub fn served(up: u64, down: u64, tiny: u64) -> bool {
    down > 0 && up.saturating_add(down) > tiny
}

/// Decides the servers from per-service counts: a service qualifies with `min_clients` clients (a
/// quarter of that for an internal host the normal baseline already knows as busy, `known`) from
/// `min_networks` networks; an address with 1..=`max_ports` qualifying services is a server on
/// those services.
pub fn decide(
    services: &AHashMap<(u128, u8, u16), ServiceAcc>,
    p: &InferParams,
    known: &dyn Fn(u128) -> bool,
) -> AHashMap<u128, Vec<(u8, u16)>> {
    let mut out: AHashMap<u128, Vec<(u8, u16)>> = AHashMap::new();
    for ((addr, proto, port), acc) in services {
        let need = if known(*addr) {
            p.min_clients.div_ceil(4).max(2)
        } else {
            p.min_clients
        };
        if acc.clients.len() as u64 >= need && acc.networks.len() as u64 >= p.min_networks {
            out.entry(*addr).or_default().push((*proto, *port));
        }
    }
    out.retain(|_, ports| ports.len() <= p.max_ports);
    for ports in out.values_mut() {
        ports.sort_unstable();
    }
    out
}

/// True when a normal-period baseline holds `addr` as a host that talked to at least `min` distinct
/// peers (a self-learned baseline is the test input itself and adds nothing).
pub fn known_busy(b: &Baseline, addr: u128, min: u64) -> bool {
    !b.robust() && b.host(addr).is_some_and(|h| h.distinct_destinations >= min)
}

/// The inferred public servers of the test input, with their service ports `(proto index, port)`.
pub fn infer(ctx: &DetectCtx, p: &InferParams) -> AHashMap<u128, Vec<(u8, u16)>> {
    let f = ctx.flows;
    let mut services: AHashMap<(u128, u8, u16), ServiceAcc> = AHashMap::new();
    for i in 0..f.len() {
        if f.dst_port[i] > p.max_port
            || ctx.nets.contains(f.src[i])
            || !served(f.up[i], f.down[i], p.tiny_bytes)
        {
            continue;
        }
        let acc = services
            .entry((f.dst[i], f.proto[i].index() as u8, f.dst_port[i]))
            .or_default();
        if acc.clients.insert(f.src[i]) {
            acc.networks.insert(network_of(f.src[i]));
        }
    }
    let known = |a: u128| ctx.nets.contains(a) && known_busy(ctx.baseline, a, p.min_clients);
    decide(&services, p, &known)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> u128 {
        ip::parse(s).unwrap()
    }

    #[test]
    fn networks_and_served() {
        assert_eq!(network_of(v("45.9.148.3")), v("45.9.0.0"));
        assert_eq!(network_of(v("2001:db8:1:2::5")), v("2001:db8::"));
        let cases = [
            (0, 0, false),
            (60, 0, false),
            (60, 60, false),
            (300, 900, true),
        ];
        for (up, down, want) in cases {
            assert_eq!(served(up, down, 128), want, "{up} {down}");
        }
    }

    /// services: (addr, port, clients, networks)
    fn services(rows: &[(&str, u16, u64, u64)]) -> AHashMap<(u128, u8, u16), ServiceAcc> {
        let mut m = AHashMap::new();
        for &(a, port, clients, nets) in rows {
            let acc = ServiceAcc {
                clients: (0..clients).map(|c| c as u128).collect(),
                networks: (0..nets).map(|c| c as u128).collect(),
            };
            m.insert((v(a), 0, port), acc);
        }
        m
    }

    #[test]
    fn decide_table() {
        let p = InferParams {
            min_clients: 20,
            min_networks: 5,
            max_ports: 3,
            max_port: 49151,
            tiny_bytes: 128,
        };
        let known = |a: u128| a == v("10.0.0.9");
        let m = services(&[
            ("200.0.0.10", 443, 500, 120), // a public web server
            ("200.0.0.10", 80, 60, 30),
            ("200.0.0.10", 8443, 3, 3), // too few clients on this port
            ("8.8.8.8", 53, 400, 1),    // many clients, one network: our own clients, not a server
            ("10.0.0.5", 22, 19, 19),   // just under the floor
            ("10.0.0.9", 22, 6, 6),     // known busy in the baseline: a quarter suffices
            ("10.0.0.7", 1, 50, 50),    // four ports: too many for a server
            ("10.0.0.7", 2, 50, 50),
            ("10.0.0.7", 3, 50, 50),
            ("10.0.0.7", 4, 50, 50),
        ]);
        let got = decide(&m, &p, &known);
        let mut keys: Vec<String> = got.keys().map(|a| ip::format(*a)).collect();
        keys.sort();
        assert_eq!(keys, ["10.0.0.9", "200.0.0.10"]);
        assert_eq!(got[&v("200.0.0.10")], vec![(0, 80), (0, 443)]);
    }
}
