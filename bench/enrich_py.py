#!/usr/bin/env python3
"""Benchmark: fh.enrich of an N-row pandas DataFrame (the analysts' schema, text IPs) against the notebook's
per-row pygeoip on a 100k-row sample of the same frame (bench/enrich_pygeoip.py's job), extrapolated to N.
Needs the package built in release (`maturin develop --release` or `pip install` of a release wheel).
Usage: bench/enrich_py.py [N]   (default 1000000); pygeoip side needs ../shared/testdata/geoip.
"""
import os
import subprocess
import sys

import pandas as pd
import pyarrow as pa

import flowhound as fh
from pytiming import median_secs

HERE = os.path.dirname(os.path.abspath(__file__))
GEO = os.path.join(HERE, "..", "..", "shared", "testdata", "geoip")


def frame(n):
    work = os.environ.get("BENCH_DIR", "/tmp/flowhound-bench")
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, f"flows-{n}.parquet")
    if not os.path.exists(path):
        subprocess.run([sys.executable, os.path.join(HERE, "make_flows.py"), str(n), path], check=True)
    return path, pd.read_parquet(path)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    path, df = frame(n)
    secs = median_secs(lambda: fh.enrich(df, progress=False))
    print(f"fh.enrich {len(df)} rows (pandas in, pandas out): {secs:.2f} s (median of 3)")
    # The same call in parts: pandas -> Arrow, the Rust work on the Arrow table, Arrow -> pandas columns.
    table = pa.Table.from_pandas(df, preserve_index=False)
    to_arrow = median_secs(lambda: pa.Table.from_pandas(df, preserve_index=False))
    args = (fh._data.read_args(strict=True), False, fh._data.geo_args(), fh._data.dns_args(), None)
    rust = median_secs(lambda: fh._rs.enrich(table, "<bench>", *args))
    added = fh._rs.enrich(table, "<bench>", *args)
    back = median_secs(lambda: fh._data.append_columns(df, "pandas", added))
    print(f"  of which pandas -> Arrow {to_arrow:.2f} s, Rust {rust:.2f} s, Arrow -> pandas columns {back:.2f} s")
    if os.path.exists(os.path.join(GEO, "GeoIP.dat")):
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, "enrich_pygeoip.py"), path, os.path.join(GEO, "GeoIP.dat"),
             os.path.join(GEO, "GeoIPASNum.dat"), "100000"], check=True, capture_output=True, text=True).stdout
        rows, py = out.split()
        extrapolated = float(py) * len(df) / int(rows)
        print(f"pygeoip per row: {float(py):.2f} s for {rows} rows -> {extrapolated:.0f} s for {len(df)}; "
              f"speed-up {extrapolated / secs:.0f}x")
    else:
        print("pygeoip comparison skipped (no ../shared/testdata/geoip)")


if __name__ == "__main__":
    main()
