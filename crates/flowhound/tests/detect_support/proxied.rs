//! A LAN browsing through a web proxy, as analysts' CSV rows `(ts s, src, dst, port, up, down)`:
//! shared by the `proxied_cnc` tests of the library (in memory and out of core) and of the cluster.
#![allow(dead_code)]

/// One flow, as in `detect_support::Row`.
pub type Row = (i64, String, String, u16, u64, u64);

/// The web proxy of [`proxied_lan`] and its port.
pub const PROXY: (&str, u16) = ("10.0.0.2", 3128);

/// A day of ten workstations (10.0.0.10-19) browsing through the web proxy [`PROXY`]: 40 visits each,
/// a client connection to the proxy (its request and answer plus 200 and 100 bytes of proxy protocol)
/// and, in the same second, the proxy's connection to the site; sites numbered from `first_site`.
pub fn proxied_lan(day: i64, first_site: u32) -> Vec<Row> {
    let mut rows = Vec::new();
    for h in 0..10u32 {
        for s in 0..40u32 {
            let t = day + 28_800 + i64::from(s) * 600 + i64::from(h) * 7;
            let site = first_site + h * 40 + s;
            let dst = format!("198.18.{}.{}", site / 250, site % 250 + 1);
            let down = 20_000 + 7_000 * u64::from((s + h) % 9);
            rows.extend(proxied(t, &format!("10.0.0.{}", 10 + h), &dst, (600, down)));
        }
    }
    rows
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
