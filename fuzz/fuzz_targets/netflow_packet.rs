//! Fuzzes the collector's NetFlow v5/v9/IPFIX datagram decoding: one UDP payload with no templates
//! known, or (input starting with `FHNF`) a length-prefixed sequence of payloads through one decoder, so
//! that templates of one datagram apply to the data sets of the next.
#![no_main]

use flowhound::ingest::fuzz_entry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fuzz_entry::decode_datagrams(data);
});
