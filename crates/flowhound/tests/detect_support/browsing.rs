//! A LAN of ten workstations browsing, directly or through a web proxy, as analysts' CSV rows
//! `(ts s, src, dst, port, up, down)`: shared by the `dropper` and `proxied_cnc` tests of the library
//! (in memory and out of core) and by the cluster test.
#![allow(dead_code)]

/// One flow, as in `detect_support::Row`.
pub type Row = (i64, String, String, u16, u64, u64);

/// The web proxy of [`proxied_lan`] and its port.
pub const PROXY: (&str, u16) = ("10.0.0.2", 3128);

/// One visit of the browsing LAN.
pub struct Visit {
    /// Start, seconds.
    pub t: i64,
    /// The workstation, 0-9 (10.0.0.10-19: [`workstation`]).
    pub h: u32,
    /// The visit of the day, 0-39.
    pub s: u32,
    /// The site's address (198.18.0.0/15), new for every visit.
    pub site: String,
}

/// Workstation `h`'s address.
pub fn workstation(h: u32) -> String {
    format!("10.0.0.{}", 10 + h)
}

/// A day of ten workstations each visiting 40 sites, ten minutes apart from 08:00 UTC, workstation by
/// workstation; sites numbered from `first_site`.
pub fn visits(day: i64, first_site: u32) -> impl Iterator<Item = Visit> {
    (0..10u32).flat_map(move |h| {
        (0..40u32).map(move |s| {
            let site = first_site + h * 40 + s;
            Visit {
                t: day + 28_800 + i64::from(s) * 600 + i64::from(h) * 7,
                h,
                s,
                site: format!("198.18.{}.{}", site / 250, site % 250 + 1),
            }
        })
    })
}

/// [`visits`] through the web proxy [`PROXY`]: a client connection to the proxy (its request and
/// answer plus 200 and 100 bytes of proxy protocol) and, in the same second, the proxy's connection to
/// the site.
pub fn proxied_lan(day: i64, first_site: u32) -> Vec<Row> {
    visits(day, first_site)
        .flat_map(|v| {
            let down = 20_000 + 7_000 * u64::from((v.s + v.h) % 9);
            proxied(v.t, &workstation(v.h), &v.site, (600, down))
        })
        .collect()
}

/// One connection of `client` to `dst` on tcp/443 through [`PROXY`] at `t`, carrying `(up, down)`
/// bytes: the client's connection to the proxy and the proxy's upstream one.
pub fn proxied(t: i64, client: &str, dst: &str, (up, down): (u64, u64)) -> [Row; 2] {
    let (proxy, port) = PROXY;
    [
        (t, client.into(), proxy.into(), port, up + 200, down + 100),
        (t, proxy.into(), dst.into(), 443, up, down),
    ]
}
