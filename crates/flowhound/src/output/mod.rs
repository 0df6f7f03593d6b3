//! Writing results: atomic files (temp + rename), record batches as Parquet/CSV/JSON, and aligned
//! terminal tables and terminal output of findings (colour, widths).

pub mod atomic;
pub mod batches;
pub mod table;
pub mod term;

pub use atomic::AtomicFile;
