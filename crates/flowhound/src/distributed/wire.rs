//! What the client sends to the executors: the test input's whole-input statistics ([`Globals`], from
//! [`super::stats_sql`]), as JSON (every field is a plain list, so the form does not depend on the hash
//! maps' layout).

use crate::detect::globals::TestGlobals;
use crate::detect::volume::{Cell, HostWindows};
use crate::error::{FlowError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The whole-input statistics of the test input, hosts per destination counted.
#[derive(Debug, Clone, Default)]
pub struct Globals {
    /// Flows counted.
    pub rows: u64,
    /// The detectors' statistics (without host windows).
    pub globals: TestGlobals,
    /// Per (internal host, window) sums.
    pub cells: Vec<Cell>,
}

/// [`Globals`] as plain lists.
#[derive(Serialize, Deserialize, Default)]
struct Wire {
    rows: u64,
    ts_range: Option<(i64, i64)>,
    internal_hosts: Vec<u128>,
    /// Internal hosts per external destination.
    dest_counts: Vec<(u128, u64)>,
    dns_sizes: Vec<(u128, Vec<(u64, u64)>)>,
    dns_answered: bool,
    /// (host, window, flows, up, down)
    cells: Vec<(u128, i64, u64, u64, u64)>,
}

impl Globals {
    /// The statistics as the detectors read them, with host windows of `window_secs`.
    pub fn into_test_globals(self, window_secs: u64) -> TestGlobals {
        let mut cells = self.cells;
        cells.sort_unstable_by_key(|c| (c.host, c.window));
        TestGlobals {
            host_windows: Some(HostWindows { window_secs, cells }),
            ..self.globals
        }
    }

    /// Encodes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let g = &self.globals;
        let w = Wire {
            rows: self.rows,
            ts_range: g.ts_range,
            internal_hosts: g.internal_hosts.iter().copied().collect(),
            dest_counts: g.dest_counts.iter().map(|(d, n)| (*d, *n)).collect(),
            dns_sizes: g
                .dns_sizes
                .iter()
                .map(|(h, s)| (*h, s.iter().map(|(a, b)| (*a, *b)).collect()))
                .collect(),
            dns_answered: g.dns_answered,
            cells: self
                .cells
                .iter()
                .map(|c| (c.host, c.window, c.flows, c.up, c.down))
                .collect(),
        };
        serde_json::to_vec(&w).unwrap_or_default()
    }

    /// Decodes what [`Globals::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<Globals> {
        let w: Wire = serde_json::from_slice(bytes)
            .map_err(|e| FlowError::Internal(format!("whole-input statistics: {e}")))?;
        let globals = TestGlobals {
            ts_range: w.ts_range,
            internal_hosts: w.internal_hosts.into_iter().collect(),
            dest_hosts: Default::default(),
            dest_counts: w.dest_counts.into_iter().collect(),
            // who reached a shared peer is read on the client only (after the shards' findings merge)
            shared_dests: Default::default(),
            dns_sizes: w
                .dns_sizes
                .into_iter()
                .map(|(h, s)| (h, s.into_iter().collect()))
                .collect(),
            dns_answered: w.dns_answered,
            host_windows: None,
        };
        let cells = w
            .cells
            .into_iter()
            .map(|(host, window, flows, up, down)| Cell {
                host,
                window,
                flows,
                up,
                down,
            })
            .collect();
        Ok(Globals {
            rows: w.rows,
            globals,
            cells,
        })
    }
}

/// Writes `g` for the executors (atomically).
pub fn write_globals(path: &Path, g: &Globals) -> Result<()> {
    let mut f = crate::output::atomic::AtomicFile::create(path)?;
    std::io::Write::write_all(f.writer(), &g.to_bytes()).map_err(|e| FlowError::io(path, e))?;
    f.commit()
}

/// Reads what [`write_globals`] wrote, with host windows of `window_secs`.
pub fn read_globals(path: &Path, window_secs: u64) -> Result<TestGlobals> {
    let bytes = std::fs::read(path).map_err(|e| FlowError::io(path, e))?;
    Ok(Globals::from_bytes(&bytes)?.into_test_globals(window_secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::flows::Flows;
    use crate::net::{Cidr, InternalNets};
    use crate::schema::Proto;

    fn flows(rows: &[(i64, u128, u128, u16, u64, u64)]) -> Flows {
        let mut f = Flows::default();
        for (ts, s, d, port, up, down) in rows {
            f.ts.push(*ts);
            f.src.push(*s);
            f.dst.push(*d);
            f.proto.push(Proto::Udp);
            f.dst_port.push(*port);
            f.up.push(*up);
            f.down.push(*down);
        }
        f
    }

    #[test]
    fn statistics_sent_and_read_back_are_unchanged() {
        let nets = InternalNets::new(vec![Cidr::parse("10.0.0.0/8").unwrap()]);
        let (a, b, ext) = (0xffff_0a00_0001u128, 0xffff_0a00_0002, 0xffff_0808_0808);
        let rows = [
            (1_000_000, a, ext, 53, 40, 90),
            (61_000_000, a, ext, 53, 60, 0),
            (2_000_000, b, ext, 443, 500, 70),
            (3_000_000, b, u128::MAX - 1, 53, 5, 0),
        ];
        let f = flows(&rows);
        let globals = TestGlobals::of(&f, &nets);
        let sent = Globals {
            rows: f.len() as u64,
            globals,
            cells: HostWindows::of(&f, &nets, 60).cells,
        };
        let got = Globals::from_bytes(&sent.to_bytes()).unwrap();
        assert_eq!(got.rows, 4);
        let (w, m) = (sent.into_test_globals(60), got.into_test_globals(60));
        assert_eq!(w.ts_range, m.ts_range);
        assert_eq!(w.internal_hosts, m.internal_hosts);
        assert_eq!(w.dest_counts, m.dest_counts);
        assert_eq!(w.dns_sizes, m.dns_sizes);
        assert_eq!(w.dns_answered, m.dns_answered);
        assert_eq!(m.hosts_of(ext), 2);
        assert_eq!(w.host_windows.unwrap().cells, m.host_windows.unwrap().cells);
        assert!(Globals::from_bytes(b"{not json").is_err());
    }
}
