//! Selected flows as an enriched record batch: the rows behind outliers or findings, with readable IPs
//! and the destination's country, AS number and organisation. Each distinct address is looked up once.

use crate::enrich::IpFacts;
use crate::error::Result;
use crate::ip;
use crate::schema::{col, flow_schema};
use ahash::AHashMap;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use flowhound_geo::{GeoInfo, GeoStack};
use std::sync::Arc;

/// Geo answers for a set of addresses, each looked up once.
#[derive(Default)]
pub struct GeoCache {
    map: AHashMap<u128, GeoInfo>,
}

impl GeoCache {
    /// Looks `ip` up (once) and returns the answer.
    pub fn get(&mut self, geo: &GeoStack, ip: u128) -> &GeoInfo {
        self.map.entry(ip).or_insert_with(|| geo.lookup_u128(ip))
    }
}

/// Takes `rows` (global row numbers over `batches`, in order) and enriches them: `src_ip`/`dst_ip` as
/// text, plus `dst_country`, `dst_asn`, `dst_org`, then the `extra` columns (one value per row).
pub fn enriched_rows(
    batches: &[RecordBatch],
    rows: &[u32],
    geo: &GeoStack,
    extra: Vec<(Field, ArrayRef)>,
) -> Result<RecordBatch> {
    let all = concat_batches(&flow_schema(), batches)?;
    let picked = take_record_batch(&all, &UInt32Array::from(rows.to_vec()))?;
    let mut fields: Vec<Field> = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    let mut dst_ips: Vec<u128> = Vec::new();
    for (f, c) in picked.schema().fields().iter().zip(picked.columns()) {
        if f.name() == col::SRC_IP || f.name() == col::DST_IP {
            let ips: Vec<u128> = c
                .as_primitive::<Decimal128Type>()
                .values()
                .iter()
                .map(|v| *v as u128)
                .collect();
            cols.push(Arc::new(StringArray::from_iter_values(
                ips.iter().map(|v| ip::format(*v)),
            )));
            fields.push(Field::new(f.name(), DataType::Utf8, false));
            if f.name() == col::DST_IP {
                dst_ips = ips;
            }
        } else {
            fields.push(f.as_ref().clone());
            cols.push(c.clone());
        }
    }
    let (country, asn, org) = geo_columns(&dst_ips, geo);
    fields.extend([
        Field::new("dst_country", DataType::Utf8, true),
        Field::new("dst_asn", DataType::UInt32, true),
        Field::new("dst_org", DataType::Utf8, true),
    ]);
    cols.extend([country, asn, org]);
    for (f, c) in extra {
        fields.push(f);
        cols.push(c);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}

fn geo_columns(ips: &[u128], geo: &GeoStack) -> (ArrayRef, ArrayRef, ArrayRef) {
    let mut cache = GeoCache::default();
    let mut country = Vec::with_capacity(ips.len());
    let mut asn = Vec::with_capacity(ips.len());
    let mut org = Vec::with_capacity(ips.len());
    for ip in ips {
        let g = IpFacts::from(cache.get(geo, *ip));
        country.push(g.country);
        asn.push(g.asn);
        org.push(g.org);
    }
    let country: StringArray = country.into_iter().collect();
    let org: StringArray = org.into_iter().collect();
    (
        Arc::new(country),
        Arc::new(UInt32Array::from(asn)),
        Arc::new(org),
    )
}

/// A helper for callers that build an `extra` text column.
pub fn text_column(name: &str, values: Vec<String>) -> (Field, ArrayRef) {
    let arr = StringArray::from(values);
    let nullable = arr.null_count() > 0;
    (Field::new(name, DataType::Utf8, nullable), Arc::new(arr))
}
