//! Golden tests of the HTML report: the page skeleton (markup without the inline CSS/JS and data) and
//! the embedded data (findings sorted by id), on the fixed fixture of `report_support`.
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test -p flowhound --test report_golden`.

mod report_support;

use flowhound::report::{render_html, write_html};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/golden/report");

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let a = s
        .find(start)
        .map(|i| i + start.len())
        .expect("start marker");
    let b = s[a..].find(end).map(|i| a + i).expect("end marker");
    &s[a..b]
}

/// The page with the inline style, script and data replaced by placeholders.
fn skeleton(html: &str) -> String {
    let mut out = html.to_string();
    for (start, end, name) in [
        ("<style>", "</style>", "CSS"),
        (
            "<script type=\"application/json\" id=\"report-data\">",
            "</script>",
            "DATA",
        ),
        ("<script>\n", "</script>", "JS"),
    ] {
        let inner = between(&out, start, end).to_string();
        out = out.replacen(
            &format!("{start}{inner}{end}"),
            &format!("{start}[{name}]{end}"),
            1,
        );
    }
    out
}

fn check(name: &str, got: &str) {
    let path = format!("{GOLDEN}/{name}");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(GOLDEN).expect("golden dir");
        std::fs::write(&path, got).expect("write golden");
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {path}; run with UPDATE_GOLDEN=1"));
    assert_eq!(
        got, want,
        "{name} differs from the golden file (UPDATE_GOLDEN=1 to accept)"
    );
}

#[test]
fn skeleton_matches_golden() {
    let html = render_html(&report_support::report());
    check("skeleton.html", &skeleton(&html));
}

#[test]
fn embedded_data_matches_golden() {
    let html = render_html(&report_support::report());
    let data = between(&html, "id=\"report-data\">", "</script>");
    let mut v: serde_json::Value = serde_json::from_str(data).expect("embedded JSON parses");
    if let Some(rows) = v["doc"]["findings"].as_array_mut() {
        rows.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    }
    check(
        "data.json",
        &(serde_json::to_string_pretty(&v).expect("json") + "\n"),
    );
}

#[test]
fn self_contained_and_escaped() {
    let html = render_html(&report_support::report());
    // No external resource of any kind in the markup, CSS or JS (the data block holds only escaped text);
    // the only URL is the SVG namespace (an identifier, not a request).
    let data_block = between(&html, "id=\"report-data\">", "</script>");
    let without_ns = html
        .replace(data_block, "")
        .replace("http://www.w3.org/2000/svg", "");
    for bad in [
        "http://", "https://", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url(",
        "//cdn",
    ] {
        assert!(!without_ns.contains(bad), "report contains {bad}");
    }
    assert!(html.contains("Content-Security-Policy") && html.contains("default-src 'none'"));
    // Hostile strings never appear as markup: only escaped (title) or \u003c-escaped (data).
    assert!(
        !html.contains(report_support::HOSTILE_IMG)
            && !html.contains(report_support::HOSTILE_SCRIPT)
    );
    assert!(html.contains(
        "fixture report &lt;img src=x onerror=&quot;window.__pwned=&#39;img&#39;&quot;&gt;"
    ));
    assert_eq!(
        html.matches("<script").count(),
        2,
        "exactly the data block and the inline script"
    );
    let data = between(&html, "id=\"report-data\">", "</script>");
    assert!(!data.contains('<') && data.contains("\\u003cscript\\u003e"));
}

#[test]
fn write_html_is_atomic_and_complete() {
    let dir = std::env::temp_dir().join(format!("fh-report-golden-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join("r.html");
    write_html(&path, &report_support::report()).expect("written");
    let text = std::fs::read_to_string(&path).expect("read back");
    assert!(text.ends_with("</html>\n"));
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    assert!(write_html(&dir.join("missing/r.html"), &report_support::report()).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
