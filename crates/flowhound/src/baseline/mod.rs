//! The baseline: what normal looks like, learned from flows and saved as versioned JSON
//! (`docs/baseline.md`).
//!
//! One pass over the flows fills a mergeable learning [`State`] keyed by address integers ([`learn`]);
//! the per-host and per-window statistics are then derived from it with [`stats::MetricStats`]. A
//! baseline can also be learned from the test input itself (`self_learned`), in which case detectors use
//! robust statistics (median and MAD) so that a minority of attack traffic cannot hide itself.
//!
//! States merge exactly: the states of days ([`learn_days`], [`learn_state`]) or of host shards
//! ([`learn_part`], counted by [`owner`]) give, merged ([`merge`], [`State::merge`]), the baseline of
//! all their flows learned at once. Rolling baselines keep one state per day beside the file ([`days`],
//! `flowhound baseline update`).

mod accumulate;
mod codec;
pub mod days;
mod derive;
pub mod habits;
mod state;
pub mod stats;
pub mod tail;
pub mod union;

pub use accumulate::{
    day_of, hour_of, learn, learn_cancellable, learn_days, learn_part, learn_shard, learn_state,
    owner, parse_exclude, window_of, DAY_US,
};
pub use days::DayInfo;
pub use state::{HabitFlow, State};

use crate::error::{FlowError, Result};
use serde::{Deserialize, Serialize};
use stats::MetricStats;
use std::collections::BTreeMap;
use std::path::Path;

/// Version of the baseline JSON schema (2: `days`, the rolling window's days; version 1 files still
/// load, without days).
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest schema version that still loads.
pub const OLDEST_SCHEMA_VERSION: u32 = 1;

/// Statistics of the two byte metrics.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByteStats {
    /// Bytes sent by the flow source (per flow), or by the host (per host window).
    pub up_bytes: MetricStats,
    /// Bytes sent by the flow destination, or received by the host.
    pub down_bytes: MetricStats,
    /// Flows (per host window only; zero per flow).
    pub flows: MetricStats,
}

/// A count by key (port, country, AS) in a host profile.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyCount {
    /// The key.
    pub key: String,
    /// Flows.
    pub flows: u64,
}

/// What one internal host normally does.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostProfile {
    /// Flows involving the host.
    pub flows: u64,
    /// Bytes the host sent.
    pub up_bytes: u64,
    /// Bytes the host received.
    pub down_bytes: u64,
    /// Windows (of `window_secs`) in which the host had at least one flow.
    pub active_windows: u64,
    /// Statistics over its active windows: flows, bytes sent, bytes received per window.
    pub per_window: ByteStats,
    /// Distinct remote addresses it talked to.
    pub distinct_destinations: u64,
    /// Most used destination ports of the flows it originated (`proto/port`), busiest first.
    pub usual_dst_ports: Vec<KeyCount>,
    /// Countries of its external peers, busiest first.
    pub countries: Vec<KeyCount>,
    /// AS numbers of its external peers, busiest first.
    pub asns: Vec<KeyCount>,
    /// Flows per hour of the day (UTC), index 0 = 00:00-00:59.
    pub active_hours: Vec<u64>,
    /// Internal addresses it talked to.
    pub internal_peers: Vec<String>,
}

/// An internal service: discovered (many internal clients on a stable port) or configured.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Address.
    pub ip: String,
    /// `tcp`, `udp`, ...; `any` for configured entries without a port.
    pub proto: String,
    /// Service port; `null` for a configured address without a port (every port).
    pub port: Option<u16>,
    /// Distinct internal clients seen.
    pub clients: u64,
    /// Flows seen.
    pub flows: u64,
    /// `discovered` or `configured`.
    pub source: String,
}

/// An edge of the internal communication graph.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// Client (flow source).
    pub src: String,
    /// Server side (flow destination).
    pub dst: String,
    /// Destination ports used (at most 32, smallest first).
    pub ports: Vec<u16>,
    /// Flows.
    pub flows: u64,
}

/// An external destination, country or AS with its prevalence.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prevalence {
    /// Internal hosts that contacted it.
    pub hosts: u64,
    /// Flows.
    pub flows: u64,
    /// AS organisation (ASNs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

/// External destinations, countries and ASNs seen, keyed by address / ISO code / AS number.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct External {
    /// Remote addresses.
    pub destinations: BTreeMap<String, Prevalence>,
    /// Countries (`??` when unknown).
    pub countries: BTreeMap<String, Prevalence>,
    /// AS numbers (as text).
    pub asns: BTreeMap<String, Prevalence>,
}

/// Where a baseline was learned from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Input files.
    pub files: Vec<String>,
    /// Flows learned from.
    pub flows: u64,
    /// First flow (RFC 3339).
    pub first_seen: Option<String>,
    /// Last flow (RFC 3339).
    pub last_seen: Option<String>,
    /// True when learned from the test input itself (detectors then use median/MAD).
    pub self_learned: bool,
}

/// The valid windows of a baseline: the range of the `[baseline] window_secs` setting.
fn window_secs_range() -> std::ops::RangeInclusive<u64> {
    for s in &crate::config::BASELINE_SETTINGS {
        if let ("window_secs", crate::config::Range::Int(lo, hi)) = (s.key, &s.range) {
            return (*lo).max(1) as u64..=(*hi).max(1) as u64;
        }
    }
    unreachable!("[baseline] window_secs has an integer range in config::BASELINE_SETTINGS")
}

/// The baseline model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Where it was learned from.
    pub source: Source,
    /// Internal networks used (CIDR).
    pub internal_networks: Vec<String>,
    /// Window of the per-host profiles, seconds.
    pub window_secs: u64,
    /// Per-flow statistics of all flows.
    pub global: ByteStats,
    /// Statistics over every (internal host, active window): the population reference.
    pub host_windows: ByteStats,
    /// Heavy tail of host windows relative to each host's median (the volume detectors' tail guard).
    /// Absent in files written before it existed: the guard is then off.
    #[serde(default)]
    pub relative_tail: tail::RelativeTails,
    /// Internal host profiles, by address.
    pub hosts: BTreeMap<String, HostProfile>,
    /// Internal servers.
    pub servers: Vec<Server>,
    /// Internal-to-internal pairs.
    pub internal_graph: Vec<Edge>,
    /// External destinations, countries, ASNs.
    pub external: External,
    /// Recurring behaviours per host (peaks, fan-out, upload destinations) that detectors check a
    /// candidate against. Absent in files written before it existed: the checks are then off.
    #[serde(default)]
    pub habits: habits::Habits,
    /// The days of a rolling baseline, oldest first, whose learning states live in the sidecar
    /// directory `FILE.days/` ([`days`]). Empty in files written before version 2 and in baselines
    /// learned in memory (`analyze`): those cannot be updated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<DayInfo>,
}

/// Derives the baseline of the union of `parts`: learning states of days, or of host shards
/// ([`learn_part`]). Equal to the baseline learned from all their flows at once (see [`State`]).
/// The settings of the derived statistics are those of the first part.
pub fn merge(parts: Vec<State>) -> Result<Baseline> {
    let mut all = State::default();
    for p in parts {
        all.merge(p)?;
    }
    all.finish()
}

impl Baseline {
    /// The profile of a host (integer address).
    pub fn host(&self, ip: u128) -> Option<&HostProfile> {
        self.hosts.get(&crate::ip::format(ip))
    }

    /// False for a file written before the heavy-tail model existed (its volume guard is then off).
    pub fn has_tail_model(&self) -> bool {
        let t = &self.relative_tail;
        self.hosts.is_empty() || t.up_bytes.count > 0 || t.down_bytes.count > 0
    }

    /// True when detectors must use robust statistics (self-learned baseline).
    pub fn robust(&self) -> bool {
        self.source.self_learned
    }

    /// Serialises as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| FlowError::Internal(e.to_string()))
    }

    /// Parses JSON, checking the schema version; `origin` names the file in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Baseline> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            FlowError::Config(format!(
                "{origin}: not a flowhound baseline (invalid JSON: {e})"
            ))
        })?;
        let version = v.get("schema_version").and_then(|x| x.as_u64());
        if !version
            .is_some_and(|x| (OLDEST_SCHEMA_VERSION as u64..=SCHEMA_VERSION as u64).contains(&x))
        {
            return Err(FlowError::Config(format!(
                "{origin}: baseline schema_version is {version:?}, this flowhound reads {OLDEST_SCHEMA_VERSION} to {SCHEMA_VERSION}; re-create it with `flowhound baseline`"
            )));
        }
        let b: Baseline = serde_json::from_value(v).map_err(|e| {
            FlowError::Config(format!("{origin}: not a valid flowhound baseline: {e}"))
        })?;
        let range = window_secs_range();
        if !range.contains(&b.window_secs) {
            return Err(FlowError::Config(format!(
                "{origin}: baseline window_secs is {}, outside {}..={} seconds (the range of [baseline] window_secs); re-create it with `flowhound baseline` (window from --config [baseline] window_secs)",
                b.window_secs,
                range.start(),
                range.end()
            )));
        }
        Ok(b)
    }

    /// Writes the baseline atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::output::atomic::write_string(path, &(self.to_json()? + "\n"))
    }

    /// Reads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path).map_err(|e| FlowError::io(path, e))?;
        Baseline::from_json(&text, &path.display().to_string())
    }

    /// True when `ip:port` (any port when the entry has none) is a known internal server.
    pub fn is_server(&self, ip: &str, port: u16) -> bool {
        self.servers
            .iter()
            .any(|s| s.ip == ip && s.port.is_none_or(|p| p == port))
    }
}
