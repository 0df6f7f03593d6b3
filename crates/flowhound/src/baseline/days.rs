//! Rolling baselines: a window of days, each with its learning [`State`] in a sidecar directory next
//! to the baseline file (`B.json.days/`), so a new day merges in without re-reading history and the
//! oldest days age out (`flowhound baseline update`, `docs/baseline.md`).
//!
//! Writes are ordered so that a crash at any point leaves a consistent baseline: new state files are
//! written atomically under names that include a hash of their content, then the baseline file
//! (atomically) that lists them, and only then are state files it no longer lists removed.

use super::accumulate::{day_of, DAY_US};
use super::state::State;
use super::Baseline;
use crate::error::{FlowError, Result};
use crate::output::atomic::AtomicFile;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Extension of the state files in the sidecar directory.
const STATE_EXT: &str = "fhstate";

/// A day of a rolling baseline (the `days` list of the baseline file).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayInfo {
    /// UTC date, `YYYY-MM-DD`.
    pub day: String,
    /// Flows learned for it.
    pub flows: u64,
    /// Internal hosts seen that day.
    pub hosts: u64,
    /// Its input files.
    pub files: Vec<String>,
    /// Its learning state: a file of the sidecar directory.
    pub state: String,
}

/// A day with its learning state.
pub struct Day {
    /// `YYYY-MM-DD`.
    pub label: String,
    /// Its state.
    pub state: State,
    /// Its state file, once written.
    file: Option<String>,
    /// Its entry in the day list when its state was left in its file ([`load_listed`]).
    listed: Option<DayInfo>,
}

impl Day {
    /// A day not yet written.
    pub fn new(label: String, state: State) -> Day {
        Day {
            label,
            state,
            file: None,
            listed: None,
        }
    }
}

/// The sidecar directory of a baseline file: `B.json` -> `B.json.days`.
pub fn sidecar_dir(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".days");
    path.with_file_name(name)
}

/// `YYYY-MM-DD` of a UTC day number (days since 1970-01-01).
pub fn label(day: i64) -> String {
    chrono::DateTime::from_timestamp_micros(day.saturating_mul(DAY_US))
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| day.to_string())
}

/// Checks a `YYYY-MM-DD` label.
pub fn parse_label(s: &str) -> Result<String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| {
            FlowError::Config(format!(
                "day '{s}': expected a date YYYY-MM-DD, e.g. 2026-03-01"
            ))
        })
}

/// The UTC day holding the most flow starts (the later one on a tie); `None` without flows.
pub fn main_day(ts: &[i64]) -> Option<String> {
    let mut counts: std::collections::BTreeMap<i64, u64> = Default::default();
    for t in ts {
        *counts.entry(day_of(*t)).or_default() += 1;
    }
    busiest_day(counts)
}

/// The label of the day with the most flows among (day, flows) counts (the later one on a tie).
pub fn busiest_day(counts: impl IntoIterator<Item = (i64, u64)>) -> Option<String> {
    counts
        .into_iter()
        .max_by_key(|(d, n)| (*n, *d))
        .map(|(d, _)| label(d))
}

fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Writes the state file of `day` if it has none yet; returns its name.
fn write_state(dir: &Path, day: &mut Day) -> Result<String> {
    if let Some(f) = &day.file {
        return Ok(f.clone());
    }
    let bytes = super::codec::encode(&day.state).map_err(|e| FlowError::Output {
        path: dir.to_path_buf(),
        why: e.to_string(),
    })?;
    let name = format!("{}-{:016x}.{STATE_EXT}", day.label, fnv64(&bytes));
    let path = dir.join(&name);
    if !path.exists() {
        let mut f = AtomicFile::create(&path)?;
        f.write_all(&bytes).map_err(|e| FlowError::Output {
            path: path.clone(),
            why: e.to_string(),
        })?;
        f.commit()?;
    }
    day.file = Some(name.clone());
    Ok(name)
}

/// Writes a rolling baseline of `days` to `path`: their states into the sidecar directory, then the
/// baseline derived from `base` (an empty state, [`State::empty`], carrying the windows, internal
/// networks and settings) merged with their union, then removes the state files no longer listed.
/// Returns the baseline written.
pub fn write(path: &Path, mut days: Vec<Day>, base: State) -> Result<Baseline> {
    days.sort_by(|a, b| a.label.cmp(&b.label));
    let dir = day_dir(path)?;
    let mut infos = Vec::with_capacity(days.len());
    for d in days.iter_mut() {
        infos.push(write_day(&dir, d)?);
    }
    finish(path, &dir, (base, days.into_iter().map(|d| d.state)), infos)
}

/// [`write`] for days too large to hold together (a baseline learned out of core): day `k` of
/// `labels` (oldest first) is built by `load(k)` when its state is written, and dropped before the
/// next; `union` is the union of their states, already derived part by part ([`State::compact`]).
pub fn write_each(
    path: &Path,
    labels: Vec<String>,
    mut load: impl FnMut(usize) -> Result<State>,
    (base, union): (State, State),
) -> Result<Baseline> {
    let dir = day_dir(path)?;
    let mut infos = Vec::with_capacity(labels.len());
    for (k, label) in labels.into_iter().enumerate() {
        infos.push(write_day(&dir, &mut Day::new(label, load(k)?))?);
    }
    finish(path, &dir, (base, [union]), infos)
}

/// The sidecar directory of `path`, created when missing; fails when `path`'s directory is missing.
fn day_dir(path: &Path) -> Result<PathBuf> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if parent.is_some_and(|p| !p.is_dir()) {
        return Err(FlowError::Output {
            path: path.to_path_buf(),
            why: format!(
                "directory {} does not exist",
                parent.unwrap_or(path).display()
            ),
        });
    }
    let dir = sidecar_dir(path);
    std::fs::create_dir(&dir)
        .or_else(|e| if dir.is_dir() { Ok(()) } else { Err(e) })
        .map_err(|e| FlowError::Output {
            path: dir.clone(),
            why: format!("cannot create the day-state directory: {e}"),
        })?;
    Ok(dir)
}

/// Writes `d`'s state file (unless it has one) and returns its entry in the day list.
fn write_day(dir: &Path, d: &mut Day) -> Result<DayInfo> {
    if let Some(info) = &d.listed {
        return Ok(info.clone());
    }
    let file = write_state(dir, d)?;
    Ok(DayInfo {
        day: d.label.clone(),
        flows: d.state.flows(),
        hosts: d.state.hosts() as u64,
        files: d.state.files().to_vec(),
        state: file,
    })
}

/// Derives the baseline of `base` (an empty state carrying the windows, internal networks and
/// settings) merged with `states`, lists `infos` as its days, saves it to `path` and removes the
/// state files of `dir` it does not list.
fn finish(
    path: &Path,
    dir: &Path,
    (base, states): (State, impl IntoIterator<Item = State>),
    infos: Vec<DayInfo>,
) -> Result<Baseline> {
    let settings = base.settings.clone();
    let mut all = base;
    for st in states {
        all.merge(st)?;
    }
    all.set_settings(&settings);
    let mut b = all.finish()?;
    b.days = infos;
    b.save(path)?;
    remove_unlisted(dir, &b.days);
    Ok(b)
}

/// Removes the state files of `dir` that `days` does not list.
fn remove_unlisted(dir: &Path, days: &[super::DayInfo]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(&format!(".{STATE_EXT}")) && !days.iter().any(|d| d.state == name) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Loads the day states of the rolling baseline `b` read from `path`.
pub fn load(path: &Path, b: &Baseline) -> Result<Vec<Day>> {
    let mut out = load_listed(path, b)?;
    for d in out.iter_mut() {
        if let Some(info) = d.listed.take() {
            d.state = read_day(path, &info)?;
        }
    }
    Ok(out)
}

/// The days of the rolling baseline `b` read from `path`, their states left in their files (each
/// read when needed: [`read_day`], [`write_by_parts`]).
pub fn load_listed(path: &Path, b: &Baseline) -> Result<Vec<Day>> {
    if b.days.is_empty() {
        return Err(FlowError::Config(format!(
            "{}: this baseline has no day state (written by a flowhound before rolling baselines, schema version {}, or learned in memory), so it cannot be updated; re-learn it once with `flowhound baseline DAY_FILES... -o {}`, then update it daily",
            path.display(),
            b.schema_version,
            path.display()
        )));
    }
    b.days
        .iter()
        .map(|d| {
            if d.state.contains('/') || d.state.contains('\\') || d.state.starts_with('.') {
                return Err(unreadable(
                    path,
                    d,
                    "not a file name of the day-state directory",
                ));
            }
            Ok(Day {
                label: d.day.clone(),
                state: State::default(),
                file: Some(d.state.clone()),
                listed: Some(d.clone()),
            })
        })
        .collect()
}

/// The state of day `d` of the rolling baseline at `path`, read from its file.
pub fn read_day(path: &Path, d: &DayInfo) -> Result<State> {
    let file = sidecar_dir(path).join(&d.state);
    let bytes = std::fs::read(&file).map_err(|e| unreadable(path, d, &e.to_string()))?;
    super::codec::decode(&bytes).map_err(|why| unreadable(path, d, &why))
}

/// The windows and internal networks day `d` was learned with, read from the head of its file.
fn read_day_grid(path: &Path, d: &DayInfo) -> Result<(super::state::Grid, Vec<String>)> {
    let file = sidecar_dir(path).join(&d.state);
    let f = std::fs::File::open(&file).map_err(|e| unreadable(path, d, &e.to_string()))?;
    super::codec::decode_grid(std::io::BufReader::new(f)).map_err(|why| unreadable(path, d, &why))
}

fn unreadable(path: &Path, d: &DayInfo, why: &str) -> FlowError {
    FlowError::Config(format!(
        "{}: day {} state is unreadable ({why}); re-learn the baseline with `flowhound baseline DAY_FILES... -o {}`",
        sidecar_dir(path).join(&d.state).display(),
        d.day,
        path.display()
    ))
}

/// [`write`] for days whose states are too large to hold together: the days not yet written are,
/// then their union is derived `parts` host parts at a time from the state files
/// ([`super::union::compacted_union`], spilling under `tmp`), each day read once.
pub fn write_by_parts(
    path: &Path,
    mut days: Vec<Day>,
    base: State,
    (parts, tmp): (usize, &Path),
) -> Result<Baseline> {
    days.sort_by(|a, b| a.label.cmp(&b.label));
    let dir = day_dir(path)?;
    let mut infos = Vec::with_capacity(days.len());
    for d in days.iter_mut() {
        infos.push(write_day(&dir, d)?);
        d.state = State::default();
    }
    let union =
        super::union::compacted_union(infos.len(), |k| read_day(path, &infos[k]), parts, tmp)?;
    finish(path, &dir, (base, [union]), infos)
}

/// What an update did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rolled {
    /// The day added.
    pub added: String,
    /// True when it replaced a kept day of the same date.
    pub replaced: bool,
    /// Days aged out (oldest first).
    pub aged_out: Vec<String>,
}

/// Adds `new` to `days`: a kept day of the same date is replaced (an update run twice for one day
/// counts it once); then only the newest `keep` days are kept. Fails, changing nothing, when the new
/// day would itself age out at once (older than every kept day of a full window).
pub fn roll(days: &mut Vec<Day>, new: Day, keep: usize) -> Result<Rolled> {
    let keep = keep.max(1);
    let mut labels: Vec<&str> = days.iter().map(|d| d.label.as_str()).collect();
    labels.retain(|l| *l != new.label);
    labels.push(&new.label);
    labels.sort_unstable();
    let first_kept = labels[labels.len().saturating_sub(keep)];
    if new.label.as_str() < first_kept {
        return Err(FlowError::Config(format!(
            "day {} is older than the {keep} days kept ({} to {}): it would age out at once; nothing changed (raise --keep-days to keep more days)",
            new.label,
            first_kept,
            labels.last().copied().unwrap_or_default()
        )));
    }
    let first_kept = first_kept.to_string();
    let before = days.len();
    days.retain(|d| d.label != new.label);
    let replaced = days.len() < before;
    let added = new.label.clone();
    days.push(new);
    days.sort_by(|a, b| a.label.cmp(&b.label));
    let aged_out: Vec<String> = days
        .iter()
        .filter(|d| d.label < first_kept)
        .map(|d| d.label.clone())
        .collect();
    days.retain(|d| d.label >= first_kept);
    Ok(Rolled {
        added,
        replaced,
        aged_out,
    })
}

/// Keeps only the newest `keep` of `days` (sorted by label); returns the labels aged out.
pub fn keep_newest(days: &mut Vec<Day>, keep: usize) -> Vec<String> {
    days.sort_by(|a, b| a.label.cmp(&b.label));
    let cut = days.len().saturating_sub(keep.max(1));
    days.drain(..cut).map(|d| d.label).collect()
}

/// Checks that a new day was learned with the windows and internal networks of the kept days (the
/// first kept day's are read from the head of its file alone: [`read_day_grid`]).
pub fn check_compatible(path: &Path, kept: &[Day], new: &State) -> Result<()> {
    let Some(old) = kept.first() else {
        return Ok(());
    };
    let (grid, nets) = match &old.listed {
        Some(info) => {
            let (g, n) = read_day_grid(path, info)?;
            (Some(g), n)
        }
        None => (old.state.grid, old.state.nets.clone()),
    };
    if grid == new.grid && nets == new.nets {
        return Ok(());
    }
    let g = |grid: Option<super::state::Grid>| {
        grid.map(|g| {
            format!(
                "window_secs {}, fanout_window_secs {}",
                g.window_secs, g.fanout_secs
            )
        })
        .unwrap_or_default()
    };
    Err(FlowError::Config(format!(
        "{}: was learned with {} and internal networks {}; this update uses {} and {}. Pass the --config and --internal it was learned with, or re-learn with `flowhound baseline`",
        path.display(),
        g(grid),
        nets.join(","),
        g(new.grid),
        new.nets.join(",")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(l: &str) -> Day {
        Day::new(l.into(), State::default())
    }

    fn labels(d: &[Day]) -> Vec<&str> {
        d.iter().map(|x| x.label.as_str()).collect()
    }

    #[test]
    fn labels_and_main_day() {
        assert_eq!(label(0), "1970-01-01");
        assert_eq!(label(20_000), "2024-10-04");
        assert_eq!(label(-1), "1969-12-31");
        assert!(parse_label("2026-02-30").is_err());
        assert_eq!(parse_label("2026-03-01").unwrap(), "2026-03-01");
        let ts = [DAY_US - 1, DAY_US, DAY_US + 5, 3];
        assert_eq!(main_day(&ts).as_deref(), Some("1970-01-02"));
        assert_eq!(main_day(&[0, DAY_US]).as_deref(), Some("1970-01-02"));
        assert_eq!(main_day(&[]), None);
        assert_eq!(
            sidecar_dir(Path::new("x/b.json")),
            Path::new("x/b.json.days")
        );
    }

    #[test]
    fn roll_adds_replaces_and_ages_out() {
        let mut d = vec![day("2026-03-01"), day("2026-03-02"), day("2026-03-03")];
        let r = roll(&mut d, day("2026-03-04"), 3).unwrap();
        assert_eq!(
            (r.replaced, r.aged_out.clone()),
            (false, vec!["2026-03-01".to_string()])
        );
        assert_eq!(labels(&d), ["2026-03-02", "2026-03-03", "2026-03-04"]);
        let r = roll(&mut d, day("2026-03-03"), 3).unwrap();
        assert!(r.replaced && r.aged_out.is_empty());
        assert_eq!(labels(&d), ["2026-03-02", "2026-03-03", "2026-03-04"]);
        let e = roll(&mut d, day("2026-03-01"), 3).unwrap_err().to_string();
        assert!(e.contains("age out at once"), "{e}");
        assert_eq!(d.len(), 3, "a refused day changes nothing");
        // a backfill within a window that is not full is kept
        let r = roll(&mut d, day("2026-03-01"), 7).unwrap();
        assert!(r.aged_out.is_empty());
        assert_eq!(d.len(), 4);
        assert_eq!(keep_newest(&mut d, 2), ["2026-03-01", "2026-03-02"]);
        assert_eq!(labels(&d), ["2026-03-03", "2026-03-04"]);
    }
}
