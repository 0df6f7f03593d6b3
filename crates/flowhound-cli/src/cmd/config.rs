//! `flowhound config example` / `flowhound config check FILE`.

use anyhow::Result;
use clap::{Args, Subcommand};
use flowhound::config::{example_toml, Config};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `config`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound config example > flowhound.toml\n  flowhound config check flowhound.toml"
)]
pub struct ConfigArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Print a commented TOML file of every setting with its default.
    Example,
    /// Validate a settings file (unknown keys, out-of-range values).
    Check {
        /// The file.
        file: PathBuf,
    },
}

/// Runs `config`.
pub fn run(a: ConfigArgs) -> Result<ExitCode> {
    match a.action {
        Action::Example => print!("{}", example_toml()),
        Action::Check { file } => {
            Config::load(&file)?;
            println!("{}: ok", file.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
