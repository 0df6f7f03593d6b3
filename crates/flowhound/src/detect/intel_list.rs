//! Blocklists for `threat_intel`: parsing of user-supplied lists (plain IP/CIDR lines, CSV with the
//! address in the first column, Spamhaus DROP `CIDR ; SBLxxxx`, FireHOL netsets and ipsets, Spamhaus
//! JSON lines) and a per-list index of disjoint address ranges searched by binary search over the
//! `u128` address integers (IPv4 mapped, as everywhere in flowhound).

use crate::error::{FlowError, Result};
use crate::ip;
use std::collections::BTreeSet;
use std::path::Path;

/// One entry of a list: its address range and the text it was written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// First address.
    pub first: u128,
    /// Last address (inclusive).
    pub last: u128,
    /// The entry as written (`45.9.148.0/24`, `1.2.3.4`, `1.2.3.4-1.2.3.9`).
    pub text: String,
    /// The rest of the line (Spamhaus SBL id, a CSV row's other columns), trimmed; may be empty.
    pub note: String,
}

/// One list: its name (the file stem), its entries and a disjoint-range index of them.
#[derive(Debug, Clone, Default)]
pub struct IntelList {
    /// The file stem, e.g. `firehol_level1`.
    pub name: String,
    /// The file as given.
    pub path: String,
    /// Entries, in file order.
    pub entries: Vec<Entry>,
    /// Lines skipped as bad (only under the lenient rule).
    pub skipped_lines: u64,
    /// Disjoint ranges `(first, last, entry)`, sorted; each labelled with its most specific entry.
    segments: Vec<(u128, u128, u32)>,
}

/// What a line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Blank or a comment (`#`, `;`, `//`), or a metadata record.
    Skip,
    /// An entry: first, last, text, note.
    Entry(u128, u128, String, String),
    /// Not understood: the first field.
    Bad(String),
}

/// What ends the first field of a line.
const SEPARATORS: [char; 5] = [',', ';', '\t', ' ', '#'];

/// Strips quotes and spaces around a field.
fn unquote(s: &str) -> &str {
    s.trim().trim_matches(|c| c == '"' || c == '\'').trim()
}

/// An address, a CIDR block or an `A-B` range as `(first, last)`.
pub fn parse_range(text: &str) -> Option<(u128, u128)> {
    let t = unquote(text);
    if let Some((a, b)) = t.split_once('-') {
        let (a, b) = (ip::parse(a)?, ip::parse(b)?);
        let same_family = ip::as_v4(a).is_some() == ip::as_v4(b).is_some();
        return (a <= b && same_family).then_some((a, b));
    }
    if !t.contains('/') {
        return ip::parse(t).map(|v| (v, v));
    }
    // Cidr::parse clears host bits, as the lists mean (`1.2.3.4/24` is the /24)
    let c = crate::net::Cidr::parse(t).ok()?;
    Some(c.range_u128())
}

/// The `cidr` or `ip` value of a JSON-lines record (Spamhaus `drop_v4.json`); metadata records skip.
fn json_line(t: &str) -> Line {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(t) else {
        return Line::Bad(t.chars().take(60).collect());
    };
    let field = ["cidr", "ip", "network", "address"]
        .iter()
        .find_map(|k| v.get(*k).and_then(|x| x.as_str()));
    let Some(text) = field else {
        return Line::Skip;
    };
    let note = ["sblid", "id", "description", "comment"]
        .iter()
        .find_map(|k| v.get(*k).and_then(|x| x.as_str()))
        .unwrap_or("")
        .to_string();
    match parse_range(text) {
        Some((a, b)) => Line::Entry(a, b, text.to_string(), note),
        None => Line::Bad(text.to_string()),
    }
}

/// Parses one line: comments and blanks skip; otherwise the first field (up to `,`, `;`, a tab, a
/// space or `#`) is an address, CIDR block or `A-B` range, and the rest is the note.
pub fn parse_line(line: &str) -> Line {
    let t = line.trim().trim_start_matches('\u{feff}').trim();
    if t.is_empty() || t.starts_with('#') || t.starts_with(';') || t.starts_with("//") {
        return Line::Skip;
    }
    if t.starts_with('{') {
        return json_line(t);
    }
    let cut = t.find(SEPARATORS).unwrap_or(t.len());
    let (first, rest) = t.split_at(cut);
    // `A - B` written with spaces around the dash
    let (first, rest) = match rest.trim_start().strip_prefix('-') {
        Some(r) if !first.contains('/') => {
            let r = r.trim_start();
            let end = r.find(SEPARATORS).unwrap_or(r.len());
            (format!("{first}-{}", &r[..end]), &r[end..])
        }
        _ => (first.to_string(), rest),
    };
    let note = rest.trim_start_matches(SEPARATORS).trim().replace('"', "");
    match parse_range(&first) {
        Some((a, b)) => Line::Entry(a, b, unquote(&first).to_string(), note),
        None => Line::Bad(unquote(&first).chars().take(60).collect()),
    }
}

/// True when a line that failed to parse can be a CSV header: the first data line, with a field
/// separator (`,`, `;` or a tab).
fn header_like(line: &str) -> bool {
    line.contains([',', ';', '\t'])
}

/// The list name of a path: its file stem (`lists/firehol_level1.netset` -> `firehol_level1`).
pub fn list_name(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(path)
        .to_string()
}

impl IntelList {
    /// Parses the text of list `path`. A line that is neither blank, a comment, a header (the first
    /// data line, when it has a field separator) nor an address entry is an error naming the file,
    /// the line and the fix, or, with `lenient`, is skipped and counted.
    pub fn parse(path: &str, text: &str, lenient: bool) -> Result<IntelList> {
        let mut list = IntelList {
            name: list_name(path),
            path: path.to_string(),
            ..Default::default()
        };
        let mut seen_data = false;
        for (n, line) in text.lines().enumerate() {
            match parse_line(line) {
                Line::Skip => {}
                Line::Entry(first, last, text, note) => {
                    seen_data = true;
                    list.entries.push(Entry {
                        first,
                        last,
                        text,
                        note,
                    });
                }
                Line::Bad(_) if !seen_data && header_like(line) => seen_data = true,
                Line::Bad(_) if lenient => {
                    seen_data = true;
                    list.skipped_lines += 1;
                }
                Line::Bad(field) => {
                    return Err(FlowError::Config(format!(
                        "{path}: line {}: '{field}' is not an IP address, CIDR block or A-B range; correct the line, comment it out with #, or set [detectors.threat_intel] skip_bad_lines = true to skip such lines",
                        n + 1
                    )))
                }
            }
        }
        list.segments = segments(&list.entries);
        Ok(list)
    }

    /// Reads and parses list `path` (see [`IntelList::parse`]).
    pub fn load(path: &str, lenient: bool) -> Result<IntelList> {
        let bytes = std::fs::read(path).map_err(|e| FlowError::Config(format!(
            "threat_intel list {path}: {e}; check the path given to --intel or [detectors.threat_intel] files"
        )))?;
        let text = String::from_utf8_lossy(&bytes);
        IntelList::parse(path, &text, lenient)
    }

    /// The most specific entry containing `addr`, by binary search over the disjoint ranges.
    pub fn lookup(&self, addr: u128) -> Option<&Entry> {
        let i = self.segments.partition_point(|s| s.0 <= addr);
        let s = self.segments.get(i.checked_sub(1)?)?;
        (addr <= s.1).then(|| &self.entries[s.2 as usize])
    }

    /// Number of disjoint ranges of the index.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }
}

/// Cuts the entries' ranges (which may nest or overlap) into disjoint sorted ranges, each labelled
/// with the smallest entry covering it (ties: the first in the file); adjacent ranges with the same
/// label are joined. A sweep over the range ends: O(n log n).
pub fn segments(entries: &[Entry]) -> Vec<(u128, u128, u32)> {
    // events: (address, is_start, entry); an end event sits at last + 1
    let mut starts: Vec<(u128, u32)> = Vec::with_capacity(entries.len());
    let mut ends: Vec<(u128, u32)> = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        starts.push((e.first, i as u32));
        if let Some(end) = e.last.checked_add(1) {
            ends.push((end, i as u32));
        }
    }
    starts.sort_unstable();
    ends.sort_unstable();
    let mut points: Vec<u128> = starts.iter().chain(&ends).map(|p| p.0).collect();
    points.sort_unstable();
    points.dedup();
    let size = |i: u32| {
        let e = &entries[i as usize];
        e.last - e.first
    };
    let mut active: BTreeSet<(u128, u32)> = BTreeSet::new();
    let (mut si, mut ei) = (0, 0);
    let mut out: Vec<(u128, u128, u32)> = Vec::new();
    for (k, &p) in points.iter().enumerate() {
        while ei < ends.len() && ends[ei].0 == p {
            active.remove(&(size(ends[ei].1), ends[ei].1));
            ei += 1;
        }
        while si < starts.len() && starts[si].0 == p {
            active.insert((size(starts[si].1), starts[si].1));
            si += 1;
        }
        let Some(&(_, label)) = active.first() else {
            continue;
        };
        let last = points.get(k + 1).map_or(u128::MAX, |n| n - 1);
        match out.last_mut() {
            Some(prev) if prev.2 == label && prev.1.checked_add(1) == Some(p) => prev.1 = last,
            _ => out.push((p, last, label)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> u128 {
        ip::parse(s).unwrap()
    }

    #[test]
    fn line_table() {
        let e = |a: &str, b: &str, t: &str, n: &str| {
            Line::Entry(v(a), v(b), t.to_string(), n.to_string())
        };
        let cases = [
            ("", Line::Skip),
            ("   # comment", Line::Skip),
            ("; Spamhaus DROP List 2024/01/01", Line::Skip),
            ("// note", Line::Skip),
            ("1.2.3.4", e("1.2.3.4", "1.2.3.4", "1.2.3.4", "")),
            (
                "1.10.16.0/20 ; SBL256894",
                e("1.10.16.0", "1.10.31.255", "1.10.16.0/20", "SBL256894"),
            ),
            (
                "\"5.6.7.0/24\",\"botnet\",2024-01-01",
                e("5.6.7.0", "5.6.7.255", "5.6.7.0/24", "botnet,2024-01-01"),
            ),
            ("9.9.9.9 # why", e("9.9.9.9", "9.9.9.9", "9.9.9.9", "why")),
            (
                "2001:db8::/32\tdoc",
                e(
                    "2001:db8::",
                    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
                    "2001:db8::/32",
                    "doc",
                ),
            ),
            (
                "1.2.3.4-1.2.3.9",
                e("1.2.3.4", "1.2.3.9", "1.2.3.4-1.2.3.9", ""),
            ),
            (
                "1.2.3.4 - 1.2.3.9 range",
                e("1.2.3.4", "1.2.3.9", "1.2.3.4-1.2.3.9", "range"),
            ),
            (
                "{\"cidr\":\"1.10.16.0/20\",\"sblid\":\"SBL256894\",\"rir\":\"apnic\"}",
                e("1.10.16.0", "1.10.31.255", "1.10.16.0/20", "SBL256894"),
            ),
            ("{\"type\":\"metadata\",\"records\":2}", Line::Skip),
            ("\u{feff}8.8.8.8", e("8.8.8.8", "8.8.8.8", "8.8.8.8", "")),
            ("ip,first_seen", Line::Bad("ip".into())),
            ("1.2.3/24", Line::Bad("1.2.3/24".into())),
            ("1.2.3.9-1.2.3.4", Line::Bad("1.2.3.9-1.2.3.4".into())),
            ("1.2.3.0/33", Line::Bad("1.2.3.0/33".into())),
        ];
        for (line, want) in cases {
            assert_eq!(parse_line(line), want, "{line:?}");
        }
    }

    #[test]
    fn errors_name_file_line_and_fix_or_skip() {
        let text = "# list\n1.2.3.4\nnot-an-ip\n5.6.7.8\n";
        let e = IntelList::parse("lists/bad.txt", text, false)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("lists/bad.txt: line 3: 'not-an-ip' is not an IP address")
                && e.contains("skip_bad_lines = true"),
            "{e}"
        );
        let l = IntelList::parse("lists/bad.txt", text, true).unwrap();
        assert_eq!(
            (l.name.as_str(), l.entries.len(), l.skipped_lines),
            ("bad", 2, 1)
        );
        // a CSV header is allowed on the first data line only
        let csv = "ip,reason\n1.2.3.4,scanner\n";
        assert_eq!(
            IntelList::parse("x.csv", csv, false).unwrap().entries.len(),
            1
        );
        assert!(IntelList::parse("x.csv", "1.2.3.4,a\nip,reason\n", false).is_err());
    }

    #[test]
    fn lookup_takes_the_most_specific_entry() {
        let text = "10.0.0.0/8 outer\n10.1.0.0/16 middle\n10.1.2.3 inner\n10.1.0.0/16 dup\n20.0.0.5-20.0.0.9 r\n20.0.0.8-20.0.1.0 r2\n255.255.255.255\nffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124\n";
        let l = IntelList::parse("t.netset", text, false).unwrap();
        let cases = [
            ("10.0.0.1", Some("outer")),
            ("10.1.2.2", Some("middle")),
            ("10.1.2.3", Some("inner")),
            ("10.1.2.4", Some("middle")),
            ("10.2.0.0", Some("outer")),
            ("11.0.0.0", None),
            ("9.255.255.255", None),
            ("20.0.0.4", None),
            ("20.0.0.5", Some("r")),
            ("20.0.0.8", Some("r")),
            ("20.0.0.10", Some("r2")),
            ("20.0.1.0", Some("r2")),
            ("20.0.1.1", None),
            ("255.255.255.255", Some("")),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some("")),
        ];
        for (a, want) in cases {
            assert_eq!(l.lookup(v(a)).map(|e| e.note.as_str()), want, "{a}");
        }
        // ranges are disjoint and sorted
        let s = segments(&l.entries);
        assert!(s.windows(2).all(|w| w[0].1 < w[1].0), "{s:?}");
    }

    #[test]
    fn lookup_agrees_with_a_linear_scan() {
        // pseudo-random nested and overlapping ranges; the oracle is the smallest containing entry
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let base = ip::V4_BASE;
        let entries: Vec<Entry> = (0..300)
            .map(|i| {
                let a = base + (next() % 5000) as u128;
                let len = [0u128, 3, 15, 255, 1023][(next() % 5) as usize];
                Entry {
                    first: a,
                    last: a + len,
                    text: i.to_string(),
                    note: String::new(),
                }
            })
            .collect();
        let l = IntelList {
            segments: segments(&entries),
            entries: entries.clone(),
            ..Default::default()
        };
        for addr in base..base + 6500 {
            let want = entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.first <= addr && addr <= e.last)
                .min_by_key(|(i, e)| (e.last - e.first, *i))
                .map(|(_, e)| e.text.clone());
            assert_eq!(l.lookup(addr).map(|e| e.text.clone()), want, "{addr}");
        }
    }
}
