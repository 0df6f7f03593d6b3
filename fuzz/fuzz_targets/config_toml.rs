//! Fuzzes the configuration loader (TOML, unknown keys, ranges, detector validation).
#![no_main]

use flowhound::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Config::from_toml(text, "fuzz.toml");
    }
});
