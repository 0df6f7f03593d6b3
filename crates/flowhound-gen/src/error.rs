//! Typed errors of the generator.

use std::path::PathBuf;

/// Everything that can go wrong while generating a dataset.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// The configuration is inconsistent (bad subnet, too many clients, ...).
    #[error("invalid generator configuration: {0}")]
    Config(String),
    /// A country needed by the scenarios has no address range in the address book.
    #[error("address book has no usable range for {0}")]
    NoAddresses(String),
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Building an Arrow record batch failed.
    #[error("arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// Encoding Parquet failed.
    #[error("parquet error: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Serialising the ground truth failed.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    /// A worker thread panicked (a bug; reported instead of propagated).
    #[error("generator worker failed: {0}")]
    Worker(String),
    /// The caller asked the generator to stop ([`crate::generate_cancellable`]).
    #[error("generation interrupted")]
    Cancelled,
}

impl GenError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        GenError::Io {
            path: path.into(),
            source,
        }
    }
}
