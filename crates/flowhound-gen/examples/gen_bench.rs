//! Throughput benchmark of the generator.
//!
//! `cargo run --release -p flowhound-gen --example gen_bench -- [TOTAL_ROWS] [OUT_DIR]`
//! (defaults: 10,000,000 rows split 70/25/5 % over normal/test/servers, into a
//! temporary directory). Run under `/usr/bin/time -v` for peak memory.

use flowhound_gen::{generate, GenConfig};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let total: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("flowhound-gen-bench"));
    let cfg = GenConfig {
        flows_normal: total * 70 / 100,
        flows_test: total * 25 / 100,
        flows_servers: total - total * 70 / 100 - total * 25 / 100,
        ..GenConfig::default()
    };
    let t = Instant::now();
    match generate(&cfg, &dir, &|_, _| {}) {
        Ok(s) => {
            let rows = s.rows.normal + s.rows.test + s.rows.servers;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{rows} rows in {secs:.2} s ({:.0} rows/s) into {}",
                rows as f64 / secs,
                dir.display()
            );
        }
        Err(e) => {
            eprintln!("generation failed: {e}");
            std::process::exit(1);
        }
    }
}
