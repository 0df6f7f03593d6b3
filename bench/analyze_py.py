#!/usr/bin/env python3
"""Benchmark: fh.analyze on pandas frames against `flowhound analyze` on the Parquet files they were read
from (same data, GeoIP on, DNS off, 2 threads), side by side: 5 interleaved runs of each (CLI, Python, CLI,
...), medians. The pandas frames are read before timing (they are what the analyst already has); the CLI
reads its files inside the timing. Also times the pandas -> Arrow conversion that fh.analyze does first.
Needs release builds of both (`cargo build --release --workspace`; `maturin build --release` in
crates/flowhound-py, then pip install the wheel); the CLI is $FLOWHOUND_BIN, else
$CARGO_TARGET_DIR/release/flowhound.
Usage: bench/analyze_py.py [N] [--object-strings]   (default 1000000 normal + N test flows; the option makes
the text columns Python objects, as pandas < 3 reads them, instead of pandas 3's Arrow-backed strings)
"""
import os
import subprocess
import sys

import pandas as pd
import pyarrow as pa

import flowhound as fh
from pytiming import median_secs


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 1_000_000
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    cli = os.environ.get("FLOWHOUND_BIN") or os.path.join(target, "release", "flowhound")
    work = os.path.join(os.environ.get("BENCH_DIR", "/tmp/flowhound-bench"), f"gen-{n}")
    if not os.path.exists(os.path.join(work, "test.parquet")):
        fh.generate(work, seed=7, flows_normal=n, flows_test=n, flows_servers=1, progress=False)
    normal = pd.read_parquet(os.path.join(work, "normal.parquet"))
    test = pd.read_parquet(os.path.join(work, "test.parquet"))
    if "--object-strings" in sys.argv:  # text columns as Python objects (pandas < 3's default)
        normal, test = (f.astype({c: object for c in ("src_ip", "dst_ip", "proto")}) for f in (normal, test))
    cmd = [cli, "analyze", "--quiet", "--no-rdns", "--threads", "2", "--normal",
           os.path.join(work, "normal.parquet"), "--test", os.path.join(work, "test.parquet"),
           "--json", os.path.join(work, "findings-cli.json")]

    def run_cli():
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run_py():
        fh.analyze(test, normal=normal, threads=2, progress=False)

    runs = [(median_secs(run_cli, 1), median_secs(run_py, 1)) for _ in range(5)]
    cli_s = sorted(c for c, _ in runs)[2]
    py_s = sorted(p for _, p in runs)[2]
    conv = median_secs(lambda: [pa.Table.from_pandas(f, preserve_index=False) for f in (normal, test)])
    print(f"analyze {n} + {n} flows: CLI on Parquet {cli_s:.2f} s, fh.analyze on pandas {py_s:.2f} s, "
          f"ratio {py_s / cli_s:.2f}; of it pandas -> Arrow of both frames {conv:.2f} s")
    print("runs (CLI, Python):", ", ".join(f"({c:.2f}, {p:.2f})" for c, p in runs))


if __name__ == "__main__":
    main()
