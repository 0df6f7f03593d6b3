//! The in-memory flow record and its ground-truth label.

use crate::config::{DecoyKind, Scenario};

/// Transport protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    Tcp,
    Udp,
    Icmp,
}

impl Proto {
    /// The lowercase name written to the `proto` column.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
        }
    }
}

/// What produced a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Label {
    Normal,
    Scenario(Scenario),
    Decoy(DecoyKind),
}

impl Label {
    /// The `label` column: scenario name, or `normal` (decoys are benign).
    pub(crate) fn label(self) -> &'static str {
        match self {
            Label::Scenario(s) => s.name(),
            Label::Normal | Label::Decoy(_) => "normal",
        }
    }

    /// The `decoy` column.
    pub(crate) fn decoy(self) -> Option<&'static str> {
        match self {
            Label::Decoy(d) => Some(d.name()),
            _ => None,
        }
    }
}

/// One flow; timestamps in microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flow {
    pub ts_us: i64,
    pub src: u32,
    pub dst: u32,
    pub proto: Proto,
    pub port: u16,
    pub up: i64,
    pub down: i64,
    pub label: Label,
}

impl Flow {
    /// A flow from its parts: ends (src, dst), service (proto, port), sizes (up, down).
    pub(crate) fn new(
        ts_us: i64,
        (src, dst): (u32, u32),
        (proto, port): (Proto, u16),
        (up, down): (i64, i64),
        label: Label,
    ) -> Flow {
        Flow {
            ts_us,
            src,
            dst,
            proto,
            port,
            up,
            down,
            label,
        }
    }
}

/// Microseconds per second.
pub(crate) const US: i64 = 1_000_000;
/// Microseconds per hour.
pub(crate) const HOUR_US: i64 = 3600 * US;
