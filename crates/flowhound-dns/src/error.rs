//! Typed errors for setup problems.
//!
//! Lookups never fail with an error: every query produces an
//! [`Outcome`](crate::Outcome). Only configuration and cache-file writing
//! problems are reported through [`DnsError`].

use std::path::PathBuf;

/// A setup problem: bad configuration, unreadable system configuration or a
/// cache file that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// A `--nameserver` value is not `IP`, `IP:PORT` or `[IPv6]:PORT`.
    #[error("invalid nameserver {value:?}: {reason}")]
    InvalidNameserver {
        /// The value as given by the user.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A configuration value is out of range (zero concurrency, zero timeout...).
    #[error("invalid DNS configuration: {0}")]
    InvalidConfig(String),
    /// A record type the tool does not query (only A, AAAA, MX, TXT, NS, CNAME, PTR).
    #[error("unsupported record type {0:?} (expected A, AAAA, MX, TXT, NS, CNAME or PTR)")]
    UnsupportedType(String),
    /// The system resolver configuration (/etc/resolv.conf) could not be used.
    #[error("cannot use the system DNS configuration: {0}")]
    SystemConfig(String),
    /// The on-disk cache could not be written.
    #[error("cannot write DNS cache {path}: {source}")]
    CacheWrite {
        /// The cache file.
        path: PathBuf,
        /// The underlying I/O or serialisation error.
        source: std::io::Error,
    },
}
