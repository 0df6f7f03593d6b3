//! Positive and negative answer cache honouring TTLs, optionally persisted
//! to a JSON file between runs.
//!
//! Entries carry an absolute expiry (Unix seconds) so they survive a
//! restart. Answers are stored until their smallest TTL runs out; NXDOMAIN
//! and NODATA until the negative TTL (SOA minimum, RFC 2308); SERVFAIL and
//! REFUSED for a short configurable time. Timeouts are never cached. The
//! file is written atomically (temporary file + rename); an unreadable or
//! corrupt file is reported and ignored.

use std::collections::HashMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::DnsError;
use crate::outcome::Outcome;

/// Format version written in the cache file.
const FILE_VERSION: u32 = 1;
/// Upper bound on cached entries; new entries are dropped beyond it.
const MAX_ENTRIES: usize = 2_000_000;

/// One cached outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    /// Lower-case fully-qualified query name.
    name: String,
    /// Query type (`"PTR"`).
    #[serde(rename = "type")]
    rtype: String,
    /// Expiry, Unix seconds.
    expires: u64,
    outcome: Outcome,
}

/// On-disk layout.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    entries: Vec<Entry>,
}

/// Thread-safe TTL cache keyed by (name, type).
#[derive(Debug, Default)]
pub(crate) struct Cache {
    map: Mutex<HashMap<(String, String), Entry>>,
}

/// Current time in Unix seconds (0 if the clock is before 1970).
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Cache key: names compare case-insensitively.
fn key(name: &str, rtype: &str) -> (String, String) {
    (name.to_ascii_lowercase(), rtype.to_string())
}

impl Cache {
    /// Locks the map, recovering from a poisoned lock (the data stays valid).
    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of entries (expired ones included until evicted).
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// The cached outcome, with answer TTLs lowered to the remaining time.
    pub(crate) fn get(&self, name: &str, rtype: &str, now: u64) -> Option<Outcome> {
        let map = self.lock();
        let entry = map.get(&key(name, rtype))?;
        if entry.expires <= now {
            return None;
        }
        let remaining = u32::try_from(entry.expires - now).unwrap_or(u32::MAX);
        let mut outcome = entry.outcome.clone();
        if let Outcome::Answer(answers) = &mut outcome {
            answers
                .iter_mut()
                .for_each(|a| a.ttl = a.ttl.min(remaining));
        }
        Some(outcome)
    }

    /// Stores `outcome` for `ttl` seconds (nothing happens when `ttl` is 0).
    pub(crate) fn put(&self, name: &str, rtype: &str, outcome: Outcome, ttl: u32, now: u64) {
        if ttl == 0 {
            return;
        }
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            // Drop expired entries; if the cache is still mostly full, start
            // over rather than rescanning on every insert.
            map.retain(|_, e| e.expires > now);
            if map.len() >= MAX_ENTRIES / 10 * 9 {
                map.clear();
            }
        }
        let (name, rtype) = key(name, rtype);
        let entry = Entry {
            name: name.clone(),
            rtype: rtype.clone(),
            expires: now.saturating_add(u64::from(ttl)),
            outcome,
        };
        map.insert((name, rtype), entry);
    }

    /// Reads a cache file. A missing file gives an empty cache; an
    /// unreadable or corrupt one gives an empty cache and a warning.
    pub(crate) fn load(path: &Path, now: u64) -> (Self, Option<String>) {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Self::default(), None),
            Err(e) => return (Self::default(), Some(load_warning(path, &e))),
        };
        match serde_json::from_str::<CacheFile>(&text) {
            Ok(file) if file.version == FILE_VERSION => {
                (Self::from_entries(file.entries, now), None)
            }
            Ok(file) => {
                let why = format!("unsupported version {}", file.version);
                (Self::default(), Some(load_warning(path, &why)))
            }
            Err(e) => (Self::default(), Some(load_warning(path, &e))),
        }
    }

    /// Builds a cache from file entries, dropping expired ones.
    fn from_entries(entries: Vec<Entry>, now: u64) -> Self {
        let map = entries
            .into_iter()
            .filter(|e| e.expires > now)
            .map(|e| (key(&e.name, &e.rtype), e))
            .collect();
        Self {
            map: Mutex::new(map),
        }
    }

    /// Writes the live entries to `path` atomically (temporary file in the
    /// same directory, then rename).
    pub(crate) fn save(&self, path: &Path, now: u64) -> Result<(), DnsError> {
        let entries: Vec<Entry> = self
            .lock()
            .values()
            .filter(|e| e.expires > now)
            .cloned()
            .collect();
        let file = CacheFile {
            version: FILE_VERSION,
            entries,
        };
        let wrap = |source| DnsError::CacheWrite {
            path: path.to_path_buf(),
            source,
        };
        let json = serde_json::to_vec(&file).map_err(|e| wrap(std::io::Error::other(e)))?;
        write_atomically(path, &json).map_err(wrap)
    }
}

/// The warning printed for an unusable cache file.
fn load_warning(path: &Path, why: &dyn std::fmt::Display) -> String {
    format!("ignoring DNS cache {}: {why}", path.display())
}

/// Writes `bytes` to a temporary sibling of `path`, syncs it, renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `<path>.<pid>.tmp` next to `path`.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Answer;

    fn ptr(ttl: u32) -> Outcome {
        Outcome::Answer(vec![Answer {
            rtype: "PTR".into(),
            data: "dns.ua.pt.".into(),
            ttl,
            valid: true,
        }])
    }

    #[test]
    fn ttl_is_honoured() {
        let c = Cache::default();
        c.put("X.example.", "A", Outcome::NxDomain, 10, 1000);
        assert_eq!(c.get("x.example.", "A", 1009), Some(Outcome::NxDomain));
        assert_eq!(c.get("x.example.", "A", 1010), None);
        assert_eq!(c.get("x.example.", "AAAA", 1000), None);
        c.put("zero.example.", "A", Outcome::NxDomain, 0, 1000);
        assert_eq!(c.get("zero.example.", "A", 1000), None);
    }

    #[test]
    fn remaining_ttl_reported() {
        let c = Cache::default();
        c.put("r.", "PTR", ptr(300), 300, 1000);
        assert_eq!(c.get("r.", "PTR", 1100), Some(ptr(200)));
    }

    #[test]
    fn file_round_trip_drops_expired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        let c = Cache::default();
        c.put("live.", "PTR", ptr(300), 300, 1000);
        c.put("dead.", "PTR", ptr(5), 5, 1000);
        c.save(&path, 1001).unwrap();
        let (back, warn) = Cache::load(&path, 1010);
        assert!(warn.is_none());
        assert_eq!(back.len(), 1);
        assert_eq!(back.get("live.", "PTR", 1010), Some(ptr(290)));
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "temporary file left behind");
    }

    #[test]
    fn corrupt_or_missing_file_is_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        let (c, warn) = Cache::load(&path, 0);
        assert!(warn.is_none() && c.len() == 0);
        fs::write(&path, b"{\"version\":1,\"entries\":[{trunc").unwrap();
        let (c, warn) = Cache::load(&path, 0);
        assert!(warn.unwrap().contains("ignoring DNS cache"));
        assert_eq!(c.len(), 0);
        fs::write(&path, b"{\"version\":99,\"entries\":[]}").unwrap();
        assert!(Cache::load(&path, 0).1.unwrap().contains("version 99"));
    }

    #[test]
    fn save_to_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/cache.json");
        assert!(matches!(
            Cache::default().save(&path, 0),
            Err(DnsError::CacheWrite { .. })
        ));
    }
}
