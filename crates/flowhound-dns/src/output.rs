//! Output helpers for `flowhound dns resolve|reverse`: a serialisable
//! [`ResultRow`], an aligned and sanitised terminal table
//! ([`render_table`]), and one-call entry points ([`run_resolve`],
//! [`run_reverse`]).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::config::{DnsConfig, RecordKind};
use crate::error::DnsError;
use crate::outcome::{Answer, Outcome};
use crate::resolver::Resolver;
use crate::sanitize::sanitize_for_terminal;
use crate::stats::DnsStats;

/// One query's result, as written to JSON:
/// `{"query":"www.ua.pt","type":"A","status":"ok","answers":[...],"ttl":300,"valid":true}`.
/// `query`, `answers[].data` and `detail` are exact (untrusted) strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultRow {
    /// The name or address asked for, as given.
    pub query: String,
    /// The query type.
    #[serde(rename = "type")]
    pub rtype: RecordKind,
    /// `ok`, `nodata`, `nxdomain`, `servfail`, `refused`, `timeout`,
    /// `deadline`, `invalid` or `error` (see [`Outcome::status`]).
    pub status: String,
    /// Answer records (empty unless `status` is `ok`).
    pub answers: Vec<Answer>,
    /// Smallest answer TTL in seconds.
    pub ttl: Option<u32>,
    /// False when any answer failed its validity check (e.g. a PTR that is
    /// not a host name).
    pub valid: bool,
    /// Reason for `invalid`/`error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ResultRow {
    /// Builds a row from a query and its outcome.
    pub fn new(query: impl Into<String>, rtype: RecordKind, outcome: &Outcome) -> Self {
        Self {
            query: query.into(),
            rtype,
            status: outcome.status().to_string(),
            answers: outcome.answers().to_vec(),
            ttl: outcome.ttl(),
            valid: outcome.answers().iter().all(|a| a.valid),
            detail: outcome.detail().map(str::to_string),
        }
    }
}

/// The result of a CLI run: rows in input order, counters, and warnings to
/// print on stderr (ignored corrupt cache file, cache not saved).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// One row per input, in input order.
    pub rows: Vec<ResultRow>,
    /// Resolver counters for the run.
    pub stats: DnsStats,
    /// Non-fatal problems.
    pub warnings: Vec<String>,
}

/// Resolves `names` for `kind` (what `flowhound dns resolve` does). Errors
/// only for a bad configuration.
pub async fn run_resolve(
    cfg: &DnsConfig,
    names: &[String],
    kind: RecordKind,
) -> Result<RunReport, DnsError> {
    let resolver = Resolver::new(cfg.clone())?;
    let results = resolver.resolve_many(names, kind).await;
    let rows = results
        .iter()
        .map(|(q, o)| ResultRow::new(q.as_str(), kind, o))
        .collect();
    Ok(finish(&resolver, rows))
}

/// Reverse-resolves `ips` (what `flowhound dns reverse` does).
pub async fn run_reverse(cfg: &DnsConfig, ips: &[IpAddr]) -> Result<RunReport, DnsError> {
    let resolver = Resolver::new(cfg.clone())?;
    let results = resolver.reverse_many(ips).await;
    let rows = results
        .iter()
        .map(|(ip, o)| ResultRow::new(ip.to_string(), RecordKind::Ptr, o))
        .collect();
    Ok(finish(&resolver, rows))
}

/// Saves the cache and gathers warnings.
pub(crate) fn finish(resolver: &Resolver, rows: Vec<ResultRow>) -> RunReport {
    let mut warnings: Vec<String> = resolver
        .cache_warning()
        .map(str::to_string)
        .into_iter()
        .collect();
    if let Err(e) = resolver.save_cache() {
        warnings.push(e.to_string());
    }
    RunReport {
        rows,
        stats: resolver.stats(),
        warnings,
    }
}

/// Column headers of [`render_table`].
const HEADERS: [&str; 5] = ["QUERY", "TYPE", "STATUS", "TTL", "ANSWER"];

/// Renders rows as an aligned text table, one line per answer (the query
/// columns are left blank on continuation lines). Every cell is passed
/// through [`sanitize_for_terminal`]; answers failing their validity check
/// are marked `[invalid]`. Ends with a newline.
pub fn render_table(rows: &[ResultRow]) -> String {
    let mut lines: Vec<[String; 5]> = vec![HEADERS.map(str::to_string)];
    for row in rows {
        lines.extend(row_lines(row));
    }
    let widths = column_widths(&lines);
    let mut out = String::new();
    for line in &lines {
        push_line(&mut out, line, &widths);
    }
    out
}

/// Table lines of one row.
fn row_lines(row: &ResultRow) -> Vec<[String; 5]> {
    let mut lines: Vec<[String; 5]> = row
        .answers
        .iter()
        .map(|a| {
            [
                String::new(),
                String::new(),
                String::new(),
                a.ttl.to_string(),
                answer_cell(a, row.rtype),
            ]
        })
        .collect();
    if lines.is_empty() {
        let detail = row.detail.as_deref().map(sanitize_for_terminal);
        lines.push([
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            detail.unwrap_or_default(),
        ]);
    }
    lines[0][0] = sanitize_for_terminal(&row.query);
    lines[0][1] = row.rtype.to_string();
    lines[0][2] = sanitize_for_terminal(&row.status);
    lines
}

/// Sanitised answer data, with its type when it differs from the query
/// type (CNAME chains) and an `[invalid]` mark.
fn answer_cell(a: &Answer, qtype: RecordKind) -> String {
    let mut cell = sanitize_for_terminal(&a.data);
    if a.rtype != qtype.as_str() {
        cell = format!("{} {cell}", sanitize_for_terminal(&a.rtype));
    }
    if !a.valid {
        cell.push_str(" [invalid]");
    }
    cell
}

/// Display width of each column (characters; cells are sanitised ASCII plus `…`).
fn column_widths(lines: &[[String; 5]]) -> [usize; 5] {
    let mut w = [0usize; 5];
    for line in lines {
        for (i, cell) in line.iter().enumerate() {
            w[i] = w[i].max(cell.chars().count());
        }
    }
    w
}

/// Appends one padded line (no trailing spaces).
fn push_line(out: &mut String, line: &[String; 5], widths: &[usize; 5]) {
    let mut text = String::new();
    for (i, cell) in line.iter().enumerate() {
        if i > 0 {
            text.push_str("  ");
        }
        text.push_str(cell);
        let pad = widths[i].saturating_sub(cell.chars().count());
        text.extend(std::iter::repeat_n(' ', pad));
    }
    out.push_str(text.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(rtype: &str, data: &str, valid: bool) -> Answer {
        Answer {
            rtype: rtype.into(),
            data: data.into(),
            ttl: 60,
            valid,
        }
    }

    #[test]
    fn row_json_shape() {
        let o = Outcome::Answer(vec![answer("A", "193.136.172.20", true)]);
        let row = ResultRow::new("www.ua.pt", RecordKind::A, &o);
        let v: serde_json::Value = serde_json::to_value(&row).unwrap();
        assert_eq!(v["query"], "www.ua.pt");
        assert_eq!(v["type"], "A");
        assert_eq!(v["status"], "ok");
        assert_eq!(v["ttl"], 60);
        assert_eq!(v["answers"][0]["data"], "193.136.172.20");
        assert!(v.get("detail").is_none());
        let nx =
            serde_json::to_value(ResultRow::new("x", RecordKind::Mx, &Outcome::NxDomain)).unwrap();
        assert_eq!(nx["status"], "nxdomain");
        assert!(nx["ttl"].is_null());
    }

    #[test]
    fn table_is_aligned_and_sanitised() {
        let hostile = "\u{1b}[31m<script>.evil.";
        let rows = vec![
            ResultRow::new(
                "20.172.136.193",
                RecordKind::Ptr,
                &Outcome::Answer(vec![
                    answer("PTR", "dns.ua.pt.", true),
                    answer("PTR", hostile, false),
                ]),
            ),
            ResultRow::new("nx.example", RecordKind::Ptr, &Outcome::NxDomain),
        ];
        let table = render_table(&rows);
        assert!(!table.contains('\u{1b}'));
        assert!(table.contains("\\x1b[31m<script>.evil. [invalid]"));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        let col = lines[0].find("ANSWER").unwrap();
        assert_eq!(lines[1].find("dns.ua.pt.").unwrap(), col);
        assert_eq!(lines[2].find("\\x1b").unwrap(), col);
        assert_eq!(
            lines[3].find("nxdomain").unwrap(),
            lines[0].find("STATUS").unwrap()
        );
    }
}
