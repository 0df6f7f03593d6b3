//! Benchmark: embedded load time and single-core lookups/s (embedded, legacy
//! `.dat`, `.mmdb`). Run in release:
//!
//! ```text
//! cargo run --release -p flowhound-geo --example geo_bench -- [FILE.dat|FILE.mmdb ...]
//! ```

use flowhound_geo::fhg::FhgDb;
use flowhound_geo::{open_path, GeoSource};
use std::hint::black_box;
use std::time::Instant;

const N: usize = 5_000_000;

fn random_v4(n: usize) -> Vec<u32> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 16) as u32
        })
        .collect()
}

/// CPU time of the calling thread, in seconds (wall time is meaningless on a
/// shared machine: other processes take the core).
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn rate(label: &str, n: usize, f: impl FnOnce() -> usize) {
    let (t, c) = (Instant::now(), cpu_seconds());
    let hits = f();
    let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    println!(
        "{label:<44} {:>7.2} M/s per CPU-second ({:>6.2} M/s wall; {hits} of {n} answered)",
        n as f64 / cpu / 1e6,
        n as f64 / wall / 1e6
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let image = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/flowhound-geo.fhg"
    ))?;
    let mut times = Vec::new();
    let mut db = None;
    for _ in 0..5 {
        let (t, c) = (Instant::now(), cpu_seconds());
        db = Some(FhgDb::from_bytes(&image, None)?);
        times.push(((cpu_seconds() - c) * 1e3, t.elapsed().as_secs_f64() * 1e3));
    }
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (cpu, wall) = times[2];
    println!("embedded image {} bytes; load (inflate + decode + index), median of 5: {cpu:.1} ms CPU, {wall:.1} ms wall", image.len());
    let db = db.ok_or("no db")?;
    let (t, c) = (Instant::now(), cpu_seconds());
    db.check_v6()?;
    let (cpu, wall) = ((cpu_seconds() - c) * 1e3, t.elapsed().as_secs_f64() * 1e3);
    println!("IPv6 section decode (on first IPv6 lookup): {cpu:.1} ms CPU, {wall:.1} ms wall");
    let ips = random_v4(N);
    // Warm-up pass, then measured passes.
    black_box(
        ips.iter()
            .filter(|&&ip| db.lookup_v4_fast(ip).0.is_some())
            .count(),
    );
    rate("embedded lookup_v4_fast (country+asn)", N, || {
        ips.iter()
            .filter(|&&ip| black_box(db.lookup_v4_fast(ip)).0.is_some())
            .count()
    });
    let mut sorted = ips.clone();
    sorted.sort_unstable();
    rate("embedded lookup_v4_fast, sorted addresses", N, || {
        sorted
            .iter()
            .filter(|&&ip| black_box(db.lookup_v4_fast(ip)).0.is_some())
            .count()
    });
    rate("embedded GeoSource::lookup_v4 (GeoInfo)", N, || {
        ips.iter()
            .filter(|&&ip| !black_box(db.lookup_v4(ip)).is_empty())
            .count()
    });
    let mut stack = flowhound_geo::GeoStack::new();
    stack.push_embedded()?;
    let mapped: Vec<u128> = ips
        .iter()
        .map(|&ip| 0xffff_0000_0000 | u128::from(ip))
        .collect();
    rate("GeoStack(embedded)::country_u128", N, || {
        mapped
            .iter()
            .filter(|&&ip| black_box(stack.country_u128(ip)).is_some())
            .count()
    });
    rate("GeoStack(embedded)::lookup_u128 (GeoInfo)", N, || {
        mapped
            .iter()
            .filter(|&&ip| !black_box(stack.lookup_u128(ip)).is_empty())
            .count()
    });
    for path in std::env::args().skip(1) {
        let src = open_path(path.as_ref())?;
        let n = N / 5;
        black_box(
            ips[..n]
                .iter()
                .filter(|&&ip| !src.lookup_v4(ip).is_empty())
                .count(),
        );
        rate(
            &format!("{} {}", src.info().kind.as_str(), short(&path)),
            n,
            || {
                ips[..n]
                    .iter()
                    .filter(|&&ip| !black_box(src.lookup_v4(ip)).is_empty())
                    .count()
            },
        );
    }
    Ok(())
}

fn short(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
