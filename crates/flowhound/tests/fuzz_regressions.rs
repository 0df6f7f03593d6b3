//! Every input the fuzz targets (fuzz/) ever crashed or hung on, replayed through the same entry points
//! in the normal test suite: `tests/fixtures/fuzz/TARGET/NAME`. A fuzz finding becomes a regression test
//! by copying its minimised input (`cargo fuzz tmin`) there. Each input must be handled without a panic;
//! the hand-written cases below also pin the outcome.

mod collect_support;
mod common;

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
        "nfcapd" => drop(fuzz_entry::parse_nfcapd(data)),
        "netflow_packet" => drop(fuzz_entry::decode_datagrams(data)),
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

/// The `ARROW:schema` value of a footer.
fn arrow_hint(file: &Path) -> String {
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let r = SerializedFileReader::new(std::fs::File::open(file).unwrap()).unwrap();
    let kv = r.metadata().file_metadata().key_value_metadata().cloned();
    let hint = kv.into_iter().flatten().find(|e| e.key == "ARROW:schema");
    hint.and_then(|e| e.value).unwrap()
}

/// `analysts_ms.parquet` written again with `hint` as its embedded Arrow schema.
fn with_hint(hint: &str, out: &Path) {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use datafusion::parquet::arrow::{arrow_writer::ArrowWriterOptions, ArrowWriter};
    use datafusion::parquet::file::{metadata::KeyValue, properties::WriterProperties};
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/formats/analysts_ms.parquet");
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(src).unwrap()).unwrap();
    let schema = reader.schema().clone();
    let kv = KeyValue::new("ARROW:schema".to_string(), hint.to_string());
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(vec![kv]))
        .build();
    let opts = ArrowWriterOptions::new()
        .with_properties(props)
        .with_skip_arrow_metadata(true);
    let mut w =
        ArrowWriter::try_new_with_options(std::fs::File::create(out).unwrap(), schema, opts)
            .unwrap();
    for b in reader.build().unwrap() {
        w.write(&b.unwrap()).unwrap();
    }
    w.close().unwrap();
}

/// Tests that swap the process-wide panic hook take turns.
static HOOKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f`, failing when anything panics meanwhile, even a panic caught inside (libFuzzer aborts on
/// any panic, caught or not).
fn without_a_panic<T>(f: impl FnOnce() -> T) -> T {
    use std::sync::atomic::{AtomicBool, Ordering};
    static PANICKED: AtomicBool = AtomicBool::new(false);
    let _one = HOOKS.lock().unwrap_or_else(|e| e.into_inner());
    let me = std::thread::current().id();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |_| {
        if std::thread::current().id() == me {
            PANICKED.store(true, Ordering::SeqCst)
        }
    }));
    let out = f();
    std::panic::set_hook(hook);
    assert!(
        !PANICKED.swap(false, Ordering::SeqCst),
        "a panic was raised (and caught) inside"
    );
    out
}

/// The damaged embedded Arrow schemas the `parquet` target found (each makes arrow-ipc 59 panic, an
/// abort under libFuzzer where nothing can catch it), put in the footer of an otherwise sound file: the
/// file is read from its Parquet types, every row, with no panic. The upstream panic is checked too, so
/// the test keeps meaning something when arrow-ipc is fixed.
#[test]
fn a_damaged_arrow_schema_in_a_parquet_footer_is_read_from_the_parquet_types() {
    use datafusion::parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
    let dir = std::env::temp_dir().join(format!("fh-fuzz-hint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "arrow-schema-type-none.parquet",
        "arrow-schema-without-fields.parquet",
    ] {
        let file = dir.join(name);
        with_hint(&arrow_hint(&corpus().join("parquet").join(name)), &file);
        let f = std::fs::File::open(&file).unwrap();
        let one = HOOKS.lock().unwrap_or_else(|e| e.into_inner());
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let upstream =
            std::panic::catch_unwind(|| ArrowReaderMetadata::load(&f, ArrowReaderOptions::new()));
        std::panic::set_hook(hook);
        drop(one);
        assert!(
            upstream.is_err(),
            "{name}: arrow-ipc no longer panics on this hint"
        );
        let data = std::fs::read(&file).unwrap();
        let rows = without_a_panic(|| fuzz_entry::parse_parquet(&data)).unwrap();
        assert_eq!(rows, 12, "{name}"); // pyarrow reads 12 rows from analysts_ms.parquet
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `analysts_s.parquet` repeated to `rows` rows in one SNAPPY page per column (no dictionary), so that
/// each page is a few kilobytes compressed and megabytes uncompressed.
fn one_page_per_column(rows: usize, out: &Path) {
    use datafusion::arrow::compute::concat_batches;
    use datafusion::parquet::arrow::{arrow_reader::ParquetRecordBatchReaderBuilder, ArrowWriter};
    use datafusion::parquet::{basic::Compression, file::properties::WriterProperties};
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/formats/analysts_s.parquet");
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(src).unwrap()).unwrap();
    let batch = reader.build().unwrap().next().unwrap().unwrap();
    let copies = vec![batch.clone(); rows / batch.num_rows()];
    let big = concat_batches(&batch.schema(), &copies).unwrap();
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(false)
        .set_data_page_row_count_limit(usize::MAX)
        .set_data_page_size_limit(64 << 20)
        .set_write_batch_size(rows)
        .build();
    let file = std::fs::File::create(out).unwrap();
    let mut w = ArrowWriter::try_new(file, big.schema(), Some(props)).unwrap();
    w.write(&big).unwrap();
    w.close().unwrap();
}

/// What the `parquet` target found (out of memory on a 20 KB input): parquet 59 fills a SNAPPY page's
/// buffer with zeros up to the size its header claims before decompressing, so a damaged header made it
/// write up to 2 GiB per page. A page claiming more than its codec can produce from its compressed
/// bytes is refused up front, naming the row group, column and page; the sound file reads whole. (The
/// parquet crate reads the damaged file: it zero-fills the claimed size, decompresses the real page
/// into its start and decodes the values it needs from there.)
#[test]
fn a_page_claiming_more_than_its_codec_can_produce_is_refused_before_decompression() {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let dir = std::env::temp_dir().join(format!("fh-fuzz-pages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("big-pages.parquet");
    one_page_per_column(240_000, &file);
    let mut data = std::fs::read(&file).unwrap();
    assert_eq!(fuzz_entry::parse_parquet(&data).unwrap(), 240_000);

    let meta = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).unwrap())
        .unwrap()
        .metadata()
        .clone();
    let col = meta
        .row_group(0)
        .columns()
        .iter()
        .find(|c| c.column_path().string() == "up_bytes");
    let at = col.unwrap().data_page_offset() as usize;
    // PageHeader: 0x15 type=0, then 0x15 and uncompressed_page_size as a zigzag varint.
    assert_eq!(&data[at..at + 3], &[0x15, 0x00, 0x15]);
    let len = data[at + 3..].iter().position(|b| b & 0x80 == 0).unwrap() + 1;
    assert!(len >= 3, "a page of megabytes: {len}-byte size");
    // the largest even zigzag of the same length: the file's layout is unchanged
    let claim = (1i64 << (7 * len - 1)) - 1;
    data[at + 3] = 0xfe;
    data[at + 4..at + 3 + len - 1].fill(0xff);
    data[at + 3 + len - 1] = 0x7f;
    std::fs::write(&file, &data).unwrap();

    // the claim is false: the footer's total for the whole chunk (headers and all) is smaller
    assert!(claim > col.unwrap().uncompressed_size(), "{claim}");
    let err = fuzz_entry::parse_parquet(&data).unwrap_err().to_string();
    eprintln!("{err}");
    for part in [
        "row group 0",
        "column up_bytes",
        "page 0",
        &format!("claims {claim} bytes"),
        "re-export",
    ] {
        assert!(err.contains(part), "{part:?} in {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The slow input the `parquet` target found (minutes in the parquet crate: a page header's Thrift list
/// claims more elements than its column chunk has bytes, and the crate's reader skips each at end of
/// file) is refused as an unreadable page header, naming the row group, column and page.
#[test]
fn a_page_header_longer_than_its_chunk_is_refused_not_walked() {
    let data =
        std::fs::read(corpus().join("parquet/thrift-list-longer-than-chunk.parquet")).unwrap();
    let err = fuzz_entry::parse_parquet(&data).unwrap_err().to_string();
    let want =
        "row group 0, column timestamp: page 1: its header does not parse inside the column chunk";
    assert!(err.contains(want), "{err}");
}

/// The `nfcapd` target's entry point decodes the LZO, BZ2 and LZ4 fixtures whole: 470 flows each
/// (`nfdump -r FILE -o csv`'s summary).
#[test]
fn the_nfcapd_entry_point_decodes_every_flow_of_real_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/nfcapd");
    for ext in ["lzo", "bz2", "lz4"] {
        let data = std::fs::read(dir.join(format!(
            "nfcapd.2015051311{}.{ext}",
            match ext {
                "lzo" => 20,
                "bz2" => 21,
                _ => 22,
            }
        )))
        .unwrap();
        assert_eq!(fuzz_entry::parse_nfcapd(&data).unwrap(), 470, "{ext}");
        assert!(
            fuzz_entry::parse_nfcapd(&data[..data.len() / 2]).is_err(),
            "{ext} cut in half"
        );
    }
}

/// The `netflow_packet` target's sequences (`FHNF`, what `scripts/fuzz-pcap-seeds` writes per exporter)
/// decode exactly the flows the collector's stateful decoder gets from the same datagrams, and more than
/// the datagrams alone (v9/IPFIX data sets need the templates sent before them).
#[test]
fn the_netflow_entry_point_decodes_sequences_like_the_collector() {
    use flowhound::collect::{decode_datagram, Decoder};
    let Some(td) = common::testdata("the_netflow_entry_point_decodes_sequences_like_the_collector")
    else {
        return;
    };
    let pcap = std::fs::read(td.join("netflow/netflow_v5_v9_ipfix_exports.pcap")).unwrap();
    let mut by_src: std::collections::BTreeMap<_, Vec<Vec<u8>>> = Default::default();
    for e in collect_support::pcap_exports(&pcap) {
        by_src.entry(e.src).or_default().push(e.payload);
    }
    let (mut seq_flows, mut collector_flows, mut alone_flows) = (0, 0, 0);
    for (src, payloads) in &by_src {
        let mut seq = fuzz_entry::DATAGRAMS_MAGIC.to_vec();
        let mut dec = Decoder::default();
        let from = std::net::SocketAddr::from((*src, 2055));
        for p in payloads {
            seq.extend_from_slice(&(p.len() as u16).to_be_bytes());
            seq.extend_from_slice(p);
            collector_flows += dec.datagram(from, p, &mut Vec::new()).flows;
            alone_flows += decode_datagram(p).1.flows;
            assert_eq!(fuzz_entry::decode_datagrams(p), decode_datagram(p).1.flows);
        }
        seq_flows += fuzz_entry::decode_datagrams(&seq);
    }
    assert_eq!(seq_flows, collector_flows);
    assert!(
        seq_flows > alone_flows,
        "{seq_flows} flows in sequences, {alone_flows} alone"
    );
    eprintln!("{seq_flows} flows in sequences, {alone_flows} from datagrams alone");
}

/// Damaged pages and column chunks on which the parquet crate panics (found by the `parquet` target
/// after the hint fix: 29 inputs with a run-length header over 10 bytes, one with a negative column
/// offset, one with an empty level bitmap) are refused with a typed error naming the file and row
/// group. Since the page headers are walked first (`ingest/parquet_pages.rs`), the two whose chunk
/// offsets point at no page header are refused before the crate decodes anything (pyarrow refuses
/// both files as "Invalid column metadata"). Any panic raised meanwhile is a dependency's, inside flowhound's guard (what the fuzz target
/// tolerates); a panic of flowhound's own fails the test.
#[test]
fn damaged_parquet_pages_are_a_typed_error_not_a_panic() {
    use flowhound::ingest::upstream;
    use std::sync::atomic::{AtomicBool, Ordering};
    static STRAY: AtomicBool = AtomicBool::new(false);
    let cases = [
        // the column chunk starts inside another page's data: its "page header" does not parse (the
        // crate read garbage as one, then panicked on the run-length header it found after it)
        (
            "rle-header-over-10-bytes.parquet",
            "column proto: page 0: its header does not parse inside the column chunk",
        ),
        ("negative-column-offset.parquet", "negative offset"),
        // the same: the chunk's offset points into the footer's text
        (
            "empty-level-bitmap.parquet",
            "column down_bytes: page 0: its header does not parse inside the column chunk",
        ),
    ];
    for (name, why) in cases {
        let data = std::fs::read(corpus().join("parquet").join(name)).unwrap();
        let _one = HOOKS.lock().unwrap_or_else(|e| e.into_inner());
        let me = std::thread::current().id();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let dep = info
                .location()
                .is_some_and(|l| l.file().contains("/registry/src/"));
            if std::thread::current().id() == me && !(dep && upstream::in_guard()) {
                STRAY.store(true, Ordering::SeqCst);
            }
        }));
        let out = fuzz_entry::parse_parquet(&data);
        std::panic::set_hook(hook);
        assert!(
            !STRAY.load(Ordering::SeqCst),
            "{name}: a panic outside the guard"
        );
        let err = out.expect_err(name);
        assert!(
            matches!(err, flowhound::FlowError::Corrupt { .. }),
            "{name}: {err}"
        );
        let text = err.to_string();
        assert!(
            text.contains(why) && text.contains(".parquet"),
            "{name}: {text}"
        );
        eprintln!("{name}: {text}");
    }
}
