//! `shared_cnc`: the other members of a botnet. Once every host's findings are merged and
//! corroborated, each C&C peer that a `cnc_beacon` or `cnc_channel` finding names at high or above, new
//! since the baseline and reached by few internal hosts, is looked up in the whole input's
//! statistics ([`TestGlobals::contacts_of`](super::globals::TestGlobals::contacts_of)): every other
//! internal host that originated flows to it gets a finding, scored from the C&C finding's score and
//! its own flows to the peer. A bot whose check-ins are too few or too irregular to be a beacon on its
//! own is found through the bot that is.

use super::behaviour::{geo_suffix, saturate};
use super::corroborate::HELD_SCORE;
use super::globals::{Contact, SHARED_DEST_MAX_HOSTS};
use super::{DetectCtx, Detector};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{format_ts, Evidence, Finding};
use crate::ip;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;

/// The detector.
pub struct SharedCnc;

/// Finding kinds whose headline peer is a C&C server.
pub const SOURCE_KINDS: [&str; 2] = ["cnc_beacon", "cnc_channel"];

/// `[detectors.shared_cnc]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SharedCncConfig {
    /// A C&C finding names its peer as C&C from this score up.
    pub min_source_score_ratio: f64,
    /// The peer is rare: reached by at most this share of the active internal hosts (and by at most
    /// [`SHARED_DEST_MAX_HOSTS`]).
    pub max_hosts_share_ratio: f64,
    /// Share of the C&C finding's score a member with many flows to the peer takes.
    pub member_weight_ratio: f64,
    /// A member's flows to the peer at which its evidence is half way from one flow to many.
    pub half_flows_count: u64,
    /// Smallest score reported.
    pub min_score_ratio: f64,
}

impl Default for SharedCncConfig {
    fn default() -> Self {
        SharedCncConfig {
            min_source_score_ratio: 0.6,
            max_hosts_share_ratio: 0.25,
            member_weight_ratio: 0.9,
            half_flows_count: 3,
            min_score_ratio: 0.3,
        }
    }
}

static SETTINGS: [Setting; 5] = [
    Setting {
        key: "min_source_score_ratio",
        doc: "a cnc_beacon or cnc_channel finding names its peer as C&C from this score up (0.6: high)",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "max_hosts_share_ratio",
        doc: "the C&C peer must be reached by at most this share of the active internal hosts",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "member_weight_ratio",
        doc: "share of the C&C finding's score another host reaching the peer takes (with many flows)",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "half_flows_count",
        doc: "a member's flows to the peer at which its evidence is half way from one flow to many",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "min_score_ratio",
        doc: "smallest score reported",
        range: Range::Float(0.0, 1.0),
    },
];

/// A member's score: `source x weight x (1/2 + 1/2 n/(n + half))` for `n` flows to the peer (one
/// flow half the evidence of many), held at the top of high ([`HELD_SCORE`]: the finding is
/// corroborated by the C&C finding it pivots on, but says nothing new about what the peer does).
pub fn member_score(source: f64, flows: u64, weight: f64, half: u64) -> f64 {
    let evidence = 0.5 + 0.5 * saturate(flows as f64, half as f64);
    (source * weight * evidence).clamp(0.0, HELD_SCORE)
}

/// Whether `hosts` of `active` internal hosts reaching a peer is few: at most `share` of them, and
/// at most [`SHARED_DEST_MAX_HOSTS`]; two hosts always count as few (the C&C host and one more).
pub fn rare_enough(hosts: usize, active: usize, share: f64) -> bool {
    hosts <= SHARED_DEST_MAX_HOSTS && (hosts <= 2 || hosts as f64 <= share * active as f64)
}

impl Detector for SharedCnc {
    type Config = SharedCncConfig;
    fn name(&self) -> &'static str {
        "shared_cnc"
    }
    fn description(&self) -> &'static str {
        "other internal hosts that reached a rare, new C&C peer a cnc_beacon or cnc_channel finding names at high"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn run(&self, _cfg: &SharedCncConfig, _ctx: &DetectCtx) -> Result<Vec<Finding>> {
        Ok(Vec::new()) // all its work is the pivot, after the merge
    }
    fn pivot(
        &self,
        c: &SharedCncConfig,
        found: &[Finding],
        ctx: &DetectCtx,
    ) -> Result<Vec<Finding>> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for src in found.iter().filter(|f| is_source(c, f)) {
            let Some(peer) = headline_peer(ctx, src).filter(|p| seen.insert(*p)) else {
                continue;
            };
            if let Some(contacts) = shared_contacts(c, ctx, peer) {
                out.extend(members(c, ctx, found, src, peer, &contacts));
            }
        }
        out.sort_by(crate::findings::ranked);
        Ok(out)
    }
}

/// A C&C finding strong enough to pivot on.
fn is_source(c: &SharedCncConfig, f: &Finding) -> bool {
    SOURCE_KINDS.contains(&f.kind.as_str()) && f.score >= c.min_source_score_ratio
}

/// The finding's first peer, when it is external and (against a normal-period baseline) new.
fn headline_peer(ctx: &DetectCtx, f: &Finding) -> Option<u128> {
    let text = f.peers.first()?;
    let peer = ip::parse(text).filter(|p| !ctx.nets.contains(*p))?;
    let b = ctx.baseline;
    (b.robust() || !b.external.destinations.contains_key(text)).then_some(peer)
}

/// The hosts that reached `peer`, when they are few.
fn shared_contacts(
    c: &SharedCncConfig,
    ctx: &DetectCtx,
    peer: u128,
) -> Option<Vec<(u128, Contact)>> {
    let g = ctx.globals();
    let contacts = g.contacts_of(peer);
    let active = g.internal_hosts.len();
    let few = rare_enough(contacts.len(), active, c.max_hosts_share_ratio);
    (few && !contacts.is_empty()).then_some(contacts)
}

/// One finding per other host that reached the peer, unless a finding of its own already names the
/// peer as C&C at least as strongly.
fn members(
    c: &SharedCncConfig,
    ctx: &DetectCtx,
    found: &[Finding],
    src: &Finding,
    peer: u128,
    contacts: &[(u128, Contact)],
) -> Vec<Finding> {
    let peer_text = ip::format(peer);
    let mut out = Vec::new();
    for (host, contact) in contacts {
        let h = ip::format(*host);
        let score = member_score(
            src.score,
            contact.flows,
            c.member_weight_ratio,
            c.half_flows_count,
        );
        let covered = found.iter().any(|f| {
            SOURCE_KINDS.contains(&f.kind.as_str())
                && f.hosts.contains(&h)
                && f.peers.first() == Some(&peer_text)
                && f.score >= score
        });
        if score >= c.min_score_ratio && !covered && !src.hosts.contains(&h) {
            out.push(finding(
                ctx,
                src,
                (*host, peer),
                contact,
                score,
                contacts.len(),
            ));
        }
    }
    out
}

fn finding(
    ctx: &DetectCtx,
    src: &Finding,
    (host, peer): (u128, u128),
    contact: &Contact,
    score: f64,
    reached_by: usize,
) -> Finding {
    let active = ctx.globals().internal_hosts.len();
    let novelty = if ctx.baseline.robust() {
        "baseline learned from this capture"
    } else {
        "new since the baseline"
    };
    let explanation = format!(
        "{} also reached {}{}, which {} names as C&C of {} ({}, score {:.2}): {} flows from {} to {}; the peer is reached by {reached_by} of {active} internal hosts, {novelty}",
        ip::format(host), ip::format(peer), geo_suffix(ctx.geo, peer), src.kind, src.hosts.join(", "),
        src.severity.as_str(), src.score, contact.flows, format_ts(contact.first_us), format_ts(contact.last_us),
    );
    let details = json!({
        "source_kind": src.kind, "source_hosts": src.hosts, "source_score": src.score,
        "flows": contact.flows, "destination_hosts": reached_by, "internal_hosts": active,
    });
    Finding {
        kind: "shared_cnc".into(),
        detector: "shared_cnc".into(),
        score,
        hosts: vec![ip::format(host)],
        peers: vec![ip::format(peer)],
        first_seen: Some(format_ts(contact.first_us)),
        last_seen: Some(format_ts(contact.last_us)),
        flows: contact.flows,
        evidence: Evidence {
            metric: "flows to a C&C peer another host's finding names".into(),
            observed: contact.flows as f64,
            baseline: None,
            threshold: None,
            explanation,
            details: details.as_object().cloned().unwrap_or_default(),
        },
        ..Default::default()
    }
}

/// Documentation for `docs/detectors.md`.
pub const DOC: &str = r#"## `shared_cnc`

**Looks at** the findings of the other detectors, once every host's are merged and corroborated, and
the whole input's statistics of who reached which external destination. It reads no flow itself, so
it runs unchanged out of core and on a cluster (the statistics come from one aggregation there).

**Rule.** A `cnc_beacon` or `cnc_channel` finding at `min_source_score_ratio` (0.6, high) or above
names its first peer as C&C. When that peer is new since the baseline (any peer on a baseline learned
from the capture itself, where novelty cannot be judged) and reached by few internal hosts (at most
`max_hosts_share_ratio` of the active ones, 2 always being few, and at most 32), every other internal
host that originated flows to it gets a `shared_cnc` finding:
`score = source x member_weight_ratio x (1/2 + 1/2 n/(n + half_flows_count))` for its `n` flows to
the peer, held at 0.79 (the top of high): the evidence is the other host's, so it never makes a
finding critical on its own. A host whose own C&C finding already names the peer at least as strongly
gets nothing more. The explanation names the C&C finding, its hosts and score, the host's flows and
first and last contact, and how many internal hosts reached the peer.

**Why.** The bots of one botnet check in on one schedule, but each bot's own record may be too short
or too irregular to be a beacon (a laptop off half the day: 8 check-ins with 40 % jitter), while the
bot on an always-on machine makes a clean one. An analyst pivots on the C&C address: so does this.
On the independent corporate simulator (`bench/othersim`, 36 configurations) this named 4 of the 7
botnet members no finding flagged at medium or above, and raised a fifth from medium to high, without
a finding on a benign host.

**Blind spots.** Members that reach the C&C through a proxy (the proxy is the only host seen);
botnets with more than 32 members inside, or with more than the share of the network (a worm's
spread looks like a rollout); a C&C that no member beacons to clearly enough for a high finding.
A false C&C finding at high spreads to the peer's other hosts: the rarity and novelty gates keep that
to peers few hosts reach for the first time.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_score_table() {
        // (source, flows, weight, half, want)
        let rows = [
            (0.9, 1, 0.9, 3, 0.9 * 0.9 * (0.5 + 0.5 * 0.25)),
            (0.9, 3, 0.9, 3, 0.9 * 0.9 * 0.75),
            (0.7, 8, 0.9, 3, 0.7 * 0.9 * (0.5 + 0.5 * 8.0 / 11.0)),
            (1.0, 1000, 1.0, 3, HELD_SCORE), // never critical on another host's evidence
            (0.0, 10, 0.9, 3, 0.0),
        ];
        for (source, flows, w, half, want) in rows {
            let got = member_score(source, flows, w, half);
            assert!(
                (got - want).abs() < 1e-9,
                "{source} {flows}: {got} != {want}"
            );
        }
    }

    #[test]
    fn rare_enough_table() {
        // (hosts, active, share, want)
        let rows = [
            (2, 3, 0.25, true),      // the C&C host and one more: always few
            (3, 10, 0.25, false),    // 30 % of the network
            (5, 65, 0.25, true),     // seed 19 of the corporate simulator
            (16, 65, 0.25, true),    // a quarter
            (17, 65, 0.25, false),   // more than a quarter
            (33, 2000, 0.25, false), // past the statistics' bound
            (32, 2000, 0.25, true),
            (1, 1, 0.25, true),
        ];
        for (hosts, active, share, want) in rows {
            assert_eq!(
                rare_enough(hosts, active, share),
                want,
                "{hosts} of {active}"
            );
        }
    }
}
