//! Fuzzes the MaxMind `.mmdb` reader: parse, then look addresses up (fixed ones and one taken from
//! the input, so lookups walk the fuzzed tree).
#![no_main]

use flowhound_fuzz::probe_lookups;
use flowhound_geo::mmdb::MmdbDb;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(db) = MmdbDb::from_bytes(data.to_vec(), Path::new("fuzz.mmdb")) {
        probe_lookups(&db, data);
    }
});
