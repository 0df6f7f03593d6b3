//! One pass over the flows into a mergeable learning [`State`] (per capture, per UTC day, or per host
//! shard); the baseline is derived from the state ([`State::finish`]).

use super::state::{Grid, HabitFlow, State};
use super::Baseline;
use crate::config::BaselineConfig;
use crate::detect::flows::{host_view, Flows};
use crate::error::{FlowError, Result};
use crate::ip;
use crate::net::InternalNets;
use flowhound_geo::GeoStack;
use std::sync::atomic::{AtomicBool, Ordering};

/// Microseconds per second.
const US: i64 = 1_000_000;

/// Microseconds per day.
pub const DAY_US: i64 = 86_400 * US;

/// The window index of a timestamp (microseconds) for windows of `window_secs`.
pub fn window_of(ts_us: i64, window_secs: u64) -> i64 {
    ts_us.div_euclid(window_secs.max(1) as i64 * US)
}

/// The UTC hour of day of a timestamp (microseconds).
pub fn hour_of(ts_us: i64) -> usize {
    (ts_us.div_euclid(3600 * US).rem_euclid(24)) as usize
}

/// The UTC day (days since 1970-01-01) of a timestamp (microseconds).
pub fn day_of(ts_us: i64) -> i64 {
    ts_us.div_euclid(DAY_US)
}

/// Learns a baseline from `flows`. `files` and `self_learned` are recorded in its `source`.
pub fn learn(
    flows: &Flows,
    nets: &InternalNets,
    geo: &GeoStack,
    cfg: &BaselineConfig,
    files: Vec<String>,
    self_learned: bool,
) -> Result<Baseline> {
    let never = AtomicBool::new(false);
    learn_cancellable(flows, nets, geo, cfg, files, self_learned, &never)
}

/// [`learn`], failing soon after `cancel` is set (checked every 65,536 flows).
pub fn learn_cancellable(
    flows: &Flows,
    nets: &InternalNets,
    geo: &GeoStack,
    cfg: &BaselineConfig,
    files: Vec<String>,
    self_learned: bool,
    cancel: &AtomicBool,
) -> Result<Baseline> {
    state_of(flows, (nets, geo), (cfg, self_learned), files, cancel)?.finish()
}

/// The sealed learning state of every flow of `flows`, on every core ([`learn_parallel`]).
fn state_of(
    flows: &Flows,
    (nets, geo): (&InternalNets, &GeoStack),
    settings: (&BaselineConfig, bool),
    files: Vec<String>,
    cancel: &AtomicBool,
) -> Result<State> {
    check(settings.0)?;
    let parts = learning_parts(flows.len());
    let mut st = learn_parallel(flows, nets, geo, settings, cancel, parts)?;
    st.files = files;
    Ok(st)
}

/// Flows below which learning is one pass on one thread.
const PARALLEL_MIN_FLOWS: usize = 200_000;

/// How many host parts learn `flows` flows: one below [`PARALLEL_MIN_FLOWS`], else several per
/// core (hosts differ much in traffic, and a part is one host group).
fn learning_parts(flows: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if flows < PARALLEL_MIN_FLOWS || cores == 1 {
        1
    } else {
        (cores * 4).min(64)
    }
}

/// The sealed learning state of every flow, learned by `parts` host parts on every core
/// ([`in_host_parts`]); the parts merge into the state of all the flows.
fn learn_parallel(
    flows: &Flows,
    nets: &InternalNets,
    geo: &GeoStack,
    (cfg, self_learned): (&BaselineConfig, bool),
    cancel: &AtomicBool,
    parts: usize,
) -> Result<State> {
    let states = in_host_parts(flows, nets, parts, |mine| {
        let mut st = State::new(cfg, nets, self_learned);
        pass(flows, nets, cancel, &mut st, |_, i| mine(i))?;
        st.seal(geo);
        Ok(st)
    })?;
    let mut all = State::default();
    for st in states {
        all.merge(st)?;
    }
    Ok(all)
}

/// Runs `job` for each of `parts` (at most 256) groups of hosts, on every core. `job` is given the
/// test "flow `i` is the part's": the flow's [`owner`] is one of its hosts, as for a host shard, so
/// the parts' states merge into the state of all the flows.
fn in_host_parts<R: Send>(
    flows: &Flows,
    nets: &InternalNets,
    parts: usize,
    job: impl Fn(&(dyn Fn(usize) -> bool + Sync)) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let parts = parts.clamp(1, 256);
    let part: Vec<u8> = (0..flows.len())
        .map(|i| {
            crate::shard::route::shard_of(owner(flows.src[i], flows.dst[i], nets), parts) as u8
        })
        .collect();
    let ids: Vec<u8> = (0..parts).map(|k| k as u8).collect();
    crate::detect::in_parallel(&ids, |k| job(&|i: usize| part[i] == *k))
        .into_iter()
        .collect()
}

/// The learning state of `flows` (all of them), for [`super::merge`] or a day of a rolling baseline.
pub fn learn_state(
    flows: &Flows,
    nets: &InternalNets,
    geo: &GeoStack,
    cfg: &BaselineConfig,
    files: Vec<String>,
) -> Result<State> {
    let never = AtomicBool::new(false);
    state_of(flows, (nets, geo), (cfg, false), files, &never)
}

/// The host a flow is counted for when learning by host shard: its internal end as the baseline
/// attributes it (the source when internal, so an internal-to-internal flow belongs to the client;
/// else the destination), or the destination when neither end is internal (as the out-of-core
/// router, [`crate::shard::route`], places such flows).
pub fn owner(src: u128, dst: u128, nets: &InternalNets) -> u128 {
    match host_view(src, dst, 0, 0, nets) {
        Some(v) => v.host,
        None => dst,
    }
}

/// The learning state of one host shard: counts exactly the flows of `flows` whose [`owner`] the
/// shard owns (`owns`) and skips the others, so the shards' inputs may overlap (a flow between two
/// internal hosts may be given to both hosts' shards). [`super::merge`] of the states of shards that
/// partition the hosts gives the baseline learned from all flows at once.
pub fn learn_part(
    flows: &Flows,
    nets: &InternalNets,
    geo: &GeoStack,
    cfg: &BaselineConfig,
    files: Vec<String>,
    owns: impl Fn(u128) -> bool,
) -> Result<State> {
    learn_shard(flows, nets, geo, (cfg, false), files, owns)
}

/// [`learn_part`] for a normal (`self_learned` false) or a self-learned baseline (robust statistics,
/// learned from the test input itself).
pub fn learn_shard(
    flows: &Flows,
    nets: &InternalNets,
    geo: &GeoStack,
    (cfg, self_learned): (&BaselineConfig, bool),
    files: Vec<String>,
    owns: impl Fn(u128) -> bool,
) -> Result<State> {
    check(cfg)?;
    let mut st = State::new(cfg, nets, self_learned);
    st.files = files;
    let never = AtomicBool::new(false);
    pass(flows, nets, &never, &mut st, |f, i| {
        owns(owner(f.src[i], f.dst[i], nets))
    })?;
    st.seal(geo);
    Ok(st)
}

/// The learning states of `flows` split by the UTC day each flow starts in, oldest first.
pub fn learn_days(
    flows: &Flows,
    nets: &InternalNets,
    geo: &GeoStack,
    cfg: &BaselineConfig,
    files: Vec<String>,
    cancel: &AtomicBool,
) -> Result<Vec<(i64, State)>> {
    learn_days_in(
        flows,
        (nets, geo, cfg),
        files,
        cancel,
        learning_parts(flows.len()),
    )
}

/// [`learn_days`] by `parts` host parts on every core, merged day by day.
fn learn_days_in(
    flows: &Flows,
    (nets, geo, cfg): (&InternalNets, &GeoStack, &BaselineConfig),
    files: Vec<String>,
    cancel: &AtomicBool,
    parts: usize,
) -> Result<Vec<(i64, State)>> {
    check(cfg)?;
    let per_part = in_host_parts(flows, nets, parts, |mine| {
        days_of(flows, (nets, geo, cfg), &files, cancel, mine)
    })?;
    let mut days: std::collections::BTreeMap<i64, State> = Default::default();
    for (d, st) in per_part.into_iter().flatten() {
        days.entry(d).or_default().merge(st)?;
    }
    Ok(days.into_iter().collect())
}

/// The sealed states per UTC day of the flows `mine` accepts, oldest first.
fn days_of(
    flows: &Flows,
    (nets, geo, cfg): (&InternalNets, &GeoStack, &BaselineConfig),
    files: &[String],
    cancel: &AtomicBool,
    mine: &(dyn Fn(usize) -> bool + Sync),
) -> Result<Vec<(i64, State)>> {
    let mut days: Vec<i64> = (0..flows.len())
        .filter(|i| mine(*i))
        .map(|i| day_of(flows.ts[i]))
        .collect();
    days.sort_unstable();
    days.dedup();
    let mut states: Vec<(i64, State)> = days
        .iter()
        .map(|d| {
            let mut st = State::new(cfg, nets, false);
            st.files = files.to_vec();
            (*d, st)
        })
        .collect();
    let mut at = 0usize;
    for i in 0..flows.len() {
        if i % 65_536 == 0 && cancel.load(Ordering::Relaxed) {
            return Err(interrupted());
        }
        if !mine(i) {
            continue;
        }
        let d = day_of(flows.ts[i]);
        if states[at].0 != d {
            at = states.partition_point(|(x, _)| *x < d);
        }
        add_flow(&mut states[at].1, flows, i, nets);
    }
    for (_, st) in states.iter_mut() {
        st.seal(geo);
    }
    Ok(states)
}

fn check(cfg: &BaselineConfig) -> Result<()> {
    if cfg.window_secs == 0 {
        return Err(FlowError::Config(
            "baseline.window_secs must be at least 1".into(),
        ));
    }
    Ok(())
}

fn interrupted() -> FlowError {
    FlowError::Internal("interrupted".into())
}

/// Adds every flow `keep` accepts to `st`.
fn pass(
    flows: &Flows,
    nets: &InternalNets,
    cancel: &AtomicBool,
    st: &mut State,
    keep: impl Fn(&Flows, usize) -> bool,
) -> Result<()> {
    for i in 0..flows.len() {
        if i % 65_536 == 0 && cancel.load(Ordering::Relaxed) {
            return Err(interrupted());
        }
        if keep(flows, i) {
            add_flow(st, flows, i, nets);
        }
    }
    Ok(())
}

fn add_flow(st: &mut State, f: &Flows, i: usize, nets: &InternalNets) {
    st.count_flow(f.ts[i], f.up[i], f.down[i]);
    let Some(v) = host_view(f.src[i], f.dst[i], f.up[i], f.down[i], nets) else {
        return;
    };
    let peer_internal = nets.contains(v.peer);
    let hf = HabitFlow {
        ts: f.ts[i],
        host: v.host,
        peer: v.peer,
        peer_internal,
        originator: v.originator,
        proto: f.proto[i],
        port: f.dst_port[i],
        sent: v.sent,
        received: v.received,
    };
    let g: Grid = st.grid.expect("a learning state has its windows");
    st.hosts.entry(v.host).or_default().add(&hf, g);
    if peer_internal {
        st.add_internal(f.src[i], f.dst[i], f.proto[i].index() as u8, f.dst_port[i]);
    }
}

/// Parses a `--exclude` / `baseline.exclude` entry: `IP` or `IP:PORT` (`[v6]:PORT` for IPv6).
pub fn parse_exclude(text: &str) -> Result<(u128, Option<u16>)> {
    let bad = || {
        FlowError::Config(format!(
            "exclude '{text}': expected IP or IP:PORT, e.g. 192.168.105.5 or 192.168.105.5:445"
        ))
    };
    if let Some(v) = ip::parse(text) {
        return Ok((v, None));
    }
    let (addr, port) = text.trim().rsplit_once(':').ok_or_else(bad)?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    Ok((
        ip::parse(addr).ok_or_else(bad)?,
        Some(port.parse().map_err(|_| bad())?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Learning in host parts on several threads gives the baseline of one pass; the columns
    /// gathered on two threads, and the side column computed in halves, equal those of one thread.
    #[test]
    fn parallel_learning_and_gathering_equal_one_pass() {
        use crate::detect::flows::{gather, side_column_in};
        let g = flowhound_gen::GenConfig {
            seed: 5,
            flows_normal: 30_000,
            flows_test: 30_000,
            flows_servers: 500,
            clients: 40,
            normal_days: 3,
            ..Default::default()
        };
        let (dir, read) = crate::test_data::generated(&g, "test.parquet");
        // in several batches, as a reader gives them
        let batches: Vec<_> = read
            .iter()
            .flat_map(|b| {
                (0..b.num_rows())
                    .step_by(7_000)
                    .map(|at| b.slice(at, 7_000.min(b.num_rows() - at)))
            })
            .collect();
        let (one, two) = (
            gather(&batches, false).unwrap(),
            gather(&batches, true).unwrap(),
        );
        assert!(
            one.len() > 20_000 && batches.len() > 1,
            "{} rows",
            one.len()
        );
        assert_eq!((&one.ts, &one.src, &one.dst), (&two.ts, &two.src, &two.dst));
        assert_eq!((&one.proto, &one.dst_port), (&two.proto, &two.dst_port));
        assert_eq!(
            (&one.up, &one.down, &one.packets),
            (&two.up, &two.down, &two.packets)
        );
        let bits = |f: &Flows| f.duration.iter().map(|d| d.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one), bits(&two));
        let nets = InternalNets::default();
        let sides = side_column_in(&one, &nets, false);
        assert!(sides.contains(&1) && sides.contains(&2), "both sides seen");
        assert_eq!(sides, side_column_in(&one, &nets, true));
        let never = AtomicBool::new(false);
        let (geo, cfg) = (GeoStack::new(), BaselineConfig::default());
        for robust in [false, true] {
            let learn = |parts| {
                let st = learn_parallel(&one, &nets, &geo, (&cfg, robust), &never, parts).unwrap();
                serde_json::to_string(&st.finish().unwrap()).unwrap()
            };
            let whole = learn(1);
            assert!(whole.contains("192.168.105."), "hosts learned");
            for parts in [2, 7, 300] {
                assert_eq!(learn(parts), whole, "{parts} parts, robust {robust}");
            }
        }
        // the states per UTC day of a normal input spanning days: byte-identical
        let path = dir
            .path()
            .join("normal.parquet")
            .to_string_lossy()
            .to_string();
        let normal = Flows::from_batches(
            &crate::ingest::read_all(&[path], &Default::default())
                .unwrap()
                .0,
        )
        .unwrap();
        let days = |parts| {
            let ctx = (&nets, &geo, &cfg);
            let d = learn_days_in(&normal, ctx, vec!["n".into()], &never, parts).unwrap();
            d.iter()
                .map(|(day, st)| (*day, st.to_bytes().unwrap()))
                .collect::<Vec<_>>()
        };
        let whole = days(1);
        assert!(whole.len() >= 3, "{} days", whole.len());
        assert_eq!(days(5), whole);
    }

    #[test]
    fn windows_and_hours() {
        let cases = [
            (0, 3600, 0, 0),
            (3_599_999_999, 3600, 0, 0),
            (3_600_000_000, 3600, 1, 1),
            (-1, 3600, -1, 23),
            (86_400_000_000 + 7_200_000_000, 600, 156, 2),
        ];
        for (ts, w, want_w, want_h) in cases {
            assert_eq!((window_of(ts, w), hour_of(ts)), (want_w, want_h), "{ts}");
        }
    }

    #[test]
    fn exclude_table() {
        let v4 = ip::parse("192.168.1.5").unwrap();
        assert_eq!(parse_exclude("192.168.1.5").unwrap(), (v4, None));
        assert_eq!(parse_exclude("192.168.1.5:445").unwrap(), (v4, Some(445)));
        assert_eq!(
            parse_exclude("[fd00::1]:53").unwrap(),
            (ip::parse("fd00::1").unwrap(), Some(53))
        );
        assert!(parse_exclude("nope:1").is_err());
        assert!(parse_exclude("1.2.3.4:99999").is_err());
    }
}
