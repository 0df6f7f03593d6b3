//! Lookup statistics: how many queries went out, came from the cache, and
//! how each lookup ended.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::outcome::Outcome;

/// A snapshot of the resolver's counters. Every lookup increments exactly
/// one of the outcome counters (`resolved` ... `other_errors`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DnsStats {
    /// Queries handed to the network (retries inside one query not counted).
    pub queries_sent: u64,
    /// Lookups answered from the cache (any outcome).
    pub from_cache: u64,
    /// Lookups with a positive answer.
    pub resolved: u64,
    /// NODATA outcomes.
    pub nodata: u64,
    /// NXDOMAIN outcomes.
    pub nxdomain: u64,
    /// SERVFAIL outcomes.
    pub servfail: u64,
    /// REFUSED outcomes.
    pub refused: u64,
    /// Per-query timeouts.
    pub timed_out: u64,
    /// Lookups cut by the batch deadline.
    pub deadline_exceeded: u64,
    /// Unusable query names.
    pub invalid: u64,
    /// Other failures.
    pub other_errors: u64,
}

impl DnsStats {
    /// All lookups that did not produce a positive answer.
    pub fn failed(&self) -> u64 {
        self.nodata
            + self.nxdomain
            + self.servfail
            + self.refused
            + self.timed_out
            + self.deadline_exceeded
            + self.invalid
            + self.other_errors
    }
}

/// Live atomic counters, in [`DnsStats`] field order.
#[derive(Debug, Default)]
pub(crate) struct Counters([AtomicU64; 11]);

/// Index of each counter.
const SENT: usize = 0;
const CACHE: usize = 1;

impl Counters {
    /// Counts one query sent.
    pub(crate) fn query_sent(&self) {
        self.0[SENT].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a finished lookup and hands the outcome back.
    pub(crate) fn record(&self, outcome: Outcome, from_cache: bool) -> Outcome {
        if from_cache {
            self.0[CACHE].fetch_add(1, Ordering::Relaxed);
        }
        self.0[slot(&outcome)].fetch_add(1, Ordering::Relaxed);
        outcome
    }

    /// Current values.
    pub(crate) fn snapshot(&self) -> DnsStats {
        let v = |i: usize| self.0[i].load(Ordering::Relaxed);
        DnsStats {
            queries_sent: v(SENT),
            from_cache: v(CACHE),
            resolved: v(2),
            nodata: v(3),
            nxdomain: v(4),
            servfail: v(5),
            refused: v(6),
            timed_out: v(7),
            deadline_exceeded: v(8),
            invalid: v(9),
            other_errors: v(10),
        }
    }
}

/// Counter index of an outcome.
fn slot(outcome: &Outcome) -> usize {
    match outcome {
        Outcome::Answer(_) => 2,
        Outcome::NoData => 3,
        Outcome::NxDomain => 4,
        Outcome::ServFail => 5,
        Outcome::Refused => 6,
        Outcome::Timeout => 7,
        Outcome::DeadlineExceeded => 8,
        Outcome::InvalidName(_) => 9,
        Outcome::Error(_) => 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_lands_in_its_counter() {
        let c = Counters::default();
        c.query_sent();
        c.record(Outcome::NxDomain, true);
        c.record(Outcome::Timeout, false);
        c.record(Outcome::Error("x".into()), false);
        let s = c.snapshot();
        let want = DnsStats {
            queries_sent: 1,
            from_cache: 1,
            nxdomain: 1,
            timed_out: 1,
            other_errors: 1,
            ..DnsStats::default()
        };
        assert_eq!(s, want);
        assert_eq!(s.failed(), 3);
    }
}
