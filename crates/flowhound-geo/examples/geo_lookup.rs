//! Looks up the addresses given on stdin (one per line) and prints
//! `ip<TAB>country<TAB>asn<TAB>org`. Databases: `--db FILE` (repeatable, format
//! detected) layered over the embedded database unless `--no-embedded`.

use flowhound_geo::{open_path, GeoStack};
use std::io::{BufRead, Write};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut stack = GeoStack::new();
    let mut embedded = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--db" => stack.push_boxed(open_path(&PathBuf::from(args.next().ok_or("--db FILE")?))?),
            "--no-embedded" => embedded = false,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    if embedded {
        stack.push_embedded()?;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let Ok(ip) = line.trim().parse() else {
            continue;
        };
        let g = stack.lookup(ip);
        let cc = g.country.map(|c| c.to_string()).unwrap_or_default();
        let asn = g.asn.map(|a| a.to_string()).unwrap_or_default();
        writeln!(
            out,
            "{}\t{cc}\t{asn}\t{}",
            line.trim(),
            g.org.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}
