#!/usr/bin/env python3
"""Independent oracle (numpy) for flowhound's `cnc_beacon` sub-scores (docs/detectors.md).

Written from the documented formula, not from the Rust code:
  ts   = ((1 - |bowley(gaps)|) + mad_score(gaps, default=1)) / 2
  ds   = ((1 - |bowley(bytes)|) + mad_score(bytes, default=0)) / 2
  hist = max(1 - cv(histogram over the pair's own span), bimodal fit), on the active timeline:
         gaps >= max(10 * median gap, 3600 s) shrink to the median gap first
  dur  = min(1, max(span / capture span, span / 21600))
  raw  = mean of the four
Quartiles are numpy's linear interpolation. Connections closer than 1 s to the previous one are merged.

Usage: python3 tests/oracle/beacon_oracle.py [TESTDATA_DIR] > tests/oracle/beacon_expected.json
"""
import json
import math
import sys

import numpy as np

SPREAD = 0.1          # skew_min_spread_ratio
PER_BIN, MAX_BINS, BIMODAL_MIN = 4, 24, 11
IDEAL = 21600.0       # dur_ideal_secs
MERGE_US = 1_000_000  # burst_merge_secs


def bowley(x):
    q1, q2, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    den = q3 - q1
    if den <= 0 or den < SPREAD * abs(q2) or q2 == q1 or q2 == q3:
        return 0.0
    return float(np.clip((q1 + q3 - 2 * q2) / den, -1, 1))


def mad_score(x, default):
    med = float(np.median(x))
    mad = float(np.median(np.abs(np.asarray(x) - med)))
    if med < 1:
        return 1.0 if mad == 0 else default
    return float(np.clip((med - mad) / med, 0, 1))


def regularity(x, default):
    return ((1 - abs(bowley(x))) + mad_score(x, default)) / 2


def merge(ts):
    out, last = [], None
    for t in sorted(ts):
        if last is None or t - last >= MERGE_US:
            out.append(t)
        last = t
    return out


def close_silences(events):
    if len(events) < 2:
        return list(events)
    gaps = np.diff(np.asarray(events, dtype=np.int64)) / 1e6
    med = float(np.median(gaps))
    silence = max(10 * med, 3600.0)
    out, shift = [events[0]], 0
    for prev, t in zip(events, events[1:]):
        if (t - prev) / 1e6 >= silence:
            shift += t - prev - int(med * 1e6)
        out.append(t - shift)
    return out


def hist_score(events):
    events = close_silences(events)
    bins = int(min(max(len(events) // PER_BIN, 4), MAX_BINS))
    first, last = events[0], events[-1]
    span = max(last - first, 1)
    h = np.zeros(bins, dtype=np.int64)
    for t in events:
        h[min(int((t - first) / span * bins), bins - 1)] += 1
    cv = h.std() / h.mean()
    cvs = float(np.clip(1 - cv, 0, 1))
    bars = h[h > 0]
    bim = 0.0
    if len(bars) >= BIMODAL_MIN:
        size = max(math.ceil(bars.max() * 0.05), 1)
        _, counts = np.unique(bars // size, return_counts=True)
        top = sorted(counts, reverse=True)[:2]
        bim = min(sum(top) / max(len(bars) - 1, 1), 1.0)
    return max(cvs, bim)


def scores(ts_us, sizes, capture_span_s):
    events = merge(ts_us)
    gaps = np.sort(np.diff(np.asarray(events, dtype=np.int64)) / 1e6)
    span = (max(ts_us) - min(ts_us)) / 1e6
    sub = {
        "ts": regularity(gaps, 1.0),
        "ds": regularity(np.sort(np.asarray(sizes, dtype=float)), 0.0),
        "hist": hist_score(events),
        "dur": float(min(1.0, max(span / capture_span_s if capture_span_s > 0 else 0, span / IDEAL))),
    }
    sub["raw"] = sum(sub.values()) / 4
    sub["period_secs"] = float(np.median(gaps))
    sub["jitter_secs"] = float(np.median(np.abs(gaps - np.median(gaps))))
    sub["events"] = len(events)
    return sub


def synthetic():
    s = 1_000_000
    return {
        "every_60s_small_jitter": ([i * 60 * s + (i % 3) * 100_000 for i in range(100)], [300] * 100, 6000.0),
        "alternating_9_14": ([sum(9 * s if k % 2 == 0 else 14 * s for k in range(i)) for i in range(50)], [0] * 50, 5000.0),
        "bursty_sizes": ([i * 30 * s for i in range(40)], [100 * (1 + i % 7) ** 2 for i in range(40)], 1200.0),
        # two check-ins, a night asleep (14 h), then 74 more every ~470 s
        "night_off": ([0, 470 * s] + [(51_000 + i * 470 + (i % 5) * 20) * s for i in range(74)], [1700] * 76, 86400.0),
    }


def njrat(root):
    path = f"{root}/zeek/strato-001-njrat-cc/conn.log.labeled"
    ts, sizes, all_ts = [], [], []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            c = line.rstrip("\n").split("\t")
            t = round(float(c[0]) * 1e6)
            all_ts.append(t)
            if c[2] == "192.168.1.115" and c[4] == "41.108.179.197":
                ob = 0 if c[9] in ("-", "") else int(c[9])
                rb = 0 if c[10] in ("-", "") else int(c[10])
                ts.append(t)
                sizes.append(ob + rb)
    return scores(ts, sizes, (max(all_ts) - min(all_ts)) / 1e6)


def main():
    out = {name: scores(*args) for name, args in synthetic().items()}
    root = sys.argv[1] if len(sys.argv) > 1 else "../shared/testdata"
    try:
        out["njrat"] = njrat(root)
    except FileNotFoundError:
        pass
    print(json.dumps(out, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
