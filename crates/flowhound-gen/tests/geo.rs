//! Geography checked with flowhound-geo's readers (independent of the
//! generator's `AddressBook`): the fallback table against MaxMind's legacy
//! GeoLite databases, and generated destinations against the embedded database.

use flowhound_gen::{generate, v4_to_u128, AddressBook, GenConfig, Scenario, FALLBACK_RANGES};
use flowhound_geo::legacy::{LegacyDb, LoadMode};
use std::net::Ipv4Addr;
use std::path::Path;

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata");

fn cidr(s: &str) -> (u32, u32) {
    let (a, len) = s.split_once('/').expect("cidr");
    let a: Ipv4Addr = a.parse().expect("addr");
    let len: u32 = len.parse().expect("len");
    let size = 1u32 << (32 - len);
    (u32::from(a), u32::from(a) + (size - 1))
}

fn open(name: &str) -> Option<LegacyDb> {
    let path = Path::new(TESTDATA).join("geoip").join(name);
    if !path.exists() {
        println!(
            "skipped: {} not found (no ../shared/testdata)",
            path.display()
        );
        return None;
    }
    Some(LegacyDb::open(&path, LoadMode::Memory).expect("open legacy db"))
}

/// Every /24 of every fallback range is in the listed country per GeoLite
/// Country, and the first host's AS is the listed one per GeoLite ASNum.
#[test]
fn fallback_table_matches_maxmind_legacy() {
    let (Some(country), Some(asnum)) = (open("GeoIP.dat"), open("GeoIPASNum.dat")) else {
        return;
    };
    for &(range, cc, asn) in FALLBACK_RANGES {
        let (start, end) = cidr(range);
        for block in (u64::from(start)..=u64::from(end)).step_by(256) {
            let ip = u32::try_from(block).expect("ipv4") + 1;
            let info = country.try_lookup_u128(v4_to_u128(ip)).expect("lookup");
            let got = info.country.map(|c| c.as_str().to_string());
            assert_eq!(
                got.as_deref(),
                Some(cc),
                "{} in {range}",
                Ipv4Addr::from(ip)
            );
        }
        let org = asnum
            .org_string_u128(v4_to_u128(start + 1))
            .expect("asn lookup");
        assert!(
            org.as_deref()
                .is_some_and(|o| o.starts_with(&format!("AS{asn} "))),
            "{range}: {org:?}"
        );
    }
}

/// With the embedded database, normal traffic goes only to the usual
/// countries and scenario peers are in the countries the truth names.
#[test]
fn generated_destinations_geolocate_as_the_truth_says() {
    let Ok(db) = flowhound_geo::embedded() else {
        println!("skipped: flowhound-geo built without its embedded database");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = GenConfig {
        flows_normal: 5000,
        flows_test: 2000,
        flows_servers: 500,
        ..GenConfig::default()
    };
    let truth = generate(&cfg, dir.path(), &|_, _| {})
        .expect("generate")
        .truth;
    let cc_of = |ip: &str| {
        let ip: Ipv4Addr = ip.parse().expect("ipv4");
        db.lookup_v4_fast(u32::from(ip))
            .0
            .map(|c| c.as_str().to_string())
    };
    let normal_dsts = read_column(&dir.path().join("normal.parquet"), 2);
    for d in normal_dsts.iter().filter(|d| !d.starts_with("192.168.")) {
        let cc = cc_of(d).unwrap_or_default();
        assert!(
            cfg.usual_countries.contains(&cc),
            "normal destination {d} in {cc:?}"
        );
    }
    for s in truth.scenarios.iter().filter(|s| {
        matches!(
            s.kind,
            Scenario::CncBeacon | Scenario::DnsTunnel | Scenario::UnusualCountry
        )
    }) {
        for p in &s.peers {
            let cc = cc_of(p).unwrap_or_default();
            assert!(
                s.countries.contains(&cc),
                "{} peer {p} in {cc:?}, truth says {:?}",
                s.kind,
                s.countries
            );
            assert!(!cfg.usual_countries.contains(&cc));
        }
    }
    assert!(flowhound_gen::default_address_book().len() > FALLBACK_RANGES.len());
}

/// The fallback book alone can drive a full generation.
#[test]
fn fallback_book_generates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = GenConfig {
        flows_normal: 3000,
        flows_test: 1500,
        flows_servers: 300,
        ..GenConfig::default()
    };
    let book = AddressBook::fallback();
    let s =
        flowhound_gen::generate_with_book(&cfg, &book, dir.path(), &|_, _| {}).expect("generate");
    assert_eq!(s.truth.scenarios.len(), Scenario::ALL.len());
    for d in read_column(&dir.path().join("normal.parquet"), 2)
        .iter()
        .filter(|d| !d.starts_with("192.168."))
    {
        let ip: Ipv4Addr = d.parse().expect("ipv4");
        let cc = book
            .lookup(u32::from(ip))
            .map(|(c, _)| c.to_string())
            .unwrap_or_default();
        assert!(cfg.usual_countries.contains(&cc), "{d} in {cc:?}");
    }
}

fn read_column(path: &Path, col: usize) -> Vec<String> {
    use arrow::array::AsArray;
    let file = std::fs::File::open(path).expect("open");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("reader")
        .build()
        .expect("build");
    let mut out = Vec::new();
    for b in reader {
        let b = b.expect("batch");
        out.extend(
            b.column(col)
                .as_string::<i32>()
                .iter()
                .flatten()
                .map(str::to_string),
        );
    }
    out
}
