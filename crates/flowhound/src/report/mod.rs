//! The self-contained HTML report (`docs/report.md`).
//!
//! [`ReportData`] gathers everything the report shows: the findings document, the run settings,
//! traffic numbers of the normal and test flows, the learned thresholds, the internal communication
//! graph (edges absent from the baseline flagged `new`), one small chart per finding and the geo
//! attribution. [`render_html`] turns it into one HTML file with inline CSS and JS: the data travels
//! as JSON inside `<script type="application/json">` (every `<`, `>` and `&` escaped as `\u003c`...)
//! and the page builds its DOM with `textContent` only, so no data string can become markup.
//! A Content-Security-Policy of `default-src 'none'` forbids every network request.

pub mod build;
mod html;

pub use build::{ChartInputs, Traffic};
pub use html::{embed_json, escape_html, render_html};

use crate::error::Result;
use crate::findings::FindingsDoc;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// One histogram bin `[lo, hi)` with its count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    /// Lower edge.
    pub lo: f64,
    /// Upper edge (exclusive).
    pub hi: f64,
    /// Values in the bin.
    pub count: u64,
}

/// A keyed count: a port, protocol, country, AS or host with its flows and bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Count {
    /// The key as shown (`tcp/443`, `US`, `AS15169 Google LLC`, an address).
    pub key: String,
    /// Flows.
    pub flows: u64,
    /// Up + down bytes.
    pub bytes: u64,
}

/// A learned threshold drawn on the byte distributions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// `up_bytes` or `down_bytes`.
    pub metric: String,
    /// Which rule, e.g. `mean + 3 std`.
    pub rule: String,
    /// The limit, bytes per flow.
    pub value_bytes: f64,
}

/// An edge of the internal communication graph of the test flows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphEdge {
    /// Client.
    pub src: String,
    /// Server side.
    pub dst: String,
    /// Flows in the test data.
    pub flows: u64,
    /// True when the pair never talked in the baseline.
    pub new: bool,
}

/// The small chart under one finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FindingChart {
    /// Histogram of the seconds between consecutive flows (beacons).
    Intervals {
        /// Bins over seconds.
        bins: Vec<Bin>,
        /// Median interval, seconds.
        median_secs: f64,
    },
    /// Bytes the host sent per window, against its baseline (exfiltration, volume).
    Upload {
        /// The host.
        host: String,
        /// Window length, seconds.
        window_secs: u64,
        /// (window start, epoch seconds; bytes sent in the window), in time order.
        points: Vec<(i64, u64)>,
        /// Normal bytes per window (the host's or the population's centre).
        baseline_bytes: Option<f64>,
        /// The limit that was crossed, bytes per window.
        threshold_bytes: Option<f64>,
    },
    /// Members of a set (botnet) and who talked to whom among them.
    Members {
        /// Addresses; `hosts` of the finding first.
        nodes: Vec<String>,
        /// (from, to, flows).
        edges: Vec<(String, String, u64)>,
    },
}

/// Everything the report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ReportData {
    /// Page title.
    pub title: String,
    /// The findings document.
    pub doc: FindingsDoc,
    /// Run settings as (name, value), shown in the summary.
    pub settings: Vec<(String, String)>,
    /// Traffic numbers of the normal flows, when they were read.
    pub normal: Option<Traffic>,
    /// Traffic numbers of the test flows, when they were read.
    pub test: Option<Traffic>,
    /// Learned per-flow thresholds.
    pub thresholds: Vec<Threshold>,
    /// Internal communication graph of the test flows.
    pub graph: Vec<GraphEdge>,
    /// Charts by finding id.
    pub charts: BTreeMap<String, FindingChart>,
    /// Geo database attributions.
    pub attribution: Vec<String>,
}

impl ReportData {
    /// A report of a findings document alone (no traffic, graph or flow-based charts); charts are
    /// taken from the evidence `details` where the detectors put them (`docs/report.md`).
    pub fn from_doc(doc: FindingsDoc) -> Self {
        let charts = build::charts_from_details(&doc.findings);
        ReportData {
            title: "flowhound report".into(),
            doc,
            charts,
            ..Default::default()
        }
    }
}

/// Renders the report and writes it atomically to `path`.
pub fn write_html(path: &Path, data: &ReportData) -> Result<()> {
    crate::output::atomic::write_string(path, &render_html(data))
}
