//! Fuzzes the legacy GeoIP `.dat` reader: parse, then look addresses up (fixed ones and one taken from
//! the input, so lookups walk the fuzzed tree).
#![no_main]

use flowhound_geo::legacy::LegacyDb;
use flowhound_geo::GeoSource;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(db) = LegacyDb::from_bytes(data.to_vec(), Path::new("fuzz.dat")) {
        for ip in probe_ips(data) {
            let _ = db.lookup_u128(ip);
        }
    }
});

fn probe_ips(data: &[u8]) -> [u128; 5] {
    let mut tail = [0u8; 16];
    let n = data.len().min(16);
    tail[..n].copy_from_slice(&data[data.len() - n..]);
    [
        0xffff_0808_0808,
        0xffff_c188_4915,
        0x2001_4860_4860_0000_0000_0000_0000_8888,
        u128::from_be_bytes(tail),
        0xffff_0000_0000 | u128::from(u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]])),
    ]
}
