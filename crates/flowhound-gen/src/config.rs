//! Generator configuration: [`GenConfig`], the [`Scenario`] and decoy kinds, and
//! the timestamp encoding [`TsFormat`].

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An attack scenario injected into the test period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Internal clients exchanging synchronised bursts on an unusual port.
    Botnet,
    /// Periodic small flows from 1-3 clients to one external IP in a new country.
    CncBeacon,
    /// Hundreds of MB to GB uploaded to a never-seen external IP, mostly at night.
    Exfiltration,
    /// Many udp/53 flows to an external resolver with large, varying uploads.
    DnsTunnel,
    /// One client probing hundreds of ports on many internal hosts.
    PortScan,
    /// Ordinary-looking HTTPS to countries absent from the normal period.
    UnusualCountry,
    /// External IPs hammering one public server (in `servers.parquet`).
    ServerAbuse,
    /// A persistent, not strictly periodic C&C channel: a reconnect storm of
    /// short, empty or failed tcp attempts every 3-7 s to one address:port.
    CncChannel,
    /// An internal host flooding one external target with small flows.
    Dos,
    /// Many external sources scanning or brute-forcing one exposed server.
    InboundAttack,
    /// An internal host talking to an address listed in the generated blocklist.
    ThreatIntel,
    /// An IoT device's malware loader fetching several binaries over plain HTTP
    /// from never-seen addresses within a minute or two.
    Dropper,
    /// An infected client delivering mail straight to many external mail servers (SMTP, tcp/25).
    Spam,
}

impl Scenario {
    /// Every scenario, in canonical order.
    pub const ALL: [Scenario; 13] = [
        Scenario::Botnet,
        Scenario::CncBeacon,
        Scenario::Exfiltration,
        Scenario::DnsTunnel,
        Scenario::PortScan,
        Scenario::UnusualCountry,
        Scenario::ServerAbuse,
        Scenario::CncChannel,
        Scenario::Dos,
        Scenario::InboundAttack,
        Scenario::ThreatIntel,
        Scenario::Dropper,
        Scenario::Spam,
    ];

    /// The snake_case name used in JSON, labels and findings (`cnc_beacon`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Botnet => "botnet",
            Scenario::CncBeacon => "cnc_beacon",
            Scenario::Exfiltration => "exfiltration",
            Scenario::DnsTunnel => "dns_tunnel",
            Scenario::PortScan => "port_scan",
            Scenario::UnusualCountry => "unusual_country",
            Scenario::ServerAbuse => "server_abuse",
            Scenario::CncChannel => "cnc_channel",
            Scenario::Dos => "dos",
            Scenario::InboundAttack => "inbound_attack",
            Scenario::ThreatIntel => "threat_intel",
            Scenario::Dropper => "dropper",
            Scenario::Spam => "spam",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown scenario {s:?}"))
    }
}

/// Benign-but-unusual traffic that a naive detector would flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecoyKind {
    /// An internal backup server uploading big volumes every night, in both periods.
    NightlyBackup,
    /// Clients polling a popular destination for updates every hour, in both periods.
    UpdateCheck,
    /// A new employee present only in the test period, with ordinary habits.
    NewEmployee,
    /// A monitoring server polling every internal host on udp/161, in both periods.
    SnmpPoller,
    /// A vulnerability scanner sweeping internal hosts and ports daily at a fixed time.
    VulnScanner,
    /// IoT devices: NTP to public time servers and small periodic cloud heartbeats.
    IotDevice,
    /// A software update rolled out to most clients: each downloads hundreds of MB from one CDN
    /// address within the same hour of the test period (not in normal).
    FleetUpdate,
}

impl DecoyKind {
    /// The snake_case name used in JSON and labels.
    pub fn name(self) -> &'static str {
        match self {
            DecoyKind::NightlyBackup => "nightly_backup",
            DecoyKind::UpdateCheck => "update_check",
            DecoyKind::NewEmployee => "new_employee",
            DecoyKind::SnmpPoller => "snmp_poller",
            DecoyKind::VulnScanner => "vuln_scanner",
            DecoyKind::IotDevice => "iot_device",
            DecoyKind::FleetUpdate => "fleet_update",
        }
    }
}

impl fmt::Display for DecoyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the `timestamp` column is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TsFormat {
    /// `Int64` epoch seconds (default).
    #[default]
    Seconds,
    /// `Int64` epoch milliseconds.
    Millis,
    /// `Float64` epoch seconds with microsecond fraction.
    FloatSeconds,
    /// Arrow `Timestamp(Microsecond, "UTC")`.
    ArrowTimestamp,
}

impl FromStr for TsFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "seconds" | "s" => Ok(TsFormat::Seconds),
            "millis" | "ms" => Ok(TsFormat::Millis),
            "float_seconds" | "float" => Ok(TsFormat::FloatSeconds),
            "arrow_timestamp" | "timestamp" => Ok(TsFormat::ArrowTimestamp),
            _ => Err(format!("unknown timestamp format {s:?}")),
        }
    }
}

/// Monday 2026-03-02 00:00:00 UTC, the default start of the normal period.
pub const DEFAULT_START: i64 = 1_772_409_600;

/// Latest accepted `start` (2100-01-01 00:00:00 UTC).
pub const MAX_START: i64 = 4_102_444_800;

/// Most IoT devices a configuration may ask for.
const MAX_IOT: u32 = 200;

/// Highest accepted `flows_per_host_day`.
const MAX_DENSITY: u64 = 1_000_000;

/// All knobs of the generator. Every field has a default, so a partial JSON/TOML
/// object deserialises.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenConfig {
    /// RNG seed; the same seed and config give byte-identical files.
    pub seed: u64,
    /// Rows in `normal.parquet`.
    pub flows_normal: u64,
    /// Rows in `test.parquet` (normal background plus injected scenarios).
    pub flows_test: u64,
    /// Rows in `servers.parquet` (external clients of the public servers).
    pub flows_servers: u64,
    /// Internal IPv4 subnet in CIDR form, prefix between /16 and /24.
    pub subnet: String,
    /// Number of internal clients (the new-employee decoy is one more).
    pub clients: u32,
    /// Length of the normal period in days.
    pub normal_days: u32,
    /// Length of the test period in hours; `None` keeps the normal flow rate
    /// (`normal_days * 24 * flows_test / flows_normal`, at least 24 h).
    pub test_hours: Option<u32>,
    /// Start of the normal period, epoch seconds UTC (no wall clock is used).
    pub start: i64,
    /// Scenarios to inject (default: all).
    pub scenarios: Vec<Scenario>,
    /// Inject the decoys (default: true). `false` turns every decoy off,
    /// including the infrastructure ones below.
    pub decoys: bool,
    /// The `snmp_poller` decoy: a monitoring server polling every internal
    /// host on udp/161 every 5-15 min (default: true; needs `decoys`).
    pub snmp_poller: bool,
    /// The `vuln_scanner` decoy: a daily scheduled scan of internal hosts and
    /// ports (default: true; needs `decoys`).
    pub vuln_scanner: bool,
    /// Number of `iot_device` decoys (NTP + cloud heartbeats; default 2; 0 = none).
    pub iot_devices: u32,
    /// The `fleet_update` decoy: most clients download a large update from one CDN address in the
    /// same hour of the test period (default: false, so the demo and the benchmarks keep their data;
    /// on in the random sweep configurations; needs `decoys`).
    pub fleet_update: bool,
    /// Traffic density: ordinary flows per client per day. When set, it
    /// replaces `flows_normal` and `flows_test` (`density * clients * days`),
    /// and the test period defaults to 24 h.
    pub flows_per_host_day: Option<u64>,
    /// Also write `labels.parquet` and `servers_labels.parquet`.
    pub labels: bool,
    /// Encoding of the `timestamp` column.
    pub ts_format: TsFormat,
    /// Maximum rows per Parquet row group.
    pub row_group_size: usize,
    /// Countries that normal traffic goes to (ISO 3166 alpha-2).
    pub usual_countries: Vec<String>,
    /// Countries, absent from normal traffic, that scenarios may use.
    pub unusual_countries: Vec<String>,
}

impl Default for GenConfig {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect();
        GenConfig {
            seed: 42,
            flows_normal: 200_000,
            flows_test: 100_000,
            flows_servers: 50_000,
            subnet: "192.168.105.0/24".into(),
            clients: 200,
            normal_days: 7,
            test_hours: None,
            start: DEFAULT_START,
            scenarios: Scenario::ALL.to_vec(),
            decoys: true,
            snmp_poller: true,
            vuln_scanner: true,
            iot_devices: 2,
            fleet_update: false,
            flows_per_host_day: None,
            labels: false,
            ts_format: TsFormat::Seconds,
            row_group_size: 128 * 1024,
            usual_countries: s(&["US", "DE", "GB", "NL", "FR", "IE", "PT", "ES"]),
            unusual_countries: s(&["RU", "CN", "KP", "IR", "NG", "BR"]),
        }
    }
}

impl GenConfig {
    /// Checks the ranges of the time knobs (subnet, clients and countries are
    /// checked when the network is built).
    pub fn validate(&self) -> Result<(), crate::GenError> {
        let bad = |m: &str| Err(crate::GenError::Config(m.to_string()));
        if !(0..=MAX_START).contains(&self.start) {
            return bad("start must be between 1970 and 2100");
        }
        if !(1..=366).contains(&self.normal_days) {
            return bad("normal_days must be 1..=366");
        }
        if self.test_hours.is_some_and(|h| h > 24 * 366) {
            return bad("test_hours must be at most 8784");
        }
        if self.iot_devices > MAX_IOT {
            return bad("iot_devices must be at most 200");
        }
        if self.has(Scenario::Dropper) && (self.iot_devices == 0 || !self.decoys) {
            return bad("the dropper scenario needs an IoT device (its host): set iot_devices to at least 1 with decoys on, or leave dropper out of the scenarios");
        }
        if self
            .flows_per_host_day
            .is_some_and(|d| !(1..=MAX_DENSITY).contains(&d))
        {
            return bad("flows_per_host_day must be 1..=1000000");
        }
        Ok(())
    }

    /// Whether `kind` is selected.
    pub fn has(&self, kind: Scenario) -> bool {
        self.scenarios.contains(&kind)
    }

    /// Length of the test period in hours, as resolved from `test_hours`.
    pub fn resolved_test_hours(&self) -> u32 {
        if let Some(h) = self.test_hours {
            return h.max(1);
        }
        if self.flows_per_host_day.is_some() {
            return 24;
        }
        let normal_hours = u64::from(self.normal_days) * 24;
        let h = normal_hours * self.flows_test / self.flows_normal.max(1);
        u32::try_from(h.clamp(24, 24 * 366)).unwrap_or(24)
    }
}

impl GenConfig {
    /// The configuration with `flows_per_host_day` applied: `flows_normal` and
    /// `flows_test` become `density * clients * days` (the test period counted
    /// in hours / 24); unchanged without a density.
    pub fn resolved(&self) -> GenConfig {
        let mut c = self.clone();
        if let Some(d) = self.flows_per_host_day {
            let per_day = d.saturating_mul(u64::from(self.clients));
            c.flows_normal = per_day.saturating_mul(u64::from(self.normal_days));
            c.flows_test = per_day.saturating_mul(u64::from(self.resolved_test_hours())) / 24;
            c.test_hours = Some(self.resolved_test_hours());
        }
        c
    }

    /// The configuration of the issue-6 era: only the first seven scenarios,
    /// no poller, scanner or IoT devices. For tests whose expectations predate
    /// the realistic infrastructure decoys.
    pub fn classic() -> GenConfig {
        GenConfig {
            scenarios: Scenario::ALL[..7].to_vec(),
            snmp_poller: false,
            vuln_scanner: false,
            iot_devices: 0,
            ..GenConfig::default()
        }
    }
}
