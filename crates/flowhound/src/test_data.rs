//! Generated data for unit tests.

use datafusion::arrow::record_batch::RecordBatch;

/// Generates `g` into a temporary directory and reads `file` (`normal.parquet`, `test.parquet`, ...)
/// back; the directory lives as long as the returned guard.
pub(crate) fn generated(
    g: &flowhound_gen::GenConfig,
    file: &str,
) -> (tempfile::TempDir, Vec<RecordBatch>) {
    let dir = tempfile::tempdir().unwrap();
    flowhound_gen::generate(g, dir.path(), &|_, _| {}).unwrap();
    let path = dir.path().join(file).to_string_lossy().to_string();
    let (read, _) = crate::ingest::read_all(&[path], &Default::default()).unwrap();
    (dir, read)
}
