//! Conformance of the native legacy `.dat` reader against pygeoip (an independent
//! pure-Python reader): every one of the 120,005 addresses recorded by
//! `tests/oracle/make_expected.py` must give the same country / AS record, in both
//! load modes. Plus known answers from MaxMind's own `geoiplookup` (testdata README).
//! Skips with a notice when the shared test data is absent.

use flowhound_geo::legacy::{Edition, LegacyDb, LoadMode};
use flowhound_geo::{open_asn, open_country, open_path, GeoError, GeoSource, SourceKind};
use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

const TESTDATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/geoip"
);
const ORACLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/oracle/legacy_expected.tsv.gz"
);

/// The shared file, or `None` (after printing why) when it is absent.
fn shared(name: &str) -> Option<PathBuf> {
    let p = Path::new(TESTDATA).join(name);
    if p.is_file() {
        Some(p)
    } else {
        println!(
            "skipped: shared test data {} is absent (fresh clone without ../shared)",
            p.display()
        );
        None
    }
}

struct Oracle {
    header: Vec<(String, String)>,
    rows: Vec<(Ipv4Addr, String, String, String)>,
}

fn load_oracle() -> Oracle {
    let file = std::fs::File::open(ORACLE).expect("committed oracle file");
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut out = Oracle {
        header: Vec::new(),
        rows: Vec::new(),
    };
    for line in reader.lines() {
        let line = line.expect("oracle line");
        if let Some(h) = line.strip_prefix("# ") {
            let (k, v) = h.split_once('=').expect("header key=value");
            out.header.push((k.to_string(), v.to_string()));
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 4, "oracle line {line:?}");
        out.rows.push((
            f[0].parse().expect("oracle ip"),
            f[1].into(),
            f[2].into(),
            f[3].into(),
        ));
    }
    out
}

/// True when the shared file has the size the oracle was recorded from.
fn same_file(oracle: &Oracle, path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let want = oracle
        .header
        .iter()
        .find(|(k, _)| *k == format!("{name}.size"))
        .map(|(_, v)| v.clone());
    let have = std::fs::metadata(path).map(|m| m.len().to_string()).ok();
    if want != have {
        println!(
            "skipped: {} differs from the file the oracle was recorded from",
            path.display()
        );
    }
    want == have
}

fn record_string(db: &dyn GeoSource, ip: Ipv4Addr) -> String {
    let g = db.lookup_v4(u32::from(ip));
    match (g.asn, g.org) {
        (Some(n), Some(o)) => format!("AS{n} {o}"),
        (Some(n), None) => format!("AS{n}"),
        (None, Some(o)) => o.to_string(),
        (None, None) => String::new(),
    }
}

fn country_string(db: &dyn GeoSource, ip: Ipv4Addr) -> String {
    db.lookup(ip.into())
        .country
        .map(|c| c.to_string())
        .unwrap_or_default()
}

#[test]
fn country_matches_pygeoip_in_both_modes() {
    let (Some(new), Some(old)) = (shared("GeoIP.dat"), shared("GeoIP-2016.dat")) else {
        return;
    };
    let oracle = load_oracle();
    assert!(oracle.rows.len() >= 100_000);
    if !same_file(&oracle, &new) || !same_file(&oracle, &old) {
        return;
    }
    for mode in [LoadMode::Memory, LoadMode::Mmap] {
        let db = LegacyDb::open(&new, mode).expect("GeoIP.dat opens");
        let db_old = LegacyDb::open(&old, mode).expect("GeoIP-2016.dat opens");
        assert_eq!(db.edition(), Edition::Country);
        let mut checked = 0;
        for (ip, cc, _, cc_old) in &oracle.rows {
            assert_eq!(
                &country_string(&db, *ip),
                cc,
                "{ip} in GeoIP.dat ({mode:?})"
            );
            assert_eq!(
                &country_string(&db_old, *ip),
                cc_old,
                "{ip} in GeoIP-2016.dat ({mode:?})"
            );
            checked += 1;
        }
        println!("{checked} addresses agree with pygeoip ({mode:?})");
    }
}

#[test]
fn asnum_matches_pygeoip_in_both_modes() {
    let Some(path) = shared("GeoIPASNum.dat") else {
        return;
    };
    let oracle = load_oracle();
    if !same_file(&oracle, &path) {
        return;
    }
    for mode in [LoadMode::Memory, LoadMode::Mmap] {
        let db = LegacyDb::open(&path, mode).expect("GeoIPASNum.dat opens");
        assert_eq!(db.edition(), Edition::AsNum);
        for (ip, _, org, _) in &oracle.rows {
            assert_eq!(&record_string(&db, *ip), org, "{ip} ({mode:?})");
            let raw = db
                .org_string_u128(u128::from(ip.to_ipv6_mapped()))
                .expect("lookup");
            assert_eq!(&raw.unwrap_or_default(), org, "{ip} raw record ({mode:?})");
        }
    }
}

#[test]
fn known_answers_from_geoiplookup() -> Result<(), GeoError> {
    let (Some(country), Some(asn)) = (shared("GeoIP.dat"), shared("GeoIPASNum.dat")) else {
        return Ok(());
    };
    let c = open_country(&country)?;
    let a = open_asn(&asn)?;
    let pt = c.lookup("193.136.73.21".parse().expect("ip"));
    assert_eq!(pt.country.map(|c| c.to_string()).as_deref(), Some("PT"));
    assert_eq!(pt.country_name, Some("Portugal"));
    let fct = a.lookup("193.136.73.21".parse().expect("ip"));
    assert_eq!(fct.asn, Some(1930));
    assert_eq!(
        fct.org.as_deref(),
        Some("Fundacao para a Ciencia e a Tecnologia, I.P.")
    );
    let g = a.lookup("8.8.8.8".parse().expect("ip"));
    assert_eq!(
        (g.asn, g.org.as_deref()),
        (Some(15169), Some("Google Inc."))
    );
    // Private and IPv6 addresses have no answer in IPv4 editions.
    assert!(c.lookup("192.168.1.115".parse().expect("ip")).is_empty());
    assert!(a.lookup("10.0.0.1".parse().expect("ip")).is_empty());
    assert!(c.lookup("2001:db8::1".parse().expect("ip")).is_empty());
    // IPv4-mapped IPv6 is looked up as IPv4.
    assert_eq!(
        c.lookup("::ffff:193.136.73.21".parse().expect("ip"))
            .country,
        pt.country
    );
    Ok(())
}

#[test]
fn info_and_role_checks() {
    let (Some(country), Some(asn)) = (shared("GeoIP.dat"), shared("GeoIPASNum.dat")) else {
        return;
    };
    let info = open_path(&asn).expect("detects legacy").info();
    assert_eq!(info.kind, SourceKind::LegacyDat);
    assert!(
        info.database_type.contains("ASNum"),
        "{}",
        info.database_type
    );
    assert_eq!(info.build_date.as_deref(), Some("20160314"));
    assert!(info.attribution.contains("GeoLite data created by MaxMind"));
    let line = info.to_string();
    assert!(
        line.starts_with("legacy-dat ")
            && line.contains("GeoIPASNum.dat")
            && line.ends_with("built 20160314 [asn]"),
        "{line}"
    );
    let err = open_asn(&country)
        .err()
        .expect("a country file is not an ASN database");
    assert!(matches!(err, GeoError::WrongRole { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("GeoIP.dat") && msg.contains("Country") && msg.contains("ASN"),
        "{msg}"
    );
    let err = open_country(&asn)
        .err()
        .expect("an ASN file is not a country database");
    assert!(err.to_string().contains("ASNum"), "{err}");
    let c = open_path(&country).expect("opens").info();
    assert!(c.description.is_some_and(|d| d.starts_with("GEO-106FREE")));
}
