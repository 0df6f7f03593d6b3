//! Round trip of the `.fhg` converter on small hand-written CSV fixtures
//! (`fixtures/country-small.csv`, `fixtures/asn-small.csv`): every expected
//! answer below is read off those files by hand.

use flowhound_geo::fhg::{FhgBuilder, FhgDb};
use flowhound_geo::{CountryCode, GeoError, GeoSource, SourceKind};
use std::io::BufReader;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name)
}

fn build() -> Result<Vec<u8>, GeoError> {
    let mut b = FhgBuilder::new();
    for (name, country) in [("country-small.csv", true), ("asn-small.csv", false)] {
        let file = std::fs::File::open(fixture(name)).expect("fixture");
        let n = if country {
            b.read_country_csv(BufReader::new(file), name)?
        } else {
            b.read_asn_csv(BufReader::new(file), name)?
        };
        assert_eq!(n, if country { 8 } else { 5 });
    }
    b.meta("date", "2026-01-02");
    b.meta("version", "test");
    b.build()
}

fn v4(s: &str) -> u32 {
    u32::from(s.parse::<Ipv4Addr>().expect("ipv4"))
}

fn answer(db: &FhgDb, addr: &str) -> (Option<String>, Option<u32>, Option<String>) {
    let g = db.lookup(addr.parse::<IpAddr>().expect("ip"));
    (
        g.country.map(|c| c.to_string()),
        g.asn,
        g.org.map(|o| o.to_string()),
    )
}

#[test]
fn lookups_match_the_csv() -> Result<(), GeoError> {
    let db = FhgDb::from_bytes(&build()?, None)?;
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        answer(&db, "1.0.0.7"),
        (s("AU"), Some(13335), s("Cloudflare, Inc."))
    );
    assert_eq!(answer(&db, "1.0.2.0"), (s("CN"), None, None));
    assert_eq!(
        answer(&db, "1.0.5.1"),
        (None, Some(38803), s("Gtelecom Pty Ltd"))
    );
    assert_eq!(answer(&db, "8.8.8.8"), (None, Some(15169), s("Google LLC")));
    // Nested range wins; the outer range resumes after it.
    assert_eq!(answer(&db, "2.58.197.14").0, s("DE"));
    assert_eq!(answer(&db, "2.58.197.15").0, s("BE"));
    assert_eq!(answer(&db, "2.58.197.16").0, s("DE"));
    // Private space is blanked even though the CSV gives it a country.
    assert_eq!(answer(&db, "192.168.1.1"), (None, None, None));
    assert_eq!(
        answer(&db, "193.136.73.21"),
        (
            s("PT"),
            Some(1930),
            s("Fundacao para a Ciencia e a Tecnologia, I.P.")
        )
    );
    assert_eq!(
        answer(&db, "193.137.0.1"),
        (
            None,
            Some(1930),
            s("Fundacao para a Ciencia e a Tecnologia, I.P.")
        )
    );
    for edge in [
        "0.0.0.0",
        "0.255.255.255",
        "1.0.4.0",
        "255.255.255.255",
        "193.138.0.0",
    ] {
        assert_eq!(answer(&db, edge).0, None, "{edge}");
    }
    assert_eq!(answer(&db, "1.0.3.255").0, s("CN"));
    assert_eq!(answer(&db, "2001:200::1").0, s("JP"));
    assert_eq!(
        answer(&db, "2001:4860:4860::8888"),
        (None, Some(15169), s("Google LLC"))
    );
    assert_eq!(answer(&db, "2a00:1450:4001::1").0, s("IE"));
    assert_eq!(answer(&db, "2a00:1451::").0, None);
    assert_eq!(answer(&db, "::ffff:1.0.0.7").1, Some(13335));
    assert_eq!(
        db.lookup_v4_fast(v4("8.8.8.8")),
        (None, Some((15169, "Google LLC")))
    );
    Ok(())
}

#[test]
fn metadata_and_info() -> Result<(), GeoError> {
    let db = FhgDb::from_bytes(&build()?, None)?;
    assert_eq!(db.meta("date"), Some("2026-01-02"));
    let info = db.info();
    assert_eq!(
        (info.kind, info.build_date.as_deref()),
        (SourceKind::Embedded, Some("2026-01-02"))
    );
    assert!(info.has_country && info.has_asn && info.has_ipv6);
    let dir = std::env::temp_dir().join(format!("fh-geo-fhg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("small.fhg");
    std::fs::write(&path, build()?).expect("write");
    let opened = flowhound_geo::open_path(&path)?;
    assert_eq!(opened.info().kind, SourceKind::Flowhound);
    assert_eq!(
        opened.lookup("1.0.0.7".parse().expect("ip")).asn,
        Some(13335)
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn ranges_v4_lists_known_ranges_in_order() -> Result<(), GeoError> {
    let db = FhgDb::from_bytes(&build()?, None)?;
    let cc = |c: &str| CountryCode::parse(c);
    let got: Vec<_> = db.ranges_v4().collect();
    let want = vec![
        (v4("1.0.0.0"), v4("1.0.0.255"), cc("AU"), Some(13335)),
        (v4("1.0.1.0"), v4("1.0.3.255"), cc("CN"), None),
        (v4("1.0.4.0"), v4("1.0.7.255"), None, Some(38803)),
        (v4("2.58.196.0"), v4("2.58.197.14"), cc("DE"), None),
        (v4("2.58.197.15"), v4("2.58.197.15"), cc("BE"), None),
        (v4("2.58.197.16"), v4("2.58.197.255"), cc("DE"), None),
        (v4("8.8.8.0"), v4("8.8.8.255"), None, Some(15169)),
        (
            v4("193.136.0.0"),
            v4("193.136.255.255"),
            cc("PT"),
            Some(1930),
        ),
        (v4("193.137.0.0"), v4("193.137.255.255"), None, Some(1930)),
    ];
    assert_eq!(got, want);
    Ok(())
}

#[test]
fn bad_csv_lines_are_reported_with_line_numbers() {
    let mut b = FhgBuilder::new();
    let err = b
        .read_country_csv(&b"1.0.0.0,1.0.0.255,AU\n1.0.1.0,nope,CN\n"[..], "x.csv")
        .err();
    assert!(
        matches!(err, Some(GeoError::BadInput { line: 2, .. })),
        "{err:?}"
    );
    let err = b
        .read_asn_csv(&b"1.0.0.0,1.0.0.255,notanumber,x\n"[..], "a.csv")
        .err();
    assert!(
        matches!(err, Some(GeoError::BadInput { line: 1, .. })),
        "{err:?}"
    );
    let err = b
        .read_country_csv(&b"2.0.0.0,1.0.0.0,AU\n"[..], "r.csv")
        .err();
    assert!(err.is_some(), "reversed range is rejected");
    let err = b.read_country_csv(&b"1.0.0.0,::1,AU\n"[..], "m.csv").err();
    assert!(err.is_some(), "mixed families are rejected");
}

#[test]
fn corrupt_images_are_errors() -> Result<(), GeoError> {
    let good = build()?;
    assert!(FhgDb::from_bytes(b"", None).is_err());
    assert!(FhgDb::from_bytes(b"FHGEODB1", None).is_err());
    assert!(FhgDb::from_bytes(&good[..good.len() / 2], None).is_err());
    let mut bomb = good.clone();
    bomb[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(FhgDb::from_bytes(&bomb, None).is_err());
    Ok(())
}
