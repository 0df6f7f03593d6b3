//! `botnet`, `cnc_beacon` and `port_scan` on generated data (five seeds, small flow counts, default
//! settings, decoys on), scored with the generator's ground truth (`flowhound_gen::evaluate`):
//! host-level recall 1.0 for each of the three kinds, no decoy at severity high or above.

mod detect_support;

use detect_support::{dataset, eval_doc};
use flowhound::findings::Severity;

const MINE: [&str; 3] = ["botnet", "cnc_beacon", "port_scan"];

#[test]
fn three_kinds_full_recall_no_high_decoy_over_five_seeds() {
    for seed in 601..=605 {
        let d = dataset(seed, 30_000);
        let findings = d.run(&MINE);
        let eval = flowhound_gen::evaluate(&d.truth, &eval_doc(&findings));
        for k in eval
            .per_kind
            .iter()
            .filter(|k| MINE.contains(&k.kind.name()))
        {
            println!(
                "seed {seed} {}: recall {:?} precision {:?} fp {:?}",
                k.kind.name(),
                k.recall,
                k.precision,
                k.false_positives
            );
            assert_eq!(
                k.recall,
                Some(1.0),
                "seed {seed} {}: missed {:?}",
                k.kind.name(),
                k.missed
            );
        }
        let truth_hosts = d.all_scenario_hosts();
        for f in findings
            .iter()
            .filter(|f| !f.hosts.iter().all(|h| truth_hosts.contains(h)))
        {
            println!(
                "  fp {} {:.3} {:?}: {}",
                f.kind, f.score, f.severity, f.evidence.explanation
            );
        }
        let decoys = d.decoy_hosts();
        for f in &findings {
            let hit: Vec<&String> = f.hosts.iter().filter(|h| decoys.contains(h)).collect();
            assert!(
                hit.is_empty() || f.severity < Severity::High,
                "seed {seed}: decoy {hit:?} at {:?}: {}",
                f.severity,
                f.evidence.explanation
            );
        }
        let botnet = d.scenario_hosts("botnet");
        let sets: Vec<_> = findings.iter().filter(|f| f.kind == "botnet").collect();
        assert!(
            sets.iter()
                .any(|f| botnet.iter().all(|h| f.hosts.contains(h))),
            "seed {seed}: one set holds every bot"
        );
        assert!(
            sets.iter().all(|f| f.severity >= Severity::High),
            "seed {seed}"
        );
    }
}
