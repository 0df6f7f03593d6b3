//! `flowhound detectors`: every detector with its description and settings (defaults and ranges).

use anyhow::Result;
use clap::Args;
use flowhound::config::Config;
use flowhound::detect::REGISTRY;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `detectors`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  flowhound detectors\n  flowhound detectors --config my.toml   # show the values in effect"
)]
pub struct DetectorsArgs {
    /// Show the values of this settings file instead of the defaults.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Runs `detectors`.
pub fn run(a: DetectorsArgs) -> Result<ExitCode> {
    let config = match &a.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    print!("{}", render(&config));
    Ok(ExitCode::SUCCESS)
}

/// The listing.
pub fn render(config: &Config) -> String {
    let mut out = String::new();
    for d in REGISTRY {
        let on = if config.analysis.detectors.iter().any(|n| n == d.name()) {
            "enabled"
        } else {
            "disabled"
        };
        out += &format!("{} ({on})\n  {}\n", d.name(), d.description());
        let given = config.detector_section(d.name());
        let defaults = d.default_section();
        for s in d.settings() {
            let v = given
                .get(s.key)
                .or_else(|| defaults.get(s.key))
                .map_or_else(String::new, |v| v.to_string());
            out += &format!("  {:<28} {:<22} {} ({})\n", s.key, v, s.doc, s.range);
        }
        out.push('\n');
    }
    out
}
