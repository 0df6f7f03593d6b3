//! `HOST:PORT` addresses and `df://HOST:PORT` cluster URLs.

use crate::error::{ClusterError, Result};
use std::fmt;
use std::str::FromStr;

/// A host (name or IP literal; IPv6 in brackets when written) and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

const EXPECTED: &str = "HOST:PORT, e.g. 10.0.0.5:50050 or [fd00::5]:50050";
const EXPECTED_URL: &str = "df://HOST:PORT, e.g. df://10.0.0.5:50050";

impl FromStr for HostPort {
    type Err = ClusterError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: &str| ClusterError::BadAddress {
            input: s.to_string(),
            reason: reason.to_string(),
            expected: EXPECTED,
        };
        let (host, port) = s.rsplit_once(':').ok_or_else(|| bad("no port"))?;
        let host = match host.strip_prefix('[') {
            Some(h) => h.strip_suffix(']').ok_or_else(|| bad("unclosed '['"))?,
            None if host.contains(':') => return Err(bad("put an IPv6 address in brackets")),
            None => host,
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = port
            .parse::<u16>()
            .map_err(|_| bad("the port is not a number from 0 to 65535"))?;
        Ok(HostPort {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl HostPort {
    /// The host as an IP literal, for binding (Ballista's servers bind IP addresses, not names).
    pub fn ip(&self) -> Result<std::net::IpAddr> {
        self.host.parse().map_err(|_| ClusterError::BadAddress {
            input: self.to_string(),
            reason: "a listening address must be an IP address, not a name".into(),
            expected: "IP:PORT, e.g. 0.0.0.0:50050 or 10.0.0.5:50050",
        })
    }

    /// The same host with another port.
    pub fn with_port(&self, port: u16) -> HostPort {
        HostPort {
            host: self.host.clone(),
            port,
        }
    }
}

/// Parses `df://HOST:PORT` (a bare `HOST:PORT` is accepted too).
pub fn parse_cluster_url(url: &str) -> Result<HostPort> {
    let rest = match url.split_once("://") {
        Some(("df", rest)) => rest,
        Some((scheme, _)) => {
            return Err(ClusterError::BadAddress {
                input: url.to_string(),
                reason: format!("unknown scheme {scheme:?}"),
                expected: EXPECTED_URL,
            })
        }
        None => url,
    };
    rest.trim_end_matches('/').parse().map_err(|e| match e {
        ClusterError::BadAddress { reason, .. } => ClusterError::BadAddress {
            input: url.to_string(),
            reason,
            expected: EXPECTED_URL,
        },
        e => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_ipv4_ipv6_and_urls() {
        let hp: HostPort = "127.0.0.1:50050".parse().unwrap();
        assert_eq!((hp.host.as_str(), hp.port), ("127.0.0.1", 50050));
        let hp: HostPort = "[::1]:7".parse().unwrap();
        assert_eq!(
            (hp.host.as_str(), hp.to_string()),
            ("::1", "[::1]:7".into())
        );
        let hp = parse_cluster_url("df://sched.lan:50050/").unwrap();
        assert_eq!(hp.to_string(), "sched.lan:50050");
        assert_eq!(parse_cluster_url("sched:1").unwrap().port, 1);
    }

    #[test]
    fn rejects_what_is_not_an_address_and_says_why() {
        for (input, why) in [
            ("127.0.0.1", "no port"),
            ("::1:50050", "brackets"),
            (":50050", "no host"),
            ("host:99999", "0 to 65535"),
            ("http://h:1", "unknown scheme"),
        ] {
            let e = parse_cluster_url(input).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(input), "{input}: {e}");
        }
        let e = "sched.lan:1".parse::<HostPort>().unwrap().ip().unwrap_err();
        assert!(e.to_string().contains("must be an IP address"), "{e}");
    }
}
