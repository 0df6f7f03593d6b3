//! Issue 3 through the real binary: `geo lookup`, `geo info`, database roles, SQL geo functions, `enrich`.
//! Expected answers are independent facts: the check values of ../shared/testdata/README.md (from
//! MaxMind's own geoiplookup) and well-known allocations (8.8.8.8 is Google, AS15169, US).

mod common;

use common::{flowhound, Scratch};
use serde_json::Value;
use std::path::PathBuf;

fn shared_geoip() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/geoip"
    ));
    if dir.join("GeoIP.dat").exists() {
        Some(dir)
    } else {
        println!("skipped: ../shared/testdata/geoip is absent");
        None
    }
}

#[test]
fn embedded_lookup_known_answers() {
    let out = flowhound(&[
        "geo",
        "lookup",
        "--json",
        "8.8.8.8",
        "193.136.73.21",
        "192.168.105.7",
        "2001:4860:4860::8888",
    ]);
    let rows = out.json("geo lookup --json");
    let row = |i: usize, k: &str| rows[i][k].clone();
    assert_eq!(
        (row(0, "ip"), row(0, "country"), row(0, "asn")),
        (
            Value::from("8.8.8.8"),
            Value::from("US"),
            Value::from(15169)
        )
    );
    assert_eq!(
        (row(1, "country"), row(1, "asn")),
        (Value::from("PT"), Value::from(1930))
    );
    assert_eq!(row(1, "country_name"), Value::from("Portugal"));
    assert!(
        row(2, "country").is_null() && row(2, "asn").is_null() && row(2, "org").is_null(),
        "private address has no geo"
    );
    assert_eq!(
        (row(3, "country"), row(3, "asn")),
        (Value::from("US"), Value::from(15169)),
        "IPv6 lookup"
    );
}

#[test]
fn legacy_files_match_geoiplookup_check_values() {
    let Some(dir) = shared_geoip() else { return };
    let (c, a) = (dir.join("GeoIP.dat"), dir.join("GeoIPASNum.dat"));
    let out = flowhound(&[
        "geo",
        "lookup",
        "--json",
        "--no-embedded-geo",
        "--geoip-db",
        c.to_str().unwrap(),
        "--asn-db",
        a.to_str().unwrap(),
        "193.136.73.21",
        "8.8.8.8",
    ]);
    let rows = out.json("geo lookup --json");
    assert_eq!(rows[0]["country"], "PT");
    assert_eq!(rows[0]["asn"], 1930);
    assert_eq!(
        rows[0]["org"],
        "Fundacao para a Ciencia e a Tecnologia, I.P."
    );
    assert_eq!(rows[1]["asn"], 15169);
    assert_eq!(rows[1]["org"], "Google Inc.");
}

#[test]
fn country_file_as_asn_database_is_a_clear_error() {
    let Some(dir) = shared_geoip() else { return };
    let out = flowhound(&[
        "geo",
        "lookup",
        "--asn-db",
        dir.join("GeoIP.dat").to_str().unwrap(),
        "1.1.1.1",
    ]);
    let err = &out.expect(3, "country file as ASN database").stderr;
    assert!(
        err.contains("GeoIP.dat") && err.contains("ASN database") && err.contains("was expected"),
        "{err}"
    );
}

#[test]
fn geo_info_names_sources_date_and_attribution() {
    let (text, _) = flowhound(&["geo", "info"]).ok("geo info");
    assert!(
        text.contains("embedded") && text.contains("built 20"),
        "{text}"
    );
    assert!(
        text.contains("ip-location-db") && text.contains("CC BY 4.0"),
        "{text}"
    );
}

fn fixture_csv(dir: &std::path::Path) -> PathBuf {
    let p = dir.join("flows.csv");
    let rows = "timestamp,src_ip,dst_ip,proto,port,up_bytes,down_bytes\n\
                1700000000,192.168.105.7,8.8.8.8,udp,53,60,120\n\
                1700000001,192.168.105.7,193.136.73.21,tcp,443,500,9000\n\
                1700000002,10.1.2.3,192.168.105.7,tcp,22,100,100\n";
    std::fs::write(&p, rows).expect("write fixture");
    p
}

#[test]
fn sql_geo_functions() {
    let scratch = Scratch::new("geo-sql");
    let dir = &scratch.0;
    let csv = fixture_csv(dir);
    let out_json = dir.join("out.json");
    let q = "SELECT ip_str(dst_ip) AS d, geo_country(dst_ip) AS cc, asn_number(dst_ip) AS asn, asn_org(dst_ip) AS org, \
             is_private(dst_ip) AS private, in_cidr(src_ip, '192.168.105.0/24') AS ours FROM flows ORDER BY ts";
    let out = flowhound(&[
        "sql",
        q,
        csv.to_str().unwrap(),
        "-o",
        out_json.to_str().unwrap(),
        "--quiet",
    ]);
    out.ok("sql");
    let rows: Value = serde_json::from_str(&std::fs::read_to_string(&out_json).unwrap()).unwrap();
    assert_eq!(rows[0]["d"], "8.8.8.8");
    assert_eq!(
        (rows[0]["cc"].clone(), rows[0]["asn"].clone()),
        (Value::from("US"), Value::from(15169))
    );
    assert_eq!(rows[1]["cc"], "PT");
    assert_eq!(rows[1]["asn"], 1930);
    assert_eq!(rows[2]["private"], true);
    assert_eq!(rows[0]["private"], false);
    assert_eq!(
        (rows[0]["ours"].clone(), rows[2]["ours"].clone()),
        (Value::from(true), Value::from(false))
    );
    assert!(
        rows[2].get("cc").is_none_or(Value::is_null),
        "private address has no country"
    );
}

#[test]
fn enrich_adds_both_ends() {
    let scratch = Scratch::new("geo-enrich");
    let dir = &scratch.0;
    let csv = fixture_csv(dir);
    let out_pq = dir.join("enriched.parquet");
    let out = flowhound(&[
        "enrich",
        csv.to_str().unwrap(),
        "-o",
        out_pq.to_str().unwrap(),
        "--quiet",
    ]);
    let (_, err) = out.ok("enrich");
    assert!(
        err.contains("looked up 4 distinct addresses"),
        "distinct lookups: {err}"
    );
    let out_json = dir.join("check.json");
    let q = "SELECT src_country, src_asn, dst_country, dst_asn, dst_org FROM flows ORDER BY ts";
    let out = flowhound(&[
        "sql",
        q,
        out_pq.to_str().unwrap(),
        "-o",
        out_json.to_str().unwrap(),
    ]);
    out.ok("sql");
    let rows: Value = serde_json::from_str(&std::fs::read_to_string(&out_json).unwrap()).unwrap();
    assert_eq!(rows[0]["dst_country"], "US");
    assert_eq!(rows[0]["dst_asn"], 15169);
    assert_eq!(
        rows[1]["dst_org"],
        "Fundacao para a Ciencia e a Tecnologia, I.P."
    );
    assert!(rows[0].get("src_country").is_none_or(Value::is_null));
}
