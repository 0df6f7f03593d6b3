#!/usr/bin/env python3
"""Independent oracle for `flowhound profile`: the same numbers computed with pandas.

Reads tests/fixtures/profile/flows.parquet (written by tests/fixtures/make_fixtures.py: 5,000 flows in the
analysts' schema, int-seconds timestamps, heavy-tailed bytes) and writes tests/oracle/profile_expected.json:

  flows, time_span {first, last, seconds}
  stats.up_bytes / stats.down_bytes: pandas describe() (count, mean, std with ddof=1, min, 25%, 50%, 75%,
                                     max; quantiles by linear interpolation) plus the exact sum
  top_src / top_dst: top 10 addresses by flows and by bytes (up + down)
  top_dst_ports:    top 10 (proto, dst_port) by flows
  protocols:        flows/up/down per protocol class (tcp, udp, icmp, other; empty classes left out)
  by_hour:          flows/up/down per UTC hour of day, 24 rows
  direction:        internal/external split with the default internal networks
                    (10/8, 172.16/12, 192.168/16, fc00::/7)

Ranking ties are broken as flowhound documents them: top hosts by (flows, bytes) or (bytes, flows)
descending, then address ascending (IPv4 before IPv6, numerically); ports by flows, bytes descending, then
(proto, port) ascending.

Usage (from the repository root):  python3 tests/oracle/profile_oracle.py
The test crates/flowhound-cli/tests/cli_profile_oracle.rs runs `flowhound profile --json` on the fixture
and compares with this file's committed output (floats to 1e-9 relative).
"""
import ipaddress
import json
import os

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "fixtures", "profile", "flows.parquet")
OUT = os.path.join(HERE, "profile_expected.json")
TOP = 10
INTERNAL = [ipaddress.ip_network(n) for n in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]]


def proto_class(p):
    p = str(p).strip().lower()
    return {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp"}.get(p, "other")


def describe(s):
    d = s.describe()
    return {
        "count": int(d["count"]), "sum": int(s.sum()), "mean": float(d["mean"]), "std": float(d["std"]),
        "min": int(d["min"]), "p25": float(d["25%"]), "p50": float(d["50%"]), "p75": float(d["75%"]),
        "max": int(d["max"]),
    }


def ip_key(text):
    a = ipaddress.ip_address(text)
    return (a.version, int(a))


def top_hosts(df, col):
    g = df.groupby(col).agg(flows=("bytes", "size"), bytes=("bytes", "sum")).reset_index()
    g["key"] = g[col].map(ip_key)
    rows = [(r[col], int(r["flows"]), int(r["bytes"]), r["key"]) for _, r in g.iterrows()]
    by_flows = sorted(rows, key=lambda r: (-r[1], -r[2], r[3]))[:TOP]
    by_bytes = sorted(rows, key=lambda r: (-r[2], -r[1], r[3]))[:TOP]
    fmt = lambda rs: [{"ip": str(ipaddress.ip_address(r[0])), "flows": r[1], "bytes": r[2]} for r in rs]  # noqa: E731
    return {"by_flows": fmt(by_flows), "by_bytes": fmt(by_bytes)}


def top_ports(df):
    g = df.groupby(["pclass", "port"]).agg(flows=("bytes", "size"), bytes=("bytes", "sum")).reset_index()
    rows = [(r["pclass"], int(r["port"]), int(r["flows"]), int(r["bytes"])) for _, r in g.iterrows()]
    rows.sort(key=lambda r: (-r[2], -r[3], r[0], r[1]))
    return [{"proto": p, "port": port, "flows": f, "bytes": b} for p, port, f, b in rows[:TOP]]


def class_rows(df, col, keys):
    g = df.groupby(col).agg(flows=("bytes", "size"), up=("up_bytes", "sum"), down=("down_bytes", "sum"))
    out = []
    for k in keys:
        if k in g.index:
            r = g.loc[k]
            out.append({"key": k, "flows": int(r["flows"]), "up_bytes": int(r["up"]), "down_bytes": int(r["down"])})
        else:
            out.append({"key": k, "flows": 0, "up_bytes": 0, "down_bytes": 0})
    return out


def is_internal(text):
    a = ipaddress.ip_address(text)
    return any(a.version == n.version and a in n for n in INTERNAL)


def main():
    df = pd.read_parquet(FIXTURE)
    df["bytes"] = df["up_bytes"] + df["down_bytes"]
    df["pclass"] = df["proto"].map(proto_class)
    ts = pd.to_datetime(df["timestamp"], unit="s", utc=True)
    df["hour"] = ts.dt.hour.map(lambda h: f"{h:02d}")
    si, di = df["src_ip"].map(is_internal), df["dst_ip"].map(is_internal)
    df["direction"] = [f"{'internal' if a else 'external'}->{'internal' if b else 'external'}" for a, b in zip(si, di)]
    protocols = [r for r in class_rows(df, "pclass", ["tcp", "udp", "icmp", "other"]) if r["flows"] > 0]
    out = {
        "flows": int(len(df)),
        "time_span": {
            "first": ts.min().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "last": ts.max().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "seconds": float((ts.max() - ts.min()).total_seconds()),
        },
        "stats": {"up_bytes": describe(df["up_bytes"]), "down_bytes": describe(df["down_bytes"])},
        "top_src": top_hosts(df, "src_ip"),
        "top_dst": top_hosts(df, "dst_ip"),
        "top_dst_ports": top_ports(df),
        "protocols": protocols,
        "by_hour": class_rows(df, "hour", [f"{h:02d}" for h in range(24)]),
        "direction": class_rows(df, "direction", ["internal->internal", "internal->external",
                                                  "external->internal", "external->external"]),
        "oracle": f"pandas {pd.__version__}",
    }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: {out['flows']} flows")


if __name__ == "__main__":
    main()
