//! `fh.profile` and `fh.outliers` / `fh.outlier_rows`: the documents of `profile --json` and
//! `outliers --json`, and the flagged rows.

use crate::input::{nets, read, Data, GeoArgs, ReadArgs};
use crate::run::{long_call, Ctl};
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::detect::flows::Flows;
use flowhound::detect::notebook::{evaluate, Flags, Method, NotebookParams, NotebookReport};
use flowhound::detect::rows::{enriched_rows, text_column};
use flowhound::ingest::FlowSink;
use flowhound::profile::ProfileSink;
use flowhound::FlowError;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;

/// The `profile --json` document of `data`, as JSON text.
#[pyfunction]
#[pyo3(signature = (data, label, read_args, internal, top, progress=None))]
pub fn profile(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    label: &str,
    read_args: ReadArgs,
    internal: Vec<String>,
    top: usize,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let data = Data::extract(data, label)?;
    long_call(py, progress, move |ctl| {
        let opts = read_args.options(ctl)?;
        let nets = nets(&internal)?;
        let p = match &data {
            Data::Paths(paths) => {
                let plan = flowhound::ingest::prepare(paths, &opts)?;
                ctl.stage("profiling", plan.total_bytes);
                flowhound::profile::run(&plan, &opts, nets, top)?
            }
            Data::Frame { .. } => {
                let (batches, report) = read(ctl, "profiling", &data, &opts)?;
                let mut sink = ProfileSink::new(nets);
                for b in batches {
                    sink.push(0, b)?;
                }
                sink.finish(top, report)
            }
        };
        serde_json::to_string(&p).map_err(|e| FlowError::Internal(e.to_string()))
    })
}

/// Thresholds of the notebook's methods (`k_std`, `iqr_factor`, `z_limit`), each 0 ..= 100.
fn params(k_std: f64, iqr_factor: f64, z_limit: f64) -> flowhound::Result<NotebookParams> {
    for (name, v) in [
        ("k_std", k_std),
        ("iqr_factor", iqr_factor),
        ("z_limit", z_limit),
    ] {
        if !(0.0..=100.0).contains(&v) {
            return Err(FlowError::Config(format!(
                "{name} {v} is out of range: must be 0 ..= 100"
            )));
        }
    }
    Ok(NotebookParams {
        k_std,
        iqr_factor,
        z_limit,
    })
}

fn methods(names: &[String]) -> flowhound::Result<Vec<Method>> {
    if names.is_empty() {
        return Err(FlowError::Config(
            "methods: give at least one of sigma, iqr, zscore-test".into(),
        ));
    }
    names.iter().map(|m| Method::parse(m)).collect()
}

/// What `outliers` computes: the report, and the test batches with each row's flags.
struct Outcome {
    report: NotebookReport,
    test: Vec<RecordBatch>,
    up: Vec<Flags>,
    down: Vec<Flags>,
}

fn run_outliers(
    ctl: &Ctl,
    normal: &Data,
    test: &Data,
    read_args: &ReadArgs,
    methods: &[Method],
    p: NotebookParams,
) -> flowhound::Result<Outcome> {
    let opts = read_args.options(ctl)?;
    let (nb, _) = read(ctl, "reading normal", normal, &opts)?;
    let (tb, _) = read(ctl, "reading test", test, &opts)?;
    ctl.stage("thresholds", 0);
    let (nf, tf) = (Flows::from_batches(&nb)?, Flows::from_batches(&tb)?);
    let (up_rep, up) = evaluate(&nf.up, &tf.up, methods, p);
    let (down_rep, down) = evaluate(&nf.down, &tf.down, methods, p);
    let report = NotebookReport {
        up_bytes: up_rep,
        down_bytes: down_rep,
    };
    Ok(Outcome {
        report,
        test: tb,
        up,
        down,
    })
}

fn flag_names(f: Flags) -> String {
    let names: Vec<&str> = [(1, "sigma"), (2, "iqr"), (4, "zscore-test")]
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
    names.join(",")
}

/// The flagged test rows, enriched (`dst_country`, `dst_asn`, `dst_org`), with `up_flags`/`down_flags`.
fn flagged_rows(o: &Outcome, geo: &GeoArgs) -> flowhound::Result<RecordBatch> {
    let rows: Vec<u32> = (0..o.up.len())
        .filter(|i| o.up[*i] != 0 || o.down[*i] != 0)
        .map(|i| i as u32)
        .collect();
    let names = |flags: &[Flags]| {
        rows.iter()
            .map(|i| flag_names(flags[*i as usize]))
            .collect()
    };
    let extra = vec![
        text_column("up_flags", names(&o.up)),
        text_column("down_flags", names(&o.down)),
    ];
    let batch = enriched_rows(&o.test, &rows, &*geo.stack()?, extra)?;
    flowhound::sql::humanize(&batch)
}

/// `outliers --json` as JSON text, and with `rows`, the flagged rows as a pyarrow Table.
#[pyfunction]
#[pyo3(signature = (normal, normal_label, test, test_label, read_args, method_names, k_std, iqr_factor, z_limit, rows, geo, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn outliers<'py>(
    py: Python<'py>,
    normal: &Bound<'py, PyAny>,
    normal_label: &str,
    test: &Bound<'py, PyAny>,
    test_label: &str,
    read_args: ReadArgs,
    method_names: Vec<String>,
    k_std: f64,
    iqr_factor: f64,
    z_limit: f64,
    rows: bool,
    geo: GeoArgs,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<(String, Option<Bound<'py, PyAny>>)> {
    let normal = Data::extract(normal, normal_label)?;
    let test = Data::extract(test, test_label)?;
    let (json, batch) = long_call(py, progress, move |ctl| {
        let methods = methods(&method_names)?;
        let p = params(k_std, iqr_factor, z_limit)?;
        let o = run_outliers(ctl, &normal, &test, &read_args, &methods, p)?;
        let json =
            serde_json::to_string(&o.report).map_err(|e| FlowError::Internal(e.to_string()))?;
        let batch = if rows {
            Some(flagged_rows(&o, &geo)?)
        } else {
            None
        };
        Ok((json, batch))
    })?;
    let table = match batch {
        Some(b) => Some(PyTable::try_new(vec![b.clone()], b.schema())?.into_pyarrow(py)?),
        None => None,
    };
    Ok((json, table))
}
