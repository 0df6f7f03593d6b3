//! `fh.dns.resolve` and `fh.dns.reverse`: the rows of `dns resolve --json` / `dns reverse --json`.

use crate::errors::config;
use crate::input::{runtime, DnsArgs};
use crate::run::long_call;
use flowhound::FlowError;
use flowhound_dns::{RecordKind, RunReport};
use pyo3::prelude::*;

fn rows_json(report: flowhound::Result<RunReport>) -> flowhound::Result<String> {
    let report = report?;
    serde_json::to_string(&report.rows).map_err(|e| FlowError::Internal(e.to_string()))
}

/// Forward lookups of `names` (record type `rtype`) as JSON rows.
#[pyfunction]
#[pyo3(signature = (names, rtype, dns, progress=None))]
pub fn dns_resolve(
    py: Python<'_>,
    names: Vec<String>,
    rtype: String,
    dns: DnsArgs,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    long_call(py, progress, move |ctl| {
        let kind: RecordKind = rtype.parse().map_err(config)?;
        let cfg = dns.config()?;
        ctl.stage("resolving", names.len() as u64);
        let report = ctl
            .block_on(&runtime()?, flowhound_dns::run_resolve(&cfg, &names, kind))?
            .map_err(config);
        rows_json(report)
    })
}

/// Reverse (PTR) lookups of `ips` as JSON rows.
#[pyfunction]
#[pyo3(signature = (ips, dns, progress=None))]
pub fn dns_reverse(
    py: Python<'_>,
    ips: Vec<String>,
    dns: DnsArgs,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    long_call(py, progress, move |ctl| {
        let parsed = ips
            .iter()
            .map(|s| {
                s.trim()
                    .parse::<std::net::IpAddr>()
                    .map_err(|_| config(format!("'{s}' is not an IP address")))
            })
            .collect::<flowhound::Result<Vec<_>>>()?;
        let cfg = dns.config()?;
        ctl.stage("resolving", parsed.len() as u64);
        let report = ctl
            .block_on(&runtime()?, flowhound_dns::run_reverse(&cfg, &parsed))?
            .map_err(config);
        rows_json(report)
    })
}
