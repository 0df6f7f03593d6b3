//! The Parquet files the `parquet` fuzz target found the parquet crate panicking on, through the real
//! binary: `convert` refuses each with the documented exit code and a message naming the file, and
//! prints no panic.

mod common;

use common::{flowhound, root, Scratch};

#[test]
fn convert_refuses_damaged_parquet_pages_without_a_panic() {
    let tmp = Scratch::new("fuzz-findings");
    let out = tmp.path("out.parquet");
    for name in [
        "rle-header-over-10-bytes.parquet",
        "negative-column-offset.parquet",
        "empty-level-bitmap.parquet",
    ] {
        let input = root().join("tests/fixtures/fuzz/parquet").join(name);
        let run = flowhound(&[
            "convert",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        run.expect(3, name).stderr_has(&[name, "damaged"], name);
        assert!(!out.exists(), "{name}: no output under the final name");
    }
}
