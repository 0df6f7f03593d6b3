//! `dropper` on browsing workstations, end to end through the analysts' CSV: a loader fetching its
//! stages over plain HTTP from a server that served the host nothing else, and that no other host
//! knows, is found against a normal day; the same workstations' ordinary downloads from new sites
//! (pages with small objects, single files, sites shared with colleagues) are not.

mod detect_support;

use detect_support::browsing::{visits, workstation};
use detect_support::{csv_run, csv_self_run, Row};
use flowhound::config::Config;
use flowhound::findings::{Finding, Severity};

const DAY: i64 = 1_767_225_600; // 2026-01-01 00:00 UTC
const LOADER: &str = "203.0.113.50";

fn row(ts: i64, src: &str, dst: String, port: u16, up: u64, down: u64) -> Row {
    (ts, src.to_string(), dst, port, up, down)
}

/// A day of ten workstations (10.0.0.10-19), each browsing 40 sites (a page of 3 kB and two
/// 50-400 kB objects over HTTP, the rest over HTTPS), sites `first_site..` numbered per day, and
/// once a shared CDN file that every workstation fetches.
fn lan_day(day: i64, first_site: u32) -> Vec<Row> {
    let mut rows = Vec::new();
    for v in visits(day, first_site) {
        let (src, port) = (workstation(v.h), if v.s % 4 == 0 { 80 } else { 443 });
        rows.push(row(v.t, &src, v.site.clone(), port, 600, 3_000));
        for k in 0..2u64 {
            let size = 50_000 + 35_000 * u64::from((v.s + v.h) % 10) + k;
            rows.push(row(
                v.t + 2 + k as i64,
                &src,
                v.site.clone(),
                port,
                400,
                size,
            ));
        }
        // after each workstation's sites, its fetch of the CDN file
        if v.s == 39 {
            let cdn = "198.51.100.80".into();
            rows.push(row(day + 50_000, &src, cdn, 80, 500, 2_000_000));
        }
    }
    rows
}

fn droppers(found: &[Finding]) -> Vec<&Finding> {
    found.iter().filter(|f| f.kind == "dropper").collect()
}

#[test]
fn a_workstations_loader_stages_from_its_own_server_are_found_against_a_normal_day() {
    let normal = lan_day(DAY, 0);
    let mut test = lan_day(DAY + 86_400, 1_000);
    // single large downloads from three new addresses, and two colleagues' fetches from one new mirror
    for k in 0..3u8 {
        let t = DAY + 86_400 + 40_000 + i64::from(k) * 60;
        let dst = format!("198.51.100.{}", 20 + k);
        test.push(row(t, "10.0.0.11", dst, 80, 500, 9_000_000));
    }
    for (src, dt) in [
        ("10.0.0.13", 0),
        ("10.0.0.14", 30),
        ("10.0.0.13", 60),
        ("10.0.0.14", 90),
    ] {
        let t = DAY + 86_400 + 45_000 + dt;
        test.push(row(t, src, "198.51.100.9".into(), 80, 500, 700_000));
    }
    // the loader on 10.0.0.12: three stages minutes apart, nothing else with that server
    for (k, dt) in [0i64, 170, 420].into_iter().enumerate() {
        let t = DAY + 86_400 + 36_000 + dt;
        test.push(row(
            t,
            "10.0.0.12",
            LOADER.into(),
            80,
            300,
            400_000 + 250_000 * k as u64,
        ));
    }
    let config = Config::default();
    let found = csv_run(&normal, &test, &config, &["dropper"]);
    let found = droppers(&found);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = found[0];
    assert_eq!(
        (f.hosts.as_slice(), f.peers.as_slice()),
        (&["10.0.0.12".to_string()][..], &[LOADER.to_string()][..])
    );
    assert_eq!(f.flows, 3);
    assert!(f.severity >= Severity::Medium, "{f:#?}");
    assert!(
        f.evidence.explanation.contains("browsing host"),
        "{}",
        f.evidence.explanation
    );
    // single-capture mode cannot tell a server new to the network: a browsing host is left out
    assert!(droppers(&csv_self_run(&test, &config, &["dropper"])).is_empty());
    // the server known to the network on the normal day: nothing
    let mut known = normal.clone();
    known.push(row(
        DAY + 30_000,
        "10.0.0.17",
        LOADER.into(),
        443,
        700,
        9_000,
    ));
    assert!(droppers(&csv_run(&known, &test, &config, &["dropper"])).is_empty());
}
