//! Opening databases (format detection, role checks) and layering them in a
//! [`GeoStack`]: for each field, the first source that answers wins.

use crate::fhg::{FhgDb, MAGIC};
use crate::legacy::{looks_like_legacy, LegacyDb, LoadMode};
use crate::mmdb::{looks_like_mmdb, MmdbDb};
use crate::net::ip_to_u128;
use crate::{embedded, CountryCode, GeoError, GeoInfo, GeoSource, Role, SourceInfo};
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How [`open_path_with`] brings files into memory (`.fhg` files are always decoded).
pub type OpenMode = LoadMode;

/// Opens a database file, detecting its format from the content: flowhound
/// `.fhg` (magic), MaxMind DB (metadata marker), else legacy GeoIP `.dat`.
pub fn open_path(path: &Path) -> Result<Box<dyn GeoSource>, GeoError> {
    open_path_with(path, LoadMode::Memory)
}

/// [`open_path`] with an explicit load mode (memory or mmap).
pub fn open_path_with(path: &Path, mode: OpenMode) -> Result<Box<dyn GeoSource>, GeoError> {
    let head = read_head(path)?;
    if head.starts_with(MAGIC) {
        return Ok(Box::new(FhgDb::open(path)?));
    }
    // The mmdb marker and the legacy structure info sit near the end of the file.
    let tail = read_tail(path, 128 * 1024)?;
    if looks_like_mmdb(&tail) {
        return Ok(Box::new(MmdbDb::open(path, mode)?));
    }
    if looks_like_legacy(&tail) {
        return Ok(Box::new(LegacyDb::open(path, mode)?));
    }
    Err(GeoError::UnknownFormat {
        path: path.to_path_buf(),
        detail: describe_unknown(&head),
    })
}

/// Opens a database that must answer country questions.
pub fn open_country(path: &Path) -> Result<Box<dyn GeoSource>, GeoError> {
    open_role(path, Role::Country)
}

/// Opens a database that must answer ASN / organisation questions.
pub fn open_asn(path: &Path) -> Result<Box<dyn GeoSource>, GeoError> {
    open_role(path, Role::Asn)
}

fn open_role(path: &Path, role: Role) -> Result<Box<dyn GeoSource>, GeoError> {
    let src = open_path(path)?;
    let info = src.info();
    if info.serves(role) {
        return Ok(src);
    }
    let expected = match role {
        Role::Country => "a country database (GeoIP Country/City .dat or .mmdb)",
        Role::Asn => "an ASN database (GeoIPASNum .dat or GeoLite2-ASN .mmdb)",
    };
    Err(GeoError::WrongRole {
        path: path.to_path_buf(),
        found: info.describe(),
        expected,
    })
}

fn read_head(path: &Path) -> Result<Vec<u8>, GeoError> {
    let file = std::fs::File::open(path).map_err(|e| GeoError::io(path, e))?;
    let mut head = Vec::with_capacity(16);
    file.take(16)
        .read_to_end(&mut head)
        .map_err(|e| GeoError::io(path, e))?;
    Ok(head)
}

fn read_tail(path: &Path, n: u64) -> Result<Vec<u8>, GeoError> {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::File::open(path).map_err(|e| GeoError::io(path, e))?;
    let len = file.metadata().map_err(|e| GeoError::io(path, e))?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(n)))
        .map_err(|e| GeoError::io(path, e))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)
        .map_err(|e| GeoError::io(path, e))?;
    Ok(tail)
}

fn describe_unknown(head: &[u8]) -> String {
    if head.is_empty() {
        return "empty file".into();
    }
    let printable: String = head
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect();
    format!("not a GeoIP .dat, MaxMind .mmdb or flowhound .fhg file (starts with {printable:?})")
}

/// An ordered list of sources; for each field the first source that answers wins.
#[derive(Clone, Default)]
pub struct GeoStack {
    sources: Vec<Arc<dyn GeoSource>>,
}

impl GeoStack {
    /// An empty stack (every lookup is empty).
    pub fn new() -> Self {
        Self::default()
    }

    /// The usual CLI set-up: the `--geoip-db` files (checked to be country
    /// databases), then the `--asn-db` files (checked to be ASN databases), then the
    /// embedded database when `use_embedded`. User files thus take precedence
    /// over the embedded data, field by field.
    pub fn from_options(
        geoip_db: &[PathBuf],
        asn_db: &[PathBuf],
        use_embedded: bool,
    ) -> Result<GeoStack, GeoError> {
        let mut stack = GeoStack::new();
        for p in geoip_db {
            stack.push_boxed(open_country(p)?);
        }
        for p in asn_db {
            stack.push_boxed(open_asn(p)?);
        }
        if use_embedded {
            stack.push_embedded()?;
        }
        Ok(stack)
    }

    /// Appends a source (lowest precedence so far).
    pub fn push(&mut self, source: Arc<dyn GeoSource>) {
        self.sources.push(source);
    }

    /// Appends a boxed source.
    pub fn push_boxed(&mut self, source: Box<dyn GeoSource>) {
        self.sources.push(Arc::from(source));
    }

    /// Appends the embedded database.
    pub fn push_embedded(&mut self) -> Result<(), GeoError> {
        self.sources.push(Arc::new(EmbeddedRef(embedded()?)));
        Ok(())
    }

    /// True when the stack has no source.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Looks up an address.
    pub fn lookup(&self, ip: IpAddr) -> GeoInfo {
        self.lookup_u128(ip_to_u128(ip))
    }

    /// Looks up an address on the `u128` convention (IPv4 mapped).
    pub fn lookup_u128(&self, ip: u128) -> GeoInfo {
        let mut out = GeoInfo::default();
        for s in &self.sources {
            out.fill_from(s.lookup_u128(ip));
            if out.is_complete() {
                break;
            }
        }
        out
    }

    /// Looks up an IPv4 address given as a `u32`.
    pub fn lookup_v4(&self, ip: u32) -> GeoInfo {
        let mut out = GeoInfo::default();
        for s in &self.sources {
            out.fill_from(s.lookup_v4(ip));
            if out.is_complete() {
                break;
            }
        }
        out
    }

    /// Only the country (first source that knows it); faster than
    /// [`GeoStack::lookup_u128`] for `geo_country(ip)`-style functions.
    pub fn country_u128(&self, ip: u128) -> Option<CountryCode> {
        self.sources.iter().find_map(|s| s.country_u128(ip))
    }

    /// Only the AS number (first source that knows it), for `asn_number(ip)`.
    pub fn asn_u128(&self, ip: u128) -> Option<u32> {
        self.sources.iter().find_map(|s| s.asn_u128(ip))
    }

    /// Only the AS organisation (first source that knows it), for `asn_org(ip)`.
    pub fn org_u128(&self, ip: u128) -> Option<Arc<str>> {
        self.sources.iter().find_map(|s| s.lookup_u128(ip).org)
    }

    /// Descriptions of the sources, in precedence order.
    pub fn sources(&self) -> Vec<SourceInfo> {
        self.sources.iter().map(|s| s.info()).collect()
    }

    /// Distinct attribution lines of all sources, for report footers.
    pub fn attributions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for a in self.sources.iter().map(|s| s.info().attribution) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

impl GeoSource for GeoStack {
    fn lookup_u128(&self, ip: u128) -> GeoInfo {
        GeoStack::lookup_u128(self, ip)
    }

    fn country_u128(&self, ip: u128) -> Option<CountryCode> {
        GeoStack::country_u128(self, ip)
    }

    fn asn_u128(&self, ip: u128) -> Option<u32> {
        GeoStack::asn_u128(self, ip)
    }

    fn info(&self) -> SourceInfo {
        let mut info = self
            .sources
            .first()
            .map(|s| s.info())
            .unwrap_or_else(|| SourceInfo {
                kind: crate::SourceKind::Embedded,
                path: None,
                database_type: "empty stack".into(),
                build_date: None,
                description: None,
                attribution: String::new(),
                has_country: false,
                has_asn: false,
                has_ipv6: false,
            });
        for s in self.sources.iter().skip(1).map(|s| s.info()) {
            info.has_country |= s.has_country;
            info.has_asn |= s.has_asn;
            info.has_ipv6 |= s.has_ipv6;
        }
        info
    }
}

/// The embedded `&'static FhgDb` as a source.
struct EmbeddedRef(&'static FhgDb);

impl GeoSource for EmbeddedRef {
    fn lookup_u128(&self, ip: u128) -> GeoInfo {
        self.0.lookup_u128(ip)
    }

    fn lookup_v4(&self, ip: u32) -> GeoInfo {
        self.0.lookup_v4(ip)
    }

    fn country_u128(&self, ip: u128) -> Option<CountryCode> {
        self.0.country_u128(ip)
    }

    fn asn_u128(&self, ip: u128) -> Option<u32> {
        self.0.asn_u128(ip)
    }

    fn info(&self) -> SourceInfo {
        self.0.info()
    }
}
