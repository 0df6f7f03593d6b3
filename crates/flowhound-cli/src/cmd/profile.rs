//! `flowhound profile FILES...`: describe() statistics and traffic breakdowns, as tables or JSON.

use super::{InputArgs, NetArgs};
use anyhow::Result;
use clap::Args;
use flowhound::output::table::{human_bytes, Table};
use flowhound::profile::{ClassRow, Profile, TopHosts};
use std::process::ExitCode;

/// Arguments of `profile`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound profile normal.parquet\n  flowhound profile --json --top 20 conn.log > profile.json\n  flowhound profile --internal 192.168.105.0/24 test.parquet"
)]
pub struct ProfileArgs {
    /// Input files, directories or globs.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// Print JSON (shape documented in docs/profile.md) instead of tables.
    #[arg(long)]
    json: bool,
    /// Rows in each top-N list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Distinct source (and destination) addresses held for the top-host lists: exact below it,
    /// approximate (heaviest addresses kept, and said so) above it, so memory stays bounded.
    #[arg(long, value_name = "N", default_value_t = flowhound::topk::DEFAULT_MAX_HOSTS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(flowhound::topk::MIN_MAX_HOSTS as u64..))]
    max_hosts: usize,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    input: InputArgs,
}

/// Runs `profile`.
pub fn run(a: ProfileArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let opts = a.input.options()?;
    let p = a
        .input
        .scan_with_progress("profiling", &a.inputs, &opts, |plan| {
            Ok(flowhound::profile::run_capped(
                plan,
                &opts,
                a.net.nets(),
                a.top,
                a.max_hosts,
            )?)
        })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print!("{}", render(&p));
    }
    super::summary(&p.input, started, a.input.quiet || a.json);
    Ok(ExitCode::SUCCESS)
}

fn opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.2}"))
}

fn describe_table(p: &Profile) -> Table {
    let (u, d) = (&p.stats.up_bytes, &p.stats.down_bytes);
    let mut t = Table::new(["", "up_bytes", "down_bytes"]);
    t.row([
        "count".to_string(),
        u.count.to_string(),
        d.count.to_string(),
    ]);
    t.row(["sum".to_string(), u.sum.to_string(), d.sum.to_string()]);
    for (name, a, b) in [("mean", u.mean, d.mean), ("std", u.std, d.std)] {
        t.row([name.to_string(), opt(a), opt(b)]);
    }
    t.row([
        "min".to_string(),
        u.min.map_or("-".into(), |v| v.to_string()),
        d.min.map_or("-".into(), |v| v.to_string()),
    ]);
    for (name, a, b) in [
        ("25%", u.p25, d.p25),
        ("50%", u.p50, d.p50),
        ("75%", u.p75, d.p75),
    ] {
        t.row([name.to_string(), opt(a), opt(b)]);
    }
    t.row([
        "max".to_string(),
        u.max.map_or("-".into(), |v| v.to_string()),
        d.max.map_or("-".into(), |v| v.to_string()),
    ]);
    t
}

fn hosts_table(title: &str, h: &TopHosts) -> String {
    let mut t = Table::new([
        "by flows", "flows", "bytes", "", "by bytes", "flows", "bytes",
    ]);
    for i in 0..h.by_flows.len().max(h.by_bytes.len()) {
        let cells = |r: Option<&flowhound::profile::HostRow>| match r {
            Some(r) => [
                r.ip.clone(),
                r.flows.to_string(),
                human_bytes(r.bytes as f64),
            ],
            None => [String::new(), String::new(), String::new()],
        };
        let [a, b, c] = cells(h.by_flows.get(i));
        let [d, e, f] = cells(h.by_bytes.get(i));
        t.row([a, b, c, String::new(), d, e, f]);
    }
    format!("{title}\n{}", t.render())
}

fn class_table(title: &str, key: &str, rows: &[ClassRow], total: u64) -> String {
    let mut t = Table::new([key, "flows", "%", "up", "down"]);
    for r in rows {
        let pct = if total > 0 {
            100.0 * r.flows as f64 / total as f64
        } else {
            0.0
        };
        t.row([
            r.key.clone(),
            r.flows.to_string(),
            format!("{pct:.1}"),
            human_bytes(r.up_bytes as f64),
            human_bytes(r.down_bytes as f64),
        ]);
    }
    format!("{title}\n{}", t.render())
}

/// The terminal rendering of a profile.
pub fn render(p: &Profile) -> String {
    let mut out = format!("flows: {}\n", p.flows);
    if let Some(s) = &p.time_span {
        out += &format!(
            "time span: {} .. {} ({:.1} h)\n",
            s.first,
            s.last,
            s.seconds / 3600.0
        );
    }
    out += &format!("internal networks: {}\n\n", p.internal_networks.join(", "));
    out += &format!(
        "bytes per flow (describe)\n{}\n",
        describe_table(p).render()
    );
    out += &format!("{}\n", hosts_table("top sources", &p.top_src));
    out += &format!("{}\n", hosts_table("top destinations", &p.top_dst));
    if let Some(a) = &p.approximate_top_hosts {
        out += &format!(
            "note: more than {} distinct addresses: the top-host lists are approximate ({} sources, {} destinations dropped; raise --max-hosts for exact lists)\n\n",
            a.max_hosts, a.evicted_src, a.evicted_dst
        );
    }
    let mut ports = Table::new(["proto", "dst_port", "flows", "bytes"]);
    for r in &p.top_dst_ports {
        ports.row([
            r.proto.to_string(),
            r.port.to_string(),
            r.flows.to_string(),
            human_bytes(r.bytes as f64),
        ]);
    }
    out += &format!("top destination ports\n{}\n", ports.render());
    out += &format!(
        "{}\n",
        class_table("protocols", "proto", &p.protocols, p.flows)
    );
    out += &format!(
        "{}\n",
        class_table("traffic by hour of day (UTC)", "hour", &p.by_hour, p.flows)
    );
    out += &class_table("internal / external", "direction", &p.direction, p.flows);
    out
}
