//! Aligned terminal tables: text left-aligned, numbers right-aligned, cells sanitised; optionally cut to
//! given column widths and painted with ANSI colours (see `term`).

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use super::term::{pad, paint, truncate};

/// A simple table of strings.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column titles.
    pub headers: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

/// Replaces control characters (terminal escape sequences) with `?`.
pub fn clean(cell: &str) -> String {
    cell.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Chooses the ANSI SGR parameters (e.g. `1;31`) of a data cell from its (row, column), or none.
pub type Sgr<'a> = dyn Fn(usize, usize) -> Option<&'static str> + 'a;

/// One line: cells cut to their widths and padded, joined by two spaces, trailing blanks trimmed.
/// Data lines (`sgr` given) right-align numbers after the first column and paint cells.
fn line(
    cells: &[String],
    width: &[usize],
    sgr: Option<&dyn Fn(usize) -> Option<&'static str>>,
) -> String {
    let parts: Vec<String> = width
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            let text = truncate(cells.get(i).map_or("", |s| s.as_str()), w);
            let right = sgr.is_some() && i > 0 && numeric(&text);
            let shown = match sgr.and_then(|f| f(i)) {
                Some(code) => paint(&text, code),
                None => text,
            };
            pad(&shown, w, right)
        })
        .collect();
    parts.join("  ").trim_end().to_string()
}

fn numeric(cell: &str) -> bool {
    cell.replace(',', "")
        .trim_end_matches('%')
        .parse::<f64>()
        .is_ok()
}

impl Table {
    /// A table with these titles.
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows
            .push(cells.into_iter().map(|c| clean(&c.into())).collect());
    }

    /// Renders with two spaces between columns and a rule under the titles.
    pub fn render(&self) -> String {
        self.render_with(&self.widths(), &|_, _| None)
    }

    /// The natural width of every column: its widest cell or title, in characters.
    pub fn widths(&self) -> Vec<usize> {
        let mut width: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        width
    }

    /// Renders with the given column widths (longer cells are cut with `…`; missing widths are 0), each
    /// data cell wrapped in the ANSI SGR escape `sgr(row, column)` returns, if any. Alignment counts
    /// visible characters only.
    pub fn render_with(&self, widths: &[usize], sgr: &Sgr<'_>) -> String {
        let width: Vec<usize> = (0..self.headers.len())
            .map(|i| widths.get(i).copied().unwrap_or(0))
            .collect();
        let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
        let rule = rule.join("  ").trim_end().to_string();
        let mut out = vec![line(&self.headers, &width, None), rule];
        out.extend(
            self.rows
                .iter()
                .enumerate()
                .map(|(r, cells)| line(cells, &width, Some(&|c| sgr(r, c)))),
        );
        out.join("\n") + "\n"
    }

    /// A table of record batches (IP columns should be humanised first).
    pub fn from_batches(batches: &[RecordBatch]) -> Table {
        let Some(first) = batches.first() else {
            return Table::default();
        };
        let mut t = Table::new(first.schema().fields().iter().map(|f| f.name().clone()));
        let opts = FormatOptions::default().with_null("NULL");
        for b in batches {
            let fmts: Vec<_> = b
                .columns()
                .iter()
                .filter_map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).ok())
                .collect();
            for i in 0..b.num_rows() {
                t.row(fmts.iter().map(|f| f.value(i).to_string()));
            }
        }
        t
    }
}

/// Formats a byte count for people (`1.5 MB`, decimal units).
pub fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n;
    let mut u = 0;
    while v.abs() >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_and_cleans() {
        let mut t = Table::new(["host", "flows"]);
        t.row(["10.0.0.1", "5"]);
        t.row(["evil\x1b[31m", "12345"]);
        let r = t.render();
        assert_eq!(
            r,
            "host       flows\n---------  -----\n10.0.0.1       5\nevil?[31m  12345\n"
        );
    }

    #[test]
    fn render_with_cuts_and_paints_on_visible_width() {
        let mut t = Table::new(["sev", "n", "why"]);
        t.row(["high", "7", "a long explanation"]);
        t.row(["low", "12", "short"]);
        let plain: &Sgr = &|_, _| None;
        let red_high: &Sgr = &|r, c| (r == 0 && c == 0).then_some("31");
        for (widths, sgr, want) in [
            (
                vec![4, 2, 8],
                plain,
                "sev   n   why\n----  --  --------\nhigh   7  a long …\nlow   12  short\n",
            ),
            (
                vec![4, 2, 8],
                red_high,
                "sev   n   why\n----  --  --------\n\x1b[31mhigh\x1b[0m   7  a long …\nlow   12  short\n",
            ),
            (vec![2], red_high, "s…\n--\n\x1b[31mh…\x1b[0m\nl…\n"),
        ] {
            assert_eq!(t.render_with(&widths, sgr), want, "{widths:?}");
        }
        assert_eq!(t.widths(), vec![4, 2, 18]);
    }

    #[test]
    fn human_bytes_table() {
        for (n, want) in [
            (0.0, "0 B"),
            (999.0, "999 B"),
            (1500.0, "1.5 kB"),
            (2.3e9, "2.3 GB"),
        ] {
            assert_eq!(human_bytes(n), want);
        }
    }
}
