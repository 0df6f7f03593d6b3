//! The simulated organisation: internal subnet with clients and servers, the
//! public servers in 200.0.0.0/24, the catalogue of external sites with Zipf
//! popularity, per-client favourites, the day/week activity cycle, and the
//! sampler of ordinary flows.

use crate::addrbook::AddressBook;
use crate::config::GenConfig;
use crate::dist::{bytes, lognormal, pareto, zipf_weights, GenRng, Weighted};
use crate::flow::{Flow, Label, Proto, HOUR_US};
use crate::ip::parse_cidr;
use crate::GenError;
use rand::Rng;
use std::collections::BTreeSet;

/// Host number of the first client inside the subnet.
const FIRST_CLIENT: u32 = 10;
/// Number of external sites in the catalogue.
const SITES: usize = 1500;
/// Number of external clients of the public servers.
const EXT_CLIENTS: usize = 3000;

/// The organisation's internal servers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InternalServers {
    pub dns: u32,
    pub web: u32,
    pub file: u32,
    pub mail: u32,
    pub db: u32,
    pub backup: u32,
    /// The monitoring server (the `snmp_poller` decoy).
    pub monitoring: u32,
    /// The vulnerability scanner (the `vuln_scanner` decoy).
    pub scanner: u32,
}

impl InternalServers {
    /// Every internal server, in role order.
    pub(crate) fn all(&self) -> [u32; 8] {
        [
            self.dns,
            self.web,
            self.file,
            self.mail,
            self.db,
            self.backup,
            self.monitoring,
            self.scanner,
        ]
    }
}

/// The organisation's public servers in 200.0.0.0/24.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicServers {
    pub web: u32,
    pub mail: u32,
    pub dns: u32,
    pub vpn: u32,
}

/// The public servers' network, 200.0.0.0/24.
pub(crate) const PUBLIC_NET: u32 = 0xC800_0000;

impl PublicServers {
    fn new() -> Self {
        PublicServers {
            web: PUBLIC_NET | 10,
            mail: PUBLIC_NET | 25,
            dns: PUBLIC_NET | 53,
            vpn: PUBLIC_NET | 94,
        }
    }
}

/// An internal client and its habits.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub ip: u32,
    /// Indices into the site catalogue.
    pub favourites: Vec<usize>,
    pub uses_db: bool,
    /// Left running outside office hours (the only clients active at night).
    pub always_on: bool,
}

/// The whole simulated network.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    pub subnet: (u32, u8),
    pub clients: Vec<Client>,
    /// The new-employee decoy (only active in the test period).
    pub newcomer: Option<Client>,
    pub servers: InternalServers,
    /// IoT devices (the `iot_device` decoy), after the clients and the newcomer.
    pub iot: Vec<u32>,
    pub public: PublicServers,
    pub sites: Vec<u32>,
    site_pick: Weighted,
    pub ext_clients: Vec<u32>,
    ext_pick: Weighted,
    activity: Vec<f64>,
    /// External addresses that normal traffic may use.
    pub known: BTreeSet<u32>,
}

impl Network {
    /// Builds the network for `cfg`, drawing external addresses from `book`.
    pub(crate) fn build(
        cfg: &GenConfig,
        book: &AddressBook,
        rng: &mut GenRng,
    ) -> Result<Self, GenError> {
        let subnet = parse_cidr(&cfg.subnet)?;
        let iot_n = if cfg.decoys { cfg.iot_devices } else { 0 };
        let servers = internal_servers(subnet, cfg.clients.saturating_add(iot_n))?;
        let usual = usable(book, &cfg.usual_countries)?;
        let sites = draw_external(book, &usual, SITES, rng)?;
        let ext_clients = draw_external(book, &usual, EXT_CLIENTS, rng)?;
        let site_pick = Weighted::new(&zipf_weights(sites.len(), 1.0));
        let n = cfg.clients as usize;
        let clients: Vec<Client> = (0..n)
            .map(|i| {
                make_client(
                    subnet.0 + FIRST_CLIENT + i as u32,
                    &site_pick,
                    sites.len(),
                    rng,
                )
            })
            .collect();
        let newcomer = cfg.decoys.then(|| {
            make_client(
                subnet.0 + FIRST_CLIENT + n as u32,
                &site_pick,
                sites.len(),
                rng,
            )
        });
        let activity = (0..=n).map(|_| lognormal(rng, 1.0, 0.7)).collect();
        let iot = (0..iot_n)
            .map(|i| subnet.0 + FIRST_CLIENT + n as u32 + 1 + i)
            .collect();
        let known = sites.iter().chain(&ext_clients).copied().collect();
        let ext_pick = Weighted::new(&zipf_weights(ext_clients.len(), 0.9));
        Ok(Network {
            subnet,
            clients,
            newcomer,
            servers,
            iot,
            public: PublicServers::new(),
            sites,
            site_pick,
            ext_clients,
            ext_pick,
            activity,
            known,
        })
    }

    /// Client-choice table; the newcomer is included only when `with_newcomer`.
    /// At `night` only the always-on machines are active (all, if there are none).
    pub(crate) fn client_picker(&self, with_newcomer: bool, night: bool) -> Weighted {
        let mut w = self.activity.clone();
        if !with_newcomer || self.newcomer.is_none() {
            w.truncate(self.clients.len());
        }
        let on = |i: usize| self.client(i).is_some_and(|c| c.always_on);
        if night && (0..w.len()).any(on) {
            for (i, x) in w.iter_mut().enumerate() {
                if !on(i) {
                    *x = 0.0;
                }
            }
        }
        Weighted::new(&w)
    }

    /// Every internal host present in both periods: clients, servers, IoT devices.
    pub(crate) fn internal_hosts(&self) -> Vec<u32> {
        let clients = self.clients.iter().map(|c| c.ip);
        clients
            .chain(self.servers.all())
            .chain(self.iot.iter().copied())
            .collect()
    }

    /// The client at index `i` of a picker table.
    pub(crate) fn client(&self, i: usize) -> Option<&Client> {
        self.clients.get(i).or(self.newcomer.as_ref())
    }

    /// A popular external site (Zipf).
    pub(crate) fn popular_site(&self, rng: &mut GenRng) -> u32 {
        let i = self.site_pick.sample(rng).unwrap_or(0);
        self.sites.get(i).copied().unwrap_or(0x0808_0808)
    }

    /// One ordinary flow of `client` at `ts_us`.
    pub(crate) fn normal_flow(&self, rng: &mut GenRng, c: &Client, ts_us: i64) -> Flow {
        let r: f64 = rng.random();
        let (dst, proto, port, up, down) = if r < 0.66 {
            self.web_flow(rng, c)
        } else if r < 0.84 {
            dns_flow(rng, self.servers.dns)
        } else if r < 0.89 {
            intranet_flow(rng, self.servers.web)
        } else if r < 0.94 {
            file_flow(rng, self.servers.file)
        } else if r < 0.975 {
            mail_flow(rng, self.servers.mail)
        } else if r < 0.98 {
            self.ping(rng)
        } else if c.uses_db {
            db_flow(rng, self.servers.db)
        } else {
            self.web_flow(rng, c)
        };
        Flow {
            ts_us,
            src: c.ip,
            dst,
            proto,
            port,
            up,
            down,
            label: Label::Normal,
        }
    }

    fn web_flow(&self, rng: &mut GenRng, c: &Client) -> FlowParts {
        let fav = !c.favourites.is_empty() && rng.random_bool(0.6);
        let dst = if fav {
            let i = c.favourites[rng.random_range(0..c.favourites.len())];
            self.sites.get(i).copied().unwrap_or(0x0808_0808)
        } else {
            self.popular_site(rng)
        };
        let port = if rng.random_bool(0.88) { 443 } else { 80 };
        let (up, down) = web_sizes(rng);
        (dst, Proto::Tcp, port, up, down)
    }

    /// A ping of an internal server (1-4 echo requests of 64 bytes).
    fn ping(&self, rng: &mut GenRng) -> FlowParts {
        let s = self.servers;
        let targets = [s.dns, s.web, s.file, s.mail];
        let n = rng.random_range(1..=4) * 64;
        (
            targets[rng.random_range(0..targets.len())],
            Proto::Icmp,
            0,
            n,
            n,
        )
    }

    /// One flow of an external client towards the public servers.
    pub(crate) fn server_flow(&self, rng: &mut GenRng, ts_us: i64) -> Flow {
        let i = self.ext_pick.sample(rng).unwrap_or(0);
        let src = self.ext_clients.get(i).copied().unwrap_or(0x0808_0808);
        let r: f64 = rng.random();
        let p = self.public;
        let (dst, proto, port, up, down) = if r < 0.80 {
            let port = if rng.random_bool(0.85) { 443 } else { 80 };
            let (up, down) = web_sizes(rng);
            (p.web, Proto::Tcp, port, up, down)
        } else if r < 0.90 {
            let up = bytes(lognormal(rng, 15_000.0, 1.5), 300, 50_000_000);
            (
                p.mail,
                Proto::Tcp,
                25,
                up,
                bytes(lognormal(rng, 900.0, 0.4), 200, 20_000),
            )
        } else if r < 0.97 {
            dns_flow(rng, p.dns)
        } else {
            let up = bytes(lognormal(rng, 200_000.0, 1.5), 500, 2_000_000_000);
            (
                p.vpn,
                Proto::Udp,
                1194,
                up,
                bytes(lognormal(rng, 1e6, 1.5), 500, 4_000_000_000),
            )
        };
        Flow {
            ts_us,
            src,
            dst,
            proto,
            port,
            up,
            down,
            label: Label::Normal,
        }
    }
}

/// (dst, proto, port, up, down) of a flow being built.
type FlowParts = (u32, Proto, u16, i64, i64);

/// Web sizes: small requests, heavy-tailed (lognormal + Pareto) downloads.
pub(crate) fn web_sizes(rng: &mut GenRng) -> (i64, i64) {
    let up = bytes(lognormal(rng, 1200.0, 0.8), 60, 50_000_000);
    let down = if rng.random_bool(0.01) {
        pareto(rng, 1e6, 1.2)
    } else {
        lognormal(rng, 30_000.0, 1.6)
    };
    (up, bytes(down, 0, 4_000_000_000))
}

fn dns_flow(rng: &mut GenRng, dst: u32) -> FlowParts {
    let up = bytes(lognormal(rng, 62.0, 0.15), 40, 110);
    let down = bytes(lognormal(rng, 150.0, 0.35), 50, 600);
    (dst, Proto::Udp, 53, up, down)
}

fn intranet_flow(rng: &mut GenRng, dst: u32) -> FlowParts {
    let port = if rng.random_bool(0.8) { 443 } else { 80 };
    let up = bytes(lognormal(rng, 800.0, 0.7), 60, 10_000_000);
    let down = bytes(lognormal(rng, 15_000.0, 1.2), 0, 500_000_000);
    (dst, Proto::Tcp, port, up, down)
}

fn file_flow(rng: &mut GenRng, dst: u32) -> FlowParts {
    let up = bytes(lognormal(rng, 3000.0, 1.8), 100, 2_000_000_000);
    let down = bytes(lognormal(rng, 50_000.0, 2.0), 100, 4_000_000_000);
    (dst, Proto::Tcp, 445, up, down)
}

fn mail_flow(rng: &mut GenRng, dst: u32) -> FlowParts {
    let r: f64 = rng.random();
    let (port, up_med, down_med) = if r < 0.6 {
        (993, 1500.0, 20_000.0)
    } else if r < 0.9 {
        (587, 20_000.0, 1500.0)
    } else {
        (25, 15_000.0, 1200.0)
    };
    let up = bytes(lognormal(rng, up_med, 1.2), 100, 100_000_000);
    let down = bytes(lognormal(rng, down_med, 1.2), 100, 100_000_000);
    (dst, Proto::Tcp, port, up, down)
}

fn db_flow(rng: &mut GenRng, dst: u32) -> FlowParts {
    let up = bytes(lognormal(rng, 2000.0, 1.0), 100, 100_000_000);
    let down = bytes(lognormal(rng, 30_000.0, 1.8), 100, 2_000_000_000);
    (dst, Proto::Tcp, 5432, up, down)
}

/// Places the internal servers at the top of the subnet and checks the clients fit.
fn internal_servers(subnet: (u32, u8), clients: u32) -> Result<InternalServers, GenError> {
    let (base, len) = subnet;
    if !(16..=26).contains(&len) {
        return Err(GenError::Config(format!(
            "subnet prefix /{len} must be /16../26"
        )));
    }
    if clients == 0 {
        return Err(GenError::Config("at least one client is needed".into()));
    }
    let size = 1u32 << (32 - len);
    let top = base + size - 2; // last usable host
    if u64::from(FIRST_CLIENT) + u64::from(clients) + 1 >= u64::from(size - 10) {
        return Err(GenError::Config(format!(
            "{clients} clients and IoT devices do not fit in /{len} (max {}); use a larger subnet",
            size - 10 - FIRST_CLIENT - 2
        )));
    }
    Ok(InternalServers {
        dns: top,
        web: top - 1,
        file: top - 2,
        mail: top - 3,
        db: top - 4,
        backup: top - 5,
        monitoring: top - 6,
        scanner: top - 7,
    })
}

/// The countries of `wanted` (uppercased, deduplicated) that the book knows,
/// or an error if none.
pub(crate) fn usable(book: &AddressBook, wanted: &[String]) -> Result<Vec<String>, GenError> {
    let mut v: Vec<String> = Vec::new();
    for cc in wanted.iter().map(|c| c.trim().to_ascii_uppercase()) {
        if book.has_country(&cc) && !v.contains(&cc) {
            v.push(cc);
        }
    }
    if v.is_empty() {
        return Err(GenError::NoAddresses(format!("any of {wanted:?}")));
    }
    Ok(v)
}

/// `n` distinct addresses from `countries`; the first country gets 40 %.
fn draw_external(
    book: &AddressBook,
    countries: &[String],
    n: usize,
    rng: &mut GenRng,
) -> Result<Vec<u32>, GenError> {
    let mut w = vec![0.6 / countries.len().saturating_sub(1).max(1) as f64; countries.len()];
    w[0] = if countries.len() == 1 { 1.0 } else { 0.4 };
    let pick = Weighted::new(&w);
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n * 20 {
        if out.len() == n {
            break;
        }
        let cc = &countries[pick.sample(rng).unwrap_or(0)];
        let ip = book
            .pick(rng, cc)
            .ok_or_else(|| GenError::NoAddresses(cc.clone()))?;
        if seen.insert(ip) {
            out.push(ip);
        }
    }
    Ok(out)
}

fn make_client(ip: u32, sites: &Weighted, n_sites: usize, rng: &mut GenRng) -> Client {
    let k = rng.random_range(5..=20);
    let mut favourites: Vec<usize> = (0..k).map(|_| sites.sample(rng).unwrap_or(0)).collect();
    favourites.extend((0..2).map(|_| rng.random_range(0..n_sites.max(1))));
    Client {
        ip,
        favourites,
        uses_db: rng.random_bool(0.2),
        always_on: rng.random_bool(0.12),
    }
}

/// Hourly activity profile of the office (times are UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// Internal clients: office hours, quiet nights and weekends.
    Office,
    /// Internet clients of the public servers: flatter cycle.
    Public,
}

/// Whether the hour containing `ts_us` is outside office life (20:00-06:59 UTC).
pub(crate) fn is_night(ts_us: i64) -> bool {
    let hour = ts_us.div_euclid(HOUR_US).rem_euclid(24);
    !(7..20).contains(&hour)
}

/// Relative activity of the hour starting at `ts_us`.
pub(crate) fn hour_weight(ts_us: i64, profile: Profile) -> f64 {
    let secs = ts_us.div_euclid(1_000_000);
    let hour = secs.div_euclid(3600).rem_euclid(24);
    let dow = (secs.div_euclid(86_400) + 4).rem_euclid(7); // 0 = Sunday
    let weekend = dow == 0 || dow == 6;
    let day = match hour {
        0..=5 => 0.04,
        6 => 0.1,
        7 => 0.35,
        8..=11 | 13..=16 => 1.0,
        12 => 0.7,
        17 => 0.8,
        18 => 0.45,
        19..=21 => 0.2,
        _ => 0.08,
    };
    match (profile, weekend) {
        (Profile::Office, false) => day,
        (Profile::Office, true) => day * 0.12,
        (Profile::Public, false) => 0.3 + 0.7 * day,
        (Profile::Public, true) => (0.3 + 0.7 * day) * 0.7,
    }
}

/// Activity weights of `hours` consecutive hours from `start_us`.
pub(crate) fn hour_weights(start_us: i64, hours: u32, profile: Profile) -> Vec<f64> {
    (0..i64::from(hours))
        .map(|h| hour_weight(start_us + h * HOUR_US, profile))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_noon_busier_than_night_and_weekend() {
        // 2026-03-02 (Monday) 10:00 UTC vs 03:00 and Saturday 2026-03-07 10:00.
        let mon10 = (1_772_409_600 + 10 * 3600) * 1_000_000;
        let mon03 = (1_772_409_600 + 3 * 3600) * 1_000_000;
        let sat10 = (1_772_409_600 + 5 * 86_400 + 10 * 3600) * 1_000_000;
        let w = |t| hour_weight(t, Profile::Office);
        assert!(w(mon10) > 10.0 * w(mon03));
        assert!(w(mon10) > 5.0 * w(sat10));
    }

    #[test]
    fn too_many_clients_is_an_error() {
        assert!(internal_servers((0xC0A8_6900, 24), 200).is_ok());
        assert!(internal_servers((0xC0A8_6900, 24), 234).is_ok());
        assert!(internal_servers((0xC0A8_6900, 24), 235).is_err());
        assert!(internal_servers((0xC0A8_6900, 28), 2).is_err());
    }
}
