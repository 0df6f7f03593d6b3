//! `fh.analyze` -> `Findings`, `fh.baseline` -> `Baseline`: the CLI's `analyze`, `baseline` and `report`.

use crate::errors::OrPyErr;
use crate::input::{nets, read, Data, DnsArgs, GeoArgs, ReadArgs};
use crate::run::{long_call, Ctl};
use datafusion::arrow::record_batch::RecordBatch;
use flowhound::analysis::{findings_doc, input_summary, ReverseNames};
use flowhound::baseline::{learn_cancellable, Baseline};
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::rows::enriched_rows;
use flowhound::detect::DetectCtx;
use flowhound::findings::{BaselineRef, FindingsDoc};
use flowhound::net::InternalNets;
use flowhound::report::{write_html, ReportData};
use flowhound_geo::GeoStack;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use std::path::PathBuf;
use std::sync::Arc;

/// A learned model of normal traffic (`flowhound baseline`).
#[pyclass(module = "flowhound._flowhound", name = "Baseline", frozen)]
pub struct PyBaseline(pub Arc<Baseline>);

#[pymethods]
impl PyBaseline {
    /// Writes the baseline as JSON (atomically), as `flowhound baseline -o PATH` does.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.0.save(&path).py()
    }

    /// Reads a baseline written by `save` or by `flowhound baseline -o`.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        Ok(PyBaseline(Arc::new(Baseline::load(&path).py()?)))
    }

    /// The baseline document as JSON text.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&*self.0)
            .map_err(|e| crate::errors::FlowhoundError::new_err(e.to_string()))
    }

    /// Flows the baseline was learned from.
    #[getter]
    fn flows(&self) -> u64 {
        self.0.source.flows
    }
}

/// The settings file (or the defaults), `detectors` overriding `[analysis] detectors`.
fn load_config(path: Option<&PathBuf>, detectors: &[String]) -> flowhound::Result<Config> {
    let mut c = match path {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if !detectors.is_empty() {
        Config::check_detector_list(detectors)?;
        c.analysis.detectors = detectors.to_vec();
    }
    Ok(c)
}

/// Everything an analysis run learns from, and the test flows it ran on (kept for reports and evidence).
struct Run {
    doc: FindingsDoc,
    test: Vec<RecordBatch>,
    flows: Flows,
    normal: Option<Flows>,
    baseline: Arc<Baseline>,
    nets: InternalNets,
    geo: Arc<GeoStack>,
}

/// The options of `fh.analyze` besides its inputs.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct AnalyzeArgs {
    config: Option<PathBuf>,
    detectors: Vec<String>,
    internal: Vec<String>,
    exclude: Vec<String>,
    rdns: bool,
}

fn learn_from(
    ctl: &Ctl,
    data: &Data,
    self_learned: bool,
    batches: Option<&[RecordBatch]>,
    env: (&Config, &InternalNets, &GeoStack, &ReadArgs),
) -> flowhound::Result<(Baseline, BaselineRef, Flows)> {
    let (config, nets, geo, read_args) = env;
    let flows = match batches {
        Some(b) => Flows::from_batches(b)?,
        None => {
            let (b, _) = read(ctl, "reading normal", data, &read_args.options(ctl)?)?;
            ctl.check()?;
            Flows::from_batches(&b)?
        }
    };
    ctl.check()?;
    ctl.stage("learning the baseline", 0);
    let b = learn_cancellable(
        &flows,
        nets,
        geo,
        &config.baseline,
        data.names(),
        self_learned,
        &ctl.cancel,
    )?;
    let bref = BaselineRef {
        source: if self_learned { "self" } else { "normal" }.into(),
        inputs: data.names(),
        flows: flows.len() as u64,
    };
    Ok((b, bref, flows))
}

fn run_analysis(
    ctl: &Ctl,
    test: Data,
    normal: Option<Data>,
    given: Option<Arc<Baseline>>,
    a: AnalyzeArgs,
    io: (ReadArgs, GeoArgs, DnsArgs),
) -> flowhound::Result<Run> {
    let (read_args, geo, dns) = io;
    let mut config = load_config(a.config.as_ref(), &a.detectors)?;
    config.baseline.exclude.extend(a.exclude.iter().cloned());
    let nets = nets(&a.internal)?;
    let stack = geo.stack()?;
    let env = (&config, &nets, stack.as_ref(), &read_args);
    let learned = match (&given, &normal) {
        (Some(_), _) => None,
        (None, Some(n)) => Some(learn_from(ctl, n, false, None, env)?),
        (None, None) => None,
    };
    let (tb, report) = read(ctl, "reading test", &test, &read_args.options(ctl)?)?;
    let (baseline, bref, normal_flows) = match (given, learned) {
        (Some(b), _) => {
            let bref = BaselineRef {
                source: "file".into(),
                inputs: b.source.files.clone(),
                flows: b.source.flows,
            };
            (b, bref, None)
        }
        (None, Some((b, r, f))) => (Arc::new(b), r, Some(f)),
        (None, None) => {
            let (b, r, _) = learn_from(ctl, &test, true, Some(&tb), env)?;
            (Arc::new(b), r, None)
        }
    };
    ctl.check()?;
    let flows = Flows::from_batches(&tb)?;
    ctl.check()?;
    ctl.stage("detecting", 0);
    let ctx =
        DetectCtx::new(&tb, &flows, &baseline, &stack, &nets, &config).cancellable(&ctl.cancel);
    let input = input_summary(&test.names(), &report, &flows);
    let names = move |ips: &[u128]| {
        ctl.stage("reverse DNS", 0);
        dns.ptr_names(ctl, ips)
    };
    let names = a.rdns.then_some(&names as &ReverseNames);
    let doc = findings_doc(&ctx, input, bref, names)?;
    Ok(Run {
        doc,
        test: tb,
        flows,
        normal: normal_flows,
        baseline,
        nets,
        geo: stack,
    })
}

/// Ranked, explained findings of one analysis run.
#[pyclass(module = "flowhound._flowhound", name = "Findings", frozen)]
pub struct PyFindings(Arc<Run>);

#[pymethods]
impl PyFindings {
    /// The findings document (`--json`) as JSON text.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.0.doc)
            .map_err(|e| crate::errors::FlowhoundError::new_err(e.to_string()))
    }

    /// The flows behind finding `id`, enriched (IPs as text), as a pyarrow Table.
    fn evidence_rows<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let f = self
            .0
            .doc
            .findings
            .iter()
            .find(|f| f.id == id)
            .ok_or_else(|| {
                let ids: Vec<&str> = self
                    .0
                    .doc
                    .findings
                    .iter()
                    .take(5)
                    .map(|f| f.id.as_str())
                    .collect();
                crate::errors::ConfigError::new_err(format!(
                    "no finding with id '{id}'; ids look like {}",
                    ids.join(", ")
                ))
            })?;
        let run = &self.0;
        let batch = enriched_rows(&run.test, &f.flow_rows, &run.geo, Vec::new())
            .and_then(|b| flowhound::sql::humanize(&b))
            .py()?;
        PyTable::try_new(vec![batch.clone()], batch.schema())?.into_pyarrow(py)
    }

    /// Writes the self-contained HTML report (charts, sortable findings, internal graph) to `path`.
    #[pyo3(signature = (path, title=None, progress=None))]
    fn report(
        &self,
        py: Python<'_>,
        path: PathBuf,
        title: Option<String>,
        progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let run = self.0.clone();
        long_call(py, progress, move |ctl| {
            ctl.stage("writing the report", 0);
            let mut data = ReportData::build(
                run.doc.clone(),
                &run.flows,
                run.normal.as_ref(),
                Some(&run.baseline),
                &run.nets,
                &run.geo,
            );
            if let Some(t) = title {
                data.title = t;
            }
            ctl.check()?;
            write_html(&path, &data)
        })
    }

    /// The baseline the findings were detected against.
    #[getter]
    fn baseline(&self) -> PyBaseline {
        PyBaseline(self.0.baseline.clone())
    }

    fn __len__(&self) -> usize {
        self.0.doc.findings.len()
    }
}

/// Runs `fh.analyze`: learn (or take) the baseline, detect in `test`, rank, explain.
#[pyfunction]
#[pyo3(signature = (test, test_label, normal, normal_label, baseline, args, read_args, geo, dns, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn analyze(
    py: Python<'_>,
    test: &Bound<'_, PyAny>,
    test_label: &str,
    normal: Option<&Bound<'_, PyAny>>,
    normal_label: &str,
    baseline: Option<PyRef<'_, PyBaseline>>,
    args: AnalyzeArgs,
    read_args: ReadArgs,
    geo: GeoArgs,
    dns: DnsArgs,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyFindings> {
    let test = Data::extract(test, test_label)?;
    let normal = normal.map(|n| Data::extract(n, normal_label)).transpose()?;
    let given = baseline.map(|b| b.0.clone());
    let run = long_call(py, progress, move |ctl| {
        run_analysis(ctl, test, normal, given, args, (read_args, geo, dns))
    })?;
    Ok(PyFindings(Arc::new(run)))
}

/// Runs `fh.baseline`: learn the model of normal traffic from `normal`.
#[pyfunction]
#[pyo3(signature = (normal, label, config_path, internal, exclude, read_args, geo, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn baseline(
    py: Python<'_>,
    normal: &Bound<'_, PyAny>,
    label: &str,
    config_path: Option<PathBuf>,
    internal: Vec<String>,
    exclude: Vec<String>,
    read_args: ReadArgs,
    geo: GeoArgs,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyBaseline> {
    let data = Data::extract(normal, label)?;
    let b = long_call(py, progress, move |ctl| {
        let mut config = load_config(config_path.as_ref(), &[])?;
        config.baseline.exclude.extend(exclude);
        let (nets, stack) = (nets(&internal)?, geo.stack()?);
        let env = (&config, &nets, stack.as_ref(), &read_args);
        let (b, _, _) = learn_from(ctl, &data, false, None, env)?;
        ctl.check()?;
        Ok(b)
    })?;
    Ok(PyBaseline(Arc::new(b)))
}
