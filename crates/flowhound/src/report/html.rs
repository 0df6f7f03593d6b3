//! The HTML page: a fixed skeleton, inline CSS and JS, and the data as escaped JSON.

use super::ReportData;

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// No network at all: only inline scripts and styles, images from `data:` URIs.
pub const CSP: &str =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/// Escapes text for HTML element content and double-quoted attributes (`& < > " '`).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON safe inside `<script type="application/json">`: `<`, `>`, `&` and the JS line separators
/// U+2028/U+2029 become `\uXXXX` escapes (only possible inside JSON strings, where they mean the same).
pub fn embed_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The sections, in page order: (id, heading).
pub const SECTIONS: [(&str, &str); 5] = [
    ("summary", "Summary"),
    ("findings", "Findings"),
    ("traffic", "Traffic"),
    ("graph", "Internal communication"),
    ("attribution", "Attribution"),
];

fn skeleton_sections() -> String {
    SECTIONS
        .iter()
        .map(|(id, h)| format!("<section id=\"{id}\"><h2>{h}</h2></section>\n"))
        .collect()
}

fn nav() -> String {
    SECTIONS
        .iter()
        .map(|(id, h)| format!("<a href=\"#{id}\">{h}</a>"))
        .collect::<Vec<_>>()
        .join("")
}

/// The whole page. Data values never enter the markup except through [`escape_html`] (title, header)
/// and [`embed_json`]; the inline script builds the rest with `textContent`.
pub fn render_html(data: &ReportData) -> String {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "{\"doc\":{\"findings\":[]}}".into());
    let inp = &data.doc.input;
    let sub = format!(
        "{} findings in {} flows ({} to {}) \u{00b7} {}",
        data.doc.findings.len(),
        inp.rows_read,
        inp.first_seen.as_deref().unwrap_or("?"),
        inp.last_seen.as_deref().unwrap_or("?"),
        data.doc.generator
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
<header><h1>{title}</h1><p id=\"subtitle\">{sub}</p><nav>{nav}</nav></header>\n\
<noscript><p>This report draws its tables and charts with JavaScript; please enable it.</p></noscript>\n\
<main>\n{sections}</main>\n\
<script type=\"application/json\" id=\"report-data\">{data}</script>\n\
<script>\n{JS}</script>\n</body>\n</html>\n",
        title = escape_html(&data.title),
        sub = escape_html(&sub),
        nav = nav(),
        sections = skeleton_sections(),
        data = embed_json(&json),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_table() {
        let cases = [
            ("a<b>&\"'", "a&lt;b&gt;&amp;&quot;&#39;"),
            (
                "<img src=x onerror=alert(1)>",
                "&lt;img src=x onerror=alert(1)&gt;",
            ),
            ("plain", "plain"),
            ("", ""),
        ];
        for (i, want) in cases {
            assert_eq!(escape_html(i), want);
        }
    }

    #[test]
    fn embedded_json_cannot_close_the_script() {
        let v =
            serde_json::json!({"name": "</script><script>alert(1)</script>", "sep": "\u{2028}"});
        let out = embed_json(&serde_json::to_string(&v).unwrap_or_default());
        assert!(!out.contains('<') && !out.contains('>') && !out.contains('\u{2028}'));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(back, v);
    }
}
