//! Legacy IPv6 editions (Country v6 = 12, ASNum v6 = 21) on tiny files written by
//! `fixtures/make_legacy_v6.py`, compared with pygeoip's answers recorded by the
//! same script (`fixtures/legacy_v6_expected.tsv`), and the Org edition (5, 4-byte
//! records) against `fixtures/legacy_org_expected.tsv`.

use flowhound_geo::legacy::{Edition, LegacyDb, LoadMode};
use flowhound_geo::{open_asn, open_country, GeoError, GeoSource};
use std::net::IpAddr;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name)
}

fn record(g: &flowhound_geo::GeoInfo) -> String {
    match (g.asn, g.org.as_deref()) {
        (Some(n), Some(o)) => format!("AS{n} {o}"),
        (None, Some(o)) => o.to_string(),
        (Some(n), None) => format!("AS{n}"),
        (None, None) => String::new(),
    }
}

#[test]
fn v6_editions_match_pygeoip() -> Result<(), GeoError> {
    let expected = std::fs::read_to_string(fixture("legacy_v6_expected.tsv")).expect("fixture");
    for mode in [LoadMode::Memory, LoadMode::Mmap] {
        let c = LegacyDb::open(&fixture("GeoIPv6-Test.dat"), mode)?;
        let a = LegacyDb::open(&fixture("GeoIPASNumv6-Test.dat"), mode)?;
        assert_eq!(
            (c.edition(), a.edition()),
            (Edition::CountryV6, Edition::AsNumV6)
        );
        let mut n = 0;
        for line in expected.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let ip: IpAddr = f[0].parse().expect("ip");
            let cc = c
                .lookup(ip)
                .country
                .map(|x| x.to_string())
                .unwrap_or_default();
            assert_eq!(
                (cc.as_str(), record(&a.lookup(ip)).as_str()),
                (f[1], f[2]),
                "{ip}"
            );
            n += 1;
        }
        assert!(n >= 8);
    }
    Ok(())
}

#[test]
fn ipv4_addresses_use_the_ipv4_compatible_block() -> Result<(), GeoError> {
    // The fixtures hold ::193.136.0.0/112 (PT) and ::8.8.8.0/120 (AS15169).
    let c = open_country(&fixture("GeoIPv6-Test.dat"))?;
    let a = open_asn(&fixture("GeoIPASNumv6-Test.dat"))?;
    let pt = c.lookup("193.136.73.21".parse().expect("ip"));
    assert_eq!(pt.country.map(|x| x.to_string()).as_deref(), Some("PT"));
    assert_eq!(
        c.lookup("::193.136.73.21".parse().expect("ip")).country,
        pt.country
    );
    assert_eq!(a.lookup("8.8.8.8".parse().expect("ip")).asn, Some(15169));
    assert!(c.lookup("9.9.9.9".parse().expect("ip")).is_empty());
    let info = c.info();
    assert!(info.has_ipv6 && info.has_country && !info.has_asn);
    assert_eq!(info.build_date.as_deref(), Some("20260101"));
    assert!(
        info.database_type.contains("Country IPv6"),
        "{}",
        info.database_type
    );
    Ok(())
}

#[test]
fn org_edition_with_four_byte_records_matches_pygeoip() -> Result<(), GeoError> {
    let expected = std::fs::read_to_string(fixture("legacy_org_expected.tsv")).expect("fixture");
    let db = LegacyDb::open(&fixture("GeoIPOrg-Test.dat"), LoadMode::Memory)?;
    assert_eq!(db.edition(), Edition::Org);
    for line in expected.lines() {
        let (ip, org) = line.split_once('\t').expect("two columns");
        let g = db.lookup(ip.parse().expect("ip"));
        // Org editions carry no AS number; the Latin-1 text is decoded to UTF-8.
        assert_eq!(g.asn, None);
        assert_eq!(g.org.as_deref().unwrap_or(""), org, "{ip}");
    }
    // An Org database serves the ASN/organisation role.
    assert!(open_asn(&fixture("GeoIPOrg-Test.dat")).is_ok());
    assert!(open_country(&fixture("GeoIPOrg-Test.dat")).is_err());
    Ok(())
}
