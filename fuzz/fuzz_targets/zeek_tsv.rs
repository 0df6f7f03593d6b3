//! Fuzzes the zeek_tsv reader (plain or gzip bytes) through the same code as a file read.
#![no_main]

use flowhound::ingest::{fuzz_entry, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fuzz_entry::parse_text(data, Some(Format::ZeekTsv));
});
