//! The canonical flow schema: what every reader produces and everything downstream consumes.
//! Documented for users in `docs/flows.md`.

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use std::sync::{Arc, OnceLock};

/// Column names of the canonical schema, in order.
pub mod col {
    /// Flow start, UTC, microseconds.
    pub const TS: &str = "ts";
    /// Source (originator) address, integer form.
    pub const SRC_IP: &str = "src_ip";
    /// Destination (responder) address, integer form.
    pub const DST_IP: &str = "dst_ip";
    /// `tcp`, `udp`, `icmp` or `other`.
    pub const PROTO: &str = "proto";
    /// Source port, when the source has one.
    pub const SRC_PORT: &str = "src_port";
    /// Destination port (ICMP: type as the reader found it; 0 when the source has none).
    pub const DST_PORT: &str = "dst_port";
    /// Bytes sent by the source.
    pub const UP_BYTES: &str = "up_bytes";
    /// Bytes sent by the destination.
    pub const DOWN_BYTES: &str = "down_bytes";
    /// Flow duration in seconds, when known.
    pub const DURATION: &str = "duration";
    /// Total packets, when known.
    pub const PACKETS: &str = "packets";
    /// A label carried by the source (CTU `Label`, Zeek `label`), when present.
    pub const LABEL: &str = "label";
}

/// Arrow type carrying IP integers (see [`crate::ip`]).
pub const IP_TYPE: DataType = DataType::Decimal128(38, 0);

/// Arrow type of `ts`.
pub fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The canonical flow schema (shared, built once).
pub fn flow_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new(col::TS, ts_type(), false),
                Field::new(col::SRC_IP, IP_TYPE, false),
                Field::new(col::DST_IP, IP_TYPE, false),
                Field::new(col::PROTO, DataType::Utf8, false),
                Field::new(col::SRC_PORT, DataType::UInt16, true),
                Field::new(col::DST_PORT, DataType::UInt16, false),
                Field::new(col::UP_BYTES, DataType::UInt64, false),
                Field::new(col::DOWN_BYTES, DataType::UInt64, false),
                Field::new(col::DURATION, DataType::Float64, true),
                Field::new(col::PACKETS, DataType::UInt64, true),
                Field::new(col::LABEL, DataType::Utf8, true),
            ]))
        })
        .clone()
}

/// Transport protocol, reduced to the four classes flowhound reasons about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    /// TCP (IP protocol 6).
    Tcp,
    /// UDP (17).
    Udp,
    /// ICMP and ICMPv6 (1, 58).
    Icmp,
    /// Anything else (GRE, ESP, ARP records, ...).
    Other,
}

impl Proto {
    /// All classes, in display order.
    pub const ALL: [Proto; 4] = [Proto::Tcp, Proto::Udp, Proto::Icmp, Proto::Other];

    /// The canonical lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Other => "other",
        }
    }

    /// Classifies an IANA protocol number.
    pub fn from_number(n: i64) -> Proto {
        match n {
            6 => Proto::Tcp,
            17 => Proto::Udp,
            1 | 58 => Proto::Icmp,
            _ => Proto::Other,
        }
    }

    /// Classifies a textual protocol (`tcp`, `TCP`, `6`, `ipv6-icmp`, `icmp6`, ...). Unknown text is `Other`.
    pub fn parse(text: &str) -> Proto {
        let t = text.trim();
        if let Ok(n) = t.parse::<i64>() {
            return Proto::from_number(n);
        }
        const NAMES: [(&str, Proto); 6] = [
            ("tcp", Proto::Tcp),
            ("udp", Proto::Udp),
            ("icmp", Proto::Icmp),
            ("icmp6", Proto::Icmp),
            ("ipv6-icmp", Proto::Icmp),
            ("icmpv6", Proto::Icmp),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(t))
            .map_or(Proto::Other, |(_, p)| *p)
    }

    /// Index into per-protocol arrays (`Proto::ALL` order).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The class at an [`index`](Proto::index); `Other` for an index out of range.
    pub fn from_index(i: usize) -> Proto {
        Proto::ALL.get(i).copied().unwrap_or(Proto::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_table() {
        let cases = [
            ("tcp", Proto::Tcp),
            ("TCP", Proto::Tcp),
            ("6", Proto::Tcp),
            ("17", Proto::Udp),
            ("udp", Proto::Udp),
            ("icmp", Proto::Icmp),
            ("ipv6-icmp", Proto::Icmp),
            ("58", Proto::Icmp),
            ("gre", Proto::Other),
            ("", Proto::Other),
        ];
        for (text, want) in cases {
            assert_eq!(Proto::parse(text), want, "{text}");
        }
    }

    #[test]
    fn schema_has_the_documented_columns() {
        let names: Vec<_> = flow_schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            [
                "ts",
                "src_ip",
                "dst_ip",
                "proto",
                "src_port",
                "dst_port",
                "up_bytes",
                "down_bytes",
                "duration",
                "packets",
                "label"
            ]
        );
    }
}
