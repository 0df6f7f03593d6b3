//! The `spam` scenario: an infected client delivering mail straight to many external mail servers
//! (SMTP, tcp/25), as the spam bots of CTU-13 (Neris, Virut) do: 40-600 servers in several
//! countries, 1-4 messages each, one every 2-30 s, 10-40 % refused or unanswered (listed bots are
//! rejected). It has its own RNG stream and is injected after every other scenario, so adding it
//! leaves the other scenarios' and decoys' draws as they were in configurations without it.

use crate::config::Scenario;
use crate::dist::{bytes, lognormal, GenRng};
use crate::flow::{Flow, Label, Proto, US};
use crate::plan::{params, strings, summarise, Injected, Planner};
use crate::GenError;
use rand::Rng;

/// Injects the scenario.
pub(crate) fn spam(p: &mut Planner, rng: &mut GenRng) -> Result<Injected, GenError> {
    let host = p.take_clients(1)?[0];
    let n_servers = p.scaled(rng.random_range(40..=600), 15) as usize;
    let (servers, countries) = p.fresh_mixed(rng, n_servers, 0.7)?;
    let messages: usize = (0..n_servers).map(|_| rng.random_range(1..=4usize)).sum();
    let gap_s = rng.random_range(2.0..30.0);
    let refused = rng.random_range(0.1..0.4);
    let (t0, _) = p.window(rng, (messages as f64 * gap_s) as i64 * US + 10 * US);
    let label = Label::Scenario(Scenario::Spam);
    let mut t = t0;
    let flows: Vec<Flow> = (0..messages)
        .map(|i| {
            t += (gap_s * rng.random_range(0.5..1.5) * 1e6) as i64;
            let server = servers[if i < n_servers {
                i
            } else {
                rng.random_range(0..n_servers)
            }];
            let sizes = if rng.random_bool(refused) {
                (rng.random_range(60..=180), 0)
            } else {
                (
                    bytes(lognormal(rng, 8_000.0, 0.8), 1_500, 200_000),
                    rng.random_range(300..=900),
                )
            };
            Flow::new(t, (host, server), (Proto::Tcp, 25), sizes, label)
        })
        .collect();
    let mut truth = summarise(Scenario::Spam, "test", &flows);
    truth.hosts = strings(&[host]);
    truth.peers = strings(&servers[..servers.len().min(20)]);
    truth.ports = vec![25];
    truth.countries = countries;
    truth.note = format!(
        "spam bot: {messages} messages to {n_servers} external mail servers on tcp/25, one every {gap_s:.0} s, {:.0} % refused",
        100.0 * refused
    );
    truth.params = params(&[
        ("servers", n_servers as f64),
        ("messages", messages as f64),
        ("refused_share", refused),
    ]);
    Ok(Injected::new(flows, truth))
}
