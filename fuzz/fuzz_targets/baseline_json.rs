//! Fuzzes the baseline document loader (JSON, schema and value checks).
#![no_main]

use flowhound::baseline::Baseline;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Baseline::from_json(text, "fuzz.json");
    }
});
