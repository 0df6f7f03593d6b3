//! nfcapd input against nfdump's own CSV export (the oracle), in every compression, plus hostile files.

mod common;

use common::{fixture, fixtures, read, rows, testdata, Row};
use flowhound::ingest::nfcapd::{self, NfcapdError};
use flowhound::ingest::{Format, ReadOptions};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

fn opts() -> ReadOptions {
    ReadOptions {
        threads: 2,
        ..Default::default()
    }
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn ip_int(text: &str) -> u128 {
    match text.trim().parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => (0xffffu128 << 32) | u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn proto_class(p: &str) -> &'static str {
    match p.trim().to_ascii_lowercase().as_str() {
        "tcp" | "6" => "tcp",
        "udp" | "17" => "udp",
        "icmp" | "1" | "icmp6" | "58" => "icmp",
        _ => "other",
    }
}

/// What nfdump's CSV says of a flow and what flowhound must produce from it: start second, addresses,
/// ports, protocol class, bytes each way, packets, and the exporter ('ra').
type Key = (i64, u128, u128, u16, u16, String, u64, u64, u64);

fn key(r: &Row) -> Key {
    (
        r.ts_us.div_euclid(1_000_000),
        r.src_ip,
        r.dst_ip,
        r.src_port.unwrap_or(0),
        r.dst_port,
        r.proto.clone(),
        r.up_bytes,
        r.down_bytes,
        r.packets.unwrap_or(0),
    )
}

/// nfdump -o csv rows (header line, then flows, then "Summary"): the keys and the exporter counts.
fn oracle(csv: &Path) -> (Vec<Key>, HashMap<String, u64>) {
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (mut keys, mut exporters) = (Vec::new(), HashMap::new());
    for line in lines.take_while(|l| !l.starts_with("Summary")) {
        let c: Vec<&str> = line.split(',').collect();
        let ts = chrono::NaiveDateTime::parse_from_str(c[col("ts")], "%Y-%m-%d %H:%M:%S").unwrap();
        let n = |k: &str| c[col(k)].trim().parse::<u64>().unwrap();
        keys.push((
            ts.and_utc().timestamp(),
            ip_int(c[col("sa")]),
            ip_int(c[col("da")]),
            n("sp") as u16,
            n("dp") as u16,
            proto_class(c[col("pr")]).to_string(),
            n("ibyt"),
            n("obyt"),
            n("ipkt") + n("opkt"),
        ));
        *exporters.entry(c[col("ra")].to_string()).or_insert(0) += 1;
    }
    (keys, exporters)
}

fn sorted(mut v: Vec<Key>) -> Vec<Key> {
    v.sort();
    v
}

/// Reads `files` and checks every flow and every exporter's flow count against nfdump's CSV.
fn check_against(files: &[String], csv: &Path, want_flows: usize) {
    let (batches, report) = read(files, &opts());
    let got: Vec<Key> = rows(&batches).iter().map(key).collect();
    let (want, want_exporters) = oracle(csv);
    assert_eq!(want.len(), want_flows);
    assert_eq!(got.len(), want_flows * files.len());
    let got = sorted(got);
    let mut want_all = Vec::new();
    for _ in files {
        want_all.extend(want.iter().cloned());
    }
    assert!(
        got == sorted(want_all),
        "flows differ from nfdump's CSV for {files:?}"
    );
    for f in &report.files {
        assert_eq!(f.format, Format::Nfcapd);
        let mut got_exp: HashMap<String, u64> = HashMap::new();
        for e in f.exporters.iter().filter(|e| e.flows > 0) {
            *got_exp.entry(e.ip.clone()).or_insert(0) += e.flows;
        }
        if want_exporters.len() > 1 {
            assert_eq!(got_exp, want_exporters, "{}", f.path.display());
        }
    }
}

#[test]
fn layout1_test1_malicious_matches_nfdump_csv() {
    let Some(td) = testdata("layout1_test1_malicious_matches_nfdump_csv") else {
        return;
    };
    let f = td.join("nfdump/test1-malicious.nfdump");
    check_against(
        &[s(&f)],
        &td.join("nfdump/test1-malicious.nfdump.csv"),
        4593,
    );
    let (batches, _) = read(&[s(&f)], &opts());
    let up: u64 = rows(&batches)
        .iter()
        .map(|r| r.up_bytes + r.down_bytes)
        .sum();
    assert_eq!(up, 241_025);
}

#[test]
fn layout2_logstash_matches_nfdump_csv_per_exporter() {
    let Some(td) = testdata("layout2_logstash_matches_nfdump_csv_per_exporter") else {
        return;
    };
    let f = td.join("netflow/nfcapd.replayed-logstash-dat");
    check_against(
        &[s(&f)],
        &td.join("netflow/nfcapd.replayed-logstash-dat.csv"),
        470,
    );
}

#[test]
fn lzo_bz2_lz4_fixtures_match_the_oracle_and_read_as_a_directory() {
    // A directory of nfcapd.YYYYMMDDhhmm files, as nfcapd rotates them.
    let dir = s(&fixtures().join("nfcapd"));
    let files: Vec<String> = ["lzo", "bz2", "lz4"]
        .iter()
        .map(|c| {
            let name = std::fs::read_dir(fixtures().join("nfcapd"))
                .unwrap()
                .filter_map(|e| e.ok())
                .find(|e| e.file_name().to_string_lossy().ends_with(c))
                .unwrap();
            s(&name.path())
        })
        .collect();
    let (batches, report) = read(&[dir], &opts());
    assert_eq!(report.files.len(), 3, "README.md is passed over");
    let r = rows(&batches);
    assert_eq!(r.len(), 3 * 470);
    let bytes: u64 = r.iter().map(|r| r.up_bytes + r.down_bytes).sum();
    let packets: u64 = r.iter().map(|r| r.packets.unwrap()).sum();
    assert_eq!((bytes, packets), (3 * 156_539_119, 3 * 173_317));
    if let Some(td) = testdata("lzo_bz2_lz4_fixtures_match_the_oracle") {
        check_against(
            &files,
            &td.join("netflow/nfcapd.replayed-logstash-dat.csv"),
            470,
        );
    }
}

/// Rewrites a plain nfcapd file's data blocks with `compress`, marking the header with `code`.
fn recompress(plain: &[u8], code: u8, compress: &dyn Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let layout = u16::from_le_bytes([plain[2], plain[3]]);
    let start = if layout == 1 { 276 } else { 40 };
    let mut out = plain[..start].to_vec();
    if layout == 1 {
        let flag: u32 = match code {
            1 => 0x01,
            2 => 0x08,
            3 => 0x10,
            _ => 0x20,
        };
        out[4..8].copy_from_slice(&flag.to_le_bytes());
    } else {
        out[16] = code;
    }
    let mut p = start;
    while p < plain.len() {
        let size = u32::from_le_bytes(plain[p + 4..p + 8].try_into().unwrap()) as usize;
        let body = compress(&plain[p + 12..p + 12 + size]);
        out.extend_from_slice(&plain[p..p + 4]);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&plain[p + 8..p + 12]);
        out.extend_from_slice(&body);
        p += 12 + size;
    }
    out
}

fn zstd_block(b: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(b, 3).unwrap()
}

fn lz4_block(b: &[u8]) -> Vec<u8> {
    lz4_flex::block::compress(b)
}

#[test]
fn zstd_and_layout1_compressions_decode_to_the_same_flows() {
    let Some(td) = testdata("zstd_and_layout1_compressions_decode_to_the_same_flows") else {
        return;
    };
    let tmp = tempdir();
    for (name, csv, flows) in [
        (
            "netflow/nfcapd.replayed-logstash-dat",
            "netflow/nfcapd.replayed-logstash-dat.csv",
            470,
        ),
        (
            "nfdump/test1-malicious.nfdump",
            "nfdump/test1-malicious.nfdump.csv",
            4593,
        ),
    ] {
        let plain = std::fs::read(td.join(name)).unwrap();
        for (code, f) in [
            (4u8, &zstd_block as &dyn Fn(&[u8]) -> Vec<u8>),
            (3, &lz4_block),
        ] {
            let path = tmp.join(format!("{}.{code}", name.replace('/', "_")));
            std::fs::write(&path, recompress(&plain, code, f)).unwrap();
            check_against(&[s(&path)], &td.join(csv), flows);
        }
    }
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("flowhound-nfcapd-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every prefix, every block-length corruption and many byte flips: a typed error or flows, never a
/// panic, never an allocation sized by an unchecked length.
#[test]
fn hostile_files_give_typed_errors() {
    let good = std::fs::read(fixture("nfcapd/nfcapd.201505131122.lz4")).unwrap();
    let count = |b: &[u8]| {
        let mut n = 0u64;
        nfcapd::decode(b, &mut |_| n += 1).map(|_| n)
    };
    assert_eq!(count(&good).unwrap(), 470);
    for cut in (0..good.len()).step_by(97) {
        assert!(count(&good[..cut]).is_err(), "prefix {cut} accepted");
    }
    // The first block's length claims 4 GiB: refused before any buffer is sized from it.
    let mut huge = good.clone();
    huge[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        count(&huge),
        Err(NfcapdError::BlockTooLarge {
            size: 4294967295,
            ..
        })
    ));
    // Within the limit but beyond the file's end.
    huge[44..48].copy_from_slice(&(8u32 << 20).to_le_bytes());
    assert!(matches!(count(&huge), Err(NfcapdError::Truncated { .. })));
    let mut bad = good.clone();
    bad[0] = 0;
    assert!(matches!(count(&bad), Err(NfcapdError::BadMagic(_))));
    bad = good.clone();
    bad[2] = 3;
    assert!(matches!(count(&bad), Err(NfcapdError::Version(3))));
    let mut seed = 0x2545F4914F6CDD1Du64;
    for _ in 0..600 {
        let mut m = good.clone();
        for _ in 0..1 + (seed % 4) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed % m.len() as u64) as usize;
            m[at] = (seed >> 32) as u8;
        }
        let _ = count(&m);
    }
    // Through the reader: a damaged file names itself and the block.
    let path = tempdir().join("nfcapd.damaged");
    std::fs::write(&path, &good[..good.len() - 10]).unwrap();
    let err = common::read_err(&[s(&path)], &opts()).to_string();
    assert!(
        err.contains("nfcapd.damaged") && err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn apply_sampling_multiplies_counters_of_sampled_exporters_only() {
    // A hand-built layout 2 file: exporter 1 with a 1:100 sampler, one V3 flow from it.
    let mut f = Vec::new();
    f.extend_from_slice(&0xA50Cu16.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&[0u8; 36]);
    let mut recs = Vec::new();
    // exporter info: type 7, size 32, version 9, ip (v4 at offset 8), family 2, sysid 1, id 0
    recs.extend_from_slice(&7u16.to_le_bytes());
    recs.extend_from_slice(&32u16.to_le_bytes());
    recs.extend_from_slice(&9u32.to_le_bytes());
    let mut ip = [0u8; 16];
    ip[8..12].copy_from_slice(&0x7f000001u32.to_le_bytes());
    recs.extend_from_slice(&ip);
    recs.extend_from_slice(&2u16.to_le_bytes());
    recs.extend_from_slice(&1u16.to_le_bytes());
    recs.extend_from_slice(&0u32.to_le_bytes());
    // sampler: type 15, size 24, sysid 1, algorithm 0, id -1, packet interval 1, space 99
    recs.extend_from_slice(&15u16.to_le_bytes());
    recs.extend_from_slice(&24u16.to_le_bytes());
    recs.extend_from_slice(&1u16.to_le_bytes());
    recs.extend_from_slice(&0u16.to_le_bytes());
    recs.extend_from_slice(&(-1i64).to_le_bytes());
    recs.extend_from_slice(&1u32.to_le_bytes());
    recs.extend_from_slice(&99u32.to_le_bytes());
    // V3 record: 2 elements (generic flow, IPv4), exporter 1
    let mut v3 = Vec::new();
    v3.extend_from_slice(&11u16.to_le_bytes());
    v3.extend_from_slice(&(12u16 + 52 + 12).to_le_bytes());
    v3.extend_from_slice(&2u16.to_le_bytes());
    v3.extend_from_slice(&[0, 0]);
    v3.extend_from_slice(&1u16.to_le_bytes());
    v3.extend_from_slice(&[0, 9]);
    v3.extend_from_slice(&1u16.to_le_bytes());
    v3.extend_from_slice(&52u16.to_le_bytes());
    for v in [1_700_000_000_000u64, 1_700_000_001_500, 0, 3, 300] {
        v3.extend_from_slice(&v.to_le_bytes());
    }
    v3.extend_from_slice(&1234u16.to_le_bytes());
    v3.extend_from_slice(&443u16.to_le_bytes());
    v3.extend_from_slice(&[6, 0, 0, 0]);
    v3.extend_from_slice(&2u16.to_le_bytes());
    v3.extend_from_slice(&12u16.to_le_bytes());
    v3.extend_from_slice(&0x0a000001u32.to_le_bytes());
    v3.extend_from_slice(&0x0a000002u32.to_le_bytes());
    recs.extend_from_slice(&v3);
    f.extend_from_slice(&3u32.to_le_bytes());
    f.extend_from_slice(&(recs.len() as u32).to_le_bytes());
    f.extend_from_slice(&3u16.to_le_bytes());
    f.extend_from_slice(&0u16.to_le_bytes());
    f.extend_from_slice(&recs);
    let path = tempdir().join("nfcapd.sampled");
    std::fs::write(&path, &f).unwrap();
    let (b, report) = read(&[s(&path)], &opts());
    let r = &rows(&b)[0];
    assert_eq!((r.up_bytes, r.packets, r.dst_port), (300, Some(3), 443));
    assert_eq!(r.duration, Some(1.5));
    let e = &report.files[0].exporters[0];
    assert_eq!(
        (e.ip.as_str(), e.version, e.sampling, e.flows),
        ("127.0.0.1", 9, Some(100), 1)
    );
    let o = ReadOptions {
        apply_sampling: true,
        ..opts()
    };
    let (b, _) = read(&[s(&path)], &o);
    let r = &rows(&b)[0];
    assert_eq!((r.up_bytes, r.packets), (30_000, Some(300)));
}
