//! Memory sizes: `--memory-limit 4GiB`, the default share of RAM, and how many host shards an input
//! needs under a limit.

use crate::error::{FlowError, Result};

/// Bytes one flow of a shard costs while it is processed: its columns (`detect::Flows`, 75 bytes)
/// and routing key (8), gathered batch by batch (`shard::columns`, no whole-shard batch), one column
/// reordered at a time, and the detectors' (or the learning pass') working sets. Measured on 100M +
/// 100M generated flows under a 4 GiB limit: about 160 bytes per flow of the largest shard (8.4M
/// flows) above what was already held; 200 leaves room for detectors' spikes between samples.
pub const BYTES_PER_FLOW: u64 = 200;
/// Memory set aside for everything that is not flows: the baseline, the geo stack, the findings, the
/// allocator's slack.
pub const FIXED_BYTES: u64 = 384 << 20;
/// The smallest limit accepted: below it not even the fixed part fits.
pub const MIN_LIMIT_BYTES: u64 = 512 << 20;

/// Parses `4GiB`, `512MiB`, `2G`, `1.5GB`, `800M`, `1000000` (bytes). Binary and decimal units are
/// both powers of 1024, as memory is counted.
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || {
        FlowError::Config(format!(
            "memory size '{text}': write a number with a unit, e.g. 4GiB, 512MiB, 2G"
        ))
    };
    let value: f64 = num.parse().map_err(|_| bad())?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// `bytes` as `1.5 GiB`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// The machine's RAM from `/proc/meminfo` (`MemTotal`), if readable.
pub fn total_ram_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// This process's resident memory (`/proc/self/statm`), if readable.
pub fn resident_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Returns the allocator's free memory to the system (glibc keeps freed heap pages resident: after
/// the learning state or a shard is dropped, the resident size would otherwise stay at its high-water
/// mark, and what is held could not be read from it). No-op elsewhere.
pub fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The default limit: half of RAM (the other half for the page cache and other programs), 4 GiB when
/// RAM cannot be read.
pub fn default_limit_bytes() -> u64 {
    total_ram_bytes().map_or(4 << 30, |r| (r / 2).max(MIN_LIMIT_BYTES))
}

/// Checks a limit: at least [`MIN_LIMIT_BYTES`].
pub fn check_limit(bytes: u64) -> Result<u64> {
    if bytes < MIN_LIMIT_BYTES {
        return Err(FlowError::Config(format!(
            "memory limit {} is too small to make progress: use at least {}",
            format_size(bytes),
            format_size(MIN_LIMIT_BYTES)
        )));
    }
    Ok(bytes)
}

/// Flows one shard may hold under `limit_bytes`.
pub fn flows_per_shard(limit_bytes: u64) -> u64 {
    (limit_bytes.saturating_sub(FIXED_BYTES) / BYTES_PER_FLOW).max(1)
}

/// Host shards needed for about `flows` test flows under `limit_bytes`: 1 (in memory) when they fit,
/// else twice the bare minimum, since hosts are uneven and a shard cannot split a host.
pub fn shards_needed(flows: u64, limit_bytes: u64) -> usize {
    let per = flows_per_shard(limit_bytes);
    if flows <= per {
        return 1;
    }
    (flows.div_ceil(per) * 2).min(4096) as usize
}

/// The smallest limit under which one shard of `flows` flows fits.
pub fn limit_for(flows: u64) -> u64 {
    FIXED_BYTES + flows.saturating_mul(BYTES_PER_FLOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let table: [(&str, Option<u64>); 9] = [
            ("4GiB", Some(4 << 30)),
            ("512MiB", Some(512 << 20)),
            ("2G", Some(2 << 30)),
            ("1.5GB", Some(3 << 29)),
            ("800m", Some(800 << 20)),
            ("1000000", Some(1_000_000)),
            ("", None),
            ("4 parsecs", None),
            ("-1G", None),
        ];
        for (text, want) in table {
            assert_eq!(parse_size(text).ok(), want, "{text}");
        }
        assert_eq!(format_size(3 << 29), "1.5 GiB");
        assert_eq!(format_size(100), "100 B");
    }

    #[test]
    fn shard_counts() {
        let gib = 1u64 << 30;
        assert_eq!(shards_needed(1_000_000, 4 * gib), 1);
        let per = flows_per_shard(4 * gib);
        assert_eq!(shards_needed(per + 1, 4 * gib), 4);
        assert_eq!(shards_needed(10 * per, 4 * gib), 20);
        assert!(limit_for(per) <= 4 * gib);
        assert!(check_limit(100 << 20).is_err());
        assert!(check_limit(gib).is_ok());
    }
}
