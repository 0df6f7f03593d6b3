//! `unusual_country`: internal hosts talking to countries (or AS numbers) absent or rare in the
//! baseline, prevalence-aware; one finding per host listing the countries with flows and bytes.

use super::behaviour::{describe_peer, saturate, Span};
use super::corroborate::{external_population, MIN_HOSTS_FOR_RARITY};
use super::{DetectCtx, Detector};
use crate::baseline::{Baseline, HostProfile, KeyCount, Prevalence};
use crate::config::{Range, Setting};
use crate::error::Result;
use crate::findings::{Evidence, Finding};
use crate::ip;
use crate::output::table::human_bytes;
use ahash::{AHashMap, AHashSet};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// The detector.
pub struct UnusualCountry;

/// `[detectors.unusual_country]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UnusualCountryConfig {
    /// A country contacted by fewer baseline hosts than this is rare.
    pub country_min_hosts_count: u64,
    /// An AS contacted by fewer baseline hosts than this is rare (only for usual countries).
    pub asn_min_hosts_count: u64,
    /// Flows a host needs to a country in its own profile for the country to be usual for it.
    pub own_min_flows_count: u64,
    /// Flows to unusual countries a host needs before it is reported.
    pub min_flows_count: u64,
    /// Flows to unusual AS numbers in usual countries a host needs before it is reported for them alone.
    pub asn_min_flows_count: u64,
    /// Weight of an AS-only novelty (the country itself is usual).
    pub asn_weight: f64,
    /// Weight of a rare (seen, but by few hosts) country; an absent one weighs 1.
    pub rare_weight: f64,
    /// Flows at which the flow factor of the score reaches one half.
    pub half_score_flows_count: u64,
    /// AS organisations (case-insensitive substrings) of anycast networks, whose addresses have no
    /// country: left out.
    pub anycast_orgs: Vec<String>,
    /// A peer that at least this share of the network's active hosts reached in the test input is a
    /// popular site (a CDN address moved, an update rollout), not one host's choice: left out.
    pub fleet_share_ratio: f64,
    /// Hosts a fleet peer also needs.
    pub fleet_min_hosts_count: u64,
    /// Countries a host reached in the baseline that make it a gateway (a proxy, a mail relay, a
    /// resolver): new places are its daily business, held low.
    pub broad_host_min_countries_count: u64,
    /// Unusual places whose flows all fall within this many seconds are one visit (a page and its
    /// assets), reported low: a relationship returns.
    pub one_visit_max_secs: u64,
    /// Share of a normal-period baseline's hosts whose day had a rare country in it, from which one
    /// host's new place is daily business (the long tail of browsing): held low (0: off). 0.01: one
    /// host in a hundred.
    pub routine_explorer_share_ratio: f64,
}

/// Anycast CDN and proxy networks: one address answers from hundreds of cities, so the country a
/// database gives it is where the block was registered, not where the visitor went.
pub const ANYCAST_ORGS: [&str; 7] = [
    "Cloudflare",
    "Fastly",
    "Akamai International",
    "Akamai Technologies",
    "Incapsula",
    "Edgecast",
    "CDN77",
];

impl Default for UnusualCountryConfig {
    fn default() -> Self {
        UnusualCountryConfig {
            country_min_hosts_count: 3,
            asn_min_hosts_count: 1,
            own_min_flows_count: 3,
            min_flows_count: 2,
            asn_min_flows_count: 10,
            asn_weight: 0.4,
            rare_weight: 0.7,
            half_score_flows_count: 5,
            anycast_orgs: ANYCAST_ORGS.iter().map(|s| s.to_string()).collect(),
            fleet_share_ratio: 0.25,
            fleet_min_hosts_count: 3,
            broad_host_min_countries_count: 20,
            one_visit_max_secs: 1800,
            routine_explorer_share_ratio: 0.01,
        }
    }
}

static SETTINGS: [Setting; 14] = [
    Setting {
        key: "country_min_hosts_count",
        doc: "a country contacted by fewer baseline hosts is rare",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "asn_min_hosts_count",
        doc: "an AS contacted by fewer baseline hosts is rare (checked in usual countries)",
        range: Range::Int(0, 1_000_000),
    },
    Setting {
        key: "own_min_flows_count",
        doc: "baseline flows of the host itself that make a country/AS usual for it",
        range: Range::Int(1, 1_000_000_000),
    },
    Setting {
        key: "min_flows_count",
        doc: "flows to unusual countries before a host is reported",
        range: Range::Int(1, 1_000_000_000),
    },
    Setting {
        key: "asn_min_flows_count",
        doc:
            "flows to unusual AS numbers (usual countries) before a host is reported for them alone",
        range: Range::Int(1, 1_000_000_000),
    },
    Setting {
        key: "asn_weight",
        doc: "weight of an AS-only novelty",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "rare_weight",
        doc: "weight of a rare (not absent) country",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "half_score_flows_count",
        doc: "flows at which the flow factor of the score is one half",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "anycast_orgs",
        doc: "AS organisations (case-insensitive substrings) of anycast CDNs, whose addresses have no country: left out",
        range: Range::Strings,
    },
    Setting {
        key: "fleet_share_ratio",
        doc: "a peer that at least this share of the network's active hosts reached in the test input is a popular site, not one host's choice: left out (0 disables)",
        range: Range::Float(0.0, 1.0),
    },
    Setting {
        key: "fleet_min_hosts_count",
        doc: "hosts a fleet peer also needs",
        range: Range::Int(1, 1_000_000_000),
    },
    Setting {
        key: "broad_host_min_countries_count",
        doc: "countries a host reached in the baseline that make it a gateway (a proxy, a mail relay, a resolver) whose new places are held low",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "one_visit_max_secs",
        doc: "unusual places whose flows all fall within this many seconds are one visit (a page and its assets): reported low (0 disables)",
        range: Range::Int(0, 1_000_000_000),
    },
    Setting {
        key: "routine_explorer_share_ratio",
        doc: "share of the normal baseline's hosts whose day had a rare country in it from which a host's new places are daily business: held low (0 disables)",
        range: Range::Float(0.0, 1.0),
    },
];

/// How unusual a place is for a host: 1 absent from the baseline, `rare_weight` rare, 0 usual.
/// `prevalence` is the baseline's (hosts that contacted it), `own_flows` the host's own baseline flows.
/// `population` is the number of internal hosts in the baseline: a place every host contacted is
/// never rare (on a one-host capture nothing is, since prevalence then says nothing).
pub fn rarity(
    prevalence: Option<&Prevalence>,
    own_flows: u64,
    min_hosts: u64,
    own_min_flows: u64,
    rare_weight: f64,
    population: u64,
) -> f64 {
    if own_flows >= own_min_flows {
        return 0.0;
    }
    match prevalence.map_or(0, |p| p.hosts) {
        0 => 1.0,
        h if h < min_hosts.min(population) => rare_weight,
        _ => 0.0,
    }
}

/// The score: `0.2 + 0.5 * w * flows / (flows + half) + 0.1 [two or more places]`, clamped.
pub fn score(weight: f64, flows: u64, half: u64, places: usize) -> f64 {
    let s = 0.2
        + 0.5 * weight.clamp(0.0, 1.0) * saturate(flows as f64, half as f64)
        + if places >= 2 { 0.1 } else { 0.0 };
    s.clamp(0.0, 1.0)
}

/// True when a host has at least `min_flows_count` flows to unusual countries or at least
/// `asn_min_flows_count` flows to unusual AS numbers of usual countries.
pub fn reportable(country_flows: u64, asn_flows: u64, cfg: &UnusualCountryConfig) -> bool {
    country_flows >= cfg.min_flows_count || asn_flows >= cfg.asn_min_flows_count
}

fn own_flows(profile: Option<&HostProfile>, key: &str, asn: bool) -> u64 {
    let Some(p) = profile else { return 0 };
    let list = if asn { &p.asns } else { &p.countries };
    list.iter().find(|k| k.key == key).map_or(0, |k| k.flows)
}

/// One unusual place of one host.
#[derive(Default)]
struct Place {
    weight: f64,
    asn_only: bool,
    flows: u64,
    bytes: u64,
}

#[derive(Default)]
struct HostAcc {
    span: Span,
    places: BTreeMap<String, Place>,
}

impl Detector for UnusualCountry {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = UnusualCountryConfig;
    fn name(&self) -> &'static str {
        "unusual_country"
    }
    fn description(&self) -> &'static str {
        "hosts talking to countries or AS numbers absent or rare in the baseline (prevalence-aware)"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn run(&self, cfg: &UnusualCountryConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        if ctx.baseline.robust() && external_population(ctx.baseline) < MIN_HOSTS_FOR_RARITY as u64
        {
            // a capture of one or two devices: every place they use is "rare among hosts"
            return Ok(Vec::new());
        }
        let accs = accumulate(cfg, ctx);
        let explorers = explorers(
            ctx.baseline,
            cfg.country_min_hosts_count,
            cfg.min_flows_count,
        );
        let mut out: Vec<Finding> = accs
            .into_iter()
            .filter_map(|(h, a)| judge(cfg, ctx, explorers, h, a))
            .collect();
        out.sort_by(|a, b| a.hosts.cmp(&b.hosts));
        Ok(out)
    }
}

/// An unusual place: its label, its weight, and whether the country is usual and only the AS is not
/// (`CC/ASn Org`).
type Unusual = (String, f64, bool);

/// True for a peer whose place says nothing about a host's choice: an anycast network's address, or
/// one a fleet of the network's hosts reached in the test input.
fn placeless(cfg: &UnusualCountryConfig, ctx: &DetectCtx, peer: u128) -> bool {
    let g = ctx.globals();
    let (hosts, active) = (g.hosts_of(peer), g.internal_hosts.len() as u64);
    super::volume::is_fleet(
        hosts,
        active,
        cfg.fleet_share_ratio,
        cfg.fleet_min_hosts_count,
    ) || ctx
        .geo
        .org_u128(peer)
        .is_some_and(|o| super::cnc_beacon::is_trusted_org(&o, &cfg.anycast_orgs))
}

/// The unusual place of a flow from `host` to `peer`, if any.
fn place_of(
    cfg: &UnusualCountryConfig,
    ctx: &DetectCtx,
    host: u128,
    peer: u128,
) -> Option<Unusual> {
    let ext = &ctx.baseline.external;
    // A self-learned baseline contains the test itself: only prevalence counts then.
    let profile = ctx.baseline.host(host).filter(|_| !ctx.baseline.robust());
    let population = ctx.baseline.hosts.len() as u64;
    let cc = ctx
        .geo
        .country_u128(peer)
        .map_or_else(|| "??".to_string(), |c| c.to_string());
    let w = rarity(
        ext.countries.get(&cc),
        own_flows(profile, &cc, false),
        cfg.country_min_hosts_count,
        cfg.own_min_flows_count,
        cfg.rare_weight,
        population,
    );
    if w > 0.0 {
        return Some((cc, w, false));
    }
    let asn = ctx.geo.asn_u128(peer)?.to_string();
    let w = rarity(
        ext.asns.get(&asn),
        own_flows(profile, &asn, true),
        cfg.asn_min_hosts_count,
        cfg.own_min_flows_count,
        cfg.rare_weight,
        population,
    );
    let org = ctx
        .geo
        .org_u128(peer)
        .map_or_else(String::new, |o| format!(" {o}"));
    (w > 0.0).then(|| (format!("{cc}/AS{asn}{org}"), w * cfg.asn_weight, true))
}

fn accumulate(cfg: &UnusualCountryConfig, ctx: &DetectCtx) -> AHashMap<u128, HostAcc> {
    let f = ctx.flows;
    let mut cache: AHashMap<(u128, u128), Option<Unusual>> = AHashMap::new();
    // whether a peer has a place at all is the same for every host: asked once per peer
    let mut placeless_peers: AHashMap<u128, bool> = AHashMap::new();
    let mut accs: AHashMap<u128, HostAcc> = AHashMap::new();
    for i in 0..f.len() {
        let Some(v) = f.host_view(i, ctx.nets) else {
            continue;
        };
        // where the host goes, not who reaches it: an inbound scan from many countries is the
        // victim's misfortune (inbound_attack), not its choice
        // (and a mail exchanger delivers wherever its senders' mail goes: not its choice)
        if ctx.nets.contains(v.peer) || !v.originator || ctx.relayed(v.host, f.dst_port[i]) {
            continue;
        }
        let place = cache.entry((v.host, v.peer)).or_insert_with(|| {
            let none = *placeless_peers
                .entry(v.peer)
                .or_insert_with(|| placeless(cfg, ctx, v.peer));
            (!none)
                .then(|| place_of(cfg, ctx, v.host, v.peer))
                .flatten()
        });
        let Some((label, w, asn_only)) = place.clone() else {
            continue;
        };
        let a = accs.entry(v.host).or_default();
        let bytes = v.sent + v.received;
        a.span.add(i, f.ts[i], v.peer, bytes);
        let p = a.places.entry(label).or_default();
        p.weight = w;
        p.asn_only = asn_only;
        p.flows += 1;
        p.bytes += bytes;
    }
    accs
}

/// True when flows spanning `secs` are one visit (`max_secs` 0 disables the rule).
pub fn one_visit(secs: f64, max_secs: u64) -> bool {
    max_secs > 0 && secs <= max_secs as f64
}

/// The countries `host` reached in a normal-period baseline, when they make it a gateway.
fn broad_host(cfg: &UnusualCountryConfig, ctx: &DetectCtx, host: u128) -> Option<usize> {
    let n = ctx
        .baseline
        .host(host)
        .filter(|_| !ctx.baseline.robust())?
        .countries
        .iter()
        .filter(|c| c.key != "??")
        .count();
    (n as u64 >= cfg.broad_host_min_countries_count).then_some(n)
}

/// In a normal-period baseline, the hosts with at least `min_flows` flows to countries fewer than
/// `min_hosts` hosts reached (rare, as the detector judges the test), and the hosts that reached
/// located places at all: how often an ordinary host's day has a rare place in it, the long tail of
/// browsing. The network's servers (a proxy, a resolver, a mail relay: what many internal clients
/// use) are left out, since their places are their clients'. `(0, 0)` for a self-learned baseline,
/// which has no other day to be new against.
pub fn explorers(b: &Baseline, min_hosts: u64, min_flows: u64) -> (u64, u64) {
    if b.robust() {
        return (0, 0);
    }
    let servers: AHashSet<&str> = b.servers.iter().map(|s| s.ip.as_str()).collect();
    let (mut explorers, mut hosts) = (0, 0);
    for (ip, p) in &b.hosts {
        let mut located = p.countries.iter().filter(|c| c.key != "??").peekable();
        if located.peek().is_none() || servers.contains(ip.as_str()) {
            continue;
        }
        hosts += 1;
        let rare = |c: &&KeyCount| {
            b.external
                .countries
                .get(&c.key)
                .is_some_and(|x| x.hosts < min_hosts)
        };
        let flows: u64 = located.filter(rare).map(|c| c.flows).sum();
        explorers += u64::from(flows >= min_flows.max(1));
    }
    (explorers, hosts)
}

/// True when `explorers` of `hosts` make one host's new place routine: at least `min_share` of them
/// (0 disables).
pub fn routine_novelty(explorers: u64, hosts: u64, min_share: f64) -> bool {
    min_share > 0.0 && explorers > 0 && explorers as f64 >= min_share * hosts as f64
}

/// The text saying why a host's new places are routine, when they are.
fn routine(cfg: &UnusualCountryConfig, explorers: (u64, u64)) -> Option<String> {
    routine_novelty(explorers.0, explorers.1, cfg.routine_explorer_share_ratio).then(|| {
        format!(
            "as in the baseline, where {} of {} hosts reached countries fewer than {} hosts did: rare places are the long tail of ordinary traffic here, reported low",
            explorers.0, explorers.1, cfg.country_min_hosts_count
        )
    })
}

fn judge(
    cfg: &UnusualCountryConfig,
    ctx: &DetectCtx,
    explorers: (u64, u64),
    host: u128,
    a: HostAcc,
) -> Option<Finding> {
    let flows = a.span.rows.len() as u64;
    let asn_flows: u64 = a
        .places
        .values()
        .filter(|p| p.asn_only)
        .map(|p| p.flows)
        .sum();
    if !reportable(flows - asn_flows, asn_flows, cfg) {
        return None;
    }
    let w = a.places.values().map(|p| p.weight).fold(0.0, f64::max);
    let mut s = score(w, flows, cfg.half_score_flows_count, a.places.len());
    if asn_flows == flows {
        // AS novelty alone is weak (a new site is a new AS): low at most
        s = s.min(AS_ONLY_MAX_SCORE);
    }
    let mut places: Vec<(&String, &Place)> = a.places.iter().collect();
    places.sort_by(|x, y| {
        y.1.weight
            .total_cmp(&x.1.weight)
            .then(y.1.flows.cmp(&x.1.flows))
            .then(x.0.cmp(y.0))
    });
    let listed: Vec<String> = places
        .iter()
        .map(|(k, p)| format!("{k}: {} flows, {}", p.flows, human_bytes(p.bytes as f64)))
        .collect();
    let top_peer = a
        .span
        .ranked_peers()
        .first()
        .map(|p| describe_peer(ctx.geo, p.0))
        .unwrap_or_default();
    let mut explanation = format!(
        "{} flows to places absent or rare in the baseline ({}); busiest peer {top_peer}",
        flows,
        listed.join("; ")
    );
    let visit_secs = (a.span.last - a.span.first) as f64 / 1e6;
    if one_visit(visit_secs, cfg.one_visit_max_secs) {
        s = s.min(super::volume::HABITUAL_SCORE);
        explanation.push_str(&format!(
            "; all within {}: one visit, reported low (a relationship returns)",
            super::behaviour::duration_text(visit_secs)
        ));
    } else if let Some(n) = broad_host(cfg, ctx, host) {
        s = s.min(super::volume::HABITUAL_SCORE);
        explanation.push_str(&format!(
            "; the host reached {n} countries in the baseline (a gateway: a proxy, a relay, a resolver), where new places are daily business: reported low"
        ));
    } else if let Some(text) = routine(cfg, explorers) {
        s = s.min(super::volume::HABITUAL_SCORE);
        explanation.push_str(&format!("; {text}"));
    }
    let mut details = serde_json::Map::new();
    let table: Vec<serde_json::Value> = places
        .iter()
        .map(|(k, p)| json!({"place": k, "flows": p.flows, "bytes": p.bytes, "rarity": p.weight}))
        .collect();
    details.insert("places".into(), json!(table));
    let evidence = Evidence {
        metric: "flows to countries/ASNs absent or rare in the baseline".into(),
        observed: flows as f64,
        baseline: Some(0.0),
        threshold: Some(cfg.min_flows_count as f64),
        explanation,
        details,
    };
    Some(a.span.finding(
        "unusual_country",
        "unusual_country",
        s,
        vec![ip::format(host)],
        evidence,
    ))
}

/// The most a host whose unusual places are all AS numbers of usual countries scores (the top of low).
pub const AS_ONLY_MAX_SCORE: f64 = 0.39;

/// Documentation for `docs/detectors.md`.
pub const DOC: &str = r#"## `unusual_country`

**Looks at** every flow between an internal host and an external address; the peer's country and AS
come from the geo stack, their prevalence (how many internal hosts contacted them) from the baseline's
`external.countries` / `external.asns`, and the host's own habits from its profile.

**Formula.** A country is *usual for a host* when the host itself had at least `own_min_flows_count`
baseline flows to it. Otherwise its rarity is 1 when no baseline host contacted it, `rare_weight` when
fewer than `country_min_hosts_count` did (so a country one host saw once in normal is still rare), else
0. In a usual country the AS is checked the same way (`asn_min_hosts_count`), weighted by `asn_weight`.
Per host, with `w` the largest rarity, `n` the flows to unusual places and `h = half_score_flows_count`:
`score = 0.2 + 0.5 * w * n / (n + h) + 0.1 [two or more unusual places]`. A host is reported when it
has at least `min_flows_count` flows to unusual countries, or at least `asn_min_flows_count` flows to
unusual AS numbers of usual countries (AS novelty alone is weak: big networks see new ASes daily, so
such a host scores low at most, 0.39, and stays out of the default table).

**Evidence:** one finding per host listing each country (or `CC/ASn Org`) with flows and bytes, and
the busiest peer.

**Single-capture mode.** A baseline learned from the capture itself has no history, only prevalence
among its hosts; with fewer than 3 hosts that talk to located external places (a capture of one
device), every place would be "rare among hosts", so the detector stays silent: such captures are
judged by the behavioural detectors (C&C, scans, volume) instead.

**Anycast networks** (`anycast_orgs`: Cloudflare, Fastly, Akamai's CDN, Incapsula, Edgecast, CDN77)
are left out: one of their addresses answers from hundreds of cities, so its country in a database is
where the block was registered, not where the visitor went. So is a peer that `fleet_share_ratio`
(a quarter) of the network's active hosts, and at least `fleet_min_hosts_count` (3), reached in the
test input: a popular site whose address moved, an update rollout, not one host's choice.

**Relays.** What a store-and-forward server sends on the port it serves (a mail exchanger delivering
on tcp/25, a resolver recursing on 53: `detect/infrastructure.rs`'s relays) goes where its clients' mail
and names go, not where it chooses: left out.

**One visit.** When every flow to the host's unusual places falls within `one_visit_max_secs` (30
minutes), it is one visit (a page and its assets, a file fetched once): reported low, saying so. A
relationship returns: a C&C in an unusual place calls again hours later.

**Gateways.** A host that reached `broad_host_min_countries_count` (20) countries in a normal-period
baseline (a web proxy, a mail relay, a resolver recursing for the network) meets new places every day:
its finding is reported low, with the count named.

**Blind spots.** Geolocation is only as good as the geo database (unknown addresses share the `??`
country); a C&C behind an anycast CDN has no place; attackers using infrastructure in usual countries and common clouds (usual AS) are not seen.

**Tuning.** Raise `country_min_hosts_count` on large networks; set `asn_weight = 0` to ignore AS
novelty; raise `min_flows_count` to drop one-off visits.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn prev(hosts: u64) -> Prevalence {
        Prevalence {
            hosts,
            flows: hosts,
            org: None,
        }
    }

    #[test]
    fn rarity_table() {
        let (one, five) = (prev(1), prev(5));
        let cases = [
            (None, 0, 200, 1.0),        // absent
            (Some(&one), 0, 200, 0.7),  // one host saw it once: still rare
            (Some(&one), 3, 200, 0.0),  // ... but usual for that host itself
            (Some(&five), 0, 200, 0.0), // prevalent
            (Some(&five), 9, 200, 0.0),
            (Some(&one), 0, 2, 0.7), // two hosts, one saw it: rare
            (Some(&one), 0, 1, 0.0), // a one-host capture: every place is everyone's
            (None, 0, 1, 1.0),
        ];
        for (p, own, pop, want) in cases {
            assert_eq!(rarity(p, own, 3, 3, 0.7, pop), want, "{p:?} {own} {pop}");
        }
    }

    #[test]
    fn reportable_table() {
        let cfg = UnusualCountryConfig::default();
        let cases = [
            (2, 0, true),
            (1, 0, false),
            (1, 9, false),
            (0, 10, true),
            (0, 0, false),
        ];
        for (c, a, want) in cases {
            assert_eq!(reportable(c, a, &cfg), want, "{c} {a}");
        }
    }

    #[test]
    fn one_visit_table() {
        // (seconds spanned, max) -> one visit?
        let cases = [
            (0.0, 1800, true),
            (1_799.0, 1800, true),
            (1_801.0, 1800, false),
            (36_000.0, 1800, false),
            (10.0, 0, false),
        ];
        for (secs, max, want) in cases {
            assert_eq!(one_visit(secs, max), want, "{secs} {max}");
        }
    }

    #[test]
    fn score_table() {
        // 0.2 + 0.5 * w * n / (n + 5) + 0.1 [places >= 2]
        let cases = [
            (1.0, 5, 1, 0.45),
            (1.0, 15, 2, 0.2 + 0.375 + 0.1),
            (0.4, 5, 1, 0.3),
            (0.0, 100, 1, 0.2),
            (1.0, 0, 1, 0.2),
        ];
        for (w, n, places, want) in cases {
            assert!(
                (score(w, n, 5, places) - want).abs() < 1e-12,
                "{w} {n}: {}",
                score(w, n, 5, places)
            );
        }
    }

    #[test]
    fn routine_novelty_table() {
        // (explorers, hosts, min share) -> routine?
        let cases = [
            (0, 600, 0.01, false), // nobody strays in normal: a new place stands out
            (5, 600, 0.01, false),
            (6, 600, 0.01, true),
            (30, 100, 0.01, true),
            (1, 10, 0.01, true),  // one occurrence is evidence on a small network
            (5, 100, 0.0, false), // off
            (0, 0, 0.01, false),
        ];
        for (e, h, m, want) in cases {
            assert_eq!(routine_novelty(e, h, m), want, "{e} {h} {m}");
        }
    }

    #[test]
    fn explorers_counts_hosts_with_rare_countries() {
        let kc = |k: &str, flows| KeyCount {
            key: k.into(),
            flows,
        };
        let mut b = Baseline::default();
        let host = |cs: &[(&str, u64)]| HostProfile {
            countries: cs.iter().map(|(c, n)| kc(c, *n)).collect(),
            ..Default::default()
        };
        b.hosts
            .insert("10.0.0.1".into(), host(&[("US", 9), ("MC", 2)]));
        b.hosts.insert("10.0.0.2".into(), host(&[("US", 9)]));
        b.hosts.insert("10.0.0.3".into(), host(&[("??", 9)]));
        b.hosts
            .insert("10.0.0.4".into(), host(&[("US", 9), ("JM", 1), ("TR", 1)]));
        b.hosts
            .insert("10.0.0.5".into(), host(&[("US", 9), ("DE", 1)]));
        for (c, n) in [("US", 4), ("MC", 1), ("JM", 1), ("TR", 1), ("DE", 2)] {
            b.external.countries.insert(c.into(), prev(n));
        }
        // rare = fewer than 3 hosts; 2 flows needed (host 5 has one flow to a rare place)
        assert_eq!(explorers(&b, 3, 2), (2, 4));
        assert_eq!(explorers(&b, 3, 1), (3, 4));
        // prevalence 2 is not rare under 2
        assert_eq!(explorers(&b, 2, 1), (2, 4));
        // a server's places are its clients' (a proxy): left out
        b.servers.push(crate::baseline::Server {
            ip: "10.0.0.4".into(),
            ..Default::default()
        });
        assert_eq!(explorers(&b, 3, 2), (1, 3));
        // a self-learned baseline has no other day to be new against
        b.source.self_learned = true;
        assert_eq!(explorers(&b, 3, 2), (0, 0));
    }
}
