//! Domain-name helpers: exact rendering of names received from the network,
//! host-name validity, and reverse (`in-addr.arpa` / `ip6.arpa`) names.
//!
//! Names in answers come from whoever controls the zone. [`render_name`]
//! keeps them exact (control bytes included, only `.` and `\` inside a label
//! are escaped so label boundaries stay unambiguous); use
//! [`sanitize_for_terminal`](crate::sanitize_for_terminal) before printing.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr};

use hickory_resolver::proto::rr::Name;

/// Longest host name in presentation form, without the trailing dot (RFC 1035).
const MAX_HOSTNAME_LEN: usize = 253;
/// Longest label (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// Renders a wire name exactly: labels joined by `.`, a trailing `.` for a
/// fully-qualified name, `.` and `\` inside a label escaped with `\`, bytes
/// that are not UTF-8 written as `\DDD` (decimal). Control characters are
/// kept as they are.
pub fn render_name(name: &Name) -> String {
    if name.is_root() {
        return ".".to_string();
    }
    let mut out = String::with_capacity(name.len());
    for (i, label) in name.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        render_label(label, &mut out);
    }
    if name.is_fqdn() {
        out.push('.');
    }
    out
}

/// Appends one label, escaping `.`/`\` and non-UTF-8 bytes.
fn render_label(label: &[u8], out: &mut String) {
    for chunk in label.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '.' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\{b:03}");
        }
    }
}

/// Renders raw bytes (a TXT character-string) exactly, non-UTF-8 bytes as `\DDD`.
pub(crate) fn render_bytes(bytes: &[u8], out: &mut String) {
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\{b:03}");
        }
    }
}

/// True when `name` is a valid host name (RFC 952/1123): at most 253
/// characters without the optional trailing dot, labels of 1 to 63 letters,
/// digits and hyphens, not starting or ending with a hyphen.
pub fn is_valid_hostname(name: &str) -> bool {
    let bare = name.strip_suffix('.').unwrap_or(name);
    if bare.is_empty() || bare.len() > MAX_HOSTNAME_LEN {
        return false;
    }
    bare.split('.').all(is_valid_label)
}

/// One host-name label: letters, digits, inner hyphens.
fn is_valid_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LABEL_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
}

/// The PTR query name of an address: `d.c.b.a.in-addr.arpa.` for IPv4
/// (IPv4-mapped IPv6 addresses are treated as IPv4), nibbles under
/// `ip6.arpa.` for IPv6.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa.")
        }
        IpAddr::V6(v6) => reverse_name_v6(v6),
    }
}

/// Nibble-reversed `ip6.arpa.` name.
fn reverse_name_v6(v6: Ipv6Addr) -> String {
    let mut out = String::with_capacity(73);
    for byte in v6.octets().iter().rev() {
        let _ = write!(out, "{:x}.{:x}.", byte & 0x0f, byte >> 4);
    }
    out.push_str("ip6.arpa.");
    out
}

/// Converts flowhound's `u128` IP convention (IPv4 stored IPv4-mapped) to an
/// [`IpAddr`]: mapped addresses become [`IpAddr::V4`].
pub fn ip_from_u128(ip: u128) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(ip)).to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn hostname_validity() {
        for ok in [
            "dns.ua.pt.",
            "dns.ua.pt",
            "a",
            "x-1.example",
            "1.2.3.4.in-addr",
        ] {
            assert!(is_valid_hostname(ok), "{ok}");
        }
        let long_label = "a".repeat(64);
        let long_name = ["abcdefghi"; 26].join(".");
        for bad in [
            "",
            ".",
            "a..b",
            "-a.b",
            "a-.b",
            "a_b.c",
            "<script>.x",
            "\u{1b}[31m.x",
            "a\\.b.c",
            "é.pt",
            &long_label,
            &long_name,
        ] {
            assert!(!is_valid_hostname(bad), "{bad:?}");
        }
    }

    #[test]
    fn reverse_names_match_rfc_examples() {
        // RFC 1035 §3.5 and RFC 3596 §2.5 examples.
        let v4 = IpAddr::V4(Ipv4Addr::new(10, 2, 0, 52));
        assert_eq!(reverse_name(v4), "52.0.2.10.in-addr.arpa.");
        let v6: IpAddr = "4321:0:1:2:3:4:567:89ab".parse().unwrap();
        assert_eq!(
            reverse_name(v6),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa."
        );
        let mapped: IpAddr = "::ffff:193.136.172.20".parse().unwrap();
        assert_eq!(reverse_name(mapped), "20.172.136.193.in-addr.arpa.");
    }

    #[test]
    fn u128_convention() {
        let v4 = Ipv4Addr::new(193, 136, 172, 20);
        let mapped = u128::from(v4.to_ipv6_mapped());
        assert_eq!(ip_from_u128(mapped), IpAddr::V4(v4));
        assert_eq!(ip_from_u128(1), "::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn render_keeps_bytes_and_escapes_boundaries() {
        let labels: Vec<&[u8]> = vec![b"\x1b[31mred", b"a.b", b"\xff", b"pt"];
        let name = Name::from_labels(labels).unwrap();
        assert_eq!(render_name(&name), "\u{1b}[31mred.a\\.b.\\255.pt.");
        assert_eq!(render_name(&Name::root()), ".");
    }
}
