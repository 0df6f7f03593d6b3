#!/usr/bin/env python3
"""Benchmark: fh.analyze on pandas frames against `flowhound analyze` on the Parquet files they were read
from (same data, GeoIP on, DNS off, 2 threads), side by side; median of 3 each. The pandas frames are read
before timing (they are what the analyst already has); the CLI reads its files inside the timing.
Needs release builds of both (`cargo build --release --workspace`; `maturin build --release` in
crates/flowhound-py, then pip install the wheel).
Usage: bench/analyze_py.py [N]   (default 1000000 normal + N test flows)
"""
import os
import subprocess
import sys

import pandas as pd

import flowhound as fh
from pytiming import median_secs


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    cli = os.path.join(target, "release", "flowhound")
    work = os.path.join(os.environ.get("BENCH_DIR", "/tmp/flowhound-bench"), f"gen-{n}")
    if not os.path.exists(os.path.join(work, "test.parquet")):
        fh.generate(work, seed=7, flows_normal=n, flows_test=n, flows_servers=1, progress=False)
    normal = pd.read_parquet(os.path.join(work, "normal.parquet"))
    test = pd.read_parquet(os.path.join(work, "test.parquet"))
    cmd = [cli, "analyze", "--quiet", "--no-rdns", "--threads", "2", "--normal",
           os.path.join(work, "normal.parquet"), "--test", os.path.join(work, "test.parquet"),
           "--json", os.path.join(work, "findings-cli.json")]
    cli_s = median_secs(lambda: subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    py_s = median_secs(lambda: fh.analyze(test, normal=normal, threads=2, progress=False))
    print(f"analyze {n} + {n} flows: CLI on Parquet {cli_s:.2f} s, fh.analyze on pandas {py_s:.2f} s, "
          f"ratio {py_s / cli_s:.2f}")


if __name__ == "__main__":
    main()
