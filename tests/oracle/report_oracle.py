#!/usr/bin/env python3
"""Independent oracle for the report's traffic numbers (`flowhound::report::Traffic`), with pandas/numpy.

Reads tests/fixtures/profile/flows.parquet (5,000 flows, analysts' schema) and writes
tests/oracle/report_expected.json:

  up_hist / down_hist: log-scale histograms of bytes per flow. Bin 0 is [0, 1); bin k >= 1 is
                       [10^((k-1)/4), 10^(k/4)), i.e. 4 bins per decade; bins from the first to the last
                       non-empty one, as [lo, hi, count]. Bin membership is decided with numpy.digitize
                       against the edges (not with a log formula).
  by_hour_flows / by_hour_bytes: flows and up+down bytes per UTC hour of day (24 values)
  top_talkers: the 15 sources with the most up+down bytes (ties: flows desc, then address text asc)
               as [address, flows, bytes]
  ports: the 15 (proto/port) with the most bytes, same tie rule, as ["proto/port", flows, bytes]
  protocols: flows and bytes per protocol class (tcp, udp, icmp, other), most bytes first
  intervals: numpy.histogram(values, bins=20) of a fixed list of inter-arrival seconds, plus its median

Usage (from the repository root):  python3 tests/oracle/report_oracle.py
Compared by crates/flowhound/tests/report_traffic_oracle.rs.
"""
import json
import os

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
df = pd.read_parquet(os.path.join(ROOT, "tests/fixtures/profile/flows.parquet"))


def log_hist(values):
    values = np.asarray(values, dtype=np.float64)
    top = int(np.ceil(np.log10(max(values.max(), 1.0)) * 4)) + 2
    edges = np.array([0.0] + [10 ** (e / 4) for e in range(0, top + 1)])
    # Exact powers of ten for whole decades (the generic formula rounds, e.g. 10**(8/4)).
    for i, e in enumerate(range(0, top + 1)):
        if e % 4 == 0:
            edges[i + 1] = float(10 ** (e // 4))
    idx = np.digitize(values, edges) - 1  # bin k holds edges[k] <= v < edges[k+1]
    counts = np.bincount(idx, minlength=len(edges))
    nz = np.nonzero(counts)[0]
    return [[float(edges[k]), float(edges[k + 1]), int(counts[k])] for k in range(nz[0], nz[-1] + 1)]


def ranked(frame, key, n):
    g = frame.groupby(key).agg(flows=("bytes", "size"), bytes=("bytes", "sum")).reset_index()
    g = g.sort_values(["bytes", "flows", key], ascending=[False, False, True], kind="mergesort")
    return [[str(r[key]), int(r["flows"]), int(r["bytes"])] for _, r in g.head(n).iterrows()]


proto = df.proto.str.lower().where(df.proto.str.lower().isin(["tcp", "udp", "icmp"]), "other")
d = df.assign(bytes=df.up_bytes + df.down_bytes, hour=(df.timestamp // 3600) % 24, proto=proto,
              portkey=proto + "/" + df.port.astype(str))
hours = d.groupby("hour").agg(flows=("bytes", "size"), bytes=("bytes", "sum")).reindex(range(24), fill_value=0)

gaps = [60.2, 59.8, 61.0, 60.0, 300.0, 59.9, 60.1, 60.4, 0.5, 60.0, 120.3]
counts, edges = np.histogram(gaps, bins=20)

out = {
    "flows": int(len(df)),
    "up_hist": log_hist(df.up_bytes),
    "down_hist": log_hist(df.down_bytes),
    "by_hour_flows": [int(x) for x in hours.flows],
    "by_hour_bytes": [int(x) for x in hours.bytes],
    "top_talkers": ranked(d, "src_ip", 15),
    "ports": ranked(d, "portkey", 15),
    "protocols": ranked(d, "proto", 8),
    "intervals": {"values": gaps, "counts": [int(c) for c in counts], "edges": [float(e) for e in edges],
                  "median": float(np.median(gaps))},
}
with open(os.path.join(ROOT, "tests/oracle/report_expected.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote tests/oracle/report_expected.json")
