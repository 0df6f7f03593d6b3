//! MaxMind DB sources on the small files written by `fixtures/make_mmdb.py`
//! (the expected values are that script's inputs), in both load modes, plus
//! format detection, role checks and layering in a `GeoStack`.

use flowhound_geo::legacy::LoadMode;
use flowhound_geo::mmdb::{MmdbDb, MmdbKind};
use flowhound_geo::{open_asn, open_country, open_path, GeoError, GeoSource, GeoStack, SourceKind};
use std::net::IpAddr;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name)
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn cc(src: &dyn GeoSource, addr: &str) -> Option<String> {
    src.lookup(ip(addr)).country.map(|c| c.to_string())
}

#[test]
fn country_database_in_both_modes() -> Result<(), GeoError> {
    for mode in [LoadMode::Memory, LoadMode::Mmap] {
        let db = MmdbDb::open(&fixture("GeoLite2-Country-Test.mmdb"), mode)?;
        assert_eq!(db.kind(), MmdbKind::Country);
        assert_eq!(cc(&db, "193.136.73.21").as_deref(), Some("PT"));
        assert_eq!(
            db.lookup(ip("193.136.73.21")).country_name,
            Some("Portugal")
        );
        assert_eq!(cc(&db, "::ffff:8.8.8.8").as_deref(), Some("US"));
        assert_eq!(cc(&db, "2001:4860:4860::8888").as_deref(), Some("US"));
        // Registered-country fallback.
        assert_eq!(cc(&db, "2a00:1450:4001::1").as_deref(), Some("IE"));
        assert!(db.lookup(ip("9.9.9.9")).is_empty());
        assert_eq!(db.lookup(ip("8.8.8.8")).asn, None);
        let info = db.info();
        assert_eq!(
            (info.kind, info.database_type.as_str()),
            (SourceKind::MaxMindDb, "GeoLite2-Country")
        );
        assert!(info.has_country && !info.has_asn && info.has_ipv6);
        assert!(info.attribution.contains("GeoLite2"));
    }
    Ok(())
}

#[test]
fn city_database_gives_country() -> Result<(), GeoError> {
    let db = open_country(&fixture("GeoLite2-City-Test.mmdb"))?;
    assert_eq!(cc(db.as_ref(), "81.2.69.160").as_deref(), Some("GB"));
    // IPv4-only database: IPv6 addresses are simply unknown.
    assert!(db.lookup(ip("2001:db8::1")).is_empty());
    assert!(!db.info().has_ipv6);
    Ok(())
}

#[test]
fn asn_databases() -> Result<(), GeoError> {
    for name in ["GeoLite2-ASN-Test.mmdb", "dbip-asn-lite-Test.mmdb"] {
        let db = open_asn(&fixture(name))?;
        assert!(db.info().has_asn && !db.info().has_country, "{name}");
    }
    let db = open_asn(&fixture("GeoLite2-ASN-Test.mmdb"))?;
    let g = db.lookup(ip("8.8.8.8"));
    assert_eq!(
        (g.asn, g.org.as_deref(), g.country),
        (Some(15169), Some("GOOGLE"), None)
    );
    let g = db.lookup(ip("193.136.73.21"));
    assert_eq!(g.asn, Some(1930));
    assert_eq!(db.lookup(ip("2001:4860::1")).asn, Some(15169));
    let dbip = open_path(&fixture("dbip-asn-lite-Test.mmdb"))?;
    assert_eq!(
        dbip.lookup(ip("1.0.0.1")).org.as_deref(),
        Some("Cloudflare, Inc.")
    );
    assert!(dbip.info().attribution.contains("DB-IP"));
    Ok(())
}

#[test]
fn dbip_country() -> Result<(), GeoError> {
    let db = open_country(&fixture("dbip-country-lite-Test.mmdb"))?;
    assert_eq!(cc(db.as_ref(), "1.0.0.1").as_deref(), Some("AU"));
    assert_eq!(db.info().database_type, "DBIP-Country-Lite");
    Ok(())
}

#[test]
fn wrong_role_names_the_file() {
    let err = open_asn(&fixture("GeoLite2-Country-Test.mmdb"))
        .err()
        .expect("country db is not ASN");
    let msg = err.to_string();
    assert!(matches!(err, GeoError::WrongRole { .. }));
    assert!(
        msg.contains("GeoLite2-Country-Test.mmdb")
            && msg.contains("GeoLite2-Country")
            && msg.contains("ASN"),
        "{msg}"
    );
    assert!(open_country(&fixture("dbip-asn-lite-Test.mmdb")).is_err());
}

#[test]
fn unknown_and_missing_files() {
    let dir = std::env::temp_dir().join(format!("fh-geo-unknown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, b"hello, this is not a database").expect("write");
    let err = open_path(&junk).err().expect("junk is rejected");
    assert!(matches!(err, GeoError::UnknownFormat { .. }), "{err}");
    assert!(err.to_string().contains("junk.bin"));
    let empty = dir.join("empty.dat");
    std::fs::write(&empty, b"").expect("write");
    assert!(open_path(&empty).is_err());
    let missing = open_path(&dir.join("missing.mmdb"))
        .err()
        .expect("missing file");
    assert!(matches!(missing, GeoError::Io { .. }));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn stack_layers_fields_first_answer_wins() -> Result<(), GeoError> {
    let country = vec![
        fixture("GeoLite2-Country-Test.mmdb"),
        fixture("dbip-country-lite-Test.mmdb"),
    ];
    let asn = vec![fixture("GeoLite2-ASN-Test.mmdb")];
    let stack = GeoStack::from_options(&country, &asn, false)?;
    let g = stack.lookup(ip("8.8.8.8"));
    assert_eq!(
        (g.country.map(|c| c.to_string()), g.asn),
        (Some("US".into()), Some(15169))
    );
    // Second country source answers where the first is silent.
    assert_eq!(
        stack
            .lookup(ip("1.0.0.1"))
            .country
            .map(|c| c.to_string())
            .as_deref(),
        Some("AU")
    );
    assert_eq!(stack.sources().len(), 3);
    assert_eq!(
        stack.lookup_u128(flowhound_geo::ip_to_u128(ip("8.8.8.8"))),
        g
    );
    assert_eq!(stack.lookup_v4(0x0808_0808), g);
    // Field-only fast paths agree with the full lookup.
    for addr in [
        "8.8.8.8",
        "1.0.0.1",
        "193.136.73.21",
        "2001:4860::1",
        "9.9.9.9",
    ] {
        let x = flowhound_geo::ip_to_u128(ip(addr));
        let full = stack.lookup_u128(x);
        assert_eq!(stack.country_u128(x), full.country, "{addr}");
        assert_eq!(stack.asn_u128(x), full.asn, "{addr}");
        assert_eq!(stack.org_u128(x), full.org, "{addr}");
    }
    // Role checks apply to from_options.
    assert!(GeoStack::from_options(&asn, &[], false).is_err());
    assert!(GeoStack::new().lookup(ip("8.8.8.8")).is_empty());
    Ok(())
}

#[cfg(feature = "embedded")]
#[test]
fn stack_user_files_override_embedded() -> Result<(), GeoError> {
    let asn = vec![fixture("GeoLite2-ASN-Test.mmdb")];
    let stack = GeoStack::from_options(&[], &asn, true)?;
    let g = stack.lookup(ip("8.8.8.8"));
    // The org comes from the user's ASN file, the country from the embedded database.
    assert_eq!(g.org.as_deref(), Some("GOOGLE"));
    assert_eq!(g.country.map(|c| c.to_string()).as_deref(), Some("US"));
    assert_eq!(
        stack.sources().last().map(|s| s.kind),
        Some(SourceKind::Embedded)
    );
    assert_eq!(stack.attributions().len(), 2);
    Ok(())
}

#[test]
fn stack_is_send_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<GeoStack>();
    check::<std::sync::Arc<GeoStack>>();
}
