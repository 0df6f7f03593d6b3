//! Code the fuzz targets share.

use flowhound_geo::GeoSource;

/// Looks addresses up in a database parsed from fuzz input: fixed ones (IPv4, IPv4-mapped, IPv6) and
/// two taken from the input's tail, so that lookups walk the fuzzed tree.
pub fn probe_lookups<D: GeoSource + ?Sized>(db: &D, data: &[u8]) {
    for ip in probe_ips(data) {
        let _ = db.lookup_u128(ip);
    }
}

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
