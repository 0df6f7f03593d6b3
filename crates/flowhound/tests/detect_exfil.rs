//! `exfiltration` end to end on generated data: the generator's ground truth is the oracle.

mod detect_support;

use detect_support::dataset;

#[test]
fn finds_the_exfiltrating_hosts_not_the_nightly_backup() {
    let d = dataset(11, 40_000);
    let findings = d.run(&["exfiltration"]);
    let s = d
        .truth
        .scenarios
        .iter()
        .find(|s| s.kind.name() == "exfiltration")
        .expect("exfiltration scenario");
    for h in &s.hosts {
        let f = findings
            .iter()
            .find(|f| f.hosts == [h.clone()])
            .unwrap_or_else(|| panic!("{h} not flagged: {findings:#?}"));
        assert_eq!(f.kind, "exfiltration");
        assert_eq!(f.peers[0], s.peers[0], "the target is the top destination");
        let e = &f.evidence;
        assert!(
            e.explanation.contains(&s.peers[0])
                && e.explanation.contains(&format!("({}", s.countries[0])),
            "{}",
            e.explanation
        );
        assert!(
            e.details["total_upload_bytes"].as_u64().unwrap()
                >= s.up_bytes / s.hosts.len() as u64 / 4
        );
        let first = flowhound::findings::format_ts(s.start * 1_000_000);
        assert!(
            f.first_seen.as_deref().unwrap() >= &first[..19],
            "{:?} vs {first}",
            f.first_seen
        );
    }
    let backup = d
        .truth
        .decoys
        .iter()
        .find(|x| x.kind.name() == "nightly_backup")
        .unwrap();
    for h in d.decoy_hosts() {
        assert!(
            !findings.iter().any(|f| f.hosts.contains(&h)),
            "decoy {h} flagged (backup: {:?})",
            backup.hosts
        );
    }
    let truth = d.all_scenario_hosts();
    let fps: Vec<_> = findings
        .iter()
        .filter(|f| !f.hosts.iter().all(|h| truth.contains(h)))
        .map(|f| (&f.hosts, &f.evidence.explanation))
        .collect();
    assert!(fps.is_empty(), "hosts outside every scenario: {fps:#?}");
}
