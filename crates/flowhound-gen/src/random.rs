//! Random generator configurations for sweeps: [`GenConfig::random`] draws a
//! network shape (size, density, period lengths, scenario subset, IoT devices,
//! timestamp encoding) from a seed; [`GenConfig::random_small`] draws the same
//! shape at a size a debug build analyses in seconds.

use crate::config::{GenConfig, Scenario, TsFormat};
use crate::dist::stream_rng;
use rand::Rng;

/// Stream of the configuration RNG (distinct from the data streams).
const CONFIG_STREAM: u64 = 99;

/// Stream deciding whether a configuration has the `dropper` scenario.
const DROPPER_CONFIG_STREAM: u64 = 97;
/// Stream deciding whether a configuration has the `spam` scenario.
const SPAM_CONFIG_STREAM: u64 = 95;

/// IoT devices of a configuration: at least one when it has the `dropper` scenario (its host).
fn with_device(iot: u32, dropper: bool) -> u32 {
    if dropper {
        iot.max(1)
    } else {
        iot
    }
}

/// Clients each scenario takes at most (botnet 8, ...), for the fit check.
fn clients_needed(s: Scenario) -> u32 {
    match s {
        Scenario::Botnet => 8,
        Scenario::CncBeacon => 3,
        Scenario::Exfiltration => 2,
        Scenario::UnusualCountry => 4,
        Scenario::DnsTunnel
        | Scenario::PortScan
        | Scenario::CncChannel
        | Scenario::Dos
        | Scenario::ThreatIntel
        | Scenario::Spam => 1,
        Scenario::ServerAbuse | Scenario::InboundAttack | Scenario::Dropper => 0,
    }
}

/// Clients the decoys take at most (the update check).
const DECOY_CLIENTS: u32 = 10;

/// Log-uniform draw in `[lo, hi]`.
fn log_uniform(rng: &mut crate::dist::GenRng, lo: f64, hi: f64) -> f64 {
    rng.random_range(lo.ln()..=hi.ln()).exp()
}

/// The limits of one family of random configurations.
struct Ranges {
    clients: (f64, f64),
    density: (f64, f64),
    normal_days: (u32, u32),
    test_hours: (u32, u32),
    iot: (u32, u32),
    max_rows: u64,
}

impl GenConfig {
    /// A random configuration from `seed` (realistic ranges): 20-2000 clients
    /// (log-uniform), 5k-200k flows per client per day (log-uniform; the
    /// total is capped at 20M rows by lowering the density), a normal period
    /// of 1-7 days (1 day in about a third of the draws), a 24-72 h test
    /// period, each scenario with probability 0.7 (at least one), 0-20 IoT
    /// devices, any timestamp encoding. Decoys are on. Deterministic.
    pub fn random(seed: u64) -> GenConfig {
        Self::random_wide(seed, 20_000_000)
    }

    /// Like [`GenConfig::random`] at test size: 20-60 clients, normal 1-2
    /// days, test 24-36 h, 0-6 IoT devices, and the density lowered so that
    /// `flows_normal` stays at most `max_rows_normal` (the infrastructure
    /// decoys come on top).
    pub fn random_small(seed: u64, max_rows_normal: u64) -> GenConfig {
        draw(
            seed,
            &Ranges {
                clients: (20.0, 60.0),
                density: (5_000.0, 200_000.0),
                normal_days: (1, 2),
                test_hours: (24, 36),
                iot: (0, 6),
                max_rows: max_rows_normal,
            },
        )
    }

    /// [`GenConfig::random`]'s ranges (20-2000 clients, 1-7 normal days,
    /// 24-72 h test, 0-20 IoT devices) with the normal rows capped at
    /// `max_rows_normal` by lowering the density: network size and period
    /// length vary as widely as in the real thing, at a size a sweep can run.
    pub fn random_wide(seed: u64, max_rows_normal: u64) -> GenConfig {
        draw(
            seed,
            &Ranges {
                clients: (20.0, 2000.0),
                density: (5_000.0, 200_000.0),
                normal_days: (1, 7),
                test_hours: (24, 72),
                iot: (0, 20),
                max_rows: max_rows_normal,
            },
        )
    }
}

fn draw(seed: u64, r: &Ranges) -> GenConfig {
    let mut rng = stream_rng(seed, CONFIG_STREAM);
    let clients = log_uniform(&mut rng, r.clients.0, r.clients.1).round() as u32;
    let normal_days = if rng.random_bool(0.35) {
        1
    } else {
        rng.random_range(r.normal_days.0..=r.normal_days.1)
    };
    let test_hours = rng.random_range(r.test_hours.0..=r.test_hours.1);
    let mut density = log_uniform(&mut rng, r.density.0, r.density.1) as u64;
    let normal_rows = |d: u64| d * u64::from(clients) * u64::from(normal_days);
    if normal_rows(density) > r.max_rows {
        density = (r.max_rows / (u64::from(clients) * u64::from(normal_days))).max(1);
    }
    // the scenarios that existed before `dropper` are drawn from the configuration stream as
    // before it (so every seed keeps its configuration); `dropper` and `spam` from streams of
    // their own
    let earlier = &Scenario::ALL[..EARLIER_SCENARIOS];
    let mut scenarios: Vec<Scenario> = earlier
        .iter()
        .copied()
        .filter(|_| rng.random_bool(0.7))
        .collect();
    if scenarios.is_empty() {
        scenarios.push(earlier[rng.random_range(0..earlier.len())]);
    }
    fit_scenarios(&mut scenarios, clients);
    if stream_rng(seed, SPAM_CONFIG_STREAM).random_bool(0.5)
        && fits(&scenarios, Scenario::Spam, clients)
    {
        scenarios.push(Scenario::Spam);
    }
    let dropper = stream_rng(seed, DROPPER_CONFIG_STREAM).random_bool(0.7);
    let formats = [
        TsFormat::Seconds,
        TsFormat::Millis,
        TsFormat::FloatSeconds,
        TsFormat::ArrowTimestamp,
    ];
    let per_day = density * u64::from(clients);
    let flows_test = per_day * u64::from(test_hours) / 24;
    GenConfig {
        seed,
        flows_normal: per_day * u64::from(normal_days),
        flows_test,
        flows_servers: (flows_test / 10).max(2000),
        subnet: subnet_for(clients).into(),
        clients,
        normal_days,
        test_hours: Some(test_hours),
        iot_devices: with_device(rng.random_range(r.iot.0..=r.iot.1), dropper),
        scenarios: if dropper {
            with_dropper(scenarios)
        } else {
            scenarios
        },
        ts_format: formats[rng.random_range(0..formats.len())],
        labels: true,
        fleet_update: true,
        ..GenConfig::default()
    }
}

/// Scenarios drawn from the configuration stream: those that existed before `dropper`.
const EARLIER_SCENARIOS: usize = 11;

/// Clients `scenarios` and the decoys take at most.
fn need(scenarios: &[Scenario]) -> u32 {
    scenarios.iter().map(|s| clients_needed(*s)).sum::<u32>() + DECOY_CLIENTS
}

/// True when `extra`'s hosts fit in `clients` beside `scenarios` and the decoys.
fn fits(scenarios: &[Scenario], extra: Scenario, clients: u32) -> bool {
    need(scenarios) + clients_needed(extra) <= clients
}

/// `scenarios` with `dropper`, in canonical order (before `spam`).
fn with_dropper(mut scenarios: Vec<Scenario>) -> Vec<Scenario> {
    scenarios.push(Scenario::Dropper);
    scenarios.sort();
    scenarios
}

/// Drops scenarios (largest first) until their hosts and the decoys' fit in
/// `clients`, always keeping at least one.
fn fit_scenarios(scenarios: &mut Vec<Scenario>, clients: u32) {
    while scenarios.len() > 1 && need(scenarios) > clients {
        let (i, _) = scenarios
            .iter()
            .enumerate()
            .max_by_key(|(_, s)| clients_needed(**s))
            .unwrap_or((0, &Scenario::Botnet));
        scenarios.remove(i);
    }
}

/// A subnet large enough for `clients` plus the IoT devices and servers.
fn subnet_for(clients: u32) -> &'static str {
    match clients {
        0..=200 => "192.168.105.0/24",
        201..=900 => "10.20.0.0/22",
        _ => "10.20.0.0/20",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_configs_are_valid_and_deterministic() {
        for seed in 0..200 {
            let c = GenConfig::random(seed);
            assert_eq!(c, GenConfig::random(seed));
            assert!(c.validate().is_ok(), "{c:?}");
            assert!((20..=2000).contains(&c.clients), "{}", c.clients);
            assert!(!c.scenarios.is_empty());
            assert!(c.flows_normal <= 20_000_000);
            let s = GenConfig::random_small(seed, 30_000);
            assert!(s.flows_normal <= 30_000 && (20..=60).contains(&s.clients));
        }
    }

    #[test]
    fn dropper_configurations_have_a_device() {
        assert_eq!(
            [
                with_device(0, true),
                with_device(0, false),
                with_device(5, true)
            ],
            [1, 0, 5]
        );
        let with: Vec<GenConfig> = (0..100)
            .map(|s| GenConfig::random_small(s, 6000))
            .filter(|c| c.has(Scenario::Dropper))
            .collect();
        assert!((40..=90).contains(&with.len()), "{}", with.len());
        assert!(with
            .iter()
            .all(|c| c.iot_devices >= 1 && c.validate().is_ok()));
    }

    #[test]
    fn spam_configurations_have_a_client_for_it() {
        let with: Vec<GenConfig> = (0..100)
            .map(|s| GenConfig::random_small(s, 6000))
            .filter(|c| c.has(Scenario::Spam))
            .collect();
        assert!((25..=75).contains(&with.len()), "{}", with.len());
        for c in &with {
            assert!(
                need(&c.scenarios) <= c.clients && c.validate().is_ok(),
                "{c:?}"
            );
        }
        assert!(fits(&[], Scenario::Spam, 11) && !fits(&[], Scenario::Spam, 10));
    }

    #[test]
    fn small_networks_keep_scenarios_that_fit() {
        let mut all = Scenario::ALL.to_vec();
        fit_scenarios(&mut all, 20);
        assert!(need(&all) <= 20 && !all.is_empty());
        assert!(!all.contains(&Scenario::Botnet));
    }
}
