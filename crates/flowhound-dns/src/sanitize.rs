//! Making untrusted DNS data safe to print.
//!
//! Anyone who controls an address block controls its PTR names, and TXT
//! records are free text: they can carry terminal escape sequences, control
//! characters, bidirectional overrides, HTML or thousands of characters.
//! [`sanitize_for_terminal`] turns any string into printable ASCII of bounded
//! length (HTML reports escape with `flowhound::report`'s own escaper). JSON output keeps the exact
//! data (serde escapes control characters).

use std::fmt::Write as _;

/// Default display cap, in characters, of [`sanitize_for_terminal`].
pub const DEFAULT_DISPLAY_CHARS: usize = 100;

/// Marker appended when a value was cut.
const ELLIPSIS: char = '…';

/// Printable-ASCII version of `s`, at most [`DEFAULT_DISPLAY_CHARS`]
/// characters (plus an ellipsis when cut). See [`sanitize_with_limit`].
pub fn sanitize_for_terminal(s: &str) -> String {
    sanitize_with_limit(s, DEFAULT_DISPLAY_CHARS)
}

/// Printable-ASCII version of `s`: printable ASCII is kept, ASCII control
/// characters (ESC, CR, BEL, DEL...) become `\xNN`, and every non-ASCII
/// character becomes `\u{XXXX}` (this removes C1 controls, bidi overrides,
/// zero-width and double-width characters and homoglyphs in one rule). The
/// result is cut to `max_chars` characters, the last one replaced by `…`
/// when anything was dropped; escapes are never cut in half.
pub fn sanitize_with_limit(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_add(8)));
    let mut used = 0usize;
    let mut buf = String::with_capacity(12);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        buf.clear();
        escape_char(c, &mut buf);
        let is_last = chars.peek().is_none();
        let room = if is_last {
            max_chars
        } else {
            max_chars.saturating_sub(1)
        };
        if used + buf.len() > room {
            if max_chars > 0 {
                out.push(ELLIPSIS);
            }
            return out;
        }
        out.push_str(&buf);
        used += buf.len();
    }
    out
}

/// Writes the display form of one character.
fn escape_char(c: char, out: &mut String) {
    match c {
        ' '..='~' => out.push(c),
        '\0'..='\x7f' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        _ => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_printable_ascii(s: &str) -> bool {
        s.chars().all(|c| (' '..='~').contains(&c) || c == ELLIPSIS)
    }

    #[test]
    fn plain_names_unchanged() {
        assert_eq!(sanitize_for_terminal("dns.ua.pt."), "dns.ua.pt.");
    }

    #[test]
    fn escapes_controls_and_non_ascii() {
        let s = sanitize_for_terminal("\u{1b}[2J\r\n\u{7}x\u{9b}31m\u{202e}gpj.exe");
        assert_eq!(s, "\\x1b[2J\\x0d\\x0a\\x07x\\u{009b}31m\\u{202e}gpj.exe");
        assert!(is_printable_ascii(&s));
    }

    #[test]
    fn caps_length_with_ellipsis() {
        let long = "a".repeat(10_000);
        let s = sanitize_with_limit(&long, 20);
        assert_eq!(s.chars().count(), 20);
        assert!(s.ends_with(ELLIPSIS));
        assert_eq!(sanitize_with_limit("abc", 3), "abc");
        assert_eq!(sanitize_with_limit("abcd", 3), "ab…");
        assert_eq!(sanitize_with_limit("abcd", 0), "");
    }

    #[test]
    fn never_cuts_an_escape() {
        let s = sanitize_with_limit("ab\u{1b}cdef", 5);
        assert_eq!(s, "ab…");
    }

    #[test]
    fn any_input_is_printable() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let s = sanitize_with_limit(&all, usize::MAX);
        assert!(is_printable_ascii(&s));
    }
}
