//! Writer of the `.fhg` format: collects ranges, normalises them (sorted,
//! overlaps clipped, gaps filled with "no data", equal neighbours merged) and
//! serialises + compresses them.

use super::{put_str, put_varint, MAGIC};
use crate::net::ip_to_u128;
use crate::{CountryCode, GeoError};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::IpAddr;

/// One input range on the `u128` convention, inclusive.
type Range = (u128, u128, u32);

/// Collects country and ASN ranges and writes a `.fhg` database.
#[derive(Default)]
pub struct FhgBuilder {
    meta: Vec<(String, String)>,
    country_v4: Vec<Range>,
    country_v6: Vec<Range>,
    asn_v4: Vec<Range>,
    asn_v6: Vec<Range>,
    /// Palette of country codes; index + 1 is stored.
    countries: BTreeMap<CountryCode, u32>,
    /// ASN -> organisation (first name seen wins).
    orgs: BTreeMap<u32, String>,
    /// Keep data for private / reserved blocks (off by default: registries' WHOIS
    /// data gives e.g. 192.168.0.0/16 a country, which misleads analysts).
    keep_private: bool,
}

impl FhgBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps (true) or blanks (false, the default) private and reserved blocks
    /// (see [`crate::is_private`]).
    pub fn keep_private(&mut self, keep: bool) {
        self.keep_private = keep;
    }

    /// Records a metadata entry (e.g. `("date", "2026-06-17")`, `("source", ...)`).
    pub fn meta(&mut self, key: &str, value: &str) {
        self.meta.push((key.to_string(), value.to_string()));
    }

    /// Adds an inclusive range with a country. Both ends must be the same family.
    pub fn add_country(
        &mut self,
        start: IpAddr,
        end: IpAddr,
        cc: CountryCode,
    ) -> Result<(), String> {
        let next = self.countries.len() as u32;
        let id = *self.countries.entry(cc).or_insert(next);
        push_range(start, end, id, &mut self.country_v4, &mut self.country_v6)
    }

    /// Adds an inclusive range with an AS number and organisation.
    pub fn add_asn(
        &mut self,
        start: IpAddr,
        end: IpAddr,
        asn: u32,
        org: &str,
    ) -> Result<(), String> {
        self.orgs.entry(asn).or_insert_with(|| org.to_string());
        push_range(start, end, asn, &mut self.asn_v4, &mut self.asn_v6)
    }

    /// Reads ip-location-db country CSV lines `start,end,CC`; returns the row count.
    pub fn read_country_csv(&mut self, input: impl BufRead, name: &str) -> Result<usize, GeoError> {
        for_each_row(input, name, |f| {
            let (start, end) = parse_pair(f.first(), f.get(1))?;
            let cc = f
                .get(2)
                .and_then(|c| CountryCode::parse(c))
                .ok_or("bad country code")?;
            self.add_country(start, end, cc)
        })
    }

    /// Reads ip-location-db ASN CSV lines `start,end,asn,organisation` (the
    /// organisation may be double-quoted); returns the row count.
    pub fn read_asn_csv(&mut self, input: impl BufRead, name: &str) -> Result<usize, GeoError> {
        for_each_row(input, name, |f| {
            let (start, end) = parse_pair(f.first(), f.get(1))?;
            let asn = f
                .get(2)
                .and_then(|a| a.trim().parse::<u32>().ok())
                .ok_or("bad AS number")?;
            self.add_asn(start, end, asn, f.get(3).map_or("", String::as_str))
        })
    }

    /// Serialises the database: magic, then the IPv4 section and the IPv6
    /// section, each as raw length, compressed length (u32 LE) and zlib data.
    pub fn build(&self) -> Result<Vec<u8>, GeoError> {
        let (v4, v6) = self.bodies()?;
        let mut out = MAGIC.to_vec();
        for body in [v4, v6] {
            let z = compress(&body)?;
            for len in [body.len(), z.len()] {
                let len = u32::try_from(len).map_err(|_| bad_input("database too large"))?;
                out.extend_from_slice(&len.to_le_bytes());
            }
            out.extend_from_slice(&z);
        }
        Ok(out)
    }

    fn bodies(&self) -> Result<(Vec<u8>, Vec<u8>), GeoError> {
        let mut b = Vec::new();
        put_varint(&mut b, self.meta.len() as u128);
        for (k, v) in &self.meta {
            put_str(&mut b, k);
            put_str(&mut b, v);
        }
        self.put_palettes(&mut b)?;
        let holes = if self.keep_private {
            Vec::new()
        } else {
            crate::net::private_blocks()
        };
        let asn_index: BTreeMap<u32, u32> =
            self.orgs.keys().zip(1..).map(|(&a, i)| (a, i)).collect();
        let country_ids = |r: &[Range]| r.iter().map(|&(s, e, id)| (s, e, id + 1)).collect();
        let asn_ids = |r: &[Range]| {
            r.iter()
                .map(|&(s, e, a)| (s, e, asn_index.get(&a).copied().unwrap_or(0)))
                .collect()
        };
        let v4 = (country_ids(&self.country_v4), asn_ids(&self.asn_v4));
        let v6 = (country_ids(&self.country_v6), asn_ids(&self.asn_v6));
        put_family(&mut b, v4, (V4_FIRST, V4_LAST), &holes);
        let mut b6 = Vec::new();
        put_family(&mut b6, v6, (0, u128::MAX), &holes);
        Ok((b, b6))
    }

    fn put_palettes(&self, b: &mut Vec<u8>) -> Result<(), GeoError> {
        if self.countries.len() > 255 {
            return Err(bad_input("more than 255 distinct country codes"));
        }
        if self.orgs.len() >= 1 << super::ASN_BITS {
            return Err(bad_input("more than 2^23 distinct AS numbers"));
        }
        let mut palette = vec![[0u8; 2]; self.countries.len()];
        for (cc, &id) in &self.countries {
            palette[id as usize] = cc.bytes();
        }
        b.push(palette.len() as u8);
        palette.iter().for_each(|p| b.extend_from_slice(p));
        put_varint(b, self.orgs.len() as u128);
        let mut prev = 0u32;
        for (&asn, org) in &self.orgs {
            put_varint(b, u128::from(asn - prev));
            put_str(b, org);
            prev = asn;
        }
        Ok(())
    }
}

/// IPv4 tables live in the IPv4-mapped block `::ffff:0.0.0.0/96`.
const V4_FIRST: u128 = 0xffff_0000_0000;
/// Last address of the IPv4-mapped block.
const V4_LAST: u128 = 0xffff_ffff_ffff;

fn compress(body: &[u8]) -> Result<Vec<u8>, GeoError> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(body)
        .and_then(|_| enc.finish())
        .map_err(|e| bad_input(&e.to_string()))
}

fn bad_input(detail: &str) -> GeoError {
    GeoError::BadInput {
        source_name: "builder".into(),
        line: 0,
        detail: detail.into(),
    }
}

fn push_range(
    start: IpAddr,
    end: IpAddr,
    id: u32,
    v4: &mut Vec<Range>,
    v6: &mut Vec<Range>,
) -> Result<(), String> {
    let (s, e) = (ip_to_u128(start), ip_to_u128(end));
    if start.is_ipv4() != end.is_ipv4() || s > e {
        return Err(format!("bad range {start} - {end}"));
    }
    if start.is_ipv4() { v4 } else { v6 }.push((s, e, id));
    Ok(())
}

/// Resolves overlaps (the smaller range wins, as nested more-specific entries in
/// the ip-location-db files intend; among equal sizes the later one), clips to
/// `[first, last]`, blanks the `holes`, fills gaps with 0 and merges equal
/// neighbours. Returns `(start, id)` entries beginning at `first`.
fn normalise(
    mut ranges: Vec<Range>,
    first: u128,
    last: u128,
    holes: &[(u128, u128)],
) -> Vec<(u128, u32)> {
    // Stable sort: larger ranges first, so smaller ones paint over them.
    ranges.sort_by_key(|&(s, e, _)| std::cmp::Reverse(e - s));
    let mut map = BTreeMap::new();
    let clipped = ranges
        .into_iter()
        .map(|(s, e, id)| (s.max(first), e.min(last), id));
    for (s, e, id) in clipped.chain(holes.iter().map(|&(s, e)| (s, e, 0))) {
        if s <= e {
            paint(&mut map, s, e, id);
        }
    }
    let mut out: Vec<(u128, u32)> = vec![(first, 0)];
    let mut next_free = Some(first);
    for (s, (e, id)) in map {
        if next_free.is_some_and(|f| s > f) {
            push_merged(&mut out, next_free.unwrap_or(s), 0);
        }
        push_merged(&mut out, s, id);
        next_free = e.checked_add(1).filter(|&n| n <= last);
    }
    if let Some(free) = next_free {
        push_merged(&mut out, free, 0);
    }
    out
}

/// Paints `[s, e]` with `id` over a map of disjoint intervals `start -> (end, id)`.
fn paint(map: &mut BTreeMap<u128, (u128, u32)>, s: u128, e: u128, id: u32) {
    let after = e.checked_add(1);
    // An interval starting before `s` and reaching into [s, e] is cut (and may resume after e).
    if let Some((&ps, &(pe, pid))) = map.range(..s).next_back() {
        if pe >= s {
            map.insert(ps, (s - 1, pid));
            if let Some(a) = after.filter(|_| pe > e) {
                map.insert(a, (pe, pid));
            }
        }
    }
    // Intervals starting inside [s, e] are removed; the last one may resume after e.
    let inside: Vec<u128> = map.range(s..=e).map(|(&k, _)| k).collect();
    for k in inside {
        if let Some((pe, pid)) = map.remove(&k) {
            if let Some(a) = after.filter(|_| pe > e) {
                map.insert(a, (pe, pid));
            }
        }
    }
    map.insert(s, (e, id));
}

fn push_merged(out: &mut Vec<(u128, u32)>, start: u128, id: u32) {
    match out.last_mut() {
        Some(last) if last.1 == id => {}
        Some(last) if last.0 == start => last.1 = id,
        _ => out.push((start, id)),
    }
}

/// Writes the country then the ASN table of one address family spanning `span`
/// (starts are stored relative to the span's first address).
fn put_family(
    b: &mut Vec<u8>,
    tables: (Vec<Range>, Vec<Range>),
    span: (u128, u128),
    holes: &[(u128, u128)],
) {
    let (first, last) = span;
    put_table(b, &normalise(tables.0, first, last, holes), first);
    put_table(b, &normalise(tables.1, first, last, holes), first);
}

/// Table: count, delta-coded starts (minus `base`), then ids.
fn put_table(b: &mut Vec<u8>, table: &[(u128, u32)], base: u128) {
    put_varint(b, table.len() as u128);
    let mut prev = base;
    for &(s, _) in table {
        put_varint(b, s - prev);
        prev = s;
    }
    table
        .iter()
        .for_each(|&(_, id)| put_varint(b, u128::from(id)));
}

/// Runs `row` on every non-empty, non-comment CSV line, mapping its errors to
/// [`GeoError::BadInput`] with the line number.
fn for_each_row(
    input: impl BufRead,
    name: &str,
    mut row: impl FnMut(&[String]) -> Result<(), String>,
) -> Result<usize, GeoError> {
    let mut rows = 0;
    for (i, line) in input.lines().enumerate() {
        let err = |detail: String| GeoError::BadInput {
            source_name: name.to_string(),
            line: i + 1,
            detail,
        };
        let line = line.map_err(|e| err(e.to_string()))?;
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        row(&split_csv(line)).map_err(err)?;
        rows += 1;
    }
    Ok(rows)
}

/// Splits one CSV line (RFC 4180 quoting with `""` escapes).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

fn parse_pair(a: Option<&String>, b: Option<&String>) -> Result<(IpAddr, IpAddr), String> {
    let parse = |f: Option<&String>| -> Result<IpAddr, String> {
        let t = f.ok_or("missing column")?.trim();
        t.parse::<IpAddr>()
            .map_err(|_| format!("bad address {t:?}"))
    };
    Ok((parse(a)?, parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_split() {
        assert_eq!(
            split_csv(r#"1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc.""#),
            ["1.0.0.0", "1.0.0.255", "13335", "Cloudflare, Inc."]
        );
        assert_eq!(split_csv(r#"a,"x ""y"" z",b"#), ["a", r#"x "y" z"#, "b"]);
    }

    #[test]
    fn normalise_fills_gaps_and_merges() {
        let m = u128::MAX;
        let t = normalise(
            vec![(10, 19, 1), (20, 29, 1), (30, 40, 2), (50, 60, 3)],
            0,
            m,
            &[],
        );
        assert_eq!(t, vec![(0, 0), (10, 1), (30, 2), (41, 0), (50, 3), (61, 0)]);
        assert_eq!(normalise(vec![(0, m, 7)], 0, m, &[]), vec![(0, 7)]);
        assert_eq!(normalise(vec![], 5, 9, &[]), vec![(5, 0)]);
        assert_eq!(normalise(vec![(3, 20, 4)], 5, 9, &[]), vec![(5, 4)]);
    }

    #[test]
    fn smaller_ranges_win_and_holes_blank() {
        let m = u128::MAX;
        // 100..=199 DE with a nested 120..=129 BE, listed after or before it.
        let want = vec![(0, 0), (100, 1), (120, 2), (130, 1), (200, 0)];
        assert_eq!(
            normalise(vec![(100, 199, 1), (120, 129, 2)], 0, m, &[]),
            want
        );
        assert_eq!(
            normalise(vec![(120, 129, 2), (100, 199, 1)], 0, m, &[]),
            want
        );
        let t = normalise(vec![(100, 199, 1)], 0, m, &[(150, 159)]);
        assert_eq!(t, vec![(0, 0), (100, 1), (150, 0), (160, 1), (200, 0)]);
        // Same start, smaller one wins at the start, the larger resumes after it.
        let t = normalise(vec![(100, 199, 1), (100, 109, 2)], 0, m, &[]);
        assert_eq!(t, vec![(0, 0), (100, 2), (110, 1), (200, 0)]);
    }
}
