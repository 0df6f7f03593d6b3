//! `cnc_beacon`: periodic connections an internal host opens to an external host,
//! scored per (internal host, external host) pair with RITA v5's formula improved
//! ([`beacon_math`](super::beacon_math)), then boosted when the destination is rare among internal
//! hosts or new against the baseline. The accumulation is one grouped pass over integer addresses.

use super::beacon_math::{self as bm, SubScores};
use super::behaviour::{duration_text, geo_suffix};
use super::habit_match::ChannelHabits;
use super::{DetectCtx, Detector};
use crate::config::{Range, Setting};
use crate::error::{FlowError, Result};
use crate::findings::{format_ts, Evidence, Finding};
use crate::ip;
use crate::output::table::human_bytes;
use ahash::AHashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The detector.
pub struct CncBeacon;

/// `[detectors.cnc_beacon]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CncBeaconConfig {
    /// Connections a pair needs before it is scored.
    pub min_connections_count: u64,
    /// Shortest active span (first to last connection) scored.
    pub min_duration_secs: f64,
    /// Connections closer than this to the previous one are one event (a burst).
    pub burst_merge_secs: f64,
    /// Bowley skew is 0 when `Q3 - Q1` is below this fraction of the median.
    pub skew_min_spread_ratio: f64,
    /// Events per histogram bin (bins over the pair's own span).
    pub hist_events_per_bin_count: u64,
    /// Most histogram bins.
    pub hist_max_bins_count: u64,
    /// Non-empty bins needed for RITA's bimodal fit.
    pub hist_bimodal_min_bins_count: u64,
    /// Active span that earns a full duration score.
    pub dur_ideal_secs: f64,
    /// Weight of the timestamp score.
    pub ts_weight_ratio: f64,
    /// Weight of the data size score.
    pub ds_weight_ratio: f64,
    /// Weight of the histogram score.
    pub hist_weight_ratio: f64,
    /// Weight of the duration score.
    pub dur_weight_ratio: f64,
    /// Score lost by a destination every internal host talks to.
    pub prevalence_weight_ratio: f64,
    /// Score lost by a destination already in the baseline.
    pub novelty_weight_ratio: f64,
    /// Smallest timestamp regularity score kept (timing must be periodic whatever the rest).
    pub min_ts_score_ratio: f64,
    /// Smallest RITA-style (unboosted) score kept.
    pub min_beacon_score_ratio: f64,
    /// Smallest final score reported.
    pub min_score_ratio: f64,
    /// Share of the score lost by a beacon to well-known infrastructure (NTP, the network's DNS
    /// resolvers, DHCP, multicast and broadcast discovery).
    pub infrastructure_discount_ratio: f64,
    /// Periods observed that give full evidence (fewer scale the score down).
    pub full_evidence_periods_count: f64,
    /// Active span that gives full evidence (shorter spans scale the score down, to half).
    pub full_evidence_span_secs: f64,
    /// Jitter (MAD / median gap) at which a period counts once as evidence: a tighter timer's periods
    /// count more (over an active span of `full_evidence_span_secs`), a looser one's less.
    pub evidence_reference_jitter_ratio: f64,
    /// AS organisations (case-insensitive substrings) whose update/push channels beacon by design.
    pub trusted_orgs: Vec<String>,
    /// Share of the score a beacon to a trusted organisation loses (it is still reported).
    pub trusted_org_discount_ratio: f64,
    /// A beacon to one of the host's baseline upload destinations sending at most this multiple of
    /// the most it sent there in one baseline window (in every window) is its habit (a backup).
    pub habit_upload_ratio: f64,
    /// Other hosts keeping the destination as a recurring baseline channel that make a beacon the
    /// fleet's software (held low).
    pub fleet_channel_min_hosts_count: u64,
    /// AS organisations (case-insensitive substrings) of storage and sync services, whose addresses
    /// rotate: a beacon to a new address of such a network where the host, or
    /// `fleet_channel_min_hosts_count` other hosts, kept a baseline channel is that habit (held low).
    pub channel_network_orgs: Vec<String>,
    /// A "beacon" carrying more than this many bytes a second (median size over period) is a
    /// stream cut into records (a call, a sync, a download split by the exporter's active timeout),
    /// not a check-in: held low.
    pub max_checkin_bytes_per_sec: f64,
}

/// Security, OS and software-update vendors: their agents poll on timers from every host (AV
/// signature pushes, Windows/Android telemetry, browser updates). Microsoft and Google also rent their
/// networks to cloud customers, which is why a match only discounts a beacon and never drops it.
/// Pure hosting and CDN networks (Amazon, Akamai, OVH...) are left out: their business is hosting
/// anyone's server.
pub const TRUSTED_ORGS: [&str; 16] = [
    "ESET",
    "Kaspersky",
    "Symantec",
    "McAfee",
    "Trend Micro",
    "Sophos",
    "Avast",
    "Bitdefender",
    "Malwarebytes",
    "Mozilla",
    "Canonical",
    "Apple Inc",
    "Microsoft",
    "Google",
    // CDN edge networks: they serve content and push channels, nobody rents a listening server there
    // (Akamai's rentable cloud, ex-Linode, is "Akamai Connected Cloud" and is not matched)
    "Akamai International",
    "Akamai Technologies",
];

/// True when `org` contains one of `trusted` (case-insensitive).
pub fn is_trusted_org(org: &str, trusted: &[String]) -> bool {
    let org = org.to_ascii_lowercase();
    trusted
        .iter()
        .any(|t| !t.is_empty() && org.contains(&t.to_ascii_lowercase()))
}

impl Default for CncBeaconConfig {
    fn default() -> Self {
        CncBeaconConfig {
            min_connections_count: 10,
            min_duration_secs: 300.0,
            burst_merge_secs: 1.0,
            skew_min_spread_ratio: 0.1,
            hist_events_per_bin_count: 4,
            hist_max_bins_count: 24,
            hist_bimodal_min_bins_count: 11,
            dur_ideal_secs: 21_600.0,
            ts_weight_ratio: 0.25,
            ds_weight_ratio: 0.25,
            hist_weight_ratio: 0.25,
            dur_weight_ratio: 0.25,
            prevalence_weight_ratio: 0.3,
            novelty_weight_ratio: 0.25,
            min_ts_score_ratio: 0.8,
            min_beacon_score_ratio: 0.7,
            min_score_ratio: 0.6,
            infrastructure_discount_ratio: 0.75,
            full_evidence_periods_count: 16.0,
            full_evidence_span_secs: 3600.0,
            evidence_reference_jitter_ratio: 0.1,
            trusted_orgs: TRUSTED_ORGS.iter().map(|s| s.to_string()).collect(),
            trusted_org_discount_ratio: 0.5,
            habit_upload_ratio: 10.0,
            fleet_channel_min_hosts_count: 2,
            channel_network_orgs: super::habit_match::storage_orgs(),
            max_checkin_bytes_per_sec: 10_000.0,
        }
    }
}

const UNIT: Range = Range::Float(0.0, 1.0);

static SETTINGS: [Setting; 27] = [
    Setting {
        key: "min_connections_count",
        doc: "connections a pair needs before it is scored",
        range: Range::Int(4, 1_000_000),
    },
    Setting {
        key: "min_duration_secs",
        doc: "shortest active span scored: first to last connection with the host's silences (an hour and 10 median gaps or more) closed",
        range: Range::Float(0.0, 31_536_000.0),
    },
    Setting {
        key: "burst_merge_secs",
        doc: "connections closer than this to the previous one form one event",
        range: Range::Float(0.0, 3600.0),
    },
    Setting {
        key: "skew_min_spread_ratio",
        doc: "Bowley skew counts as 0 when Q3-Q1 is below this fraction of the median",
        range: Range::Float(0.0, 10.0),
    },
    Setting {
        key: "hist_events_per_bin_count",
        doc: "events per histogram bin over the pair's own span",
        range: Range::Int(1, 10_000),
    },
    Setting {
        key: "hist_max_bins_count",
        doc: "most histogram bins (at least 4 are used)",
        range: Range::Int(4, 10_000),
    },
    Setting {
        key: "hist_bimodal_min_bins_count",
        doc: "non-empty bins needed for RITA's bimodal fit",
        range: Range::Int(2, 10_000),
    },
    Setting {
        key: "dur_ideal_secs",
        doc: "active span that earns a full duration score",
        range: Range::Float(1.0, 31_536_000.0),
    },
    Setting {
        key: "ts_weight_ratio",
        doc: "weight of the timestamp regularity score (the four weights sum to 1)",
        range: UNIT,
    },
    Setting {
        key: "ds_weight_ratio",
        doc: "weight of the size regularity score",
        range: UNIT,
    },
    Setting {
        key: "hist_weight_ratio",
        doc: "weight of the histogram consistency score",
        range: UNIT,
    },
    Setting {
        key: "dur_weight_ratio",
        doc: "weight of the duration/coverage score",
        range: UNIT,
    },
    Setting {
        key: "prevalence_weight_ratio",
        doc: "score lost by a destination every internal host talks to",
        range: UNIT,
    },
    Setting {
        key: "novelty_weight_ratio",
        doc: "score lost by a destination already in the baseline",
        range: UNIT,
    },
    Setting {
        key: "min_ts_score_ratio",
        doc: "smallest timestamp regularity score kept (timing must be periodic)",
        range: UNIT,
    },
    Setting {
        key: "min_beacon_score_ratio",
        doc: "smallest RITA-style (unboosted) beacon score kept",
        range: UNIT,
    },
    Setting {
        key: "min_score_ratio",
        doc: "smallest final (boosted) score reported",
        range: UNIT,
    },
    Setting {
        key: "infrastructure_discount_ratio",
        doc: "share of the score lost by a beacon to well-known infrastructure (NTP, the network's DNS resolvers, DHCP, multicast and broadcast discovery); it stays visible at a lower severity",
        range: UNIT,
    },
    Setting {
        key: "full_evidence_periods_count",
        doc: "periods observed that give full evidence: the score is scaled by 1 - exp(-periods / this)",
        range: Range::Float(1.0, 1e6),
    },
    Setting {
        key: "full_evidence_span_secs",
        doc: "active span that gives full evidence: shorter spans scale the score by 0.5 + 0.5 * span / this",
        range: Range::Float(1.0, 1e9),
    },
    Setting {
        key: "evidence_reference_jitter_ratio",
        doc: "jitter (MAD / median gap) at which a period counts once: periods count ln(1/jitter) / ln(1/this) times (at most 4), a tighter timer's more only over full_evidence_span_secs",
        range: Range::Float(0.0001, 0.99),
    },
    Setting {
        key: "trusted_orgs",
        doc: "AS organisations (case-insensitive substrings) whose agents beacon by design (AV and OS update vendors); their beacons are reported with a discounted score",
        range: Range::Strings,
    },
    Setting {
        key: "trusted_org_discount_ratio",
        doc: "share of the score a beacon to a trusted organisation loses (applied after min_score_ratio, so it is still reported)",
        range: UNIT,
    },
    Setting {
        key: "habit_upload_ratio",
        doc: "a beacon to a baseline upload destination of the host sending at most this multiple of its baseline peak window (in every window) is its habit: held low",
        range: Range::Float(1.0, 1e6),
    },
    Setting {
        key: "fleet_channel_min_hosts_count",
        doc: "a beacon to a destination that at least this many other hosts kept as a recurring channel in the baseline is the fleet's software: held low",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "channel_network_orgs",
        doc: "AS organisations (case-insensitive substrings) of storage and sync services, whose addresses rotate: a beacon to a new address of such a network where the host or fleet_channel_min_hosts_count other hosts kept a baseline channel is that habit: held low",
        range: Range::Strings,
    },
    Setting {
        key: "max_checkin_bytes_per_sec",
        doc: "a beacon carrying more than this many bytes a second (median size over period) is a stream cut into records (a call, a sync), not a check-in: held low",
        range: Range::Float(1.0, 1e12),
    },
];

/// The markdown section of `docs/detectors.md`.
pub const DOC: &str = r#"## cnc_beacon

**Looks at** every (internal host, external host) pair of connections the internal host opens, with
at least `min_connections_count` connections spanning at least `min_duration_secs` on the host's
active timeline (below: silences closed; two bursts of page loads a day apart are active for two
minutes, not a day). A beacon is an
implant calling out; periodic connections from outside (a scanner's schedule, a partner's monitoring)
are the inbound detectors' (`inbound_attack`, `server_abuse`).

**Formula** (RITA v5, improved). Connection start times keep their microseconds; connections closer
than `burst_merge_secs` to the previous one are merged into one event. Then:

- `ts` = ((1 - |Bowley skew of the gaps|) + (median - MAD) / median) / 2. Bowley skew is
  `(Q1 + Q3 - 2 Q2) / (Q3 - Q1)` with linearly interpolated quartiles, taken as 0 when the median equals a
  quartile or when `Q3 - Q1 < skew_min_spread_ratio * median` (RITA: an absolute 10 s, useless for
  sub-second periods).
- `ds` = the same on bytes per connection (up + down). All-equal sizes score 1 even at 0 bytes (RITA gives
  zero-byte SYN beacons 0).
- `hist` = max(1 - coefficient of variation of the connection histogram, RITA's bimodal fit), with the
  histogram over the pair's **own** active span (one bin per `hist_events_per_bin_count` events, at least
  4 and at most `hist_max_bins_count`), so that a beacon active 3 hours of a 4-day capture is judged on those hours,
  and on the host's active timeline: a silence of at least 10 median gaps and an hour (a laptop asleep
  overnight, a machine switched off) shrinks to the median gap before the histogram is built.
- `dur` = max(active / capture span, active / `dur_ideal_secs`), with `active` the pair's span on the
  host's active timeline (the silences closed as for the histogram): how long the beacon kept its
  rhythm, not how far apart its first and last connection were.
- `raw` = weighted mean with `ts_weight_ratio`, `ds_weight_ratio`, `hist_weight_ratio`,
  `dur_weight_ratio` (0.25 each, they must sum to 1). Pairs below `min_beacon_score_ratio`, or whose
  `ts` is below `min_ts_score_ratio` (timing must be periodic, whatever the sizes), are dropped. The
  default 0.8 admits, with no skew, a MAD of 40 % of the period: uniform jitter of ±80 %, beyond what
  beacon frameworks use (Cobalt Strike's common settings randomise sleep by up to 50 %). Gaps of
  ordinary visits (sessions, Poisson-like arrivals) score 0.5 to 0.8.
- `score` = raw * (1 - `prevalence_weight_ratio` * (1 - rarity) - `novelty_weight_ratio` * (1 - novelty)),
  rarity = 1 - (internal hosts talking to the destination - 1) / (active internal hosts - 1), novelty =
  1 for a destination absent from the baseline, 0 for a known one, 0.5 with a self-learned baseline.
  Findings below `min_score_ratio` are dropped.

- Beacons to a trusted vendor's AS (`trusted_orgs`: AV and OS update vendors running their own
  networks, matched as case-insensitive substrings of the AS organisation) keep being reported but lose
  `trusted_org_discount_ratio` (half) of their score: ESET's push channel on CTU-Normal-40 beacons every
  301.6 s ± 0.1 s for 24 h, and Windows telemetry to Microsoft every 1680 s ± 0 s, by design. Microsoft
  and Google are on the list for their OS telemetry although they also rent out cloud servers: a C&C on
  Azure or GCP is discounted, not hidden. Pure hosting and CDN networks (Amazon, Akamai, OVH) are not.

- **Infrastructure.** A beacon whose busiest port is well-known periodic infrastructure (NTP to a time
  server, DNS to the network's resolvers, DHCP, mDNS, SSDP, LLMNR, NetBIOS, multicast and broadcast:
  `detect/infrastructure.rs`) loses `infrastructure_discount_ratio` (75 %) of its score: an IoT device's
  NTP every 64 s is what clocks do. It stays visible with `--min-severity low`.
- **Habits.** A pair the host already kept in the baseline (the peer recurs in 3 or more baseline
  windows: `habits.hosts[...].channels`) is habitual: held low (out of the default table) and the
  explanation names the baseline occurrence. Not on a self-learned baseline (the beacon would be its own
  reference). A host without that habit (absent from the baseline, or its software new) is judged
  against its peers: a destination that `fleet_channel_min_hosts_count` (2) other hosts kept as a
  recurring channel is the fleet's software (a sync client, an agent), held low the same way. In the
  networks of storage and sync services (`channel_network_orgs`: Microsoft, Google, Dropbox, Apple,
  Box), which give each connection another address, a new address of a network where the host, or 2
  other hosts, kept a channel is that channel (Dropbox's notification long-poll moved overnight).
- **Streams are not check-ins.** A "beacon" carrying more than `max_checkin_bytes_per_sec` (10 kB/s:
  median bytes per connection over the period) is a stream that the exporter's active timeout cut into
  records every 60 or 120 s (a video call, a sync, a long download): held low. A C&C check-in is a
  few hundred bytes to kilobytes, whatever its period.
- **Forwarding is not beaconing.** A store-and-forward server on the port it serves (a mail exchanger
  delivering on tcp/25, a resolver recursing on 53: the relays of `detect/infrastructure.rs`) retries
  its queue and looks names up again and again, periodic by design: held low.
- **Evidence in proportion to the data.** Periodicity seen over few periods is weak evidence however
  regular it looks (16 connections a minute apart in a 16-minute capture). The score is multiplied by
  `(1 - exp(-P / full_evidence_periods_count)) * (0.5 + 0.5 * min(1, span / full_evidence_span_secs))`
  with `P` the periods observed (events - 1) and `span` the active span: 15 periods over 15 minutes keep 0.39 of the score (low),
  a day of 5-minute beacons keeps all of it. Each period counts by how tightly it repeats:
  `P` is weighted by `ln(1/j) / ln(1/evidence_reference_jitter_ratio)` (at most 4), `j` the jitter
  ratio (MAD / median gap), so a period within 10 % counts once, within 31 % half, within 0.1 % three
  times. Chance arrivals do not repeat that tightly: in a Monte Carlo of 20,000 draws, 14 uniform
  office-hour visits passed `min_ts_score_ratio` 1.4 % of the time (gaps within about 30 %), never
  within 5 %. The extra weight of a tight timer grows with the active span up to
  `full_evidence_span_secs` (an exact keep-alive over a 16-minute capture says nothing); a loose one's
  lower weight holds at any span, and on a self-learned baseline (single-capture mode, where periodic
  timing alone is held low until corroborated) a tight timer counts once a period, no more: an Echo
  speaker's exact 5-minute check of example.com would otherwise rise to high and corroborate its
  firmware download. Ten connections an hour apart within 3 s, to a new address four hosts share,
  then keep 0.83 of their score, not 0.43. The factor and the weight are in
  `evidence.details.evidence_factor` and `period_weight`.

**Explanation**: period (median gap), jitter (MAD of the gaps), connections, duration, port, sizes,
rarity and novelty; all sub-scores are in `evidence.details`.

**Blind spots**: beacons with heavy random jitter (> ~50 %), very slow beacons with fewer than
`min_connections_count` connections in the capture, beacons spread over many destination addresses
(fast flux, CDNs), C&C over an internal relay (a proxy hides the external address).

**Tuning**: raise `min_score_ratio` to see only the strongest; lower `min_connections_count` for short
captures; raise `novelty_weight_ratio` when the baseline is long and trusted (known periodic software
updates then fade).
"#;

impl Detector for CncBeacon {
    fn doc(&self) -> &'static str {
        DOC
    }
    type Config = CncBeaconConfig;
    fn name(&self) -> &'static str {
        "cnc_beacon"
    }
    fn description(&self) -> &'static str {
        "periodic internal<->external pairs (RITA v5-style skew/MAD/histogram/duration), boosted when rare or new"
    }
    fn settings(&self) -> &'static [Setting] {
        &SETTINGS
    }
    fn validate(&self, c: &CncBeaconConfig) -> Result<()> {
        weights(c).map(|_| ())
    }
    fn run(&self, c: &CncBeaconConfig, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        weights(c)?;
        let acc = accumulate(ctx, c.min_connections_count);
        let fleet = ChannelHabits::new(
            ctx,
            c.fleet_channel_min_hosts_count,
            &c.channel_network_orgs,
        );
        let mut out = Vec::new();
        for ((host, peer), pair) in &acc.pairs {
            let Some(s) = beacon_stats(c, &pair.ts, &pair.bytes, acc.span_secs)
                .filter(|s| s.raw >= c.min_beacon_score_ratio && s.sub.ts >= c.min_ts_score_ratio)
            else {
                continue;
            };
            let g = ctx.globals();
            let rare = bm::rarity(g.hosts_of(*peer), g.internal_hosts.len() as u64);
            let novelty = novelty(ctx, *peer);
            let score = bm::boosted(
                s.raw,
                rare,
                novelty,
                c.prevalence_weight_ratio,
                c.novelty_weight_ratio,
            );
            if score >= c.min_score_ratio {
                let mut f = finding(ctx, c, *host, *peer, pair, &s, (rare, novelty, score));
                discount_thin_evidence(c, &s, ctx.baseline.robust(), &mut f);
                discount_infrastructure(ctx, c, *peer, pair, &mut f);
                hold_stream(c, &s, &mut f);
                hold_relay(ctx, *host, pair, &mut f);
                hold_habitual(ctx, *host, *peer, &mut f);
                hold_fleet_channel(ctx, &fleet, (*host, *peer), &mut f);
                hold_habitual_upload(ctx, c, (*host, *peer), &mut f);
                discount_trusted(ctx, c, *peer, &mut f);
                out.push(f);
            }
        }
        out.sort_by(crate::findings::ranked);
        Ok(out)
    }
}

/// Evidence in proportion to the data: `(1 - exp(-periods / full_periods)) * (0.5 + 0.5 * min(1, span /
/// full_span))`, in [0, 1]. Sixteen connections a minute apart in a 16-minute capture are weak
/// evidence of periodicity however regular they are; a day of them is not.
pub fn evidence_factor(
    periods: f64,
    span_secs: f64,
    full_periods: f64,
    full_span_secs: f64,
) -> f64 {
    let by_periods = 1.0 - (-periods.max(0.0) / full_periods.max(1e-9)).exp();
    let by_span = 0.5 + 0.5 * (span_secs.max(0.0) / full_span_secs.max(1e-9)).min(1.0);
    (by_periods * by_span).clamp(0.0, 1.0)
}

/// How many times one period counts as evidence, by the timer's jitter ratio `j` (MAD / median
/// gap): `ln(1/j) / ln(1/reference)`, between 0 and [`MAX_PERIOD_WEIGHT`]. A period repeated within
/// 0.1 % carries three times the evidence of one within 10 %: chance arrivals (visits, sessions) do
/// not come that regular, while 14 office-hour visits come within 31 % in one draw of 70. A tighter
/// timer's extra weight grows with the active span up to `full_span_secs` (a fast keep-alive is
/// exact over a 16-minute capture, and that says nothing), a looser one's lower weight holds at
/// any span.
pub fn period_weight(
    jitter_ratio: f64,
    reference: f64,
    span_secs: f64,
    full_span_secs: f64,
) -> f64 {
    let j = jitter_ratio.clamp(1e-4, 1.0);
    let w =
        ((1.0 / j).ln() / (1.0 / reference.clamp(1e-4, 0.99)).ln()).clamp(0.0, MAX_PERIOD_WEIGHT);
    if w <= 1.0 {
        return w;
    }
    1.0 + (w - 1.0) * (span_secs.max(0.0) / full_span_secs.max(1e-9)).min(1.0)
}

/// Most a period counts ([`period_weight`]).
pub const MAX_PERIOD_WEIGHT: f64 = 4.0;

/// Scales the score by [`evidence_factor`] of the periods weighted by [`period_weight`] and says so
/// when it bites (below 0.95). On a self-learned baseline a tight timer counts no more than once a
/// period: with nothing new to the network, a device's exact timer is what devices do, and it must
/// not lift a periodic finding over the hold that awaits corroboration.
fn discount_thin_evidence(c: &CncBeaconConfig, s: &BeaconStats, robust: bool, f: &mut Finding) {
    let periods = s.events.saturating_sub(1) as f64;
    let jitter = s.jitter_secs / s.period_secs.max(1e-9);
    let mut w = period_weight(
        jitter,
        c.evidence_reference_jitter_ratio,
        s.active_secs,
        c.full_evidence_span_secs,
    );
    if robust {
        w = w.min(1.0);
    }
    let k = evidence_factor(
        periods * w,
        s.active_secs,
        c.full_evidence_periods_count,
        c.full_evidence_span_secs,
    );
    f.evidence
        .details
        .insert("evidence_factor".into(), json!(k));
    f.evidence.details.insert("period_weight".into(), json!(w));
    if k >= 0.95 {
        return;
    }
    let note = format!(
        "only {periods:.0} periods over {} at a jitter of {:.0} % (each counting {w:.2}): score scaled by {k:.2} (thin evidence)",
        duration_text(s.span_secs),
        jitter * 100.0
    );
    adjust(f, f.score * k, &note, None);
}

/// Sets a finding's score (and its evidence's observed value), adds `; note` to the explanation and
/// `detail` to the evidence details: every adjustment of a beacon's score says why.
fn adjust(f: &mut Finding, score: f64, note: &str, detail: Option<(&str, serde_json::Value)>) {
    f.score = score;
    f.evidence.observed = score;
    f.evidence.explanation.push_str("; ");
    f.evidence.explanation.push_str(note);
    if let Some((k, v)) = detail {
        f.evidence.details.insert(k.into(), v);
    }
}

/// Lowers the score of a beacon to well-known periodic infrastructure (on the pair's busiest port) and
/// says so: NTP every 64 s to a time server is what clocks do.
fn discount_infrastructure(
    ctx: &DetectCtx,
    c: &CncBeaconConfig,
    peer: u128,
    p: &Pair,
    f: &mut Finding,
) {
    let Some((proto, port)) = busiest_port(p) else {
        return;
    };
    let proto = crate::schema::Proto::from_index(proto as usize);
    let Some(label) = super::infrastructure::infrastructure(peer, proto, port, ctx) else {
        return;
    };
    let note = format!("{label} is well-known periodic infrastructure: score discounted");
    let score = f.score * (1.0 - c.infrastructure_discount_ratio);
    adjust(f, score, &note, Some(("infrastructure", json!(label))));
}

/// The pair's busiest (protocol index, port).
fn busiest_port(p: &Pair) -> Option<(u8, u16)> {
    p.ports
        .iter()
        .max_by_key(|(k, n)| (**n, std::cmp::Reverse(**k)))
        .map(|(k, _)| *k)
}

/// A "beacon" of a store-and-forward server on the port it serves (a mail exchanger delivering on
/// tcp/25, a resolver recursing on 53: [`DetectCtx::relayed`]) is forwarding: a queue retried or a
/// domain looked up again and again is periodic by design. Held low, saying so.
fn hold_relay(ctx: &DetectCtx, host: u128, p: &Pair, f: &mut Finding) {
    let Some((_, port)) = busiest_port(p).filter(|(_, port)| ctx.relayed(host, *port)) else {
        return;
    };
    let note = format!(
        "the host serves port {port} to many clients and forwards on it (a mail exchanger delivering, a resolver recursing): periodic by design, reported low"
    );
    let score = f.score.min(super::volume::HABITUAL_SCORE);
    adjust(f, score, &note, Some(("relay_port", json!(port))));
}

/// A "beacon" whose connections carry more than `max_checkin_bytes_per_sec` (median size over the
/// period) is a stream cut into records by the exporter's active timeout (a video call, a sync), not
/// a check-in: held low, saying so.
fn hold_stream(c: &CncBeaconConfig, s: &BeaconStats, f: &mut Finding) {
    let rate = stream_rate(s.size_median, s.period_secs);
    if rate <= c.max_checkin_bytes_per_sec {
        return;
    }
    let note = format!(
        "{}/s on average: a stream cut into records (a call, a sync), not a check-in",
        human_bytes(rate)
    );
    let score = f.score.min(super::volume::HABITUAL_SCORE);
    adjust(f, score, &note, Some(("stream_bytes_per_sec", json!(rate))));
}

/// Bytes a second of a periodic channel: median size over period (0 without a period).
pub fn stream_rate(size_median: f64, period_secs: f64) -> f64 {
    if period_secs > 0.0 {
        size_median / period_secs
    } else {
        0.0
    }
}

/// A channel the host already kept in the baseline (recurring in several windows) is habitual: held
/// low, with the baseline occurrence named.
pub(crate) fn hold_habitual(ctx: &DetectCtx, host: u128, peer: u128, f: &mut Finding) {
    let Some(ch) = ctx.baseline.habits.channel(host, peer) else {
        return;
    };
    let note = format!(
        "as in the baseline: {} flows to {} in {} windows from {}",
        ch.flows, ch.peer, ch.windows, ch.first
    );
    let score = f.score.min(super::volume::HABITUAL_SCORE);
    adjust(f, score, &note, Some(("habitual", json!(ch))));
}

/// A beacon to a destination that other hosts kept as a recurring channel in the baseline is the
/// fleet's software: held low, with the other hosts' occurrence named. So is one to a new address of
/// a storage or sync service's network where the host, or the fleet, kept a channel (the service
/// moved it to another address). (A host's own habit to the same address is [`hold_habitual`]'s.)
pub(crate) fn hold_fleet_channel(
    ctx: &DetectCtx,
    habits: &ChannelHabits,
    (host, peer): (u128, u128),
    f: &mut Finding,
) {
    if f.evidence.details.contains_key("habitual") {
        return;
    }
    let Some(others) = habits.by_peer.others(host, peer, habits.min_hosts) else {
        return hold_network_channel(ctx, habits, (host, peer), f);
    };
    let Some((example, ch)) = others.iter().max_by_key(|(_, ch)| ch.windows).copied() else {
        return;
    };
    let note = format!(
        "as in the baseline of {} other hosts: {example} made {} flows to {} in {} windows from {}",
        others.len(),
        ch.flows,
        ch.peer,
        ch.windows,
        ch.first
    );
    let score = f.score.min(super::volume::HABITUAL_SCORE);
    adjust(
        f,
        score,
        &note,
        Some(("fleet_channel_hosts", json!(others.len()))),
    );
}

/// A channel finding's flows per baseline window over its span (`duration_secs` of a beacon,
/// `span_secs` of a channel; at least one window).
fn finding_flows_per_window(f: &Finding, window_secs: u64) -> f64 {
    let span = ["duration_secs", "span_secs"]
        .iter()
        .find_map(|k| f.evidence.details.get(*k)?.as_f64())
        .unwrap_or(0.0);
    f.flows as f64 / (span / window_secs.max(1) as f64).ceil().max(1.0)
}

/// A beacon to a new address of a storage network where the host or the fleet kept a channel, at no
/// more than [`LEVEL_RATIO`](super::habit_match::LEVEL_RATIO) times that channel's flows per window,
/// is that channel (a reconnect storm to an Azure address is not the host's OneDrive).
fn hold_network_channel(
    ctx: &DetectCtx,
    habits: &ChannelHabits,
    (host, peer): (u128, u128),
    f: &mut Finding,
) {
    let Some(m) = habits.by_network(ctx, (host, peer)) else {
        return;
    };
    let level = finding_flows_per_window(f, ctx.baseline.window_secs);
    if !super::habit_match::within_level(level, m.habit.flows, m.habit.windows) {
        return;
    }
    let whose = m.fleet.map_or("the host's own".to_string(), |n| {
        format!("{n} other hosts'")
    });
    let ch = m.habit;
    let note = format!(
        "as in the baseline, in the same storage network (AS{}): {whose} channel of {} flows to {} in {} windows from {}",
        m.asn, ch.flows, ch.peer, ch.windows, ch.first
    );
    let score = f.score.min(super::volume::HABITUAL_SCORE);
    adjust(f, score, &note, Some(("habitual_network", json!(m.asn))));
}

/// A beacon to one of the host's baseline upload destinations (a backup, a sync) that sends no more in
/// any window than `habit_upload_ratio` times its baseline peak there is the host's habit: held low,
/// with the baseline occurrence named. (Upload habits come from a normal baseline; a self-learned one
/// has none.)
fn hold_habitual_upload(
    ctx: &DetectCtx,
    c: &CncBeaconConfig,
    (host, peer): (u128, u128),
    f: &mut Finding,
) {
    let Some(u) = ctx.baseline.habits.upload(host, peer) else {
        return;
    };
    let mut per_window: std::collections::BTreeMap<i64, u64> = std::collections::BTreeMap::new();
    for r in &f.flow_rows {
        if let Some(v) = ctx.flows.host_view(*r as usize, ctx.nets) {
            let w = crate::baseline::window_of(ctx.flows.ts[*r as usize], ctx.baseline.window_secs);
            *per_window.entry(w).or_default() += v.sent;
        }
    }
    let most = per_window.values().copied().max().unwrap_or(0);
    if most as f64 > c.habit_upload_ratio * u.peak_window_bytes as f64 {
        return;
    }
    let note = format!(
        "as in the baseline: {} uploaded to {} (at most {} in the window starting {})",
        human_bytes(u.up_bytes as f64),
        u.peer,
        human_bytes(u.peak_window_bytes as f64),
        u.at
    );
    let score = f.score.min(super::volume::HABITUAL_SCORE);
    adjust(f, score, &note, Some(("habitual_upload", json!(u))));
}

/// Lowers the score of a beacon to a trusted vendor's AS and says so in the explanation.
fn discount_trusted(ctx: &DetectCtx, c: &CncBeaconConfig, peer: u128, f: &mut Finding) {
    let Some(org) = ctx.geo.org_u128(peer) else {
        return;
    };
    if !is_trusted_org(&org, &c.trusted_orgs) {
        return;
    }
    let note = format!("{org} is a trusted vendor (its agents poll on timers): score discounted");
    let score = f.score * (1.0 - c.trusted_org_discount_ratio);
    adjust(
        f,
        score,
        &note,
        Some(("trusted_org", json!(org.to_string()))),
    );
}

fn weights(c: &CncBeaconConfig) -> Result<[f64; 4]> {
    let w = [
        c.ts_weight_ratio,
        c.ds_weight_ratio,
        c.hist_weight_ratio,
        c.dur_weight_ratio,
    ];
    let sum: f64 = w.iter().sum();
    if (sum - 1.0).abs() > 1e-6 || w.iter().any(|x| !(0.0..=1.0).contains(x)) {
        return Err(FlowError::Config(format!(
            "[detectors.cnc_beacon]: ts/ds/hist/dur_weight_ratio must each be in 0..=1 and sum to 1 (they sum to {sum})"
        )));
    }
    Ok(w)
}

fn novelty(ctx: &DetectCtx, peer: u128) -> f64 {
    if ctx.baseline.robust() {
        0.5
    } else if ctx
        .baseline
        .external
        .destinations
        .contains_key(&ip::format(peer))
    {
        0.0
    } else {
        1.0
    }
}

/// The flows of one pair.
#[derive(Default)]
struct Pair {
    ts: Vec<i64>,
    bytes: Vec<f64>,
    rows: Vec<u32>,
    ports: AHashMap<(u8, u16), u64>,
}

impl Pair {
    fn with_capacity(n: usize) -> Pair {
        Pair {
            ts: Vec::with_capacity(n),
            bytes: Vec::with_capacity(n),
            rows: Vec::with_capacity(n),
            ports: AHashMap::new(),
        }
    }
}

#[derive(Default)]
struct Acc {
    pairs: AHashMap<(u128, u128), Pair>,
    /// The capture's span (whole input), seconds.
    span_secs: f64,
}

/// Two passes: count per pair, then gather the pairs with enough connections.
fn accumulate(ctx: &DetectCtx, min_count: u64) -> Acc {
    let f = ctx.flows;
    let mut acc = Acc {
        span_secs: ctx.globals().span_secs(),
        ..Default::default()
    };
    let mut counts: AHashMap<(u128, u128), u64> = AHashMap::new();
    for i in 0..f.len() {
        let Some(v) = f.host_view(i, ctx.nets) else {
            continue;
        };
        if ctx.nets.contains(v.peer) || !v.originator {
            continue;
        }
        *counts.entry((v.host, v.peer)).or_default() += 1;
    }
    // the pairs with enough connections, sized for them: one lookup per flow in the second pass
    acc.pairs = counts
        .into_iter()
        .filter(|(_, n)| *n >= min_count)
        .map(|(k, n)| (k, Pair::with_capacity(n as usize)))
        .collect();
    for i in 0..f.len() {
        let Some(v) = f.host_view(i, ctx.nets) else {
            continue;
        };
        if !v.originator {
            continue;
        }
        let Some(p) = acc.pairs.get_mut(&(v.host, v.peer)) else {
            continue;
        };
        p.ts.push(f.ts[i]);
        p.bytes.push(f.up[i].saturating_add(f.down[i]) as f64);
        p.rows.push(i as u32);
        *p.ports
            .entry((f.proto[i].index() as u8, f.dst_port[i]))
            .or_default() += 1;
    }
    acc
}

/// The beacon statistics of one pair's connections.
#[derive(Debug, Clone, PartialEq)]
pub struct BeaconStats {
    /// The four sub-scores.
    pub sub: SubScores,
    /// Their weighted mean (RITA-style score, before rarity/novelty).
    pub raw: f64,
    /// Median gap between events, seconds.
    pub period_secs: f64,
    /// MAD of the gaps, seconds.
    pub jitter_secs: f64,
    /// Events after burst merging.
    pub events: usize,
    /// First to last connection, seconds.
    pub span_secs: f64,
    /// First to last event on the host's active timeline (silences closed: [`bm::close_silences`]),
    /// seconds: how long the beacon kept its rhythm. Two bursts of page loads a day apart span a
    /// day but are active for two minutes.
    pub active_secs: f64,
    /// Median bytes (up + down) per connection.
    pub size_median: f64,
    /// MAD of the bytes per connection.
    pub size_mad: f64,
}

/// Scores one pair's connections (start times in µs, bytes per connection) in a capture spanning
/// `dataset_span` seconds; `None` when its span is below `min_duration_secs` or it has fewer than 4
/// events. The weights are checked by the caller ([`CncBeacon`] rejects sums other than 1).
pub fn beacon_stats(
    c: &CncBeaconConfig,
    ts: &[i64],
    bytes: &[f64],
    dataset_span: f64,
) -> Option<BeaconStats> {
    let mut ts = ts.to_vec();
    ts.sort_unstable();
    let span_secs = (*ts.last()? - *ts.first()?) as f64 / 1e6;
    if span_secs < c.min_duration_secs {
        return None;
    }
    let events = bm::merge_bursts(&ts, (c.burst_merge_secs * 1e6) as i64);
    if events.len() < 4 {
        return None;
    }
    let active = bm::close_silences(&events);
    let active_secs = (*active.last()? - *active.first()?) as f64 / 1e6;
    if active_secs < c.min_duration_secs {
        return None;
    }
    let gaps = bm::sorted_gaps_secs(&events);
    let mut sizes = bytes.to_vec();
    sizes.sort_unstable_by(f64::total_cmp);
    let bins = bm::bins_for(
        events.len(),
        c.hist_events_per_bin_count as usize,
        c.hist_max_bins_count as usize,
    );
    let hist = bm::histogram(&active, bins);
    let sub = SubScores {
        ts: bm::regularity_score(&gaps, c.skew_min_spread_ratio, 1.0),
        ds: bm::regularity_score(&sizes, c.skew_min_spread_ratio, 0.0),
        hist: bm::cv_score(&hist).max(bm::bimodal_score(
            &hist,
            0.05,
            1,
            c.hist_bimodal_min_bins_count as usize,
        )),
        dur: bm::duration_score(active_secs, dataset_span, c.dur_ideal_secs),
    };
    let w = [
        c.ts_weight_ratio,
        c.ds_weight_ratio,
        c.hist_weight_ratio,
        c.dur_weight_ratio,
    ];
    Some(BeaconStats {
        raw: bm::weighted(&sub, w),
        sub,
        period_secs: bm::quantile(&gaps, 0.5).unwrap_or(0.0),
        jitter_secs: bm::mad(&gaps),
        events: events.len(),
        span_secs,
        active_secs,
        size_median: bm::quantile(&sizes, 0.5).unwrap_or(0.0),
        size_mad: bm::mad(&sizes),
    })
}

fn top_port(p: &Pair) -> String {
    let best = p
        .ports
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)));
    best.map_or_else(String::new, |((proto, port), _)| {
        format!(
            "{port}/{}",
            crate::schema::Proto::ALL
                .get(*proto as usize)
                .map_or("other", |x| x.as_str())
        )
    })
}

#[allow(clippy::too_many_arguments)]
fn finding(
    ctx: &DetectCtx,
    c: &CncBeaconConfig,
    host: u128,
    peer: u128,
    p: &Pair,
    s: &BeaconStats,
    (rare, novelty, score): (f64, f64, f64),
) -> Finding {
    let port = top_port(p);
    let dest_hosts = ctx.globals().hosts_of(peer);
    let novelty_text = match novelty {
        x if x >= 1.0 => "new since the baseline",
        x if x <= 0.0 => "known in the baseline",
        _ => "baseline learned from this capture",
    };
    let explanation = format!(
        "{} beacons to {}:{port}{}: {} connections every {:.1} s (jitter ±{:.1} s) for {}; {} ±{} per connection; destination talked to by {dest_hosts} of {} internal hosts, {novelty_text}",
        ip::format(host), ip::format(peer), geo_suffix(ctx.geo, peer), p.ts.len(), s.period_secs, s.jitter_secs, duration_text(s.span_secs),
        human_bytes(s.size_median), human_bytes(s.size_mad), ctx.globals().internal_hosts.len()
    );
    let details = json!({
        "port": port, "period_secs": s.period_secs, "jitter_secs": s.jitter_secs, "connections": p.ts.len(), "events": s.events,
        "duration_secs": s.span_secs, "bytes_median": s.size_median, "bytes_mad": s.size_mad,
        "ts_score": s.sub.ts, "ds_score": s.sub.ds, "hist_score": s.sub.hist, "dur_score": s.sub.dur, "raw_score": s.raw,
        "rarity": rare, "novelty": novelty, "destination_hosts": dest_hosts, "internal_hosts": ctx.globals().internal_hosts.len(),
    });
    let (first, last) = (
        p.ts.iter().min().copied().unwrap_or(0),
        p.ts.iter().max().copied().unwrap_or(0),
    );
    let mut rows = p.rows.clone();
    rows.sort_unstable();
    Finding {
        kind: "cnc_beacon".into(),
        detector: "cnc_beacon".into(),
        score,
        hosts: vec![ip::format(host)],
        peers: vec![ip::format(peer)],
        first_seen: Some(format_ts(first)),
        last_seen: Some(format_ts(last)),
        flows: rows.len() as u64,
        flow_rows: rows,
        evidence: Evidence {
            metric: "beacon score (RITA v5 style, boosted by rarity and novelty)".into(),
            observed: score,
            baseline: Some(s.raw),
            threshold: Some(c.min_score_ratio),
            explanation,
            details: details.as_object().cloned().unwrap_or_default(),
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_rate_table() {
        // (median bytes, period s) -> bytes per second
        let cases = [
            (1_100.0, 83.6, 1_100.0 / 83.6),
            (16_000_000.0, 60.0, 16_000_000.0 / 60.0),
            (300.0, 0.0, 0.0),
        ];
        for (size, period, want) in cases {
            assert_eq!(stream_rate(size, period), want, "{size} {period}");
        }
        let c = CncBeaconConfig::default();
        assert!(stream_rate(1_100.0, 83.6) <= c.max_checkin_bytes_per_sec);
        assert!(stream_rate(1_100_000.0, 60.0) > c.max_checkin_bytes_per_sec);
    }

    #[test]
    fn period_weight_table() {
        let ln = |x: f64| x.ln();
        // (jitter ratio, active span s, weight)
        let cases = [
            (0.1, 36_000.0, 1.0),
            (0.31, 36_000.0, ln(1.0 / 0.31) / ln(10.0)),
            (0.001, 36_000.0, 3.0),
            (0.0, 36_000.0, 4.0),
            (1e-9, 36_000.0, 4.0),
            (1.0, 36_000.0, 0.0),
            (2.0, 36_000.0, 0.0),
            // a tight timer over a quarter of an hour: a quarter of its extra weight
            (0.001, 900.0, 1.5),
            // a loose one: its weight whatever the span
            (0.31, 900.0, ln(1.0 / 0.31) / ln(10.0)),
        ];
        for (j, span, want) in cases {
            let got = period_weight(j, 0.1, span, 3600.0);
            assert!((got - want).abs() < 1e-9, "{j} {span}: {got} want {want}");
        }
        // 10 connections an hour apart within 3 s: stronger evidence than 13 within 31 %
        let tight = evidence_factor(
            9.0 * period_weight(0.0009, 0.1, 30_000.0, 3600.0),
            30_000.0,
            16.0,
            3600.0,
        );
        let loose = evidence_factor(
            13.0 * period_weight(0.31, 0.1, 34_000.0, 3600.0),
            34_000.0,
            16.0,
            3600.0,
        );
        assert!(tight > 0.8 && loose < 0.35, "{tight} {loose}");
    }

    #[test]
    fn evidence_factor_table() {
        let cases = [
            // 16 connections a minute apart: 15 periods over 15 minutes
            (15.0, 900.0, (1.0 - (-15.0f64 / 16.0).exp()) * 0.625),
            // a day of 5-minute beacons
            (287.0, 86_100.0, 1.0 - (-287.0f64 / 16.0).exp()),
            (0.0, 0.0, 0.0),
            (16.0, 1800.0, (1.0 - (-1.0f64).exp()) * 0.75),
        ];
        for (periods, span, want) in cases {
            let got = evidence_factor(periods, span, 16.0, 3600.0);
            assert!((got - want).abs() < 1e-12, "{periods} {span}: {got}");
        }
        assert!(evidence_factor(15.0, 900.0, 16.0, 3600.0) * 0.95 < 0.4);
        assert!(evidence_factor(287.0, 86_100.0, 16.0, 3600.0) > 0.99);
    }

    #[test]
    fn trusted_org_table() {
        let t: Vec<String> = TRUSTED_ORGS.iter().map(|s| s.to_string()).collect();
        let cases = [
            ("ESET, spol. s r.o.", true),
            ("Kaspersky Lab AO", true),
            ("Apple Inc.", true),
            ("Microsoft Corporation", true),
            ("Google LLC", true),
            ("Amazon.com, Inc.", false),
            ("Telecom Algeria", false),
            ("", false),
        ];
        for (org, want) in cases {
            assert_eq!(is_trusted_org(org, &t), want, "{org}");
        }
        assert!(!is_trusted_org("ESET", &[String::new()]));
    }

    #[test]
    fn weights_must_sum_to_one() {
        assert!(weights(&CncBeaconConfig::default()).is_ok());
        let bad = CncBeaconConfig {
            ts_weight_ratio: 0.5,
            ..Default::default()
        };
        assert!(weights(&bad).unwrap_err().to_string().contains("sum to 1"));
    }

    /// Start times (µs) from gaps in seconds, in bursts starting at the given seconds.
    fn bursts(starts_gaps: &[(f64, &[f64])]) -> Vec<i64> {
        let mut ts = Vec::new();
        for (start, gaps) in starts_gaps {
            let mut t = *start;
            ts.push((t * 1e6) as i64);
            for g in *gaps {
                t += g;
                ts.push((t * 1e6) as i64);
            }
        }
        ts
    }

    #[test]
    fn the_active_span_is_what_a_beacon_kept() {
        let c = CncBeaconConfig::default();
        // a browsing client loading pages from one site twice, 14.6 hours apart (an independent
        // corporate simulation): 16 connections 0.4-18 s apart, spanning 14.6 h, active 2 minutes
        let visits = bursts(&[
            (0.0, &[8.9, 0.6, 12.2, 3.0, 6.8, 0.4, 10.2, 12.1]),
            (52_600.0, &[2.5, 4.9, 8.4, 10.2, 17.8, 9.6]),
        ]);
        let sizes = vec![10_000.0; visits.len()];
        assert_eq!(beacon_stats(&c, &visits, &sizes, 86_400.0), None);
        // a laptop's beacon every 60 s for 2 hours, asleep 10 hours, then 2 hours more: active 4 h
        // and the one period that stands for the night
        let gaps = [60.0; 120];
        let laptop = bursts(&[(0.0, &gaps), (12.0 * 3600.0, &gaps)]);
        let s = beacon_stats(&c, &laptop, &vec![300.0; laptop.len()], 86_400.0).unwrap();
        assert!(
            (s.active_secs - (2.0 * 7200.0 + 60.0)).abs() < 1.0,
            "{}",
            s.active_secs
        );
        assert!(
            (s.span_secs - (12.0 * 3600.0 + 7200.0)).abs() < 1.0,
            "{}",
            s.span_secs
        );
        assert!((s.sub.dur - s.active_secs / c.dur_ideal_secs).abs() < 1e-9);
        assert!(s.raw > c.min_beacon_score_ratio, "{}", s.raw);
    }

    #[test]
    fn regular_pair_scores_high_and_random_low() {
        let c = CncBeaconConfig::default();
        let regular = Pair {
            ts: (0..100)
                .map(|i| i * 60_000_000 + (i % 3) * 100_000)
                .collect(),
            bytes: vec![300.0; 100],
            ..Default::default()
        };
        let s = beacon_stats(&c, &regular.ts, &regular.bytes, 6000.0).unwrap();
        assert!(
            s.raw > 0.9 && (s.period_secs - 60.0).abs() < 0.2,
            "{}",
            s.raw
        );
        // gaps 1, 2, 4, 8, ... seconds (geometric): irregular
        let ts: Vec<i64> = (0..20).map(|i| (1i64 << i) * 1_000_000).collect();
        let irregular = Pair {
            bytes: (0..20).map(|i| (i * 997 % 50_000) as f64).collect(),
            ts,
            ..Default::default()
        };
        assert!(
            beacon_stats(&c, &irregular.ts, &irregular.bytes, 6000.0)
                .unwrap()
                .raw
                < c.min_beacon_score_ratio
        );
    }
}
