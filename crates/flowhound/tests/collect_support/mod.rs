//! Shared by the collector tests: the export packets of a pcap, and NetFlow v5 packets built here.
#![allow(dead_code)]

use std::net::Ipv4Addr;

/// One UDP payload of the capture with its original source address.
pub struct Export {
    pub src: Ipv4Addr,
    pub payload: Vec<u8>,
}

/// The UDP payloads of a classic little-endian pcap (Ethernet, optional 802.1Q, IPv4).
pub fn pcap_exports(bytes: &[u8]) -> Vec<Export> {
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let link = u32::from_le_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!(link, 1, "Ethernet");
    let mut p = 24;
    let mut out = Vec::new();
    while p + 16 <= bytes.len() {
        let incl = u32::from_le_bytes(bytes[p + 8..p + 12].try_into().unwrap()) as usize;
        let frame = &bytes[p + 16..p + 16 + incl];
        p += 16 + incl;
        let mut off = 14;
        if frame[12..14] == [0x81, 0x00] {
            off = 18;
        }
        let ip = &frame[off..];
        let ihl = (ip[0] & 15) as usize * 4;
        let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
        let udp = &ip[ihl..];
        let len = u16::from_be_bytes([udp[4], udp[5]]) as usize;
        out.push(Export {
            src,
            payload: udp[8..len].to_vec(),
        });
    }
    out
}

/// The loopback address standing for an exporter: 10.0.N.1 -> 127.0.N.1 (as when nfcapd was fed).
pub fn loopback_of(src: Ipv4Addr) -> Ipv4Addr {
    let o = src.octets();
    Ipv4Addr::new(127, o[1], o[2], o[3])
}

/// A NetFlow v5 datagram of `n` (at most 30) flows, flow i of packet `seq` from 10.1.x.y to 192.0.2.1.
pub fn v5_packet(seq: u32, n: u16) -> Vec<u8> {
    let mut b = Vec::with_capacity(24 + 48 * n as usize);
    b.extend_from_slice(&5u16.to_be_bytes());
    b.extend_from_slice(&n.to_be_bytes());
    b.extend_from_slice(&100_000u32.to_be_bytes()); // uptime ms
    b.extend_from_slice(&1_764_806_400u32.to_be_bytes()); // 2025-12-04
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&(seq * n as u32).to_be_bytes());
    b.extend_from_slice(&[0, 0, 0, 0]);
    for i in 0..n {
        let src = 0x0a01_0000u32 | (seq & 0xff) << 8 | i as u32;
        b.extend_from_slice(&src.to_be_bytes());
        b.extend_from_slice(&0xc000_0201u32.to_be_bytes());
        b.extend_from_slice(&[0; 4]); // next hop
        b.extend_from_slice(&[0, 1, 0, 2]); // in/out if
        b.extend_from_slice(&3u32.to_be_bytes()); // packets
        b.extend_from_slice(&1500u32.to_be_bytes()); // bytes
        b.extend_from_slice(&90_000u32.to_be_bytes()); // first
        b.extend_from_slice(&99_000u32.to_be_bytes()); // last
        b.extend_from_slice(&(40_000 + i).to_be_bytes());
        b.extend_from_slice(&443u16.to_be_bytes());
        b.extend_from_slice(&[0, 0x12, 6, 0]); // pad, flags, proto, tos
        b.extend_from_slice(&[0; 8]); // AS, masks, pad
    }
    b
}
