//! SQL geo functions: thin adapters over `flowhound_geo`, so `flowhound sql` and the engine share one
//! lookup code path. `geo_country(ip)`, `asn_number(ip)`, `asn_org(ip)`, `is_private(ip)`,
//! `in_cidr(ip, '192.168.105.0/24')`. Within a batch each distinct address is looked up once.

use crate::ip;
use crate::schema::IP_TYPE;
use ahash::AHashMap;
use datafusion::arrow::array::{ArrayRef, AsArray, BooleanArray, StringArray, UInt32Array};
use datafusion::arrow::datatypes::{DataType, Decimal128Type};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{create_udf, ColumnarValue, ScalarUDF, Volatility};
use flowhound_geo::{Cidr, GeoStack};
use std::sync::Arc;

/// Maps each address of an IP column through `f`, calling `f` once per distinct address.
fn per_distinct<T: Clone>(a: &ArrayRef, f: impl Fn(u128) -> T) -> Vec<Option<T>> {
    let mut memo: AHashMap<i128, T> = AHashMap::new();
    a.as_primitive::<Decimal128Type>()
        .iter()
        .map(|v| v.map(|v| memo.entry(v).or_insert_with(|| f(ip::from_i128(v))).clone()))
        .collect()
}

fn first_array(args: &[ColumnarValue]) -> Result<Vec<ArrayRef>> {
    ColumnarValue::values_to_arrays(args)
}

fn udf(
    name: &str,
    inputs: Vec<DataType>,
    out: DataType,
    f: impl Fn(&[ArrayRef]) -> Result<ArrayRef> + Send + Sync + 'static,
) -> ScalarUDF {
    create_udf(
        name,
        inputs,
        out,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| Ok(ColumnarValue::Array(f(&first_array(args)?)?))),
    )
}

/// The geo functions over `geo`.
pub fn functions(geo: Arc<GeoStack>) -> Vec<ScalarUDF> {
    let (g1, g2, g3) = (geo.clone(), geo.clone(), geo);
    vec![
        udf("geo_country", vec![IP_TYPE], DataType::Utf8, move |a| {
            Ok(Arc::new(
                per_distinct(&a[0], |x| g1.country_u128(x).map(|c| c.to_string()))
                    .into_iter()
                    .map(Option::flatten)
                    .collect::<StringArray>(),
            ))
        }),
        udf("asn_number", vec![IP_TYPE], DataType::UInt32, move |a| {
            Ok(Arc::new(
                per_distinct(&a[0], |x| g2.asn_u128(x))
                    .into_iter()
                    .map(Option::flatten)
                    .collect::<UInt32Array>(),
            ))
        }),
        udf("asn_org", vec![IP_TYPE], DataType::Utf8, move |a| {
            Ok(Arc::new(
                per_distinct(&a[0], |x| g3.org_u128(x).map(|o| o.to_string()))
                    .into_iter()
                    .map(Option::flatten)
                    .collect::<StringArray>(),
            ))
        }),
        udf("is_private", vec![IP_TYPE], DataType::Boolean, |a| {
            Ok(Arc::new(
                per_distinct(&a[0], flowhound_geo::is_private_u128)
                    .into_iter()
                    .collect::<BooleanArray>(),
            ))
        }),
        udf(
            "in_cidr",
            vec![IP_TYPE, DataType::Utf8],
            DataType::Boolean,
            in_cidr,
        ),
    ]
}

fn in_cidr(a: &[ArrayRef]) -> Result<ArrayRef> {
    let ips = a[0].as_primitive::<Decimal128Type>();
    let cidrs = a[1].as_string::<i32>();
    let mut last: Option<(String, Cidr)> = None;
    let mut out = Vec::with_capacity(ips.len());
    for (v, c) in ips.iter().zip(cidrs.iter()) {
        let (Some(v), Some(c)) = (v, c) else {
            out.push(None);
            continue;
        };
        if last.as_ref().is_none_or(|(t, _)| t != c) {
            let parsed =
                Cidr::parse(c).map_err(|e| DataFusionError::Plan(format!("in_cidr: {e}")))?;
            last = Some((c.to_string(), parsed));
        }
        out.push(
            last.as_ref()
                .map(|(_, cidr)| cidr.contains_u128(ip::from_i128(v))),
        );
    }
    Ok(Arc::new(out.into_iter().collect::<BooleanArray>()))
}
