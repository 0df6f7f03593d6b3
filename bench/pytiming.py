"""Timing helper shared by the Python benchmarks (bench/enrich_py.py, bench/analyze_py.py)."""

import time


def median_secs(f, k=3):
    """Median wall seconds of `k` calls of `f`."""
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]
