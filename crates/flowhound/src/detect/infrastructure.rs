//! Well-known periodic infrastructure: the network services every device talks to on timers (time,
//! name resolution through the network's resolvers, address assignment, discovery by multicast and
//! broadcast). A C&C detector scores such a channel down unless other evidence stands with it, and
//! says why with the label returned here. Pure rules over (peer, protocol, destination port).

use super::DetectCtx;
use crate::baseline::Baseline;
use crate::ip;
use crate::net::InternalNets;
use crate::schema::Proto;

/// What `peer` on `proto`/`port` is, when it is well-known infrastructure (see
/// [`classify`]), judged against the detection context's internal networks and baseline.
pub fn infrastructure(
    peer: u128,
    proto: Proto,
    port: u16,
    ctx: &DetectCtx,
) -> Option<&'static str> {
    classify(peer, proto, port, ctx.nets, ctx.baseline)
}

/// The rules, in order: multicast (`224.0.0.0/4`, `ff00::/8`), limited broadcast
/// (`255.255.255.255`), the subnet broadcast `.255` of an internal /24; then by service: NTP
/// (udp/123), DHCP (udp/67-68), mDNS (udp/5353), SSDP (udp/1900), LLMNR (udp|tcp/5355), NetBIOS
/// (udp/137-138), and DNS (udp|tcp/53, DNS over TLS/QUIC 853) when the peer is internal or a
/// baseline server on 53. DNS to an outside resolver is not the network's resolver and is left to
/// the detectors.
pub fn classify(
    peer: u128,
    proto: Proto,
    port: u16,
    nets: &InternalNets,
    baseline: &Baseline,
) -> Option<&'static str> {
    address_label(peer, nets).or_else(|| service_label(peer, proto, port, nets, baseline))
}

/// "multicast", "broadcast" or "subnet broadcast" for such an address (the address rules of [`classify`]).
pub fn address_label(peer: u128, nets: &InternalNets) -> Option<&'static str> {
    if let Some(a) = ip::as_v4(peer) {
        if a >> 28 == 0xe {
            return Some("multicast");
        }
        if a == u32::MAX {
            return Some("broadcast");
        }
        if a & 0xff == 0xff && nets.contains(peer) {
            return Some("subnet broadcast");
        }
        return None;
    }
    (peer >> 120 == 0xff).then_some("multicast")
}

fn service_label(
    peer: u128,
    proto: Proto,
    port: u16,
    nets: &InternalNets,
    baseline: &Baseline,
) -> Option<&'static str> {
    let udp = proto == Proto::Udp;
    let udp_tcp = matches!(proto, Proto::Udp | Proto::Tcp);
    match port {
        123 if udp => Some("NTP time service"),
        67 | 68 if udp => Some("DHCP"),
        5353 if udp => Some("mDNS discovery"),
        1900 if udp => Some("SSDP discovery"),
        5355 if udp_tcp => Some("LLMNR name resolution"),
        137 | 138 if udp => Some("NetBIOS name service"),
        53 | 853 if udp_tcp && resolver(peer, nets, baseline) => {
            Some("DNS to the network's resolver")
        }
        _ => None,
    }
}

/// True for an internal address or a baseline server on port 53.
fn resolver(peer: u128, nets: &InternalNets, baseline: &Baseline) -> bool {
    nets.contains(peer) || baseline.is_server(&ip::format(peer), 53)
}

/// Store-and-forward services: a mail exchanger delivers on the port it receives mail on, a resolver
/// recurses on the port it answers on.
pub const RELAY_PORTS: [u16; 2] = [25, 53];
/// Distinct external clients an internal host must serve a relay port to in the test input before
/// it is that service's relay.
pub const RELAY_MIN_CLIENTS: usize = 5;

/// The baseline's servers of the [`RELAY_PORTS`], as (host, port): the relays every host shard
/// knows alike.
pub fn baseline_relays(baseline: &Baseline) -> impl Iterator<Item = (u128, u16)> + '_ {
    baseline
        .servers
        .iter()
        .filter_map(|s| Some((ip::parse(&s.ip)?, s.port?)))
        .filter(|(_, p)| RELAY_PORTS.contains(p))
}

/// The (internal host, port) pairs of the network's store-and-forward servers ([`RELAY_PORTS`]):
/// the baseline's servers of those ports (internal clients reach them), and the hosts serving one to
/// at least [`RELAY_MIN_CLIENTS`] external clients in `flows`. Both hold in a host shard as in the
/// whole input: the baseline is global, and a flow from outside belongs to its internal end.
pub fn relays(
    flows: &super::flows::Flows,
    nets: &InternalNets,
    baseline: &Baseline,
) -> ahash::AHashSet<(u128, u16)> {
    let mut out: ahash::AHashSet<(u128, u16)> = baseline_relays(baseline).collect();
    let f = flows;
    let mut clients: ahash::AHashMap<(u128, u16), ahash::AHashSet<u128>> = Default::default();
    for i in 0..f.len() {
        let served = RELAY_PORTS.contains(&f.dst_port[i]) && f.down[i] > 0;
        if served && nets.contains(f.dst[i]) && !nets.contains(f.src[i]) {
            let c = clients.entry((f.dst[i], f.dst_port[i])).or_default();
            if c.len() < RELAY_MIN_CLIENTS {
                c.insert(f.src[i]);
            }
        }
    }
    out.extend(
        clients
            .into_iter()
            .filter(|(_, c)| c.len() >= RELAY_MIN_CLIENTS)
            .map(|(k, _)| k),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::Server;

    #[test]
    fn classify_table() {
        let nets = InternalNets::default();
        let baseline = Baseline {
            servers: vec![Server {
                ip: "203.0.113.53".into(),
                proto: "udp".into(),
                port: Some(53),
                ..Default::default()
            }],
            ..Default::default()
        };
        let p = |s: &str| ip::parse(s).unwrap();
        use Proto::*;
        let cases: [(&str, Proto, u16, Option<&str>); 22] = [
            ("193.136.1.1", Udp, 123, Some("NTP time service")),
            ("193.136.1.1", Tcp, 123, None),
            (
                "192.168.1.1",
                Udp,
                53,
                Some("DNS to the network's resolver"),
            ),
            (
                "192.168.1.1",
                Tcp,
                853,
                Some("DNS to the network's resolver"),
            ),
            (
                "203.0.113.53",
                Udp,
                53,
                Some("DNS to the network's resolver"),
            ),
            ("8.8.8.8", Udp, 53, None),
            ("192.168.1.1", Icmp, 53, None),
            ("224.0.0.251", Udp, 5353, Some("multicast")),
            ("239.255.255.250", Udp, 1900, Some("multicast")),
            ("ff02::fb", Udp, 5353, Some("multicast")),
            ("255.255.255.255", Udp, 67, Some("broadcast")),
            ("192.168.1.255", Udp, 138, Some("subnet broadcast")),
            ("193.136.1.255", Tcp, 80, None),
            ("10.0.0.1", Udp, 67, Some("DHCP")),
            ("10.0.0.1", Udp, 68, Some("DHCP")),
            ("10.0.0.7", Udp, 5353, Some("mDNS discovery")),
            ("10.0.0.7", Udp, 1900, Some("SSDP discovery")),
            ("10.0.0.7", Tcp, 5355, Some("LLMNR name resolution")),
            ("10.0.0.7", Udp, 137, Some("NetBIOS name service")),
            ("10.0.0.7", Udp, 139, None),
            ("46.101.251.172", Tcp, 23, None),
            ("fe80::1", Udp, 443, None),
        ];
        for (peer, proto, port, want) in cases {
            assert_eq!(
                classify(p(peer), proto, port, &nets, &baseline),
                want,
                "{peer} {proto:?}/{port}"
            );
        }
    }
}
