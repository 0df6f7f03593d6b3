//! The evaluator's arithmetic on hand-written truth and findings; every
//! expected number below was worked out by hand in the comments.

use flowhound_gen::{evaluate, DecoyKind, Evaluation, FindingsDoc, Scenario, Truth};

const TRUTH: &str = r#"{
  "scenarios": [
    {"kind": "botnet", "hosts": ["10.0.0.1", "10.0.0.2", "10.0.0.3"]},
    {"kind": "cnc_beacon", "hosts": ["10.0.0.4"]},
    {"kind": "server_abuse", "file": "servers", "hosts": ["203.0.113.5", "203.0.113.6"]}
  ],
  "decoys": [
    {"kind": "nightly_backup", "hosts": ["10.0.0.250"]},
    {"kind": "new_employee", "hosts": ["10.0.0.99"]}
  ]
}"#;

const FINDINGS: &str = r#"{
  "generated_by": "a detector", "findings": [
    {"kind": "botnet", "hosts": ["10.0.0.1", "10.0.0.2", "10.0.0.250"], "score": 0.9, "evidence": {"port": 6667}},
    {"kind": "botnet", "hosts": ["10.0.0.2"], "score": 0.5},
    {"kind": "cnc_beacon", "hosts": [], "score": 0.1},
    {"kind": "server_abuse", "hosts": ["::ffff:203.0.113.5"], "score": 0.7},
    {"kind": "volume_outlier", "hosts": ["10.0.0.250", "10.0.0.4", "10.0.0.99"], "score": 0.3},
    {"kind": "port_scan", "hosts": ["10.0.0.3"], "score": 1.0}
  ]
}"#;

fn eval() -> Evaluation {
    let truth = Truth::from_json(TRUTH).expect("truth");
    let findings = FindingsDoc::from_json(FINDINGS).expect("findings");
    evaluate(&truth, &findings)
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-12)
}

#[test]
fn per_kind_scores() {
    let e = eval();
    let kinds: Vec<Scenario> = e.per_kind.iter().map(|k| k.kind).collect();
    assert_eq!(
        kinds,
        vec![Scenario::Botnet, Scenario::CncBeacon, Scenario::ServerAbuse]
    );
    // botnet: T = {.1,.2,.3}, B = {.1,.2,.250} -> tp 2, P = 2/3, R = 2/3, F1 = 2/3.
    let b = &e.per_kind[0];
    assert_eq!((b.truth_hosts, b.blamed_hosts, b.true_positives), (3, 3, 2));
    assert!(close(b.precision, 2.0 / 3.0) && close(b.recall, 2.0 / 3.0) && close(b.f1, 2.0 / 3.0));
    assert_eq!(b.missed, vec!["10.0.0.3"]);
    assert_eq!(b.false_positives, vec!["10.0.0.250"]);
    // cnc_beacon: nothing blamed (the only finding is empty) -> P undefined, R = 0.
    let c = &e.per_kind[1];
    assert_eq!((c.blamed_hosts, c.true_positives), (0, 0));
    assert!(c.precision.is_none() && close(c.recall, 0.0) && c.f1.is_none());
    // server_abuse: mapped IPv6 form matches; P = 1, R = 1/2, F1 = 2*1*0.5/1.5 = 2/3.
    let s = &e.per_kind[2];
    assert!(close(s.precision, 1.0) && close(s.recall, 0.5) && close(s.f1, 2.0 / 3.0));
    assert_eq!(s.missed, vec!["203.0.113.6"]);
}

#[test]
fn totals_and_kinds_without_scenario() {
    let e = eval();
    // S = {.1,.2,.3,.4,203.5,203.6} (6); B = {.1,.2,.250,203.5,.4,.99,.3} (7);
    // B ∩ S = 5 -> P = 5/7, R = 5/6, F1 = 2PR/(P+R) = 10/13.
    let t = &e.totals;
    assert_eq!(
        (
            t.findings,
            t.scenario_hosts,
            t.blamed_hosts,
            t.true_positives
        ),
        (6, 6, 7, 5)
    );
    assert!(
        close(t.precision, 5.0 / 7.0) && close(t.recall, 5.0 / 6.0) && close(t.f1, 10.0 / 13.0)
    );
    // port_scan has no scenario in this truth: listed apart, its hit on .3 counts in the totals.
    let other: Vec<(&str, usize, usize)> = e
        .other_kinds
        .iter()
        .map(|o| (o.kind.as_str(), o.blamed_hosts, o.scenario_hosts))
        .collect();
    assert_eq!(other, vec![("port_scan", 1, 1), ("volume_outlier", 3, 1)]);
}

#[test]
fn misses_and_false_positives_name_decoys() {
    let e = eval();
    let missed: Vec<&str> = e.missed.iter().map(|m| m.host.as_str()).collect();
    assert_eq!(missed, vec!["203.0.113.6"]);
    assert_eq!(e.missed[0].scenarios, vec![Scenario::ServerAbuse]);
    let fps: Vec<(&str, Vec<&str>, Option<DecoyKind>)> = e
        .false_positives
        .iter()
        .map(|f| {
            (
                f.host.as_str(),
                f.kinds.iter().map(String::as_str).collect(),
                f.decoy,
            )
        })
        .collect();
    assert_eq!(
        fps,
        vec![
            (
                "10.0.0.99",
                vec!["volume_outlier"],
                Some(DecoyKind::NewEmployee)
            ),
            (
                "10.0.0.250",
                vec!["botnet", "volume_outlier"],
                Some(DecoyKind::NightlyBackup)
            ),
        ]
    );
}

#[test]
fn text_and_json_renderings() {
    let e = eval();
    let text = e.render_text();
    assert!(
        text.contains("botnet") && text.contains("66.7%") && text.contains("71.4%"),
        "{text}"
    );
    assert!(text.contains("missed: 203.0.113.6 (server_abuse)"));
    assert!(text
        .contains("false positive: 10.0.0.250 by botnet, volume_outlier [decoy: nightly_backup]"));
    let back: Evaluation = serde_json::from_str(&e.to_json()).expect("json round trip");
    assert_eq!(back, e);
}

#[test]
fn min_score_drops_low_confidence_findings() {
    let truth = Truth::from_json(TRUTH).expect("truth");
    let findings = FindingsDoc::from_json(FINDINGS).expect("findings");
    // score >= 0.6 keeps the botnet finding at 0.9, server_abuse 0.7 and port_scan 1.0:
    // B = {.1,.2,.250,203.5,.3}, all 5 distinct; B ∩ S = {.1,.2,203.5,.3} -> P = 4/5, R = 4/6.
    let e = flowhound_gen::evaluate_min_score(&truth, &findings, 0.6);
    assert_eq!(
        (
            e.totals.findings,
            e.totals.blamed_hosts,
            e.totals.true_positives
        ),
        (3, 5, 4)
    );
    assert!(close(e.totals.precision, 0.8) && close(e.totals.recall, 4.0 / 6.0));
    assert_eq!(
        flowhound_gen::evaluate_min_score(&truth, &findings, 0.0),
        eval()
    );
}

#[test]
fn host_lists_are_in_address_order() {
    let truth = Truth::from_json(
        r#"{"scenarios": [{"kind": "botnet", "hosts": ["10.0.0.100", "10.0.0.9", "host-x", "10.0.0.20"]}]}"#,
    )
    .expect("truth");
    let e = evaluate(&truth, &FindingsDoc::default());
    let want = vec!["10.0.0.9", "10.0.0.20", "10.0.0.100", "host-x"];
    assert_eq!(e.per_kind[0].missed, want);
    let missed: Vec<&str> = e.missed.iter().map(|m| m.host.as_str()).collect();
    assert_eq!(missed, want);
}

#[test]
fn empty_inputs_do_not_divide_by_zero() {
    let e = evaluate(&Truth::default(), &FindingsDoc::default());
    assert!(e.per_kind.is_empty() && e.totals.precision.is_none() && e.totals.recall.is_none());
    assert!(FindingsDoc::from_json("{\"findings\": [{\"kind\": 3}]}").is_err());
    assert_eq!(
        FindingsDoc::from_json("{}").map(|d| d.findings.len()).ok(),
        Some(0)
    );
}

/// End to end: a perfect detector built from a generated truth scores 1.0,
/// and blaming the decoys turns them into named false positives.
#[test]
fn perfect_findings_on_generated_data() {
    use flowhound_gen::{generate, Finding, GenConfig};
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = GenConfig {
        flows_normal: 3000,
        flows_test: 1500,
        flows_servers: 500,
        ..GenConfig::default()
    };
    let truth = generate(&cfg, dir.path(), &|_, _| {})
        .expect("generate")
        .truth;
    let finding = |kind: &str, hosts: &[String]| Finding {
        kind: kind.into(),
        hosts: hosts.to_vec(),
        score: 1.0,
    };
    let mut doc = FindingsDoc {
        findings: truth
            .scenarios
            .iter()
            .map(|s| finding(s.kind.name(), &s.hosts))
            .collect(),
    };
    let perfect = evaluate(&truth, &doc);
    assert_eq!(perfect.per_kind.len(), Scenario::ALL.len());
    assert!(perfect
        .per_kind
        .iter()
        .all(|k| close(k.precision, 1.0) && close(k.recall, 1.0)));
    assert!(
        close(perfect.totals.f1, 1.0)
            && perfect.missed.is_empty()
            && perfect.false_positives.is_empty()
    );
    doc.findings.extend(
        truth
            .decoys
            .iter()
            .map(|d| finding("volume_outlier", &d.hosts)),
    );
    let noisy = evaluate(&truth, &doc);
    let decoy_hosts: usize = truth.decoys.iter().map(|d| d.hosts.len()).sum();
    assert_eq!(noisy.false_positives.len(), decoy_hosts);
    assert!(noisy.false_positives.iter().all(|f| f.decoy.is_some()));
    let scenario_hosts = perfect.totals.scenario_hosts as f64;
    assert!(close(
        noisy.totals.precision,
        scenario_hosts / (scenario_hosts + decoy_hosts as f64)
    ));
}
