//! Per-window verdicts for the standard evaluation (CTU-13 error metric, Garcia et al. 2014): one row
//! per (internal source IP, time window) in which that IP sent a flow, `malicious` when some finding
//! blames the IP in that window, else `normal`. A finding blames a host in the windows where flows
//! behind it that involve the host start (the metric labels a window by the flows that start in it: a
//! 12-hour C&C connection blames its first window, not the eleven after it); a finding read back from
//! JSON, which carries no flows, blames its span `[first_seen, last_seen]`.
//!
//! Columns of `--verdicts FILE.csv`: `window_start,ip,verdict,score,kinds` — the window start in
//! RFC 3339 UTC, the address, the verdict, the highest score of the findings blaming it there (0 when
//! none) and their kinds, space-separated and sorted.

use crate::findings::{format_ts, Finding};
use crate::output::atomic::AtomicFile;
use crate::Result;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

/// The verdict of a malicious row.
pub const MALICIOUS: &str = "malicious";
/// The verdict of a normal row.
pub const NORMAL: &str = "normal";

/// One finding's blame: its hosts over `[start_us, end_us]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Blame {
    /// Blamed addresses.
    pub hosts: Vec<u128>,
    /// First flow, microseconds.
    pub start_us: i64,
    /// Last flow, microseconds.
    pub end_us: i64,
    /// The finding's score.
    pub score: f64,
    /// The finding's kind.
    pub kind: String,
    /// (start second, host) of the flows behind it, sorted ([`Finding::evidence_at`]); empty: the
    /// span counts.
    pub at: Vec<(i64, u128)>,
}

impl Blame {
    /// Whether the blame names `ip` in the window `[w, w + window_us)`.
    fn hits(&self, ip: u128, w: i64, window_us: i64) -> bool {
        if self.at.is_empty() {
            return self.start_us < w + window_us && self.end_us >= w;
        }
        if window_of(w, window_us) != w {
            return false; // not a window start: no flow's window
        }
        // the stamps whose start lies in [w, w + window_us), found by bisection (`at` is sorted)
        let before = |end: i64| move |&(s, _): &(i64, u128)| s.saturating_mul(1_000_000) < end;
        let lo = self.at.partition_point(before(w));
        let hi = self.at.partition_point(before(w.saturating_add(window_us)));
        self.at[lo..hi].iter().any(|&(_, h)| h == ip)
    }
}

/// Fills each finding's [`Finding::evidence_at`] from its `flow_rows` over `flows`: the start second of
/// every flow behind it, with each of its hosts the flow involves (source or destination).
pub fn stamp(findings: &mut [Finding], flows: &crate::detect::flows::Flows) {
    for f in findings {
        let hosts: Vec<u128> = f.hosts.iter().filter_map(|h| crate::ip::parse(h)).collect();
        let mut at: Vec<(i64, u128)> = Vec::new();
        for &r in &f.flow_rows {
            let r = r as usize;
            let (Some(&ts), Some(&s), Some(&d)) =
                (flows.ts.get(r), flows.src.get(r), flows.dst.get(r))
            else {
                continue;
            };
            let sec = ts.div_euclid(1_000_000);
            at.extend(
                hosts
                    .iter()
                    .filter(|&&h| h == s || h == d)
                    .map(|&h| (sec, h)),
            );
        }
        at.sort_unstable();
        at.dedup();
        f.evidence_at = at;
    }
}

/// One verdict row.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Window start, microseconds (a multiple of the window length).
    pub window_start_us: i64,
    /// The source address.
    pub ip: u128,
    /// Whether a finding blames it in this window.
    pub malicious: bool,
    /// Highest score of those findings (0 when none).
    pub score: f64,
    /// Their kinds, sorted.
    pub kinds: Vec<String>,
}

/// The window containing `ts_us` for windows of `window_us`: `floor(ts / w) * w`.
pub fn window_of(ts_us: i64, window_us: i64) -> i64 {
    ts_us.div_euclid(window_us) * window_us
}

/// The (window, source) pairs with at least one flow, for sources `keep` accepts.
pub fn active_windows(
    ts: &[i64],
    src: &[u128],
    window_us: i64,
    keep: impl Fn(u128) -> bool,
) -> BTreeSet<(i64, u128)> {
    ts.iter()
        .zip(src)
        .filter(|(_, s)| keep(**s))
        .map(|(t, s)| (window_of(*t, window_us), *s))
        .collect()
}

/// An RFC 3339 time (as `window_start` and the findings' times are written) in microseconds.
pub fn parse_ts(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp_micros())
}

/// Kinds whose hosts are the victims, not the sources, of what was found: an internal server scanned or
/// brute-forced from outside did nothing wrong, so it is not blamed in the verdicts.
pub const VICTIM_KINDS: [&str; 1] = ["inbound_attack"];

/// The blames of `findings` (findings without a parsable time span blame the whole capture); findings
/// of [`VICTIM_KINDS`] blame nobody.
pub fn blames(findings: &[Finding]) -> Vec<Blame> {
    let ts = |s: &Option<String>, dflt: i64| s.as_deref().and_then(parse_ts).unwrap_or(dflt);
    findings
        .iter()
        .filter(|f| !VICTIM_KINDS.contains(&f.kind.as_str()))
        .map(|f| Blame {
            hosts: f.hosts.iter().filter_map(|h| crate::ip::parse(h)).collect(),
            start_us: ts(&f.first_seen, i64::MIN),
            end_us: ts(&f.last_seen, i64::MAX),
            score: f.score,
            kind: f.kind.clone(),
            at: f.evidence_at.clone(),
        })
        .collect()
}

/// One verdict per active (window, source): malicious when a blame names the source in the window
/// `[start, start + window_us)` ([`Blame::hits`]). Rows are ordered by window, then address.
pub fn verdicts(active: &BTreeSet<(i64, u128)>, blames: &[Blame], window_us: i64) -> Vec<Verdict> {
    let mut by_host: BTreeMap<u128, Vec<&Blame>> = BTreeMap::new();
    for b in blames {
        for h in &b.hosts {
            by_host.entry(*h).or_default().push(b);
        }
    }
    active
        .iter()
        .map(|&(w, ip)| {
            let hits: Vec<&&Blame> = by_host
                .get(&ip)
                .map(|v| v.iter().filter(|b| b.hits(ip, w, window_us)).collect())
                .unwrap_or_default();
            let kinds: BTreeSet<String> = hits.iter().map(|b| b.kind.clone()).collect();
            Verdict {
                window_start_us: w,
                ip,
                malicious: !hits.is_empty(),
                score: hits.iter().map(|b| b.score).fold(0.0, f64::max),
                kinds: kinds.into_iter().collect(),
            }
        })
        .collect()
}

/// Writes `rows` as CSV (`window_start,ip,verdict,score,kinds`), atomically.
pub fn write_csv(path: &Path, rows: &[Verdict]) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    let err = |e: std::io::Error| crate::output::atomic::out_err(path, e);
    writeln!(f.writer(), "window_start,ip,verdict,score,kinds").map_err(err)?;
    for r in rows {
        let verdict = if r.malicious { MALICIOUS } else { NORMAL };
        writeln!(
            f.writer(),
            "{},{},{verdict},{:.4},{}",
            format_ts(r.window_start_us),
            crate::ip::format(r.ip),
            r.score,
            r.kinds.join(" ")
        )
        .map_err(err)?;
    }
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000;

    fn blame(host: u128, start_us: i64, end_us: i64, score: f64, kind: &str) -> Blame {
        Blame {
            hosts: vec![host],
            start_us,
            end_us,
            score,
            kind: kind.into(),
            at: Vec::new(),
        }
    }

    #[test]
    fn windows_floor_to_the_length() {
        for (ts, w, want) in [
            (0, H, 0),
            (H - 1, H, 0),
            (H, H, H),
            (-1, H, -H),
            (5 * H + 7, 2 * H, 4 * H),
        ] {
            assert_eq!(window_of(ts, w), want, "{ts} {w}");
        }
    }

    #[test]
    fn active_windows_keep_only_accepted_sources() {
        let got = active_windows(&[0, 10, H + 5, 2 * H], &[1, 1, 2, 9], H, |s| s != 9);
        assert_eq!(got, BTreeSet::from([(0, 1), (H, 2)]));
    }

    #[test]
    fn blame_spans_overlap_windows() {
        let active = BTreeSet::from([(0, 1), (H, 1), (2 * H, 1), (H, 2), (3 * H, 1)]);
        // Finding on host 1 from 0:30 to 2:00 exactly; a second, weaker one at 1:10.
        let b = [
            blame(1, H / 2, 2 * H, 0.9, "cnc_beacon"),
            blame(1, H + H / 6, H + H / 6, 0.4, "dos"),
        ];
        let v = verdicts(&active, &b, H);
        let table: Vec<(i64, u128, bool, f64, String)> = v
            .iter()
            .map(|r| {
                (
                    r.window_start_us,
                    r.ip,
                    r.malicious,
                    r.score,
                    r.kinds.join(" "),
                )
            })
            .collect();
        assert_eq!(
            table,
            vec![
                (0, 1, true, 0.9, "cnc_beacon".into()),
                (H, 1, true, 0.9, "cnc_beacon dos".into()),
                (H, 2, false, 0.0, String::new()),
                (2 * H, 1, true, 0.9, "cnc_beacon".into()), // last_seen at the window's first instant
                (3 * H, 1, false, 0.0, String::new()),
            ]
        );
    }

    /// A finding with flows blames its hosts in the windows where those flows start, not the windows
    /// its span crosses: a 12-hour connection opened at 0:10 and re-opened at 11:20 (host 1), and
    /// another host's flow in the same finding (host 2 at 5:00).
    #[test]
    fn blames_with_flows_name_the_windows_of_their_flows() {
        let s = |us: i64| us / 1_000_000;
        let mut b = blame(1, H / 6, 12 * H, 0.8, "cnc_channel");
        b.hosts.push(2);
        b.at = vec![(s(H / 6), 1), (s(5 * H), 2), (s(11 * H + H / 3), 1)];
        let active: BTreeSet<(i64, u128)> =
            (0..12).flat_map(|w| [(w * H, 1), (w * H, 2)]).collect();
        let bad: Vec<(i64, u128)> = verdicts(&active, &[b.clone()], H)
            .into_iter()
            .filter(|r| r.malicious)
            .map(|r| (r.window_start_us / H, r.ip))
            .collect();
        assert_eq!(bad, vec![(0, 1), (5, 2), (11, 1)]);
        // two-hour windows: the same flows, coarser
        let bad2: Vec<(i64, u128)> = verdicts(&active, &[b], 2 * H)
            .into_iter()
            .filter(|r| r.malicious)
            .map(|r| (r.window_start_us / H, r.ip))
            .collect();
        assert_eq!(bad2, vec![(0, 1), (4, 2), (10, 1)]);
    }

    #[test]
    fn stamps_pair_each_flow_with_the_hosts_it_involves() {
        use crate::detect::flows::Flows;
        let ip = |t: &str| crate::ip::parse(t).unwrap();
        let (a, b, x) = (ip("10.0.0.1"), ip("10.0.0.2"), ip("203.0.113.9"));
        let flows = Flows {
            ts: vec![1_500_000, 7_200_000_000, 7_200_999_999, -1],
            src: vec![a, b, x, a],
            dst: vec![x, x, a, b],
            ..Flows::default()
        };
        let mut f = Finding {
            hosts: vec!["10.0.0.1".into(), "10.0.0.2".into()],
            flow_rows: vec![0, 1, 2, 3, 99], // 99: no such row, skipped
            ..Finding::default()
        };
        stamp(std::slice::from_mut(&mut f), &flows);
        let want = vec![(-1, a), (-1, b), (1, a), (7200, a), (7200, b)];
        assert_eq!(f.evidence_at, want);
    }

    #[test]
    fn findings_without_times_blame_the_whole_capture() {
        let f = Finding {
            hosts: vec!["10.0.0.1".into(), "not an ip".into()],
            kind: "botnet".into(),
            score: 0.7,
            ..Finding::default()
        };
        let victim = Finding {
            hosts: vec!["10.0.0.2".into()],
            kind: "inbound_attack".into(),
            score: 0.9,
            ..Finding::default()
        };
        let b = blames(&[f, victim]);
        assert_eq!(b.len(), 1, "the victim of an inbound attack is not blamed");
        assert_eq!(b[0].hosts.len(), 1);
        assert_eq!((b[0].start_us, b[0].end_us), (i64::MIN, i64::MAX));
    }

    #[test]
    fn csv_has_the_documented_columns() {
        let dir = std::env::temp_dir().join(format!("fh-verdicts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("v.csv");
        let ip = crate::ip::parse("192.168.1.5").unwrap();
        let rows = verdicts(
            &BTreeSet::from([(0, ip)]),
            &[blame(ip, 0, 1, 0.5, "dos")],
            H,
        );
        write_csv(&p, &rows).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "window_start,ip,verdict,score,kinds\n1970-01-01T00:00:00.000000Z,192.168.1.5,malicious,0.5000,dos\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
