//! Converts ip-location-db CSV files into flowhound's `.fhg` format.
//! Used by `scripts/update-geodb`; run it with `--no-default-features` so that it
//! builds even when `data/flowhound-geo.fhg` is missing.
//!
//! ```text
//! build_geodb --out FILE [--country CSV]... [--asn CSV]... [--meta KEY=VALUE]...
//! ```

use flowhound_geo::fhg::FhgBuilder;
use std::io::BufReader;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("build_geodb: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = FhgBuilder::new();
    let mut out = None;
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--out" => out = Some(value),
            "--country" => {
                let n = builder.read_country_csv(open(&value)?, &value)?;
                eprintln!("{value}: {n} country ranges");
            }
            "--asn" => {
                let n = builder.read_asn_csv(open(&value)?, &value)?;
                eprintln!("{value}: {n} ASN ranges");
            }
            "--meta" => {
                let (k, v) = value.split_once('=').ok_or("--meta wants KEY=VALUE")?;
                builder.meta(k, v);
            }
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let out = out.ok_or("--out is required")?;
    let bytes = builder.build()?;
    std::fs::write(&out, &bytes)?;
    eprintln!("{out}: {} bytes", bytes.len());
    Ok(())
}

fn open(path: &str) -> Result<BufReader<std::fs::File>, std::io::Error> {
    Ok(BufReader::new(std::fs::File::open(path)?))
}
