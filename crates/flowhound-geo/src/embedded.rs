//! The embedded default database (cargo feature `embedded`, on by default).
//!
//! `data/flowhound-geo.fhg` is produced by `scripts/update-geodb` from the npm
//! packages `@ip-location-db/geo-whois-asn-country` (CC0) and
//! `@ip-location-db/asn` (CC BY 4.0: RouteViews, DB-IP, NRO), compiled in with
//! `include_bytes!` and decoded once, on first use.

use crate::fhg::FhgDb;
use crate::{CountryCode, GeoError};
use std::sync::OnceLock;

/// Attribution for the embedded database; show it with results and in reports.
pub const ATTRIBUTION: &str =
    "Embedded geo data from ip-location-db (github.com/sapics/ip-location-db): \
IP to country: geo-whois-asn-country (CC0 1.0; contains NRO statistics data, CC BY 4.0, nro.net). \
IP to ASN: asn (CC BY 4.0), with data from RouteViews (routeviews.org), \
IP Geolocation by DB-IP (db-ip.com, CC BY 4.0) and the NRO (nro.net).";

#[cfg(feature = "embedded")]
static IMAGE: &[u8] = include_bytes!("../data/flowhound-geo.fhg");

static DB: OnceLock<Result<FhgDb, String>> = OnceLock::new();

/// The embedded database, decoded on first call (about a few tens of ms).
/// Fails with [`GeoError::NoEmbedded`] when built without the `embedded` feature.
pub fn embedded() -> Result<&'static FhgDb, GeoError> {
    let db = DB.get_or_init(|| load().map_err(|e| e.to_string()));
    match db {
        Ok(db) => Ok(db),
        Err(detail) if *detail == GeoError::NoEmbedded.to_string() => Err(GeoError::NoEmbedded),
        Err(detail) => Err(GeoError::Corrupt {
            path: "<embedded>".into(),
            format: "flowhound .fhg",
            detail: detail.clone(),
        }),
    }
}

#[cfg(feature = "embedded")]
fn load() -> Result<FhgDb, GeoError> {
    FhgDb::from_bytes(IMAGE, None)
}

#[cfg(not(feature = "embedded"))]
fn load() -> Result<FhgDb, GeoError> {
    Err(GeoError::NoEmbedded)
}

/// Size in bytes of the compiled-in image (0 without the `embedded` feature).
pub fn embedded_size() -> usize {
    #[cfg(feature = "embedded")]
    return IMAGE.len();
    #[cfg(not(feature = "embedded"))]
    return 0;
}

/// IPv4 ranges of the embedded database that have a country or AS number:
/// `(first, last, country, asn)`, inclusive, in address order. Empty when the
/// embedded database is not available. Stable API for the traffic generator.
pub fn ranges_v4() -> impl Iterator<Item = (u32, u32, Option<CountryCode>, Option<u32>)> {
    embedded().ok().into_iter().flat_map(FhgDb::ranges_v4)
}
