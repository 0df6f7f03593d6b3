//! Native reader of MaxMind legacy GeoIP `.dat` files (the libGeoIP binary tree).
//!
//! Layout: a binary search tree of nodes, each two records (left = bit 0,
//! right = bit 1) of `record_length` bytes (3, or 4 for Org/ISP), little-endian.
//! A record `>= segments` is a leaf. Near the end of the file, after three `0xff`
//! bytes, sits the edition byte (plus, for non-country editions, the 3-byte
//! segment count); files without it are Country edition. Leaves are:
//! - Country editions: `leaf - 16776960` indexes the legacy country table;
//! - ASNum/Org/ISP editions: `leaf + (2 * record_length - 1) * segments` is the
//!   file offset of a NUL-terminated Latin-1 string (`"AS15169 Google Inc."`).
//!
//! The whole tree is verified at open (every in-tree pointer in range), lookups
//! are bounded to 32 (IPv4) / 128 (IPv6) steps and bounds-checked, so corrupt or
//! hostile files give a [`GeoError`] or an empty answer, never a panic or a hang.

use crate::blob::Blob;
use crate::country::legacy_code;
use crate::net::as_v4;
use crate::{GeoError, GeoInfo, GeoSource, SourceInfo, SourceKind, MAXMIND_ATTRIBUTION};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const FORMAT: &str = "legacy GeoIP .dat";
const COUNTRY_BEGIN: u32 = 16_776_960;
const STRUCTURE_INFO_MAX_SIZE: usize = 20;
const DATABASE_INFO_MAX_SIZE: usize = 100;
const MAX_ORG_RECORD_LENGTH: usize = 300;

/// A legacy edition this reader knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edition {
    /// Country (edition 1), IPv4.
    Country,
    /// Country IPv6 (edition 12).
    CountryV6,
    /// ASNum (edition 9), IPv4.
    AsNum,
    /// ASNum IPv6 (edition 21).
    AsNumV6,
    /// Organisation (edition 5).
    Org,
    /// ISP (edition 4).
    Isp,
}

impl Edition {
    fn from_byte(b: u8) -> Result<Edition, String> {
        let b = if b >= 106 { b - 105 } else { b };
        Ok(match b {
            1 => Edition::Country,
            12 => Edition::CountryV6,
            9 => Edition::AsNum,
            21 => Edition::AsNumV6,
            5 => Edition::Org,
            4 => Edition::Isp,
            other => return Err(edition_name(other)),
        })
    }

    /// Whether leaves are country indexes (else string records).
    pub fn is_country(self) -> bool {
        matches!(self, Edition::Country | Edition::CountryV6)
    }

    /// Whether the tree is 128 bits deep.
    pub fn is_ipv6(self) -> bool {
        matches!(self, Edition::CountryV6 | Edition::AsNumV6)
    }

    /// Human name, e.g. "GeoIP ASNum (legacy edition 9)".
    pub fn name(self) -> String {
        let n = match self {
            Edition::Country => 1,
            Edition::CountryV6 => 12,
            Edition::AsNum => 9,
            Edition::AsNumV6 => 21,
            Edition::Org => 5,
            Edition::Isp => 4,
        };
        edition_name(n)
    }
}

fn edition_name(n: u8) -> String {
    let what = match n {
        1 => "Country",
        12 => "Country IPv6",
        9 => "ASNum",
        21 => "ASNum IPv6",
        5 => "Organization",
        4 => "ISP",
        2 | 6 => "City",
        30 => "City IPv6",
        3 | 7 => "Region",
        8 => "Proxy",
        10 | 11 | 32 | 33 => "NetSpeed",
        _ => "unknown edition",
    };
    format!("GeoIP {what} (legacy edition {n})")
}

/// How to bring a file into memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LoadMode {
    /// Read the whole file (standard).
    #[default]
    Memory,
    /// Memory-map the file.
    Mmap,
}

/// An open legacy GeoIP database.
pub struct LegacyDb {
    data: Blob,
    path: PathBuf,
    edition: Edition,
    segments: u32,
    record_len: usize,
    nodes: usize,
    info_text: Option<String>,
}

/// True when `bytes` plausibly is a legacy `.dat` (structure marker near the end, or a
/// GeoIP info string). Used by format detection; the opener does the full checks.
pub fn looks_like_legacy(bytes: &[u8]) -> bool {
    structure_marker(bytes).is_some() || database_info(bytes).is_some_and(|s| s.starts_with("GEO-"))
}

impl LegacyDb {
    /// Opens a file in the given mode.
    pub fn open(path: &Path, mode: LoadMode) -> Result<LegacyDb, GeoError> {
        let data = match mode {
            LoadMode::Memory => Blob::read(path)?,
            LoadMode::Mmap => Blob::map(path)?,
        };
        LegacyDb::from_blob(data, path)
    }

    /// Parses bytes already in memory (`path` only names them in errors).
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<LegacyDb, GeoError> {
        LegacyDb::from_blob(Blob::Owned(bytes), path)
    }

    fn from_blob(data: Blob, path: &Path) -> Result<LegacyDb, GeoError> {
        let (edition, segments) = parse_structure(&data, path)?;
        let record_len = if matches!(edition, Edition::Org | Edition::Isp) {
            4
        } else {
            3
        };
        let max_nodes = data.len() / (2 * record_len);
        let nodes = if edition.is_country() {
            max_nodes
        } else {
            segments as usize
        };
        if nodes == 0 || nodes > max_nodes {
            let detail = format!("tree of {nodes} nodes does not fit in {} bytes", data.len());
            return Err(GeoError::corrupt(path, FORMAT, detail));
        }
        let info_text = database_info(&data);
        let db = LegacyDb {
            data,
            path: path.to_path_buf(),
            edition,
            segments,
            record_len,
            nodes,
            info_text,
        };
        db.verify()?;
        Ok(db)
    }

    /// The edition.
    pub fn edition(&self) -> Edition {
        self.edition
    }

    /// The database info string (e.g. `GEO-106FREE 20191224 Build 1 ...`), if present.
    pub fn info_text(&self) -> Option<&str> {
        self.info_text.as_deref()
    }

    /// Checks every in-tree pointer; for Country editions the first leaf-like value
    /// marks the tree's end, so only pointers below `nodes` are required.
    fn verify(&self) -> Result<(), GeoError> {
        let tree_nodes = self.tree_node_count();
        for node in 0..tree_nodes {
            for side in 0..2 {
                let rec = self
                    .record(node, side)
                    .ok_or_else(|| self.bad("node beyond end of file"))?;
                if rec < self.segments && rec as usize >= tree_nodes {
                    return Err(self.bad(format!("node {node} points to {rec}, beyond the tree")));
                }
            }
        }
        Ok(())
    }

    /// Number of tree nodes: for Org/ASN editions `segments`; for Country
    /// editions the largest in-tree pointer + 1, found by walking from the root.
    fn tree_node_count(&self) -> usize {
        if !self.edition.is_country() {
            return self.nodes;
        }
        let mut max = 0usize;
        let mut node = 0usize;
        while node <= max && node < self.nodes {
            for side in 0..2 {
                if let Some(rec) = self.record(node, side) {
                    if rec < self.segments {
                        max = max.max(rec as usize);
                    }
                }
            }
            node += 1;
        }
        (max + 1).min(self.nodes)
    }

    fn bad(&self, detail: impl Into<String>) -> GeoError {
        GeoError::corrupt(&self.path, FORMAT, detail)
    }

    /// Record `side` (0 left, 1 right) of `node`, `None` when out of the file.
    fn record(&self, node: usize, side: usize) -> Option<u32> {
        let start = node.checked_mul(2 * self.record_len)? + side * self.record_len;
        let bytes = self.data.get(start..start + self.record_len)?;
        Some(
            bytes
                .iter()
                .rev()
                .fold(0u32, |acc, &b| (acc << 8) | u32::from(b)),
        )
    }

    /// Walks the tree for the top `bits` bits of `ip`; returns the leaf value.
    fn seek(&self, ip: u128, bits: u32) -> Result<u32, GeoError> {
        let mut node = 0usize;
        for depth in (0..bits).rev() {
            let side = ((ip >> depth) & 1) as usize;
            let rec = self
                .record(node, side)
                .ok_or_else(|| self.bad("node beyond end of file"))?;
            if rec >= self.segments {
                return Ok(rec);
            }
            node = rec as usize;
        }
        Err(self.bad("tree deeper than the address"))
    }

    /// The leaf for an address on the `u128` convention, `None` when the
    /// address family is not covered.
    fn leaf(&self, ip: u128) -> Result<Option<u32>, GeoError> {
        if self.edition.is_ipv6() {
            return self.seek(ip, 128).map(Some);
        }
        match as_v4(ip) {
            Some(v4) => self.seek(u128::from(v4), 32).map(Some),
            None => Ok(None),
        }
    }

    /// Looks up an address, reporting corruption met on the way.
    pub fn try_lookup_u128(&self, ip: u128) -> Result<GeoInfo, GeoError> {
        let leaf = self.leaf(ip)?;
        let leaf = match leaf {
            Some(l) if self.edition.is_ipv6() && l == self.segments && as_v4(ip).is_some() => {
                // IPv6 editions may hold IPv4 space as IPv4-compatible `::a.b.c.d`.
                self.seek(ip & 0xffff_ffff, 128)?
            }
            Some(l) => l,
            None => return Ok(GeoInfo::default()),
        };
        if self.edition.is_country() {
            let index = (leaf - self.segments.min(COUNTRY_BEGIN)) as usize;
            return Ok(GeoInfo::default().with_country(legacy_code(index)));
        }
        self.org_record(leaf)
    }

    /// The raw string record of a leaf (`None` for the "no data" leaf).
    fn org_string(&self, leaf: u32) -> Result<Option<String>, GeoError> {
        if leaf == self.segments {
            return Ok(None);
        }
        let offset = (2 * self.record_len as u64 - 1) * u64::from(self.segments) + u64::from(leaf);
        let start = usize::try_from(offset).map_err(|_| self.bad("record offset overflow"))?;
        let tail = self
            .data
            .get(start..)
            .ok_or_else(|| self.bad(format!("record offset {start} beyond end")))?;
        let tail = &tail[..tail.len().min(MAX_ORG_RECORD_LENGTH)];
        let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
        Ok(Some(latin1(&tail[..end])))
    }

    fn org_record(&self, leaf: u32) -> Result<GeoInfo, GeoError> {
        let Some(text) = self.org_string(leaf)? else {
            return Ok(GeoInfo::default());
        };
        let mut info = GeoInfo::default();
        if matches!(self.edition, Edition::AsNum | Edition::AsNumV6) {
            let (asn, org) = split_as_string(&text);
            info.asn = asn;
            info.org = org.map(Arc::from);
        } else if !text.is_empty() {
            info.org = Some(Arc::from(text.as_str()));
        }
        Ok(info)
    }

    /// The raw record string for an address (e.g. `"AS15169 Google Inc."`), for
    /// ASNum/Org/ISP editions; `None` for unknown addresses and Country editions.
    pub fn org_string_u128(&self, ip: u128) -> Result<Option<String>, GeoError> {
        if self.edition.is_country() {
            return Ok(None);
        }
        match self.leaf(ip)? {
            Some(leaf) => self.org_string(leaf),
            None => Ok(None),
        }
    }
}

/// Splits `"AS15169 Google Inc."` into `(Some(15169), Some("Google Inc."))`; a
/// string without the `AS<digits>` prefix is all organisation.
pub fn split_as_string(text: &str) -> (Option<u32>, Option<&str>) {
    let trimmed = text.trim();
    let (head, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
    let asn = head.strip_prefix("AS").and_then(|d| d.parse::<u32>().ok());
    let org = if asn.is_some() { rest.trim() } else { trimmed };
    (asn, (!org.is_empty()).then_some(org))
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Position just after the `ff ff ff` structure marker, searched like libGeoIP.
fn structure_marker(data: &[u8]) -> Option<usize> {
    (0..STRUCTURE_INFO_MAX_SIZE).find_map(|i| {
        let start = data.len().checked_sub(3 + i)?;
        (data.get(start..start + 3)? == [0xff, 0xff, 0xff]).then_some(start + 3)
    })
}

/// The info string after the last `00 00 00` near the end, like libGeoIP.
fn database_info(data: &[u8]) -> Option<String> {
    let start = (0..DATABASE_INFO_MAX_SIZE).find_map(|i| {
        let s = data.len().checked_sub(3 + i)?;
        (data.get(s..s + 3)? == [0, 0, 0]).then_some(s + 3)
    })?;
    let text: String = latin1(data.get(start..)?)
        .chars()
        .take_while(|c| (' '..='~').contains(c))
        .collect();
    (!text.trim().is_empty()).then(|| text.trim().to_string())
}

/// Finds the edition and segment count.
fn parse_structure(data: &[u8], path: &Path) -> Result<(Edition, u32), GeoError> {
    let Some(pos) = structure_marker(data) else {
        return Ok((Edition::Country, COUNTRY_BEGIN));
    };
    let byte = *data
        .get(pos)
        .ok_or_else(|| GeoError::corrupt(path, FORMAT, "no edition byte"))?;
    let edition = Edition::from_byte(byte).map_err(|what| GeoError::Unsupported {
        path: path.to_path_buf(),
        what,
    })?;
    if edition.is_country() {
        return Ok((edition, COUNTRY_BEGIN));
    }
    let seg = data
        .get(pos + 1..pos + 4)
        .ok_or_else(|| GeoError::corrupt(path, FORMAT, "truncated segment count"))?;
    Ok((
        edition,
        u32::from(seg[0]) | u32::from(seg[1]) << 8 | u32::from(seg[2]) << 16,
    ))
}

impl GeoSource for LegacyDb {
    fn lookup_u128(&self, ip: u128) -> GeoInfo {
        self.try_lookup_u128(ip).unwrap_or_default()
    }

    fn info(&self) -> SourceInfo {
        let build_date = self
            .info_text
            .as_deref()
            .and_then(|t| t.split_whitespace().nth(1))
            .map(str::to_string);
        SourceInfo {
            kind: SourceKind::LegacyDat,
            path: Some(self.path.clone()),
            database_type: self.edition.name(),
            build_date,
            description: self.info_text.clone(),
            attribution: MAXMIND_ATTRIBUTION.to_string(),
            has_country: self.edition.is_country(),
            has_asn: !self.edition.is_country(),
            has_ipv6: self.edition.is_ipv6(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_as() {
        assert_eq!(
            split_as_string("AS15169 Google Inc."),
            (Some(15169), Some("Google Inc."))
        );
        assert_eq!(split_as_string("AS1930"), (Some(1930), None));
        assert_eq!(split_as_string("Some ISP"), (None, Some("Some ISP")));
        assert_eq!(split_as_string("ASX foo"), (None, Some("ASX foo")));
        assert_eq!(split_as_string(""), (None, None));
    }

    #[test]
    fn edition_names() {
        assert_eq!(Edition::from_byte(106), Ok(Edition::Country));
        assert!(Edition::from_byte(2).is_err_and(|e| e.contains("City")));
    }
}
