//! IP addresses as integers.
//!
//! flowhound stores every address as one 128-bit integer: IPv6 as its own value and IPv4 `a.b.c.d` as the
//! IPv4-mapped address `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2), so one column holds both families without
//! ambiguity and IPv4 addresses sort together. In Arrow the integer travels in a `Decimal128(38, 0)` column
//! (the widest native integer Arrow and DataFusion group and join on quickly); addresses at or above
//! `8000::` appear there as negative numbers, which is only the two's-complement carrier of the same bits.

use std::net::IpAddr;

/// The integer of `::ffff:0.0.0.0`: IPv4 addresses live in `[V4_BASE, V4_BASE + 2^32)`.
pub const V4_BASE: u128 = 0xffff_0000_0000;

/// Converts an address to flowhound's integer form (the convention `flowhound_geo` shares).
pub fn to_u128(ip: IpAddr) -> u128 {
    flowhound_geo::ip_to_u128(ip)
}

/// Converts an IPv4 address given as its 32-bit value.
pub fn v4_to_u128(v4: u32) -> u128 {
    V4_BASE | v4 as u128
}

/// The IPv4 value when `ip` is an IPv4(-mapped) address.
#[inline]
pub fn as_v4(ip: u128) -> Option<u32> {
    flowhound_geo::as_v4(ip)
}

/// Converts flowhound's integer form back to an address (IPv4-mapped values become IPv4).
pub fn from_u128(ip: u128) -> IpAddr {
    flowhound_geo::u128_to_ip(ip)
}

/// The Arrow/Decimal128 carrier of an address integer (same bits).
pub fn to_i128(ip: u128) -> i128 {
    ip as i128
}

/// The address integer carried by a Decimal128 value (same bits).
pub fn from_i128(v: i128) -> u128 {
    v as u128
}

/// Parses a textual address (IPv4 dotted quad or IPv6), tolerating surrounding spaces and an IPv6 zone
/// suffix (`fe80::1%eth0`), as they appear in flow logs.
pub fn parse(text: &str) -> Option<u128> {
    let t = text.trim();
    let t = t.split_once('%').map_or(t, |(addr, _zone)| addr);
    t.parse::<IpAddr>().ok().map(to_u128)
}

/// Formats an address integer as text.
pub fn format(ip: u128) -> String {
    from_u128(ip).to_string()
}

/// The first address of the block of `ip`: its first `v4_len` bits for an IPv4 address (at most
/// 32), its first `v6_len` for an IPv6 one (at most 128).
pub fn prefix(ip: u128, v4_len: u32, v6_len: u32) -> u128 {
    match as_v4(ip) {
        Some(v) => v4_to_u128(v & u32::MAX.checked_shl(32 - v4_len.min(32)).unwrap_or(0)),
        None => ip & u128::MAX.checked_shl(128 - v6_len.min(128)).unwrap_or(0),
    }
}

/// The destination network of an address: its /24 (IPv4) or /48 (IPv6), the blocks a hosting
/// provider hands one customer's servers out of (the first address of the block).
pub fn network_of(ip: u128) -> u128 {
    prefix(ip, 24, 48)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_of_table() {
        let cases = [
            ("65.108.99.229", "65.108.99.0"),
            ("65.108.99.0", "65.108.99.0"),
            ("10.0.0.255", "10.0.0.0"),
            ("2a01:4f8:c17:1234::1", "2a01:4f8:c17::"),
            ("::1", "::"),
        ];
        for (addr, net) in cases {
            assert_eq!(format(network_of(parse(addr).unwrap())), net, "{addr}");
        }
        // the whole address, and nothing of it
        let a = parse("65.108.99.229").unwrap();
        assert_eq!((prefix(a, 32, 128), prefix(a, 0, 0)), (a, V4_BASE));
        let b = parse("2a01:4f8::1").unwrap();
        assert_eq!((prefix(b, 32, 128), prefix(b, 32, 0)), (b, 0));
    }

    #[test]
    fn round_trips_both_families() {
        let cases = [
            "0.0.0.0",
            "192.168.105.7",
            "255.255.255.255",
            "::",
            "::1",
            "2001:db8::1",
            "fe80::1",
            "ffff::",
        ];
        for case in cases {
            let v = parse(case).expect(case);
            assert_eq!(format(v), case);
            assert_eq!(from_i128(to_i128(v)), v);
        }
    }

    #[test]
    fn ipv4_is_mapped() {
        assert_eq!(parse("1.2.3.4"), Some(0xffff_0102_0304));
        assert_eq!(as_v4(0xffff_0102_0304), Some(0x0102_0304));
        assert_eq!(as_v4(parse("::1").unwrap()), None);
    }

    #[test]
    fn rejects_garbage_and_strips_zone() {
        for bad in ["", "1.2.3", "256.1.1.1", "x", "1.2.3.4.5", "::g"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse(" fe80::1%eth0 "), parse("fe80::1"));
    }
}
