//! `p2p_overlay`: a device that joined a peer-to-peer overlay (a P2P botnet's C&C) is a
//! `cnc_channel` finding naming its busiest peers; a cloud service's many addresses on one port, a
//! scan of random UDP ports, an overlay kept in normal traffic and a 16-minute glimpse are not (or
//! are held low); bulk transfers make it file sharing, scored lower.

mod detect_support;

use detect_support::p2p::{capture, clients, everyday, overlay, peers, Rng, DEVICE, LISTEN, T0};
use detect_support::{csv_run, csv_self_run, Row, CONFIG};
use flowhound::config::Config;
use flowhound::findings::{Finding, Severity};

fn config() -> Config {
    Config::from_toml(CONFIG, "t").unwrap()
}

fn p2p_of(found: &[Finding], host: &str) -> Option<Finding> {
    found
        .iter()
        .find(|f| f.detector.contains("p2p_overlay") && f.hosts == [host])
        .cloned()
}

#[test]
fn a_dht_node_is_a_cnc_channel_naming_its_busiest_peers() {
    let test = capture(7, 10, |_| Vec::new());
    let found = csv_self_run(
        &test,
        &config(),
        &["p2p_overlay", "cnc_channel", "cnc_beacon"],
    );
    let f = p2p_of(&found, DEVICE).expect("the overlay is reported");
    assert_eq!(f.kind, "cnc_channel");
    assert_eq!(f.severity, Severity::Medium, "{}", f.evidence.explanation);
    let e = &f.evidence.explanation;
    assert!(e.contains("peer-to-peer overlay"), "{e}");
    assert!(e.contains("dialling in to its udp/25660"), "{e}");
    assert!(e.contains("control traffic only"), "{e}");
    // named first: the peer that exchanged the most bytes, then, after the three bulkiest, the
    // busiest by flows
    let mut per_peer = std::collections::HashMap::<&str, (u64, u64)>::new();
    for (proto, (_, s, d, port, up, down)) in &test {
        let peer = if s == DEVICE { d } else { s };
        let overlay = *proto == "udp" && (*port == LISTEN || (s == DEVICE && *port >= 1024));
        if overlay {
            let e = per_peer.entry(peer.as_str()).or_default();
            *e = (e.0 + 1, e.1 + up + down);
        }
    }
    let top_flows = per_peer.values().map(|x| x.0).max().unwrap();
    let top_bytes = per_peer.values().map(|x| x.1).max().unwrap();
    assert_eq!(per_peer[f.peers[0].as_str()].1, top_bytes, "{:?}", f.peers);
    assert!(
        f.peers[..4]
            .iter()
            .any(|p| per_peer[p.as_str()].0 == top_flows),
        "{:?}",
        f.peers
    );
    // nobody else in the capture is a node
    assert!(
        found
            .iter()
            .filter(|f| f.detector.contains("p2p_overlay"))
            .count()
            == 1
    );
}

#[test]
fn a_cloud_service_on_one_port_and_a_random_port_udp_scan_are_no_overlay() {
    let test = {
        let mut rng = Rng(11);
        let mut v = everyday(T0, 10);
        v.extend(clients(&mut rng, T0, 10));
        // 200 addresses of one service, all on udp/8000, answering
        for k in 0..3_000 {
            let dst = format!("38.43.{}.{}", k % 200 / 250, k % 200 + 1);
            v.push(("udp", (T0 + k * 12, DEVICE.to_string(), dst, 8000, 100, 90)));
        }
        // a scan of random high UDP ports on random addresses, unanswered
        for (ip, port) in peers(&mut rng, 600) {
            let t = T0 + rng.below(36_000) as i64;
            v.push(("udp", (t, "192.168.1.60".to_string(), ip, port, 60, 0)));
        }
        v.sort_by_key(|r| r.1 .0);
        v
    };
    let found = csv_self_run(&test, &config(), &["p2p_overlay"]);
    assert!(
        found.is_empty(),
        "{:#?}",
        found
            .iter()
            .map(|f| &f.evidence.explanation)
            .collect::<Vec<_>>()
    );
}

#[test]
fn an_overlay_kept_in_normal_traffic_is_held_low() {
    let normal = capture(21, 10, |_| Vec::new());
    let shift = |rows: Vec<(&'static str, Row)>| -> Vec<(&'static str, Row)> {
        rows.into_iter()
            .map(|(p, (t, s, d, port, u, dn))| (p, (t + 86_400, s, d, port, u, dn)))
            .collect()
    };
    let test = shift(capture(22, 10, |_| Vec::new()));
    let found = csv_run(&normal, &test, &config(), &["p2p_overlay"]);
    let f = p2p_of(&found, DEVICE).expect("still reported, low");
    assert_eq!(f.severity, Severity::Low);
    assert!(
        f.evidence.explanation.contains("as in the baseline"),
        "{}",
        f.evidence.explanation
    );
    // the same test day against a normal day without the overlay: medium
    let quiet: Vec<(&'static str, Row)> = normal
        .into_iter()
        .filter(|(p, (_, s, d, port, _, _))| {
            !(*p == "udp"
                && (*port == LISTEN || (s == DEVICE && *port >= 1024))
                && (s == DEVICE || d == DEVICE))
        })
        .collect();
    let found = csv_run(&quiet, &test, &config(), &["p2p_overlay"]);
    assert_eq!(p2p_of(&found, DEVICE).unwrap().severity, Severity::Medium);
}

#[test]
fn bulk_transfers_make_file_sharing_and_a_short_capture_is_weak_evidence() {
    let control = p2p_of(
        &csv_self_run(
            &capture(31, 10, |_| Vec::new()),
            &config(),
            &["p2p_overlay"],
        ),
        DEVICE,
    )
    .unwrap();
    let sharing = capture(31, 10, |rng| {
        peers(rng, 5)
            .into_iter()
            .map(|(ip, port)| {
                (
                    "udp",
                    (T0 + 5_000, DEVICE.to_string(), ip, port, 40_000, 8_000_000),
                )
            })
            .collect()
    });
    let f = p2p_of(&csv_self_run(&sharing, &config(), &["p2p_overlay"]), DEVICE).unwrap();
    assert!(
        f.evidence.explanation.contains("bulk data moved"),
        "{}",
        f.evidence.explanation
    );
    assert!(
        f.score < control.score * 0.7,
        "{} vs {}",
        f.score,
        control.score
    );
    // bulk TCP with a swarm (four peers, each on its own high port) is file sharing too; one big
    // download over tcp/8080 from four addresses is no swarm
    let tcp = |ports: [u16; 4]| {
        capture(31, 10, move |rng| {
            let bulk = |((ip, _), port): ((String, u16), u16)| {
                let row: Row = (T0 + 6_000, DEVICE.to_string(), ip, port, 30_000, 5_000_000);
                ("tcp", row)
            };
            peers(rng, 4).into_iter().zip(ports).map(bulk).collect()
        })
    };
    let run = |rows: &[(&str, Row)]| {
        p2p_of(&csv_self_run(rows, &config(), &["p2p_overlay"]), DEVICE).unwrap()
    };
    let swarm = run(&tcp([51_413, 6881, 40_123, 23_456]));
    let e = &swarm.evidence.explanation;
    assert!(e.contains("bulk TCP with 4 peers on 4 high ports"), "{e}");
    assert!(swarm.score < control.score * 0.7, "{}", swarm.score);
    let one_port = run(&tcp([8080; 4]));
    assert!(
        (one_port.score - control.score).abs() < 1e-9,
        "{}",
        one_port.score
    );
    // the same overlay seen for 16 minutes: below medium (or not reported)
    let mut rng = Rng(41);
    let ps = peers(&mut rng, 300);
    let mut short = overlay(&mut rng, T0, 1, &ps, 400, 80);
    short.retain(|r| r.1 .0 < T0 + 960);
    short.extend(
        clients(&mut rng, T0, 1)
            .into_iter()
            .filter(|r| r.1 .0 < T0 + 960),
    );
    short.sort_by_key(|r| r.1 .0);
    let found = csv_self_run(&short, &config(), &["p2p_overlay"]);
    assert!(p2p_of(&found, DEVICE).is_none_or(|f| f.severity == Severity::Low));
}
