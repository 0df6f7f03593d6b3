//! Scratch directories that a test binary's `static` data held (never dropped) are left behind by
//! processes that ended: the next run removes them. Shared with `flowhound`'s tests by `#[path]`.

use std::path::Path;

/// Removes `PREFIX-PID` directories of the temp directory whose process is gone (Linux: no
/// `/proc/PID`; elsewhere nothing is removed).
pub fn remove_stale(prefix: &str) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(prefix)
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| {
            Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{p}")).exists()
        }) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
