//! `flowhound sql`: flows registered as table `flows`, flowhound's SQL functions, and translation of
//! engine errors into the user's terms.

use crate::error::{FlowError, Result};
use crate::ip;
use crate::schema::flow_schema;
use datafusion::arrow::array::{ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Decimal128Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{create_udf, ColumnarValue, ScalarUDF, Volatility};
use datafusion::prelude::SessionContext;
use std::sync::Arc;

/// Name of the flows table.
pub const TABLE: &str = "flows";

/// Registers flowhound's scalar functions: `ip_str(ip)` renders an address integer as text.
pub fn register_functions(ctx: &SessionContext) {
    ctx.register_udf(ip_str_function());
}

/// `ip_str(ip)`: renders an address integer as text.
pub fn ip_str_function() -> ScalarUDF {
    create_udf(
        "ip_str",
        vec![crate::schema::IP_TYPE],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(ip_str_udf),
    )
}

fn ip_str_udf(args: &[ColumnarValue]) -> datafusion::error::Result<ColumnarValue> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    Ok(ColumnarValue::Array(ip_strings(&arrays[0])))
}

/// Renders an IP-integer (Decimal128) array as text.
pub fn ip_strings(a: &ArrayRef) -> ArrayRef {
    let d = a.as_primitive::<Decimal128Type>();
    Arc::new(
        d.iter()
            .map(|v| v.map(|v| ip::format(ip::from_i128(v))))
            .collect::<StringArray>(),
    )
}

/// Registers `batches` (canonical flows) as table `flows`.
pub fn register_flows(ctx: &SessionContext, batches: Vec<RecordBatch>) -> Result<()> {
    let table = MemTable::try_new(flow_schema(), vec![batches])?;
    ctx.register_table(TABLE, Arc::new(table))?;
    Ok(())
}

/// Registers canonical Parquet files (from `convert`/`enrich`) as table `flows` directly, so queries
/// stream from disk and see extra columns such as `dst_country`. Returns false when any file is not
/// canonical Parquet (the caller then reads through ingest).
pub async fn register_canonical_parquet(
    ctx: &SessionContext,
    files: &[std::path::PathBuf],
) -> Result<bool> {
    if files.is_empty()
        || !files
            .iter()
            .all(|f| crate::ingest::parquet::is_canonical(f))
    {
        return Ok(false);
    }
    let paths: Vec<String> = files
        .iter()
        .map(|p| p.to_string_lossy().to_string())
        .collect();
    let df = ctx
        .read_parquet(paths, datafusion::prelude::ParquetReadOptions::default())
        .await?;
    ctx.register_table(TABLE, df.into_view())?;
    Ok(true)
}

/// Runs a query and collects its result.
pub async fn query(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    let df = ctx.sql(sql).await?;
    Ok(df.collect().await?)
}

/// Makes result columns readable: Decimal128(38,0) columns whose name ends in `ip` become address text.
pub fn humanize(batch: &RecordBatch) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for (f, c) in schema.fields().iter().zip(batch.columns()) {
        if f.data_type() == &crate::schema::IP_TYPE && f.name().to_ascii_lowercase().ends_with("ip")
        {
            fields.push(f.as_ref().clone().with_data_type(DataType::Utf8));
            cols.push(ip_strings(c));
        } else {
            fields.push(f.as_ref().clone());
            cols.push(c.clone());
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(datafusion::arrow::datatypes::Schema::new(fields)),
        cols,
    )?)
}

/// Translates a DataFusion error into a message about the user's query and data.
pub fn translate_error(e: DataFusionError) -> FlowError {
    let e = e.find_root().to_string();
    let columns: Vec<String> = flow_schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let cols = columns.join(", ");
    let (message, hint) = if e.contains("table") && e.contains("not found") {
        (
            strip(&e),
            format!("\nThe flows are in table '{TABLE}' (columns: {cols})."),
        )
    } else if e.contains("No field named") || e.contains("Schema error") {
        (strip(&e), "\nIPs are integers: use ip_str(src_ip) to show them as text; docs/flows.md lists the columns.".to_string())
    } else if e.contains("SQL error") || e.contains("ParserError") {
        (
            strip(&e),
            "\nCheck the SQL syntax; quote the query in single quotes in the shell.".to_string(),
        )
    } else if e.contains("Invalid function") || e.contains("function") && e.contains("not found") {
        (
            strip(&e),
            "\nflowhound adds ip_str(ip), geo_country(ip), asn_number(ip), asn_org(ip), is_private(ip) and \
             in_cidr(ip, cidr); DataFusion's built-in functions are available."
                .to_string(),
        )
    } else if e.contains("Resources exhausted") {
        (
            strip(&e),
            "\nThe query needs more memory than allowed; add a WHERE clause or aggregate."
                .to_string(),
        )
    } else {
        (strip(&e), String::new())
    };
    FlowError::Query { message, hint }
}

/// Drops DataFusion's internal prefixes ("Error during planning: ", "Schema error: ").
fn strip(e: &str) -> String {
    let mut s = e;
    for p in [
        "Error during planning: ",
        "Schema error: ",
        "SQL error: ",
        "Execution error: ",
        "External error: ",
    ] {
        s = s.strip_prefix(p).unwrap_or(s);
    }
    s.to_string()
}
