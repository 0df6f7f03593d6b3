//! Shared by the behavioural-detector tests: generates a dataset with `flowhound-gen` (whose
//! `truth.json` is the independent oracle), learns the baseline from `normal.parquet` and runs
//! detectors on `test.parquet` + `servers.parquet`.
#![allow(dead_code)]

use datafusion::arrow::record_batch::RecordBatch;
use flowhound::baseline::{learn, Baseline};
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::{run, DetectCtx};
use flowhound::findings::Finding;
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::{Cidr, InternalNets};
use flowhound_gen::{GenConfig, Truth};
use flowhound_geo::GeoStack;
use std::path::PathBuf;

pub mod browsing;
pub mod p2p;

/// Public servers of the generator (`server_abuse` config used in the tests); every severity is kept,
/// since these tests judge each detector's own findings, low ones included.
pub const CONFIG: &str = "[analysis]\nmin_severity = \"low\"\n[detectors.server_abuse]\npublic_ranges = [\"200.0.0.0/24\"]\n";

/// A generated dataset, read back.
pub struct Dataset {
    /// Ground truth.
    pub truth: Truth,
    /// Baseline learned on `normal.parquet`.
    pub baseline: Baseline,
    /// `test.parquet` then `servers.parquet`.
    pub test: Vec<RecordBatch>,
    /// The same as columns.
    pub flows: Flows,
    /// The generator's subnet.
    pub nets: InternalNets,
    /// Embedded geo database.
    pub geo: GeoStack,
    /// Settings (with the public server range).
    pub config: Config,
}

/// A fresh directory per call: tests of one binary run in parallel and may generate the same seed.
fn dir(seed: u64) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("flowhound-det6-{}-{seed}-{n}", std::process::id()))
}

fn read(path: PathBuf) -> Vec<RecordBatch> {
    read_all(&[path.display().to_string()], &ReadOptions::default())
        .unwrap()
        .0
}

/// Generates seed `seed` (default scenarios, decoys on) at a small size and learns the baseline.
pub fn dataset(seed: u64, flows_normal: u64) -> Dataset {
    dataset_of(&GenConfig {
        seed,
        flows_normal,
        flows_test: flows_normal / 2,
        flows_servers: flows_normal / 4,
        // The issue-6 acceptance data; issue 12's realistic decoys and scenarios are judged by the
        // acceptance sweep (crates/flowhound-cli/tests/acceptance_sweep.rs).
        ..GenConfig::classic()
    })
}

/// Generates `cfg` and learns the baseline of its normal period.
pub fn dataset_of(cfg: &GenConfig) -> Dataset {
    let out = dir(cfg.seed);
    let summary = flowhound_gen::generate(cfg, &out, &|_, _| {}).unwrap();
    let normal = read(out.join("normal.parquet"));
    let mut test = read(out.join("test.parquet"));
    test.extend(read(out.join("servers.parquet")));
    let _ = std::fs::remove_dir_all(&out);
    let nets = InternalNets::new(vec![Cidr::parse(&summary.truth.network.subnet).unwrap()]);
    let geo = GeoStack::from_options(&[], &[], true).unwrap();
    let config = Config::from_toml(CONFIG, "test config").unwrap();
    let nf = Flows::from_batches(&normal).unwrap();
    let baseline = learn(
        &nf,
        &nets,
        &geo,
        &config.baseline,
        vec!["normal.parquet".into()],
        false,
    )
    .unwrap();
    let flows = Flows::from_batches(&test).unwrap();
    Dataset {
        truth: summary.truth,
        baseline,
        test,
        flows,
        nets,
        geo,
        config,
    }
}

impl Dataset {
    /// Runs the named detectors (all registered when empty) and returns the finalized findings.
    pub fn run(&self, names: &[&str]) -> Vec<Finding> {
        let names: Vec<String> = if names.is_empty() {
            self.config.analysis.detectors.clone()
        } else {
            names.iter().map(|s| s.to_string()).collect()
        };
        let ctx = DetectCtx::new(
            &self.test,
            &self.flows,
            &self.baseline,
            &self.geo,
            &self.nets,
            &self.config,
        );
        run(&ctx, &names).unwrap()
    }

    /// Hosts of the scenarios of `kind`.
    pub fn scenario_hosts(&self, kind: &str) -> Vec<String> {
        self.truth
            .scenarios
            .iter()
            .filter(|s| s.kind.name() == kind)
            .flat_map(|s| s.hosts.clone())
            .collect()
    }

    /// Hosts of every decoy.
    pub fn decoy_hosts(&self) -> Vec<String> {
        self.truth
            .decoys
            .iter()
            .flat_map(|d| d.hosts.clone())
            .collect()
    }

    /// Hosts of every scenario.
    pub fn all_scenario_hosts(&self) -> Vec<String> {
        self.truth
            .scenarios
            .iter()
            .flat_map(|s| s.hosts.clone())
            .collect()
    }
}

/// The findings as the evaluator's document.
pub fn eval_doc(findings: &[Finding]) -> flowhound_gen::FindingsDoc {
    flowhound_gen::FindingsDoc {
        findings: findings
            .iter()
            .map(|f| flowhound_gen::Finding {
                kind: f.kind.clone(),
                hosts: f.hosts.clone(),
                score: f.score,
            })
            .collect(),
    }
}

/// A flow for [`csv_run`]: (unix seconds, source, destination, tcp port, bytes up, bytes down).
pub type Row = (i64, String, String, u16, u64, u64);

/// A row of the analysts' CSV: a [`Row`] (tcp), or `(proto, Row)` for another protocol.
pub trait CsvRow {
    /// The protocol and the flow.
    fn parts(&self) -> (&str, &Row);
}

impl CsvRow for Row {
    fn parts(&self) -> (&str, &Row) {
        ("tcp", self)
    }
}

impl CsvRow for (&str, Row) {
    fn parts(&self) -> (&str, &Row) {
        (self.0, &self.1)
    }
}

/// Writes `rows` as the analysts' CSV `dir/name` and reads it back.
pub fn write_csv<R: CsvRow>(dir: &std::path::Path, name: &str, rows: &[R]) -> Vec<RecordBatch> {
    use std::fmt::Write;
    let mut text = String::from("timestamp,src_ip,dst_ip,proto,port,up_bytes,down_bytes\n");
    for r in rows {
        let (proto, (ts, src, dst, port, up, down)) = r.parts();
        writeln!(text, "{ts},{src},{dst},{proto},{port},{up},{down}").unwrap();
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    read_all(&[path.display().to_string()], &ReadOptions::default())
        .unwrap()
        .0
}

/// Writes `normal` and `test` as analysts' CSV files, reads them back, learns the baseline from
/// `normal` and runs the detectors `names` on `test` with `config` (default networks, embedded geo).
pub fn csv_run<R: CsvRow>(
    normal: &[R],
    test: &[R],
    config: &Config,
    names: &[&str],
) -> Vec<Finding> {
    csv_detect(Some(normal), test, config, names)
}

/// Like [`csv_run`] in single-capture mode: the baseline is learned robustly from `test` itself.
pub fn csv_self_run<R: CsvRow>(test: &[R], config: &Config, names: &[&str]) -> Vec<Finding> {
    csv_detect(None, test, config, names)
}

/// The baseline from `normal`, or robustly from `test` when there is none; then the detectors.
fn csv_detect<R: CsvRow>(
    normal: Option<&[R]>,
    test: &[R],
    config: &Config,
    names: &[&str],
) -> Vec<Finding> {
    let dir = tempfile::tempdir().unwrap();
    let tb = write_csv(dir.path(), "test.csv", test);
    let tf = Flows::from_batches(&tb).unwrap();
    let nf =
        normal.map(|rows| Flows::from_batches(&write_csv(dir.path(), "normal.csv", rows)).unwrap());
    let nets = InternalNets::default();
    let geo = GeoStack::from_options(&[], &[], true).unwrap();
    let from = nf.as_ref().unwrap_or(&tf);
    let b = learn(
        from,
        &nets,
        &geo,
        &config.baseline,
        vec![],
        normal.is_none(),
    )
    .unwrap();
    let ctx = DetectCtx::new(&tb, &tf, &b, &geo, &nets, config);
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    run(&ctx, &names).unwrap()
}
