//! Fuzzes the Parquet conversion: footer, schema resolution and every row group's column conversion.
#![no_main]

use flowhound::ingest::fuzz_entry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fuzz_entry::parse_parquet(data);
});
