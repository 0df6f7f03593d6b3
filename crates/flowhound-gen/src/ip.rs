//! IPv4 helpers: CIDR parsing, fast dotted formatting, and the flowhound
//! `u128` convention (IPv4 stored IPv4-mapped).

use crate::GenError;
use std::net::{IpAddr, Ipv4Addr};

/// Parses `a.b.c.d/len` into (network address, prefix length).
pub(crate) fn parse_cidr(s: &str) -> Result<(u32, u8), GenError> {
    let bad = || GenError::Config(format!("bad IPv4 CIDR {s:?}"));
    let (addr, len) = s.split_once('/').ok_or_else(bad)?;
    let addr: Ipv4Addr = addr.trim().parse().map_err(|_| bad())?;
    let len: u8 = len.trim().parse().map_err(|_| bad())?;
    if len > 32 {
        return Err(bad());
    }
    let mask = prefix_mask(len);
    Ok((u32::from(addr) & mask, len))
}

/// The netmask of a prefix length (0..=32).
pub(crate) fn prefix_mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

/// Appends `ip` in dotted-quad form to `out` without allocating.
pub(crate) fn push_dotted(ip: u32, out: &mut String) {
    for (i, b) in ip.to_be_bytes().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_u8(b, out);
    }
}

fn push_u8(b: u8, out: &mut String) {
    if b >= 100 {
        out.push(char::from(b'0' + b / 100));
    }
    if b >= 10 {
        out.push(char::from(b'0' + (b / 10) % 10));
    }
    out.push(char::from(b'0' + b % 10));
}

/// The dotted-quad string of `ip`.
pub fn dotted(ip: u32) -> String {
    let mut s = String::with_capacity(15);
    push_dotted(ip, &mut s);
    s
}

/// An IPv4 address in flowhound's `u128` convention (`::ffff:a.b.c.d`).
pub fn v4_to_u128(ip: u32) -> u128 {
    u128::from(Ipv4Addr::from(ip).to_ipv6_mapped())
}

/// Canonical text of a host string: IPv4-mapped IPv6 shown as IPv4, other
/// addresses in their standard form; non-IP strings are returned trimmed.
pub fn canonical_host(s: &str) -> String {
    let t = s.trim();
    match t.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => t.to_string(),
    }
}

/// Whether `ip` lies in a private, reserved or otherwise non-routable block.
pub(crate) fn is_reserved(start: u32, end: u32) -> bool {
    const BLOCKS: [(u32, u8); 10] = [
        (0x0000_0000, 8),  // 0/8
        (0x0A00_0000, 8),  // 10/8
        (0x6440_0000, 10), // 100.64/10
        (0x7F00_0000, 8),  // 127/8
        (0xA9FE_0000, 16), // 169.254/16
        (0xAC10_0000, 12), // 172.16/12
        (0xC000_0200, 24), // 192.0.2/24
        (0xC0A8_0000, 16), // 192.168/16
        (0xC800_0000, 24), // 200.0.0/24: the organisation's public servers
        (0xE000_0000, 3),  // multicast and class E
    ];
    BLOCKS.iter().any(|&(net, len)| {
        let last = net | !prefix_mask(len);
        start <= last && end >= net
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_matches_std() {
        for ip in [
            0u32,
            1,
            0x0A00_0001,
            0xC0A8_690A,
            0xFFFF_FFFF,
            0x0808_0808,
            0x6400_0A63,
        ] {
            assert_eq!(dotted(ip), Ipv4Addr::from(ip).to_string());
        }
    }

    #[test]
    fn cidr_parsing() {
        assert_eq!(parse_cidr("192.168.105.7/24").ok(), Some((0xC0A8_6900, 24)));
        assert!(parse_cidr("192.168.105.0").is_err());
        assert!(parse_cidr("192.168.105.0/33").is_err());
        assert!(parse_cidr("x/24").is_err());
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical_host(" ::ffff:10.0.0.1 "), "10.0.0.1");
        assert_eq!(canonical_host("2001:DB8::1"), "2001:db8::1");
        assert_eq!(canonical_host("host-a"), "host-a");
        assert_eq!(v4_to_u128(0x0A00_0001), 0xFFFF_0A00_0001);
    }

    #[test]
    fn reserved_blocks() {
        assert!(is_reserved(0xC0A8_0101, 0xC0A8_0101));
        assert!(is_reserved(0x0900_0000, 0x0B00_0000));
        assert!(!is_reserved(0x0808_0800, 0x0808_08FF));
    }
}
