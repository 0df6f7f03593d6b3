//! Fuzzes the nfcapd decoder (file header, stat record, block framing, LZO/BZ2/LZ4/ZSTD blocks, every
//! record type) and the mapping of its flows to canonical rows, over a whole file held in memory.
#![no_main]

use flowhound::ingest::fuzz_entry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fuzz_entry::parse_nfcapd(data);
});
