//! Country codes: a two-letter [`CountryCode`] value type and the ISO 3166-1
//! alpha-2 to English name table ([`country_name`]).
//!
//! The table also knows the legacy GeoIP pseudo-codes (`A1` anonymous proxy,
//! `A2` satellite provider, `AP`, `EU`, `O1` other).

use crate::country_data::{LEGACY_CODES, NAMES};
use std::fmt;

/// An upper-case two-letter country code (ISO 3166-1 alpha-2 or a GeoIP pseudo-code).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a code; accepts two ASCII letters or digits in any case, rejects
    /// anything else, and treats the "unknown" markers `--`, `ZZ` and `""` as `None`.
    pub fn parse(text: &str) -> Option<CountryCode> {
        let b = text.trim().as_bytes();
        if b.len() != 2 || !b.iter().all(u8::is_ascii_alphanumeric) {
            return None;
        }
        let code = [b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()];
        (&code != b"ZZ").then_some(CountryCode(code))
    }

    /// Builds a code from two bytes, as stored in flowhound's own format.
    pub(crate) fn from_bytes(b: [u8; 2]) -> Option<CountryCode> {
        std::str::from_utf8(&b).ok().and_then(CountryCode::parse)
    }

    /// The code's two bytes.
    pub fn bytes(self) -> [u8; 2] {
        self.0
    }

    /// The code as a `&str` (always two ASCII characters).
    pub fn as_str(&self) -> &str {
        // Invariant: built only from ASCII alphanumerics.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The English name of the country, when the table knows the code.
    pub fn name(self) -> Option<&'static str> {
        letter_index(self.0).and_then(|i| NAME_TABLE[i])
    }
}

impl AsRef<str> for CountryCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

/// Position of an upper-case letter (0..26) or digit (26..36).
const fn symbol(c: u8) -> Option<usize> {
    match c {
        b'A'..=b'Z' => Some((c - b'A') as usize),
        b'0'..=b'9' => Some(26 + (c - b'0') as usize),
        _ => None,
    }
}

/// Index of a two-symbol upper-case code in a 36 x 36 table.
const fn letter_index(code: [u8; 2]) -> Option<usize> {
    match (symbol(code[0]), symbol(code[1])) {
        (Some(a), Some(b)) => Some(a * 36 + b),
        _ => None,
    }
}

/// Names indexed by [`letter_index`], built at compile time from `NAMES`.
static NAME_TABLE: [Option<&str>; 36 * 36] = {
    let mut table = [None; 36 * 36];
    let mut i = 0;
    while i < NAMES.len() {
        let code = NAMES[i].0.as_bytes();
        if let Some(at) = letter_index([code[0], code[1]]) {
            table[at] = Some(NAMES[i].1);
        }
        i += 1;
    }
    table
};

/// English name of an alpha-2 code (case-insensitive), e.g. `PT` -> `Portugal`.
pub fn country_name(code: &str) -> Option<&'static str> {
    CountryCode::parse(code).and_then(CountryCode::name)
}

/// All `(code, English name)` pairs known, sorted by code.
pub fn all_countries() -> impl Iterator<Item = (&'static str, &'static str)> {
    NAMES.iter().copied()
}

/// The country of a legacy GeoIP Country record index (0 and out-of-range = unknown).
pub(crate) fn legacy_code(index: usize) -> Option<CountryCode> {
    LEGACY_CODES.get(index).and_then(|c| CountryCode::parse(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_and_unique() {
        assert!(NAMES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn table_agrees_with_names_list() {
        for (code, name) in NAMES {
            assert_eq!(
                CountryCode::parse(code).and_then(CountryCode::name),
                Some(name)
            );
        }
        assert_eq!(CountryCode::parse("Q1").and_then(CountryCode::name), None);
    }

    #[test]
    fn known_names() {
        assert_eq!(country_name("pt"), Some("Portugal"));
        assert_eq!(country_name("US"), Some("United States"));
        assert_eq!(country_name("XX"), None);
        assert_eq!(
            CountryCode::parse("de").map(|c| c.to_string()),
            Some("DE".to_string())
        );
        assert_eq!(CountryCode::parse("--"), None);
        assert_eq!(CountryCode::parse("ZZ"), None);
        assert_eq!(CountryCode::parse("DEU"), None);
        let pt = CountryCode::parse("pt").map(|c| AsRef::<str>::as_ref(&c).to_string());
        assert_eq!(pt.as_deref(), Some("PT"));
    }

    #[test]
    fn legacy_index() {
        assert_eq!(legacy_code(0), None);
        assert_eq!(legacy_code(1).map(|c| c.to_string()), Some("AP".into()));
        assert_eq!(legacy_code(10_000), None);
    }
}
