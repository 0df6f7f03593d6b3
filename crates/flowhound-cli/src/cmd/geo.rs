//! `flowhound geo lookup IP...` and `flowhound geo info`.

use super::GeoDbArgs;
use anyhow::Result;
use clap::{Args, Subcommand};
use flowhound::output::table::Table;
use flowhound_geo::GeoStack;
use serde::Serialize;
use std::net::IpAddr;
use std::process::ExitCode;

/// Arguments of `geo`.
#[derive(Args, Debug)]
pub struct GeoArgs {
    #[command(subcommand)]
    command: GeoCommand,
}

#[derive(Subcommand, Debug)]
enum GeoCommand {
    /// Country, ASN and organisation of each address.
    #[command(
        after_help = "Examples:\n  flowhound geo lookup 8.8.8.8 193.136.73.21\n  flowhound geo lookup --json 2001:4860:4860::8888\n  flowhound geo lookup --geoip-db GeoIP.dat --asn-db GeoIPASNum.dat 193.136.73.21"
    )]
    Lookup {
        /// Addresses (IPv4 or IPv6).
        #[arg(required = true)]
        ips: Vec<String>,
        /// JSON array, one object per address.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: GeoDbArgs,
    },
    /// The databases in use: kind, type, build date, coverage and attribution.
    Info {
        #[command(flatten)]
        db: GeoDbArgs,
    },
}

/// One address's answer (the documented `--json` shape).
#[derive(Debug, Serialize)]
struct Row {
    ip: String,
    country: Option<String>,
    country_name: Option<String>,
    asn: Option<u32>,
    org: Option<String>,
}

fn lookup(stack: &GeoStack, ip: IpAddr) -> Row {
    let g = stack.lookup(ip);
    Row {
        ip: ip.to_string(),
        country: g.country.map(|c| c.to_string()),
        country_name: g.country_name.map(str::to_string),
        asn: g.asn,
        org: g.org.map(|o| o.to_string()),
    }
}

/// Parses IP arguments; a bad one is a usage error naming it.
pub(super) fn parse_ips(ips: &[String]) -> Result<Vec<IpAddr>> {
    ips.iter()
        .map(|s| {
            s.trim().parse::<IpAddr>().map_err(|_| {
                flowhound::FlowError::Config(format!("'{s}' is not an IP address")).into()
            })
        })
        .collect()
}

/// Runs `geo`.
pub fn run(a: GeoArgs) -> Result<ExitCode> {
    match a.command {
        GeoCommand::Lookup { ips, json, db } => {
            let ips = parse_ips(&ips)?;
            let stack = db.stack()?;
            let rows: Vec<Row> = ips.into_iter().map(|ip| lookup(&stack, ip)).collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print!("{}", table(&rows).render());
                eprintln!("{}", stack.attributions().join("\n"));
            }
        }
        GeoCommand::Info { db } => {
            let stack = db.stack()?;
            for s in stack.sources() {
                println!("{s}");
            }
            println!("\nattribution:");
            for a in stack.attributions() {
                println!("  {a}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn table(rows: &[Row]) -> Table {
    let mut t = Table::new(["ip", "country", "name", "asn", "organisation"]);
    let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    for r in rows {
        t.row([
            r.ip.clone(),
            dash(&r.country),
            dash(&r.country_name),
            r.asn.map_or("-".into(), |a| format!("AS{a}")),
            dash(&r.org),
        ]);
    }
    t
}
