//! `threat_intel`: flows between internal hosts and addresses on user-supplied blocklists (plain
//! IP/CIDR lists, CSV, Spamhaus DROP, FireHOL netsets). Nothing is fetched: the lists are files given
//! with `--intel FILE` or `[detectors.threat_intel] files`. One finding per internal host, naming
//! each list and entry that matched.

use super::behaviour::{describe_peer, saturate, Span};
use super::intel_list::{Entry, IntelList};
use super::{DetectCtx, Detector};
use crate::config::{Config, Range, Setting};
use crate::error::Result;
use crate::findings::{Evidence, Finding};
use crate::ip;
use crate::output::table::human_bytes;
use ahash::AHashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The detector.
pub struct ThreatIntel;

/// `[detectors.threat_intel]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThreatIntelConfig {
    /// Blocklist files (paths relative to the working directory); `--intel FILE` adds to them.
    pub files: Vec<String>,
    /// Skip (and count) lines that are not addresses instead of stopping with an error.
    pub skip_bad_lines: bool,
    /// A flow carrying at most this many bytes (both ways) exchanged nothing.
    pub tiny_flow_bytes: u64,
}

impl Default for ThreatIntelConfig {
    fn default() -> Self {
        ThreatIntelConfig {
            files: Vec::new(),
            skip_bad_lines: false,
            tiny_flow_bytes: 128,
        }
    }
}

static SETTINGS: [Setting; 3] = [
    Setting {
        key: "files",
        doc: "blocklist files (IP/CIDR lines, CSV, Spamhaus DROP, FireHOL netsets); --intel FILE adds one",
        range: Range::Strings,
    },
    Setting {
        key: "skip_bad_lines",
        doc: "skip and count list lines that are not addresses instead of stopping with an error",
        range: Range::Bool,
    },
    Setting {
        key: "tiny_flow_bytes",
        doc: "a flow with at most this many bytes (up + down), or nothing back, exchanged no data",
        range: Range::Int(0, 1_000_000),
    },
];

/// Adds `--intel` files to the `[detectors.threat_intel] files` of a config.
pub fn add_files(config: &mut Config, files: &[String]) {
    if files.is_empty() {
        return;
    }
    let mut section = config.detector_section("threat_intel");
    if let Some(t) = section.as_table_mut() {
        let list = t
            .entry("files")
            .or_insert_with(|| toml::Value::Array(Vec::new()));
        if let Some(a) = list.as_array_mut() {
            a.extend(files.iter().map(|f| toml::Value::String(f.clone())));
        }
    }
    config.detectors.insert("threat_intel".into(), section);
}

/// How a host met a listed peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contact {
    /// The listed peer reached the host and nothing came of it (blocked scan, refused connection).
    InboundAttempt,
    /// The host tried to reach the listed peer and nothing came back (blocked or dead C&C).
    OutboundAttempt,
    /// Data flowed both ways.
    Exchanged,
}

/// The contact class of one flow: exchanged when something came back and the flow carried more
/// than `tiny` bytes; otherwise an attempt in the direction of the flow.
pub fn contact(originator: bool, up: u64, down: u64, tiny: u64) -> Contact {
    if super::public_servers::served(up, down, tiny) {
        Contact::Exchanged
    } else if originator {
        Contact::OutboundAttempt
    } else {
        Contact::InboundAttempt
    }
}

/// The score of a host's strongest contact with `n` such flows: exchanged
/// `0.7 + 0.09 s` (high), an outbound attempt `0.45 + 0.15 s` (medium: an infected host calling a
/// listed address is worth a look even when blocked), an inbound attempt `0.2 + 0.15 s` (low: the
/// Internet's scanners knock on every exposed address), with `s = n / (n + 10)`.
pub fn score(c: Contact, n: u64) -> f64 {
    let s = saturate(n as f64, 10.0);
    match c {
        Contact::Exchanged => 0.7 + 0.09 * s,
        Contact::OutboundAttempt => 0.45 + 0.15 * s,
        Contact::InboundAttempt => 0.2 + 0.15 * s,
    }
}

/// Per (host, listed peer): flows by contact class and bytes.
#[derive(Default)]
struct PeerHits {
    by_contact: [u64; 3],
    sent: u64,
    received: u64,
    outbound: u64,
}

impl PeerHits {
    fn best(&self) -> Option<(Contact, u64)> {
        [
            Contact::Exchanged,
            Contact::OutboundAttempt,
            Contact::InboundAttempt,
        ]
        .into_iter()
        .find(|c| self.by_contact[*c as usize] > 0)
        .map(|c| (c, self.by_contact[c as usize]))
    }
}

#[derive(Default)]
struct HostHits {
    span: Span,
    peers: AHashMap<u128, PeerHits>,
}

/// The matches of one address: `(list index, entry)` for every list holding it.
type Matches<'a> = Vec<(usize, &'a Entry)>;

impl Detector for ThreatIntel {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = ThreatIntelConfig;
    fn name(&self) -> &'static str {
        "threat_intel"
    }
    fn description(&self) -> &'static str {
        "flows with addresses on user-supplied blocklists (IP/CIDR, CSV, Spamhaus DROP, FireHOL); nothing is fetched"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn run(&self, cfg: &ThreatIntelConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        let lists = cfg
            .files
            .iter()
            .map(|f| IntelList::load(f, cfg.skip_bad_lines))
            .collect::<Result<Vec<_>>>()?;
        if lists.iter().all(|l| l.entries.is_empty()) {
            return Ok(Vec::new());
        }
        let hosts = gather(ctx, cfg, &lists);
        let mut out: Vec<Finding> = hosts
            .into_iter()
            .map(|(h, hits)| finding(ctx, &lists, h, hits))
            .collect();
        out.sort_by(|a, b| a.hosts.cmp(&b.hosts));
        Ok(out)
    }
}

/// Matches every flow's external end (never an internal or non-routable address: lists such as
/// FireHOL level1 hold the bogons on purpose) against the lists, one lookup per distinct address.
fn gather(
    ctx: &DetectCtx,
    cfg: &ThreatIntelConfig,
    lists: &[IntelList],
) -> AHashMap<u128, HostHits> {
    let f = ctx.flows;
    let mut cache: AHashMap<u128, Matches> = AHashMap::new();
    let mut hosts: AHashMap<u128, HostHits> = AHashMap::new();
    for i in 0..f.len() {
        let Some(v) = f.host_view(i, ctx.nets) else {
            continue;
        };
        if ctx.nets.contains(v.peer) || flowhound_geo::is_private_u128(v.peer) {
            continue;
        }
        let m = cache.entry(v.peer).or_insert_with(|| {
            lists
                .iter()
                .enumerate()
                .filter_map(|(k, l)| l.lookup(v.peer).map(|e| (k, e)))
                .collect()
        });
        if m.is_empty() {
            continue;
        }
        let c = contact(v.originator, f.up[i], f.down[i], cfg.tiny_flow_bytes);
        let h = hosts.entry(v.host).or_default();
        h.span.add(i, f.ts[i], v.peer, f.up[i] + f.down[i]);
        let p = h.peers.entry(v.peer).or_default();
        p.by_contact[c as usize] += 1;
        p.sent += v.sent;
        p.received += v.received;
        p.outbound += u64::from(v.originator);
    }
    hosts
}

fn contact_text(c: Contact) -> &'static str {
    match c {
        Contact::Exchanged => "exchanged data",
        Contact::OutboundAttempt => "attempts from the host, nothing back",
        Contact::InboundAttempt => "attempts from the listed address, nothing exchanged",
    }
}

fn matches_text(lists: &[IntelList], peer: u128) -> (String, Vec<serde_json::Value>) {
    let mut texts = Vec::new();
    let mut json = Vec::new();
    for l in lists {
        if let Some(e) = l.lookup(peer) {
            let note = if e.note.is_empty() {
                String::new()
            } else {
                format!(" {}", e.note)
            };
            texts.push(format!("{} ({}{note})", l.name, e.text));
            json.push(json!({"list": l.name, "entry": e.text, "note": e.note}));
        }
    }
    (texts.join(", "), json)
}

fn finding(ctx: &DetectCtx, lists: &[IntelList], host: u128, hits: HostHits) -> Finding {
    // peers by strength of contact, then flows
    let mut ranked: Vec<(u128, Contact, u64, &PeerHits)> = hits
        .peers
        .iter()
        .filter_map(|(p, h)| h.best().map(|(c, n)| (*p, c, n, h)))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    let (top, top_c, top_n, top_h) = ranked[0];
    let score = score(top_c, top_n);
    let cap = ctx.config.analysis.max_peers_count as usize;
    let mut details_peers = Vec::new();
    for (p, c, n, h) in ranked.iter().take(cap) {
        let (_, m) = matches_text(lists, *p);
        details_peers.push(json!({
            "peer": ip::format(*p), "contact": contact_text(*c), "flows": n,
            "outbound_flows": h.outbound, "bytes_sent": h.sent, "bytes_received": h.received,
            "matches": m,
        }));
    }
    let (mtext, _) = matches_text(lists, top);
    let more = if ranked.len() > 1 {
        format!("; {} more listed peer(s)", ranked.len() - 1)
    } else {
        String::new()
    };
    let explanation = format!(
        "{} and listed {}: {} in {} flow(s) ({}; sent {}, received {}), on {mtext}{more}",
        ip::format(host),
        describe_peer(ctx.geo, top),
        contact_text(top_c),
        top_n,
        if top_h.outbound > 0 {
            "host initiated"
        } else {
            "peer initiated"
        },
        human_bytes(top_h.sent as f64),
        human_bytes(top_h.received as f64),
    );
    let lists_json: Vec<serde_json::Value> = lists
        .iter()
        .map(|l| json!({"list": l.name, "file": l.path, "entries": l.entries.len(), "skipped_lines": l.skipped_lines}))
        .collect();
    let mut details = serde_json::Map::new();
    details.insert("listed_peers".into(), json!(ranked.len()));
    details.insert("matches".into(), json!(details_peers));
    details.insert("lists".into(), json!(lists_json));
    let evidence = Evidence {
        metric: "flows with addresses on blocklists".into(),
        observed: top_n as f64,
        baseline: None,
        threshold: None,
        explanation,
        details,
    };
    // peers: the strongest contacts first
    let mut f = hits.span.finding(
        "threat_intel",
        "threat_intel",
        score,
        vec![ip::format(host)],
        evidence,
    );
    f.peers = ranked.iter().map(|r| ip::format(r.0)).collect();
    f
}

/// Documentation for `docs/detectors.md`.
pub const DOC: &str = r#"## `threat_intel`

**Looks at** the external end of every flow of an internal host, against the blocklists given with
`--intel FILE` (repeatable, on `analyze` and `detect`) or `[detectors.threat_intel] files`. Nothing
is fetched: download the lists yourself. With no list the detector does nothing.

**Formats** (recognised per line, so one file may mix them): blank lines and comments (`#`, `;`,
`//`) are skipped; otherwise the first field, up to `,`, `;`, a tab, a space or `#`, is an IPv4 or
IPv6 address, a CIDR block (host bits cleared) or a range `A-B`, and the rest of the line is kept
as the entry's note. This covers plain IP/CIDR lists, FireHOL `.netset`/`.ipset`, Spamhaus DROP
(`1.10.16.0/20 ; SBL256894`), Spamhaus JSON lines (`{"cidr": ..., "sblid": ...}`, the metadata
record skipped) and CSV with the address in the first column (quotes allowed). The first data line
may be a CSV header when it has a field separator. The list name is the file stem
(`firehol_level1.netset` -> `firehol_level1`). Relative paths are relative to the working directory.

**Bad lines.** Strict by default: a line that is none of the above stops the run with an error
naming the file, the line and the fix. `skip_bad_lines = true` skips such lines instead; their count
is in each finding's `details.lists[].skipped_lines`.

**Matching.** Each list becomes a sorted array of disjoint address ranges (nested and overlapping
entries are cut at their ends, each piece labelled with the most specific entry covering it), searched
by binary search over the `u128` address integers (IPv4 mapped as everywhere in flowhound), once per
distinct external address. Internal and non-routable addresses (RFC 1918, loopback, link-local,
multicast, documentation ranges) are never matched: lists such as FireHOL level1 contain the bogons
on purpose, for firewalls.

**Score** (one finding per internal host; its strongest contact with any listed peer, `n` its flows,
`s = n / (n + 10)`): data exchanged (something came back and the flow carried more than
`tiny_flow_bytes`) `0.7 + 0.09 s` (high); the host's own attempts with nothing back (a blocked or dead
C&C) `0.45 + 0.15 s` (medium); attempts of the listed address that came to nothing `0.2 + 0.15 s`
(low: every exposed address receives them). The evidence names, per listed peer, the contact, flows,
bytes, and every list and entry (with its note) that holds it.

**Blind spots.** Only as good as the lists: stale entries (re-assigned cloud addresses) give false
positives, and fresh infrastructure is not listed yet. Domain lists are not supported.

**Tuning.** Prefer small curated lists (Spamhaus DROP, FireHOL level1) over broad reputation feeds;
`tiny_flow_bytes` decides what counts as an exchange.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_table() {
        let cases = [
            (true, 0, 0, Contact::OutboundAttempt),
            (false, 0, 0, Contact::InboundAttempt),
            (true, 60, 40, Contact::OutboundAttempt),
            (false, 60, 40, Contact::InboundAttempt),
            (true, 300, 0, Contact::OutboundAttempt),
            (true, 300, 1200, Contact::Exchanged),
            (false, 90, 50, Contact::Exchanged),
        ];
        for (orig, up, down, want) in cases {
            assert_eq!(contact(orig, up, down, 128), want, "{orig} {up} {down}");
        }
    }

    #[test]
    fn score_table() {
        use crate::findings::{severity, Severity};
        let cases = [
            (Contact::Exchanged, 1, Severity::High),
            (Contact::Exchanged, 1000, Severity::High),
            (Contact::OutboundAttempt, 1, Severity::Medium),
            (Contact::OutboundAttempt, 1000, Severity::Medium),
            (Contact::InboundAttempt, 1, Severity::Low),
            (Contact::InboundAttempt, 1000, Severity::Low),
        ];
        for (c, n, want) in cases {
            assert_eq!(severity(score(c, n)), want, "{c:?} {n}");
        }
        assert!((score(Contact::Exchanged, 10) - 0.745).abs() < 1e-12);
    }

    #[test]
    fn add_files_extends_the_config() {
        let mut c =
            Config::from_toml("[detectors.threat_intel]\nfiles = [\"a.txt\"]\n", "t").unwrap();
        add_files(&mut c, &["b.netset".into()]);
        let s = c.detector_section("threat_intel");
        let got: ThreatIntelConfig = s.try_into().unwrap();
        assert_eq!(got.files, ["a.txt", "b.netset"]);
        let mut d = Config::default();
        add_files(&mut d, &["x".into()]);
        let got: ThreatIntelConfig = d.detector_section("threat_intel").try_into().unwrap();
        assert_eq!((got.files.len(), got.tiny_flow_bytes), (1, 128));
    }
}
