//! The PTR names of many addresses at once, for enrichment (the CLI's `--rdns`, Python's `rdns=True`).

use crate::{DnsConfig, DnsError, Resolver, RunReport};

/// PTR names of `ips` (IPv4-mapped integers), in order, `None` where there is none; the report holds the
/// resolver counters and warnings (no rows). The cache file, if any, is saved.
pub async fn ptr_names(
    cfg: &DnsConfig,
    ips: &[u128],
) -> Result<(Vec<Option<String>>, RunReport), DnsError> {
    let resolver = Resolver::new(cfg.clone())?;
    let results = resolver.reverse_many_u128(ips).await;
    let names = results
        .into_iter()
        .map(|(_, o)| o.first_data().map(str::to_string))
        .collect();
    Ok((names, crate::output::finish(&resolver, Vec::new())))
}
