//! Read-only database bytes: owned, memory-mapped or `'static` (embedded).

use crate::GeoError;
use std::path::Path;

/// The bytes of a database file.
pub(crate) enum Blob {
    /// Read into memory.
    Owned(Vec<u8>),
    /// Memory-mapped.
    Mapped(memmap2::Mmap),
}

impl Blob {
    /// Reads the whole file.
    pub(crate) fn read(path: &Path) -> Result<Blob, GeoError> {
        std::fs::read(path)
            .map(Blob::Owned)
            .map_err(|e| GeoError::io(path, e))
    }

    /// Maps the file read-only.
    pub(crate) fn map(path: &Path) -> Result<Blob, GeoError> {
        let file = std::fs::File::open(path).map_err(|e| GeoError::io(path, e))?;
        // SAFETY: the map is read-only; like every mmap reader we rely on the
        // database file not being truncated while mapped (all reads are bounds
        // checked against the length seen at map time).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| GeoError::io(path, e))?;
        Ok(Blob::Mapped(map))
    }
}

impl std::ops::Deref for Blob {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Blob::Owned(v) => v,
            Blob::Mapped(m) => m,
        }
    }
}

impl AsRef<[u8]> for Blob {
    fn as_ref(&self) -> &[u8] {
        self
    }
}
