//! Typed errors of the engine. Each carries the offending input and, where one exists, the fix.

use std::path::PathBuf;

/// Result alias for the engine.
pub type Result<T, E = FlowError> = std::result::Result<T, E>;

/// Where in a file a problem is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// A 1-based line of a text file (header lines included).
    Line(u64),
    /// A 1-based data row of a columnar file.
    Row(u64),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Row(n) => write!(f, "row {n}"),
        }
    }
}

/// Everything the engine can fail with.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// A path, directory or glob matched no readable file.
    #[error("{pattern}: no such file (nothing matched). Check the path, or quote globs such as 'conn.*.log.gz'")]
    NoInput {
        /// What the user gave.
        pattern: String,
    },
    /// An OS-level read/write failure.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file has no data at all.
    #[error("{path}: the file is empty (no flow records)")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The content is not any flow format flowhound knows.
    #[error("{path}: not a flow file flowhound recognises ({why}). Supported: Parquet, CSV with a header, Zeek conn.log (TSV or JSON), Argus binetflow, nfcapd, Suricata eve.json; force one with --format")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// What was seen.
        why: String,
    },
    /// A required column is absent.
    #[error("{path}: missing column '{column}' ({wanted}). Columns found: {found}. Map one with --map {column}=SOURCE_COLUMN")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// Canonical column that could not be filled.
        column: String,
        /// What the reader looked for.
        wanted: String,
        /// The columns the file has.
        found: String,
    },
    /// A column has a type that cannot hold the canonical value.
    #[error("{path}: column '{column}' has type {found}; {expected}")]
    WrongType {
        /// The file.
        path: PathBuf,
        /// The source column.
        column: String,
        /// Its type.
        found: String,
        /// What would work.
        expected: String,
    },
    /// The file is damaged (truncated Parquet, bad gzip, broken header).
    #[error("{path}: {why}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        why: String,
    },
    /// A bad row under `--strict`.
    #[error("{path}: {location}, column '{column}': {why} (value '{value}'). Remove --strict to skip such rows")]
    BadRow {
        /// The file.
        path: PathBuf,
        /// Row or line.
        location: Location,
        /// The source column.
        column: String,
        /// The offending value (shortened).
        value: String,
        /// Why it was rejected.
        why: String,
    },
    /// A GeoIP/ASN database could not be used.
    #[error(transparent)]
    Geo(#[from] flowhound_geo::GeoError),
    /// Invalid settings (flags or config).
    #[error("{0}")]
    Config(String),
    /// A query the user wrote failed.
    #[error("query failed: {message}{hint}")]
    Query {
        /// The engine's reason, in the user's terms.
        message: String,
        /// A suggestion, starting with a newline, or empty.
        hint: String,
    },
    /// Writing an output failed.
    #[error("cannot write {path}: {why}")]
    Output {
        /// The output file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// An internal engine failure (a bug): reported with the raw engine message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl FlowError {
    /// The process exit code documented in the README for this error class.
    pub fn exit_code(&self) -> u8 {
        match self {
            FlowError::Config(_) => 2,
            FlowError::NoInput { .. }
            | FlowError::Io { .. }
            | FlowError::Empty { .. }
            | FlowError::UnknownFormat { .. }
            | FlowError::MissingColumn { .. }
            | FlowError::WrongType { .. }
            | FlowError::Corrupt { .. }
            | FlowError::Geo(_) => 3,
            FlowError::BadRow { .. } => 4,
            FlowError::Query { .. } => 5,
            FlowError::Output { .. } => 6,
            FlowError::Internal(_) => 1,
        }
    }

    /// Shorthand for an I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FlowError::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<datafusion::error::DataFusionError> for FlowError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        crate::sql::translate_error(e)
    }
}

impl From<datafusion::arrow::error::ArrowError> for FlowError {
    fn from(e: datafusion::arrow::error::ArrowError) -> Self {
        FlowError::Internal(e.to_string())
    }
}
