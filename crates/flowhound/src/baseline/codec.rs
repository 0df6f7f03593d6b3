//! The binary form of a learning [`State`] (a day of a rolling baseline): varints, sorted keys with
//! delta-coded leading fields, in a zstd frame with a checksum. Decoding checks every length against
//! the bytes left, so a corrupt file is an error, never a panic or a huge allocation.

use super::state::{Grid, HostState, State};
use crate::config::BaselineConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::Write;

const MAGIC: &[u8; 8] = b"FHSTATE\x01";

/// Why a state could not be decoded.
pub(crate) type Why = String;

#[derive(Serialize, Deserialize)]
struct Header {
    window_secs: u64,
    fanout_secs: u64,
    robust: bool,
    nets: Vec<String>,
    settings: BaselineConfig,
    files: Vec<String>,
    flows: u64,
    first: Option<i64>,
    last: Option<i64>,
}

impl Header {
    fn grid(&self) -> Grid {
        Grid {
            window_secs: self.window_secs,
            fanout_secs: self.fanout_secs,
            robust: self.robust,
        }
    }
}

#[derive(Default)]
struct W(Vec<u8>);

impl W {
    fn u(&mut self, mut v: u128) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(b);
                return;
            }
            self.0.push(b | 0x80);
        }
    }
    fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64 as u128);
    }
    fn s(&mut self, s: &str) {
        self.u(s.len() as u128);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt_s(&mut self, s: &Option<String>) {
        match s {
            Some(s) => {
                self.u(1);
                self.s(s);
            }
            None => self.u(0),
        }
    }
    /// A sorted list of addresses, delta-coded.
    fn addrs(&mut self, it: impl Iterator<Item = u128>) {
        let mut v: Vec<u128> = it.collect();
        v.sort_unstable();
        self.u(v.len() as u128);
        let mut prev = 0u128;
        for x in v.iter() {
            self.u(x - prev);
            prev = *x;
        }
    }
}

struct R<'a> {
    b: &'a [u8],
    at: usize,
}

impl R<'_> {
    fn u(&mut self) -> Result<u128, Why> {
        let mut v = 0u128;
        for shift in (0..128).step_by(7) {
            let b = *self.b.get(self.at).ok_or("truncated")?;
            self.at += 1;
            v |= ((b & 0x7f) as u128) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }
    fn u64(&mut self) -> Result<u64, Why> {
        u64::try_from(self.u()?).map_err(|_| "value out of range".into())
    }
    fn i(&mut self) -> Result<i64, Why> {
        let z = self.u64()?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }
    fn small<T: TryFrom<u128>>(&mut self) -> Result<T, Why> {
        T::try_from(self.u()?).map_err(|_| "value out of range".into())
    }
    /// A count of items of at least one byte each: never more than the bytes left.
    fn n(&mut self) -> Result<usize, Why> {
        let n = self.u64()? as usize;
        if n > self.b.len() - self.at {
            return Err(format!("count {n} exceeds the data left"));
        }
        Ok(n)
    }
    fn s(&mut self) -> Result<String, Why> {
        let n = self.n()?;
        let bytes = &self.b[self.at..self.at + n];
        self.at += n;
        String::from_utf8(bytes.to_vec()).map_err(|_| "invalid text".into())
    }
    fn opt_s(&mut self) -> Result<Option<String>, Why> {
        Ok(match self.u()? {
            0 => None,
            _ => Some(self.s()?),
        })
    }
    fn addrs(&mut self) -> Result<Vec<u128>, Why> {
        let n = self.n()?;
        let mut out = Vec::with_capacity(n);
        let mut prev = 0u128;
        for _ in 0..n {
            prev = prev.checked_add(self.u()?).ok_or("address out of range")?;
            out.push(prev);
        }
        Ok(out)
    }
}

impl State {
    /// The state in its binary form (what a rolling baseline's day files hold), e.g. to send it from a
    /// cluster executor to the client.
    pub fn to_bytes(&self) -> crate::error::Result<Vec<u8>> {
        encode(self).map_err(|e| crate::error::FlowError::Internal(format!("baseline state: {e}")))
    }

    /// Decodes what [`State::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> crate::error::Result<State> {
        decode(bytes).map_err(|e| crate::error::FlowError::Internal(format!("baseline state: {e}")))
    }
}

/// Encodes a sealed state (deterministic: keys are written sorted).
pub(crate) fn encode(st: &State) -> std::io::Result<Vec<u8>> {
    let g = st.grid.unwrap_or(Grid {
        window_secs: 0,
        fanout_secs: 0,
        robust: false,
    });
    let header = Header {
        window_secs: g.window_secs,
        fanout_secs: g.fanout_secs,
        robust: g.robust,
        nets: st.nets.clone(),
        settings: st.settings.clone(),
        files: st.files.clone(),
        flows: st.flows,
        first: st.first,
        last: st.last,
    };
    let mut w = W::default();
    w.s(&serde_json::to_string(&header).map_err(std::io::Error::other)?);
    for h in &st.global {
        w.u(h.len() as u128);
        let mut prev = 0u64;
        for (v, n) in h {
            w.u((v - prev) as u128);
            w.u(*n as u128);
            prev = *v;
        }
    }
    let mut hosts: Vec<(&u128, &HostState)> = st.hosts.iter().collect();
    hosts.sort_unstable_by_key(|x| *x.0);
    w.u(hosts.len() as u128);
    for (ip, h) in hosts {
        w.u(*ip);
        encode_host(&mut w, h);
    }
    encode_shared(&mut w, st);
    encode_compacted(&mut w, st)?;
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 3)?;
    enc.include_checksum(true)?;
    enc.write_all(MAGIC)?;
    enc.write_all(&w.0)?;
    enc.finish()
}

fn sorted<K: Ord + Copy, V>(m: impl Iterator<Item = (K, V)>) -> Vec<(K, V)> {
    let mut v: Vec<(K, V)> = m.collect();
    v.sort_unstable_by_key(|x| x.0);
    v
}

fn encode_host(w: &mut W, h: &HostState) {
    for v in [h.flows, h.sent, h.received] {
        w.u(v as u128);
    }
    let wins = sorted(h.windows.iter().map(|(k, c)| (*k, *c)));
    w.u(wins.len() as u128);
    let mut prev = 0i64;
    for (k, c) in wins {
        w.i(k - prev);
        prev = k;
        c.iter().for_each(|x| w.u(*x as u128));
    }
    h.hours.iter().for_each(|x| w.u(*x as u128));
    let ports = sorted(h.ports.iter().map(|(k, c)| (*k, *c)));
    w.u(ports.len() as u128);
    for ((p, port), c) in ports {
        w.u(p as u128);
        w.u(port as u128);
        w.u(c as u128);
    }
    w.addrs(h.internal_peers.iter().copied());
    let mut fan: Vec<&(i64, u128, u32)> = h.fan.iter().collect();
    fan.sort_unstable();
    w.u(fan.len() as u128);
    let mut prev = 0i64;
    for (fw, dst, key) in fan {
        w.i(fw - prev);
        prev = *fw;
        w.u(*dst);
        w.u(*key as u128);
    }
    let ups = sorted(h.uploads.iter().map(|(k, b)| (*k, *b)));
    w.u(ups.len() as u128);
    for ((p, uw), b) in ups {
        w.u(p);
        w.i(uw);
        w.u(b as u128);
    }
    let peers = sorted(h.peers.iter().map(|(k, c)| (*k, *c)));
    w.u(peers.len() as u128);
    for (p, c) in peers {
        w.u(p);
        w.u(c.0 as u128);
        w.i(c.1);
    }
    let mut pw: Vec<&(u128, i64)> = h.peer_windows.iter().collect();
    pw.sort_unstable();
    w.u(pw.len() as u128);
    for (p, pwin) in pw {
        w.u(*p);
        w.i(*pwin);
    }
}

/// The habits of compacted hosts ([`State::compact`]), when any: a trailing section, so states
/// written before it existed (day files) decode unchanged.
fn encode_compacted(w: &mut W, st: &State) -> std::io::Result<()> {
    let done = sorted(
        st.hosts
            .iter()
            .filter_map(|(ip, h)| Some((*ip, h.habits.as_ref()?))),
    );
    if done.is_empty() {
        return Ok(());
    }
    w.u(done.len() as u128);
    for (ip, h) in done {
        w.u(ip);
        w.s(&serde_json::to_string(h).map_err(std::io::Error::other)?);
    }
    Ok(())
}

fn decode_compacted(r: &mut R, st: &mut State) -> Result<(), Why> {
    for _ in 0..r.n()? {
        let ip = r.u()?;
        let h = serde_json::from_str(&r.s()?).map_err(|e| format!("bad host habits: {e}"))?;
        let host = st
            .hosts
            .get_mut(&ip)
            .ok_or("habits of a host not in the state")?;
        host.habits = Some(Box::new(h));
    }
    Ok(())
}

fn encode_shared(w: &mut W, st: &State) {
    let services = sorted(st.services.iter());
    w.u(services.len() as u128);
    for ((ip, proto, port), (clients, n)) in services {
        w.u(*ip);
        w.u(*proto as u128);
        w.u(*port as u128);
        w.addrs(clients.iter().copied());
        w.u(*n as u128);
    }
    let edges = sorted(st.edges.iter());
    w.u(edges.len() as u128);
    for ((s, d), (ports, n)) in edges {
        w.u(*s);
        w.u(*d);
        w.u(ports.len() as u128);
        ports.iter().for_each(|p| w.u(*p as u128));
        w.u(*n as u128);
    }
    let geo = sorted(st.geo.iter());
    w.u(geo.len() as u128);
    for (p, (cc, asn)) in geo {
        w.u(*p);
        w.opt_s(cc);
        w.u(asn.map_or(0, |a| a as u128 + 1));
    }
    let orgs = sorted(st.asn_org.iter());
    w.u(orgs.len() as u128);
    for (a, (ip, org)) in orgs {
        w.u(*a as u128);
        w.u(*ip);
        w.opt_s(org);
    }
}

/// The largest header a day state may carry (its settings and input file names).
const MAX_HEADER_BYTES: u128 = 64 << 20;

/// The windows and internal networks a state was learned with, read from the head of its encoding
/// without decompressing the rest (a day of a large network is hundreds of MB): what
/// `baseline update` checks a new day against. The rest is checked when the day is decoded.
pub(crate) fn decode_grid(reader: impl std::io::Read) -> Result<(Grid, Vec<String>), Why> {
    use std::io::Read;
    let mut d =
        zstd::stream::read::Decoder::new(reader).map_err(|e| format!("not a zstd frame: {e}"))?;
    let mut read = |buf: &mut [u8]| {
        d.read_exact(buf)
            .map_err(|e| format!("not a flowhound baseline day state ({e})"))
    };
    let mut magic = [0u8; 8];
    read(&mut magic)?;
    if &magic != MAGIC {
        return Err("not a flowhound baseline day state (bad magic)".into());
    }
    // the header's length, a varint: its bytes up to the first without the continuation bit
    let mut varint = Vec::new();
    while varint.last().is_none_or(|b| b & 0x80 != 0) && varint.len() < 19 {
        let mut b = [0u8];
        read(&mut b)?;
        varint.push(b[0]);
    }
    let len = R { b: &varint, at: 0 }.u()?;
    if len > MAX_HEADER_BYTES {
        return Err(format!("bad header: {len} bytes"));
    }
    let mut text = vec![0u8; len as usize];
    read(&mut text)?;
    let h: Header = serde_json::from_slice(&text).map_err(|e| format!("bad header: {e}"))?;
    Ok((h.grid(), h.nets))
}

/// Decodes a state written by [`encode`].
pub(crate) fn decode(bytes: &[u8]) -> Result<State, Why> {
    let raw = zstd::stream::decode_all(bytes).map_err(|e| format!("not a zstd frame: {e}"))?;
    let body = raw
        .strip_prefix(MAGIC.as_slice())
        .ok_or("not a flowhound baseline day state (bad magic)")?;
    let mut r = R { b: body, at: 0 };
    let header: Header = serde_json::from_str(&r.s()?).map_err(|e| format!("bad header: {e}"))?;
    let mut st = State {
        grid: Some(header.grid()),
        nets: header.nets,
        settings: header.settings,
        files: header.files,
        flows: header.flows,
        first: header.first,
        last: header.last,
        ..Default::default()
    };
    for k in 0..2 {
        let n = r.n()?;
        let mut prev = 0u64;
        for _ in 0..n {
            prev = prev.checked_add(r.u64()?).ok_or("value out of range")?;
            st.global[k].push((prev, r.u64()?));
        }
    }
    let n = r.n()?;
    for _ in 0..n {
        let ip = r.u()?;
        st.hosts.insert(ip, decode_host(&mut r)?);
    }
    decode_shared(&mut r, &mut st)?;
    if r.at != body.len() {
        decode_compacted(&mut r, &mut st)?;
    }
    if r.at != body.len() {
        return Err("trailing data".into());
    }
    Ok(st)
}

fn decode_host(r: &mut R) -> Result<HostState, Why> {
    let mut h = HostState {
        flows: r.u64()?,
        sent: r.u64()?,
        received: r.u64()?,
        ..Default::default()
    };
    let mut prev = 0i64;
    for _ in 0..r.n()? {
        prev = prev.wrapping_add(r.i()?);
        h.windows.insert(prev, [r.u64()?, r.u64()?, r.u64()?]);
    }
    for k in 0..24 {
        h.hours[k] = r.u64()?;
    }
    for _ in 0..r.n()? {
        h.ports.insert((r.small()?, r.small()?), r.u64()?);
    }
    h.internal_peers = r.addrs()?.into_iter().collect();
    let mut prev = 0i64;
    for _ in 0..r.n()? {
        prev = prev.wrapping_add(r.i()?);
        h.fan.push((prev, r.u()?, r.small()?));
    }
    for _ in 0..r.n()? {
        h.uploads.insert((r.u()?, r.i()?), r.u64()?);
    }
    for _ in 0..r.n()? {
        h.peers.insert(r.u()?, (r.u64()?, r.i()?, i64::MIN));
    }
    for _ in 0..r.n()? {
        h.peer_windows.insert((r.u()?, r.i()?));
    }
    Ok(h)
}

fn decode_shared(r: &mut R, st: &mut State) -> Result<(), Why> {
    for _ in 0..r.n()? {
        let key = (r.u()?, r.small()?, r.small()?);
        let clients = r.addrs()?.into_iter().collect();
        st.services.insert(key, (clients, r.u64()?));
    }
    for _ in 0..r.n()? {
        let key = (r.u()?, r.u()?);
        let mut ports = BTreeSet::new();
        for _ in 0..r.n()? {
            ports.insert(r.small()?);
        }
        st.edges.insert(key, (ports, r.u64()?));
    }
    for _ in 0..r.n()? {
        let p = r.u()?;
        let cc = r.opt_s()?;
        let asn = match r.u()? {
            0 => None,
            a => Some(u32::try_from(a - 1).map_err(|_| "AS number out of range")?),
        };
        st.geo.insert(p, (cc, asn));
    }
    for _ in 0..r.n()? {
        let a = r.small()?;
        st.asn_org.insert(a, (r.u()?, r.opt_s()?));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_truncation() {
        let mut w = W::default();
        for v in [0u128, 1, 127, 128, u64::MAX as u128, u128::MAX] {
            w.u(v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            w.i(v);
        }
        let mut r = R { b: &w.0, at: 0 };
        for v in [0u128, 1, 127, 128, u64::MAX as u128, u128::MAX] {
            assert_eq!(r.u().unwrap(), v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(r.i().unwrap(), v);
        }
        assert!(r.u().is_err());
        let mut r = R { b: &[5, 1], at: 0 };
        assert!(r.n().is_err(), "a count beyond the data left");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode(b"nope").is_err());
        let st = State::new(
            &BaselineConfig::default(),
            &crate::net::InternalNets::default(),
            false,
        );
        let bytes = encode(&st).unwrap();
        assert!(decode(&bytes).is_ok());
        for cut in [1, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x55;
        assert!(decode(&flipped).is_err());
        assert!(decode_grid(&b"nope"[..]).is_err());
        for cut in [1, 12, bytes.len() / 3] {
            assert!(decode_grid(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn the_grid_is_read_from_the_head_alone() {
        let nets =
            crate::net::InternalNets::new(vec![crate::net::Cidr::parse("10.0.0.0/8").unwrap()]);
        let cfg = BaselineConfig {
            window_secs: 1800,
            fanout_window_secs: 120,
            ..Default::default()
        };
        let st = State::new(&cfg, &nets, true);
        let bytes = encode(&st).unwrap();
        let (grid, got) = decode_grid(&bytes[..]).unwrap();
        assert_eq!(Some(grid), st.grid);
        assert_eq!(got, st.nets);
        assert_eq!(got, ["10.0.0.0/8"]);
    }
}
