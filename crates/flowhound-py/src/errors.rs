//! flowhound's errors as Python exceptions: `FlowhoundError` and its subclasses, carrying the CLI's texts
//! (file, row or line, column and the fix).

use flowhound::FlowError;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    flowhound,
    FlowhoundError,
    PyException,
    "Base class of every flowhound error; the message is the CLI's (file, row, column and the fix)."
);
create_exception!(
    flowhound,
    InputError,
    FlowhoundError,
    "Unreadable or invalid input: missing file, unknown format, missing column, wrong type, bad row."
);
create_exception!(
    flowhound,
    ConfigError,
    FlowhoundError,
    "Invalid settings: an argument, a config file, a CIDR, a detector or a nameserver."
);
create_exception!(
    flowhound,
    DatabaseError,
    FlowhoundError,
    "A GeoIP/ASN database (or a baseline or findings file) that cannot be used."
);
create_exception!(
    flowhound,
    QueryError,
    FlowhoundError,
    "A SQL query that failed (fh.sql)."
);
create_exception!(
    flowhound,
    OutputError,
    FlowhoundError,
    "An output file that cannot be written."
);

/// The Python exception of a flowhound error.
pub fn to_py(e: FlowError) -> PyErr {
    let msg = e.to_string();
    match e {
        FlowError::Config(_) => ConfigError::new_err(msg),
        FlowError::Geo(_) => DatabaseError::new_err(msg),
        FlowError::Query { .. } => QueryError::new_err(msg),
        FlowError::Output { .. } => OutputError::new_err(msg),
        FlowError::Internal(_) => FlowhoundError::new_err(msg),
        _ => InputError::new_err(msg),
    }
}

/// `?` for flowhound results in Python-facing code.
pub trait OrPyErr<T> {
    /// The value, or the error as its Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> OrPyErr<T> for flowhound::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// A settings error (`ConfigError`) from any message.
pub fn config(msg: impl std::fmt::Display) -> FlowError {
    FlowError::Config(msg.to_string())
}

/// Adds the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("FlowhoundError", py.get_type::<FlowhoundError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("DatabaseError", py.get_type::<DatabaseError>())?;
    m.add("QueryError", py.get_type::<QueryError>())?;
    m.add("OutputError", py.get_type::<OutputError>())?;
    Ok(())
}
