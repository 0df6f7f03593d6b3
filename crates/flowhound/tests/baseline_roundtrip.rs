//! The baseline JSON round-trips, and the baseline finds the fixture's internal servers.

use flowhound::baseline::{learn, Baseline};
use flowhound::config::BaselineConfig;
use flowhound::detect::flows::Flows;
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::InternalNets;
use flowhound_geo::GeoStack;

fn normal() -> Flows {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/outliers/normal.parquet"
    )
    .to_string();
    let (batches, _) = read_all(&[path], &ReadOptions::default()).unwrap();
    Flows::from_batches(&batches).unwrap()
}

#[test]
fn round_trips_and_discovers_servers() {
    let flows = normal();
    let mut cfg = BaselineConfig::default();
    cfg.exclude.push("192.168.105.7".into());
    let b = learn(
        &flows,
        &InternalNets::default(),
        &GeoStack::new(),
        &cfg,
        vec!["normal.parquet".into()],
        false,
    )
    .unwrap();
    let text = b.to_json().unwrap();
    let back = Baseline::from_json(&text, "mem").unwrap();
    assert_eq!(back, b);
    assert_eq!(back.to_json().unwrap(), text);
    // The generator script puts every internal flow on 192.168.105.5:445/tcp or 192.168.105.6:53/udp.
    let servers: Vec<(String, Option<u16>, String)> = b
        .servers
        .iter()
        .map(|s| (s.ip.clone(), s.port, s.source.clone()))
        .collect();
    assert_eq!(
        servers,
        [
            (
                "192.168.105.5".to_string(),
                Some(445),
                "discovered".to_string()
            ),
            (
                "192.168.105.6".to_string(),
                Some(53),
                "discovered".to_string()
            ),
            ("192.168.105.7".to_string(), None, "configured".to_string()),
        ]
    );
    assert!(
        b.is_server("192.168.105.5", 445)
            && b.is_server("192.168.105.7", 1)
            && !b.is_server("192.168.105.5", 80)
    );
    // 32 client hosts, all internal sources.
    assert_eq!(b.hosts.len(), 32);
    assert_eq!(b.hosts.values().map(|h| h.flows).sum::<u64>(), 4000);
    assert!(b
        .internal_graph
        .iter()
        .all(|e| e.dst == "192.168.105.5" || e.dst == "192.168.105.6"));
    assert_eq!(b.external.destinations.len(), 10);
}

#[test]
fn rejects_other_versions_and_garbage() {
    let e = Baseline::from_json("{\"schema_version\": 99}", "b.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("b.json") && e.contains("re-create"), "{e}");
    let e = Baseline::from_json("nope", "b.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid JSON"), "{e}");
}

/// The external section names each AS with its organisation (known answers for the fixture's
/// well-known destinations: Google's 172.217.16.142, GitHub's 140.82.112.3).
#[test]
fn external_asns_carry_their_organisation() {
    let geo = GeoStack::from_options(&[], &[], true).unwrap();
    let cfg = BaselineConfig::default();
    let b = learn(
        &normal(),
        &InternalNets::default(),
        &geo,
        &cfg,
        vec![],
        false,
    )
    .unwrap();
    let org = |asn: &str| b.external.asns[asn].org.clone().unwrap_or_default();
    assert!(org("15169").contains("Google"), "{}", org("15169"));
    assert!(org("36459").contains("GitHub"), "{}", org("36459"));
    assert!(b.external.asns.values().all(|p| p.org.is_some()));
    let back = Baseline::from_json(&b.to_json().unwrap(), "mem").unwrap();
    assert_eq!(back.external.asns, b.external.asns);
}
