//! The embedded database against an independent Python oracle
//! (`oracle/make_embedded_expected.py`, recorded from the same ip-location-db
//! CSV files), plus known answers and the `ranges_v4` contract.
#![cfg(feature = "embedded")]

use flowhound_geo::{embedded, ranges_v4, GeoError, GeoSource, SourceKind};
use std::io::{BufRead, BufReader};
use std::net::IpAddr;

const ORACLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/oracle/embedded_expected.tsv.gz"
);

#[test]
fn embedded_matches_python_oracle() -> Result<(), GeoError> {
    let db = embedded()?;
    let file = std::fs::File::open(ORACLE).expect("committed oracle");
    let mut lines = BufReader::new(flate2::read::GzDecoder::new(file)).lines();
    let header = lines.next().expect("header").expect("utf-8");
    let version = header.strip_prefix("# version=").expect("version header");
    if Some(version) != db.meta("version") {
        println!("skipped: oracle is for version {version}, embedded is {:?}; rerun scripts/update-geodb", db.meta("version"));
        return Ok(());
    }
    let (mut n, mut v6) = (0, 0);
    for line in lines {
        let line = line.expect("utf-8");
        let f: Vec<&str> = line.split('\t').collect();
        let ip: IpAddr = f[0].parse().expect("oracle ip");
        let g = db.lookup(ip);
        assert_eq!(
            g.country.map(|c| c.to_string()).unwrap_or_default(),
            f[1],
            "country of {ip}"
        );
        assert_eq!(
            g.asn.map(|a| a.to_string()).unwrap_or_default(),
            f[2],
            "asn of {ip}"
        );
        n += 1;
        v6 += usize::from(ip.is_ipv6());
    }
    assert!(n > 50_000 && v6 > 10_000, "{n} rows, {v6} IPv6");
    println!("{n} addresses ({v6} IPv6) agree with the Python oracle");
    Ok(())
}

#[test]
fn known_answers() -> Result<(), GeoError> {
    let db = embedded()?;
    let g = db.lookup("8.8.8.8".parse().expect("ip"));
    assert_eq!(
        (g.country.map(|c| c.to_string()).as_deref(), g.asn),
        (Some("US"), Some(15169))
    );
    let g = db.lookup("193.136.73.21".parse().expect("ip"));
    assert_eq!((g.country_name, g.asn), (Some("Portugal"), Some(1930)));
    assert!(db.lookup("192.168.1.115".parse().expect("ip")).is_empty());
    assert!(db.lookup("fd00::1".parse().expect("ip")).is_empty());
    let info = db.info();
    assert_eq!(info.kind, SourceKind::Embedded);
    assert!(info.build_date.is_some() && info.has_ipv6);
    assert!(info.attribution.contains("CC BY 4.0") && info.attribution.contains("CC0"));
    Ok(())
}

#[test]
fn ranges_v4_are_ordered_disjoint_and_consistent() -> Result<(), GeoError> {
    let db = embedded()?;
    let mut prev_end: Option<u32> = None;
    let (mut count, mut with_country) = (0usize, 0usize);
    for (start, end, cc, asn) in ranges_v4() {
        assert!(start <= end);
        assert!(prev_end.is_none_or(|p| p < start), "overlap at {start}");
        assert!(cc.is_some() || asn.is_some());
        if count % 97 == 0 {
            for ip in [start, end, start + (end - start) / 2] {
                let g = db.lookup_v4(ip);
                assert_eq!((g.country, g.asn), (cc, asn));
            }
        }
        prev_end = Some(end);
        count += 1;
        with_country += usize::from(cc.is_some());
    }
    assert!(
        count > 300_000 && with_country > 200_000,
        "{count} ranges, {with_country} with a country"
    );
    Ok(())
}

#[test]
fn load_time_is_reported() {
    // Decoding happens once per process; this measures it in the test profile.
    // The release figure is measured by `examples/geo_bench.rs`.
    let t = std::time::Instant::now();
    let db =
        flowhound_geo::fhg::FhgDb::from_bytes(include_bytes!("../data/flowhound-geo.fhg"), None);
    assert!(db.is_ok());
    println!("embedded decode (test profile): {:?}", t.elapsed());
}
