#!/usr/bin/env python3
"""Write an analysts'-schema Parquet file of N synthetic flows for benchmarks.

Columns: timestamp (int64 epoch s), src_ip, dst_ip (dotted text), proto (text), port (int64),
up_bytes, down_bytes (int64). 200 internal clients in 192.168.105.0/24, 20,000 external hosts,
heavy-tailed sizes. Deterministic (seed 7). Usage: make_flows.py N OUT.parquet
"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    rng = np.random.default_rng(7)
    internal = np.array([f"192.168.105.{i}" for i in range(1, 201)])
    external = np.array([f"{a}.{b}.{c}.{d}" for a, b, c, d in rng.integers(1, 223, size=(20000, 4))])
    writer = None
    chunk = 1_000_000
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        outbound = rng.random(m) < 0.9
        client = internal[rng.zipf(1.3, m) % 200]
        remote = external[rng.zipf(1.2, m) % 20000]
        src = np.where(outbound, client, remote)
        dst = np.where(outbound, remote, client)
        proto = rng.choice(np.array(["tcp", "udp", "icmp"]), m, p=[0.8, 0.18, 0.02])
        port = rng.choice(np.array([443, 80, 53, 22, 25, 8080, 3389]), m, p=[0.6, 0.2, 0.1, 0.03, 0.03, 0.02, 0.02])
        ts = 1_700_000_000 + np.sort(rng.integers(0, 7 * 86400, m))
        up = rng.lognormal(6, 1.5, m).astype(np.int64)
        down = rng.lognormal(8, 2.0, m).astype(np.int64)
        table = pa.table({
            "timestamp": pa.array(ts, pa.int64()), "src_ip": src, "dst_ip": dst, "proto": proto,
            "port": pa.array(port, pa.int64()), "up_bytes": up, "down_bytes": down,
        })
        if writer is None:
            writer = pq.ParquetWriter(out, table.schema, compression="zstd")
        writer.write_table(table, row_group_size=1 << 20)
    writer.close()


if __name__ == "__main__":
    main()
