//! Fuzzes the legacy GeoIP `.dat` reader: parse, then look addresses up (fixed ones and one taken from
//! the input, so lookups walk the fuzzed tree).
#![no_main]

use flowhound_fuzz::probe_lookups;
use flowhound_geo::legacy::LegacyDb;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(db) = LegacyDb::from_bytes(data.to_vec(), Path::new("fuzz.dat")) {
        probe_lookups(&db, data);
    }
});
