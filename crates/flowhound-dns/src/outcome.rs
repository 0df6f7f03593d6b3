//! What one query produced: an [`Outcome`] holding [`Answer`]s or the kind of
//! failure. Lookups never return `Err`; a failed lookup is a value.

use serde::{Deserialize, Serialize};

/// One answer record, in presentation form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Record type as sent by the server (`"PTR"`, `"CNAME"` in a chain...).
    #[serde(rename = "type")]
    pub rtype: String,
    /// Exact data: an address, a name (`dns.ua.pt.`), `PREF NAME` for MX,
    /// the concatenated strings for TXT. May contain hostile bytes: print it
    /// with [`sanitize_for_terminal`](crate::sanitize_for_terminal).
    pub data: String,
    /// TTL in seconds, as received (or remaining, when served from cache).
    pub ttl: u32,
    /// False when a name-valued record (PTR, CNAME, NS, MX) is not a valid
    /// host name, or a TXT record holds control characters.
    pub valid: bool,
}

/// The result of one lookup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    /// The server answered with records (never empty).
    Answer(Vec<Answer>),
    /// The name exists but has no record of this type.
    NoData,
    /// The name does not exist.
    NxDomain,
    /// The server answered SERVFAIL.
    ServFail,
    /// The server answered REFUSED.
    Refused,
    /// No answer within the per-query timeout and retries.
    Timeout,
    /// Not started or not finished before the batch deadline.
    DeadlineExceeded,
    /// The query name is not a usable domain name (reason attached).
    InvalidName(String),
    /// Any other failure (other response codes, transport errors).
    Error(String),
}

impl Outcome {
    /// Short status for tables and JSON: `ok`, `nodata`, `nxdomain`,
    /// `servfail`, `refused`, `timeout`, `deadline`, `invalid`, `error`.
    pub fn status(&self) -> &'static str {
        match self {
            Self::Answer(_) => "ok",
            Self::NoData => "nodata",
            Self::NxDomain => "nxdomain",
            Self::ServFail => "servfail",
            Self::Refused => "refused",
            Self::Timeout => "timeout",
            Self::DeadlineExceeded => "deadline",
            Self::InvalidName(_) => "invalid",
            Self::Error(_) => "error",
        }
    }

    /// The answers (empty unless [`Outcome::Answer`]).
    pub fn answers(&self) -> &[Answer] {
        match self {
            Self::Answer(a) => a,
            _ => &[],
        }
    }

    /// Smallest TTL of the answers, if any.
    pub fn ttl(&self) -> Option<u32> {
        self.answers().iter().map(|a| a.ttl).min()
    }

    /// True for a positive answer.
    pub fn is_answer(&self) -> bool {
        matches!(self, Self::Answer(_))
    }

    /// The first answer's data, e.g. the PTR name of a reverse lookup.
    pub fn first_data(&self) -> Option<&str> {
        self.answers().first().map(|a| a.data.as_str())
    }

    /// The failure detail of `InvalidName`/`Error`.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::InvalidName(d) | Self::Error(d) => Some(d),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_round_trip() {
        let a = Outcome::Answer(vec![Answer {
            rtype: "PTR".into(),
            data: "dns.ua.pt.".into(),
            ttl: 60,
            valid: true,
        }]);
        for o in [a, Outcome::NxDomain, Outcome::InvalidName("x".into())] {
            let j = serde_json::to_string(&o).unwrap();
            assert_eq!(serde_json::from_str::<Outcome>(&j).unwrap(), o);
        }
        assert_eq!(
            serde_json::to_string(&Outcome::NxDomain).unwrap(),
            r#"{"status":"nx_domain"}"#
        );
    }
}
