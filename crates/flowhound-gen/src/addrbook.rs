//! [`AddressBook`]: real IPv4 ranges grouped by country, from which external
//! destinations are drawn so that GeoIP/ASN enrichment names the right country.
//!
//! Build it from any `(start, end, country, asn)` iterator (e.g. the embedded
//! ranges of `flowhound-geo`) with [`AddressBook::from_ranges`], or use the small
//! built-in table of well-known allocations, [`AddressBook::fallback`].

use crate::dist::GenRng;
use crate::ip::{is_reserved, parse_cidr, prefix_mask};
use rand::Rng;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

/// One usable range of a country.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    start: u32,
    end: u32,
    asn: Option<u32>,
    /// ISO code, two ASCII uppercase letters.
    cc: [u8; 2],
}

/// The ranges of one country, with cumulative sizes for size-weighted picks.
#[derive(Debug, Clone, Default)]
struct Pool {
    ranges: Vec<Range>,
    cum: Vec<u64>,
}

impl Pool {
    fn push(&mut self, r: Range) {
        let size = u64::from(r.end - r.start) + 1;
        let prev = self.cum.last().copied().unwrap_or(0);
        self.ranges.push(r);
        self.cum.push(prev + size);
    }

    fn pick(&self, rng: &mut GenRng) -> Option<u32> {
        let total = *self.cum.last()?;
        let x = rng.random_range(0..total);
        let i = self.cum.partition_point(|&c| c <= x);
        let r = self.ranges.get(i)?;
        let before = if i == 0 { 0 } else { self.cum[i - 1] };
        let ip = u64::from(r.start) + (x - before);
        u32::try_from(ip).ok()
    }
}

/// Built-in table of real, well-known allocations: (CIDR, country, ASN).
/// Checked against MaxMind's GeoLite legacy country (2019) and ASN (2016)
/// databases at /24 granularity: every block maps to the listed country.
pub const FALLBACK_RANGES: &[(&str, &str, u32)] = &[
    ("8.8.8.0/24", "US", 15169),       // Google
    ("216.58.192.0/19", "US", 15169),  // Google
    ("17.0.0.0/12", "US", 714),        // Apple
    ("17.128.0.0/10", "US", 714),      // Apple
    ("69.171.224.0/19", "US", 32934),  // Facebook
    ("104.16.0.0/13", "US", 13335),    // Cloudflare
    ("52.0.0.0/13", "US", 14618),      // Amazon
    ("54.208.0.0/15", "US", 14618),    // Amazon
    ("85.214.0.0/15", "DE", 6724),     // Strato
    ("88.198.0.0/16", "DE", 24940),    // Hetzner
    ("84.128.0.0/10", "DE", 3320),     // Deutsche Telekom
    ("212.58.224.0/19", "GB", 2818),   // BBC
    ("86.128.0.0/10", "GB", 2856),     // BT
    ("194.109.0.0/16", "NL", 3265),    // XS4ALL
    ("213.154.224.0/19", "NL", 12859), // BIT
    ("90.48.0.0/12", "FR", 3215),      // Orange
    ("86.192.0.0/11", "FR", 3215),     // Orange
    ("78.192.0.0/10", "FR", 12322),    // Free
    ("193.1.0.0/16", "IE", 1213),      // HEAnet
    ("193.136.0.0/15", "PT", 1930),    // FCCN
    ("130.206.0.0/16", "ES", 766),     // RedIRIS
    ("80.58.0.0/16", "ES", 3352),      // Telefonica de Espana
    ("77.88.0.0/19", "RU", 13238),     // Yandex
    ("95.108.128.0/17", "RU", 13238),  // Yandex
    ("213.180.192.0/19", "RU", 13238), // Yandex
    ("220.181.0.0/18", "CN", 23724),   // China Telecom Beijing
    ("175.45.176.0/22", "KP", 131279), // Star JV
    ("2.144.0.0/14", "IR", 44244),     // Irancell
    ("41.58.0.0/16", "NG", 36923),     // Swift Networks
    ("197.210.0.0/16", "NG", 29465),   // MTN Nigeria
    ("200.147.0.0/16", "BR", 7162),    // UOL
];

/// IPv4 ranges grouped by ISO country code.
#[derive(Debug, Clone, Default)]
pub struct AddressBook {
    pools: BTreeMap<[u8; 2], Pool>,
    /// All ranges sorted by start, for reverse lookups.
    sorted: Vec<Range>,
}

/// Two ASCII letters, uppercased; anything else is rejected.
fn country_key(cc: &str) -> Option<[u8; 2]> {
    match cc.trim().as_bytes() {
        &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        }
        _ => None,
    }
}

fn key_str(cc: &[u8; 2]) -> &str {
    std::str::from_utf8(cc).unwrap_or("??")
}

impl AddressBook {
    /// Builds a book from `(start, end, country, asn)` ranges (inclusive), such
    /// as `flowhound_geo::ranges_v4()`. Ranges without a two-letter country,
    /// inverted, or overlapping private/reserved space (or the organisation's
    /// 200.0.0.0/24) are skipped.
    pub fn from_ranges<I, C>(ranges: I) -> Self
    where
        I: IntoIterator<Item = (u32, u32, Option<C>, Option<u32>)>,
        C: AsRef<str>,
    {
        let mut book = AddressBook::default();
        for (start, end, cc, asn) in ranges {
            let Some(cc) = cc.as_ref().and_then(|c| country_key(c.as_ref())) else {
                continue;
            };
            if end < start || is_reserved(start, end) {
                continue;
            }
            let r = Range {
                start,
                end,
                asn,
                cc,
            };
            book.pools.entry(cc).or_default().push(r);
            book.sorted.push(r);
        }
        book.sorted.sort_by_key(|r| r.start);
        book
    }

    /// The built-in table [`FALLBACK_RANGES`] of well-known real allocations.
    pub fn fallback() -> Self {
        let ranges = FALLBACK_RANGES.iter().filter_map(|&(cidr, cc, asn)| {
            let (net, len) = parse_cidr(cidr).ok()?;
            Some((net, net | !prefix_mask(len), Some(cc), Some(asn)))
        });
        AddressBook::from_ranges(ranges)
    }

    /// Country codes present, sorted.
    pub fn countries(&self) -> Vec<&str> {
        self.pools.keys().map(key_str).collect()
    }

    /// Whether the book has at least one range for `cc`.
    pub fn has_country(&self, cc: &str) -> bool {
        country_key(cc).is_some_and(|k| self.pools.contains_key(&k))
    }

    /// Number of ranges in the book.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether the book is empty.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// A random host address of `cc` (weighted by range size, avoiding `.0` and
    /// `.255`), or `None` if the country is unknown.
    pub(crate) fn pick(&self, rng: &mut GenRng, cc: &str) -> Option<u32> {
        let pool = self.pools.get(&country_key(cc)?)?;
        let mut ip = pool.pick(rng)?;
        for _ in 0..8 {
            if !matches!(ip & 0xFF, 0 | 255) {
                break;
            }
            ip = pool.pick(rng)?;
        }
        Some(ip)
    }

    /// Country and ASN of an address (IPv4, or IPv4-mapped IPv6).
    pub fn lookup_addr(&self, ip: IpAddr) -> Option<(&str, Option<u32>)> {
        match ip {
            IpAddr::V4(v4) => self.lookup(u32::from(v4)),
            IpAddr::V6(v6) => self.lookup(u32::from(v6.to_ipv4_mapped()?)),
        }
    }

    /// Country and ASN of an address in flowhound's `u128` convention.
    pub fn lookup_u128(&self, ip: u128) -> Option<(&str, Option<u32>)> {
        self.lookup_addr(IpAddr::V6(Ipv6Addr::from(ip)))
    }

    /// Country and ASN of the IPv4 address `ip`, if some range of the book contains it.
    pub fn lookup(&self, ip: u32) -> Option<(&str, Option<u32>)> {
        let i = self.sorted.partition_point(|r| r.start <= ip);
        // Ranges may nest; scan back a little for a container.
        self.sorted[..i]
            .iter()
            .rev()
            .take(64)
            .find(|r| r.end >= ip)
            .map(|r| (key_str(&r.cc), r.asn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::stream_rng;

    #[test]
    fn fallback_has_usual_and_unusual_countries() {
        let book = AddressBook::fallback();
        for cc in [
            "US", "DE", "GB", "NL", "FR", "IE", "PT", "ES", "RU", "CN", "KP", "IR", "NG", "BR",
        ] {
            assert!(book.has_country(cc), "{cc}");
        }
        assert_eq!(book.len(), FALLBACK_RANGES.len());
    }

    #[test]
    fn picks_stay_inside_the_country() {
        let book = AddressBook::fallback();
        let mut rng = stream_rng(5, 0);
        for _ in 0..500 {
            let ip = book.pick(&mut rng, "PT").unwrap_or(0);
            // 193.136.0.0/15 written out independently of the table.
            assert!((0xC188_0000..=0xC189_FFFF).contains(&ip), "{ip:x}");
            assert!(!matches!(ip & 0xFF, 0 | 255));
        }
        assert_eq!(book.lookup(0x0808_0808), Some(("US", Some(15169))));
        assert_eq!(book.lookup(0x0101_0101), None);
        let pt = "193.136.73.21".parse().ok();
        assert_eq!(
            pt.and_then(|ip| book.lookup_addr(ip)),
            Some(("PT", Some(1930)))
        );
        assert_eq!(
            book.lookup_u128(0xFFFF_0808_0808),
            Some(("US", Some(15169)))
        );
        assert_eq!(book.lookup_u128(0x0808_0808), None);
        assert!(book.pick(&mut rng, "ZZ").is_none());
    }

    #[test]
    fn reserved_and_countryless_ranges_are_dropped() {
        let book = AddressBook::from_ranges(vec![
            (0x0A00_0000u32, 0x0AFF_FFFFu32, Some("US"), None),
            (0x0101_0100, 0x0101_01FF, None, None),
            (0x0101_0200, 0x0101_0100, Some("AU"), None),
            (0x0101_0000, 0x0101_00FF, Some("au"), Some(13335)),
        ]);
        assert_eq!(book.countries(), vec!["AU"]);
        assert_eq!(book.len(), 1);
    }
}
