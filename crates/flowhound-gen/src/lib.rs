//! flowhound-gen: a simulator of a corporate network that writes flow logs
//! with known answers, and the evaluator that scores detector findings.
//!
//! * [`generate`] writes `normal.parquet`, `test.parquet`, `servers.parquet`
//!   (analysts' schema), `truth.json` and optionally label files into a
//!   directory, deterministically for a seed ([`GenConfig`]).
//! * [`evaluate`] scores a [`FindingsDoc`] against a [`Truth`] at host level.
//!
//! File formats and the scoring definitions are documented in `docs/generator.md`.
//!
//! ```no_run
//! use flowhound_gen::{evaluate, generate, FindingsDoc, GenConfig, Truth};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cfg = GenConfig { seed: 7, labels: true, ..GenConfig::default() };
//! let summary = generate(&cfg, "demo".as_ref(), &|done, total| eprint!("\r{done}/{total}"))?;
//! let truth = Truth::from_json(&std::fs::read_to_string("demo/truth.json")?)?;
//! assert_eq!(truth, summary.truth);
//! let findings = FindingsDoc::from_json(&std::fs::read_to_string("findings.json")?)?;
//! let eval = evaluate(&truth, &findings);
//! println!("{}", eval.render_text());
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod addrbook;
mod attacks;
mod config;
mod decoys;
mod dist;
mod dropper;
mod error;
mod eval;
mod flow;
mod generate;
mod infra;
mod ip;
mod model;
mod plan;
mod random;
mod scenarios;
mod spam;
mod truth;
mod writer;

pub use addrbook::{AddressBook, FALLBACK_RANGES};
pub use config::{DecoyKind, GenConfig, Scenario, TsFormat, DEFAULT_START};
pub use error::GenError;
pub use eval::{
    evaluate, evaluate_min_score, Evaluation, FalsePositive, Finding, FindingsDoc, KindScore,
    MissedHost, OtherKind, Totals,
};
pub use generate::{generate, generate_cancellable, generate_with_book, GenSummary, INTEL_FILE};
pub use ip::{canonical_host, dotted, v4_to_u128};
pub use truth::{
    DecoyTruth, NetworkTruth, Period, Periods, RowCounts, ScenarioTruth, Truth, TRUTH_FORMAT,
};
pub use writer::{flow_schema, label_schema, ts_type};

/// The address book used by [`generate`]: the real IPv4 ranges embedded in
/// `flowhound-geo` (so enrichment names the same country and AS), or, when that
/// database is not compiled in (its `embedded` feature off), the built-in
/// table of well-known allocations ([`AddressBook::fallback`]). Built once per
/// process.
pub fn default_address_book() -> &'static AddressBook {
    static BOOK: std::sync::OnceLock<AddressBook> = std::sync::OnceLock::new();
    BOOK.get_or_init(|| {
        let book = AddressBook::from_ranges(flowhound_geo::ranges_v4());
        if book.is_empty() {
            AddressBook::fallback()
        } else {
            book
        }
    })
}
