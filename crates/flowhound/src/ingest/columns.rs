//! Which source column fills which canonical column: per-format defaults, user `--map` overrides, and the
//! up-front check that every required column is there.

use super::Format;
use crate::error::{FlowError, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Canonical columns a reader fills (the `label`, `duration`, `packets` and `src_port` ones are optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// `ts`
    Ts,
    /// `src_ip`
    SrcIp,
    /// `dst_ip`
    DstIp,
    /// `proto`
    Proto,
    /// `src_port`
    SrcPort,
    /// `dst_port`
    DstPort,
    /// `up_bytes`
    Up,
    /// `down_bytes`
    Down,
    /// `duration`
    Duration,
    /// `packets`
    Packets,
    /// `label`
    Label,
}

impl Target {
    /// Every target, in schema order.
    pub const ALL: [Target; 11] = [
        Target::Ts,
        Target::SrcIp,
        Target::DstIp,
        Target::Proto,
        Target::SrcPort,
        Target::DstPort,
        Target::Up,
        Target::Down,
        Target::Duration,
        Target::Packets,
        Target::Label,
    ];

    /// The canonical column name (also the key of `--map`).
    pub fn name(self) -> &'static str {
        use crate::schema::col;
        match self {
            Target::Ts => col::TS,
            Target::SrcIp => col::SRC_IP,
            Target::DstIp => col::DST_IP,
            Target::Proto => col::PROTO,
            Target::SrcPort => col::SRC_PORT,
            Target::DstPort => col::DST_PORT,
            Target::Up => col::UP_BYTES,
            Target::Down => col::DOWN_BYTES,
            Target::Duration => col::DURATION,
            Target::Packets => col::PACKETS,
            Target::Label => col::LABEL,
        }
    }

    /// Parses a `--map` key (canonical names, plus the analysts' `timestamp` and `port`).
    pub fn parse(key: &str) -> Option<Target> {
        match key.trim() {
            "timestamp" => Some(Target::Ts),
            "port" => Some(Target::DstPort),
            k => Target::ALL.into_iter().find(|t| t.name() == k),
        }
    }

    /// Whether a flow cannot be built without it.
    pub fn required(self) -> bool {
        !matches!(
            self,
            Target::SrcPort | Target::Duration | Target::Packets | Target::Label
        )
    }

    /// Source column names tried, case-insensitively, for generic CSV and Parquet.
    fn generic_names(self) -> &'static [&'static str] {
        match self {
            Target::Ts => &[
                "ts",
                "timestamp",
                "time",
                "starttime",
                "start",
                "stime",
                "first_seen",
                "ts_start",
            ],
            Target::SrcIp => &[
                "src_ip",
                "srcaddr",
                "src",
                "source_ip",
                "saddr",
                "sa",
                "id.orig_h",
            ],
            Target::DstIp => &[
                "dst_ip",
                "dstaddr",
                "dst",
                "destination_ip",
                "daddr",
                "da",
                "id.resp_h",
            ],
            Target::Proto => &["proto", "protocol", "pr"],
            Target::SrcPort => &["src_port", "sport", "sp", "id.orig_p"],
            Target::DstPort => &["dst_port", "port", "dport", "dp", "id.resp_p"],
            Target::Up => &[
                "up_bytes",
                "orig_bytes",
                "srcbytes",
                "sbytes",
                "ibyt",
                "bytes_up",
            ],
            Target::Down => &["down_bytes", "resp_bytes", "dbytes", "obyt", "bytes_down"],
            Target::Duration => &["duration", "dur", "td"],
            Target::Packets => &["packets", "totpkts", "pkts", "ipkt"],
            Target::Label => &["label"],
        }
    }
}

/// How one canonical column is computed from source columns (indices into the source header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Taken from one column.
    Col(usize),
    /// `a - b` (binetflow down bytes: `TotBytes - SrcBytes`).
    Diff(usize, usize),
    /// `a + b` (Zeek packets: `orig_pkts + resp_pkts`).
    Sum(usize, usize),
    /// Not available (optional columns only).
    Absent,
}

/// User overrides: canonical target -> source column name (`--map up_bytes=SrcBytes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap(pub BTreeMap<Target, String>);

impl ColumnMap {
    /// Parses `target=source` pairs.
    pub fn parse<S: AsRef<str>>(pairs: &[S]) -> Result<Self> {
        let mut map = BTreeMap::new();
        for p in pairs {
            let p = p.as_ref();
            let (k, v) = p.split_once('=').ok_or_else(|| {
                FlowError::Config(format!(
                    "--map '{p}': expected CANONICAL=SOURCE, e.g. --map up_bytes=SrcBytes"
                ))
            })?;
            let target = Target::parse(k).ok_or_else(|| {
                let names: Vec<_> = Target::ALL.iter().map(|t| t.name()).collect();
                FlowError::Config(format!(
                    "--map '{p}': '{k}' is not a flow column; use one of {}",
                    names.join(", ")
                ))
            })?;
            map.insert(target, v.trim().to_string());
        }
        Ok(ColumnMap(map))
    }
}

/// The resolved plan for one file: a `Source` per target.
#[derive(Debug, Clone)]
pub struct Resolved(pub Vec<(Target, Source)>);

impl Resolved {
    /// The source of `t`.
    pub fn get(&self, t: Target) -> &Source {
        self.0
            .iter()
            .find(|(x, _)| *x == t)
            .map(|(_, s)| s)
            .unwrap_or(&Source::Absent)
    }
}

/// Resolves every target for a file with header `names`, in `format`, honouring `map`.
pub fn resolve(path: &Path, names: &[String], format: Format, map: &ColumnMap) -> Result<Resolved> {
    let find = |n: &str| names.iter().position(|h| h.eq_ignore_ascii_case(n));
    let mut out = Vec::new();
    for t in Target::ALL {
        let src = match map.0.get(&t) {
            Some(user) => Source::Col(
                find(user)
                    .ok_or_else(|| missing(path, t, &format!("--map names '{user}'"), names))?,
            ),
            None => format_default(t, format, &find),
        };
        if src == Source::Absent && t.required() {
            return Err(missing(path, t, &wanted(t, format), names));
        }
        out.push((t, src));
    }
    Ok(Resolved(out))
}

fn format_default(t: Target, format: Format, find: &dyn Fn(&str) -> Option<usize>) -> Source {
    let pair = |a: &str, b: &str, f: fn(usize, usize) -> Source| match (find(a), find(b)) {
        (Some(x), Some(y)) => f(x, y),
        _ => Source::Absent,
    };
    match (format, t) {
        (Format::Binetflow, Target::Down) => pair("TotBytes", "SrcBytes", Source::Diff),
        (Format::ZeekTsv | Format::ZeekJson, Target::Packets) => {
            pair("orig_pkts", "resp_pkts", Source::Sum)
        }
        _ => match t.generic_names().iter().find_map(|n| find(n)) {
            Some(i) => Source::Col(i),
            // Zeek records exported as CSV (IoT-23) keep Zeek's two packet counters.
            None if t == Target::Packets => pair("orig_pkts", "resp_pkts", Source::Sum),
            None => Source::Absent,
        },
    }
}

fn wanted(t: Target, format: Format) -> String {
    match (format, t) {
        (Format::Binetflow, Target::Down) => "binetflow needs TotBytes and SrcBytes".to_string(),
        _ => format!("looked for {}", t.generic_names().join(", ")),
    }
}

fn missing(path: &Path, t: Target, wanted: &str, names: &[String]) -> FlowError {
    FlowError::MissingColumn {
        path: path.to_path_buf(),
        column: t.name().to_string(),
        wanted: wanted.to_string(),
        found: names.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn binetflow_derives_down_bytes() {
        let h = names(&[
            "StartTime",
            "Dur",
            "Proto",
            "SrcAddr",
            "Sport",
            "Dir",
            "DstAddr",
            "Dport",
            "State",
            "sTos",
            "dTos",
            "TotPkts",
            "TotBytes",
            "SrcBytes",
            "Label",
        ]);
        let r = resolve(Path::new("x"), &h, Format::Binetflow, &ColumnMap::default()).unwrap();
        assert_eq!(r.get(Target::Down), &Source::Diff(12, 13));
        assert_eq!(r.get(Target::Up), &Source::Col(13));
        assert_eq!(r.get(Target::Label), &Source::Col(14));
    }

    #[test]
    fn analysts_schema_and_user_map() {
        let h = names(&[
            "timestamp",
            "src_ip",
            "dst_ip",
            "proto",
            "port",
            "up",
            "down_bytes",
        ]);
        let err = resolve(Path::new("f.csv"), &h, Format::Csv, &ColumnMap::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing column 'up_bytes'")
                && err.contains("--map up_bytes=")
                && err.contains("f.csv"),
            "{err}"
        );
        let map = ColumnMap::parse(&["up_bytes=up"]).unwrap();
        let r = resolve(Path::new("f.csv"), &h, Format::Csv, &map).unwrap();
        assert_eq!(r.get(Target::Up), &Source::Col(5));
        assert_eq!(r.get(Target::DstPort), &Source::Col(4));
    }

    #[test]
    fn csv_of_zeek_records_sums_packets() {
        let h = names(&[
            "ts",
            "id.orig_h",
            "id.resp_h",
            "proto",
            "id.resp_p",
            "orig_bytes",
            "resp_bytes",
            "orig_pkts",
            "resp_pkts",
        ]);
        let r = resolve(Path::new("f.csv"), &h, Format::Csv, &ColumnMap::default()).unwrap();
        assert_eq!(r.get(Target::Packets), &Source::Sum(7, 8));
        let h = names(&[
            "ts",
            "src",
            "dst",
            "proto",
            "port",
            "up_bytes",
            "down_bytes",
            "pkts",
            "orig_pkts",
            "resp_pkts",
        ]);
        let r = resolve(Path::new("f.csv"), &h, Format::Csv, &ColumnMap::default()).unwrap();
        assert_eq!(r.get(Target::Packets), &Source::Col(7));
    }

    #[test]
    fn map_parse_errors() {
        assert!(ColumnMap::parse(&["nonsense"]).is_err());
        assert!(ColumnMap::parse(&["bytes=x"])
            .unwrap_err()
            .to_string()
            .contains("up_bytes"));
    }
}
