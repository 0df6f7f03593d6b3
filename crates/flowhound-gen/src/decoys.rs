//! Decoys: benign-but-unusual traffic present where it should be (the nightly
//! backup and the update check in BOTH periods, the new employee only in test;
//! the infrastructure decoys of [`crate::infra`] in both periods).

use crate::config::{DecoyKind, GenConfig};
use crate::dist::{bytes, jitter, lognormal, stream_rng, GenRng};
use crate::flow::{Flow, Proto, HOUR_US, US};
use crate::infra;
use crate::ip::dotted;
use crate::plan::{strings, Planner};
use crate::truth::DecoyTruth;
use crate::GenError;
use rand::Rng;

/// Flows of the decoys plus their truth records (new-employee flows are made
/// by the normal sampler; its record's `flows` is filled in after writing).
pub(crate) struct Decoys {
    pub flows: Vec<Flow>,
    pub truth: Vec<DecoyTruth>,
}

/// Plans all decoys over the whole normal+test span.
pub(crate) fn plan(cfg: &GenConfig, p: &mut Planner, rng: &mut GenRng) -> Result<Decoys, GenError> {
    let mut flows = Vec::new();
    let backup = nightly_backup(p, rng, &mut flows)?;
    let update = update_check(p, rng, &mut flows)?;
    let mut truth = vec![backup, update];
    if cfg.snmp_poller {
        truth.push(infra::snmp_poller(p, rng, &mut flows));
    }
    if cfg.vuln_scanner {
        truth.push(infra::vuln_scanner(p, rng, &mut flows));
    }
    truth.extend(infra::iot_devices(p, rng, &mut flows)?);
    if let Some(c) = &p.net.newcomer {
        truth.push(DecoyTruth {
            kind: DecoyKind::NewEmployee,
            hosts: vec![dotted(c.ip)],
            peers: Vec::new(),
            ports: Vec::new(),
            files: vec!["test".into()],
            flows: 0,
            note: "a new client, only in the test period, with ordinary habits".into(),
        });
    }
    if cfg.fleet_update {
        // its own stream, drawn last: configurations keep every earlier draw
        let mut own = stream_rng(cfg.seed, FLEET_STREAM);
        truth.push(fleet_update(p, &mut own, &mut flows)?);
    }
    Ok(Decoys { flows, truth })
}

/// RNG stream of the `fleet_update` decoy.
const FLEET_STREAM: u64 = 96;

/// A software update rolled out to 50-90 % of the clients: within one hour of the test period each
/// downloads 100-800 MB from one CDN address (a usual country) over HTTPS in 1-3 flows.
fn fleet_update(
    p: &mut Planner,
    rng: &mut GenRng,
    out: &mut Vec<Flow>,
) -> Result<DecoyTruth, GenError> {
    let cc = p.usual[0].clone();
    let cdn = p.fresh_ip(rng, &cc)?;
    let share = rng.random_range(0.5..0.9);
    let (t0, _) = p.window(rng, HOUR_US);
    let hosts: Vec<u32> = p
        .net
        .clients
        .iter()
        .map(|c| c.ip)
        .filter(|_| rng.random_bool(share))
        .collect();
    let before = out.len();
    for &h in &hosts {
        let ts = t0 + rng.random_range(0..HOUR_US - 60 * US);
        for k in 0..rng.random_range(1..=3) {
            let down = bytes(rng.random_range(1e8..8e8), 1, i64::MAX);
            let up = bytes(lognormal(rng, 40_000.0, 0.3), 1000, 10_000_000);
            out.push(decoy(
                ts + k * 10 * US,
                h,
                cdn,
                443,
                up,
                down,
                DecoyKind::FleetUpdate,
            ));
        }
    }
    Ok(DecoyTruth {
        kind: DecoyKind::FleetUpdate,
        hosts: strings(&hosts),
        peers: vec![dotted(cdn)],
        ports: vec![443],
        files: vec!["test".into()],
        flows: (out.len() - before) as u64,
        note: format!(
            "{} clients download an update from one CDN address ({cc}) in the same hour",
            hosts.len()
        ),
    })
}

fn decoy(ts_us: i64, src: u32, dst: u32, port: u16, up: i64, down: i64, kind: DecoyKind) -> Flow {
    infra::decoy_flow(ts_us, (src, dst), (Proto::Tcp, port), (up, down), kind)
}

/// The backup server uploads 1-4 GB to the same cloud address every night,
/// 01-03 UTC, in 10-30 flows.
fn nightly_backup(
    p: &mut Planner,
    rng: &mut GenRng,
    out: &mut Vec<Flow>,
) -> Result<DecoyTruth, GenError> {
    let host = p.net.servers.backup;
    let cc = p.usual[0].clone();
    let target = p.fresh_ip(rng, &cc)?;
    let per_night = rng.random_range(10..=30);
    let nightly = rng.random_range(1e9..4e9);
    let before = out.len();
    let (s0, s1) = p.span;
    let mut night = s0 - s0.rem_euclid(24 * HOUR_US) + HOUR_US;
    while night < s1 {
        for i in 0..per_night {
            let ts = night + i * (2 * HOUR_US / per_night) + rng.random_range(0..30 * US);
            let share = nightly / per_night as f64;
            let up = bytes(jitter(rng, share, 0.25), 1_000_000, i64::MAX);
            let down = bytes(lognormal(rng, 50_000.0, 0.3), 1000, 10_000_000);
            if (s0..s1).contains(&ts) {
                out.push(decoy(
                    ts,
                    host,
                    target,
                    443,
                    up,
                    down,
                    DecoyKind::NightlyBackup,
                ));
            }
        }
        night += 24 * HOUR_US;
    }
    Ok(DecoyTruth {
        kind: DecoyKind::NightlyBackup,
        hosts: vec![dotted(host)],
        peers: vec![dotted(target)],
        ports: vec![443],
        files: vec!["normal".into(), "test".into()],
        flows: (out.len() - before) as u64,
        note: format!(
            "{per_night} uploads totalling ~{:.1} GB every night 01-03 UTC ({cc})",
            nightly / 1e9
        ),
    })
}

/// A few clients poll the most popular site every hour, around the clock.
fn update_check(
    p: &mut Planner,
    rng: &mut GenRng,
    out: &mut Vec<Flow>,
) -> Result<DecoyTruth, GenError> {
    let hosts = p.take_clients(rng.random_range(5..=10))?;
    let target = p.net.sites.first().copied().unwrap_or(0x0808_0808);
    let (up0, down0) = (
        rng.random_range(400.0..900.0),
        rng.random_range(1000.0..3000.0),
    );
    let before = out.len();
    let (s0, s1) = p.span;
    for &h in &hosts {
        let mut t = s0 + rng.random_range(0..HOUR_US);
        while t < s1 {
            let up = bytes(jitter(rng, up0, 0.02), 1, 100_000);
            let down = bytes(jitter(rng, down0, 0.03), 1, 100_000);
            out.push(decoy(t, h, target, 443, up, down, DecoyKind::UpdateCheck));
            t += jitter(rng, HOUR_US as f64, 0.01) as i64;
        }
    }
    Ok(DecoyTruth {
        kind: DecoyKind::UpdateCheck,
        hosts: strings(&hosts),
        peers: vec![dotted(target)],
        ports: vec![443],
        files: vec!["normal".into(), "test".into()],
        flows: (out.len() - before) as u64,
        note: "hourly update check to the most popular site, both periods".into(),
    })
}
