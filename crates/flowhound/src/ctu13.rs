//! The CTU-13 error metric (García, Grill, Stiborek, Zunino, "An empirical comparison of botnet
//! detection methods", Computers & Security 45, 2014): detections are judged per time window and
//! per source IP, not per flow.
//!
//! In each window, every source IP with labelled flows is botnet (at least one malicious flow) or
//! normal (only normal flows; background flows are ignored). Against the verdicts:
//! TP = botnet IP flagged at least once in the window, FN = botnet IP never flagged, FP = normal IP
//! flagged, TN = normal IP never flagged.
//!
//! The weighted variant rewards early detection. With `i` the window's number (the first window of
//! the capture is 1), `n_b` / `n_n` the numbers of botnet / normal IPs of that window and α = 0.01:
//! `tTP += TP · (e^{−α·i} + 1) / n_b`, `tFN += FN · (e^{−α·i} + 1) / n_b`, `tFP += FP / n_n`,
//! `tTN += TN / n_n`; rates and F1 are then computed from the weighted sums as from plain counts.
//! This is the authors' reference implementation (`BotnetDetectorsComparer.py`, Stratosphere
//! Lab, v0.9: `correcting_function = exp(-alpha * window_id) + 1`, window ids from 1, α = 0.01).

use std::collections::{BTreeMap, BTreeSet};

/// The paper's α.
pub const ALPHA: f64 = 0.01;

/// What a flow's label says of its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Truth {
    /// A malicious flow (binetflow `From-Botnet`, Zeek/IoT-23 `Malicious`).
    Botnet,
    /// A normal flow (`From-Normal`, `Benign`).
    Normal,
}

/// The class of a label text: binetflow `flow=From-Botnet-…` (and the malware captures'
/// `flow=Malware-…`) is botnet, `flow=From-Normal-…` / `flow=Normal-…` normal, anything else there
/// (`Background`, `To-Botnet`, `To-Normal`) is ignored; Zeek/IoT-23 `Malicious …` / `Benign …` (any
/// case). `None` = ignored.
pub fn classify(label: &str) -> Option<Truth> {
    let l = label.trim().to_ascii_lowercase();
    let l = l.strip_prefix("flow=").unwrap_or(&l);
    let any = |p: &[&str]| p.iter().any(|x| l.starts_with(x));
    if any(&["from-botnet", "malicious", "malware"]) {
        Some(Truth::Botnet)
    } else if any(&["from-normal", "normal", "benign"]) {
        Some(Truth::Normal)
    } else {
        None
    }
}

/// Per (window, source IP): botnet when any of its flows there is botnet, else normal.
pub fn truth_windows(
    flows: impl Iterator<Item = (i64, u128, Truth)>,
    window_us: i64,
) -> BTreeMap<(i64, u128), Truth> {
    let mut m: BTreeMap<(i64, u128), Truth> = BTreeMap::new();
    for (ts, ip, t) in flows {
        let e = m
            .entry((crate::verdicts::window_of(ts, window_us), ip))
            .or_insert(t);
        *e = (*e).min(t); // Botnet < Normal
    }
    m
}

/// Counts and rates of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Counts {
    /// True positives.
    pub tp: f64,
    /// False positives.
    pub fp: f64,
    /// True negatives.
    pub tn: f64,
    /// False negatives.
    pub r#fn: f64,
}

impl Counts {
    /// TP / (TP + FN), `None` without botnet IPs.
    pub fn tpr(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.r#fn)
    }
    /// FP / (FP + TN), `None` without normal IPs.
    pub fn fpr(&self) -> Option<f64> {
        ratio(self.fp, self.fp + self.tn)
    }
    /// TP / (TP + FP), `None` when nothing was flagged.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }
    /// (TP + TN) / all.
    pub fn accuracy(&self) -> Option<f64> {
        ratio(self.tp + self.tn, self.tp + self.tn + self.fp + self.r#fn)
    }
    /// Harmonic mean of precision and TPR (0 when both are 0).
    pub fn f1(&self) -> Option<f64> {
        let (p, r) = (self.precision()?, self.tpr()?);
        Some(if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        })
    }
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

/// The metric: plain counts over all windows, and the weighted variant.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Ctu13 {
    /// Windows with labelled sources.
    pub windows: usize,
    /// Distinct botnet IPs.
    pub botnet_ips: usize,
    /// Distinct normal IPs (never botnet in any window).
    pub normal_ips: usize,
    /// Sums of TP, FP, TN, FN over the windows.
    pub plain: Counts,
    /// The time-decay weighted sums.
    pub weighted: Counts,
}

/// Scores `flagged` (the (window, IP) pairs judged malicious) against `truth`, windows of
/// `window_us` (the number `i` counts windows from the first one with labelled flows, which is 1).
pub fn score(
    truth: &BTreeMap<(i64, u128), Truth>,
    flagged: &BTreeSet<(i64, u128)>,
    window_us: i64,
) -> Ctu13 {
    let mut by_window: BTreeMap<i64, Vec<(u128, Truth)>> = BTreeMap::new();
    for (&(w, ip), &t) in truth {
        by_window.entry(w).or_default().push((ip, t));
    }
    let first = by_window.keys().next().copied().unwrap_or(0);
    let window_us = window_us.max(1);
    let mut out = Ctu13 {
        windows: by_window.len(),
        ..Ctu13::default()
    };
    for (&w, ips) in &by_window {
        let i = ((w - first) / window_us) as f64 + 1.0;
        let mut c = Counts::default();
        for &(ip, t) in ips {
            let hit = flagged.contains(&(w, ip));
            match (t, hit) {
                (Truth::Botnet, true) => c.tp += 1.0,
                (Truth::Botnet, false) => c.r#fn += 1.0,
                (Truth::Normal, true) => c.fp += 1.0,
                (Truth::Normal, false) => c.tn += 1.0,
            }
        }
        add_window(&mut out, &c, i);
    }
    let botnet: BTreeSet<u128> = truth
        .iter()
        .filter(|(_, t)| **t == Truth::Botnet)
        .map(|((_, ip), _)| *ip)
        .collect();
    let all: BTreeSet<u128> = truth.keys().map(|(_, ip)| *ip).collect();
    out.botnet_ips = botnet.len();
    out.normal_ips = all.difference(&botnet).count();
    out
}

fn add_window(out: &mut Ctu13, c: &Counts, i: f64) {
    let (p, w) = (&mut out.plain, &mut out.weighted);
    p.tp += c.tp;
    p.fp += c.fp;
    p.tn += c.tn;
    p.r#fn += c.r#fn;
    let (n_b, n_n) = (c.tp + c.r#fn, c.fp + c.tn);
    let decay = (-ALPHA * i).exp() + 1.0;
    if n_b > 0.0 {
        w.tp += c.tp * decay / n_b;
        w.r#fn += c.r#fn * decay / n_b;
    }
    if n_n > 0.0 {
        w.fp += c.fp / n_n;
        w.tn += c.tn / n_n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_both_formats() {
        for (l, want) in [
            ("flow=From-Botnet-V42-UDP-DNS", Some(Truth::Botnet)),
            ("flow=From-Normal-V42-Jist", Some(Truth::Normal)),
            ("flow=Background-TCP-Established", None),
            ("flow=To-Botnet-V42-UDP", None),
            ("flow=Malware-UDP-DNS", Some(Truth::Botnet)),
            ("flow=Normal-V44-HTTP", Some(Truth::Normal)),
            ("Malicious", Some(Truth::Botnet)),
            ("malicious   PartOfAHorizontalPortScan", Some(Truth::Botnet)),
            ("Benign", Some(Truth::Normal)),
            ("BENIGN", Some(Truth::Normal)),
            ("-", None),
            ("", None),
        ] {
            assert_eq!(classify(l), want, "{l}");
        }
    }

    #[test]
    fn a_window_with_one_botnet_flow_makes_the_ip_botnet() {
        let t = truth_windows(
            [
                (0, 1, Truth::Normal),
                (5, 1, Truth::Botnet),
                (10, 2, Truth::Normal),
            ]
            .into_iter(),
            100,
        );
        assert_eq!(
            t,
            BTreeMap::from([((0, 1), Truth::Botnet), ((0, 2), Truth::Normal)])
        );
    }

    /// Two windows of 100: window 0 has bots {1, 2} and normals {3, 4}; window 1 has bot {1} and
    /// normal {3}. Flagged: (0,1), (0,3), (1,1). By hand: window 0 TP 1 FN 1 FP 1 TN 1; window 1
    /// TP 1 FP 0 TN 1. Weighted (window numbers from 1): window 0 decay e^-0.01 + 1 = 1.99005:
    /// tTP = tFN = 1.99005/2, tFP = tTN = 1/2; window 1 decay e^-0.02 + 1: tTP += 1.98020/1,
    /// tTN += 1/1.
    #[test]
    fn hand_worked_two_windows() {
        use Truth::{Botnet as B, Normal as N};
        let truth = BTreeMap::from([
            ((0, 1), B),
            ((0, 2), B),
            ((0, 3), N),
            ((0, 4), N),
            ((100, 1), B),
            ((100, 3), N),
        ]);
        let flagged = BTreeSet::from([(0, 1), (0, 3), (100, 1)]);
        let s = score(&truth, &flagged, 100);
        assert_eq!((s.windows, s.botnet_ips, s.normal_ips), (2, 2, 2));
        assert_eq!(
            s.plain,
            Counts {
                tp: 2.0,
                fp: 1.0,
                tn: 2.0,
                r#fn: 1.0
            }
        );
        let (d1, d2) = ((-0.01f64).exp() + 1.0, (-0.02f64).exp() + 1.0);
        let w = s.weighted;
        assert!((w.tp - (d1 / 2.0 + d2)).abs() < 1e-12);
        assert!((w.r#fn - d1 / 2.0).abs() < 1e-12);
        assert!((w.fp - 0.5).abs() < 1e-12 && (w.tn - 1.5).abs() < 1e-12);
        assert!((s.plain.tpr().unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.plain.fpr().unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert!((s.plain.precision().unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((w.tpr().unwrap() - (d1 / 2.0 + d2) / (d1 + d2)).abs() < 1e-12);
    }

    #[test]
    fn empty_inputs_give_no_rates() {
        let s = score(&BTreeMap::new(), &BTreeSet::new(), 100);
        assert_eq!(s.windows, 0);
        assert!(s.plain.tpr().is_none() && s.plain.f1().is_none());
    }
}
