//! The [`Planner`]: shared state for injecting scenarios and decoys — disjoint
//! host allocation, never-seen external addresses, time windows inside the
//! test period, and the summary of injected flows into truth records.

use crate::addrbook::AddressBook;
use crate::config::{GenConfig, Scenario};
use crate::dist::{choose_distinct, GenRng};
use crate::flow::{Flow, HOUR_US, US};
use crate::ip::dotted;
use crate::model::{usable, Network};
use crate::truth::ScenarioTruth;
use crate::GenError;
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};

/// Flows of one injected scenario and its truth record.
#[derive(Debug, Clone)]
pub(crate) struct Injected {
    pub flows: Vec<Flow>,
    pub truth: ScenarioTruth,
    /// Lines this scenario adds to the blocklist `intel.txt`.
    pub intel: Vec<String>,
}

impl Injected {
    /// A scenario that lists nothing in `intel.txt`.
    pub(crate) fn new(flows: Vec<Flow>, truth: ScenarioTruth) -> Self {
        Injected {
            flows,
            truth,
            intel: Vec::new(),
        }
    }
}

/// Shared planning state.
pub(crate) struct Planner<'a> {
    pub net: &'a Network,
    pub book: &'a AddressBook,
    /// Test period `[start, end)` in microseconds.
    pub test: (i64, i64),
    /// Whole normal+test span in microseconds.
    pub span: (i64, i64),
    /// How heavy scenarios are relative to the default test size (0.05..=1).
    pub intensity: f64,
    /// Ordinary flows per day of the normal period.
    pub flows_per_day: f64,
    pub usual: Vec<String>,
    unusual: Vec<String>,
    next_unusual: usize,
    used: BTreeSet<u32>,
    free_clients: Vec<u32>,
    /// IoT devices a scenario made its host: no longer benign decoys.
    pub iot_taken: Vec<u32>,
}

impl<'a> Planner<'a> {
    /// A planner over `net`; unusual countries are shuffled by `rng`.
    pub(crate) fn new(
        cfg: &GenConfig,
        net: &'a Network,
        book: &'a AddressBook,
        span: (i64, i64),
        test: (i64, i64),
        rng: &mut GenRng,
    ) -> Result<Self, GenError> {
        let usual = usable(book, &cfg.usual_countries)?;
        let unusual: Vec<String> = usable(book, &cfg.unusual_countries)
            .unwrap_or_default()
            .into_iter()
            .filter(|c| !usual.contains(c))
            .collect();
        let unusual = choose_distinct(rng, &unusual, unusual.len());
        let ips: Vec<u32> = net.clients.iter().map(|c| c.ip).collect();
        Ok(Planner {
            net,
            book,
            test,
            span,
            intensity: (cfg.flows_test as f64 / 100_000.0).clamp(0.05, 1.0),
            flows_per_day: cfg.flows_normal as f64 / f64::from(cfg.normal_days.max(1)),
            usual,
            unusual,
            next_unusual: 0,
            used: net.known.clone(),
            free_clients: choose_distinct(rng, &ips, ips.len()),
            iot_taken: Vec::new(),
        })
    }

    /// `k` clients not yet given to another scenario or decoy.
    pub(crate) fn take_clients(&mut self, k: usize) -> Result<Vec<u32>, GenError> {
        if self.free_clients.len() < k {
            return Err(GenError::Config(
                "not enough clients for the selected scenarios and decoys (use at least 40)".into(),
            ));
        }
        Ok(self.free_clients.split_off(self.free_clients.len() - k))
    }

    /// The next country absent from normal traffic.
    pub(crate) fn unusual_country(&mut self) -> Result<String, GenError> {
        if self.unusual.is_empty() {
            return Err(GenError::NoAddresses("the unusual countries".into()));
        }
        let cc = self.unusual[self.next_unusual % self.unusual.len()].clone();
        self.next_unusual += 1;
        Ok(cc)
    }

    /// A random usual country.
    pub(crate) fn usual_country(&self, rng: &mut GenRng) -> String {
        self.usual[rng.random_range(0..self.usual.len())].clone()
    }

    /// `k` never-used external addresses, each in a usual country with probability `usual_share`
    /// (else the next unusual one), and their distinct countries in order of first use.
    pub(crate) fn fresh_mixed(
        &mut self,
        rng: &mut GenRng,
        k: usize,
        usual_share: f64,
    ) -> Result<(Vec<u32>, Vec<String>), GenError> {
        let mut ips = Vec::with_capacity(k);
        let mut countries = Vec::new();
        for _ in 0..k {
            let cc = if rng.random_bool(usual_share) {
                self.usual_country(rng)
            } else {
                self.unusual_country()?
            };
            ips.push(self.fresh_ip(rng, &cc)?);
            if !countries.contains(&cc) {
                countries.push(cc);
            }
        }
        Ok((ips, countries))
    }

    /// An external address of `cc` never used before in this dataset.
    pub(crate) fn fresh_ip(&mut self, rng: &mut GenRng, cc: &str) -> Result<u32, GenError> {
        for _ in 0..1000 {
            let ip = self
                .book
                .pick(rng, cc)
                .ok_or_else(|| GenError::NoAddresses(cc.into()))?;
            if self.used.insert(ip) {
                return Ok(ip);
            }
        }
        Err(GenError::NoAddresses(format!("{cc} (exhausted)")))
    }

    /// Reserves the /24 `block` for one address `ip` already drawn: true when
    /// no other address of the block was used, and then nothing else will be.
    pub(crate) fn reserve_block(&mut self, block: u32, ip: u32) -> bool {
        let others = self.used.range(block..=block | 0xff).any(|&x| x != ip);
        if !others {
            self.used.extend((0..=0xff).map(|i| block | i));
        }
        !others
    }

    /// Start of a window of `dur_us` inside the test period (clamped).
    pub(crate) fn window(&self, rng: &mut GenRng, dur_us: i64) -> (i64, i64) {
        let (t0, t1) = self.test;
        let dur = dur_us.clamp(US, t1 - t0 - US);
        let latest = (t1 - dur - US).max(t0 + 1);
        let start = rng.random_range(t0..latest);
        (start, start + dur)
    }

    /// A random timestamp inside the test period, in a night hour (00-05 UTC).
    pub(crate) fn night_ts(&self, rng: &mut GenRng) -> i64 {
        let (t0, t1) = self.test;
        let days = ((t1 - t0) / (24 * HOUR_US)).max(1);
        let day = rng.random_range(0..days);
        let ts = t0 + day * 24 * HOUR_US + rng.random_range(0..5 * HOUR_US);
        ts.min(t1 - 1)
    }

    /// A random timestamp inside the test period, in office hours (08-18 UTC).
    pub(crate) fn office_ts(&self, rng: &mut GenRng) -> i64 {
        let (t0, t1) = self.test;
        let days = ((t1 - t0) / (24 * HOUR_US)).max(1);
        let day = rng.random_range(0..days);
        let ts = t0 + day * 24 * HOUR_US + 8 * HOUR_US + rng.random_range(0..10 * HOUR_US);
        ts.min(t1 - 1)
    }

    /// Clamps a flow count by the intensity, with a floor.
    pub(crate) fn scaled(&self, n: u64, floor: u64) -> u64 {
        ((n as f64 * self.intensity).round() as u64).max(floor)
    }
}

/// Dotted strings of `ips`.
pub(crate) fn strings(ips: &[u32]) -> Vec<String> {
    ips.iter().map(|&ip| dotted(ip)).collect()
}

/// A truth record for `flows`, with time span, count and byte sums filled in.
pub(crate) fn summarise(kind: Scenario, file: &str, flows: &[Flow]) -> ScenarioTruth {
    let start = flows
        .iter()
        .map(|f| f.ts_us)
        .min()
        .unwrap_or(0)
        .div_euclid(US);
    let end = flows
        .iter()
        .map(|f| f.ts_us)
        .max()
        .unwrap_or(0)
        .div_euclid(US);
    ScenarioTruth {
        kind,
        file: file.to_string(),
        hosts: Vec::new(),
        peers: Vec::new(),
        ports: Vec::new(),
        countries: Vec::new(),
        start,
        end,
        flows: flows.len() as u64,
        up_bytes: flows.iter().map(|f| f.up.max(0) as u64).sum(),
        down_bytes: flows.iter().map(|f| f.down.max(0) as u64).sum(),
        note: String::new(),
        params: BTreeMap::new(),
    }
}

/// A parameter map from `(name, value)` pairs.
pub(crate) fn params(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}
