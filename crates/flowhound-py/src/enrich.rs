//! `fh.enrich` (country, ASN and organisation of both ends, optionally PTR names), `fh.sql`, and
//! `fh.geo.lookup` / `fh.geo.info`.

use crate::errors::{config, OrPyErr};
use crate::input::{read, runtime, Data, DnsArgs, GeoArgs, ReadArgs};
use crate::run::long_call;
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::enrich::FactTable;
use flowhound::schema::flow_schema;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;
use std::net::IpAddr;

fn to_pyarrow<'py>(py: Python<'py>, batches: Vec<RecordBatch>) -> PyResult<Bound<'py, PyAny>> {
    let schema = batches
        .first()
        .map(|b| b.schema())
        .unwrap_or_else(|| std::sync::Arc::new(datafusion::arrow::datatypes::Schema::empty()));
    PyTable::try_new(batches, schema)?.into_pyarrow(py)
}

/// Only the columns enrichment added (for frames: the caller's rows stay as they were).
fn added_columns(b: &RecordBatch) -> flowhound::Result<RecordBatch> {
    let canon = flow_schema();
    let keep: Vec<usize> = (0..b.num_columns())
        .filter(|i| canon.field_with_name(b.schema().field(*i).name()).is_err())
        .collect();
    Ok(b.project(&keep)?)
}

/// Enriched flows as a pyarrow Table: for files, every canonical column (IPs as text) plus the added
/// ones; for a frame (read strictly, so rows stay aligned), only the added columns.
#[pyfunction]
#[pyo3(signature = (data, label, read_args, rdns, geo, dns, progress=None))]
#[allow(clippy::too_many_arguments)] // the Python call's arguments
pub fn enrich<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    label: &str,
    read_args: ReadArgs,
    rdns: bool,
    geo: GeoArgs,
    dns: DnsArgs,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let data = Data::extract(data, label)?;
    let frame = matches!(data, Data::Frame { .. });
    let out = long_call(py, progress, move |ctl| {
        let mut opts = read_args.options(ctl)?;
        opts.strict |= frame;
        let stack = geo.stack()?;
        let (flows, _) = read(ctl, "reading", &data, &opts)?;
        ctl.stage("looking up", 0);
        let mut table = FactTable::collect(&flows);
        ctl.check()?;
        table.lookup(&stack);
        ctl.check()?;
        let names = if rdns {
            ctl.stage("reverse DNS", 0);
            Some(dns.ptr_names(ctl, &table.ips)?)
        } else {
            None
        };
        let out = flowhound::enrich::enrich(&flows, &table, names.as_deref())?;
        ctl.check()?;
        out.iter()
            .map(|b| {
                if frame {
                    added_columns(b)
                } else {
                    flowhound::sql::humanize(b)
                }
            })
            .collect::<flowhound::Result<Vec<_>>>()
    })?;
    to_pyarrow(py, out)
}

/// Runs `query` over `data` registered as table `flows` (with the geo functions); a pyarrow Table.
#[pyfunction]
#[pyo3(signature = (query, data, label, read_args, geo, progress=None))]
pub fn sql<'py>(
    py: Python<'py>,
    query: String,
    data: &Bound<'py, PyAny>,
    label: &str,
    read_args: ReadArgs,
    geo: GeoArgs,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let data = Data::extract(data, label)?;
    let out = long_call(py, progress, move |ctl| {
        let opts = read_args.options(ctl)?;
        let ctx = flowhound::engine::session_with_geo(&Default::default(), Some(geo.stack()?));
        let rt = runtime()?;
        let files: Vec<std::path::PathBuf> = match &data {
            Data::Paths(p) if opts.format.is_none() => flowhound::ingest::input::expand(p)?
                .into_iter()
                .map(|f| f.path)
                .collect(),
            _ => Vec::new(),
        };
        let direct = !files.is_empty()
            && ctl.block_on(
                &rt,
                flowhound::sql::register_canonical_parquet(&ctx, &files),
            )??;
        if !direct {
            let (flows, _) = read(ctl, "reading", &data, &opts)?;
            flowhound::sql::register_flows(&ctx, flows)?;
        }
        ctl.stage("querying", 0);
        let batches = ctl.block_on(&rt, flowhound::sql::query(&ctx, &query))??;
        batches
            .iter()
            .map(flowhound::sql::humanize)
            .collect::<flowhound::Result<Vec<_>>>()
    })?;
    to_pyarrow(py, out)
}

/// `geo lookup --json`: one dict per address (ip, country, country_name, asn, org).
#[pyfunction]
pub fn geo_lookup<'py>(
    py: Python<'py>,
    ips: Vec<String>,
    geo: GeoArgs,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let stack = geo.stack().py()?;
    let mut rows = Vec::with_capacity(ips.len());
    for s in &ips {
        let ip: IpAddr = s
            .trim()
            .parse()
            .map_err(|_| config(format!("'{s}' is not an IP address")))
            .py()?;
        let g = stack.lookup(ip);
        let d = PyDict::new(py);
        d.set_item("ip", ip.to_string())?;
        d.set_item("country", g.country.map(|c| c.to_string()))?;
        d.set_item("country_name", g.country_name)?;
        d.set_item("asn", g.asn)?;
        d.set_item("org", g.org.map(|o| o.to_string()))?;
        rows.push(d);
    }
    Ok(rows)
}

/// `geo info`: the databases in use and their attributions.
#[pyfunction]
pub fn geo_info(py: Python<'_>, geo: GeoArgs) -> PyResult<Bound<'_, PyDict>> {
    let stack = geo.stack().py()?;
    let d = PyDict::new(py);
    let sources: Vec<String> = stack.sources().iter().map(|s| s.to_string()).collect();
    d.set_item("sources", sources)?;
    d.set_item("attribution", stack.attributions())?;
    Ok(d)
}
