//! Records inside nfcapd data blocks: layout 1 common records with extension maps, layout 2 V3 records
//! with elements, and the exporter and sampler records both layouts carry.

use super::NfcapdError;
use crate::ip;
use std::collections::HashMap;

/// One flow as nfdump stored it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NfFlow {
    /// First packet, ms since the epoch.
    pub first_ms: u64,
    /// Last packet, ms since the epoch.
    pub last_ms: u64,
    /// Source address (flowhound's integer form).
    pub src: u128,
    /// Destination address.
    pub dst: u128,
    /// IP protocol number.
    pub proto: u8,
    /// Source port.
    pub src_port: u16,
    /// Destination port (ICMP: type and code, as nfdump keeps them).
    pub dst_port: u16,
    /// Packets from source.
    pub in_packets: u64,
    /// Bytes from source.
    pub in_bytes: u64,
    /// Packets from destination (bidirectional records; else 0).
    pub out_packets: u64,
    /// Bytes from destination.
    pub out_bytes: u64,
    /// nfdump's exporter id (links to [`Exporter::sysid`]).
    pub exporter: u16,
    /// The collector already multiplied the counters by the sampling rate (layout 2 flag).
    pub sampled: bool,
    /// The exporter's sampling rate as recorded before this flow (0 or 1: none).
    pub sampling: u32,
}

/// An exporter (router) as recorded in the file, with its sampling rate when one was recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Exporter {
    /// nfdump's id for it within the file.
    pub sysid: u16,
    /// Its address, as text.
    pub ip: String,
    /// NetFlow version (5, 9, 10 = IPFIX).
    pub version: u32,
    /// Engine / source id / observation domain.
    pub id: u32,
    /// One in N packets sampled (None: no sampler recorded).
    pub sampling: Option<u32>,
    /// Flows read from it.
    pub flows: u64,
}

/// Record types.
const EXTENSION_MAP: u16 = 2;
const EXPORTER_INFO: u16 = 7;
const SAMPLER_V0: u16 = 9;
const COMMON_RECORD: u16 = 10;
const V3_RECORD: u16 = 11;
const SAMPLER: u16 = 15;

/// Layout 1 extension sizes by id (nfdump 1.6 `extension_descriptor`); ids 1-3 are the required parts.
const EXT_SIZE: [u8; 50] = [
    0, 0, 0, 0, 4, 8, 4, 8, 4, 4, 16, 4, 16, 4, 4, 8, 4, 8, 4, 8, 16, 16, 40, 4, 16, 4, 8, 8, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 20, 4, 8, 32, 24, 24, 72, 0, 24, 12, 0, 8, 0,
];

/// Bounds-checked little-endian reads over one record.
struct Cur<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Cur<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.p..self.p.checked_add(n)?)?;
        self.p += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap_or_default()))
    }
    fn u64(&mut self) -> Option<u64> {
        self.bytes(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
    }
    /// nfdump keeps an IPv6 address as two host-order 64-bit halves, high half first.
    fn v6(&mut self) -> Option<u128> {
        Some(((self.u64()? as u128) << 64) | self.u64()? as u128)
    }
    fn v4(&mut self) -> Option<u128> {
        self.u32().map(ip::v4_to_u128)
    }
    fn skip(&mut self, n: usize) -> Option<()> {
        self.bytes(n).map(|_| ())
    }
}

/// State carried across blocks: extension maps, exporters and samplers.
#[derive(Debug, Default)]
pub struct Decoder {
    maps: HashMap<u16, Vec<u16>>,
    /// Exporters by sysid.
    pub exporters: HashMap<u16, Exporter>,
    /// Sampling rates by exporter sysid, for exporters not yet seen.
    samplers: HashMap<u16, u32>,
}

/// Where a bad record is, for the error.
#[derive(Debug, Clone, Copy)]
pub struct At {
    /// Block number.
    pub block: u64,
    /// File offset of the block.
    pub offset: u64,
}

impl Decoder {
    /// Decodes the `records` of one block of type `kind`, calling `on_flow` for every flow.
    pub fn block(
        &mut self,
        kind: u16,
        count: u32,
        records: &[u8],
        at: At,
        on_flow: &mut dyn FnMut(&NfFlow),
    ) -> Result<(), NfcapdError> {
        if kind != 2 && kind != 3 {
            return Ok(()); // array blocks and unknown types carry no flows flowhound reads
        }
        let mut p = 0usize;
        for record in 0..count {
            let bad = |why: String| NfcapdError::BadRecord {
                block: at.block,
                offset: at.offset,
                record,
                why,
            };
            let Some(h) = records.get(p..p + 4) else {
                return Err(bad(format!(
                    "block ends at byte {p} before the announced {count} records"
                )));
            };
            let (rtype, size) = (
                u16::from_le_bytes([h[0], h[1]]),
                u16::from_le_bytes([h[2], h[3]]) as usize,
            );
            if size < 4 || p + size > records.len() {
                return Err(bad(format!(
                    "record size {size} does not fit the block ({} bytes left)",
                    records.len() - p
                )));
            }
            let rec = &records[p..p + size];
            p += size;
            self.record(rtype, rec, on_flow)
                .map_err(|why| bad(why.to_string()))?;
        }
        Ok(())
    }

    fn record(
        &mut self,
        rtype: u16,
        rec: &[u8],
        on_flow: &mut dyn FnMut(&NfFlow),
    ) -> Result<(), &'static str> {
        let mut c = Cur { b: rec, p: 4 };
        match rtype {
            EXTENSION_MAP => self.ext_map(&mut c).ok_or("extension map cut short"),
            EXPORTER_INFO => self.exporter(&mut c).ok_or("exporter record cut short"),
            SAMPLER_V0 => self.sampler_v0(&mut c).ok_or("sampler record cut short"),
            SAMPLER => self.sampler(&mut c).ok_or("sampler record cut short"),
            COMMON_RECORD => {
                let mut flow = self.common(&mut c)?;
                flow.sampling = self.samplers.get(&flow.exporter).copied().unwrap_or(1);
                self.count(flow.exporter);
                on_flow(&flow);
                Ok(())
            }
            V3_RECORD => {
                let flow = v3(&mut c).ok_or("V3 record cut short")?;
                if let Some(mut flow) = flow {
                    flow.sampling = self.samplers.get(&flow.exporter).copied().unwrap_or(1);
                    self.count(flow.exporter);
                    on_flow(&flow);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn count(&mut self, sysid: u16) {
        if let Some(e) = self.exporters.get_mut(&sysid) {
            e.flows += 1;
        }
    }

    fn ext_map(&mut self, c: &mut Cur) -> Option<()> {
        let id = c.u16()?;
        let _size = c.u16()?;
        let mut ids = Vec::new();
        while let Some(x) = c.u16() {
            if x == 0 {
                break;
            }
            ids.push(x);
        }
        self.maps.insert(id, ids);
        Some(())
    }

    fn exporter(&mut self, c: &mut Cur) -> Option<()> {
        let version = c.u32()?;
        let raw = c.bytes(16)?;
        let family = c.u16()?;
        let sysid = c.u16()?;
        let id = c.u32()?;
        let mut ipc = Cur { b: raw, p: 0 };
        let addr = if family == 10 {
            ipc.v6()?
        } else {
            ipc.skip(8)?;
            ipc.v4()?
        };
        let sampling = self.samplers.get(&sysid).copied();
        let flows = self.exporters.get(&sysid).map_or(0, |e| e.flows);
        self.exporters.insert(
            sysid,
            Exporter {
                sysid,
                ip: ip::format(addr),
                version,
                id,
                sampling,
                flows,
            },
        );
        Some(())
    }

    fn set_rate(&mut self, sysid: u16, rate: u32) {
        if rate > 1 {
            self.samplers.insert(sysid, rate);
            if let Some(e) = self.exporters.get_mut(&sysid) {
                e.sampling = Some(rate);
            }
        }
    }

    fn sampler_v0(&mut self, c: &mut Cur) -> Option<()> {
        let _id = c.u32()?;
        let interval = c.u32()?;
        let _mode = c.u16()?;
        let sysid = c.u16()?;
        self.set_rate(sysid, interval);
        Some(())
    }

    fn sampler(&mut self, c: &mut Cur) -> Option<()> {
        let sysid = c.u16()?;
        let _algorithm = c.u16()?;
        let _id = c.u64()?;
        let packets = c.u32()?;
        let space = c.u32()?;
        if let Some(rate) = packets.saturating_add(space).checked_div(packets) {
            self.set_rate(sysid, rate);
        }
        Some(())
    }

    /// A layout 1 common record (type 10) and its extensions.
    fn common(&self, c: &mut Cur) -> Result<NfFlow, &'static str> {
        let short = "common record cut short";
        let flags = c.u16().ok_or(short)?;
        let map = c.u16().ok_or(short)?;
        let (msec_first, msec_last) = (c.u16().ok_or(short)?, c.u16().ok_or(short)?);
        let (first, last) = (c.u32().ok_or(short)?, c.u32().ok_or(short)?);
        let _fwd = c.u8().ok_or(short)?;
        let _tcp_flags = c.u8().ok_or(short)?;
        let proto = c.u8().ok_or(short)?;
        let _tos = c.u8().ok_or(short)?;
        let (src_port, dst_port) = (c.u16().ok_or(short)?, c.u16().ok_or(short)?);
        let exporter = c.u16().ok_or(short)?;
        c.skip(2).ok_or(short)?;
        let (src, dst) = if flags & 1 == 1 {
            (c.v6().ok_or(short)?, c.v6().ok_or(short)?)
        } else {
            (c.v4().ok_or(short)?, c.v4().ok_or(short)?)
        };
        let wide = |c: &mut Cur, bit: u16| {
            if flags & bit != 0 {
                c.u64()
            } else {
                c.u32().map(u64::from)
            }
        };
        let in_packets = wide(c, 2).ok_or(short)?;
        let in_bytes = wide(c, 4).ok_or(short)?;
        let mut flow = NfFlow {
            first_ms: first as u64 * 1000 + msec_first as u64,
            last_ms: last as u64 * 1000 + msec_last as u64,
            src,
            dst,
            proto,
            src_port,
            dst_port,
            in_packets,
            in_bytes,
            exporter,
            ..Default::default()
        };
        let ids = self
            .maps
            .get(&map)
            .ok_or("common record names an extension map the file never defined")?;
        for &id in ids {
            let ext = "extension data cut short";
            match id {
                14 => flow.out_packets = c.u32().ok_or(ext)? as u64,
                15 => flow.out_packets = c.u64().ok_or(ext)?,
                16 => flow.out_bytes = c.u32().ok_or(ext)? as u64,
                17 => flow.out_bytes = c.u64().ok_or(ext)?,
                _ => {
                    let size = *EXT_SIZE
                        .get(id as usize)
                        .ok_or("unknown extension id in the map")?;
                    c.skip(size as usize).ok_or(ext)?;
                }
            }
        }
        Ok(flow)
    }
}

/// A layout 2 V3 record (type 11); `None` when it carries no generic flow element (e.g. an event).
fn v3(c: &mut Cur) -> Option<Option<NfFlow>> {
    let elements = c.u16()?;
    let _engine = c.u16()?;
    let exporter = c.u16()?;
    let flags = c.u8()?;
    let _nfversion = c.u8()?;
    // A record without an address element shows as 0.0.0.0 in nfdump; so here.
    let mut flow = NfFlow {
        src: ip::v4_to_u128(0),
        dst: ip::v4_to_u128(0),
        exporter,
        sampled: flags & 2 != 0,
        ..Default::default()
    };
    let mut generic = false;
    for _ in 0..elements {
        let etype = c.u16()?;
        let len = c.u16()? as usize;
        let body = c.bytes(len.checked_sub(4)?)?;
        let mut e = Cur { b: body, p: 0 };
        match etype {
            1 => {
                flow.first_ms = e.u64()?;
                flow.last_ms = e.u64()?;
                let _received = e.u64()?;
                flow.in_packets = e.u64()?;
                flow.in_bytes = e.u64()?;
                flow.src_port = e.u16()?;
                flow.dst_port = e.u16()?;
                flow.proto = e.u8()?;
                generic = true;
            }
            2 => (flow.src, flow.dst) = (e.v4()?, e.v4()?),
            3 => (flow.src, flow.dst) = (e.v6()?, e.v6()?),
            5 => {
                let _flows = e.u64()?;
                flow.out_packets = e.u64()?;
                flow.out_bytes = e.u64()?;
            }
            _ => {}
        }
    }
    Some(generic.then_some(flow))
}
