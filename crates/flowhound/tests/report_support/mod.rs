//! A fixed report fixture shared by the report tests: five findings of different kinds with a hostile
//! PTR name, organisation and label, traffic numbers of the profile fixture, a small internal graph.

#![allow(dead_code)]

use flowhound::detect::flows::Flows;
use flowhound::findings::{
    severity, BaselineRef, Evidence, Finding, FindingsDoc, InputSummary, IpInfo,
};
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::InternalNets;
use flowhound::report::build::{inter_arrivals_secs, linear_histogram, median};
use flowhound::report::{Count, FindingChart, GraphEdge, ReportData, Threshold, Traffic};
use flowhound_geo::GeoStack;

/// Sets `window.__pwned` if it ever runs.
pub const HOSTILE_IMG: &str = "<img src=x onerror=\"window.__pwned='img'\">";
/// Sets `window.__pwned` if it ever runs.
pub const HOSTILE_SCRIPT: &str = "<script>window.__pwned='script'</script>";

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn finding(id: &str, kind: &str, score: f64, host: &str, peer: &str, explanation: &str) -> Finding {
    Finding {
        id: id.into(),
        kind: kind.into(),
        detector: kind.into(),
        score,
        severity: severity(score),
        hosts: vec![host.into()],
        peers: vec![peer.into()],
        first_seen: Some("2023-11-14T22:00:12.000000Z".into()),
        last_seen: Some("2023-11-15T03:10:00.000000Z".into()),
        flows: 12,
        evidence: Evidence {
            metric: "up_bytes per 3600 s window".into(),
            observed: 9.5e8,
            baseline: Some(2.0e4),
            threshold: Some(1.0e6),
            explanation: explanation.into(),
            details: Default::default(),
        },
        enrichment: [
            (host.to_string(), IpInfo::default()),
            (
                peer.to_string(),
                IpInfo {
                    country: Some("RU".into()),
                    asn: Some(64500),
                    org: Some(HOSTILE_IMG.into()),
                    name: Some(HOSTILE_SCRIPT.into()),
                },
            ),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    }
}

/// The five findings, in rank order.
pub fn findings() -> Vec<Finding> {
    vec![
        finding(
            "F1",
            "exfiltration",
            0.93,
            "192.168.1.12",
            "45.142.212.61",
            "uploaded 950 MB to 45.142.212.61 at night",
        ),
        finding(
            "F2",
            "cnc_beacon",
            0.81,
            "192.168.1.13",
            "203.0.113.9",
            "contacted 203.0.113.9 every 60 s",
        ),
        finding(
            "F3",
            "botnet",
            0.7,
            "192.168.1.22",
            "198.51.100.7",
            "synchronised bursts on tcp/6667",
        ),
        finding(
            "F4",
            "volume_outlier",
            0.45,
            "192.168.1.10",
            "8.8.8.8",
            HOSTILE_SCRIPT,
        ),
        finding(
            "F5",
            "unusual_country",
            0.2,
            "192.168.1.11",
            "1.1.1.1",
            "first contact with KP",
        ),
    ]
}

/// The findings document.
pub fn doc() -> FindingsDoc {
    let input = InputSummary {
        files: vec!["test.parquet".into()],
        rows_read: 5000,
        rows_skipped: 0,
        first_seen: Some("2023-11-14T22:00:12.000000Z".into()),
        last_seen: Some("2023-11-16T01:00:00.000000Z".into()),
    };
    let bref = BaselineRef {
        source: "normal".into(),
        inputs: vec!["normal.parquet".into()],
        flows: 20000,
    };
    let mut d = FindingsDoc::new(input, bref, vec!["sigma".into(), "mad".into()], findings());
    d.generator = "flowhound test".into();
    d
}

/// Traffic numbers of the profile fixture.
pub fn traffic() -> Traffic {
    let (batches, _) = read_all(
        &[format!("{ROOT}/tests/fixtures/profile/flows.parquet")],
        &ReadOptions::default(),
    )
    .expect("fixture reads");
    let flows = Flows::from_batches(&batches).expect("columns");
    Traffic::of(&flows, &InternalNets::new(Vec::new()), &GeoStack::new())
}

fn charts() -> Vec<(String, FindingChart)> {
    let ts: Vec<i64> = (0..40)
        .map(|i| 1_700_000_000_000_000 + i * 60_000_000 + (i % 3) * 1_500_000)
        .collect();
    let gaps = inter_arrivals_secs(&ts);
    let upload = FindingChart::Upload {
        host: "192.168.1.12".into(),
        window_secs: 3600,
        points: (0..24)
            .map(|h| {
                (
                    1_699_999_200 + h * 3600,
                    if h == 3 {
                        950_000_000
                    } else {
                        15_000 + (h as u64) * 500
                    },
                )
            })
            .collect(),
        baseline_bytes: Some(20_000.0),
        threshold_bytes: Some(1.0e6),
    };
    let members = FindingChart::Members {
        nodes: vec![
            "192.168.1.22".into(),
            "192.168.1.23".into(),
            "192.168.1.24".into(),
            "198.51.100.7".into(),
        ],
        edges: vec![
            ("192.168.1.22".into(), "198.51.100.7".into(), 30),
            ("192.168.1.23".into(), "198.51.100.7".into(), 28),
            ("192.168.1.24".into(), "192.168.1.22".into(), 5),
        ],
    };
    vec![
        ("F1".into(), upload),
        (
            "F2".into(),
            FindingChart::Intervals {
                bins: linear_histogram(&gaps, 20),
                median_secs: median(&gaps),
            },
        ),
        ("F3".into(), members),
    ]
}

/// The whole report fixture.
pub fn report() -> ReportData {
    let mut t = traffic();
    t.countries = vec![
        Count {
            key: "RU".into(),
            flows: 40,
            bytes: 950_000_000,
        },
        Count {
            key: "??".into(),
            flows: 4960,
            bytes: 400_000_000,
        },
    ];
    t.asns = vec![
        Count {
            key: format!("AS64500 {HOSTILE_IMG}"),
            flows: 40,
            bytes: 950_000_000,
        },
        Count {
            key: "AS15169 Google LLC".into(),
            flows: 900,
            bytes: 80_000_000,
        },
    ];
    let th = |metric: &str, rule: &str, v: f64| Threshold {
        metric: metric.into(),
        rule: rule.into(),
        value_bytes: v,
    };
    let edge = |s: &str, d: &str, flows: u64, new: bool| GraphEdge {
        src: s.into(),
        dst: d.into(),
        flows,
        new,
    };
    ReportData {
        title: format!("fixture report {HOSTILE_IMG}"),
        doc: doc(),
        settings: vec![
            ("label".into(), HOSTILE_IMG.into()),
            ("window".into(), "3600 s".into()),
        ],
        normal: Some(t.clone()),
        test: Some(t),
        thresholds: vec![
            th("up_bytes", "mean + 3 std", 30_000.0),
            th("up_bytes", "Q3 + 1.5 IQR", 6_495.0),
            th("down_bytes", "mean + 3 std", 400_000.0),
        ],
        graph: vec![
            edge("192.168.1.10", "192.168.1.2", 120, false),
            edge("192.168.1.12", "192.168.1.3", 4, true),
            edge("192.168.1.13", "192.168.1.2", 50, false),
        ],
        charts: charts().into_iter().collect(),
        attribution: vec!["Test data: no real database".into(), HOSTILE_SCRIPT.into()],
    }
}
