//! MaxMind DB (`.mmdb`) sources through the `maxminddb` crate.
//!
//! The kind is detected from the metadata `database_type`: names containing
//! `ASN` or `ISP` are ASN databases (`autonomous_system_number`,
//! `autonomous_system_organization`); names containing `Country`, `City`,
//! `Enterprise` or `Location` are country databases (`country.iso_code`, falling
//! back to `registered_country.iso_code`). This covers GeoLite2/GeoIP2 Country,
//! City, ASN, ISP and the DB-IP lite databases (`DBIP-Country-Lite`,
//! `DBIP-City-Lite`, `DBIP-ASN-Lite (compat=GeoLite2-ASN)`). Other types are read
//! for both kinds of field.

use crate::blob::Blob;
use crate::net::{as_v4, u128_to_ip};
use crate::{CountryCode, GeoError, GeoInfo, GeoSource, SourceInfo, SourceKind};
use maxminddb::{PathElement, Reader};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::legacy::LoadMode;

/// The MaxMind DB magic that starts the metadata section.
pub const METADATA_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";

/// True when `bytes` contain the MaxMind DB metadata marker (searched in the
/// last 128 KiB, as the format specifies).
pub fn looks_like_mmdb(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(128 * 1024)..];
    tail.windows(METADATA_MARKER.len())
        .any(|w| w == METADATA_MARKER)
}

/// What a MaxMind DB answers, from its `database_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmdbKind {
    /// Country / City style records.
    Country,
    /// ASN / ISP style records.
    Asn,
    /// Unknown type: both kinds of field are tried.
    Other,
}

impl MmdbKind {
    /// Classifies a `database_type` string.
    pub fn from_type(database_type: &str) -> MmdbKind {
        let t = database_type.to_ascii_lowercase();
        if t.contains("asn") || t.contains("isp") {
            MmdbKind::Asn
        } else if ["country", "city", "enterprise", "location"]
            .iter()
            .any(|k| t.contains(k))
        {
            MmdbKind::Country
        } else {
            MmdbKind::Other
        }
    }
}

/// An open MaxMind DB.
pub struct MmdbDb {
    reader: Reader<Blob>,
    path: PathBuf,
    kind: MmdbKind,
}

impl MmdbDb {
    /// Opens a file in the given mode.
    pub fn open(path: &Path, mode: LoadMode) -> Result<MmdbDb, GeoError> {
        let data = match mode {
            LoadMode::Memory => Blob::read(path)?,
            LoadMode::Mmap => Blob::map(path)?,
        };
        MmdbDb::from_blob(data, path)
    }

    /// Parses bytes already in memory (`path` only names them in errors).
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<MmdbDb, GeoError> {
        MmdbDb::from_blob(Blob::Owned(bytes), path)
    }

    fn from_blob(data: Blob, path: &Path) -> Result<MmdbDb, GeoError> {
        let reader = Reader::from_source(data).map_err(|source| GeoError::MaxMind {
            path: path.to_path_buf(),
            source,
        })?;
        let kind = MmdbKind::from_type(&reader.metadata().database_type);
        Ok(MmdbDb {
            reader,
            path: path.to_path_buf(),
            kind,
        })
    }

    /// The detected kind.
    pub fn kind(&self) -> MmdbKind {
        self.kind
    }

    /// Looks up an address, reporting decoding errors.
    pub fn try_lookup(&self, ip: IpAddr) -> Result<GeoInfo, GeoError> {
        let ip = match ip {
            IpAddr::V6(v6) => as_v4(u128::from(v6)).map_or(ip, |v4| IpAddr::V4(Ipv4Addr::from(v4))),
            IpAddr::V4(_) => ip,
        };
        if ip.is_ipv6() && self.reader.metadata().ip_version == 4 {
            return Ok(GeoInfo::default());
        }
        let err = |source| GeoError::MaxMind {
            path: self.path.clone(),
            source,
        };
        let found = self.reader.lookup(ip).map_err(err)?;
        if !found.has_data() {
            return Ok(GeoInfo::default());
        }
        let text = |p: &[PathElement<'_>]| found.decode_path::<String>(p).map_err(err);
        let mut info = GeoInfo::default();
        if self.kind != MmdbKind::Asn {
            let code = match text(&["country".into(), "iso_code".into()])? {
                Some(c) => Some(c),
                None => text(&["registered_country".into(), "iso_code".into()])?,
            };
            info = info.with_country(code.as_deref().and_then(CountryCode::parse));
        }
        if self.kind != MmdbKind::Country {
            info.asn = found
                .decode_path::<u32>(&["autonomous_system_number".into()])
                .map_err(err)?;
            info.org = text(&["autonomous_system_organization".into()])?.map(Arc::from);
        }
        Ok(info)
    }
}

impl GeoSource for MmdbDb {
    fn lookup_u128(&self, ip: u128) -> GeoInfo {
        self.try_lookup(u128_to_ip(ip)).unwrap_or_default()
    }

    fn lookup(&self, ip: IpAddr) -> GeoInfo {
        self.try_lookup(ip).unwrap_or_default()
    }

    fn info(&self) -> SourceInfo {
        let meta = self.reader.metadata();
        SourceInfo {
            kind: SourceKind::MaxMindDb,
            path: Some(self.path.clone()),
            database_type: meta.database_type.clone(),
            build_date: Some(format_epoch_date(meta.build_epoch)),
            description: meta.description.get("en").cloned(),
            attribution: attribution_for(&meta.database_type),
            has_country: self.kind != MmdbKind::Asn,
            has_asn: self.kind != MmdbKind::Country,
            has_ipv6: meta.ip_version == 6,
        }
    }
}

fn attribution_for(database_type: &str) -> String {
    let t = database_type.to_ascii_lowercase();
    if t.contains("dbip") || t.contains("db-ip") {
        "IP Geolocation by DB-IP (https://db-ip.com), CC BY 4.0".to_string()
    } else if t.contains("geolite") {
        "This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com".to_string()
    } else if t.contains("geoip2") {
        "GeoIP2 data by MaxMind (https://www.maxmind.com)".to_string()
    } else {
        format!("MaxMind DB of type {database_type:?}")
    }
}

/// Formats a Unix time as `YYYY-MM-DD` (UTC), without a date library.
pub(crate) fn format_epoch_date(epoch: u64) -> String {
    let days = (epoch / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(MmdbKind::from_type("GeoLite2-ASN"), MmdbKind::Asn);
        assert_eq!(
            MmdbKind::from_type("DBIP-ASN-Lite (compat=GeoLite2-ASN)"),
            MmdbKind::Asn
        );
        assert_eq!(MmdbKind::from_type("GeoIP2-City"), MmdbKind::Country);
        assert_eq!(MmdbKind::from_type("DBIP-Country-Lite"), MmdbKind::Country);
        assert_eq!(MmdbKind::from_type("whatever"), MmdbKind::Other);
    }

    #[test]
    fn epoch_dates() {
        // Reference values: `date -u -d @0`, `@951782400` (leap day 2000), `@1700000000`.
        assert_eq!(format_epoch_date(0), "1970-01-01");
        assert_eq!(format_epoch_date(951_782_400), "2000-02-29");
        assert_eq!(format_epoch_date(1_700_000_000), "2023-11-14");
    }
}
