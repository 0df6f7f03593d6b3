//! `unusual_country` end to end on generated data: the generator's ground truth is the oracle.

mod detect_support;

use detect_support::dataset;

#[test]
fn one_finding_per_host_listing_the_new_countries() {
    let d = dataset(12, 40_000);
    let findings = d.run(&["unusual_country"]);
    let s = d
        .truth
        .scenarios
        .iter()
        .find(|s| s.kind.name() == "unusual_country")
        .expect("scenario");
    for h in &s.hosts {
        let mine: Vec<_> = findings.iter().filter(|f| f.hosts == [h.clone()]).collect();
        assert_eq!(mine.len(), 1, "{h}: {findings:#?}");
        let places: Vec<String> = mine[0].evidence.details["places"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["place"].as_str().unwrap().to_string())
            .collect();
        assert!(
            places
                .iter()
                .all(|p| s.countries.iter().any(|c| p.starts_with(c.as_str())) || !p.contains('/')),
            "{places:?} vs {:?}",
            s.countries
        );
        assert!(
            places.iter().any(|p| s.countries.contains(p)),
            "{places:?} vs {:?}",
            s.countries
        );
        assert!(
            mine[0].peers.iter().all(|p| s.peers.contains(p)),
            "peers {:?} vs {:?}",
            mine[0].peers,
            s.peers
        );
    }
    let decoys = d.decoy_hosts();
    let truth = d.all_scenario_hosts();
    for f in &findings {
        assert!(
            !f.hosts.iter().any(|h| decoys.contains(h)),
            "decoy flagged: {f:#?}"
        );
        assert!(
            f.hosts.iter().all(|h| truth.contains(h)),
            "host outside every scenario: {:?} {}",
            f.hosts,
            f.evidence.explanation
        );
    }
}

/// Where rare places are the long tail of ordinary browsing (3 of 20 hosts reached a country nobody
/// else did on the normal day), a host returning to a new country over the afternoon is reported low,
/// saying so; where nobody strays on the normal day, the same host is reported (medium or above).
#[test]
fn new_places_are_routine_where_the_baseline_shows_a_long_tail() {
    use detect_support::{csv_run, Row};
    use flowhound::config::Config;
    use flowhound::findings::Severity;
    const DAY: i64 = 1_772_409_600; // 2026-03-02 00:00 UTC
    let host = |i: u32| format!("10.1.0.{i}");
    let flow = |day: i64, secs: i64, i: u32, dst: &str| -> Row {
        (
            DAY + day * 86_400 + secs,
            host(i),
            dst.into(),
            443,
            2_000,
            40_000,
        )
    };
    let browsing = |day: i64| {
        let sites = ["93.184.216.34", "151.101.1.69", "142.250.74.46"];
        let hours = (1..=20).flat_map(|i| (8..18).map(move |h| (i, h)));
        hours
            .map(|(i, h)| {
                flow(
                    day,
                    h * 3600 + i as i64,
                    i,
                    sites[(i + h as u32) as usize % 3],
                )
            })
            .collect::<Vec<Row>>()
    };
    let long_tail = [
        (1, "185.60.216.35"),
        (2, "41.203.64.1"),
        (3, "104.244.224.18"),
    ]
    .into_iter()
    .flat_map(|(i, dst)| (0..3).map(move |k| flow(0, 13 * 3600 + k * 900, i, dst)));
    let mut test = browsing(1);
    test.extend((0..6).map(|k| flow(1, 12 * 3600 + k * 1800, 10, "202.131.6.175")));
    let config = Config::from_toml(detect_support::CONFIG, "low").unwrap();
    let routine_normal: Vec<Row> = browsing(0).into_iter().chain(long_tail).collect();
    let found = csv_run(&routine_normal, &test, &config, &["unusual_country"]);
    let f = found
        .iter()
        .find(|f| f.hosts == [host(10)])
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert!(f.severity < Severity::Medium, "{f:#?}");
    assert!(
        f.evidence
            .explanation
            .contains("3 of 20 hosts reached countries fewer than 3 hosts did"),
        "{}",
        f.evidence.explanation
    );
    let quiet = csv_run(&browsing(0), &test, &config, &["unusual_country"]);
    let f = quiet
        .iter()
        .find(|f| f.hosts == [host(10)])
        .expect("a finding");
    assert!(f.severity >= Severity::Medium, "{f:#?}");
    assert!(!f.evidence.explanation.contains("long tail"));
}
