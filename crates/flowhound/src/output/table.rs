//! Aligned terminal tables: text left-aligned, numbers right-aligned, cells sanitised.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

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
        let n = self.headers.len();
        let mut width: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String], align_numbers: bool| -> String {
            let parts: Vec<String> = (0..n)
                .map(|i| {
                    let c = cells.get(i).map_or("", |s| s.as_str());
                    if align_numbers && i > 0 && numeric(c) {
                        format!("{c:>w$}", w = width[i])
                    } else {
                        format!("{c:<w$}", w = width[i])
                    }
                })
                .collect();
            parts.join("  ").trim_end().to_string()
        };
        let mut out = vec![
            line(&self.headers, false),
            width
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("  "),
        ];
        out.extend(self.rows.iter().map(|r| line(r, true)));
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
