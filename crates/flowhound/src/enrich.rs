//! Enrichment of flows with country, AS number and organisation of both ends.
//!
//! Lookups run once per distinct address: the distinct addresses of all batches are collected, looked
//! up, and every row then takes its values by index (dictionary-encoded columns), never a database
//! lookup per row.

use crate::error::Result;
use crate::ip;
use crate::schema::col;
use ahash::AHashMap;
use datafusion::arrow::array::{ArrayRef, AsArray, DictionaryArray, StringArray, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, Schema, UInt32Type};
use datafusion::arrow::record_batch::RecordBatch;
use flowhound_geo::{GeoInfo, GeoStack};
use std::sync::Arc;

/// Geo facts of one address (typed, not a joined string).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IpFacts {
    /// ISO country code.
    pub country: Option<String>,
    /// AS number.
    pub asn: Option<u32>,
    /// AS organisation.
    pub org: Option<String>,
}

impl From<&GeoInfo> for IpFacts {
    /// The geo stack's answer as owned strings.
    fn from(g: &GeoInfo) -> Self {
        IpFacts {
            country: g.country.map(|c| c.to_string()),
            asn: g.asn,
            org: g.org.as_deref().map(str::to_string),
        }
    }
}

/// Distinct addresses with their facts, addressed by a dense index.
#[derive(Debug, Default)]
pub struct FactTable {
    index: AHashMap<i128, u32>,
    /// Facts, by index.
    pub facts: Vec<IpFacts>,
    /// Addresses, by index.
    pub ips: Vec<u128>,
}

impl FactTable {
    /// Registers every address of the `src_ip`/`dst_ip` columns.
    pub fn collect(batches: &[RecordBatch]) -> FactTable {
        let mut t = FactTable::default();
        for b in batches {
            for name in [col::SRC_IP, col::DST_IP] {
                if let Some(c) = b.column_by_name(name) {
                    c.as_primitive::<Decimal128Type>()
                        .values()
                        .iter()
                        .for_each(|v| t.intern(*v));
                }
            }
        }
        t
    }

    fn intern(&mut self, v: i128) {
        let next = self.ips.len() as u32;
        if *self.index.entry(v).or_insert(next) == next {
            self.ips.push(ip::from_i128(v));
        }
    }

    /// Looks every distinct address up once.
    pub fn lookup(&mut self, geo: &GeoStack) {
        self.facts = self.ips.iter().map(|a| facts_of(geo, *a)).collect();
    }

    /// The index of each value of an IP column.
    pub fn keys(&self, column: &ArrayRef) -> UInt32Array {
        column
            .as_primitive::<Decimal128Type>()
            .values()
            .iter()
            .map(|v| self.index.get(v).copied())
            .collect()
    }
}

/// Facts of one address from the stack.
pub fn facts_of(geo: &GeoStack, addr: u128) -> IpFacts {
    IpFacts::from(&geo.lookup_u128(addr))
}

fn dict(keys: &UInt32Array, values: &ArrayRef) -> Result<ArrayRef> {
    Ok(Arc::new(DictionaryArray::<UInt32Type>::try_new(
        keys.clone(),
        values.clone(),
    )?))
}

/// Adds `{prefix}_country`, `{prefix}_asn`, `{prefix}_org` (and `{prefix}_name` when `names` is given)
/// for the `src` and `dst` ends of every batch.
pub fn enrich(
    batches: &[RecordBatch],
    table: &FactTable,
    names: Option<&[Option<String>]>,
) -> Result<Vec<RecordBatch>> {
    let countries: ArrayRef = Arc::new(
        table
            .facts
            .iter()
            .map(|f| f.country.as_deref())
            .collect::<StringArray>(),
    );
    let orgs: ArrayRef = Arc::new(
        table
            .facts
            .iter()
            .map(|f| f.org.as_deref())
            .collect::<StringArray>(),
    );
    let asns: ArrayRef = Arc::new(table.facts.iter().map(|f| f.asn).collect::<UInt32Array>());
    let names: Option<ArrayRef> = names
        .map(|n| Arc::new(n.iter().map(|s| s.as_deref()).collect::<StringArray>()) as ArrayRef);
    batches
        .iter()
        .map(|b| {
            let mut fields: Vec<Field> = b
                .schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone())
                .collect();
            let mut cols: Vec<ArrayRef> = b.columns().to_vec();
            for (end, name) in [("src", col::SRC_IP), ("dst", col::DST_IP)] {
                let keys = table.keys(
                    b.column_by_name(name)
                        .ok_or_else(|| crate::FlowError::Internal(format!("no {name}")))?,
                );
                let dict_type =
                    DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8));
                fields.push(Field::new(
                    format!("{end}_country"),
                    dict_type.clone(),
                    true,
                ));
                cols.push(dict(&keys, &countries)?);
                fields.push(Field::new(format!("{end}_asn"), DataType::UInt32, true));
                cols.push(take(asns.as_ref(), &keys, None)?);
                fields.push(Field::new(format!("{end}_org"), dict_type.clone(), true));
                cols.push(dict(&keys, &orgs)?);
                if let Some(n) = &names {
                    fields.push(Field::new(format!("{end}_name"), dict_type, true));
                    cols.push(dict(&keys, n)?);
                }
            }
            Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::builder::{FlowBuilder, FlowRow};
    use datafusion::arrow::array::Array;

    #[test]
    fn enriches_distinct_ips_once_and_takes_per_row() {
        let mut b = FlowBuilder::new();
        let a = ip::parse("8.8.8.8").unwrap();
        let p = ip::parse("192.168.105.7").unwrap();
        for (s, d) in [(p, a), (p, a), (a, p)] {
            b.push(&FlowRow {
                src: s,
                dst: d,
                ..Default::default()
            });
        }
        let batches = vec![b.finish()];
        let mut t = FactTable::collect(&batches);
        assert_eq!(t.ips.len(), 2, "two distinct addresses");
        t.lookup(&GeoStack::from_options(&[], &[], true).unwrap());
        let out = enrich(&batches, &t, None).unwrap();
        let dst_asn = out[0]
            .column_by_name("dst_asn")
            .unwrap()
            .as_primitive::<UInt32Type>();
        assert_eq!(dst_asn.value(0), 15169);
        assert!(dst_asn.is_null(2), "private address has no ASN");
        let src_country = datafusion::arrow::compute::cast(
            out[0].column_by_name("src_country").unwrap(),
            &DataType::Utf8,
        )
        .unwrap();
        assert_eq!(src_country.as_string::<i32>().value(2), "US");
    }
}
