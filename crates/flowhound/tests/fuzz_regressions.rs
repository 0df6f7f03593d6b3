//! Every input the fuzz targets (fuzz/) ever crashed or hung on, replayed through the same entry points
//! in the normal test suite: `tests/fixtures/fuzz/TARGET/NAME`. A fuzz finding becomes a regression test
//! by copying its minimised input (`cargo fuzz tmin`) there. Each input must be handled without a panic;
//! the hand-written cases below also pin the outcome.

use flowhound::ingest::{fuzz_entry, Format};
use std::path::{Path, PathBuf};

/// Runs one input through the code target `target` fuzzes (what fuzz/fuzz_targets/TARGET.rs does).
fn replay(target: &str, data: &[u8]) {
    let text = || std::str::from_utf8(data).ok();
    let ip = std::net::IpAddr::from([8, 8, 8, 8]);
    match target {
        "zeek_tsv" => drop(fuzz_entry::parse_text(data, Some(Format::ZeekTsv))),
        "zeek_json" => drop(fuzz_entry::parse_text(data, Some(Format::ZeekJson))),
        "csv" => drop(fuzz_entry::parse_text(data, Some(Format::Csv))),
        "binetflow" => drop(fuzz_entry::parse_text(data, Some(Format::Binetflow))),
        "detect" => drop(fuzz_entry::parse_text(data, None)),
        "parquet" => drop(fuzz_entry::parse_parquet(data)),
        "baseline_json" => {
            text().map(|t| flowhound::baseline::Baseline::from_json(t, "fuzz.json"));
        }
        "config_toml" => {
            text().map(|t| flowhound::config::Config::from_toml(t, "fuzz.toml"));
        }
        "findings_json" => findings(data),
        "geoip_dat" => {
            let db = flowhound_geo::legacy::LegacyDb::from_bytes(data.to_vec(), Path::new("f"));
            db.map(|d| flowhound_geo::GeoSource::lookup(&d, ip)).ok();
        }
        "mmdb" => {
            let db = flowhound_geo::mmdb::MmdbDb::from_bytes(data.to_vec(), Path::new("f"));
            db.map(|d| flowhound_geo::GeoSource::lookup(&d, ip)).ok();
        }
        "fhg" => {
            if let Ok(d) = flowhound_geo::fhg::FhgDb::from_bytes(data, None) {
                let _ = d.check_v6();
                let _ = flowhound_geo::GeoSource::lookup(&d, ip);
            }
        }
        other => panic!("tests/fixtures/fuzz/{other}: no such fuzz target"),
    }
}

fn findings(data: &[u8]) {
    use flowhound::findings::{FindingsDoc, SCHEMA_VERSION};
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if v.get("schema_version").and_then(|x| x.as_u64()) == Some(u64::from(SCHEMA_VERSION)) {
        if let Ok(doc) = serde_json::from_value::<FindingsDoc>(v) {
            let _ = flowhound::report::render_html(&flowhound::report::ReportData::from_doc(doc));
        }
    }
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fuzz")
}

#[test]
fn every_recorded_fuzz_finding_replays_without_a_panic() {
    let mut n = 0;
    for dir in std::fs::read_dir(corpus()).unwrap().flatten() {
        if !dir.path().is_dir() {
            continue;
        }
        let target = dir.file_name().to_string_lossy().into_owned();
        for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let data = std::fs::read(f.path()).unwrap();
            eprintln!("replay {target}/{}", f.file_name().to_string_lossy());
            replay(&target, &data);
            n += 1;
        }
    }
    eprintln!("{n} recorded fuzz inputs replayed");
}
