//! `flowhound baseline` and `baseline update` under `--memory-limit` / `--tmp-dir` / `--shards`: the
//! normal input is read whole when it fits, else routed into host shards on disk and learned shard by
//! shard (`flowhound::shard::Sharded::learn_days` / `learn_state`), with the same baseline.

use super::outofcore::{read_scaled, shard_bar, ScaleArgs, TestInput};
use super::InputArgs;
use anyhow::Result;
use flowhound::baseline::{days, learn_days, learn_state, State};
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::ingest::IngestReport;
use flowhound::net::InternalNets;
use flowhound::shard::SpilledDays;
use flowhound_geo::GeoStack;
use std::sync::atomic::AtomicBool;

/// Learned day states: held in memory, or spilled out of core (read back one day at a time).
pub enum Days {
    /// Every day's state, oldest first.
    Held(Vec<(i64, State)>),
    /// Out of core: the kept days' states spilled, with their union.
    Spilled(Box<SpilledDays>),
}

/// Where and how a normal input is learned.
pub struct Learn<'a> {
    /// How to read it.
    pub input: &'a InputArgs,
    /// Its files.
    pub inputs: &'a [String],
    /// `--memory-limit`, `--tmp-dir`, `--shards` (already applied to `config`).
    pub scale: &'a ScaleArgs,
    /// Settings (`[baseline]`, `[analysis] memory_limit` and `tmp_dir`).
    pub config: &'a Config,
    /// Internal networks.
    pub nets: &'a InternalNets,
    /// Geo/ASN lookups.
    pub geo: &'a GeoStack,
}

impl<'a> Learn<'a> {
    /// The learning of `inputs`, read as `input` says and scaled by `scale`, with `config`, `nets`
    /// and `geo`.
    pub fn new(
        input: &'a InputArgs,
        inputs: &'a [String],
        scale: &'a ScaleArgs,
        (config, nets, geo): (&'a Config, &'a InternalNets, &'a GeoStack),
    ) -> Self {
        Learn {
            input,
            inputs,
            scale,
            config,
            nets,
            geo,
        }
    }

    fn read(&self) -> Result<TestInput> {
        let window = self.config.baseline.window_secs;
        let env = (self.scale, self.config, self.nets);
        read_scaled(self.input, self.inputs, env, (window, false), || Ok(()))
    }

    /// The learning states per UTC day ([`flowhound::baseline::learn_days`]) of the newest `keep`
    /// days (all without), given to `write` while they exist, and what reading reported.
    pub fn days<T>(
        &self,
        keep: Option<usize>,
        write: impl FnOnce(Days) -> Result<T>,
    ) -> Result<(T, IngestReport)> {
        let never = AtomicBool::new(false);
        let files = self.inputs.to_vec();
        match self.read()? {
            TestInput::InMemory(batches, report) => {
                let flows = Flows::from_batches(&batches)?;
                drop(batches);
                let cfg = &self.config.baseline;
                let states = learn_days(&flows, self.nets, self.geo, cfg, files, &never)?;
                drop(flows);
                Ok((write(Days::Held(states))?, report))
            }
            TestInput::Sharded(mut s) => {
                let bar = shard_bar("learning", s.shards, self.input.quiet);
                let days = s.learn_days(self.env()?, (files, keep), &never, |d, _| {
                    bar.set_position(d as u64)
                })?;
                bar.finish_and_clear();
                let out = write(Days::Spilled(Box::new(days)))?;
                self.done(&s);
                Ok((out, std::mem::take(&mut s.report)))
            }
        }
    }

    /// The learning state of every flow ([`flowhound::baseline::learn_state`]), the UTC day holding
    /// most flow starts ([`flowhound::baseline::days::main_day`]; `None` without flows), and what
    /// reading reported.
    pub fn state(&self) -> Result<(State, Option<String>, IngestReport)> {
        let files = self.inputs.to_vec();
        match self.read()? {
            TestInput::InMemory(batches, report) => {
                let flows = Flows::from_batches(&batches)?;
                drop(batches);
                let day = days::main_day(&flows.ts);
                let cfg = &self.config.baseline;
                let st = learn_state(&flows, self.nets, self.geo, cfg, files)?;
                Ok((st, day, report))
            }
            TestInput::Sharded(mut s) => {
                let day = days::busiest_day(s.day_flows.iter().map(|(d, n)| (*d, *n)));
                let bar = shard_bar("learning", s.shards, self.input.quiet);
                let st =
                    s.learn_state(self.env()?, files, false, |d, _| bar.set_position(d as u64))?;
                bar.finish_and_clear();
                self.done(&s);
                Ok((st, day, std::mem::take(&mut s.report)))
            }
        }
    }

    fn env(&self) -> Result<flowhound::shard::LearnEnv<'_>> {
        let limit = self.config.analysis.memory_limit_bytes()?;
        Ok((self.nets, self.geo, &self.config.baseline, limit))
    }

    fn done(&self, s: &flowhound::shard::Sharded) {
        if !self.input.quiet {
            eprintln!(
                "out of core: learned from {} host shards (largest {} flows), spill removed",
                s.shards,
                s.shard_rows[..s.shards].iter().max().copied().unwrap_or(0)
            );
        }
    }
}
