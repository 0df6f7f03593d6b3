//! `dns_anomaly` end to end on generated data: the generator's ground truth is the oracle.

mod detect_support;

use detect_support::dataset;

#[test]
fn the_tunnel_is_a_dns_tunnel_finding_to_the_unknown_resolver() {
    let d = dataset(13, 40_000);
    let findings = d.run(&["dns_anomaly"]);
    let s = d
        .truth
        .scenarios
        .iter()
        .find(|s| s.kind.name() == "dns_tunnel")
        .expect("scenario");
    let host = &s.hosts[0];
    let f = findings
        .iter()
        .find(|f| &f.hosts[0] == host)
        .unwrap_or_else(|| panic!("{host} missed: {findings:#?}"));
    assert_eq!(f.kind, "dns_tunnel");
    assert_eq!(f.peers[0], s.peers[0]);
    assert_eq!(
        f.evidence.details["unknown_resolvers"][0],
        s.peers[0].as_str()
    );
    assert!(f.flows >= s.flows, "{} < {}", f.flows, s.flows);
    let tunnels: Vec<_> = findings
        .iter()
        .filter(|f| f.kind == "dns_tunnel")
        .map(|f| &f.hosts[0])
        .collect();
    assert_eq!(tunnels, [host], "only the tunnelling host");
    let truth = d.all_scenario_hosts();
    assert!(
        findings.iter().all(|f| truth.contains(&f.hosts[0])),
        "{findings:#?}"
    );
}
