//! `flowhound collect`: a NetFlow v5/v9/IPFIX collector on UDP writing rolling canonical Parquet files.
//!
//! One thread receives and decodes datagrams ([`decode`]) and streams the flows of the current window
//! into a Parquet file that only appears under its final name (`flows.YYYYMMDDhhmmss.parquet`, UTC
//! window start) once the window is rotated or the collector stops. See `docs/collect.md`.

pub mod decode;

pub use decode::{decode_datagram, Decoder, PacketStats};

use crate::error::{FlowError, Result};
use crate::ingest::builder::{FlowBuilder, FlowRow, BATCH_ROWS};
use crate::output::batches::ParquetOut;
use crate::schema::flow_schema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// How long a stopping collector keeps decoding the datagrams already queued on its socket.
const DRAIN: Duration = Duration::from_secs(2);

/// Collector settings.
#[derive(Debug, Clone)]
pub struct CollectConfig {
    /// Where to listen (`127.0.0.1:2055`, `[::]:4739`, port 0 for any).
    pub listen: String,
    /// Output directory (must exist).
    pub out_dir: PathBuf,
    /// Window length.
    pub rotate: Duration,
    /// Socket receive buffer asked for, bytes (the kernel may cap it: net.core.rmem_max).
    pub recv_buffer: usize,
}

/// Counters of one exporter.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct ExporterStats {
    /// Datagrams received.
    pub packets: u64,
    /// Flow records decoded.
    pub flows: u64,
    /// Data sets that could not be kept until their template arrived.
    pub drops: u64,
    /// Data sets met before their template.
    pub unknown_templates: u64,
    /// Datagrams that did not parse (wholly or in part).
    pub malformed: u64,
}

impl ExporterStats {
    fn add(&mut self, o: &ExporterStats) {
        self.packets += o.packets;
        self.flows += o.flows;
        self.drops += o.drops;
        self.unknown_templates += o.unknown_templates;
        self.malformed += o.malformed;
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CollectSummary {
    /// Files written, in order.
    pub files: Vec<PathBuf>,
    /// Totals per exporter address.
    pub exporters: BTreeMap<IpAddr, ExporterStats>,
}

impl CollectSummary {
    /// Totals over every exporter.
    pub fn total(&self) -> ExporterStats {
        let mut t = ExporterStats::default();
        self.exporters.values().for_each(|e| t.add(e));
        t
    }
}

/// The open window: its start, its file (opened at the first flow) and its counters.
struct Window {
    started: SystemTime,
    deadline: Instant,
    out: Option<(ParquetOut, PathBuf)>,
    stats: BTreeMap<IpAddr, ExporterStats>,
}

/// A bound collector. Build with [`Collector::bind`], then [`Collector::run`].
pub struct Collector {
    sock: UdpSocket,
    cfg: CollectConfig,
    decoder: Decoder,
    builder: FlowBuilder,
    rows: Vec<FlowRow>,
    window: Window,
    summary: CollectSummary,
}

fn bind_socket(listen: &str, recv_buffer: usize) -> Result<UdpSocket> {
    let bad = |why: String| FlowError::Config(format!("cannot listen on {listen}: {why}"));
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| bad("expected HOST:PORT, e.g. 0.0.0.0:2055 or [::]:4739".into()))?;
    let s = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
    .map_err(|e| bad(e.to_string()))?;
    grow_recv_buffer(&s, recv_buffer);
    s.bind(&addr.into()).map_err(|e| {
        bad(format!(
            "{e} (is another collector, e.g. nfcapd, using the port?)"
        ))
    })?;
    let sock: UdpSocket = s.into();
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .map_err(|e| bad(e.to_string()))?;
    Ok(sock)
}

/// Asks for a receive buffer of `want` bytes: the kernel caps `SO_RCVBUF` at `net.core.rmem_max` (4 MiB
/// on many systems, a fraction of a second of a fast exporter); with `CAP_NET_ADMIN`, `SO_RCVBUFFORCE`
/// goes beyond it. Failures leave the kernel's choice: the buffer in use is printed at start-up.
fn grow_recv_buffer(s: &socket2::Socket, want: usize) {
    let _ = s.set_recv_buffer_size(want);
    if granted(s.recv_buffer_size().unwrap_or(0)) >= want {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let size = libc::c_int::try_from(want).unwrap_or(libc::c_int::MAX);
        // SAFETY: a valid socket descriptor, an int option value of the length passed.
        let _ = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
    }
}

/// The buffer size set, from the size the kernel reports (Linux reports twice the size set, the second
/// half being its bookkeeping allowance).
fn granted(reported: usize) -> usize {
    if cfg!(target_os = "linux") {
        reported / 2
    } else {
        reported
    }
}

impl Collector {
    /// The socket's receive buffer in bytes, comparable to the size asked for.
    pub fn recv_buffer(&self) -> usize {
        granted(
            socket2::SockRef::from(&self.sock)
                .recv_buffer_size()
                .unwrap_or(0),
        )
    }

    /// Binds the socket and checks the output directory.
    pub fn bind(cfg: CollectConfig) -> Result<Collector> {
        if !cfg.out_dir.is_dir() {
            return Err(FlowError::Config(format!(
                "output directory {} does not exist; create it first",
                cfg.out_dir.display()
            )));
        }
        if cfg.rotate.is_zero() {
            return Err(FlowError::Config("--rotate-secs must be at least 1".into()));
        }
        // a collector killed (-9, power loss) leaves its open window as a hidden temp file
        crate::output::atomic::remove_dead_temps(&cfg.out_dir);
        let sock = bind_socket(&cfg.listen, cfg.recv_buffer)?;
        let window = Window::new(cfg.rotate);
        Ok(Collector {
            sock,
            cfg,
            decoder: Decoder::default(),
            builder: FlowBuilder::new(),
            rows: Vec::new(),
            window,
            summary: CollectSummary::default(),
        })
    }

    /// The address actually bound (port 0 resolved).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.sock
            .local_addr()
            .map_err(|e| FlowError::Config(format!("socket: {e}")))
    }

    /// Receives until `stop` is set, rotating files; `log` gets one stats line per exporter per rotation.
    pub fn run(mut self, stop: &AtomicBool, log: &mut dyn FnMut(&str)) -> Result<CollectSummary> {
        let mut buf = vec![0u8; 65_535];
        while !stop.load(Ordering::Relaxed) {
            match self.sock.recv_from(&mut buf) {
                Ok((n, from)) => self.datagram(from, &buf[..n])?,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(FlowError::Config(format!("receive failed: {e}"))),
            }
            if Instant::now() >= self.window.deadline {
                self.rotate(log)?;
            }
        }
        self.drain(&mut buf)?;
        self.rotate(log)?;
        Ok(self.summary)
    }

    /// On stop: decodes the datagrams already queued on the socket (for at most [`DRAIN`]), so that
    /// what the kernel accepted before the signal is written too.
    fn drain(&mut self, buf: &mut [u8]) -> Result<()> {
        if self.sock.set_nonblocking(true).is_err() {
            return Ok(());
        }
        let until = Instant::now() + DRAIN;
        while Instant::now() < until {
            match self.sock.recv_from(buf) {
                Ok((n, from)) => self.datagram(from, &buf[..n])?,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        Ok(())
    }

    fn datagram(&mut self, from: SocketAddr, data: &[u8]) -> Result<()> {
        self.rows.clear();
        let p = self.decoder.datagram(from, data, &mut self.rows);
        let s = self.window.stats.entry(from.ip()).or_default();
        s.packets += 1;
        s.flows += p.flows;
        s.drops += p.drops;
        s.unknown_templates += p.unknown_templates;
        s.malformed += p.malformed as u64;
        for r in &self.rows {
            self.builder.push(r);
        }
        if self.builder.len() >= BATCH_ROWS {
            self.write_batch()?;
        }
        Ok(())
    }

    fn write_batch(&mut self) -> Result<()> {
        if self.builder.is_empty() {
            return Ok(());
        }
        if self.window.out.is_none() {
            let path = window_path(&self.cfg.out_dir, self.window.started);
            self.window.out = Some((ParquetOut::create(&path, flow_schema())?, path));
        }
        let batch = self.builder.finish();
        match &mut self.window.out {
            Some((out, _)) => out.write(&batch),
            None => Ok(()),
        }
    }

    /// Closes the window: its file appears under its final name; its stats are logged.
    fn rotate(&mut self, log: &mut dyn FnMut(&str)) -> Result<()> {
        self.write_batch()?;
        let old = std::mem::replace(&mut self.window, Window::new(self.cfg.rotate));
        if let Some((out, path)) = old.out {
            out.finish()?;
            self.summary.files.push(path);
        }
        let stamp = stamp(old.started, "%Y-%m-%dT%H:%M:%SZ");
        for (ip, s) in &old.stats {
            log(&stats_line(&stamp, ip, s));
            self.summary.exporters.entry(*ip).or_default().add(s);
        }
        Ok(())
    }
}

impl Window {
    fn new(rotate: Duration) -> Window {
        Window {
            started: SystemTime::now(),
            deadline: Instant::now() + rotate,
            out: None,
            stats: BTreeMap::new(),
        }
    }
}

fn stamp(t: SystemTime, fmt: &str) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format(fmt)
        .to_string()
}

/// `flows.YYYYMMDDhhmmss.parquet`, with `-N` added if a file of that second exists already.
fn window_path(dir: &Path, started: SystemTime) -> PathBuf {
    let base = format!("flows.{}", stamp(started, "%Y%m%d%H%M%S"));
    let mut p = dir.join(format!("{base}.parquet"));
    let mut n = 1;
    while p.exists() {
        p = dir.join(format!("{base}-{n}.parquet"));
        n += 1;
    }
    p
}

/// One stats line: `2026-12-04T19:40:00Z exporter 10.0.0.1: packets 3, flows 90, drops 0, ...`.
pub fn stats_line(stamp: &str, ip: &IpAddr, s: &ExporterStats) -> String {
    format!(
        "{stamp} exporter {ip}: packets {}, flows {}, drops {}, unknown templates {}, malformed {}",
        s.packets, s.flows, s.drops, s.unknown_templates, s.malformed
    )
}
