//! One analysis run as a library call: the detectors of the config run over test flows against a
//! baseline, ranked into the findings document, optionally with the PTR names of the addresses they
//! name. The CLI (`detect`, `analyze`, `demo`) and the Python package share it.

use crate::detect::flows::Flows;
use crate::detect::{self as engine, DetectCtx};
use crate::error::Result;
use crate::findings::{format_ts, BaselineRef, Finding, FindingsDoc, InputSummary};
use crate::ingest::IngestReport;
use std::collections::HashMap;

/// Reverse DNS of many addresses (IPv4-mapped integers): the PTR name of each, `None` where there is none.
pub type ReverseNames<'a> = dyn Fn(&[u128]) -> Result<Vec<Option<String>>> + 'a;

/// Runs the detectors of `ctx.config` (`[analysis] detectors`) and ranks their findings into the
/// findings document; with `names`, adds the PTR names of the addresses they name ([`add_names`]).
pub fn findings_doc(
    ctx: &DetectCtx,
    input: InputSummary,
    bref: BaselineRef,
    names: Option<&ReverseNames>,
) -> Result<FindingsDoc> {
    let detectors = &ctx.config.analysis.detectors;
    let findings = engine::run(ctx, detectors)?;
    let mut doc = FindingsDoc::new(input, bref, detectors.clone(), findings);
    if let Some(names) = names {
        add_names(&mut doc.findings, names)?;
    }
    Ok(doc)
}

/// Adds the PTR name of every address named in the findings (each distinct address resolved once).
pub fn add_names(findings: &mut [Finding], names: &ReverseNames) -> Result<()> {
    let mut ips: Vec<String> = findings
        .iter()
        .flat_map(|f| f.enrichment.keys().cloned())
        .collect();
    ips.sort();
    ips.dedup();
    let parsed: Vec<(String, u128)> = ips
        .into_iter()
        .filter_map(|s| {
            s.parse::<std::net::IpAddr>()
                .ok()
                .map(|ip| (s, crate::ip::to_u128(ip)))
        })
        .collect();
    if parsed.is_empty() {
        return Ok(());
    }
    let addrs: Vec<u128> = parsed.iter().map(|(_, a)| *a).collect();
    let found = names(&addrs)?;
    let by_ip: HashMap<&str, &Option<String>> = parsed
        .iter()
        .map(|(s, _)| s.as_str())
        .zip(found.iter())
        .collect();
    for f in findings.iter_mut() {
        for (ip, info) in f.enrichment.iter_mut() {
            if let Some(Some(name)) = by_ip.get(ip.as_str()) {
                info.name = Some(name.clone());
            }
        }
    }
    Ok(())
}

/// What the findings document says of the test input: files, rows read and skipped, time span.
pub fn input_summary(inputs: &[String], report: &IngestReport, flows: &Flows) -> InputSummary {
    InputSummary {
        files: inputs.to_vec(),
        rows_read: report.files.iter().map(|f| f.rows_read).sum(),
        rows_skipped: report.bad_rows.count,
        first_seen: flows.ts.iter().min().map(|t| format_ts(*t)),
        last_seen: flows.ts.iter().max().map(|t| format_ts(*t)),
    }
}
