#!/usr/bin/env python3
"""The aggregations of `flowhound profile`, in DuckDB SQL, on the same Parquet file.

Usage: profile_duckdb.py FILE.parquet [THREADS]. Prints the elapsed seconds of the whole job.
"""
import sys
import time

import duckdb

QUERIES = [
    # describe() of both byte columns
    """SELECT count(*), sum(up_bytes), avg(up_bytes), stddev_samp(up_bytes), min(up_bytes),
              quantile_cont(up_bytes, [0.25, 0.5, 0.75]), max(up_bytes),
              sum(down_bytes), avg(down_bytes), stddev_samp(down_bytes), min(down_bytes),
              quantile_cont(down_bytes, [0.25, 0.5, 0.75]), max(down_bytes),
              min(timestamp), max(timestamp) FROM f""",
    "SELECT src_ip, count(*) n, sum(up_bytes + down_bytes) b FROM f GROUP BY 1 ORDER BY n DESC LIMIT 10",
    "SELECT src_ip, count(*) n, sum(up_bytes + down_bytes) b FROM f GROUP BY 1 ORDER BY b DESC LIMIT 10",
    "SELECT dst_ip, count(*) n, sum(up_bytes + down_bytes) b FROM f GROUP BY 1 ORDER BY n DESC LIMIT 10",
    "SELECT dst_ip, count(*) n, sum(up_bytes + down_bytes) b FROM f GROUP BY 1 ORDER BY b DESC LIMIT 10",
    "SELECT proto, port, count(*) n, sum(up_bytes + down_bytes) FROM f GROUP BY 1, 2 ORDER BY n DESC LIMIT 10",
    "SELECT proto, count(*), sum(up_bytes), sum(down_bytes) FROM f GROUP BY 1",
    "SELECT (timestamp // 3600) % 24 h, count(*), sum(up_bytes), sum(down_bytes) FROM f GROUP BY 1",
    """SELECT (src_ip LIKE '192.168.%' OR src_ip LIKE '10.%') si, (dst_ip LIKE '192.168.%' OR dst_ip LIKE '10.%') di,
              count(*), sum(up_bytes), sum(down_bytes) FROM f GROUP BY 1, 2""",
]


def main():
    path = sys.argv[1]
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    con = duckdb.connect()
    con.execute(f"SET threads TO {threads}")
    start = time.perf_counter()
    con.execute(f"CREATE VIEW f AS SELECT * FROM read_parquet('{path}')")
    for q in QUERIES:
        con.execute(q).fetchall()
    print(f"{time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
