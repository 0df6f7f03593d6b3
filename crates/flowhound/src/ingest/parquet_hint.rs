//! A check of the Arrow schema that Arrow writers embed in a Parquet footer (`ARROW:schema`, base64 of an
//! IPC schema message) before the parquet crate decodes it.
//!
//! arrow-ipc 59 converts that message with `unwrap`/`panic!` on anything it does not expect (a field
//! without a type, a schema without fields, an integer 7 bits wide, a decimal precision of 300 ...),
//! which aborts a process instead of failing (found by the `parquet` fuzz target). The flatbuffer itself
//! is verified upstream; what follows walks the verified message and accepts it only when every
//! conversion step would succeed. A footer whose hint fails the check is read from its Parquet types
//! alone, which every reader of the format can do.

use datafusion::arrow::ipc::{self, Field, Type};
use datafusion::parquet::file::metadata::KeyValue;

/// The key Arrow writers use.
const KEY: &str = "ARROW:schema";

/// Nesting deeper than this is refused (the flatbuffer verifier allows 64 levels of tables; a field is
/// two of them, and no flow file nests more than a couple of levels).
const MAX_DEPTH: usize = 32;

/// True when the footer's key-value metadata holds no `ARROW:schema`, or only ones arrow-ipc converts
/// without panicking.
pub fn arrow_hint_is_safe(kv: Option<&Vec<KeyValue>>) -> bool {
    let mut hints = kv
        .into_iter()
        .flatten()
        .filter(|e| e.key == KEY)
        .filter_map(|e| e.value.as_deref());
    hints.all(|v| match base64_decode(v) {
        // Not base64: the parquet crate returns an error of its own, no panic.
        None => true,
        Some(bytes) => message_is_safe(&bytes),
    })
}

/// The IPC message as the parquet crate slices it (an optional continuation marker and length first).
fn message_is_safe(bytes: &[u8]) -> bool {
    let slice = if bytes.len() > 8 && bytes[0..4] == [255u8; 4] {
        &bytes[8..]
    } else {
        bytes
    };
    let Ok(message) = ipc::root_as_message(slice) else {
        return true; // refused by the flatbuffer verifier: an error upstream, no panic
    };
    let Some(schema) = message.header_as_schema() else {
        return true;
    };
    let Some(fields) = schema.fields() else {
        return false;
    };
    let big = schema.endianness() == ipc::Endianness::Big;
    fields
        .iter()
        .all(|f| !(big && f.type_type() == Type::Decimal) && field_is_safe(f, 0))
}

fn field_is_safe(f: Field, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    if let Some(d) = f.dictionary() {
        match d.indexType() {
            Some(i) if int_ok(i.bitWidth()) => {}
            _ => return false,
        }
    }
    type_is_safe(f) && children_are_safe(f, depth)
}

fn int_ok(bits: i32) -> bool {
    matches!(bits, 8 | 16 | 32 | 64)
}

/// The type-specific table is present and holds a value arrow-ipc maps.
fn type_is_safe(f: Field) -> bool {
    use ipc::{DateUnit, IntervalUnit, Precision, TimeUnit, UnionMode};
    let unit4 = |u: TimeUnit| {
        matches!(
            u,
            TimeUnit::SECOND | TimeUnit::MILLISECOND | TimeUnit::MICROSECOND | TimeUnit::NANOSECOND
        )
    };
    match f.type_type() {
        Type::Null | Type::Bool | Type::Struct_ | Type::RunEndEncoded => true,
        Type::Binary | Type::BinaryView | Type::LargeBinary => true,
        Type::Utf8 | Type::Utf8View | Type::LargeUtf8 => true,
        Type::List | Type::LargeList | Type::ListView | Type::LargeListView => true,
        Type::Int => f.type_as_int().is_some_and(|i| int_ok(i.bitWidth())),
        Type::FixedSizeBinary => f
            .type_as_fixed_size_binary()
            .is_some_and(|b| b.byteWidth() >= 0),
        Type::FixedSizeList => f
            .type_as_fixed_size_list()
            .is_some_and(|l| l.listSize() >= 0),
        Type::FloatingPoint => f.type_as_floating_point().is_some_and(|p| {
            matches!(
                p.precision(),
                Precision::HALF | Precision::SINGLE | Precision::DOUBLE
            )
        }),
        Type::Date => f
            .type_as_date()
            .is_some_and(|d| matches!(d.unit(), DateUnit::DAY | DateUnit::MILLISECOND)),
        Type::Time => f.type_as_time().is_some_and(|t| {
            matches!(
                (t.bitWidth(), t.unit()),
                (32, TimeUnit::SECOND | TimeUnit::MILLISECOND)
                    | (64, TimeUnit::MICROSECOND | TimeUnit::NANOSECOND)
            )
        }),
        Type::Timestamp => f.type_as_timestamp().is_some_and(|t| unit4(t.unit())),
        Type::Duration => f.type_as_duration().is_some_and(|t| unit4(t.unit())),
        Type::Interval => f.type_as_interval().is_some_and(|i| {
            matches!(
                i.unit(),
                IntervalUnit::YEAR_MONTH | IntervalUnit::DAY_TIME | IntervalUnit::MONTH_DAY_NANO
            )
        }),
        Type::Map => f.type_as_map().is_some(),
        Type::Decimal => f.type_as_decimal().is_some_and(|d| {
            matches!(d.bitWidth(), 32 | 64 | 128 | 256)
                && (1..=76).contains(&d.precision())
                && i8::try_from(d.scale()).is_ok()
        }),
        Type::Union => f.type_as_union().is_some_and(|u| {
            matches!(u.mode(), UnionMode::Sparse | UnionMode::Dense) && union_ids_ok(f, u)
        }),
        _ => false, // NONE and types newer than arrow-ipc 59: `unimplemented!` upstream
    }
}

/// Union type ids: at most 128 children, one distinct id each (what `UnionFields::try_new` accepts).
fn union_ids_ok(f: Field, u: ipc::Union) -> bool {
    let n = f.children().map_or(0, |c| c.len());
    match u.typeIds() {
        None => n <= 128,
        Some(ids) => {
            let mut seen = std::collections::HashSet::new();
            ids.len() == n
                && ids
                    .iter()
                    .all(|i| i8::try_from(i).is_ok() && seen.insert(i))
        }
    }
}

/// The number of children the type needs, then every child.
fn children_are_safe(f: Field, depth: usize) -> bool {
    let need = match f.type_type() {
        Type::List
        | Type::LargeList
        | Type::ListView
        | Type::LargeListView
        | Type::FixedSizeList
        | Type::Map => Some(1),
        Type::RunEndEncoded => Some(2),
        _ => None,
    };
    let children = f.children();
    if need.is_some() && children.map(|c| c.len()) != need {
        return false;
    }
    children.is_none_or(|c| c.iter().all(|c| field_is_safe(c, depth + 1)))
}

/// Standard base64 with padding (the alphabet the parquet crate decodes). None when it is not.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (i, q) in s.chunks(4).enumerate() {
        let last = i + 1 == s.len() / 4;
        let pad = q.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &q[..4 - pad] {
            n = n << 6 | val(c)?;
        }
        n <<= 6 * pad as u32;
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8h").unwrap(), b"hello!");
        assert_eq!(base64_decode("aGU=").unwrap(), b"he");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert!(base64_decode("aGVsbG8").is_none());
        assert!(base64_decode("aG=sbG8=").is_none());
        assert!(base64_decode("a===").is_none());
    }

    #[test]
    fn no_hint_and_junk_hints_are_safe() {
        assert!(arrow_hint_is_safe(None));
        let kv = |v: &str| vec![KeyValue::new(KEY.to_string(), v.to_string())];
        assert!(arrow_hint_is_safe(Some(&kv("not base64!"))));
        assert!(arrow_hint_is_safe(Some(&kv("AAAA"))));
    }

    /// A schema with every type family arrow-ipc converts, as Arrow writers embed it.
    fn real_hint() -> Vec<u8> {
        use datafusion::arrow::datatypes::{
            DataType as D, Field as F, IntervalUnit, Schema, TimeUnit as T, UnionFields, UnionMode,
        };
        use std::sync::Arc;
        let item = Arc::new(F::new("item", D::Int32, true));
        let entries = F::new_struct(
            "entries",
            vec![F::new("k", D::Utf8, false), F::new("v", D::UInt16, true)],
            false,
        );
        let union = UnionFields::from_fields(vec![
            F::new("a", D::Int64, true),
            F::new("b", D::Utf8, true),
        ]);
        let types = vec![
            D::Int8,
            D::UInt64,
            D::Float16,
            D::Float64,
            D::Utf8,
            D::LargeUtf8,
            D::Binary,
            D::FixedSizeBinary(16),
            D::Date32,
            D::Date64,
            D::Time32(T::Second),
            D::Time64(T::Nanosecond),
            D::Timestamp(T::Microsecond, Some("UTC".into())),
            D::Duration(T::Millisecond),
            D::Interval(IntervalUnit::MonthDayNano),
            D::Decimal128(10, 2),
            D::List(item.clone()),
            D::FixedSizeList(item, 3),
            D::Map(Arc::new(entries), false),
            D::Dictionary(Box::new(D::Int32), Box::new(D::Utf8)),
            D::Union(union, UnionMode::Dense),
            D::Struct(vec![F::new("x", D::Boolean, true)].into()),
        ];
        let fields: Vec<F> = types
            .into_iter()
            .enumerate()
            .map(|(i, t)| F::new(format!("c{i}"), t, true))
            .collect();
        let text = datafusion::parquet::arrow::encode_arrow_schema(&Schema::new(fields));
        base64_decode(&text).unwrap()
    }

    /// arrow-ipc's own conversion, as the parquet crate calls it: true when it panics.
    fn upstream_panics(bytes: &[u8]) -> bool {
        let slice = if bytes.len() > 8 && bytes[0..4] == [255u8; 4] {
            &bytes[8..]
        } else {
            bytes
        };
        std::panic::catch_unwind(|| {
            if let Ok(m) = ipc::root_as_message(slice) {
                m.header_as_schema().map(ipc::convert::fb_to_schema);
            }
        })
        .is_err()
    }

    /// Differential test against arrow-ipc itself: of thousands of byte mutations of a real hint, every
    /// one the check calls safe converts upstream without a panic, and the mutations include some that
    /// do panic upstream (so the oracle is exercised).
    #[test]
    fn every_hint_called_safe_converts_upstream_without_a_panic() {
        let hint = real_hint();
        assert!(message_is_safe(&hint) && !upstream_panics(&hint));
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let (mut seed, mut panics, mut refused_ok) = (0x9e37_79b9_7f4a_7c15u64, 0, 0);
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut missed = None;
        for _ in 0..5_000 {
            let mut m = hint.clone();
            for _ in 0..1 + next() % 3 {
                let at = (next() % m.len() as u64) as usize;
                m[at] = next() as u8;
            }
            let (safe, panicked) = (message_is_safe(&m), upstream_panics(&m));
            panics += usize::from(panicked);
            refused_ok += usize::from(!safe && !panicked);
            if safe && panicked {
                missed = Some(m);
                break;
            }
        }
        std::panic::set_hook(hook);
        assert!(
            missed.is_none(),
            "called safe but panics upstream: {missed:?}"
        );
        assert!(panics > 50, "only {panics} mutations panic upstream");
        eprintln!(
            "{panics} mutations panic upstream, all refused; {refused_ok} refused that would not"
        );
    }
}
