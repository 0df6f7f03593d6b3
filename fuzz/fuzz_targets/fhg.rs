//! Fuzzes the embedded database format (`.fhg`) reader, with its lazily decoded IPv6 section: parse, then look addresses up (fixed ones and one taken from
//! the input, so lookups walk the fuzzed tree).
#![no_main]

use flowhound_fuzz::probe_lookups;
use flowhound_geo::fhg::FhgDb;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(db) = FhgDb::from_bytes(data, Some(Path::new("fuzz.fhg"))) {
        let _ = db.check_v6();
        let _ = db.ranges_v4().count();
        probe_lookups(&db, data);
    }
});
