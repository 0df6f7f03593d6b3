//! IP helpers shared by all sources: the flowhound `u128` convention, private /
//! reserved address tests and a small [`Cidr`] type.
//!
//! Convention: an IP is a `u128`; IPv4 `a.b.c.d` is stored IPv4-mapped
//! (`::ffff:a.b.c.d`), IPv6 as its 128-bit value.

use crate::GeoError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

const V4_MAPPED_PREFIX: u128 = 0xffff_0000_0000;

/// Converts an address to the flowhound `u128` convention (IPv4 mapped).
pub fn ip_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// Converts a flowhound `u128` back to an address (IPv4-mapped values become IPv4).
pub fn u128_to_ip(value: u128) -> IpAddr {
    match as_v4(value) {
        Some(v4) => IpAddr::V4(Ipv4Addr::from(v4)),
        None => IpAddr::V6(Ipv6Addr::from(value)),
    }
}

/// The IPv4 address held by an IPv4-mapped `u128`, if it is one.
#[inline]
pub fn as_v4(value: u128) -> Option<u32> {
    (value >> 32 == V4_MAPPED_PREFIX >> 32).then_some(value as u32)
}

/// The IPv4 value of an address: IPv4 itself or an IPv4-mapped IPv6.
pub(crate) fn ip_v4(ip: IpAddr) -> Option<u32> {
    match ip {
        IpAddr::V4(v4) => Some(u32::from(v4)),
        IpAddr::V6(v6) => as_v4(u128::from(v6)),
    }
}

/// True for private and non-routable addresses: RFC 1918, RFC 6598 shared space
/// (100.64/10), loopback, link-local, unspecified, multicast/broadcast, the
/// documentation nets, and for IPv6 `fc00::/7`, `fe80::/10`, `::1`, `::`, `ff00::/8`.
/// IPv4-mapped IPv6 addresses are judged as IPv4.
pub fn is_private(ip: IpAddr) -> bool {
    match ip_v4(ip) {
        Some(v4) => is_private_v4(v4),
        None => is_private_v6(ip_to_u128(ip)),
    }
}

/// [`is_private`] on the `u128` convention.
pub fn is_private_u128(ip: u128) -> bool {
    match as_v4(ip) {
        Some(v4) => is_private_v4(v4),
        None => is_private_v6(ip),
    }
}

/// (network, prefix length) of the private / reserved IPv4 blocks.
const PRIVATE_V4: [(u32, u8); 11] = [
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0a00_0000, 8),  // 10/8
    (0x6440_0000, 10), // 100.64/10 carrier-grade NAT
    (0x7f00_0000, 8),  // 127/8 loopback
    (0xa9fe_0000, 16), // 169.254/16 link-local
    (0xac10_0000, 12), // 172.16/12
    (0xc000_0200, 24), // 192.0.2/24 TEST-NET-1
    (0xc0a8_0000, 16), // 192.168/16
    (0xc612_0000, 15), // 198.18/15 benchmarking
    (0xc633_6400, 24), // 198.51.100/24 TEST-NET-2
    (0xcb00_7100, 24), // 203.0.113/24 TEST-NET-3
];

/// [`is_private`] for an IPv4 value; also true for multicast and reserved 224/3.
pub fn is_private_v4(ip: u32) -> bool {
    ip >= 0xe000_0000
        || PRIVATE_V4
            .iter()
            .any(|&(net, len)| prefix_match(ip as u128, net as u128, len, 32))
}

/// (network, prefix length) of the private / reserved IPv6 blocks (besides `::` and `::1`).
const PRIVATE_V6: [(u128, u8); 4] = [
    (0xfc00 << 112, 7),      // unique local
    (0xfe80 << 112, 10),     // link-local
    (0xff00 << 112, 8),      // multicast
    (0x2001_0db8 << 96, 32), // documentation
];

fn is_private_v6(ip: u128) -> bool {
    ip <= 1
        || PRIVATE_V6
            .iter()
            .any(|&(net, len)| prefix_match(ip, net, len, 128))
}

/// The private / reserved blocks of [`is_private`] as inclusive `u128` ranges
/// (IPv4 ones IPv4-mapped), sorted; used to blank them when building databases.
pub(crate) fn private_blocks() -> Vec<(u128, u128)> {
    let v4 = PRIVATE_V4
        .iter()
        .map(|&(net, len)| (net, len))
        .chain([(0xe000_0000u32, 3u8)]);
    let mut out: Vec<(u128, u128)> = v4
        .map(|(net, len)| {
            let first = V4_MAPPED_PREFIX | u128::from(net);
            (
                first,
                first | u128::from(u32::MAX.checked_shr(u32::from(len)).unwrap_or(0)),
            )
        })
        .collect();
    for (net, len) in PRIVATE_V6 {
        out.push((
            net,
            net | u128::MAX.checked_shr(u32::from(len)).unwrap_or(0),
        ));
    }
    out.push((0, 1));
    out.sort_unstable();
    out
}

fn prefix_match(ip: u128, net: u128, len: u8, width: u8) -> bool {
    let shift = u32::from(width - len);
    ip.checked_shr(shift).unwrap_or(0) == net.checked_shr(shift).unwrap_or(0)
}

/// An IPv4 or IPv6 network in CIDR notation, stored on the `u128` convention
/// (so `10.0.0.0/8` matches IPv4 and IPv4-mapped IPv6 addresses alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// First address of the network (host bits cleared).
    first: u128,
    /// Prefix length in the 128-bit space (IPv4 /n is stored as /96+n).
    len128: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `x::y/n` or a bare address (a /32 or /128). Host bits
    /// are cleared (`192.168.105.7/24` is the /24).
    pub fn parse(text: &str) -> Result<Cidr, GeoError> {
        let err = |detail| GeoError::InvalidCidr {
            text: text.to_string(),
            detail,
        };
        let t = text.trim();
        let (addr, len) = match t.split_once('/') {
            Some((a, l)) => (
                a,
                Some(l.parse::<u8>().map_err(|_| err("bad prefix length"))?),
            ),
            None => (t, None),
        };
        let ip = IpAddr::from_str(addr).map_err(|_| err("bad address"))?;
        let (max, extra) = if ip.is_ipv4() { (32, 96) } else { (128, 0) };
        let len = len.unwrap_or(max);
        if len > max {
            return Err(err("prefix length too large"));
        }
        let len128 = len + extra;
        Ok(Cidr {
            first: ip_to_u128(ip) & mask(len128),
            len128,
        })
    }

    /// True when `ip` lies inside the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.contains_u128(ip_to_u128(ip))
    }

    /// [`Cidr::contains`] on the `u128` convention.
    pub fn contains_u128(&self, ip: u128) -> bool {
        ip & mask(self.len128) == self.first
    }

    /// First and last address of the network on the `u128` convention.
    pub fn range_u128(&self) -> (u128, u128) {
        (self.first, self.first | !mask(self.len128))
    }

    /// Prefix length as written (IPv4 0..=32, IPv6 0..=128).
    pub fn prefix_len(&self) -> u8 {
        if as_v4(self.first).is_some() && self.len128 >= 96 {
            self.len128 - 96
        } else {
            self.len128
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", u128_to_ip(self.first), self.prefix_len())
    }
}

impl FromStr for Cidr {
    type Err = GeoError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cidr::parse(s)
    }
}

fn mask(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

/// True when `ip` lies inside `cidr` (e.g. `in_cidr(ip, "192.168.105.0/24")`).
/// An unparsable CIDR is an error, not a silent `false`.
pub fn in_cidr(ip: IpAddr, cidr: &str) -> Result<bool, GeoError> {
    Ok(Cidr::parse(cidr)?.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn u128_convention_matches_std() {
        let v4 = Ipv4Addr::new(193, 136, 73, 21);
        assert_eq!(ip_to_u128(IpAddr::V4(v4)), u128::from(v4.to_ipv6_mapped()));
        assert_eq!(u128_to_ip(ip_to_u128(ip("8.8.8.8"))), ip("8.8.8.8"));
        assert_eq!(u128_to_ip(ip_to_u128(ip("2001:db8::1"))), ip("2001:db8::1"));
    }

    #[test]
    fn private_addresses() {
        for p in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.115",
            "127.0.0.1",
            "169.254.3.4",
            "fc00::1",
            "fdff::1",
            "fe80::1",
            "::1",
            "::ffff:192.168.0.1",
        ] {
            assert!(is_private(ip(p)), "{p}");
        }
        for p in [
            "8.8.8.8",
            "172.32.0.1",
            "193.136.73.21",
            "2a00:1450::1",
            "11.0.0.0",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_private(ip(p)), "{p}");
        }
        // Cross-check the RFC 1918 / loopback / link-local parts with std's own predicates.
        for p in [
            "10.0.0.0",
            "9.255.255.255",
            "172.15.255.255",
            "192.167.255.255",
            "169.253.0.1",
        ] {
            let IpAddr::V4(v4) = ip(p) else { continue };
            let std_says = v4.is_private() || v4.is_loopback() || v4.is_link_local();
            assert_eq!(is_private(ip(p)), std_says, "{p}");
        }
    }

    #[test]
    fn private_blocks_agree_with_is_private() {
        for (first, last) in private_blocks() {
            for x in [first, last, first + (last - first) / 2] {
                assert!(is_private_u128(x), "{}", u128_to_ip(x));
            }
            if let Some(after) = last.checked_add(1) {
                let in_next = private_blocks()
                    .iter()
                    .any(|&(f, l)| f <= after && after <= l);
                assert_eq!(is_private_u128(after), in_next, "{}", u128_to_ip(after));
            }
        }
    }

    #[test]
    fn cidr_parse_and_contains() -> Result<(), GeoError> {
        assert!(in_cidr(ip("192.168.105.7"), "192.168.105.0/24")?);
        assert!(!in_cidr(ip("192.168.106.7"), "192.168.105.0/24")?);
        assert!(in_cidr(ip("::ffff:192.168.105.7"), "192.168.105.0/24")?);
        assert!(in_cidr(ip("1.2.3.4"), "0.0.0.0/0")?);
        assert!(!in_cidr(ip("2001:db8::1"), "0.0.0.0/0")?);
        assert!(in_cidr(ip("2001:db8::1"), "2001:db8::/32")?);
        assert!(in_cidr(ip("10.0.0.1"), "10.0.0.1")?);
        assert_eq!(Cidr::parse("192.168.105.7/24")?.prefix_len(), 24);
        let (a, b) = Cidr::parse("10.0.0.0/8")?.range_u128();
        assert_eq!(
            (u128_to_ip(a), u128_to_ip(b)),
            (ip("10.0.0.0"), ip("10.255.255.255"))
        );
        for bad in ["1.2.3.4/33", "1.2.3/8", "x", "::/129", "1.2.3.4/-1", ""] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        Ok(())
    }
}
