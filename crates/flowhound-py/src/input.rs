//! What the Python functions take: `data` (paths or an Arrow stream), and the reading, network, GeoIP and
//! DNS options, each a dict built by the Python layer with every key present.

use crate::errors::config;
use crate::run::Ctl;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::ingest::{self, ColumnMap, FlowSink, Format, IngestReport, ReadOptions, TsUnit};
use flowhound::net::{Cidr, InternalNets};
use flowhound::Result;
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatchReader;
use std::sync::Arc;

/// Flows to read: files (paths, directories, globs) or frames already in memory.
pub enum Data {
    /// Paths, directories or globs, read as the CLI reads them.
    Paths(Vec<String>),
    /// An Arrow stream taken whole (zero-copy), named `label` in errors and reports.
    Frame {
        label: String,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
}

impl Data {
    /// A `str`, a list of `str`, or anything with `__arrow_c_stream__` (pyarrow, polars, pandas >= 2.2).
    pub fn extract(obj: &Bound<'_, PyAny>, label: &str) -> PyResult<Data> {
        if let Ok(s) = obj.extract::<String>() {
            return Ok(Data::Paths(vec![s]));
        }
        if let Ok(v) = obj.extract::<Vec<String>>() {
            return Ok(Data::Paths(v));
        }
        let reader: PyRecordBatchReader = obj.extract()?;
        let (batches, schema) = reader.into_table()?.into_inner();
        Ok(Data::Frame {
            label: label.to_string(),
            schema,
            batches,
        })
    }

    /// The names the findings document and the baseline record as inputs.
    pub fn names(&self) -> Vec<String> {
        match self {
            Data::Paths(p) => p.clone(),
            Data::Frame { label, .. } => vec![label.clone()],
        }
    }
}

/// Reading options (`map=`, `ts_unit=`, `format=`, `strict=`, `threads=`; `stitch`: one-way
/// router records stitched into biflows, as `analyze`, `detect` and `baseline` read).
#[derive(FromPyObject, Clone, Default)]
#[pyo3(from_item_all)]
pub struct ReadArgs {
    map: Vec<String>,
    ts_unit: Option<String>,
    format: Option<String>,
    strict: bool,
    threads: usize,
    stitch: bool,
}

impl ReadArgs {
    /// Validated read options, counting progress into `ctl`.
    pub fn options(&self, ctl: &Ctl) -> Result<ReadOptions> {
        let format = match &self.format {
            Some(f) => Some(Format::parse(f).ok_or_else(|| {
                config(format!(
                    "unknown format '{f}'; use one of {}",
                    Format::NAMES.join(", ")
                ))
            })?),
            None => None,
        };
        let ts_unit = match &self.ts_unit {
            Some(u) => Some(
                TsUnit::parse(u)
                    .ok_or_else(|| config(format!("unknown unit '{u}'; use s, ms, us or ns")))?,
            ),
            None => None,
        };
        Ok(ReadOptions {
            format,
            ts_unit,
            mapping: ColumnMap::parse(&self.map)?,
            strict: self.strict,
            threads: self.threads,
            stitch: self.stitch,
            progress: ctl.done.clone(),
            ..ReadOptions::default()
        })
    }
}

/// A sink that keeps batches and stops the scan once the call is interrupted.
struct Collect<'a> {
    ctl: &'a Ctl,
    batches: Vec<(usize, RecordBatch)>,
}

impl FlowSink for Collect<'_> {
    fn push(&mut self, unit: usize, batch: RecordBatch) -> Result<()> {
        self.ctl.check()?;
        self.batches.push((unit, batch));
        Ok(())
    }
}

/// Reads `data` into canonical batches (input order), as stage `stage` of `ctl`.
pub fn read(
    ctl: &Ctl,
    stage: &str,
    data: &Data,
    opts: &ReadOptions,
) -> Result<(Vec<RecordBatch>, IngestReport)> {
    match data {
        Data::Paths(paths) => {
            let plan = ingest::prepare(paths, opts)?;
            ctl.stage(stage, plan.total_bytes);
            let make = || Collect {
                ctl,
                batches: Vec::new(),
            };
            let (sinks, report) = ingest::scan(&plan, opts, make)?;
            ctl.check()?;
            let mut all: Vec<(usize, RecordBatch)> =
                sinks.into_iter().flat_map(|s| s.batches).collect();
            all.sort_by_key(|(u, _)| *u);
            Ok((all.into_iter().map(|(_, b)| b).collect(), report))
        }
        Data::Frame {
            label,
            schema,
            batches,
        } => {
            let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
            ctl.stage(stage, rows);
            let out = ingest::frames::read_batches(label, schema, batches, opts)?;
            ctl.check()?;
            Ok(out)
        }
    }
}

/// Internal networks from CIDR texts (none: RFC 1918 + RFC 4193).
pub fn nets(cidrs: &[String]) -> Result<InternalNets> {
    let parsed = cidrs
        .iter()
        .map(|c| Cidr::parse(c).map_err(|e| config(format!("internal: {e}"))))
        .collect::<Result<Vec<_>>>()?;
    Ok(InternalNets::new(parsed))
}

/// GeoIP/ASN databases (`geoip_db=`, `asn_db=`, `embedded_geo=`).
#[derive(FromPyObject, Clone, Default)]
#[pyo3(from_item_all)]
pub struct GeoArgs {
    geoip_db: Vec<String>,
    asn_db: Vec<String>,
    embedded_geo: bool,
}

impl GeoArgs {
    /// The layered database stack: user files first, then the embedded database.
    pub fn stack(&self) -> Result<Arc<flowhound_geo::GeoStack>> {
        let paths = |v: &[String]| v.iter().map(std::path::PathBuf::from).collect::<Vec<_>>();
        let stack = flowhound_geo::GeoStack::from_options(
            &paths(&self.geoip_db),
            &paths(&self.asn_db),
            self.embedded_geo,
        )?;
        Ok(Arc::new(stack))
    }
}

/// Resolver settings (`nameserver=`, `dns_cache=`, `dns_timeout_ms=`, `dns_deadline_secs=`).
#[derive(FromPyObject, Clone, Default)]
#[pyo3(from_item_all)]
pub struct DnsArgs {
    nameservers: Vec<String>,
    dns_cache: Option<String>,
    dns_timeout_ms: u64,
    dns_deadline_secs: u64,
}

impl DnsArgs {
    /// The resolver configuration.
    pub fn config(&self) -> Result<flowhound_dns::DnsConfig> {
        let nameservers = self
            .nameservers
            .iter()
            .map(|n| flowhound_dns::parse_nameserver(n).map_err(config))
            .collect::<Result<Vec<_>>>()?;
        Ok(flowhound_dns::DnsConfig {
            nameservers,
            cache_path: self.dns_cache.as_ref().map(Into::into),
            timeout: std::time::Duration::from_millis(self.dns_timeout_ms),
            deadline: Some(std::time::Duration::from_secs(self.dns_deadline_secs)),
            ..Default::default()
        })
    }

    /// PTR names of `ips` (IPv4-mapped integers), `None` where there is none; stops when `ctl` is
    /// interrupted.
    pub fn ptr_names(&self, ctl: &Ctl, ips: &[u128]) -> Result<Vec<Option<String>>> {
        let cfg = self.config()?;
        let rt = runtime()?;
        let (names, _) = ctl
            .block_on(&rt, flowhound_dns::ptr_names(&cfg, ips))?
            .map_err(config)?;
        Ok(names)
    }
}

/// A Tokio runtime for DNS and SQL.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().map_err(|e| flowhound::FlowError::Internal(e.to_string()))
}
