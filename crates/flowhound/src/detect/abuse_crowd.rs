//! `server_abuse`'s pivot: several external clients abusing one public server are an attack on that
//! server, reported once per server (kind `inbound_attack`, the server in `hosts`, its abusers first
//! by flows in `peers`), beside each client's own finding. Pure over the merged findings, so it is the
//! same in memory, out of core and on a cluster.

use crate::findings::{Evidence, Finding};
use serde_json::json;
use std::collections::BTreeMap;

/// The client findings naming one server.
type Abusers<'a> = Vec<&'a Finding>;

/// One finding per public server that `server_abuse` findings (at medium or above, from distinct
/// clients) name at least `min_sources` times, unless an `inbound_attack` finding at medium or above
/// already names the server (it tells the attack; the clients' findings stand beside it).
pub fn crowds(found: &[Finding], min_sources: usize) -> Vec<Finding> {
    let attacked: Vec<&str> = found
        .iter()
        .filter(|f| f.kind == "inbound_attack" && f.score >= MEDIUM)
        .flat_map(|f| f.hosts.iter().map(String::as_str))
        .collect();
    let mut by_server: BTreeMap<&str, Abusers> = BTreeMap::new();
    for f in found
        .iter()
        .filter(|f| f.kind == "server_abuse" && f.score >= MEDIUM)
    {
        if let (Some(server), Some(_)) = (f.peers.first(), f.hosts.first()) {
            by_server.entry(server.as_str()).or_default().push(f);
        }
    }
    by_server
        .into_iter()
        .filter(|(server, a)| {
            distinct_clients(a) >= min_sources.max(2) && !attacked.contains(server)
        })
        .map(|(server, a)| crowd(server, a))
        .collect()
}

/// The lowest score of medium.
const MEDIUM: f64 = crate::findings::score::SEVERITY_BOUNDS[0];

fn distinct_clients(a: &Abusers) -> usize {
    let mut c: Vec<&str> = a
        .iter()
        .filter_map(|f| f.hosts.first().map(String::as_str))
        .collect();
    c.sort_unstable();
    c.dedup();
    c.len()
}

fn crowd(server: &str, mut a: Abusers) -> Finding {
    a.sort_by(|x, y| y.flows.cmp(&x.flows).then_with(|| x.hosts.cmp(&y.hosts)));
    let flows: u64 = a.iter().map(|f| f.flows).sum();
    let mut rows: Vec<u32> = a.iter().flat_map(|f| f.flow_rows.iter().copied()).collect();
    rows.sort_unstable();
    rows.dedup();
    let top: Vec<String> = a
        .iter()
        .take(5)
        .map(|f| format!("{} ({} flows)", f.hosts[0], f.flows))
        .collect();
    let first = a.iter().filter_map(|f| f.first_seen.clone()).min();
    let last = a.iter().filter_map(|f| f.last_seen.clone()).max();
    let score = a.iter().map(|f| f.score).fold(0.0, f64::max);
    let explanation = format!(
        "{} external clients abused public server {server}, each far beyond the server's typical client: {}{}; {flows} flows between {} and {}",
        a.len(),
        top.join(", "),
        if a.len() > top.len() { ", ..." } else { "" },
        first.as_deref().unwrap_or("?"),
        last.as_deref().unwrap_or("?"),
    );
    Finding {
        kind: "inbound_attack".into(),
        detector: "server_abuse".into(),
        score,
        hosts: vec![server.to_string()],
        peers: a.iter().flat_map(|f| f.hosts.first().cloned()).collect(),
        first_seen: first,
        last_seen: last,
        flows,
        flow_rows: rows,
        evidence: Evidence {
            metric: "external clients abusing one public server".into(),
            observed: a.len() as f64,
            baseline: None,
            threshold: None,
            explanation,
            details: json!({"abusive_clients": a.len()})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abuse(client: &str, server: &str, flows: u64, score: f64) -> Finding {
        Finding {
            kind: "server_abuse".into(),
            detector: "server_abuse".into(),
            score,
            hosts: vec![client.into()],
            peers: vec![server.into()],
            first_seen: Some(format!("2026-01-01T0{}:00:00Z", flows % 10)),
            last_seen: Some(format!("2026-01-01T1{}:00:00Z", flows % 10)),
            flows,
            flow_rows: vec![flows as u32, 1],
            ..Default::default()
        }
    }

    /// (name, findings, min sources, (server, abusers in order) of each crowd).
    type Case<'a> = (&'a str, Vec<Finding>, usize, Vec<(&'a str, Vec<&'a str>)>);

    #[test]
    fn crowds_table() {
        let (s, t) = ("198.51.100.10", "198.51.100.20");
        let cases: Vec<Case> = vec![
            (
                "one client is its own finding",
                vec![abuse("203.0.113.1", s, 900, 0.7)],
                2,
                vec![],
            ),
            (
                "two clients of one server, the busier first",
                vec![
                    abuse("203.0.113.1", s, 300, 0.7),
                    abuse("203.0.113.2", s, 900, 0.65),
                ],
                2,
                vec![(s, vec!["203.0.113.2", "203.0.113.1"])],
            ),
            (
                "two servers with one abuser each",
                vec![
                    abuse("203.0.113.1", s, 300, 0.7),
                    abuse("203.0.113.2", t, 900, 0.7),
                ],
                2,
                vec![],
            ),
            (
                "one client's two findings are one client",
                vec![
                    abuse("203.0.113.1", s, 300, 0.7),
                    abuse("203.0.113.1", s, 200, 0.7),
                ],
                2,
                vec![],
            ),
            (
                "a low finding is no abuser",
                vec![
                    abuse("203.0.113.1", s, 300, 0.7),
                    abuse("203.0.113.2", s, 900, 0.3),
                ],
                2,
                vec![],
            ),
            (
                "the server already attacked by inbound_attack's measure",
                vec![
                    abuse("203.0.113.1", s, 300, 0.7),
                    abuse("203.0.113.2", s, 900, 0.65),
                    Finding {
                        kind: "inbound_attack".into(),
                        score: 0.5,
                        hosts: vec![s.into()],
                        ..Default::default()
                    },
                ],
                2,
                vec![],
            ),
            (
                "three clients against a minimum of 4",
                vec![
                    abuse("203.0.113.1", s, 3, 0.7),
                    abuse("203.0.113.2", s, 4, 0.7),
                    abuse("203.0.113.3", s, 5, 0.7),
                ],
                4,
                vec![],
            ),
        ];
        for (name, found, min, want) in cases {
            let got: Vec<(String, Vec<String>)> = crowds(&found, min)
                .into_iter()
                .map(|f| (f.hosts[0].clone(), f.peers))
                .collect();
            let want: Vec<(String, Vec<String>)> = want
                .into_iter()
                .map(|(s, p)| (s.to_string(), p.into_iter().map(String::from).collect()))
                .collect();
            assert_eq!(got, want, "{name}");
        }
        let f = &crowds(
            &[
                abuse("203.0.113.1", s, 300, 0.7),
                abuse("203.0.113.2", s, 900, 0.65),
            ],
            2,
        )[0];
        assert_eq!(
            (f.kind.as_str(), f.flows, f.score),
            ("inbound_attack", 1200, 0.7)
        );
        assert_eq!(f.flow_rows, [1, 300, 900]);
        assert!(
            f.evidence
                .explanation
                .starts_with("2 external clients abused public server 198.51.100.10"),
            "{}",
            f.evidence.explanation
        );
    }
}
