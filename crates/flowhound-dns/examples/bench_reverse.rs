//! Benchmark: 10,000 distinct PTR lookups against a local hickory-server on
//! 127.0.0.1 with the default configuration (concurrency 64).
//!
//! Run: `cargo run --release -p flowhound-dns --example bench_reverse`
//! (optional argument: number of rounds, each with a fresh resolver).

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use flowhound_dns::{DnsConfig, Resolver};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args().nth(1).map_or(Ok(3), |s| s.parse())?;
    let server = common::start(Duration::from_secs(5)).await;
    let ips: Vec<IpAddr> = (0..common::BULK)
        .map(|i| IpAddr::V4(common::bulk_ip(i)))
        .collect();
    for round in 1..=rounds {
        let resolver = Resolver::new(DnsConfig::with_nameservers(vec![server.addr]))?;
        let t0 = Instant::now();
        let results = resolver.reverse_many(&ips).await;
        let took = t0.elapsed();
        let correct = results
            .iter()
            .enumerate()
            .filter(|(i, (_, o))| o.first_data() == Some(common::bulk_name(*i as u32).as_str()))
            .count();
        println!(
            "round {round}: {} lookups in {:.3} s ({:.0}/s), {correct} correct, stats {:?}",
            ips.len(),
            took.as_secs_f64(),
            ips.len() as f64 / took.as_secs_f64(),
            resolver.stats()
        );
        let t1 = Instant::now();
        resolver.reverse_many(&ips).await;
        println!(
            "round {round}: same 10,000 from cache in {:.3} s",
            t1.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
