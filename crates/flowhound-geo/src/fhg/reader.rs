//! Reader of the `.fhg` format into merged, indexed in-memory tables.
//!
//! The IPv4 country and ASN tables are merged into one list of ranges with a
//! packed value (`country << 23 | asn index`). Lookups go through a 65,536-entry
//! index on the top 16 bits: a /16 covered by one range holds its value directly
//! (one memory access); other /16s point to a short run of 16-bit range starts
//! searched by bisection. IPv6 (section 2) is decoded on the first IPv6 lookup,
//! merged the same way and bisected whole.

use super::{Cursor, ASN_BITS, MAGIC, MAX_BODY};
use crate::net::as_v4;
use crate::{CountryCode, GeoError, GeoInfo, GeoSource, SourceInfo, SourceKind};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

const FORMAT: &str = "flowhound .fhg";
const ASN_MASK: u32 = (1 << ASN_BITS) - 1;

/// The AS table: `(number, end offset of its organisation in text)` pairs (one
/// cache line serves a lookup), the organisations' text, and the organisations
/// as shared strings, made on first use.
struct AsTable {
    entries: Vec<(u32, u32)>,
    text: String,
    arcs: Vec<OnceLock<Arc<str>>>,
}

impl AsTable {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn number(&self, i: usize) -> Option<u32> {
        self.entries.get(i).map(|e| e.0)
    }

    fn org(&self, i: usize) -> &str {
        let start = i
            .checked_sub(1)
            .and_then(|p| self.entries.get(p))
            .map_or(0, |e| e.1 as usize);
        let end = self.entries.get(i).map_or(0, |e| e.1 as usize);
        self.text.get(start..end).unwrap_or("")
    }

    fn org_arc(&self, i: usize) -> Option<Arc<str>> {
        let cell = self.arcs.get(i)?;
        Some(Arc::clone(cell.get_or_init(|| Arc::from(self.org(i)))))
    }
}

/// The IPv4 lookup structure.
struct V4 {
    /// Merged ranges (for iteration): starts and packed values.
    starts: Vec<u32>,
    vals: Vec<u32>,
    /// Per /16: `(value, 0)` when uniform, else `(offset, len)` into `keys`/`keyed_vals`.
    index: Vec<(u32, u32)>,
    /// Low 16 bits of the range starts inside non-uniform /16s (each run starts at 0).
    keys: Vec<u16>,
    keyed_vals: Vec<u32>,
}

/// The IPv6 merged ranges.
struct V6 {
    starts: Vec<u128>,
    vals: Vec<u32>,
}

/// An open `.fhg` database.
pub struct FhgDb {
    meta: Vec<(String, String)>,
    /// Country palette; index 0 is "no data".
    palette: Vec<Option<CountryCode>>,
    /// AS table; index 0 is "no data".
    asns: AsTable,
    v4: V4,
    /// Compressed IPv6 section and its raw length, decoded on first use.
    v6_section: (Vec<u8>, usize),
    v6: OnceLock<Result<V6, String>>,
    path: Option<PathBuf>,
}

/// A decoded table: `(start, id)` from address 0.
type Table<T> = Vec<(T, u32)>;

impl FhgDb {
    /// Opens a `.fhg` file (both sections are decoded and checked).
    pub fn open(path: &Path) -> Result<FhgDb, GeoError> {
        let bytes = std::fs::read(path).map_err(|e| GeoError::io(path, e))?;
        let db = FhgDb::from_bytes(&bytes, Some(path))?;
        db.check_v6()?;
        Ok(db)
    }

    /// Parses a `.fhg` image; `path` (`None` = embedded) names it in errors and
    /// `info()`. The IPv6 section is only decoded on first use (see [`FhgDb::check_v6`]).
    pub fn from_bytes(bytes: &[u8], path: Option<&Path>) -> Result<FhgDb, GeoError> {
        let name = path.map_or_else(|| PathBuf::from("<embedded>"), Path::to_path_buf);
        let bad = |d: &str| GeoError::corrupt(&name, FORMAT, d);
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or_else(|| bad("missing FHGEODB1 magic"))?;
        let (raw_len, z, rest) = section(rest).map_err(bad)?;
        let body = inflate(z, raw_len).map_err(|e| bad(&e))?;
        let (v6_raw, v6_z, rest) = section(rest).map_err(bad)?;
        if !rest.is_empty() {
            return Err(bad("trailing bytes after the last section"));
        }
        let mut c = Cursor::new(&body);
        let meta = read_meta(&mut c).ok_or_else(|| bad("bad metadata"))?;
        let palette = read_palette(&mut c).ok_or_else(|| bad("bad country palette"))?;
        let asns = read_asns(&mut c).ok_or_else(|| bad("bad AS table"))?;
        let (np, na) = (palette.len() as u32, asns.len() as u32);
        let country = read_table_v4(&mut c, np).ok_or_else(|| bad("bad IPv4 country table"))?;
        let asn = read_table_v4(&mut c, na).ok_or_else(|| bad("bad IPv4 ASN table"))?;
        if c.remaining() != 0 {
            return Err(bad("trailing bytes in section 1"));
        }
        let v4 = V4::build(merge(&country, &asn));
        let v6_section = (v6_z.to_vec(), v6_raw);
        Ok(FhgDb {
            meta,
            palette,
            asns,
            v4,
            v6_section,
            v6: OnceLock::new(),
            path: path.map(Path::to_path_buf),
        })
    }

    /// Decodes the IPv6 section now and reports whether it is sound.
    pub fn check_v6(&self) -> Result<(), GeoError> {
        self.v6().map(|_| ()).map_err(|detail| GeoError::Corrupt {
            path: self.path.clone().unwrap_or_else(|| "<embedded>".into()),
            format: FORMAT,
            detail: detail.to_string(),
        })
    }

    fn v6(&self) -> Result<&V6, &str> {
        let decoded = self.v6.get_or_init(|| {
            let (z, raw) = &self.v6_section;
            let body = inflate(z, *raw)?;
            let mut c = Cursor::new(&body);
            let (np, na) = (self.palette.len() as u32, self.asns.len() as u32);
            let country = read_table_v6(&mut c, np).ok_or("bad IPv6 country table")?;
            let asn = read_table_v6(&mut c, na).ok_or("bad IPv6 ASN table")?;
            if c.remaining() != 0 {
                return Err("trailing bytes in section 2".to_string());
            }
            let (starts, vals) = merge(&country, &asn).into_iter().unzip();
            Ok(V6 { starts, vals })
        });
        decoded.as_ref().map_err(String::as_str)
    }

    /// A metadata value (`date`, `version`, `country_source`, `asn_source`, `attribution`).
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All metadata entries.
    pub fn meta_entries(&self) -> &[(String, String)] {
        &self.meta
    }

    /// Number of merged IPv4 and IPv6 ranges (including "no data" gaps).
    pub fn range_counts(&self) -> (usize, usize) {
        (
            self.v4.starts.len(),
            self.v6().map_or(0, |v| v.starts.len()),
        )
    }

    fn v6_val(&self, ip: u128) -> u32 {
        let Ok(v6) = self.v6() else { return 0 };
        let i = v6.starts.partition_point(|&s| s <= ip).saturating_sub(1);
        v6.vals.get(i).copied().unwrap_or(0)
    }

    fn unpack(&self, val: u32) -> (Option<CountryCode>, usize) {
        let country = self
            .palette
            .get((val >> ASN_BITS) as usize)
            .copied()
            .flatten();
        (country, (val & ASN_MASK) as usize)
    }

    fn fast(&self, val: u32) -> (Option<CountryCode>, Option<(u32, &str)>) {
        let (c, a) = self.unpack(val);
        let asn = match a {
            0 => None,
            i => self.asns.number(i).map(|n| (n, self.asns.org(i))),
        };
        (c, asn)
    }

    /// Fast IPv4 lookup without allocation: country and `(AS number, organisation)`.
    #[inline]
    pub fn lookup_v4_fast(&self, ip: u32) -> (Option<CountryCode>, Option<(u32, &str)>) {
        self.fast(self.v4.val(ip))
    }

    /// Fast lookup on the `u128` convention without allocation.
    pub fn lookup_u128_fast(&self, ip: u128) -> (Option<CountryCode>, Option<(u32, &str)>) {
        match as_v4(ip) {
            Some(v4) => self.fast(self.v4.val(v4)),
            None => self.fast(self.v6_val(ip)),
        }
    }

    fn info_of(&self, val: u32) -> GeoInfo {
        let (country, a) = self.unpack(val);
        let mut info = GeoInfo::default().with_country(country);
        if a != 0 {
            info.asn = self.asns.number(a);
            info.org = self.asns.org_arc(a).filter(|o| !o.is_empty());
        }
        info
    }

    /// Iterates over the IPv4 ranges that have a country or an AS number, in
    /// address order: `(first, last, country, asn)`, both ends inclusive.
    pub fn ranges_v4(&self) -> RangesV4<'_> {
        RangesV4 { db: self, i: 0 }
    }
}

impl V4 {
    /// Builds the /16 index over merged ranges (which start at 0).
    fn build(merged: Vec<(u32, u32)>) -> V4 {
        let (starts, vals): (Vec<u32>, Vec<u32>) = merged.into_iter().unzip();
        let mut v4 = V4 {
            index: Vec::with_capacity(65_536),
            keys: Vec::new(),
            keyed_vals: Vec::new(),
            starts,
            vals,
        };
        let mut i = 0usize;
        for h in 0..65_536u32 {
            let base = h << 16;
            let carried = i
                .checked_sub(1)
                .and_then(|p| v4.vals.get(p))
                .copied()
                .unwrap_or(0);
            let offset = v4.keys.len();
            if v4.starts.get(i) != Some(&base) {
                v4.keys.push(0);
                v4.keyed_vals.push(carried);
            }
            while let Some(&s) = v4.starts.get(i).filter(|&&s| s >> 16 == h) {
                v4.keys.push(s as u16);
                v4.keyed_vals.push(v4.vals[i]);
                i += 1;
            }
            let len = v4.keys.len() - offset;
            if len == 1 {
                v4.keys.pop();
                v4.index.push((v4.keyed_vals.pop().unwrap_or(0), 0));
            } else {
                v4.index.push((offset as u32, len as u32));
            }
        }
        v4
    }

    /// The packed value of the range holding `ip`.
    #[inline]
    fn val(&self, ip: u32) -> u32 {
        let (a, n) = self.index[(ip >> 16) as usize];
        if n == 0 {
            return a;
        }
        let (a, n) = (a as usize, n as usize);
        let keys = self.keys.get(a..a + n).unwrap_or(&[]);
        let i = keys.partition_point(|&k| k <= ip as u16).saturating_sub(1);
        self.keyed_vals.get(a + i).copied().unwrap_or(0)
    }
}

/// Iterator returned by [`FhgDb::ranges_v4`].
pub struct RangesV4<'a> {
    db: &'a FhgDb,
    i: usize,
}

impl Iterator for RangesV4<'_> {
    type Item = (u32, u32, Option<CountryCode>, Option<u32>);

    fn next(&mut self) -> Option<Self::Item> {
        let v4 = &self.db.v4;
        while let Some(&val) = v4.vals.get(self.i) {
            let i = self.i;
            self.i += 1;
            let (country, a) = self.db.unpack(val);
            if country.is_none() && a == 0 {
                continue;
            }
            let end = v4.starts.get(i + 1).map_or(u32::MAX, |&s| s - 1);
            return Some((
                v4.starts[i],
                end,
                country,
                (a != 0).then(|| self.db.asns.number(a)).flatten(),
            ));
        }
        None
    }
}

impl GeoSource for FhgDb {
    fn lookup_u128(&self, ip: u128) -> GeoInfo {
        match as_v4(ip) {
            Some(v4) => self.info_of(self.v4.val(v4)),
            None => self.info_of(self.v6_val(ip)),
        }
    }

    fn lookup_v4(&self, ip: u32) -> GeoInfo {
        self.info_of(self.v4.val(ip))
    }

    fn country_u128(&self, ip: u128) -> Option<CountryCode> {
        let val = match as_v4(ip) {
            Some(v4) => self.v4.val(v4),
            None => self.v6_val(ip),
        };
        self.unpack(val).0
    }

    fn asn_u128(&self, ip: u128) -> Option<u32> {
        self.lookup_u128_fast(ip).1.map(|a| a.0)
    }

    fn info(&self) -> SourceInfo {
        let version = self
            .meta("version")
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        SourceInfo {
            kind: if self.path.is_some() {
                SourceKind::Flowhound
            } else {
                SourceKind::Embedded
            },
            path: self.path.clone(),
            database_type: format!("flowhound geo database{version}"),
            build_date: self.meta("date").map(str::to_string),
            description: self.meta("description").map(str::to_string),
            attribution: self
                .meta("attribution")
                .unwrap_or(crate::ATTRIBUTION)
                .to_string(),
            has_country: self.palette.len() > 1,
            has_asn: self.asns.len() > 1,
            has_ipv6: self.v6().is_ok_and(|v| v.starts.len() > 1),
        }
    }
}

/// Splits `raw_len u32, z_len u32, z bytes` off the front.
fn section(bytes: &[u8]) -> Result<(usize, &[u8], &[u8]), &'static str> {
    let word = |i: usize| -> Option<usize> {
        let b: [u8; 4] = bytes.get(i..i + 4)?.try_into().ok()?;
        Some(u32::from_le_bytes(b) as usize)
    };
    let (raw, zlen) = word(0).zip(word(4)).ok_or("truncated section header")?;
    let z = bytes.get(8..8 + zlen).ok_or("truncated section")?;
    Ok((raw, z, &bytes[8 + zlen..]))
}

/// Inflates a zlib section that must be exactly `len` bytes long.
fn inflate(z: &[u8], len: usize) -> Result<Vec<u8>, String> {
    if len > MAX_BODY {
        return Err("declared section too large".into());
    }
    let mut body = Vec::with_capacity(len);
    let decoder = flate2::read::ZlibDecoder::new(z);
    decoder
        .take(len as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|_| "bad compressed section")?;
    if body.len() != len {
        return Err("section length differs from header".into());
    }
    Ok(body)
}

fn read_meta(c: &mut Cursor<'_>) -> Option<Vec<(String, String)>> {
    let n = c.count()?;
    (0..n)
        .map(|_| Some((c.string()?.to_string(), c.string()?.to_string())))
        .collect()
}

fn read_palette(c: &mut Cursor<'_>) -> Option<Vec<Option<CountryCode>>> {
    let n = usize::from(c.u8()?);
    let mut out = vec![None];
    for _ in 0..n {
        let b = c.bytes(2)?;
        out.push(Some(CountryCode::from_bytes([b[0], b[1]])?));
    }
    Some(out)
}

fn read_asns(c: &mut Cursor<'_>) -> Option<AsTable> {
    let n = c.count()?;
    if n >= 1 << ASN_BITS {
        return None;
    }
    let mut t = AsTable {
        entries: Vec::with_capacity(n + 1),
        text: String::new(),
        arcs: Vec::new(),
    };
    t.entries.push((0, 0));
    let mut asn = 0u32;
    for _ in 0..n {
        asn = asn.checked_add(u32::try_from(c.varint64()?).ok()?)?;
        t.text.push_str(c.string()?);
        t.entries.push((asn, u32::try_from(t.text.len()).ok()?));
    }
    t.arcs = (0..=n).map(|_| OnceLock::new()).collect();
    Some(t)
}

/// Reads an IPv4 table: starts from 0, strictly increasing, ids `< limit`.
fn read_table_v4(c: &mut Cursor<'_>, limit: u32) -> Option<Table<u32>> {
    let n = c.count()?;
    let mut table = Vec::with_capacity(n);
    let mut cur = 0u32;
    for i in 0..n {
        let delta = u32::try_from(c.varint64()?).ok()?;
        if (i == 0) != (delta == 0) {
            return None;
        }
        cur = cur.checked_add(delta)?;
        table.push((cur, 0));
    }
    read_ids(c, &mut table, limit)?;
    Some(table).filter(|t| !t.is_empty())
}

/// Reads an IPv6 table, like [`read_table_v4`] with 128-bit starts.
fn read_table_v6(c: &mut Cursor<'_>, limit: u32) -> Option<Table<u128>> {
    let n = c.count()?;
    let mut table = Vec::with_capacity(n);
    let mut cur = 0u128;
    for i in 0..n {
        let delta = c.varint()?;
        if (i == 0) != (delta == 0) {
            return None;
        }
        cur = cur.checked_add(delta)?;
        table.push((cur, 0));
    }
    read_ids(c, &mut table, limit)?;
    Some(table).filter(|t| !t.is_empty())
}

fn read_ids<T>(c: &mut Cursor<'_>, table: &mut [(T, u32)], limit: u32) -> Option<()> {
    for entry in table.iter_mut() {
        entry.1 = u32::try_from(c.varint64()?).ok().filter(|&v| v < limit)?;
    }
    Some(())
}

/// Merges two tables into `(start, country << 23 | asn)` entries.
fn merge<T: Copy + Ord>(a: &[(T, u32)], b: &[(T, u32)]) -> Vec<(T, u32)> {
    let (mut i, mut j, mut va, mut vb) = (0, 0, 0, 0);
    let mut out: Vec<(T, u32)> = Vec::with_capacity(a.len().max(b.len()) * 3 / 2);
    loop {
        let (sa, sb) = (a.get(i).map(|x| x.0), b.get(j).map(|x| x.0));
        let Some(s) = sa.into_iter().chain(sb).min() else {
            break;
        };
        if sa == Some(s) {
            va = a[i].1;
            i += 1;
        }
        if sb == Some(s) {
            vb = b[j].1;
            j += 1;
        }
        let val = va << ASN_BITS | vb;
        if out.last().is_none_or(|l| l.1 != val) {
            out.push((s, val));
        }
    }
    out
}
