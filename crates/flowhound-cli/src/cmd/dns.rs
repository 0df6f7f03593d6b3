//! `flowhound dns resolve NAME...` and `flowhound dns reverse IP...`.

use super::DnsArgs;
use anyhow::Result;
use clap::{Args, Subcommand};
use flowhound_dns::{RecordKind, RunReport};
use std::process::ExitCode;

/// Arguments of `dns`.
#[derive(Args, Debug)]
pub struct DnsCmdArgs {
    #[command(subcommand)]
    command: DnsCommand,
}

#[derive(Subcommand, Debug)]
enum DnsCommand {
    /// Forward lookups.
    #[command(
        after_help = "Examples:\n  flowhound dns resolve www.ua.pt\n  flowhound dns resolve --type MX ua.pt --json\n  flowhound dns resolve --nameserver 127.0.0.1:5353 www.example.test"
    )]
    Resolve {
        /// Names to resolve.
        #[arg(required = true)]
        names: Vec<String>,
        /// Record type: A, AAAA, MX, TXT, NS, CNAME, PTR.
        #[arg(long = "type", default_value = "A", value_parser = |s: &str| s.parse::<RecordKind>().map_err(|e| e.to_string()))]
        rtype: RecordKind,
        /// JSON output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        dns: DnsArgs,
    },
    /// Reverse (PTR) lookups.
    #[command(
        after_help = "Examples:\n  flowhound dns reverse 193.136.172.20\n  flowhound dns reverse --json 8.8.8.8 2001:4860:4860::8888"
    )]
    Reverse {
        /// Addresses.
        #[arg(required = true)]
        ips: Vec<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        dns: DnsArgs,
    },
}

fn print(report: RunReport, json: bool) -> Result<ExitCode> {
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report.rows)?);
    } else {
        print!("{}", flowhound_dns::render_table(&report.rows));
    }
    let s = report.stats;
    eprintln!(
        "{} answered, {} failed ({} timed out), {} from cache, {} queries sent",
        s.resolved,
        s.failed(),
        s.timed_out + s.deadline_exceeded,
        s.from_cache,
        s.queries_sent
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `dns`.
pub fn run(a: DnsCmdArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    let cfg_err = |e: flowhound_dns::DnsError| flowhound::FlowError::Config(e.to_string());
    match a.command {
        DnsCommand::Resolve {
            names,
            rtype,
            json,
            dns,
        } => {
            let report = rt
                .block_on(flowhound_dns::run_resolve(&dns.config(), &names, rtype))
                .map_err(cfg_err)?;
            print(report, json)
        }
        DnsCommand::Reverse { ips, json, dns } => {
            let ips = super::geo::parse_ips(&ips)?;
            let report = rt
                .block_on(flowhound_dns::run_reverse(&dns.config(), &ips))
                .map_err(cfg_err)?;
            print(report, json)
        }
    }
}
