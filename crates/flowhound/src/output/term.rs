//! Terminal output of findings: when to colour (`--color`, `NO_COLOR`), ANSI-aware widths and padding,
//! column widths fitted to the terminal, the ranked findings table and the end-of-run summary.
//!
//! Everything here is pure: the caller finds out whether stdout is a terminal and how wide it is, and
//! passes a [`Term`].

use super::table::Table;
use crate::findings::{Finding, FindingsDoc, Severity};

/// The `--color` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Always colour (wins over `NO_COLOR`).
    Always,
    /// Never colour.
    Never,
}

/// Whether to colour: `always`/`never` decide alone; `auto` needs a terminal and an unset or empty
/// `NO_COLOR` (<https://no-color.org>).
pub fn use_color(choice: ColorChoice, is_tty: bool, no_color: Option<&str>) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_tty && no_color.is_none_or(str::is_empty),
    }
}

/// The terminal width from a `COLUMNS` value: a positive integer, else `None`.
pub fn columns_from_env(value: Option<&str>) -> Option<usize> {
    value
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|w| *w > 0)
}

/// Where terminal output goes: colour or not, and the width to fit (`None`: do not fit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Term {
    /// Paint with ANSI SGR escapes.
    pub color: bool,
    /// Screen columns available for a line.
    pub width: Option<usize>,
}

/// The ANSI SGR parameters of a severity: critical bold red, high red, medium yellow, low dim.
pub fn severity_sgr(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "2",
    }
}

/// Wraps `text` in the SGR escape `sgr` and a reset.
pub fn paint(text: &str, sgr: &str) -> String {
    format!("\x1b[{sgr}m{text}\x1b[0m")
}

/// The number of screen columns `s` takes: characters, not counting ANSI CSI escapes (`ESC [ ... m`).
pub fn visible_width(s: &str) -> usize {
    let mut n = 0;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            skip_escape(&mut chars);
        } else {
            n += 1;
        }
    }
    n
}

/// Skips the rest of an escape sequence after `ESC`: a CSI (`[` parameters, final byte `@`..`~`) or
/// one character.
fn skip_escape(chars: &mut std::str::Chars<'_>) {
    if chars.next() != Some('[') {
        return;
    }
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            return;
        }
    }
}

/// Pads `s` with spaces to `width` visible columns, on the left when `right` (right-aligned).
pub fn pad(s: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(visible_width(s)));
    if right {
        fill + s
    } else {
        s.to_string() + &fill
    }
}

/// Cuts plain text to at most `n` characters, ending in `…` when cut.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    if n > 0 {
        out.push('…');
    }
    out
}

/// How wide a column would like to be, and how narrow it may become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    /// Width of its widest cell.
    pub natural: usize,
    /// Narrowest allowed (a column narrower than this by nature keeps its natural width).
    pub min: usize,
}

/// Column widths whose line (`sep` columns between cells) fits `total`: columns give up width in
/// `order` (indexes; the first is shrunk to its minimum before the next is touched). When even the
/// minima do not fit, the minima are returned and the line overflows.
pub fn fit_widths(cols: &[Col], order: &[usize], sep: usize, total: usize) -> Vec<usize> {
    let mut widths: Vec<usize> = cols.iter().map(|c| c.natural).collect();
    let line = widths.iter().sum::<usize>() + sep * widths.len().saturating_sub(1);
    let mut excess = line.saturating_sub(total);
    for &i in order {
        let Some(c) = cols.get(i) else { continue };
        let give = c.natural.saturating_sub(c.min).min(excess);
        widths[i] -= give;
        excess -= give;
    }
    widths
}

/// Titles of the findings table.
pub const FINDING_COLUMNS: [&str; 8] = [
    "id",
    "severity",
    "score",
    "kind",
    "detector",
    "hosts",
    "flows",
    "explanation",
];
const SEVERITY: usize = 1;
const KIND: usize = 3;
const DETECTOR: usize = 4;
const HOSTS: usize = 5;
const EXPLANATION: usize = 7;
/// Widest hosts and explanation cells, whatever the terminal.
const HOSTS_MAX: usize = 40;
const EXPLANATION_MAX: usize = 140;
/// Narrowest kind, detector, hosts (one IPv4 address) and explanation cells when fitting.
const KIND_MIN: usize = 10;
const DETECTOR_MIN: usize = 8;
const HOSTS_MIN: usize = 15;
const EXPLANATION_MIN: usize = 30;

/// The ranked findings table (at most `limit` rows, in the given order), fitted to `term.width` by
/// shrinking the explanation, then the detector list, the hosts and the kind (each to a minimum; a
/// terminal too narrow for the minima gets longer lines), with the severity coloured when `term.color`.
pub fn findings_table(findings: &[Finding], limit: usize, term: &Term) -> String {
    if findings.is_empty() {
        return "no findings\n".into();
    }
    let shown = &findings[..limit.min(findings.len())];
    let mut t = Table::new(FINDING_COLUMNS);
    shown.iter().for_each(|f| t.row(finding_cells(f)));
    let widths = findings_widths(&t, term.width);
    let sgr = |row: usize, col: usize| {
        let f = shown.get(row).filter(|_| term.color && col == SEVERITY)?;
        Some(severity_sgr(f.severity))
    };
    let more = findings.len() - shown.len();
    let tail = if more > 0 {
        format!("... {more} more (see --json)\n")
    } else {
        String::new()
    };
    t.render_with(&widths, &sgr) + &tail
}

fn finding_cells(f: &Finding) -> [String; 8] {
    [
        f.id.clone(),
        f.severity.as_str().into(),
        format!("{:.2}", f.score),
        f.kind.clone(),
        f.detector.clone(),
        truncate(&f.hosts.join(" "), HOSTS_MAX),
        f.flows.to_string(),
        truncate(&f.evidence.explanation, EXPLANATION_MAX),
    ]
}

/// The natural widths, fitted to `width` when given.
fn findings_widths(t: &Table, width: Option<usize>) -> Vec<usize> {
    let natural = t.widths();
    let Some(total) = width else {
        return natural;
    };
    let cols: Vec<Col> = natural
        .iter()
        .enumerate()
        .map(|(i, &n)| Col {
            natural: n,
            min: match i {
                EXPLANATION => EXPLANATION_MIN,
                HOSTS => HOSTS_MIN,
                DETECTOR => DETECTOR_MIN,
                KIND => KIND_MIN,
                _ => n,
            },
        })
        .collect();
    fit_widths(&cols, &[EXPLANATION, DETECTOR, HOSTS, KIND], 2, total)
}

/// The end-of-run summary: baseline used, findings per severity, top hosts.
pub fn summary_text(doc: &FindingsDoc) -> String {
    let b = &doc.baseline;
    let which = match b.source.as_str() {
        "self" => "learned from the test input itself (robust: median/MAD)".to_string(),
        "normal" => format!("learned from {} ({} flows)", b.inputs.join(", "), b.flows),
        _ => format!("file {} ({} flows)", b.inputs.join(", "), b.flows),
    };
    let sev: Vec<String> = doc
        .per_severity
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    let mut out = format!(
        "baseline: {which}\nfindings: {} ({})\n",
        doc.findings.len(),
        sev.join(", ")
    );
    let top: Vec<String> = doc
        .top_hosts
        .iter()
        .take(5)
        .map(|h| format!("{} ({:.2}, {})", h.host, h.score, h.kinds.join("+")))
        .collect();
    if !top.is_empty() {
        out += &format!("top hosts: {}\n", top.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_decision_table() {
        use ColorChoice::*;
        for (choice, tty, no_color, want) in [
            (Auto, true, None, true),
            (Auto, true, Some(""), true),
            (Auto, true, Some("1"), false),
            (Auto, true, Some("0"), false),
            (Auto, false, None, false),
            (Auto, false, Some(""), false),
            (Always, false, Some("1"), true),
            (Always, true, None, true),
            (Never, true, None, false),
            (Never, false, Some(""), false),
        ] {
            assert_eq!(
                use_color(choice, tty, no_color),
                want,
                "{choice:?} tty={tty} NO_COLOR={no_color:?}"
            );
        }
    }

    #[test]
    fn columns_table() {
        for (v, want) in [
            (None, None),
            (Some("100"), Some(100)),
            (Some(" 80 "), Some(80)),
            (Some("0"), None),
            (Some("-5"), None),
            (Some("wide"), None),
            (Some(""), None),
        ] {
            assert_eq!(columns_from_env(v), want, "{v:?}");
        }
    }

    #[test]
    fn fit_widths_table() {
        let c = |natural, min| Col { natural, min };
        let cols = [c(2, 2), c(20, 5), c(50, 10)];
        // natural line: 2 + 20 + 50 + 2 * 2 = 76
        for (total, want) in [
            (200, vec![2, 20, 50]),
            (76, vec![2, 20, 50]),
            (75, vec![2, 20, 49]),
            (40, vec![2, 20, 14]),
            (36, vec![2, 20, 10]),
            (30, vec![2, 14, 10]),
            (21, vec![2, 5, 10]),
            (5, vec![2, 5, 10]),
            (0, vec![2, 5, 10]),
        ] {
            assert_eq!(fit_widths(&cols, &[2, 1], 2, total), want, "total {total}");
        }
    }

    #[test]
    fn fit_widths_edge_cases() {
        let c = |natural, min| Col { natural, min };
        // a minimum above the natural width never widens the column; bad indexes are ignored
        assert_eq!(
            fit_widths(&[c(8, 30), c(10, 4)], &[0, 9, 1], 1, 10),
            vec![8, 4]
        );
        assert_eq!(fit_widths(&[], &[0], 2, 10), Vec::<usize>::new());
    }

    #[test]
    fn visible_width_and_pad_table() {
        let red = paint("high", "31");
        for (s, width, right, want) in [
            ("ab", 4, false, "ab  ".to_string()),
            ("ab", 4, true, "  ab".to_string()),
            ("abcdef", 4, false, "abcdef".to_string()),
            ("", 2, true, "  ".to_string()),
            (red.as_str(), 6, false, format!("{red}  ")),
            (red.as_str(), 6, true, format!("  {red}")),
            ("é…", 3, false, "é… ".to_string()),
        ] {
            assert_eq!(pad(s, width, right), want, "{s:?}");
        }
        for (s, want) in [
            ("", 0),
            ("plain", 5),
            ("\x1b[1;31mcritical\x1b[0m", 8),
            ("\x1b[0m", 0),
            ("a\x1b[", 1),
            ("\x1bXab", 2),
        ] {
            assert_eq!(visible_width(s), want, "{s:?}");
        }
    }

    #[test]
    fn truncate_table() {
        for (s, n, want) in [
            ("abcdef", 6, "abcdef"),
            ("abcdef", 10, "abcdef"),
            ("abcdef", 4, "abc…"),
            ("abcdef", 1, "…"),
            ("abcdef", 0, ""),
            ("ééééé", 3, "éé…"),
        ] {
            assert_eq!(truncate(s, n), want, "{s:?} {n}");
        }
    }

    #[test]
    fn severity_colours() {
        assert_eq!(severity_sgr(Severity::Critical), "1;31");
        assert_eq!(severity_sgr(Severity::High), "31");
        assert_eq!(severity_sgr(Severity::Medium), "33");
        assert_eq!(severity_sgr(Severity::Low), "2");
        assert_eq!(paint("x", "33"), "\x1b[33mx\x1b[0m");
    }
}
