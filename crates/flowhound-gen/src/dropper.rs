//! The `dropper` scenario: an IoT device's malware loader fetching its payload. The device (one of
//! the IoT devices, with its NTP and cloud heartbeat in both periods, and then no longer listed as
//! a benign `iot_device` decoy) fetches a small
//! script, then 3-10 binaries of 35 KB-2 MB (one per CPU architecture) over plain HTTP from 1-2
//! never-seen addresses of one host name, 0.5-20 s apart. It has its own RNG stream, so adding it
//! leaves every other scenario's and decoy's draws as they were.

use crate::config::Scenario;
use crate::dist::{bytes, lognormal, GenRng};
use crate::flow::{Flow, Label, Proto, US};
use crate::plan::{params, strings, summarise, Injected, Planner};
use crate::GenError;
use rand::Rng;

/// Injects the scenario.
pub(crate) fn dropper(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    if p.net.iot.is_empty() {
        return Err(GenError::Config(
            "the dropper scenario needs an IoT device: set iot_devices to at least 1 (with decoys on)"
                .into(),
        ));
    }
    let device = p.net.iot[rng.random_range(0..p.net.iot.len())];
    p.iot_taken.push(device);
    let cc = p.usual_country(rng);
    let n_peers = rng.random_range(1..=2usize);
    let peers = (0..n_peers)
        .map(|_| p.fresh_ip(rng, &cc))
        .collect::<Result<Vec<u32>, _>>()?;
    let port = if rng.random_bool(0.8) { 80 } else { 8080 };
    let binaries = rng.random_range(3..=10i64);
    let (mut t, _) = p.window(rng, 10 * 60 * US);
    let label = Label::Scenario(Scenario::Dropper);
    // an HTTP GET of a few hundred bytes (the request line and headers of busybox wget)
    let fetch = |t: i64, peer: u32, (up, down): (i64, i64)| {
        Flow::new(t, (device, peer), (Proto::Tcp, port), (up, down), label)
    };
    // the loader script first (a few KB), then one binary per architecture
    let script = (rng.random_range(80..=160), rng.random_range(800..4000));
    let mut flows = vec![fetch(t, peers[0], script)];
    for i in 0..binaries {
        t += rng.random_range(US / 2..=20 * US);
        let size = bytes(lognormal(rng, 120_000.0, 0.6), 35_000, 2_000_000);
        let up = rng.random_range(80..=160);
        flows.push(fetch(t, peers[i as usize % n_peers], (up, size)));
    }
    let mut truth = summarise(Scenario::Dropper, "test", &flows);
    truth.hosts = strings(&[device]);
    truth.peers = strings(&peers);
    truth.ports = vec![port];
    truth.countries = vec![cc];
    truth.note = format!(
        "IoT loader: a script, then {binaries} binaries over plain HTTP from {n_peers} new address(es)"
    );
    truth.params = params(&[("binaries", binaries as f64), ("peers", n_peers as f64)]);
    Ok(Injected::new(flows, truth))
}
