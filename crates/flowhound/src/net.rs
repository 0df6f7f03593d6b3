//! Networks: CIDR blocks over flowhound's integer addresses, and the "internal networks" set.

pub use flowhound_geo::Cidr;

/// The networks that count as "ours". Defaults to RFC 1918 plus RFC 4193 unique-local IPv6.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalNets(Vec<Cidr>);

/// The default internal networks, as text.
pub const DEFAULT_INTERNAL: [&str; 4] =
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];

impl Default for InternalNets {
    fn default() -> Self {
        InternalNets(
            DEFAULT_INTERNAL
                .iter()
                .filter_map(|c| Cidr::parse(c).ok())
                .collect(),
        )
    }
}

impl InternalNets {
    /// The given blocks, or the defaults when `blocks` is empty.
    pub fn new(blocks: Vec<Cidr>) -> Self {
        if blocks.is_empty() {
            Self::default()
        } else {
            InternalNets(blocks)
        }
    }

    /// True when the address is inside one of the internal blocks.
    pub fn contains(&self, addr: u128) -> bool {
        self.0.iter().any(|c| c.contains_u128(addr))
    }

    /// The blocks.
    pub fn blocks(&self) -> &[Cidr] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ip;

    #[test]
    fn contains_table() {
        let cases = [
            ("192.168.105.0/24", "192.168.105.200", true),
            ("192.168.105.0/24", "192.168.106.1", false),
            ("10.0.0.0/8", "10.255.0.1", true),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("0.0.0.0/0", "::1", false),
            ("fc00::/7", "fd12::1", true),
            ("fc00::/7", "fe80::1", false),
            ("8.8.8.8", "8.8.8.8", true),
        ];
        for (cidr, addr, want) in cases {
            let c = Cidr::parse(cidr).unwrap();
            assert_eq!(
                c.contains_u128(ip::parse(addr).unwrap()),
                want,
                "{cidr} {addr}"
            );
        }
    }

    #[test]
    fn parse_errors_and_display() {
        assert!(Cidr::parse("1.2.3.0/33").is_err());
        assert!(Cidr::parse("nope/8").is_err());
        assert_eq!(
            Cidr::parse("192.168.105.77/24").unwrap().to_string(),
            "192.168.105.0/24"
        );
        assert_eq!(Cidr::parse("fd00::1/8").unwrap().to_string(), "fd00::/8");
    }

    #[test]
    fn default_internal() {
        let nets = InternalNets::default();
        assert!(nets.contains(ip::parse("172.20.1.1").unwrap()));
        assert!(!nets.contains(ip::parse("172.32.1.1").unwrap()));
        assert!(!nets.contains(ip::parse("8.8.8.8").unwrap()));
    }
}
