#!/usr/bin/env python3
"""Oracle for flowhound's notebook-parity outliers (issue 5) and the baseline's global statistics.

Implements the analysts' notebook with pandas/scipy, verbatim in spirit:

    threshold_up = mean(normal.up_bytes) + 3 * std(normal.up_bytes)      # pandas std: ddof=1
    Q1, Q3       = quantile(normal.up_bytes, .25/.75)                      # linear interpolation
    lower, upper = Q1 - 1.5*(Q3-Q1), Q3 + 1.5*(Q3-Q1)
    anomalies_up = test rows where up > threshold_up OR up < lower OR up > upper
    zscore_up    = scipy.stats.zscore(test.up)                              # ddof=0, on the TEST data
    outliers_up  = test rows where |zscore_up| > 3

Usage:
    python3 tests/oracle/notebook_oracle.py --write-fixtures   # (re)generate the fixture Parquet files
    python3 tests/oracle/notebook_oracle.py                    # compute tests/oracle/notebook_expected.json

The fixtures are committed; the expected JSON is committed; crates/flowhound/tests/outliers_parity.rs and
crates/flowhound-cli/tests/analyze_cli.rs compare flowhound against it.
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "fixtures", "outliers")
NORMAL = os.path.join(FIX, "normal.parquet")
TEST = os.path.join(FIX, "test.parquet")
OUT = os.path.join(HERE, "notebook_expected.json")

START = 1772409600  # 2026-03-02 00:00:00 UTC
HOSTS = [f"192.168.105.{i}" for i in range(10, 41)]
EXFIL_HOST = "192.168.105.66"
EXFIL_DST = "45.142.212.61"
EXTERNAL = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "140.82.112.3", "151.101.1.69", "13.107.42.14",
            "104.16.132.229", "172.217.16.142", "31.13.72.36", "185.199.108.153"]
SERVERS = [("192.168.105.5", 445), ("192.168.105.6", 53)]


def flows(rng, n, days):
    """n ordinary flows over `days` days (heavy-tailed bytes, office hours more likely)."""
    hosts = HOSTS + [EXFIL_HOST]
    weights = np.array([1] * 7 + [6] * 11 + [1] * 6, dtype=float)
    hour = rng.choice(24, size=n, p=weights / weights.sum())
    ts = START + rng.integers(0, days, n) * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    src = rng.choice(hosts, n)
    internal = rng.random(n) < 0.2
    srv = rng.integers(0, len(SERVERS), n)
    dst = np.where(internal, [SERVERS[i][0] for i in srv], rng.choice(EXTERNAL, n))
    port = np.where(internal, [SERVERS[i][1] for i in srv], rng.choice([443, 80, 443, 443, 53], n))
    proto = np.where(port == 53, "udp", "tcp")
    up = np.floor(rng.lognormal(7.0, 1.4, n)).astype(np.int64)
    down = np.floor(rng.lognormal(9.0, 1.8, n)).astype(np.int64)
    return pd.DataFrame({"timestamp": ts.astype(np.int64), "src_ip": src, "dst_ip": dst, "proto": proto,
                         "port": port.astype(np.int64), "up_bytes": up, "down_bytes": down})


def exfil(rng):
    """The exfiltrating host: many large uploads to one external address between 01:00 and 04:00."""
    n = 60
    ts = START + 3600 + np.sort(rng.integers(0, 3 * 3600, n))
    up = rng.integers(20_000_000, 60_000_000, n).astype(np.int64)
    return pd.DataFrame({"timestamp": ts.astype(np.int64), "src_ip": EXFIL_HOST, "dst_ip": EXFIL_DST,
                         "proto": "tcp", "port": np.full(n, 443, np.int64), "up_bytes": up,
                         "down_bytes": rng.integers(2000, 9000, n).astype(np.int64)})


def write_fixtures():
    rng = np.random.default_rng(20260302)
    normal = flows(rng, 4000, 2)
    test = flows(rng, 2940, 1)
    test["timestamp"] += 2 * 86400
    big = rng.choice(len(test), 12, replace=False)
    test.loc[big[:6], "up_bytes"] = rng.integers(10**7, 10**9, 6)
    test.loc[big[6:], "down_bytes"] = rng.integers(10**8, 10**10, 6)
    test = pd.concat([test, exfil(rng).assign(timestamp=lambda d: d.timestamp + 2 * 86400)])
    for df, path in [(normal, NORMAL), (test, TEST)]:
        df = df.sort_values("timestamp", kind="stable").reset_index(drop=True)
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, compression="zstd")


def notebook(normal, test, col, methods):
    """The notebook's numbers for one metric."""
    n, t = normal[col], test[col]
    out = {}
    flagged = pd.Series(False, index=test.index)
    threshold = n.mean() + 3 * n.std()
    q1, q3 = n.quantile(0.25), n.quantile(0.75)
    lower, upper = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    sig = t > threshold
    iqr = (t < lower) | (t > upper)
    z = np.abs(stats.zscore(t.astype(np.float64)))
    zs = pd.Series(z > 3, index=test.index)
    if "sigma" in methods:
        out["sigma"] = {"threshold": float(threshold), "rows": int(sig.sum())}
        flagged |= sig
    if "iqr" in methods:
        out["iqr"] = {"lower": float(lower), "upper": float(upper), "rows": int(iqr.sum())}
        flagged |= iqr
    if "zscore-test" in methods:
        out["zscore_test"] = {"rows": int(zs.sum())}
        flagged |= zs
    out["combined_rows"] = int(flagged.sum())
    return out, flagged


def global_stats(s):
    med = float(s.median())
    return {"mean": float(s.mean()), "std": float(s.std()), "q1": float(s.quantile(0.25)), "median": med,
            "q3": float(s.quantile(0.75)), "mad": float((s - med).abs().median())}


def host_hourly(df, host):
    """Bytes the host sent per active 3600 s window (flows where it is the source)."""
    d = df[df.src_ip == host]
    return d.groupby(d.timestamp // 3600).up_bytes.sum()


def exfil_profile():
    """The exfiltrating host's hourly upload profile in normal and its peak hour in test (per-host test)."""
    normal, test = pd.read_parquet(NORMAL), pd.read_parquet(TEST)
    n, t = host_hourly(normal, EXFIL_HOST), host_hourly(test, EXFIL_HOST)
    return {"host": EXFIL_HOST, "peer": EXFIL_DST, "normal_windows": len(n), "normal_mean": float(n.mean()),
            "normal_std": float(n.std()), "normal_median": float(n.median()), "normal_p99": float(n.quantile(0.99)),
            "test_peak_window": float(t.max())}


def main():
    if "--write-fixtures" in sys.argv:
        write_fixtures()
    normal, test = pd.read_parquet(NORMAL), pd.read_parquet(TEST)
    expected = {"fixtures": {"normal_rows": len(normal), "test_rows": len(test)}}
    for name, methods in [("sigma_iqr", ["sigma", "iqr"]), ("all", ["sigma", "iqr", "zscore-test"]),
                          ("zscore_test", ["zscore-test"])]:
        res = {}
        any_row = pd.Series(False, index=test.index)
        for col in ["up_bytes", "down_bytes"]:
            res[col], f = notebook(normal, test, col, methods)
            any_row |= f
        res["rows_any_metric"] = int(any_row.sum())
        expected[name] = res
    expected["exfil_host"] = exfil_profile()
    expected["normal_stats"] = {c: global_stats(normal[c]) for c in ["up_bytes", "down_bytes"]}
    with open(OUT, "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(expected, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
