//! Resolver configuration ([`DnsConfig`]), the record types the tool queries
//! ([`RecordKind`]) and the `--nameserver IP[:PORT]` parser.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use hickory_resolver::proto::rr::RecordType;
use serde::{Deserialize, Serialize};

use crate::error::DnsError;

/// Default number of queries in flight in a batch.
pub const DEFAULT_CONCURRENCY: usize = 64;
/// Default per-query timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default number of retries after a failed attempt.
pub const DEFAULT_ATTEMPTS: usize = 1;
/// Default overall deadline of one batch (one `*_many` call).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);
/// Negative-cache TTL used when an NXDOMAIN/NODATA answer carries no SOA.
pub const DEFAULT_NEGATIVE_TTL: u32 = 300;
/// How long SERVFAIL/REFUSED answers are remembered (RFC 2308 §7 allows up to 5 minutes).
pub const DEFAULT_FAILURE_TTL: u32 = 30;

/// Largest accepted per-query timeout.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// Largest accepted batch deadline.
const MAX_DEADLINE: Duration = Duration::from_secs(30 * 24 * 3600);

/// How the resolver is set up. Build it with [`DnsConfig::default`] and
/// override fields; [`DnsConfig::validate`] is called by the resolver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsConfig {
    /// Servers to ask (`--nameserver`, repeatable). Empty: use /etc/resolv.conf.
    pub nameservers: Vec<SocketAddr>,
    /// Maximum number of queries in flight in a batch (default 64).
    pub concurrency: usize,
    /// Timeout of one query attempt (default 2 s).
    pub timeout: Duration,
    /// Retries after a failed attempt (default 1, so at most 2 attempts).
    pub attempts: usize,
    /// Overall budget of one batch call; `None` means no deadline (default 30 s).
    pub deadline: Option<Duration>,
    /// Optional JSON cache file kept between runs (`--dns-cache FILE`).
    pub cache_path: Option<PathBuf>,
    /// Negative TTL when the server sent no SOA (default 300 s).
    pub negative_ttl: u32,
    /// TTL for remembered SERVFAIL/REFUSED answers (default 30 s, 0 disables).
    pub failure_ttl: u32,
}

impl Default for DnsConfig {
    fn default() -> Self {
        Self {
            nameservers: Vec::new(),
            concurrency: DEFAULT_CONCURRENCY,
            timeout: DEFAULT_TIMEOUT,
            attempts: DEFAULT_ATTEMPTS,
            deadline: Some(DEFAULT_DEADLINE),
            cache_path: None,
            negative_ttl: DEFAULT_NEGATIVE_TTL,
            failure_ttl: DEFAULT_FAILURE_TTL,
        }
    }
}

impl DnsConfig {
    /// A default configuration that asks exactly `nameservers`.
    pub fn with_nameservers(nameservers: Vec<SocketAddr>) -> Self {
        Self {
            nameservers,
            ..Self::default()
        }
    }

    /// Checks that every value is usable.
    pub fn validate(&self) -> Result<(), DnsError> {
        let bad = |m: &str| Err(DnsError::InvalidConfig(m.to_string()));
        if self.concurrency == 0 {
            return bad("concurrency must be at least 1");
        }
        if self.timeout.is_zero() {
            return bad("timeout must be greater than zero");
        }
        if self.timeout > MAX_TIMEOUT {
            return bad("timeout must be at most one hour");
        }
        if self.deadline.is_some_and(|d| d > MAX_DEADLINE) {
            return bad("deadline must be at most 30 days");
        }
        if self.attempts > 10 {
            return bad("attempts must be at most 10");
        }
        if let Some(ns) = self.nameservers.iter().find(|ns| ns.port() == 0) {
            return bad(&format!("nameserver {ns} has port 0"));
        }
        Ok(())
    }
}

/// Parses a `--nameserver` value: `IP`, `IP:PORT` or `[IPv6]:PORT`
/// (port 53 when absent).
pub fn parse_nameserver(value: &str) -> Result<SocketAddr, DnsError> {
    let err = |reason: &str| DnsError::InvalidNameserver {
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = value.trim();
    let addr = if let Ok(ip) = trimmed.parse::<IpAddr>() {
        SocketAddr::new(ip, 53)
    } else {
        trimmed
            .parse::<SocketAddr>()
            .map_err(|_| err("expected IP, IP:PORT or [IPv6]:PORT"))?
    };
    if addr.port() == 0 {
        return Err(err("port 0 is not usable"));
    }
    Ok(addr)
}

/// The record types `flowhound dns` queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordKind {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Mail exchanger.
    Mx,
    /// Free text.
    Txt,
    /// Name server.
    Ns,
    /// Alias.
    Cname,
    /// Reverse pointer.
    Ptr,
}

impl RecordKind {
    /// All supported kinds.
    pub const ALL: [RecordKind; 7] = [
        Self::A,
        Self::Aaaa,
        Self::Mx,
        Self::Txt,
        Self::Ns,
        Self::Cname,
        Self::Ptr,
    ];

    /// The presentation name (`"AAAA"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Mx => "MX",
            Self::Txt => "TXT",
            Self::Ns => "NS",
            Self::Cname => "CNAME",
            Self::Ptr => "PTR",
        }
    }

    /// The hickory record type.
    pub fn record_type(self) -> RecordType {
        match self {
            Self::A => RecordType::A,
            Self::Aaaa => RecordType::AAAA,
            Self::Mx => RecordType::MX,
            Self::Txt => RecordType::TXT,
            Self::Ns => RecordType::NS,
            Self::Cname => RecordType::CNAME,
            Self::Ptr => RecordType::PTR,
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordKind {
    type Err = DnsError;

    /// Case-insensitive: `a`, `AAAA`, `mx`...
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| DnsError::UnsupportedType(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameserver_forms() {
        let v4: SocketAddr = "127.0.0.1:53".parse().unwrap();
        assert_eq!(parse_nameserver("127.0.0.1").unwrap(), v4);
        let p: SocketAddr = "127.0.0.1:5353".parse().unwrap();
        assert_eq!(parse_nameserver(" 127.0.0.1:5353 ").unwrap(), p);
        let v6: SocketAddr = "[::1]:53".parse().unwrap();
        assert_eq!(parse_nameserver("::1").unwrap(), v6);
        let v6p: SocketAddr = "[::1]:5300".parse().unwrap();
        assert_eq!(parse_nameserver("[::1]:5300").unwrap(), v6p);
    }

    #[test]
    fn nameserver_rejects_garbage() {
        for bad in ["", "dns.ua.pt", "1.2.3.4:0", "1.2.3.4:99999", "::1:53x"] {
            assert!(parse_nameserver(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn kinds_round_trip() {
        for k in RecordKind::ALL {
            assert_eq!(k.as_str().to_lowercase().parse::<RecordKind>().unwrap(), k);
            assert_eq!(k.record_type().to_string(), k.as_str());
        }
        assert!("SOA".parse::<RecordKind>().is_err());
    }

    #[test]
    fn validate_rejects_zero_values() {
        let mut c = DnsConfig::default();
        assert!(c.validate().is_ok());
        c.concurrency = 0;
        assert!(c.validate().is_err());
        for timeout in [Duration::ZERO, Duration::MAX] {
            let c = DnsConfig {
                timeout,
                ..DnsConfig::default()
            };
            assert!(c.validate().is_err());
        }
        let c = DnsConfig {
            deadline: Some(Duration::MAX),
            ..DnsConfig::default()
        };
        assert!(c.validate().is_err());
    }
}
