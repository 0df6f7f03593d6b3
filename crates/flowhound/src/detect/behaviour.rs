//! Shared plumbing of the behavioural detectors (`exfiltration`, `unusual_country`, `dns_anomaly`,
//! `server_abuse`, `off_hours`): a per-subject accumulator of the flows behind a finding, peer
//! descriptions with country and AS, and small pure helpers. The time texts (`span_text`,
//! `duration_text`, `window_text`) serve every detector's explanations.

use super::DetectCtx;
use crate::findings::{format_ts, Evidence, Finding};
use crate::ip;
use crate::output::table::human_bytes;
use ahash::AHashMap;
use flowhound_geo::{GeoInfo, GeoStack};

/// The flows behind one finding: rows, time span, and per-peer flows and bytes.
#[derive(Debug, Clone, Default)]
pub struct Span {
    /// Row numbers over the test input.
    pub rows: Vec<u32>,
    /// First flow start (microseconds).
    pub first: i64,
    /// Last flow start (microseconds).
    pub last: i64,
    /// Peer -> (flows, bytes).
    pub peers: AHashMap<u128, (u64, u64)>,
    /// Bytes counted.
    pub bytes: u64,
}

impl Span {
    /// Adds row `i` at `ts` with `peer` and `bytes`.
    pub fn add(&mut self, i: usize, ts: i64, peer: u128, bytes: u64) {
        if self.rows.is_empty() {
            (self.first, self.last) = (ts, ts);
        }
        self.rows.push(i as u32);
        self.first = self.first.min(ts);
        self.last = self.last.max(ts);
        let e = self.peers.entry(peer).or_default();
        e.0 += 1;
        e.1 += bytes;
        self.bytes += bytes;
    }

    /// Peers by importance: alternately the next busiest by bytes and by flows (see
    /// [`interleave_bytes_flows`]), so that a chatty zero-byte peer (failed C&C connections) is not
    /// pushed out of a capped list by bulky downloads.
    pub fn ranked_peers(&self) -> Vec<(u128, u64, u64)> {
        let v: Vec<(u128, u64, u64)> = self.peers.iter().map(|(p, (f, b))| (*p, *f, *b)).collect();
        interleave_bytes_flows(v)
    }

    /// The finding built from this span (rows sorted, peers ranked by bytes).
    pub fn finding(
        mut self,
        kind: &str,
        detector: &str,
        score: f64,
        hosts: Vec<String>,
        evidence: Evidence,
    ) -> Finding {
        self.rows.sort_unstable();
        let peers = self
            .ranked_peers()
            .into_iter()
            .map(|(p, _, _)| ip::format(p))
            .collect();
        Finding {
            kind: kind.into(),
            detector: detector.into(),
            score: score.clamp(0.0, 1.0),
            hosts,
            peers,
            first_seen: (!self.rows.is_empty()).then(|| format_ts(self.first)),
            last_seen: (!self.rows.is_empty()).then(|| format_ts(self.last)),
            flows: self.rows.len() as u64,
            flow_rows: self.rows,
            evidence,
            ..Default::default()
        }
    }
}

/// `AS123 Org` or `AS123` from one geo answer; with `org_alone`, the organisation alone when only it
/// is known.
fn as_label(g: &GeoInfo, org_alone: bool) -> Option<String> {
    match (g.asn, g.org.as_deref()) {
        (Some(a), Some(o)) => Some(format!("AS{a} {o}")),
        (Some(a), None) => Some(format!("AS{a}")),
        (None, Some(o)) if org_alone => Some(o.to_string()),
        _ => None,
    }
}

/// `ADDR (CC, AS123 Org)` for an address, with what the geo stack knows (`??` for an unknown
/// country; an organisation without AS number is left out).
pub fn describe_peer(geo: &GeoStack, peer: u128) -> String {
    let g = geo.lookup_u128(peer);
    let cc = g
        .country
        .map_or_else(|| "??".to_string(), |c| c.to_string());
    let asn = as_label(&g, false).map_or_else(String::new, |a| format!(", {a}"));
    format!("{} ({cc}{asn})", ip::format(peer))
}

/// ` (RU, AS12345 Example)` with only what the geo stack knows, or nothing when it knows nothing:
/// the volume and beacon explanations put it after the address.
pub fn geo_suffix(geo: &GeoStack, peer: u128) -> String {
    let g = geo.lookup_u128(peer);
    let parts: Vec<String> = g
        .country
        .map(|c| c.to_string())
        .into_iter()
        .chain(as_label(&g, true))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// The top `n` peers of a span as `ADDR (CC, ASn Org): BYTES in F flows`, joined by `; `.
pub fn peers_text(ctx: &DetectCtx, span: &Span, n: usize) -> String {
    let ranked = span.ranked_peers();
    let mut parts: Vec<String> = ranked
        .iter()
        .take(n)
        .map(|(p, f, b)| {
            format!(
                "{}: {} in {f} flows",
                describe_peer(ctx.geo, *p),
                human_bytes(*b as f64)
            )
        })
        .collect();
    if ranked.len() > n {
        parts.push(format!("+{} more", ranked.len() - n));
    }
    parts.join("; ")
}

/// Whether `hosts` of a network's `of` hosts make a destination the network's own habit: at least
/// `min_hosts` of them and at least `share` of all (`cnc_channel`'s prevalent destinations, the volume
/// detectors' fleet downloads).
pub fn prevalent(hosts: u64, of: u64, share: f64, min_hosts: u64) -> bool {
    hosts >= min_hosts && hosts as f64 >= share * of as f64
}

/// `HH:MM` UTC of a timestamp (microseconds), with the date when `with_date`.
pub fn clock(ts_us: i64, with_date: bool) -> String {
    let fmt = if with_date { "%Y-%m-%d %H:%M" } else { "%H:%M" };
    chrono::DateTime::from_timestamp_micros(ts_us)
        .map_or_else(|| ts_us.to_string(), |t| t.format(fmt).to_string())
}

/// `hourly`, `daily` or `per 600 s window`.
pub fn window_text(secs: u64) -> String {
    match secs {
        3600 => "hourly".into(),
        86_400 => "daily".into(),
        s => format!("per-{s}-s-window"),
    }
}

/// `between 01:00 and 04:00 UTC on 2026-03-04` (or with dates on both ends when they differ).
pub fn span_text(first_us: i64, last_us: i64) -> String {
    let f = format_ts(first_us);
    let l = format_ts(last_us);
    let (fd, ft) = (f.get(..10).unwrap_or(""), f.get(11..16).unwrap_or(""));
    let (ld, lt) = (l.get(..10).unwrap_or(""), l.get(11..16).unwrap_or(""));
    if f == l {
        format!("at {ft} UTC on {fd}")
    } else if fd == ld {
        format!("between {ft} and {lt} UTC on {fd}")
    } else {
        format!("between {fd} {ft} and {ld} {lt} UTC")
    }
}

/// `45 min`, `3.2 h`, `12 s`.
pub fn duration_text(secs: f64) -> String {
    if secs >= 5400.0 {
        format!("{:.1} h", secs / 3600.0)
    } else if secs >= 90.0 {
        format!("{:.0} min", secs / 60.0)
    } else {
        format!("{secs:.1} s")
    }
}

/// True for DNS: udp or tcp to port 53.
pub fn is_dns(proto: crate::schema::Proto, dst_port: u16) -> bool {
    use crate::schema::Proto;
    dst_port == 53 && matches!(proto, Proto::Udp | Proto::Tcp)
}

/// Parses CIDR settings, naming the key in errors.
pub fn parse_cidrs(key: &str, items: &[String]) -> crate::error::Result<Vec<flowhound_geo::Cidr>> {
    items
        .iter()
        .map(|c| {
            flowhound_geo::Cidr::parse(c).map_err(|e| {
                crate::error::FlowError::Config(format!(
                    "{key}: '{c}' is not a CIDR block ({e}); write e.g. 200.0.0.0/24"
                ))
            })
        })
        .collect()
}

/// Logistic squashing of a non-negative strength into [0, 1): `x / (x + half)` (0.5 at `half`).
pub fn saturate(x: f64, half: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || half.is_nan() || half <= 0.0 {
        return 0.0;
    }
    if x.is_infinite() {
        return 1.0;
    }
    x / (x + half)
}

/// `(peer, flows, bytes)` ordered alternately by decreasing bytes and decreasing flows (ties by
/// address), each peer once: the first is the busiest by bytes, the second the busiest by flows
/// among the rest, and so on.
pub fn interleave_bytes_flows(mut v: Vec<(u128, u64, u64)>) -> Vec<(u128, u64, u64)> {
    let mut by_flows = v.clone();
    v.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    by_flows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    let (n, lists) = (v.len(), [v, by_flows]);
    let (mut idx, mut seen) = ([0usize; 2], ahash::AHashSet::new());
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let k = out.len() % 2;
        while idx[k] < n && seen.contains(&lists[k][idx[k]].0) {
            idx[k] += 1;
        }
        let Some(p) = lists[k].get(idx[k]).copied() else {
            break;
        };
        seen.insert(p.0);
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturate_table() {
        let cases = [
            (0.0, 1.0, 0.0),
            (1.0, 1.0, 0.5),
            (3.0, 1.0, 0.75),
            (f64::NAN, 1.0, 0.0),
            (-2.0, 1.0, 0.0),
            (f64::INFINITY, 1.0, 1.0),
            (1.0, 0.0, 0.0),
        ];
        for (x, h, want) in cases {
            assert!((saturate(x, h) - want).abs() < 1e-12, "{x} {h}");
        }
    }

    #[test]
    fn span_ranks_peers_and_keeps_time() {
        let mut s = Span::default();
        s.add(5, 30, 2, 10);
        s.add(1, 10, 1, 100);
        s.add(7, 20, 2, 10);
        assert_eq!((s.first, s.last, s.bytes), (10, 30, 120));
        assert_eq!(s.ranked_peers(), vec![(1, 1, 100), (2, 2, 20)]);
        let f = s.finding("k", "d", 2.0, vec![], Evidence::default());
        assert_eq!((f.flow_rows, f.score, f.flows), (vec![1, 5, 7], 1.0, 3));
    }

    #[test]
    fn interleave_table() {
        // (peer, flows, bytes): 1 and 2 are bulky, 3 is a chatty zero-byte peer, 4 small
        let peers = vec![(1, 2, 900), (2, 3, 800), (3, 237, 0), (4, 1, 10)];
        let got: Vec<u128> = interleave_bytes_flows(peers).iter().map(|p| p.0).collect();
        assert_eq!(got, [1, 3, 2, 4]);
        let got: Vec<u128> = interleave_bytes_flows(vec![(7, 5, 5), (6, 5, 5)])
            .iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(got, [6, 7]);
        assert!(interleave_bytes_flows(Vec::new()).is_empty());
    }

    #[test]
    fn text_helpers() {
        assert_eq!(window_text(3600), "hourly");
        assert_eq!(window_text(600), "per-600-s-window");
        let h = 3_600_000_000i64;
        assert_eq!(
            span_text(h, 4 * h),
            "between 01:00 and 04:00 UTC on 1970-01-01"
        );
        assert_eq!(
            span_text(h, 30 * h),
            "between 1970-01-01 01:00 and 1970-01-02 06:00 UTC"
        );
        assert_eq!(span_text(h, h), "at 01:00 UTC on 1970-01-01");
    }
    #[test]
    fn duration_text_table() {
        assert_eq!(duration_text(12.0), "12.0 s");
        assert_eq!(duration_text(2700.0), "45 min");
        assert_eq!(duration_text(3.0 * 3600.0), "3.0 h");
    }

    #[test]
    fn peer_texts() {
        let org = |asn: Option<u32>, org: Option<&str>| GeoInfo {
            asn,
            org: org.map(Into::into),
            ..Default::default()
        };
        let cases = [
            (Some(1), Some("O"), Some("AS1 O"), Some("AS1 O")),
            (Some(1), None, Some("AS1"), Some("AS1")),
            (None, Some("O"), None, Some("O")),
            (None, None, None, None),
        ];
        for (a, o, strict, loose) in cases {
            let g = org(a, o);
            assert_eq!(as_label(&g, false).as_deref(), strict, "{a:?} {o:?}");
            assert_eq!(as_label(&g, true).as_deref(), loose, "{a:?} {o:?}");
        }
        let empty = GeoStack::new();
        let v = ip::parse("8.8.8.8").unwrap();
        assert_eq!(describe_peer(&empty, v), "8.8.8.8 (??)");
        assert_eq!(geo_suffix(&empty, v), "");
        let geo = GeoStack::from_options(&[], &[], true).unwrap();
        let full = describe_peer(&geo, v);
        assert!(full.starts_with("8.8.8.8 (US, AS15169 "), "{full}");
        assert_eq!(
            format!("8.8.8.8{}", geo_suffix(&geo, v)),
            full,
            "both forms agree when everything is known"
        );
    }

    #[test]
    fn dns_and_clock() {
        use crate::schema::Proto;
        assert!(
            is_dns(Proto::Udp, 53)
                && is_dns(Proto::Tcp, 53)
                && !is_dns(Proto::Icmp, 53)
                && !is_dns(Proto::Udp, 5353)
        );
        assert_eq!(clock(3_600_000_000 + 120_000_000, false), "01:02");
        assert_eq!(clock(0, true), "1970-01-01 00:00");
    }
}
