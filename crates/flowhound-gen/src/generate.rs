//! [`generate`]: builds the network, plans scenarios and decoys, then streams
//! `normal.parquet`, `test.parquet` and `servers.parquet` (one thread each,
//! each with its own RNG stream, so output is deterministic) and writes
//! `truth.json`.

use crate::addrbook::AddressBook;
use crate::config::{DecoyKind, GenConfig, Scenario};
use crate::decoys;
use crate::dist::{apportion, lognormal, stream_rng, GenRng};
use crate::flow::{Flow, Label, HOUR_US, US};
use crate::ip::dotted;
use crate::model::{hour_weights, is_night, Network, Profile};
use crate::plan::{Injected, Planner};
use crate::scenarios::inject;
use crate::truth::{NetworkTruth, Period, Periods, RowCounts, Truth, TRUTH_FORMAT};
use crate::writer::{flow_batch, flow_schema, label_batch, label_schema, AtomicParquet};
use crate::GenError;
use rand::Rng;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Rows buffered before a batch is handed to the Parquet writer.
const BATCH_ROWS: usize = 65_536;

/// What [`generate`] produced.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GenSummary {
    /// Files written (data, labels, truth), in the output directory.
    pub files: Vec<PathBuf>,
    /// Rows per data file.
    pub rows: RowCounts,
    /// The ground truth also written to `truth.json`.
    pub truth: Truth,
}

/// Which flows a file's background is made of.
#[derive(Debug, Clone, Copy)]
enum Source {
    Clients { with_newcomer: bool },
    Servers,
}

/// One output file.
struct FileJob {
    name: &'static str,
    labels_name: &'static str,
    start_us: i64,
    hours: u32,
    rows: u64,
    source: Source,
    stream: u64,
    injected: Vec<Flow>,
}

/// Per-file results.
#[derive(Debug, Default, Clone, Copy)]
struct JobStats {
    rows: u64,
    newcomer: u64,
}

/// Generates a dataset into `out_dir` (created if needed). `progress` is called
/// from the calling thread with (rows written, rows expected).
pub fn generate(
    cfg: &GenConfig,
    out_dir: &Path,
    progress: &dyn Fn(u64, u64),
) -> Result<GenSummary, GenError> {
    generate_with_book(cfg, crate::default_address_book(), out_dir, progress)
}

/// Like [`generate`], drawing external addresses from `book`.
pub fn generate_with_book(
    cfg: &GenConfig,
    book: &AddressBook,
    out_dir: &Path,
    progress: &dyn Fn(u64, u64),
) -> Result<GenSummary, GenError> {
    generate_cancellable(cfg, book, out_dir, progress, &AtomicBool::new(false))
}

/// Like [`generate_with_book`], stopping with [`GenError::Cancelled`] (no file written) soon after
/// `cancel` is set: the writers check it every [`BATCH_ROWS`] flows.
pub fn generate_cancellable(
    cfg: &GenConfig,
    book: &AddressBook,
    out_dir: &Path,
    progress: &dyn Fn(u64, u64),
    cancel: &AtomicBool,
) -> Result<GenSummary, GenError> {
    cfg.validate()?;
    let cfg = &cfg.resolved();
    std::fs::create_dir_all(out_dir).map_err(|e| GenError::io(out_dir, e))?;
    let net = Network::build(cfg, book, &mut stream_rng(cfg.seed, 1))?;
    stop_if(cancel)?;
    let (normal, test) = periods_us(cfg);
    let (injected, decoys) = plan_all(cfg, &net, book, normal, test)?;
    stop_if(cancel)?;
    let (decoy_flows, mut decoy_truth) = decoys.map(|d| (d.flows, d.truth)).unwrap_or_default();
    let intel = intel_lines(&injected);
    let jobs = make_jobs(cfg, normal, test, &injected, decoy_flows);
    let stats = run_jobs(cfg, &net, out_dir, jobs, progress, cancel)?;
    if let Some(d) = decoy_truth
        .iter_mut()
        .find(|d| d.kind == DecoyKind::NewEmployee)
    {
        d.flows = stats[1].newcomer;
    }
    let rows = RowCounts {
        normal: stats[0].rows,
        test: stats[1].rows,
        servers: stats[2].rows,
    };
    let truth = Truth {
        generator: "flowhound-gen".into(),
        format_version: TRUTH_FORMAT,
        seed: cfg.seed,
        periods: Periods {
            normal: period(normal),
            test: period(test),
        },
        rows,
        network: network_truth(cfg, &net),
        scenarios: injected.into_iter().map(|i| i.truth).collect(),
        decoys: decoy_truth,
        intel_file: (!intel.is_empty()).then(|| INTEL_FILE.to_string()),
    };
    if !intel.is_empty() {
        write_atomic(&out_dir.join(INTEL_FILE), intel.as_bytes())?;
    }
    let truth_path = out_dir.join("truth.json");
    write_atomic(
        &truth_path,
        serde_json::to_string_pretty(&truth)?.as_bytes(),
    )?;
    Ok(GenSummary {
        files: output_files(cfg, out_dir, !intel.is_empty()),
        rows,
        truth,
    })
}

/// [`GenError::Cancelled`] once `cancel` is set.
fn stop_if(cancel: &AtomicBool) -> Result<(), GenError> {
    if cancel.load(Ordering::Relaxed) {
        return Err(GenError::Cancelled);
    }
    Ok(())
}

/// The blocklist written next to the data when a scenario lists addresses.
pub const INTEL_FILE: &str = "intel.txt";

/// The text of `intel.txt`: a comment header, then one IP or CIDR per line
/// (empty when no scenario lists anything).
fn intel_lines(injected: &[Injected]) -> String {
    let mut lines: Vec<&String> = injected.iter().flat_map(|i| &i.intel).collect();
    if lines.is_empty() {
        return String::new();
    }
    lines.sort();
    lines.dedup();
    let mut s =
        String::from("# flowhound-gen blocklist: one IPv4 address or CIDR block per line\n");
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// The normal and test periods `[start, end)` in microseconds.
fn periods_us(cfg: &GenConfig) -> ((i64, i64), (i64, i64)) {
    let n0 = cfg.start * US;
    let n1 = n0 + i64::from(cfg.normal_days.max(1)) * 24 * HOUR_US;
    (
        (n0, n1),
        (n1, n1 + i64::from(cfg.resolved_test_hours()) * HOUR_US),
    )
}

/// Plans the scenarios, then the decoys (on the remaining hosts).
fn plan_all(
    cfg: &GenConfig,
    net: &Network,
    book: &AddressBook,
    normal: (i64, i64),
    test: (i64, i64),
) -> Result<(Vec<Injected>, Option<decoys::Decoys>), GenError> {
    let mut rng = stream_rng(cfg.seed, 2);
    let mut planner = Planner::new(cfg, net, book, (normal.0, test.1), test, &mut rng)?;
    let injected = plan_scenarios(cfg, &mut planner, &mut rng)?;
    let decoys = if cfg.decoys {
        Some(decoys::plan(cfg, &mut planner, &mut rng)?)
    } else {
        None
    };
    Ok((injected, decoys))
}

fn period((a, b): (i64, i64)) -> Period {
    Period {
        start: a.div_euclid(US),
        end: b.div_euclid(US),
    }
}

/// RNG stream of the `dropper` scenario (distinct from the planning and data streams).
const DROPPER_STREAM: u64 = 98;
/// RNG stream of the `spam` scenario.
const SPAM_STREAM: u64 = 96;

fn plan_scenarios(
    cfg: &GenConfig,
    p: &mut Planner,
    rng: &mut GenRng,
) -> Result<Vec<Injected>, GenError> {
    Scenario::ALL
        .into_iter()
        .filter(|k| cfg.has(*k))
        .map(|k| match k {
            // its own stream: configurations without it draw exactly as before it existed
            Scenario::Dropper => inject(p, &mut stream_rng(cfg.seed, DROPPER_STREAM), k),
            Scenario::Spam => inject(p, &mut stream_rng(cfg.seed, SPAM_STREAM), k),
            _ => inject(p, rng, k),
        })
        .collect()
}

fn make_jobs(
    cfg: &GenConfig,
    normal: (i64, i64),
    test: (i64, i64),
    injected: &[Injected],
    decoys: Vec<Flow>,
) -> Vec<FileJob> {
    let (mut in_normal, mut in_test): (Vec<Flow>, Vec<Flow>) =
        decoys.into_iter().partition(|f| f.ts_us < normal.1);
    let mut in_servers = Vec::new();
    for i in injected {
        let dest = if i.truth.file == "servers" {
            &mut in_servers
        } else {
            &mut in_test
        };
        dest.extend_from_slice(&i.flows);
    }
    let hours = |(a, b): (i64, i64)| u32::try_from((b - a) / HOUR_US).unwrap_or(0);
    vec![
        job(
            "normal.parquet",
            "",
            normal.0,
            hours(normal),
            cfg.flows_normal,
            Source::Clients {
                with_newcomer: false,
            },
            10,
            std::mem::take(&mut in_normal),
        ),
        job(
            "test.parquet",
            "labels.parquet",
            test.0,
            hours(test),
            cfg.flows_test,
            Source::Clients {
                with_newcomer: true,
            },
            11,
            std::mem::take(&mut in_test),
        ),
        job(
            "servers.parquet",
            "servers_labels.parquet",
            normal.0,
            hours((normal.0, test.1)),
            cfg.flows_servers,
            Source::Servers,
            12,
            in_servers,
        ),
    ]
}

#[allow(clippy::too_many_arguments)]
fn job(
    name: &'static str,
    labels_name: &'static str,
    start_us: i64,
    hours: u32,
    rows: u64,
    source: Source,
    stream: u64,
    mut injected: Vec<Flow>,
) -> FileJob {
    injected.sort_by_key(|f| f.ts_us);
    let decoys = injected
        .iter()
        .filter(|f| matches!(f.label, Label::Decoy(_)))
        .count() as u64;
    let scenarios = injected.len() as u64 - decoys;
    // The figure covers ordinary traffic and scenario flows; decoys come on top. Scenarios never
    // crowd out more than half of the ordinary traffic: a public server under attack still has its
    // clients, which are what its attack is judged against.
    let rows = rows.saturating_sub(scenarios).max(rows / 2) + scenarios + decoys;
    FileJob {
        name,
        labels_name,
        start_us,
        hours,
        rows,
        source,
        stream,
        injected,
    }
}

/// Runs the jobs on scoped threads, reporting progress from this thread.
fn run_jobs(
    cfg: &GenConfig,
    net: &Network,
    dir: &Path,
    jobs: Vec<FileJob>,
    progress: &dyn Fn(u64, u64),
    cancel: &AtomicBool,
) -> Result<Vec<JobStats>, GenError> {
    let total: u64 = jobs.iter().map(|j| j.rows).sum();
    let done = AtomicU64::new(0);
    progress(0, total);
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|j| s.spawn(|| j.run(cfg, net, dir, &done, cancel)))
            .collect();
        while !handles.iter().all(|h| h.is_finished()) {
            std::thread::sleep(Duration::from_millis(50));
            progress(done.load(Ordering::Relaxed), total);
        }
        progress(done.load(Ordering::Relaxed), total);
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| GenError::Worker("a writer thread panicked".into()))?
            })
            .collect()
    })
}

impl FileJob {
    fn run(
        &self,
        cfg: &GenConfig,
        net: &Network,
        dir: &Path,
        done: &AtomicU64,
        cancel: &AtomicBool,
    ) -> Result<JobStats, GenError> {
        let mut rng = stream_rng(cfg.seed, self.stream);
        let mut out = Output::create(cfg, dir, self)?;
        let counts = self.hourly_counts(&mut rng);
        let mut stats = JobStats::default();
        let mut next_inj = 0;
        let mut hour_buf = Vec::new();
        for (h, &n) in counts.iter().enumerate() {
            let t0 = self.start_us + h as i64 * HOUR_US;
            self.background(net, &mut rng, t0, n, &mut hour_buf, cancel);
            stop_if(cancel)?;
            let end = if h + 1 == counts.len() {
                i64::MAX
            } else {
                t0 + HOUR_US
            };
            while let Some(f) = self.injected.get(next_inj).filter(|f| f.ts_us < end) {
                hour_buf.push(*f);
                next_inj += 1;
            }
            hour_buf.sort_by_key(|f| f.ts_us);
            stats.newcomer += count_newcomer(net, &hour_buf);
            out.push(&mut hour_buf, done, cancel)?;
        }
        hour_buf.extend_from_slice(self.injected.get(next_inj..).unwrap_or_default());
        out.push(&mut hour_buf, done, cancel)?;
        stats.rows = out.finish(done, cancel)?;
        Ok(stats)
    }

    /// Background rows per hour: the activity cycle with +-15 % noise.
    fn hourly_counts(&self, rng: &mut GenRng) -> Vec<u64> {
        let profile = match self.source {
            Source::Clients { .. } => Profile::Office,
            Source::Servers => Profile::Public,
        };
        let mut weights = hour_weights(self.start_us, self.hours, profile);
        weights
            .iter_mut()
            .for_each(|w| *w *= lognormal(rng, 1.0, 0.15));
        apportion(self.rows - self.injected.len() as u64, &weights)
    }

    /// Appends `n` ordinary flows of the hour starting at `t0` to `out` (fewer once `cancel` is set).
    fn background(
        &self,
        net: &Network,
        rng: &mut GenRng,
        t0: i64,
        n: u64,
        out: &mut Vec<Flow>,
        cancel: &AtomicBool,
    ) {
        let picker = match self.source {
            Source::Clients { with_newcomer } => {
                Some(net.client_picker(with_newcomer, is_night(t0)))
            }
            Source::Servers => None,
        };
        for i in 0..n {
            if i % BATCH_ROWS as u64 == 0 && cancel.load(Ordering::Relaxed) {
                return;
            }
            let ts = t0 + rng.random_range(0..HOUR_US);
            let flow = match &picker {
                Some(p) => p
                    .sample(rng)
                    .and_then(|i| net.client(i))
                    .map(|c| net.normal_flow(rng, c, ts)),
                None => Some(net.server_flow(rng, ts)),
            };
            out.extend(flow);
        }
    }
}

fn count_newcomer(net: &Network, flows: &[Flow]) -> u64 {
    match &net.newcomer {
        Some(c) => flows
            .iter()
            .filter(|f| f.src == c.ip && f.label == Label::Normal)
            .count() as u64,
        None => 0,
    }
}

/// The writers of one file (data and optional labels) and the batch buffer.
struct Output {
    data: AtomicParquet,
    labels: Option<AtomicParquet>,
    buf: Vec<Flow>,
    fmt: crate::config::TsFormat,
    rows: u64,
}

impl Output {
    fn create(cfg: &GenConfig, dir: &Path, job: &FileJob) -> Result<Self, GenError> {
        let data = AtomicParquet::create(
            &dir.join(job.name),
            flow_schema(cfg.ts_format),
            cfg.row_group_size,
        )?;
        let labels = if cfg.labels && !job.labels_name.is_empty() {
            Some(AtomicParquet::create(
                &dir.join(job.labels_name),
                label_schema(),
                cfg.row_group_size,
            )?)
        } else {
            None
        };
        Ok(Output {
            data,
            labels,
            buf: Vec::with_capacity(BATCH_ROWS),
            fmt: cfg.ts_format,
            rows: 0,
        })
    }

    /// Moves `flows` into the buffer, flushing full batches.
    fn push(
        &mut self,
        flows: &mut Vec<Flow>,
        done: &AtomicU64,
        cancel: &AtomicBool,
    ) -> Result<(), GenError> {
        self.buf.append(flows);
        if self.buf.len() >= BATCH_ROWS {
            self.flush(done, cancel)?;
        }
        Ok(())
    }

    /// Writes the buffer in batches of [`BATCH_ROWS`], checking `cancel` before each.
    fn flush(&mut self, done: &AtomicU64, cancel: &AtomicBool) -> Result<(), GenError> {
        for chunk in self.buf.chunks(BATCH_ROWS) {
            stop_if(cancel)?;
            self.data.write(&flow_batch(chunk, self.fmt)?)?;
            if let Some(l) = &mut self.labels {
                l.write(&label_batch(chunk)?)?;
            }
            self.rows += chunk.len() as u64;
            done.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self, done: &AtomicU64, cancel: &AtomicBool) -> Result<u64, GenError> {
        self.flush(done, cancel)?;
        self.data.finish()?;
        if let Some(l) = self.labels {
            l.finish()?;
        }
        Ok(self.rows)
    }
}

fn network_truth(cfg: &GenConfig, net: &Network) -> NetworkTruth {
    let s = net.servers;
    let p = net.public;
    let pairs = |v: &[(&str, u32)]| {
        v.iter()
            .map(|(k, ip)| (k.to_string(), dotted(*ip)))
            .collect()
    };
    NetworkTruth {
        subnet: format!("{}/{}", dotted(net.subnet.0), net.subnet.1),
        clients: net.clients.iter().map(|c| dotted(c.ip)).collect(),
        internal_servers: pairs(&[
            ("dns", s.dns),
            ("web", s.web),
            ("file", s.file),
            ("mail", s.mail),
            ("db", s.db),
            ("backup", s.backup),
            ("monitoring", s.monitoring),
            ("scanner", s.scanner),
        ]),
        public_servers: pairs(&[
            ("web", p.web),
            ("mail", p.mail),
            ("dns", p.dns),
            ("vpn", p.vpn),
        ]),
        usual_countries: cfg.usual_countries.clone(),
        iot: net.iot.iter().map(|&ip| dotted(ip)).collect(),
    }
}

fn output_files(cfg: &GenConfig, dir: &Path, intel: bool) -> Vec<PathBuf> {
    let mut names = vec!["normal.parquet", "test.parquet", "servers.parquet"];
    if cfg.labels {
        names.extend(["labels.parquet", "servers_labels.parquet"]);
    }
    if intel {
        names.push(INTEL_FILE);
    }
    names.push("truth.json");
    names.into_iter().map(|n| dir.join(n)).collect()
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), GenError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| GenError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| GenError::io(path, e))
}
