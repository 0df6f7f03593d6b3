//! NetFlow v5, v9 and IPFIX datagrams to canonical flows, through `netflow_parser` (template caches per
//! exporter and observation domain, bounded buffering of data sets that arrive before their template).

use crate::ingest::builder::FlowRow;
use crate::ip;
use crate::schema::Proto;
use netflow_parser::static_versions::v5::V5;
use netflow_parser::variable_versions::ipfix::lookup::{
    IANAIPFixField, IPFixField, ReverseInformationElement,
};
use netflow_parser::variable_versions::ipfix::{FlowSetBody as IpfixBody, IPFix};
use netflow_parser::variable_versions::v9::{FlowSetBody as V9Body, V9};
use netflow_parser::{
    AutoScopedParser, FieldValue, NetflowPacket, NetflowParser, PendingFlowsConfig,
};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use std::time::Duration;

/// What one datagram produced.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PacketStats {
    /// Flow records decoded.
    pub flows: u64,
    /// Data sets whose template is not known (yet): buffered, or dropped when the buffer is full.
    pub unknown_templates: u64,
    /// Data sets that could not even be buffered (too large).
    pub drops: u64,
    /// The datagram (or its tail) did not parse.
    pub malformed: bool,
}

/// Template lifetime: templates not refreshed for this long are forgotten (RFC 7011 recommends
/// re-sending them well within this).
const TEMPLATE_TTL: Duration = Duration::from_secs(3600);

fn builder() -> netflow_parser::NetflowParserBuilder {
    let pending = PendingFlowsConfig::with_ttl(1024, Duration::from_secs(60));
    NetflowParser::builder()
        .with_cache_size(4096)
        .with_ttl(netflow_parser::TtlConfig::new(TEMPLATE_TTL))
        .with_pending_flows(pending)
}

/// Decodes datagrams from many exporters, keeping each exporter's templates apart.
pub struct Decoder {
    parser: AutoScopedParser,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            parser: AutoScopedParser::try_with_builder(builder())
                .expect("the collector's parser settings are valid"),
        }
    }
}

impl Decoder {
    /// Decodes one datagram from `from`, appending its flows to `out`.
    pub fn datagram(
        &mut self,
        from: SocketAddr,
        data: &[u8],
        out: &mut Vec<FlowRow>,
    ) -> PacketStats {
        let result = self.parser.parse_from_source(from, data);
        let mut stats = PacketStats {
            malformed: result.error.is_some(),
            ..Default::default()
        };
        for p in &result.packets {
            packet(p, out, &mut stats);
        }
        stats
    }
}

/// Decodes one datagram with a fresh parser (no templates known beforehand): what a fuzz target calls.
/// Never panics; returns the flows and whether the datagram was malformed.
pub fn decode_datagram(data: &[u8]) -> (Vec<FlowRow>, PacketStats) {
    let mut out = Vec::new();
    let from = SocketAddr::from(([127, 0, 0, 1], 2055));
    let stats = Decoder::default().datagram(from, data, &mut out);
    (out, stats)
}

fn packet(p: &NetflowPacket, out: &mut Vec<FlowRow>, stats: &mut PacketStats) {
    match p {
        NetflowPacket::V5(v) => v5(v, out, stats),
        NetflowPacket::V9(v) => v9(v, out, stats),
        NetflowPacket::IPFix(v) => ipfix(v, out, stats),
        _ => {}
    }
}

fn v5(v: &V5, out: &mut Vec<FlowRow>, stats: &mut PacketStats) {
    let h = &v.header;
    let now_ms = h.unix_secs as i64 * 1000 + (h.unix_nsecs / 1_000_000) as i64;
    let boot_ms = now_ms - h.sys_up_time as i64;
    for f in &v.flowsets {
        let (first, last) = (boot_ms + f.first as i64, boot_ms + f.last as i64);
        out.push(FlowRow {
            ts_us: first * 1000,
            src: ip::v4_to_u128(u32::from(f.src_addr)),
            dst: ip::v4_to_u128(u32::from(f.dst_addr)),
            proto: Some(Proto::from_number(f.protocol_number as i64)),
            src_port: Some(f.src_port),
            dst_port: f.dst_port,
            up: f.d_octets as u64,
            down: 0,
            duration: (last >= first).then(|| (last - first) as f64 / 1000.0),
            packets: Some(f.d_pkts as u64),
            label: None,
        });
        stats.flows += 1;
    }
}

/// The fields of one record that flowhound keeps, by IANA element id (NetFlow v9 shares ids 1-128).
#[derive(Default)]
struct Fields {
    src: Option<u128>,
    dst: Option<u128>,
    proto: Option<u8>,
    sport: Option<u16>,
    dport: Option<u16>,
    /// ICMP type and code (type * 256 + code).
    icmp: Option<u16>,
    icmp_type: Option<u16>,
    icmp_code: Option<u16>,
    bytes: Option<u64>,
    packets: Option<u64>,
    out_bytes: u64,
    out_packets: u64,
    /// Absolute start and end, ms.
    start: Option<i64>,
    end: Option<i64>,
    /// Relative to the exporter's boot (v9 FIRST/LAST_SWITCHED, IPFIX 22/21), ms.
    rel_start: Option<i64>,
    rel_end: Option<i64>,
}

fn addr(v: &FieldValue) -> Option<u128> {
    IpAddr::try_from(v).ok().map(ip::to_u128)
}

impl Fields {
    fn set(&mut self, id: u16, v: &FieldValue) {
        let n = || v.as_u64();
        // Absolute times: seconds fields may come as plain numbers.
        let abs = |scale: u64| match v {
            FieldValue::Duration(_) => v.as_u64().map(|x| x as i64),
            _ => v.as_u64().map(|x| x.saturating_mul(scale) as i64),
        };
        match id {
            1 => self.bytes = n(),
            85 if self.bytes.is_none() => self.bytes = n(),
            2 => self.packets = n(),
            86 if self.packets.is_none() => self.packets = n(),
            23 => self.out_bytes = n().unwrap_or(0),
            24 => self.out_packets = n().unwrap_or(0),
            4 => self.proto = v.as_u8(),
            7 => self.sport = v.as_u16(),
            11 => self.dport = v.as_u16(),
            32 | 139 => self.icmp = v.as_u16(),
            176 | 178 => self.icmp_type = v.as_u16(),
            177 | 179 => self.icmp_code = v.as_u16(),
            // NSEL / RFC 5103 initiator and responder counters.
            231 if self.bytes.is_none() => self.bytes = n(),
            298 if self.packets.is_none() => self.packets = n(),
            232 => self.out_bytes = n().unwrap_or(0),
            299 => self.out_packets = n().unwrap_or(0),
            8 | 27 => self.src = addr(v),
            12 | 28 => self.dst = addr(v),
            22 => self.rel_start = n().map(|x| x as i64),
            21 => self.rel_end = n().map(|x| x as i64),
            150 => self.start = abs(1000),
            151 => self.end = abs(1000),
            152 | 154 | 156 => self.start = abs(1),
            153 | 155 | 157 => self.end = abs(1),
            _ => {}
        }
    }

    /// `now_ms`: the export time; `boot_ms`: the exporter's boot time when known.
    fn row(&self, now_ms: i64, boot_ms: Option<i64>) -> FlowRow {
        // Hostile values (times near i64's ends, ICMP types over 255) must not overflow.
        let rel = |r: Option<i64>| r.zip(boot_ms).and_then(|(r, b)| b.checked_add(r));
        let start = self.start.or(rel(self.rel_start)).unwrap_or(now_ms);
        let end = self.end.or(rel(self.rel_end));
        let v4zero = ip::v4_to_u128(0);
        let proto = self.proto.unwrap_or(0);
        // ICMP: no source port; type and code in the destination port, as nfdump keeps them.
        let (sport, dport) = if proto == 1 || proto == 58 {
            let split = self
                .icmp_type
                .map(|t| (t << 8) | (self.icmp_code.unwrap_or(0) & 0xff));
            (0, self.icmp.or(split).unwrap_or(0))
        } else {
            (self.sport.unwrap_or(0), self.dport.unwrap_or(0))
        };
        FlowRow {
            ts_us: start.saturating_mul(1000),
            src: self.src.unwrap_or(v4zero),
            dst: self.dst.unwrap_or(v4zero),
            proto: Some(Proto::from_number(proto as i64)),
            src_port: Some(sport),
            dst_port: dport,
            up: self.bytes.unwrap_or(0),
            down: self.out_bytes,
            duration: end
                .filter(|e| *e >= start)
                .and_then(|e| e.checked_sub(start))
                .map(|d| d as f64 / 1000.0),
            packets: Some(self.packets.unwrap_or(0).saturating_add(self.out_packets)),
            label: None,
        }
    }
}

fn v9(v: &V9, out: &mut Vec<FlowRow>, stats: &mut PacketStats) {
    let now_ms = v.header.unix_secs as i64 * 1000;
    let boot_ms = Some(now_ms - v.header.sys_up_time as i64);
    for fs in &v.flowsets {
        match &fs.body {
            V9Body::Data(d) => {
                for rec in &d.fields {
                    let mut f = Fields::default();
                    for (field, value) in rec {
                        f.set(u16::from(*field), value);
                    }
                    out.push(f.row(now_ms, boot_ms));
                    stats.flows += 1;
                }
            }
            V9Body::NoTemplate(info) => {
                stats.unknown_templates += 1;
                stats.drops += info.truncated as u64;
            }
            _ => {}
        }
    }
}

/// The IANA element ids flowhound reads ([`Fields::set`]).
const KEPT: [u16; 33] = [
    1, 2, 4, 7, 8, 11, 12, 21, 22, 23, 24, 27, 28, 32, 85, 86, 139, 150, 151, 152, 153, 154, 155,
    156, 157, 176, 177, 178, 179, 231, 232, 298, 299,
];

fn ipfix_id(f: &IPFixField) -> Option<u16> {
    static IDS: OnceLock<HashMap<IANAIPFixField, u16>> = OnceLock::new();
    let ids = IDS.get_or_init(|| {
        KEPT.iter()
            .map(|&id| (IANAIPFixField::from(id), id))
            .collect()
    });
    match f {
        IPFixField::IANA(x) => ids.get(x).copied(),
        // RFC 5103 biflows: the reverse direction's counters are the destination's.
        IPFixField::ReverseInformationElement(
            ReverseInformationElement::ReverseOctetDeltaCount,
        ) => Some(23),
        IPFixField::ReverseInformationElement(
            ReverseInformationElement::ReversePacketDeltaCount,
        ) => Some(24),
        IPFixField::Enterprise {
            enterprise_number: 29305,
            field_number: n @ (1 | 2),
        } => Some(22 + n),
        _ => None,
    }
}

fn ipfix(v: &IPFix, out: &mut Vec<FlowRow>, stats: &mut PacketStats) {
    let now_ms = v.header.export_time as i64 * 1000;
    for fs in &v.flowsets {
        match &fs.body {
            IpfixBody::Data(d) => {
                for rec in &d.fields {
                    let mut f = Fields::default();
                    for (field, value) in rec {
                        if let Some(id) = ipfix_id(field) {
                            f.set(id, value);
                        }
                    }
                    // IPFIX carries no uptime in its header: relative times fall back to the export time.
                    out.push(f.row(now_ms, None));
                    stats.flows += 1;
                }
            }
            IpfixBody::NoTemplate(info) => {
                stats.unknown_templates += 1;
                stats.drops += info.truncated as u64;
            }
            _ => {}
        }
    }
}
