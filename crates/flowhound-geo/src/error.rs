//! Typed errors of the crate.
//!
//! Every error that concerns a database file names that file, so that the CLI can
//! print it as is ("`/x/GeoIP.dat` is a legacy GeoIP Country database, but an ASN
//! database was expected").

use std::path::PathBuf;

/// Errors returned by flowhound-geo.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The content is not any database format flowhound knows.
    #[error("{path}: unknown database format ({detail})")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// What was seen.
        detail: String,
    },
    /// The file has a known format but is damaged (truncated, offsets out of range, loops).
    #[error("{path}: corrupt {format} database: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The format that was recognised (e.g. "legacy GeoIP .dat").
        format: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The database is valid but of a kind flowhound does not read (e.g. GeoIP City legacy).
    #[error("{path}: unsupported database: {what}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What the database is.
        what: String,
    },
    /// The database answers a different question than the one it was opened for.
    #[error("{path} is {found}, but {expected} was expected")]
    WrongRole {
        /// The file.
        path: PathBuf,
        /// What the file is (e.g. "a legacy GeoIP Country database").
        found: String,
        /// What the option asked for (e.g. "an ASN database").
        expected: &'static str,
    },
    /// An error reported by the MaxMind DB reader.
    #[error("{path}: MaxMind DB error: {source}")]
    MaxMind {
        /// The file.
        path: PathBuf,
        /// The reader's error.
        #[source]
        source: maxminddb::MaxMindDbError,
    },
    /// A CIDR string could not be parsed.
    #[error("invalid CIDR {text:?}: {detail}")]
    InvalidCidr {
        /// The text given.
        text: String,
        /// What is wrong.
        detail: &'static str,
    },
    /// Input to the database converter is malformed.
    #[error("{source_name} line {line}: {detail}")]
    BadInput {
        /// The input's name (file name or package name).
        source_name: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// The embedded database was not compiled in (feature `embedded` off).
    #[error("the embedded database is not available (built without feature `embedded`)")]
    NoEmbedded,
}

impl GeoError {
    /// Builds a [`GeoError::Corrupt`].
    pub(crate) fn corrupt(
        path: &std::path::Path,
        format: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        GeoError::Corrupt {
            path: path.to_path_buf(),
            format,
            detail: detail.into(),
        }
    }

    /// Builds a [`GeoError::Io`].
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        GeoError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
