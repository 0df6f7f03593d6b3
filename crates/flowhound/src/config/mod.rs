//! Settings: one TOML file (`--config FILE`), every key documented with its default and valid range.
//!
//! The list of settings is data ([`Setting`]): the `[analysis]` and `[baseline]` tables here, and one
//! `[detectors.NAME]` table per detector of [`crate::detect::REGISTRY`], each declared by the detector
//! itself. The same lists drive validation, `flowhound config example` and `flowhound detectors`.
//! Unknown keys are errors naming the key and the closest known one; out-of-range values name the key,
//! the value and the range.

pub mod keys;

use crate::detect::REGISTRY;
use crate::error::{FlowError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The valid values of a setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// A number within `[min, max]`.
    Float(f64, f64),
    /// An integer within `[min, max]`.
    Int(i64, i64),
    /// `true` or `false`.
    Bool,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A list whose elements are each one of these words.
    ListOf(&'static [&'static str]),
    /// A list of strings checked by the consumer (addresses, ...).
    Strings,
    /// A memory size such as `4GiB` or `512MiB` (at least 512 MiB), or `auto`.
    Size,
    /// Any string (a path).
    Text,
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Range::Float(a, b) => write!(f, "{a} ..= {b}"),
            Range::Int(a, b) => write!(f, "{a} ..= {b}"),
            Range::Bool => write!(f, "true or false"),
            Range::Choice(c) => write!(f, "one of {}", c.join(", ")),
            Range::ListOf(c) => write!(f, "a list of {}", c.join(", ")),
            Range::Strings => write!(f, "a list of strings"),
            Range::Size => write!(
                f,
                "auto, or a size such as 4GiB or 512MiB (at least 512MiB)"
            ),
            Range::Text => write!(f, "a string"),
        }
    }
}

/// One documented setting of a table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    /// The key (with its unit in the name).
    pub key: &'static str,
    /// What it does.
    pub doc: &'static str,
    /// Valid values.
    pub range: Range,
}

/// `[analysis]`: which detectors run and how results are presented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// Detectors to run, by name.
    pub detectors: Vec<String>,
    /// Peers listed per finding.
    pub max_peers_count: u64,
    /// Findings shown in the terminal table.
    pub table_rows_count: u64,
    /// Findings below this severity are left out of every output (`--min-severity`).
    pub min_severity: String,
    /// Memory the analysis may use (`--memory-limit`): `auto` (half of RAM) or a size such as `4GiB`.
    /// Test inputs larger than this are analysed out of core, host shard by host shard.
    pub memory_limit: String,
    /// Where out-of-core runs spill (`--tmp-dir`); empty: the system's temporary directory.
    pub tmp_dir: String,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            detectors: REGISTRY.iter().map(|d| d.name().to_string()).collect(),
            max_peers_count: 10,
            table_rows_count: 25,
            min_severity: "medium".into(),
            memory_limit: "auto".into(),
            tmp_dir: String::new(),
        }
    }
}

/// `[baseline]`: how the baseline is learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BaselineConfig {
    /// Window of the per-host volume profiles.
    pub window_secs: u64,
    /// Distinct internal clients that make an internal host:port a server.
    pub server_min_clients_count: u64,
    /// Highest port that counts as a service port (above: ephemeral).
    pub server_max_port: u64,
    /// Usual destination ports kept per host.
    pub usual_ports_count: u64,
    /// Extra servers: `IP` or `IP:PORT`, added to the discovered inventory.
    pub exclude: Vec<String>,
    /// Window of the per-host fan-out habits (distinct destinations per port, ports per destination).
    pub fanout_window_secs: u64,
    /// Days a rolling baseline keeps (`flowhound baseline update`).
    pub keep_days: u64,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            window_secs: 3600,
            server_min_clients_count: 3,
            server_max_port: 49151,
            usual_ports_count: 10,
            exclude: Vec::new(),
            fanout_window_secs: 300,
            keep_days: 7,
        }
    }
}

/// The `[analysis]` settings.
pub fn analysis_settings() -> Vec<Setting> {
    vec![
        Setting {
            key: "detectors",
            doc: "detectors to run (see `flowhound detectors`)",
            range: Range::ListOf(detector_names()),
        },
        Setting {
            key: "max_peers_count",
            doc: "remote addresses listed per finding",
            range: Range::Int(1, 10_000),
        },
        Setting {
            key: "table_rows_count",
            doc: "findings shown in the terminal table",
            range: Range::Int(1, 100_000),
        },
        Setting {
            key: "min_severity",
            doc: "findings below this severity are left out of the table and every output (low-value findings such as off_hours on ordinary hosts are low)",
            range: Range::Choice(&["low", "medium", "high", "critical"]),
        },
        Setting {
            key: "memory_limit",
            doc: "memory the analysis may use: auto (half of RAM) or a size; larger test inputs are analysed out of core, host shard by host shard, spilling to tmp_dir",
            range: Range::Size,
        },
        Setting {
            key: "tmp_dir",
            doc: "directory for out-of-core spill files (removed at exit); empty: the system's temporary directory",
            range: Range::Text,
        },
    ]
}

fn detector_names() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| REGISTRY.iter().map(|d| d.name()).collect())
}

/// The `[baseline]` settings.
pub const BASELINE_SETTINGS: [Setting; 7] = [
    Setting {
        key: "window_secs",
        doc: "window of per-host volume profiles and per-host detection",
        range: Range::Int(60, 86_400),
    },
    Setting {
        key: "server_min_clients_count",
        doc: "distinct internal clients that make an internal host:port a server",
        range: Range::Int(1, 1_000_000),
    },
    Setting {
        key: "server_max_port",
        doc: "highest port counted as a service port",
        range: Range::Int(1, 65_535),
    },
    Setting {
        key: "usual_ports_count",
        doc: "usual destination ports kept per host",
        range: Range::Int(1, 1000),
    },
    Setting {
        key: "exclude",
        doc: "extra internal servers, `IP` or `IP:PORT`, added to the discovered inventory",
        range: Range::Strings,
    },
    Setting {
        key: "fanout_window_secs",
        doc: "window of the per-host fan-out habits (match port_scan's window_secs)",
        range: Range::Int(10, 86_400),
    },
    Setting {
        key: "keep_days",
        doc: "days a rolling baseline keeps (`flowhound baseline update`); older days age out",
        range: Range::Int(1, 366),
    },
];

/// Every setting.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Config {
    /// `[analysis]`.
    pub analysis: AnalysisConfig,
    /// `[baseline]`.
    pub baseline: BaselineConfig,
    /// `[detectors.NAME]` tables as given (missing keys take their defaults when a detector reads them).
    pub detectors: BTreeMap<String, toml::Value>,
}

fn cfg_err(origin: &str, msg: impl std::fmt::Display) -> FlowError {
    FlowError::Config(format!("{origin}: {msg}"))
}

impl AnalysisConfig {
    /// The memory limit in bytes (`auto`: half of RAM).
    pub fn memory_limit_bytes(&self) -> Result<u64> {
        match self.memory_limit.trim() {
            "" | "auto" => Ok(crate::shard::memory::default_limit_bytes()),
            s => crate::shard::memory::check_limit(crate::shard::memory::parse_size(s)?),
        }
    }
}

impl Config {
    /// Loads and validates a TOML file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| FlowError::io(path, e))?;
        Config::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Config> {
        let value: toml::Value =
            toml::from_str(text).map_err(|e| cfg_err(origin, format!("not valid TOML: {e}")))?;
        let table = value.as_table().cloned().unwrap_or_default();
        keys::check_top(&table).map_err(|m| cfg_err(origin, m))?;
        let section = |name: &str| {
            table
                .get(name)
                .cloned()
                .unwrap_or_else(|| toml::Value::Table(Default::default()))
        };
        keys::check_section("analysis", &section("analysis"), &analysis_settings())
            .map_err(|m| cfg_err(origin, m))?;
        keys::check_section("baseline", &section("baseline"), &BASELINE_SETTINGS)
            .map_err(|m| cfg_err(origin, m))?;
        let analysis: AnalysisConfig = section("analysis")
            .try_into()
            .map_err(|e| cfg_err(origin, format!("[analysis]: {e}")))?;
        let baseline: BaselineConfig = section("baseline")
            .try_into()
            .map_err(|e| cfg_err(origin, format!("[baseline]: {e}")))?;
        let mut detectors = BTreeMap::new();
        if let Some(t) = table.get("detectors").and_then(|v| v.as_table()) {
            // check_top has rejected names that are not in the registry
            let known = t
                .iter()
                .filter_map(|(name, v)| crate::detect::find(name).map(|d| (name, v, d)));
            for (name, v, d) in known {
                let key = format!("detectors.{name}");
                keys::check_section(&key, v, d.settings()).map_err(|m| cfg_err(origin, m))?;
                d.check(v).map_err(|e| cfg_err(origin, e))?;
                detectors.insert(name.clone(), v.clone());
            }
        }
        Ok(Config {
            analysis,
            baseline,
            detectors,
        })
    }

    /// The table of detector `name` as given (an empty table when absent).
    pub fn detector_section(&self, name: &str) -> toml::Value {
        self.detectors
            .get(name)
            .cloned()
            .unwrap_or_else(|| toml::Value::Table(Default::default()))
    }

    /// Checks a detector list (`--detectors` or `[analysis] detectors`) against the registry.
    pub fn check_detector_list(names: &[String]) -> Result<()> {
        for n in names {
            if crate::detect::find(n).is_none() {
                let hint = keys::suggest(n, detector_names().iter().copied())
                    .map_or(String::new(), |s| format!("; did you mean '{s}'?"));
                return Err(FlowError::Config(format!(
                    "unknown detector '{n}'{hint} (see `flowhound detectors`)"
                )));
            }
        }
        Ok(())
    }
}

fn section_example(
    out: &mut String,
    title: &str,
    about: &str,
    defaults: &toml::Value,
    settings: &[Setting],
) {
    out.push_str(&format!("\n# {about}\n[{title}]\n"));
    for s in settings {
        let v = defaults
            .get(s.key)
            .map_or_else(String::new, |v| v.to_string());
        out.push_str(&format!("# {} ({})\n{} = {}\n", s.doc, s.range, s.key, v));
    }
}

/// A commented TOML file of every setting with its default (`flowhound config example`).
pub fn example_toml() -> String {
    let mut out = String::from(
        "# flowhound configuration: every setting with its default. Use with --config FILE.\n",
    );
    out.push_str("# Units are in the key names (_secs, _bytes, _count). See docs/config.md.\n");
    let a = toml::Value::try_from(AnalysisConfig::default()).unwrap_or(toml::Value::Boolean(false));
    section_example(
        &mut out,
        "analysis",
        "Which detectors run and how results are shown.",
        &a,
        &analysis_settings(),
    );
    let b = toml::Value::try_from(BaselineConfig::default()).unwrap_or(toml::Value::Boolean(false));
    section_example(
        &mut out,
        "baseline",
        "How the baseline of normal traffic is learned.",
        &b,
        &BASELINE_SETTINGS,
    );
    for d in REGISTRY {
        let title = format!("detectors.{}", d.name());
        section_example(
            &mut out,
            &title,
            d.description(),
            &d.default_section(),
            d.settings(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_back_to_the_defaults() {
        let text = example_toml();
        let c = Config::from_toml(&text, "example").unwrap();
        assert_eq!(c.analysis, AnalysisConfig::default());
        assert_eq!(c.baseline, BaselineConfig::default());
        assert_eq!(c.detectors.len(), REGISTRY.len());
    }

    #[test]
    fn errors_name_key_value_and_fix() {
        let cases = [
            (
                "[baseline]\nwindow_sec = 60\n",
                "'baseline.window_sec'",
                "did you mean 'window_secs'",
            ),
            ("[analysis]\ndetectors = [\"sigmaa\"]\n", "sigmaa", "sigma"),
            (
                "[baseline]\nwindow_secs = 5\n",
                "baseline.window_secs = 5",
                "60 ..= 86400",
            ),
            (
                "[detectors.sigma]\nk_std = -1.0\n",
                "detectors.sigma.k_std = -1",
                "..=",
            ),
            (
                "[detectors.sigmaa]\n",
                "'detectors.sigmaa'",
                "did you mean 'sigma'",
            ),
            ("[analysys]\n", "'analysys'", "did you mean 'analysis'"),
            (
                "[baseline]\nwindow_secs = \"x\"\n",
                "baseline.window_secs",
                "integer",
            ),
        ];
        for (text, want1, want2) in cases {
            let e = Config::from_toml(text, "my.toml").unwrap_err().to_string();
            assert!(
                e.starts_with("my.toml: ") && e.contains(want1) && e.contains(want2),
                "{text}: {e}"
            );
        }
    }
}
