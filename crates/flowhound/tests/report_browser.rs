//! The report in a real browser: headless Chromium loads it from file:// (no network) and a harness
//! script checks that there are no errors, the findings table has the expected rows, sorting and
//! filtering work, every chart is drawn, and hostile strings show as text without running script.
//! Skips with a notice when Chromium is not installed (`apt-get install chromium`, or set
//! FLOWHOUND_CHROMIUM). The screenshot is kept for humans: its path is printed.

mod report_support;

use flowhound::report::{render_html, write_html};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const OUT: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/report-browser");

/// Installed before the report's own script: collects every error, CSP violation and console.error.
const HEAD_HOOK: &str = r#"<script>window.__errors=[];
window.addEventListener('error',function(e){window.__errors.push('error: '+(e.message||(e.target&&e.target.outerHTML)||'?'));},true);
window.addEventListener('unhandledrejection',function(e){window.__errors.push('rejection: '+e.reason);});
document.addEventListener('securitypolicyviolation',function(e){window.__errors.push('csp: '+e.violatedDirective+' '+e.blockedURI);});
(function(){var ce=console.error;console.error=function(){window.__errors.push('console.error: '+Array.prototype.join.call(arguments,' '));ce.apply(console,arguments);};})();
</script>"#;

/// Runs after the report's script: drives the page and writes what it saw into `<pre id=test-results>`.
const TAIL_PROBE: &str = r#"<script>(function(){
function ids(){return Array.prototype.map.call(document.querySelectorAll('#findings-table tbody tr.finding:not(.hidden)'),function(t){return t.getAttribute('data-id');});}
function th(k){return document.querySelector('#findings-table th[data-key="'+k+'"]');}
var r={ready:document.body.getAttribute('data-ready')};
r.initial=ids();
Array.prototype.forEach.call(document.querySelectorAll('tr.finding'),function(t){t.click();});
r.expanded=document.querySelectorAll('tr.detail:not(.hidden)').length;
th('score').click(); r.score_asc=ids();
th('score').click(); r.score_desc=ids();
th('kind').click(); r.kind_asc=ids();
th('id').click(); r.id_asc=ids();
var q=document.getElementById('filter'); q.value='beacon'; q.dispatchEvent(new Event('input')); r.filtered=ids();
q.value=''; q.dispatchEvent(new Event('input'));
var sel=document.getElementById('severity-filter'); sel.value='high'; sel.dispatchEvent(new Event('change')); r.high_or_worse=ids();
r.charts={};
Array.prototype.forEach.call(document.querySelectorAll('[data-chart]'),function(c){r.charts[c.id]={svg:c.querySelectorAll('svg').length,marks:c.querySelectorAll('svg rect,svg path,svg circle,svg line').length,titles:c.querySelectorAll('svg title').length,axis:c.querySelectorAll('svg .axis').length};});
r.orgs=Array.prototype.map.call(document.querySelectorAll('td.org'),function(e){return e.textContent;});
r.ptrs=Array.prototype.map.call(document.querySelectorAll('td.ptr'),function(e){return e.textContent;});
r.title=document.title;
r.svg_texts=Array.prototype.map.call(document.querySelectorAll('#chart-asns svg text'),function(e){return e.textContent;});
r.imgs=document.querySelectorAll('img').length;
r.scripts=document.querySelectorAll('script').length;
r.resources=performance.getEntriesByType('resource').length;
r.pwned=(window.__pwned===undefined)?null:String(window.__pwned);
r.errors=window.__errors;
var pre=document.createElement('pre');pre.id='test-results';pre.textContent=JSON.stringify(r);document.body.appendChild(pre);
})();</script>"#;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FLOWHOUND_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

/// Runs Chromium headless with the isolation flags; returns (stdout, stderr).
fn run_chromium(bin: &Path, extra: &[String], url: &str, profile: &Path) -> (String, String) {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("chromium starts");
    let (mut so, mut se) = (
        child.stdout.take().expect("stdout"),
        child.stderr.take().expect("stderr"),
    );
    let t1 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut so, &mut s);
        s
    });
    let t2 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut se, &mut s);
        s
    });
    let started = Instant::now();
    while child.try_wait().ok().flatten().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (t1.join().unwrap_or_default(), t2.join().unwrap_or_default())
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

fn probe(bin: &Path, html: &str) -> (Value, String) {
    let page = html
        .replacen("<head>", &format!("<head>\n{HEAD_HOOK}"), 1)
        .replacen("</body>", &format!("{TAIL_PROBE}\n</body>"), 1);
    let path = Path::new(OUT).join("probe.html");
    std::fs::write(&path, page).expect("probe page written");
    let profile = Path::new(OUT).join(format!("profile-probe-{}", std::process::id()));
    let (dom, log) = run_chromium(
        bin,
        &["--virtual-time-budget=10000".into(), "--dump-dom".into()],
        &format!("file://{}", path.display()),
        &profile,
    );
    let _ = std::fs::remove_dir_all(&profile);
    let start = dom
        .find("<pre id=\"test-results\">")
        .unwrap_or_else(|| panic!("no test results in the DOM; chromium log:\n{log}"));
    let body = &dom[start + "<pre id=\"test-results\">".len()..];
    let json = unescape(&body[..body.find("</pre>").expect("end of results")]);
    (serde_json::from_str(&json).expect("results are JSON"), log)
}

fn strs(v: &Value) -> Vec<String> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// The expected order of ids after sorting the fixture by `key` (stable on id), computed from the fixture.
fn expected_order(
    key: impl Fn(&flowhound::findings::Finding) -> String,
    desc: bool,
) -> Vec<String> {
    let mut f = report_support::findings();
    f.sort_by(|a, b| {
        let c = key(a).cmp(&key(b));
        (if desc { c.reverse() } else { c }).then_with(|| a.id.cmp(&b.id))
    });
    f.into_iter().map(|x| x.id).collect()
}

#[test]
fn report_in_headless_chromium() {
    let Some(bin) = chromium() else {
        println!(
            "skipped: chromium not found (apt-get install chromium, or set FLOWHOUND_CHROMIUM)"
        );
        return;
    };
    std::fs::create_dir_all(OUT).expect("output dir");
    let data = report_support::report();
    let html = render_html(&data);
    let (r, log) = probe(&bin, &html);
    let console: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("CONSOLE")
                && (l.contains("Uncaught") || l.contains("Refused") || l.contains("Error"))
        })
        .collect();
    assert!(console.is_empty(), "console errors: {console:?}");
    assert_eq!(r["errors"], Value::Array(vec![]), "page errors");
    assert_eq!(r["ready"], "true");
    assert_eq!(r["pwned"], Value::Null, "a hostile string ran script");
    assert_eq!(
        (r["imgs"].as_u64(), r["resources"].as_u64()),
        (Some(0), Some(0)),
        "no image, no network request"
    );
    let ids: Vec<String> = data.doc.findings.iter().map(|f| f.id.clone()).collect();
    assert_eq!(strs(&r["initial"]), ids);
    assert_eq!(r["expanded"].as_u64(), Some(ids.len() as u64));
    let score = |f: &flowhound::findings::Finding| format!("{:08.4}", f.score);
    assert_eq!(strs(&r["score_asc"]), expected_order(score, false));
    assert_eq!(strs(&r["score_desc"]), expected_order(score, true));
    assert_eq!(
        strs(&r["kind_asc"]),
        expected_order(|f| f.kind.clone(), false)
    );
    assert_eq!(strs(&r["id_asc"]), ids);
    assert_eq!(strs(&r["filtered"]), ["F2"]);
    let high: Vec<String> = data
        .doc
        .findings
        .iter()
        .filter(|f| f.score >= 0.65)
        .map(|f| f.id.clone())
        .collect();
    assert_eq!(strs(&r["high_or_worse"]), high);
    for c in [
        "chart-up",
        "chart-down",
        "chart-hours",
        "chart-talkers",
        "chart-ports",
        "chart-protocols",
        "chart-countries",
        "chart-asns",
        "chart-graph",
        "chart-F1",
        "chart-F2",
        "chart-F3",
    ] {
        let ch = &r["charts"][c];
        assert_eq!(ch["svg"].as_u64(), Some(1), "{c}: {ch}");
        assert!(
            ch["marks"].as_u64() > Some(2) && ch["titles"].as_u64() > Some(0),
            "{c}: no marks or tooltips {ch}"
        );
        if c != "chart-graph" && c != "chart-F3" {
            assert!(ch["axis"].as_u64() > Some(0), "{c}: no axis");
        }
    }
    let hostile = [report_support::HOSTILE_IMG.to_string()];
    assert!(
        strs(&r["orgs"])
            .iter()
            .all(|o| o.is_empty() || hostile.contains(o))
            && strs(&r["orgs"]).contains(&hostile[0]),
        "org shows as text"
    );
    assert!(
        strs(&r["ptrs"]).contains(&report_support::HOSTILE_SCRIPT.to_string()),
        "PTR shows as text"
    );
    assert!(
        strs(&r["svg_texts"])
            .iter()
            .any(|t| t.starts_with("AS64500 <img")),
        "chart label shows as text"
    );
    assert_eq!(r["title"].as_str(), Some(data.title.as_str()));
    assert_eq!(
        r["scripts"].as_u64(),
        Some(4),
        "only the report's two scripts and the harness's two"
    );
    screenshot(&bin, &data);
}

fn screenshot(bin: &Path, data: &flowhound::report::ReportData) {
    let page = Path::new(OUT).join("report.html");
    write_html(&page, data).expect("report written");
    let png = Path::new(OUT).join("report.png");
    let profile = Path::new(OUT).join(format!("profile-shot-{}", std::process::id()));
    let extra = [
        format!("--screenshot={}", png.display()),
        "--window-size=1366,3200".into(),
        "--hide-scrollbars".into(),
        "--virtual-time-budget=5000".into(),
    ];
    let _ = run_chromium(bin, &extra, &format!("file://{}", page.display()), &profile);
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        png.metadata().map(|m| m.len() > 10_000).unwrap_or(false),
        "screenshot written"
    );
    println!("screenshot: {}", png.display());
    println!("report: {}", page.display());
}
