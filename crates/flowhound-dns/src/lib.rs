//! DNS forward and reverse resolution for flowhound.
//!
//! * [`Resolver`]: async (tokio) resolver over hickory with its own
//!   positive/negative TTL cache (optionally kept on disk), bounded
//!   concurrency, per-query timeout and retries, a per-batch deadline and
//!   [`DnsStats`]. Every lookup yields an [`Outcome`]; only setup fails.
//! * [`sanitize_for_terminal`]: answers are untrusted (a PTR name belongs to
//!   whoever owns the address block); data is kept exact for JSON and must
//!   be sanitised before printing.
//! * [`run_resolve`], [`run_reverse`], [`ResultRow`], [`render_table`]:
//!   what the `flowhound dns` subcommands call.
//!
//! ```no_run
//! # async fn demo() -> Result<(), flowhound_dns::DnsError> {
//! use flowhound_dns::{parse_nameserver, DnsConfig, RecordKind, Resolver};
//! let cfg = DnsConfig::with_nameservers(vec![parse_nameserver("127.0.0.1:5353")?]);
//! let resolver = Resolver::new(cfg)?;
//! let a = resolver.resolve("www.ua.pt", RecordKind::A).await;
//! let ptr = resolver.reverse("193.136.172.20".parse().unwrap()).await;
//! println!("{} {:?}", a.status(), ptr.first_data());
//! # Ok(()) }
//! ```

mod cache;
mod config;
mod error;
mod names;
mod outcome;
mod output;
mod ptr_names;
mod resolver;
mod sanitize;
mod stats;

pub use config::{
    parse_nameserver, DnsConfig, RecordKind, DEFAULT_ATTEMPTS, DEFAULT_CONCURRENCY,
    DEFAULT_DEADLINE, DEFAULT_FAILURE_TTL, DEFAULT_NEGATIVE_TTL, DEFAULT_TIMEOUT,
};
pub use error::DnsError;
pub use names::{ip_from_u128, is_valid_hostname, render_name, reverse_name};
pub use outcome::{Answer, Outcome};
pub use output::{render_table, run_resolve, run_reverse, ResultRow, RunReport};
pub use ptr_names::ptr_names;
pub use resolver::Resolver;
pub use sanitize::{sanitize_for_terminal, sanitize_with_limit, DEFAULT_DISPLAY_CHARS};
pub use stats::DnsStats;
