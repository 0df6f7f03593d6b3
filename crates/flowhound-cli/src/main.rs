//! `flowhound`: find what is not normal in flow logs, and who is behind it.
//!
//! This binary is CLI glue only: one module per subcommand under `cmd/`, the engine lives in the
//! `flowhound` library crate.

mod cmd;
mod progress;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Dependency panics on damaged input inside flowhound's guards are typed errors: not printed as panics.
    flowhound::ingest::upstream::quiet_guarded_panics();
    let cli = cmd::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => report(e),
    }
}

/// Prints the error chain once and maps it to the documented exit code.
fn report(e: anyhow::Error) -> ExitCode {
    if is_broken_pipe(&e) {
        return ExitCode::SUCCESS;
    }
    let code = e
        .downcast_ref::<flowhound::FlowError>()
        .map(|f| f.exit_code())
        .or_else(|| {
            e.downcast_ref::<flowhound_cluster::ClusterError>()
                .map(cmd::cluster::exit_code)
        })
        .unwrap_or(1);
    eprintln!("flowhound: error: {e}");
    for cause in e.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    ExitCode::from(code)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
