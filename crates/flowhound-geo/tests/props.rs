//! Property tests: every reader, fed random bytes or mutated valid files (real
//! shared files when present, else fixtures), returns `Ok`/`Err` and answers
//! lookups without panicking, and always terminates.

use flowhound_geo::fhg::{FhgBuilder, FhgDb};
use flowhound_geo::legacy::LegacyDb;
use flowhound_geo::mmdb::MmdbDb;
use flowhound_geo::{Cidr, GeoSource};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const TESTDATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/geoip"
);
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Probe addresses: IPv4-mapped and IPv6, spread over the space.
const PROBES: [u128; 6] = [
    0xffff_0808_0808,
    0xffff_c188_4915,
    0xffff_0000_0000,
    0xffff_ffff_ffff,
    0x2001_4860_0000_0000_0000_0000_0000_8888,
    u128::MAX,
];

fn probe(src: &dyn GeoSource) {
    for ip in PROBES {
        let _ = src.lookup_u128(ip);
        let _ = src.country_u128(ip);
    }
    let _ = src.info();
}

/// A small valid legacy Country `.dat`: a 3-node tree (0.0.0.0/1 -> US,
/// 128.0.0.0/2 -> DE, 192.0.0.0/2 -> unknown), no structure info.
fn tiny_legacy() -> Vec<u8> {
    const BEGIN: u32 = 16_776_960;
    let recs = [(1, 2), (BEGIN + 225, BEGIN + 225), (BEGIN + 56, BEGIN)];
    let mut out = Vec::new();
    for (l, r) in recs {
        out.extend_from_slice(&u32::to_le_bytes(l)[..3]);
        out.extend_from_slice(&u32::to_le_bytes(r)[..3]);
    }
    out
}

fn legacy_seed() -> &'static Vec<u8> {
    static SEED: OnceLock<Vec<u8>> = OnceLock::new();
    SEED.get_or_init(|| {
        // The ASNum file exercises string records; fall back to the tiny tree.
        std::fs::read(Path::new(TESTDATA).join("GeoIPASNum.dat")).unwrap_or_else(|_| tiny_legacy())
    })
}

fn mmdb_seed() -> &'static Vec<u8> {
    static SEED: OnceLock<Vec<u8>> = OnceLock::new();
    SEED.get_or_init(|| {
        std::fs::read(Path::new(FIXTURES).join("GeoLite2-ASN-Test.mmdb")).expect("fixture")
    })
}

fn fhg_seed() -> &'static Vec<u8> {
    static SEED: OnceLock<Vec<u8>> = OnceLock::new();
    SEED.get_or_init(|| {
        let mut b = FhgBuilder::new();
        let c = std::fs::read(Path::new(FIXTURES).join("country-small.csv")).expect("fixture");
        let a = std::fs::read(Path::new(FIXTURES).join("asn-small.csv")).expect("fixture");
        b.read_country_csv(&c[..], "c").expect("csv");
        b.read_asn_csv(&a[..], "a").expect("csv");
        b.build().expect("build")
    })
}

/// Applies `(position, byte)` edits and an optional truncation.
fn mutate(seed: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut v = seed.to_vec();
    let n = v.len().max(1);
    for &(pos, byte) in edits {
        // Bias half the edits to the tail, where headers and metadata live.
        let i = if pos % 2 == 0 {
            pos % n
        } else {
            n - 1 - (pos / 2) % n.min(4096)
        };
        if let Some(b) = v.get_mut(i) {
            *b = byte;
        }
    }
    if let Some(c) = cut {
        v.truncate(c % (n + 1));
    }
    v
}

fn path() -> PathBuf {
    PathBuf::from("<proptest>")
}

fn check_legacy(bytes: Vec<u8>) {
    if let Ok(db) = LegacyDb::from_bytes(bytes, &path()) {
        probe(&db);
        for ip in PROBES {
            let _ = db.org_string_u128(ip);
        }
    }
}

fn check_mmdb(bytes: Vec<u8>) {
    if let Ok(db) = MmdbDb::from_bytes(bytes, &path()) {
        probe(&db);
    }
}

fn check_fhg(bytes: &[u8]) {
    if let Ok(db) = FhgDb::from_bytes(bytes, None) {
        let _ = db.check_v6();
        probe(&db);
        assert!(db.ranges_v4().take(100_000).count() <= 100_000);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn legacy_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check_legacy(bytes);
    }

    #[test]
    fn legacy_mutated(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..16), cut in any::<Option<usize>>()) {
        check_legacy(mutate(legacy_seed(), &edits, cut));
        check_legacy(mutate(&tiny_legacy(), &edits, cut));
    }

    #[test]
    fn mmdb_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check_mmdb(bytes);
    }

    #[test]
    fn mmdb_mutated(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..16), cut in any::<Option<usize>>()) {
        check_mmdb(mutate(mmdb_seed(), &edits, cut));
    }

    #[test]
    fn fhg_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check_fhg(&bytes);
        let mut with_magic = b"FHGEODB1".to_vec();
        with_magic.extend_from_slice(&bytes);
        check_fhg(&with_magic);
    }

    #[test]
    fn fhg_mutated(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..16), cut in any::<Option<usize>>()) {
        check_fhg(&mutate(fhg_seed(), &edits, cut));
    }

    #[test]
    fn cidr_parse_never_panics(text in "\\PC{0,40}") {
        let _ = Cidr::parse(&text);
    }

    #[test]
    fn cidr_contains_agrees_with_masking(a in any::<u32>(), b in any::<u32>(), len in 0u8..=32) {
        let net = std::net::Ipv4Addr::from(a);
        let cidr = Cidr::parse(&format!("{net}/{len}")).expect("valid cidr");
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        prop_assert_eq!(cidr.contains(std::net::Ipv4Addr::from(b).into()), a & mask == b & mask);
    }
}

#[test]
fn tiny_legacy_answers() {
    let db = LegacyDb::from_bytes(tiny_legacy(), &path()).expect("valid tiny tree");
    let cc = |ip: &str| {
        db.lookup(ip.parse().expect("ip"))
            .country
            .map(|c| c.to_string())
    };
    assert_eq!(cc("8.8.8.8").as_deref(), Some("US"));
    assert_eq!(cc("130.0.0.1").as_deref(), Some("DE"));
    assert_eq!(cc("200.0.0.1"), None);
}

#[test]
fn legacy_pointer_loop_is_an_error_or_empty_not_a_hang() {
    // Node 0 points to itself on both sides: every lookup would loop forever
    // without the depth bound.
    let mut looped = Vec::new();
    looped.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    if let Ok(db) = LegacyDb::from_bytes(looped, &path()) {
        assert!(db.lookup("8.8.8.8".parse().expect("ip")).is_empty());
        assert!(db.try_lookup_u128(0xffff_0808_0808).is_err());
    }
}
