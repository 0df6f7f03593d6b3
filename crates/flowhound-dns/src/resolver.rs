//! The asynchronous [`Resolver`]: hickory underneath, with flowhound's own
//! TTL cache, bounded concurrency, a per-batch deadline and statistics.
//!
//! Every lookup yields an [`Outcome`]; only construction can fail. Names are
//! always queried fully qualified (no search-list expansion), so one name
//! costs one query (plus retries).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as WireError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, Record};
use hickory_resolver::TokioResolver;
use tokio::time::Instant;

use crate::cache::{now_secs, Cache};
use crate::config::{DnsConfig, RecordKind};
use crate::error::DnsError;
use crate::names::{ip_from_u128, is_valid_hostname, render_bytes, render_name, reverse_name};
use crate::outcome::{Answer, Outcome};
use crate::stats::{Counters, DnsStats};

/// Extra time granted over `timeout × (attempts + 1)` before a query is
/// abandoned by flowhound itself.
const SLACK: Duration = Duration::from_millis(250);

/// A caching, bounded, deadline-aware DNS resolver. Cheap to share behind
/// `&`; all methods take `&self`.
pub struct Resolver {
    inner: TokioResolver,
    cfg: DnsConfig,
    cache: Cache,
    counters: Counters,
    cache_warning: Option<String>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Resolver {
    /// Builds a resolver. Loads `cfg.cache_path` when set (a corrupt file is
    /// ignored; see [`Resolver::cache_warning`]). Fails only on a bad
    /// configuration or an unusable /etc/resolv.conf (when no nameserver is given).
    pub fn new(cfg: DnsConfig) -> Result<Self, DnsError> {
        cfg.validate()?;
        let inner = build_inner(&cfg)?;
        let (cache, cache_warning) = match &cfg.cache_path {
            Some(path) => Cache::load(path, now_secs()),
            None => (Cache::default(), None),
        };
        Ok(Self {
            inner,
            cfg,
            cache,
            counters: Counters::default(),
            cache_warning,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &DnsConfig {
        &self.cfg
    }

    /// Why the cache file was ignored, if it was (print it as a warning).
    pub fn cache_warning(&self) -> Option<&str> {
        self.cache_warning.as_deref()
    }

    /// Counters since construction.
    pub fn stats(&self) -> DnsStats {
        self.counters.snapshot()
    }

    /// Number of cached entries.
    pub fn cache_len(&self) -> usize {
        self.cache.len()
    }

    /// Writes the cache to `cfg.cache_path` (no-op without one).
    pub fn save_cache(&self) -> Result<(), DnsError> {
        match &self.cfg.cache_path {
            Some(path) => self.cache.save(path, now_secs()),
            None => Ok(()),
        }
    }

    /// Looks up `name` (an IP address is accepted for PTR). Bounded by the
    /// per-query timeout and by the configured deadline, counted from now.
    pub async fn resolve(&self, name: &str, kind: RecordKind) -> Outcome {
        let deadline = self.batch_deadline();
        self.lookup(parse_query_name(name, kind), kind, deadline)
            .await
    }

    /// Reverse (PTR) lookup of one address.
    pub async fn reverse(&self, ip: IpAddr) -> Outcome {
        let deadline = self.batch_deadline();
        self.lookup(Ok(reverse_query(ip)), RecordKind::Ptr, deadline)
            .await
    }

    /// Reverse lookup of an address in flowhound's `u128` convention.
    pub async fn reverse_u128(&self, ip: u128) -> Outcome {
        self.reverse(ip_from_u128(ip)).await
    }

    /// Resolves many names with at most `concurrency` queries in flight and
    /// the batch deadline. Results are in input order; duplicates are
    /// queried once.
    pub async fn resolve_many(&self, names: &[String], kind: RecordKind) -> Vec<(String, Outcome)> {
        let (unique, index) = dedup(names.iter().map(|n| n.trim().to_string()));
        let queries = unique.iter().map(|n| parse_query_name(n, kind)).collect();
        let outcomes = self.run_batch(queries, kind).await;
        names.iter().cloned().zip(pick(&outcomes, index)).collect()
    }

    /// Reverse-resolves many addresses (see [`Resolver::resolve_many`]).
    pub async fn reverse_many(&self, ips: &[IpAddr]) -> Vec<(IpAddr, Outcome)> {
        let (unique, index) = dedup(ips.iter().map(|ip| ip.to_canonical()));
        let queries = unique.iter().map(|ip| Ok(reverse_query(*ip))).collect();
        let outcomes = self.run_batch(queries, RecordKind::Ptr).await;
        ips.iter().copied().zip(pick(&outcomes, index)).collect()
    }

    /// Reverse-resolves addresses in flowhound's `u128` convention.
    pub async fn reverse_many_u128(&self, ips: &[u128]) -> Vec<(u128, Outcome)> {
        let addrs: Vec<IpAddr> = ips.iter().map(|ip| ip_from_u128(*ip)).collect();
        let results = self.reverse_many(&addrs).await;
        ips.iter()
            .copied()
            .zip(results.into_iter().map(|(_, o)| o))
            .collect()
    }

    /// Deadline of a batch starting now.
    fn batch_deadline(&self) -> Option<Instant> {
        self.cfg
            .deadline
            .and_then(|d| Instant::now().checked_add(d))
    }

    /// Runs parsed queries with bounded concurrency; outcomes in input order.
    async fn run_batch(
        &self,
        queries: Vec<Result<Name, String>>,
        kind: RecordKind,
    ) -> Vec<Outcome> {
        let deadline = self.batch_deadline();
        let mut indexed: Vec<(usize, Outcome)> = stream::iter(queries.into_iter().enumerate())
            .map(|(i, q)| async move { (i, self.lookup(q, kind, deadline).await) })
            .buffer_unordered(self.cfg.concurrency)
            .collect()
            .await;
        indexed.sort_unstable_by_key(|(i, _)| *i);
        indexed.into_iter().map(|(_, o)| o).collect()
    }

    /// One lookup: cache, deadline check, network, classification, caching.
    async fn lookup(
        &self,
        query: Result<Name, String>,
        kind: RecordKind,
        deadline: Option<Instant>,
    ) -> Outcome {
        let name = match query {
            Ok(name) => name,
            Err(why) => return self.counters.record(Outcome::InvalidName(why), false),
        };
        let key = name.to_ascii();
        if let Some(hit) = self.cache.get(&key, kind.as_str(), now_secs()) {
            return self.counters.record(hit, true);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return self.counters.record(Outcome::DeadlineExceeded, false);
        }
        self.counters.query_sent();
        let (outcome, ttl) = self.query_network(name, kind, deadline).await;
        self.cache
            .put(&key, kind.as_str(), outcome.clone(), ttl, now_secs());
        self.counters.record(outcome, false)
    }

    /// Sends the query through hickory, bounded by the attempt budget and the deadline.
    async fn query_network(
        &self,
        name: Name,
        kind: RecordKind,
        deadline: Option<Instant>,
    ) -> (Outcome, u32) {
        let attempts = u32::try_from(self.cfg.attempts).unwrap_or(10) + 1;
        let span = self
            .cfg
            .timeout
            .saturating_mul(attempts)
            .saturating_add(SLACK);
        let budget = Instant::now().checked_add(span).unwrap_or_else(far_future);
        let limit = deadline.map_or(budget, |d| d.min(budget));
        match tokio::time::timeout_at(limit, self.inner.lookup(name, kind.record_type())).await {
            Ok(result) => classify(result, &self.cfg),
            Err(_) if deadline.is_some_and(|d| d <= budget) => (Outcome::DeadlineExceeded, 0),
            Err(_) => (Outcome::Timeout, 0),
        }
    }
}

/// A time no query budget reaches (one year ahead).
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(365 * 24 * 3600)
}

/// Builds the hickory resolver: explicit servers (UDP then TCP on the given
/// port) or the system configuration; hickory's own cache and hosts file off.
fn build_inner(cfg: &DnsConfig) -> Result<TokioResolver, DnsError> {
    let mut builder = if cfg.nameservers.is_empty() {
        TokioResolver::builder_tokio().map_err(|e| DnsError::SystemConfig(e.to_string()))?
    } else {
        let servers = cfg
            .nameservers
            .iter()
            .map(|sa| server_config(*sa))
            .collect();
        let config = ResolverConfig::from_name_servers(servers);
        TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
    };
    let opts = builder.options_mut();
    opts.timeout = cfg.timeout;
    opts.attempts = cfg.attempts;
    opts.cache_size = 0;
    opts.max_active_requests = cfg.concurrency.max(32);
    opts.use_hosts_file = ResolveHosts::Never;
    builder
        .build()
        .map_err(|e| DnsError::InvalidConfig(e.to_string()))
}

/// UDP + TCP to one server address.
fn server_config(addr: std::net::SocketAddr) -> NameServerConfig {
    let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
    ns.connections.iter_mut().for_each(|c| c.port = addr.port());
    ns
}

/// Turns a user-supplied name into a fully-qualified query name. For PTR,
/// an IP address is turned into its reverse name.
pub(crate) fn parse_query_name(raw: &str, kind: RecordKind) -> Result<Name, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("empty name".to_string());
    }
    if kind == RecordKind::Ptr {
        if let Ok(ip) = raw.parse::<IpAddr>() {
            return Ok(reverse_query(ip));
        }
    }
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("name contains control or space characters".to_string());
    }
    let mut name = Name::from_str_relaxed(raw).map_err(|e| e.to_string())?;
    name.set_fqdn(true);
    Ok(name)
}

/// The PTR query name of `ip` (always parseable).
fn reverse_query(ip: IpAddr) -> Name {
    Name::from_ascii(reverse_name(ip)).unwrap_or_default()
}

/// The outcome of each input, by its index into the unique queries.
fn pick(outcomes: &[Outcome], index: Vec<usize>) -> impl Iterator<Item = Outcome> + '_ {
    index.into_iter().map(|i| {
        outcomes
            .get(i)
            .cloned()
            .unwrap_or_else(|| Outcome::Error("internal: missing batch result".to_string()))
    })
}

/// Unique values in first-seen order, and each input's index into them.
fn dedup<T: Eq + std::hash::Hash + Clone>(items: impl Iterator<Item = T>) -> (Vec<T>, Vec<usize>) {
    let mut seen: HashMap<T, usize> = HashMap::new();
    let mut unique = Vec::new();
    let index = items
        .map(|item| {
            *seen.entry(item.clone()).or_insert_with(|| {
                unique.push(item);
                unique.len() - 1
            })
        })
        .collect();
    (unique, index)
}

/// Maps hickory's result to an outcome and the number of seconds to cache it.
fn classify(result: Result<Lookup, NetError>, cfg: &DnsConfig) -> (Outcome, u32) {
    match result {
        Ok(lookup) => classify_answers(lookup.answers(), cfg),
        Err(NetError::Dns(WireError::NoRecordsFound(nr))) => classify_no_records(&nr, cfg),
        Err(NetError::Dns(WireError::ResponseCode(code))) => classify_code(code, cfg),
        Err(NetError::Timeout) => (Outcome::Timeout, 0),
        Err(e) => (Outcome::Error(e.to_string()), 0),
    }
}

/// A successful response: answers (TTL = smallest) or NODATA.
fn classify_answers(records: &[Record], cfg: &DnsConfig) -> (Outcome, u32) {
    let answers: Vec<Answer> = records.iter().map(to_answer).collect();
    match answers.iter().map(|a| a.ttl).min() {
        Some(ttl) => (Outcome::Answer(answers), ttl),
        None => (Outcome::NoData, cfg.negative_ttl),
    }
}

/// NXDOMAIN or NODATA, cached for the SOA-derived negative TTL.
fn classify_no_records(nr: &NoRecords, cfg: &DnsConfig) -> (Outcome, u32) {
    let ttl = nr.negative_ttl.unwrap_or(cfg.negative_ttl);
    match nr.response_code {
        ResponseCode::NXDomain => (Outcome::NxDomain, ttl),
        _ => (Outcome::NoData, ttl),
    }
}

/// Error response codes.
fn classify_code(code: ResponseCode, cfg: &DnsConfig) -> (Outcome, u32) {
    match code {
        ResponseCode::ServFail => (Outcome::ServFail, cfg.failure_ttl),
        ResponseCode::Refused => (Outcome::Refused, cfg.failure_ttl),
        ResponseCode::NXDomain => (Outcome::NxDomain, cfg.negative_ttl),
        other => (Outcome::Error(format!("response code {other}")), 0),
    }
}

/// Presentation form of one record with its validity flag.
fn to_answer(record: &Record) -> Answer {
    let (data, valid) = match &record.data {
        RData::A(a) => (a.0.to_string(), true),
        RData::AAAA(a) => (a.0.to_string(), true),
        RData::PTR(n) => name_data(&n.0),
        RData::CNAME(n) => name_data(&n.0),
        RData::NS(n) => name_data(&n.0),
        RData::MX(mx) => mx_data(mx.preference, &mx.exchange),
        RData::TXT(txt) => text_data(txt.txt_data.iter().map(|s| &s[..])),
        other => text_data(std::iter::once(other.to_string().as_bytes())),
    };
    Answer {
        rtype: record.record_type().to_string(),
        data,
        ttl: record.ttl,
        valid,
    }
}

/// A name and whether it is a valid host name.
fn name_data(name: &Name) -> (String, bool) {
    let s = render_name(name);
    let valid = is_valid_hostname(&s);
    (s, valid)
}

/// `PREF NAME`; the null MX `0 .` (RFC 7505) counts as valid.
fn mx_data(preference: u16, exchange: &Name) -> (String, bool) {
    let (s, valid) = name_data(exchange);
    let valid = valid || exchange.is_root();
    (format!("{preference} {s}"), valid)
}

/// Concatenated character-strings; valid when free of control characters.
fn text_data<'a>(parts: impl Iterator<Item = &'a [u8]>) -> (String, bool) {
    let mut s = String::new();
    parts.for_each(|p| render_bytes(p, &mut s));
    let valid = !s.chars().any(char::is_control);
    (s, valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_names() {
        let n = parse_query_name("www.ua.pt", RecordKind::A).unwrap();
        assert_eq!(n.to_ascii(), "www.ua.pt.");
        let p = parse_query_name("193.136.172.20", RecordKind::Ptr).unwrap();
        assert_eq!(p.to_ascii(), "20.172.136.193.in-addr.arpa.");
        // an IP is just a (numeric) name for other types
        assert!(parse_query_name("1.2.3.4", RecordKind::A).is_ok());
        for bad in ["", "  ", "a b.pt", "a\u{1b}.pt", "a..b", &"x".repeat(64)] {
            assert!(parse_query_name(bad, RecordKind::A).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dedup_keeps_order() {
        let (u, i) = dedup(["b", "a", "b", "c", "a"].into_iter());
        assert_eq!(u, vec!["b", "a", "c"]);
        assert_eq!(i, vec![0, 1, 0, 2, 1]);
    }

    #[test]
    fn zero_concurrency_is_a_setup_error() {
        let cfg = DnsConfig {
            concurrency: 0,
            ..DnsConfig::with_nameservers(vec!["127.0.0.1:53".parse().unwrap()])
        };
        assert!(matches!(
            Resolver::new(cfg),
            Err(DnsError::InvalidConfig(_))
        ));
    }
}
