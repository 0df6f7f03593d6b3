//! Fuzzes the Parquet conversion: footer, schema resolution and every row group's column conversion.
//!
//! The parquet crate panics on some damaged pages; flowhound runs those calls under
//! `ingest::upstream::guarded` and turns the panic into a typed error. libFuzzer's hook aborts on every
//! panic, caught or not, so this target replaces it: a panic raised in crates.io code inside a guarded
//! call unwinds to its guard; any other panic (flowhound's own, or a dependency's outside a guard) aborts.
#![no_main]

use flowhound::ingest::{fuzz_entry, upstream};
use libfuzzer_sys::fuzz_target;

fn tolerate_guarded_dependency_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let in_dependency = info.location().is_some_and(|l| l.file().contains("/registry/src/"));
            if !(upstream::in_guard() && in_dependency) {
                eprintln!("{info}");
                std::process::abort();
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    tolerate_guarded_dependency_panics();
    let _ = fuzz_entry::parse_parquet(data);
});
