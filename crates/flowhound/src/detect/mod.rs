//! Detectors: one file per detector, each implementing [`Detector`], all listed in [`REGISTRY`].
//!
//! A detector has a name, a one-line description, a config table type (serde, `deny_unknown_fields`,
//! defaults) with its documented [`Setting`]s (key with unit, doc, valid range), and `run`, which reads
//! the [`DetectCtx`] (test flows as batches and as columns; the baseline; the geo stack; the internal
//! networks; the whole config) and returns raw findings. The registry drives
//! `flowhound detectors`, `flowhound config example`, config validation and `--detectors`.
//!
//! Adding a detector: write `detect/NAME.rs` with a unit struct implementing [`Detector`], add it to
//! [`REGISTRY`], document it in `docs/detectors.md`.

pub mod beacon_math;
pub mod behaviour;
pub mod botnet;
pub mod channel_math;
pub mod cnc_beacon;
pub mod cnc_channel;
pub mod corroborate;
pub mod dns_anomaly;
pub mod dos;
pub mod dropper;
pub mod exfiltration;
pub mod flows;
pub mod globals;
pub mod habit_match;
pub mod inbound_attack;
pub mod infrastructure;
pub mod intel_list;
pub mod iqr;
pub mod mad;
pub mod notebook;
pub mod off_hours;
pub mod p2p_overlay;
pub mod port_scan;
pub mod proxied_cnc;
pub mod public_servers;
pub mod rows;
pub mod server_abuse;
pub mod shared_cnc;
pub mod sigma;
pub mod spam;
pub mod threat_intel;
pub mod unusual_country;
pub mod volume;
pub mod volume_config;
pub mod zscore;

use crate::baseline::Baseline;
use crate::config::{Config, Setting};
use crate::error::{FlowError, Result};
use crate::findings::{finalize, rank, Finding, Severity};
use crate::net::InternalNets;
use datafusion::arrow::record_batch::RecordBatch;
use flowhound_geo::GeoStack;
use flows::Flows;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Everything a detector may read.
pub struct DetectCtx<'a> {
    /// The test flows as canonical record batches.
    pub batches: &'a [RecordBatch],
    /// The same flows as columns (row `i` = flow `i` of `batches`, concatenated).
    pub flows: &'a Flows,
    /// The baseline.
    pub baseline: &'a Baseline,
    /// Geo/ASN lookups.
    pub geo: &'a GeoStack,
    /// Internal networks.
    pub nets: &'a InternalNets,
    /// All settings.
    pub config: &'a Config,
    host_windows: OnceLock<volume::HostWindows>,
    relays: OnceLock<ahash::AHashSet<(u128, u16)>>,
    globals: OnceLock<globals::TestGlobals>,
    given_globals: Option<&'a globals::TestGlobals>,
    cancel: Option<&'a AtomicBool>,
}

impl<'a> DetectCtx<'a> {
    /// A context over the given parts.
    pub fn new(
        batches: &'a [RecordBatch],
        flows: &'a Flows,
        baseline: &'a Baseline,
        geo: &'a GeoStack,
        nets: &'a InternalNets,
        config: &'a Config,
    ) -> Self {
        DetectCtx {
            batches,
            flows,
            baseline,
            geo,
            nets,
            config,
            host_windows: OnceLock::new(),
            relays: OnceLock::new(),
            globals: OnceLock::new(),
            given_globals: None,
            cancel: None,
        }
    }

    /// The same context, whose [`run`] stops between detectors once `flag` is set.
    pub fn cancellable(self, flag: &'a AtomicBool) -> Self {
        DetectCtx {
            cancel: Some(flag),
            ..self
        }
    }

    /// The same context, whose whole-input statistics are `g` (computed over more flows than this
    /// context holds: one host shard's flows, see [`crate::shard`]).
    pub fn with_globals(self, g: &'a globals::TestGlobals) -> Self {
        DetectCtx {
            given_globals: Some(g),
            ..self
        }
    }

    /// Statistics of the whole test input (given, or computed once from the flows).
    pub fn globals(&self) -> &globals::TestGlobals {
        match self.given_globals {
            Some(g) => g,
            None => self
                .globals
                .get_or_init(|| globals::TestGlobals::of(self.flows, self.nets)),
        }
    }

    /// The network's store-and-forward servers by (host, port) ([`infrastructure::relays`]),
    /// computed once and shared by detectors.
    pub fn relays(&self) -> &ahash::AHashSet<(u128, u16)> {
        self.relays
            .get_or_init(|| infrastructure::relays(self.flows, self.nets, self.baseline))
    }

    /// True when `host` forwards on `port` the store-and-forward service it offers there (a mail
    /// exchanger delivering, a resolver recursing).
    pub fn relayed(&self, host: u128, port: u16) -> bool {
        infrastructure::RELAY_PORTS.contains(&port) && self.relays().contains(&(host, port))
    }

    /// Fails once the flag of [`DetectCtx::cancellable`] is set.
    pub fn check_cancel(&self) -> Result<()> {
        match self.cancel {
            Some(f) if f.load(Ordering::Relaxed) => Err(FlowError::Internal("interrupted".into())),
            _ => Ok(()),
        }
    }

    /// Per (internal host, window) sums of the test flows, computed once and shared by detectors.
    pub fn host_windows(&self) -> &volume::HostWindows {
        if let Some(hw) = self.given_globals.and_then(|g| g.host_windows.as_ref()) {
            return hw;
        }
        self.host_windows.get_or_init(|| {
            volume::HostWindows::of(self.flows, self.nets, self.baseline.window_secs)
        })
    }
}

/// A detector. Implement this; the registry uses it through [`DynDetector`].
pub trait Detector: Sync {
    /// Its config table `[detectors.NAME]` (serde with `deny_unknown_fields` and `default`).
    type Config: Serialize + DeserializeOwned + Default;
    /// The name (config table, `--detectors`, findings' `detector`).
    fn name(&self) -> &'static str;
    /// One line: what it finds.
    fn description(&self) -> &'static str;
    /// Its settings, documented, with valid ranges.
    fn settings(&self) -> &'static [Setting];
    /// Checks what the settings' ranges cannot (values that depend on each other, texts to parse), so
    /// config loading rejects them up front; the error names the key. `run` may check again.
    fn validate(&self, _cfg: &Self::Config) -> Result<()> {
        Ok(())
    }
    /// Finds problems.
    fn run(&self, cfg: &Self::Config, ctx: &DetectCtx) -> Result<Vec<Finding>>;
    /// True for a detector that reads only flows between two internal hosts and judges them together
    /// (a graph over hosts): the out-of-core runner ([`crate::shard`]) runs it once over those flows
    /// instead of host shard by host shard.
    fn internal_pairs_only(&self) -> bool {
        false
    }
    /// Long-form markdown for docs/detectors.md: what it looks at, formula, thresholds, blind spots,
    /// tuning.
    fn doc(&self) -> &'static str {
        ""
    }
    /// Findings drawn from every other detector's findings, once the shards' findings are merged and
    /// corroborated ([`finish`]; `found` is ranked): for a detector that pivots on what the others
    /// found (e.g. who else reached a C&C peer). The context's flows are empty there; its
    /// [`DetectCtx::globals`] hold the whole input's statistics. None by default.
    fn pivot(
        &self,
        _cfg: &Self::Config,
        _found: &[Finding],
        _ctx: &DetectCtx,
    ) -> Result<Vec<Finding>> {
        Ok(Vec::new())
    }
}

/// The object-safe face of a [`Detector`], for the registry.
pub trait DynDetector: Sync {
    /// See [`Detector::name`].
    fn name(&self) -> &'static str;
    /// See [`Detector::description`].
    fn description(&self) -> &'static str;
    /// See [`Detector::settings`].
    fn settings(&self) -> &'static [Setting];
    /// See [`Detector::doc`].
    fn doc(&self) -> &'static str;
    /// The default config table.
    fn default_section(&self) -> toml::Value;
    /// Checks that a table deserialises into the config type and passes [`Detector::validate`].
    fn check(&self, section: &toml::Value) -> Result<()>;
    /// See [`Detector::internal_pairs_only`].
    fn internal_pairs_only(&self) -> bool;
    /// Runs with a config table (missing keys take their defaults).
    fn run_section(&self, section: &toml::Value, ctx: &DetectCtx) -> Result<Vec<Finding>>;
    /// [`Detector::pivot`] with a config table.
    fn pivot_section(
        &self,
        section: &toml::Value,
        found: &[Finding],
        ctx: &DetectCtx,
    ) -> Result<Vec<Finding>>;
}

impl<D: Detector> DynDetector for D {
    fn name(&self) -> &'static str {
        Detector::name(self)
    }
    fn description(&self) -> &'static str {
        Detector::description(self)
    }
    fn settings(&self) -> &'static [Setting] {
        Detector::settings(self)
    }
    fn doc(&self) -> &'static str {
        Detector::doc(self)
    }
    fn default_section(&self) -> toml::Value {
        toml::Value::try_from(D::Config::default())
            .unwrap_or_else(|_| toml::Value::Table(Default::default()))
    }
    fn check(&self, section: &toml::Value) -> Result<()> {
        self.validate(&parse_section::<D>(self, section)?)
    }
    fn internal_pairs_only(&self) -> bool {
        Detector::internal_pairs_only(self)
    }
    fn run_section(&self, section: &toml::Value, ctx: &DetectCtx) -> Result<Vec<Finding>> {
        self.run(&parse_section::<D>(self, section)?, ctx)
    }
    fn pivot_section(
        &self,
        section: &toml::Value,
        found: &[Finding],
        ctx: &DetectCtx,
    ) -> Result<Vec<Finding>> {
        self.pivot(&parse_section::<D>(self, section)?, found, ctx)
    }
}

/// Detector `d`'s settings in `config` (missing keys take their defaults): for a detector, or the
/// out-of-core runner, that reads a detector's settings outside its `run`.
pub(crate) fn settings_of<D: Detector>(d: &D, config: &Config) -> Result<D::Config> {
    parse_section(d, &config.detector_section(Detector::name(d)))
}

/// A detector's table as its config type (missing keys take their defaults).
fn parse_section<D: Detector>(d: &D, section: &toml::Value) -> Result<D::Config> {
    section
        .clone()
        .try_into()
        .map_err(|e| FlowError::Config(format!("[detectors.{}]: {e}", Detector::name(d))))
}

/// Every detector, in display order.
pub static REGISTRY: &[&dyn DynDetector] = &[
    &sigma::Sigma,
    &iqr::Iqr,
    &zscore::Zscore,
    &mad::Mad,
    &exfiltration::Exfiltration,
    &unusual_country::UnusualCountry,
    &dns_anomaly::DnsAnomaly,
    &server_abuse::ServerAbuse,
    &off_hours::OffHours,
    &botnet::Botnet,
    &cnc_beacon::CncBeacon,
    &port_scan::PortScan,
    &cnc_channel::CncChannel,
    &p2p_overlay::P2pOverlay,
    &dos::Dos,
    &spam::Spam,
    &inbound_attack::InboundAttack,
    &threat_intel::ThreatIntel,
    &dropper::Dropper,
    &proxied_cnc::ProxiedCnc,
    &shared_cnc::SharedCnc,
];

/// The detector called `name`.
pub fn find(name: &str) -> Option<&'static dyn DynDetector> {
    REGISTRY.iter().copied().find(|d| d.name() == name)
}

/// Runs the named detectors (in registry order) and returns finalized findings (merged, enriched,
/// critical only when corroborated, one per incident ([`fold_incidents`](crate::findings::fold)), at `analysis.min_severity` or above, sorted, numbered, linked),
/// with peers capped at `analysis.max_peers_count`.
pub fn run(ctx: &DetectCtx, names: &[String]) -> Result<Vec<Finding>> {
    let raw = run_raw(ctx, names)?;
    finish(raw, ctx, names)
}

/// The registry's detectors named in `names`, in registry order.
fn chosen(names: &[String]) -> impl Iterator<Item = &'static dyn DynDetector> + '_ {
    REGISTRY
        .iter()
        .copied()
        .filter(|d| names.iter().any(|n| n == d.name()))
}

/// The detectors' findings as they report them, before [`finish`] merges and ranks them. The
/// out-of-core runner ([`crate::shard`]) calls this once per host shard.
pub fn run_raw(ctx: &DetectCtx, names: &[String]) -> Result<Vec<Finding>> {
    Config::check_detector_list(names)?;
    min_severity(ctx.config)?;
    let chosen: Vec<&dyn DynDetector> = chosen(names).collect();
    let results = in_parallel(&chosen, |d| {
        ctx.check_cancel()?;
        d.run_section(&ctx.config.detector_section(d.name()), ctx)
    });
    ctx.check_cancel()?;
    let mut raw = Vec::new();
    for r in results {
        raw.extend(r?);
    }
    crate::verdicts::stamp(&mut raw, ctx.flows);
    Ok(raw)
}

/// Runs `job` on every item with one worker per core, returning the results in item order.
pub(crate) fn in_parallel<T: Sync, R: Send>(items: &[T], job: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<R>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers.min(items.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = job(item);
                if let Ok(mut slot) = slots[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    slots
        .into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect()
}

/// Merges, enriches, corroborates, adds the named detectors' [pivots](Detector::pivot), folds and
/// ranks raw findings (see [`run`]). Reads only the context's baseline, geo stack, networks, settings
/// and whole-input statistics ([`DetectCtx::globals`]), never its flows.
pub fn finish(raw: Vec<Finding>, ctx: &DetectCtx, names: &[String]) -> Result<Vec<Finding>> {
    let min = min_severity(ctx.config)?;
    let cap = ctx.config.analysis.max_peers_count as usize;
    let mut out = finalize(raw, ctx.geo, cap);
    corroborate::hold_uncorroborated(&mut out, ctx);
    let mut pivoted = Vec::new();
    for d in chosen(names) {
        let section = ctx.config.detector_section(d.name());
        pivoted.extend(d.pivot_section(&section, &out, ctx)?);
    }
    out.extend(finalize(pivoted, ctx.geo, cap));
    proxied_cnc::hold_relayed(&mut out);
    Ok(rank(crate::findings::fold::fold_incidents(out), min))
}

/// The `[analysis] min_severity` setting, parsed.
pub fn min_severity(config: &Config) -> Result<Severity> {
    let s = &config.analysis.min_severity;
    Severity::parse(s).ok_or_else(|| {
        FlowError::Config(format!(
            "[analysis] min_severity '{s}': use low, medium, high or critical"
        ))
    })
}
