//! `flowhound` for Python: thin PyO3 bindings over the flowhound crates. The public API (docstrings,
//! frame conversions, progress bars) is the Python package in `python/flowhound`; this module
//! (`flowhound._flowhound`) takes paths or Arrow streams, runs the library off the GIL and returns
//! JSON text, pyarrow Tables or the `Findings`/`Baseline` objects.

mod analysis;
mod dns;
mod enrich;
mod errors;
mod gen;
mod input;
mod profile;
mod run;

use pyo3::prelude::*;

#[pymodule]
fn _flowhound(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<analysis::PyBaseline>()?;
    m.add_class::<analysis::PyFindings>()?;
    m.add_function(wrap_pyfunction!(profile::profile, m)?)?;
    m.add_function(wrap_pyfunction!(profile::outliers, m)?)?;
    m.add_function(wrap_pyfunction!(enrich::enrich, m)?)?;
    m.add_function(wrap_pyfunction!(enrich::sql, m)?)?;
    m.add_function(wrap_pyfunction!(enrich::geo_lookup, m)?)?;
    m.add_function(wrap_pyfunction!(enrich::geo_info, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::analyze, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::baseline, m)?)?;
    m.add_function(wrap_pyfunction!(dns::dns_resolve, m)?)?;
    m.add_function(wrap_pyfunction!(dns::dns_reverse, m)?)?;
    m.add_function(wrap_pyfunction!(gen::generate, m)?)?;
    m.add_function(wrap_pyfunction!(gen::evaluate, m)?)?;
    Ok(())
}
