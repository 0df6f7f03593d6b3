//! The [`GeoSource`] trait and the values it returns: [`GeoInfo`] (what is known of
//! one address) and [`SourceInfo`] (what a source is).

use crate::net::ip_to_u128;
use crate::CountryCode;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

/// What a source knows of one address. Every field is optional and typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GeoInfo {
    /// ISO 3166-1 alpha-2 country code (or a GeoIP pseudo-code such as `A1`, `EU`).
    pub country: Option<CountryCode>,
    /// English country name, from the built-in ISO table.
    pub country_name: Option<&'static str>,
    /// Autonomous system number.
    pub asn: Option<u32>,
    /// Organisation owning the AS (or the network, for legacy Org/ISP editions).
    pub org: Option<Arc<str>>,
}

impl GeoInfo {
    /// A `GeoInfo` with the given country (name filled from the ISO table).
    pub fn with_country(mut self, country: Option<CountryCode>) -> Self {
        self.country = country;
        self.country_name = country.and_then(CountryCode::name);
        self
    }

    /// True when no field is known.
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.asn.is_none() && self.org.is_none()
    }

    /// True when every field is known.
    pub fn is_complete(&self) -> bool {
        self.country.is_some() && self.asn.is_some() && self.org.is_some()
    }

    /// Fills the fields still unknown in `self` from `other` (first answer wins).
    pub fn fill_from(&mut self, other: GeoInfo) {
        if self.country.is_none() && other.country.is_some() {
            self.country = other.country;
            self.country_name = other.country_name;
        }
        if self.asn.is_none() {
            self.asn = other.asn;
        }
        if self.org.is_none() {
            self.org = other.org;
        }
    }
}

/// The kind of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// MaxMind legacy GeoIP `.dat`.
    LegacyDat,
    /// MaxMind DB `.mmdb`.
    MaxMindDb,
    /// flowhound's own format read from a file.
    Flowhound,
    /// flowhound's own format compiled into the binary.
    Embedded,
}

impl SourceKind {
    /// Short lower-case name for display ("legacy-dat", "mmdb", "flowhound", "embedded").
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::LegacyDat => "legacy-dat",
            SourceKind::MaxMindDb => "mmdb",
            SourceKind::Flowhound => "flowhound",
            SourceKind::Embedded => "embedded",
        }
    }
}

/// The question a database answers; used by the role-checked openers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Country of an address.
    Country,
    /// AS number and/or organisation of an address.
    Asn,
}

/// Description of a source, for `geo info` and report footers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceInfo {
    /// Kind of source.
    pub kind: SourceKind,
    /// File it was read from (`None` for the embedded database).
    pub path: Option<PathBuf>,
    /// Database type / edition, e.g. "GeoLite2-ASN" or "GeoIP Country (legacy edition 1)".
    pub database_type: String,
    /// Build date or version as recorded in the database, if any.
    pub build_date: Option<String>,
    /// Free text found in the database (legacy info string, mmdb description).
    pub description: Option<String>,
    /// Attribution / licence text to show with results from this source.
    pub attribution: String,
    /// Whether it answers country questions.
    pub has_country: bool,
    /// Whether it answers ASN / organisation questions.
    pub has_asn: bool,
    /// Whether it covers IPv6 addresses (beyond IPv4-mapped ones).
    pub has_ipv6: bool,
}

impl SourceInfo {
    /// True when the source answers questions of `role`.
    pub fn serves(&self, role: Role) -> bool {
        match role {
            Role::Country => self.has_country,
            Role::Asn => self.has_asn,
        }
    }

    /// A human description like "a legacy GeoIP Country database" for error messages.
    pub fn describe(&self) -> String {
        format!(
            "a {} database of type {:?}",
            self.kind.as_str(),
            self.database_type
        )
    }
}

impl std::fmt::Display for SourceInfo {
    /// One line for `geo info`, e.g.
    /// `legacy-dat /x/GeoIPASNum.dat: GeoIP ASNum (legacy edition 9), built 20160314 [asn]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self
            .path
            .as_ref()
            .map_or_else(|| "(built in)".to_string(), |p| p.display().to_string());
        write!(f, "{} {path}: {}", self.kind.as_str(), self.database_type)?;
        if let Some(date) = &self.build_date {
            write!(f, ", built {date}")?;
        }
        let serves: Vec<&str> = [
            (self.has_country, "country"),
            (self.has_asn, "asn"),
            (self.has_ipv6, "ipv6"),
        ]
        .iter()
        .filter_map(|&(on, name)| on.then_some(name))
        .collect();
        write!(f, " [{}]", serves.join(", "))
    }
}

/// A geolocation / ASN database.
pub trait GeoSource: Send + Sync {
    /// Looks up an address on the flowhound `u128` convention (IPv4 mapped).
    /// Unknown addresses, and errors met in a corrupt database, give an empty `GeoInfo`.
    fn lookup_u128(&self, ip: u128) -> GeoInfo;

    /// Looks up an address.
    fn lookup(&self, ip: IpAddr) -> GeoInfo {
        self.lookup_u128(ip_to_u128(ip))
    }

    /// Looks up an IPv4 address given as a `u32`.
    fn lookup_v4(&self, ip: u32) -> GeoInfo {
        self.lookup_u128(u128::from(Ipv4Addr::from(ip).to_ipv6_mapped()))
    }

    /// Only the country of an address (`u128` convention); sources override it
    /// with a faster path than [`GeoSource::lookup_u128`].
    fn country_u128(&self, ip: u128) -> Option<CountryCode> {
        self.lookup_u128(ip).country
    }

    /// Only the AS number of an address (`u128` convention).
    fn asn_u128(&self, ip: u128) -> Option<u32> {
        self.lookup_u128(ip).asn
    }

    /// Describes the source.
    fn info(&self) -> SourceInfo;
}
