//! flowhound-geo: GeoIP country and ASN enrichment for flowhound.
//!
//! Sources ([`GeoSource`]):
//! - [`legacy::LegacyDb`]: MaxMind legacy GeoIP `.dat` files (Country, Country v6,
//!   ASNum, Org, ISP editions), read natively, in memory or memory-mapped;
//! - [`mmdb::MmdbDb`]: MaxMind DB `.mmdb` files (GeoIP2/GeoLite2 Country, City, ASN;
//!   DB-IP country / ASN lite);
//! - [`fhg::FhgDb`]: flowhound's own compact format, also used by the embedded
//!   default database ([`embedded::embedded`], feature `embedded`).
//!
//! A [`GeoStack`] layers sources: for each field the first source that answers wins.
//! Everything is `Send + Sync`, so a stack can sit behind an `Arc` in query UDFs.
//!
//! ```no_run
//! use flowhound_geo::GeoStack;
//! let stack = GeoStack::from_options(&[], &[], true)?;
//! let info = stack.lookup("8.8.8.8".parse().expect("ip"));
//! println!("{:?} AS{:?} {:?}", info.country, info.asn, info.org);
//! # Ok::<(), flowhound_geo::GeoError>(())
//! ```

#![warn(missing_docs)]

mod blob;
mod country;
mod country_data;
pub mod embedded;
mod error;
pub mod fhg;
pub mod legacy;
pub mod mmdb;
mod net;
mod source;
mod stack;

pub use country::{all_countries, country_name, CountryCode};
pub use embedded::{embedded, ranges_v4, ATTRIBUTION};
pub use error::GeoError;
pub use net::{
    as_v4, in_cidr, ip_to_u128, is_private, is_private_u128, is_private_v4, u128_to_ip, Cidr,
};
pub use source::{GeoInfo, GeoSource, Role, SourceInfo, SourceKind};
pub use stack::{open_asn, open_country, open_path, open_path_with, GeoStack, OpenMode};

/// Attribution required when legacy MaxMind GeoLite `.dat` files are used.
pub const MAXMIND_ATTRIBUTION: &str =
    "This product includes GeoLite data created by MaxMind, available from https://www.maxmind.com";
