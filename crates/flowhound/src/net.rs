//! Networks: CIDR blocks over flowhound's integer addresses, and the "internal networks" set.

pub use flowhound_geo::Cidr;

/// The networks that count as "ours". Defaults to RFC 1918 plus RFC 4193 unique-local IPv6.
///
/// Every detector asks, for every flow, which end is internal; an IPv4 address is answered from a
/// table over its first 16 bits (no internal block meets that /16, one holds it whole, or the blocks
/// decide), built once from the blocks.
#[derive(Clone)]
pub struct InternalNets {
    blocks: Vec<Cidr>,
    /// Per IPv4 /16: [`NONE`], [`ALL`] or [`SOME`].
    v4: std::sync::Arc<[u8]>,
}

/// No internal block meets the /16.
const NONE: u8 = 0;
/// An internal block holds the whole /16.
const ALL: u8 = 1;
/// Blocks meet part of the /16: ask them.
const SOME: u8 = 2;

impl std::fmt::Debug for InternalNets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("InternalNets").field(&self.blocks).finish()
    }
}

impl PartialEq for InternalNets {
    /// Same blocks (clones share their table, which answers at once).
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.v4, &other.v4) || self.blocks == other.blocks
    }
}

impl Eq for InternalNets {}

/// The default internal networks, as text.
pub const DEFAULT_INTERNAL: [&str; 4] =
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];

impl Default for InternalNets {
    fn default() -> Self {
        Self::from_blocks(
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
            Self::from_blocks(blocks)
        }
    }

    fn from_blocks(blocks: Vec<Cidr>) -> Self {
        let v4 = v4_table(&blocks).into();
        InternalNets { blocks, v4 }
    }

    /// True when the address is inside one of the internal blocks.
    pub fn contains(&self, addr: u128) -> bool {
        if let Some(a) = crate::ip::as_v4(addr) {
            match self.v4[(a >> 16) as usize] {
                NONE => return false,
                ALL => return true,
                _ => {}
            }
        }
        self.blocks.iter().any(|c| c.contains_u128(addr))
    }

    /// The blocks.
    pub fn blocks(&self) -> &[Cidr] {
        &self.blocks
    }
}

/// The /16 table of [`InternalNets`]: each block's part of the IPv4-mapped range (an IPv6 block such as
/// `::/0` holds IPv4 addresses too) marks the /16s it holds whole [`ALL`] and those it meets [`SOME`].
fn v4_table(blocks: &[Cidr]) -> Vec<u8> {
    let mut t = vec![NONE; 1 << 16];
    let (lo4, hi4) = (crate::ip::v4_to_u128(0), crate::ip::v4_to_u128(u32::MAX));
    for c in blocks {
        let (first, last) = c.range_u128();
        let (a, b) = (first.max(lo4), last.min(hi4));
        if a > b {
            continue;
        }
        let (a, b) = (a as u32, b as u32);
        for slash16 in (a >> 16)..=(b >> 16) {
            let (start, end) = (slash16 << 16, slash16 << 16 | 0xffff);
            let slot = &mut t[slash16 as usize];
            if a <= start && b >= end {
                *slot = ALL;
            } else if *slot == NONE {
                *slot = SOME;
            }
        }
    }
    t
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

    /// The /16 table answers as the blocks do, for blocks that hold whole /16s, parts of one, several
    /// in one /16, and IPv6 blocks that hold the IPv4-mapped range.
    #[test]
    fn table_agrees_with_the_blocks() {
        let sets: &[&[&str]] = &[
            &[],
            &["192.168.105.0/24", "192.168.105.128/25", "10.1.0.0/16"],
            &["172.16.0.0/12", "8.8.8.8/32", "0.0.0.0/1"],
            &["::/0"],
            &["::ffff:10.0.0.0/104", "fd00::/8"],
            &["255.255.255.255/32", "0.0.0.0/32"],
        ];
        let probes = [
            "0.0.0.0",
            "8.8.8.8",
            "8.8.8.9",
            "10.0.255.255",
            "10.1.0.0",
            "10.1.255.255",
            "10.2.0.0",
            "127.255.255.255",
            "128.0.0.0",
            "172.15.255.255",
            "172.16.0.0",
            "172.31.255.255",
            "172.32.0.0",
            "192.168.105.7",
            "192.168.105.200",
            "192.168.106.1",
            "255.255.255.255",
            "fd12::1",
            "fe80::1",
            "::1",
        ];
        for set in sets {
            let blocks: Vec<Cidr> = set.iter().map(|c| Cidr::parse(c).unwrap()).collect();
            let nets = InternalNets::new(blocks);
            for p in probes {
                let a = ip::parse(p).unwrap();
                let want = nets.blocks().iter().any(|c| c.contains_u128(a));
                assert_eq!(nets.contains(a), want, "{set:?} {p}");
            }
        }
    }

    #[test]
    fn default_internal() {
        let nets = InternalNets::default();
        assert!(nets.contains(ip::parse("172.20.1.1").unwrap()));
        assert!(!nets.contains(ip::parse("172.32.1.1").unwrap()));
        assert!(!nets.contains(ip::parse("8.8.8.8").unwrap()));
    }
}
