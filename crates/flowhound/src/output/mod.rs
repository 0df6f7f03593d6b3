//! Writing results: atomic files (temp + rename), record batches as Parquet/CSV/JSON, and aligned
//! terminal tables.

pub mod atomic;
pub mod batches;
pub mod table;

pub use atomic::AtomicFile;
