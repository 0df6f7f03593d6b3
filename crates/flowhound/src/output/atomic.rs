//! Atomic output files: data goes to a temporary file beside the target, renamed over it only when
//! complete. A failed run never leaves a half-written report.

use crate::error::{FlowError, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file being written; [`AtomicFile::commit`] publishes it, dropping it uncommitted removes it.
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
    committed: bool,
}

/// An output error naming the file.
pub(crate) fn out_err(path: &Path, e: impl std::fmt::Display) -> FlowError {
    FlowError::Output {
        path: path.to_path_buf(),
        why: e.to_string(),
    }
}

impl AtomicFile {
    /// Starts writing `target` (its directory must exist).
    pub fn create(target: &Path) -> Result<Self> {
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(out_err(
                target,
                format!("directory {} does not exist", dir.display()),
            ));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "out".into());
        remove_stale_temps(dir, &name);
        let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let file = File::create(&temp).map_err(|e| out_err(target, e))?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            temp,
            writer: Some(BufWriter::new(file)),
            committed: false,
        })
    }

    /// The writer.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer.as_mut().expect("writer present until commit")
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes, syncs and renames over the target.
    pub fn commit(mut self) -> Result<()> {
        let mut w = self.writer.take().expect("writer present until commit");
        w.flush().map_err(|e| out_err(&self.target, e))?;
        let file = w
            .into_inner()
            .map_err(|e| out_err(&self.target, e.error()))?;
        file.sync_all().map_err(|e| out_err(&self.target, e))?;
        std::fs::rename(&self.temp, &self.target).map_err(|e| out_err(&self.target, e))?;
        self.committed = true;
        Ok(())
    }
}

/// Removes the temporary files of `name` left in `dir` by runs that were killed (`.NAME.PID.tmp` whose
/// process is gone). Only where `/proc` tells which processes live; best effort, never an error.
fn remove_stale_temps(dir: &Path, name: &str) {
    sweep_dead(dir, |file| stale_temp_pid(file, name));
}

/// Removes every temporary file `.NAME.PID.tmp` in `dir`, whatever its name, whose process is gone:
/// a run killed before it could clean up (a collector's next run sweeps its predecessor's window).
pub fn remove_dead_temps(dir: &Path) {
    sweep_dead(dir, |file| {
        let name = file.strip_prefix('.')?.strip_suffix(".tmp")?;
        let (name, _) = name.rsplit_once('.')?;
        stale_temp_pid(file, name)
    });
}

/// Removes the files of `dir` whose name gives a process id (`pid_of`) of a process that is gone.
fn sweep_dead(dir: &Path, pid_of: impl Fn(&str) -> Option<u32>) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Some(pid) = pid_of(&e.file_name().to_string_lossy()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The process id in a temporary file name `.NAME.PID.tmp` of `name`.
fn stale_temp_pid(file: &str, name: &str) -> Option<u32> {
    file.strip_prefix('.')?
        .strip_prefix(name)?
        .strip_prefix('.')?
        .strip_suffix(".tmp")?
        .parse()
        .ok()
}

impl Drop for AtomicFile {
    /// Removes the temporary file unless it was renamed over the target, including when the commit
    /// itself failed (flush, sync or rename).
    fn drop(&mut self) {
        if !self.committed {
            drop(self.writer.take());
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer().flush()
    }
}

/// Writes a whole string atomically.
pub fn write_string(target: &Path, text: &str) -> Result<()> {
    let mut f = AtomicFile::create(target)?;
    f.write_all(text.as_bytes())
        .map_err(|e| out_err(target, e))?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_leaves_nothing_and_commit_publishes() {
        let dir = std::env::temp_dir().join(format!("fh-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.txt");
        {
            let mut f = AtomicFile::create(&target).unwrap();
            f.write_all(b"half").unwrap();
        }
        assert!(!target.exists());
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "temp file removed"
        );
        write_string(&target, "whole").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "whole");
        assert!(AtomicFile::create(&dir.join("missing/x")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temp_files_of_dead_runs_are_removed_by_the_next_run() {
        assert_eq!(stale_temp_pid(".out.csv.123.tmp", "out.csv"), Some(123));
        assert_eq!(stale_temp_pid(".out.csv.x.tmp", "out.csv"), None);
        assert_eq!(stale_temp_pid(".other.123.tmp", "out.csv"), None);
        let dir = std::env::temp_dir().join(format!("fh-atomic-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // pid_max on Linux is at most 2^22: this process cannot exist
        let dead = dir.join(".out.txt.99999999.tmp");
        let other = dir.join(".notes.txt.99999999.tmp");
        for p in [&dead, &other] {
            std::fs::write(p, "x").unwrap();
        }
        write_string(&dir.join("out.txt"), "whole").unwrap();
        assert!(!dead.exists(), "a dead run's temp file is removed");
        assert!(other.exists(), "another output's temp file is left alone");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failed_commit_removes_the_temp_file() {
        let dir = std::env::temp_dir().join(format!("fh-atomic-fail-{}", std::process::id()));
        // the target is a non-empty directory: the final rename fails
        let target = dir.join("taken");
        std::fs::create_dir_all(target.join("inside")).unwrap();
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"data").unwrap();
        assert!(f.commit().is_err());
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["taken"], "no temp file left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dead_temps_of_any_name_are_swept_live_ones_kept() {
        let dir = std::env::temp_dir().join(format!("fh-atomic-dead-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let me = std::process::id();
        let names = [
            ".flows.20261204230000.parquet.999999999.tmp".to_string(), // no such process
            format!(".flows.20261204230500.parquet.{me}.tmp"),         // this process: live
            "flows.20261204230000.parquet".to_string(),                // a final file
            ".notes.txt".to_string(),                                  // not a temp file
        ];
        for n in &names {
            std::fs::write(dir.join(n), b"x").unwrap();
        }
        remove_dead_temps(&dir);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut want = names[1..].to_vec();
        want.sort();
        assert_eq!(left, want);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
