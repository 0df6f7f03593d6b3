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
