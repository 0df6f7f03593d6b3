//! The ground-truth document written to `truth.json` (shape documented in
//! `docs/generator.md`).

use crate::config::{DecoyKind, Scenario};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the truth-file format.
pub const TRUTH_FORMAT: u32 = 1;

/// A half-open time interval `[start, end)` in epoch seconds UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Period {
    /// First second of the interval.
    pub start: i64,
    /// First second after the interval.
    pub end: i64,
}

/// The normal and test periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Periods {
    /// Period covered by `normal.parquet`.
    pub normal: Period,
    /// Period covered by `test.parquet` (starts where normal ends).
    pub test: Period,
}

/// The simulated network.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkTruth {
    /// Internal subnet (CIDR).
    pub subnet: String,
    /// Internal clients present in both periods.
    pub clients: Vec<String>,
    /// Internal servers by role (`dns`, `web`, `file`, `mail`, `db`, `backup`,
    /// `monitoring`, `scanner`).
    pub internal_servers: BTreeMap<String, String>,
    /// Public servers in 200.0.0.0/24 by role (`web`, `mail`, `dns`, `vpn`).
    pub public_servers: BTreeMap<String, String>,
    /// Countries normal traffic goes to.
    pub usual_countries: Vec<String>,
    /// IoT devices (the `iot_device` decoy), present in both periods.
    pub iot: Vec<String>,
}

/// Rows written per file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RowCounts {
    /// Rows of `normal.parquet`.
    pub normal: u64,
    /// Rows of `test.parquet`.
    pub test: u64,
    /// Rows of `servers.parquet`.
    pub servers: u64,
}

/// One injected scenario instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioTruth {
    /// Scenario kind; findings of the same `kind` are scored against it.
    pub kind: Scenario,
    /// File holding its flows: `test` or `servers`.
    #[serde(default)]
    pub file: String,
    /// Hosts a detector should blame: internal IPs, or external IPs for
    /// `server_abuse`.
    pub hosts: Vec<String>,
    /// The other side (C&C, exfiltration target, scanned hosts, abused server...).
    #[serde(default)]
    pub peers: Vec<String>,
    /// Destination ports used.
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Countries of external peers.
    #[serde(default)]
    pub countries: Vec<String>,
    /// First flow, epoch seconds.
    #[serde(default)]
    pub start: i64,
    /// Last flow, epoch seconds.
    #[serde(default)]
    pub end: i64,
    /// Number of flows injected.
    #[serde(default)]
    pub flows: u64,
    /// Sum of `up_bytes` of those flows.
    #[serde(default)]
    pub up_bytes: u64,
    /// Sum of `down_bytes` of those flows.
    #[serde(default)]
    pub down_bytes: u64,
    /// Human description with the drawn parameters.
    #[serde(default)]
    pub note: String,
    /// Drawn numeric parameters, by name (see `docs/generator.md`).
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
}

/// One decoy: benign traffic that looks suspicious.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecoyTruth {
    /// Decoy kind.
    pub kind: DecoyKind,
    /// Internal hosts producing it (these must NOT be blamed).
    pub hosts: Vec<String>,
    /// External destinations.
    #[serde(default)]
    pub peers: Vec<String>,
    /// Destination ports.
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Files containing it (`normal`, `test`).
    #[serde(default)]
    pub files: Vec<String>,
    /// Flows injected over both periods.
    #[serde(default)]
    pub flows: u64,
    /// Human description.
    #[serde(default)]
    pub note: String,
}

/// The whole ground truth of a generated dataset.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Truth {
    /// Always `flowhound-gen`.
    pub generator: String,
    /// [`TRUTH_FORMAT`].
    pub format_version: u32,
    /// Seed used.
    pub seed: u64,
    /// Time periods.
    pub periods: Periods,
    /// Rows per file.
    pub rows: RowCounts,
    /// The network.
    pub network: NetworkTruth,
    /// Injected scenarios.
    pub scenarios: Vec<ScenarioTruth>,
    /// Injected decoys.
    pub decoys: Vec<DecoyTruth>,
    /// The blocklist written next to the data (`intel.txt`), when a scenario
    /// (`threat_intel`) lists addresses; pass it to the detectors' `--intel`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intel_file: Option<String>,
}

impl Truth {
    /// Parses a `truth.json` document.
    pub fn from_json(s: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(s)
    }
}
