//! Per-flow volume outliers (`per_flow = true`) on generated data: every flow above the limit lands
//! in exactly one finding, of the host it is attributed to, whose evidence is the largest of them.

mod detect_support;

use detect_support::dataset;
use flowhound::config::Config;
use flowhound::detect::{run, DetectCtx};
use std::collections::BTreeMap;

#[test]
fn flagged_flows_grouped_per_host() {
    let mut d = dataset(21, 20_000);
    d.config = Config::from_toml(
        "[analysis]\nmin_severity = \"low\"\n[detectors.sigma]\nper_host = false\nper_flow = true\nmetrics = [\"up_bytes\"]\nmin_flow_bytes = 10000\n",
        "t.toml",
    )
    .unwrap();
    let ctx = DetectCtx::new(&d.test, &d.flows, &d.baseline, &d.geo, &d.nets, &d.config);
    let findings = run(&ctx, &["sigma".to_string()]).unwrap();
    assert!(!findings.is_empty(), "no per-flow outlier on seed 21");
    let thr = findings[0].evidence.threshold.unwrap();
    let f = &d.flows;
    let mut want: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for i in 0..f.len() {
        if f.up[i] >= 10_000 && f.up[i] as f64 > thr {
            let host = f.host_view(i, &d.nets).map_or(f.src[i], |h| h.host);
            want.entry(flowhound::ip::format(host))
                .or_default()
                .push(i as u32);
        }
    }
    let mut got: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for x in &findings {
        assert_eq!((x.kind.as_str(), x.hosts.len()), ("flow_outlier", 1));
        assert_eq!(x.evidence.threshold, Some(thr));
        assert_eq!(x.flows as usize, x.flow_rows.len());
        let largest = x.flow_rows.iter().map(|r| f.up[*r as usize]).max().unwrap();
        assert_eq!(x.evidence.observed, largest as f64, "{}", x.hosts[0]);
        assert!(
            x.flow_rows.windows(2).all(|w| w[0] < w[1]),
            "rows ascending"
        );
        got.insert(x.hosts[0].clone(), x.flow_rows.clone());
    }
    assert_eq!(got, want);
}
