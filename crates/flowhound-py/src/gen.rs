//! `fh.generate` (a labeled corporate network with ground truth) and `fh.evaluate` (host-level
//! precision and recall of findings against it).

use crate::errors::config;
use crate::run::long_call;
use flowhound::FlowError;
use flowhound_gen::{evaluate as score, FindingsDoc, GenConfig, Truth};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

fn internal(e: impl std::fmt::Display) -> FlowError {
    FlowError::Internal(e.to_string())
}

/// The generator settings from a JSON object of overrides; an unknown key names the valid ones.
fn gen_config(overrides: &str) -> flowhound::Result<GenConfig> {
    let given: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(overrides).map_err(internal)?;
    let defaults = serde_json::to_value(GenConfig::default()).map_err(internal)?;
    if let Some(known) = defaults.as_object() {
        if let Some(k) = given.keys().find(|k| !known.contains_key(*k)) {
            let names: Vec<&str> = known.keys().map(String::as_str).collect();
            return Err(config(format!(
                "generate: unknown setting '{k}'; use one of {}",
                names.join(", ")
            )));
        }
    }
    serde_json::from_value(serde_json::Value::Object(given))
        .map_err(|e| config(format!("generate: {e}")))
}

/// Generates into `out` (created if missing); returns `{"files": [...], "truth": {...}}` as JSON.
#[pyfunction]
#[pyo3(signature = (out, overrides, progress=None))]
pub fn generate(
    py: Python<'_>,
    out: PathBuf,
    overrides: String,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    long_call(py, progress, move |ctl| {
        let cfg = gen_config(&overrides)?;
        std::fs::create_dir_all(&out).map_err(|e| FlowError::Output {
            path: out.clone(),
            why: e.to_string(),
        })?;
        ctl.stage("generating", 0);
        let report = |done: u64, total: u64| {
            ctl.total.store(total, Ordering::Relaxed);
            ctl.done.store(done, Ordering::Relaxed);
        };
        let book = flowhound_gen::default_address_book();
        let summary = flowhound_gen::generate_cancellable(&cfg, book, &out, &report, &ctl.cancel)
            .map_err(config)?;
        let files: Vec<String> = summary
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        let doc = serde_json::json!({ "files": files, "truth": summary.truth });
        Ok(doc.to_string())
    })
}

/// Scores a findings document (JSON text) against `truth.json`; the `evaluate --json` document.
#[pyfunction]
#[pyo3(signature = (truth, findings_json, progress=None))]
pub fn evaluate(
    py: Python<'_>,
    truth: PathBuf,
    findings_json: String,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    long_call(py, progress, move |ctl| {
        ctl.stage("evaluating", 0);
        let text = std::fs::read_to_string(&truth).map_err(|e| FlowError::io(&truth, e))?;
        let bad = |what: &str, e: serde_json::Error| FlowError::Corrupt {
            path: truth.clone(),
            why: format!(
                "not a {what} file: {e} (line {}, column {})",
                e.line(),
                e.column()
            ),
        };
        let t = Truth::from_json(&text).map_err(|e| bad("truth.json", e))?;
        let f = FindingsDoc::from_json(&findings_json)
            .map_err(|e| config(format!("not a findings document: {e}")))?;
        ctl.check()?;
        Ok(score(&t, &f).to_json())
    })
}
