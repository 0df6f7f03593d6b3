//! Fuzzes what `flowhound report findings.json` does with a findings document: JSON, the schema
//! version check, typed decoding, then the whole HTML report rendered from it.
#![no_main]

use flowhound::findings::{FindingsDoc, SCHEMA_VERSION};
use flowhound::report::{render_html, ReportData};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if v.get("schema_version").and_then(|x| x.as_u64()) != Some(u64::from(SCHEMA_VERSION)) {
        return;
    }
    if let Ok(doc) = serde_json::from_value::<FindingsDoc>(v) {
        let _ = render_html(&ReportData::from_doc(doc));
    }
});
