#!/usr/bin/env python3
"""The aggregations behind `flowhound analyze`, in DuckDB SQL, on the same Parquet files.

Baseline on NORMAL: per-flow statistics (mean, std, quartiles, p90/p99, MAD), per (host, hour) sums and
per-host statistics of those windows, destination ports, active hours, distinct destinations, the server
inventory, the internal graph and external prevalence. Detection on TEST: host windows, beacon candidate
pairs with their sorted timestamps, port-scan fan-out per source and 5-minute window, DNS per host,
uploads to external hosts per window, and internal pairs absent from the baseline. DuckDB does no GeoIP
here (flowhound does, on distinct addresses), so the comparison favours DuckDB.

Usage: analyze_duckdb.py NORMAL.parquet TEST.parquet [THREADS [MEMORY_LIMIT [TEMP_DIR [MAX_TEMP [views]]]]].
Prints the elapsed seconds. MAX_TEMP (e.g. 9GB) caps DuckDB's spill files (`max_temp_directory_size`), so
that a run that needs more disk fails instead of filling it: it then prints `failed after S s: ...` and
exits 1. `views`: the host views of both inputs are views read again by every query instead of temporary
tables (which DuckDB spills whole under a memory limit: 100M + 100M flows need more than 9 GB of disk).
"""
import sys
import time

import duckdb

INTERNAL = "(ip LIKE '192.168.%' OR ip LIKE '10.%' OR ip LIKE '172.16.%')"


def internal(col):
    return INTERNAL.replace("ip", col)


def host_view(t):
    return f"""
    SELECT timestamp ts, proto, port,
           CASE WHEN {internal('src_ip')} THEN src_ip ELSE dst_ip END host,
           CASE WHEN {internal('src_ip')} THEN dst_ip ELSE src_ip END peer,
           CASE WHEN {internal('src_ip')} THEN up_bytes ELSE down_bytes END sent,
           CASE WHEN {internal('src_ip')} THEN down_bytes ELSE up_bytes END recv,
           {internal('src_ip')} AND {internal('dst_ip')} both_internal
    FROM {t} WHERE {internal('src_ip')} OR {internal('dst_ip')}"""


def stats(col, t):
    return f"""SELECT count(*), avg({col}), stddev_samp({col}), min({col}), max({col}),
        quantile_cont({col}, [0.25, 0.5, 0.75, 0.9, 0.99]) q,
        (SELECT median(abs({col} - (SELECT median({col}) FROM {t}))) FROM {t}) mad FROM {t}"""


BASELINE = [
    stats("up_bytes", "n"),
    stats("down_bytes", "n"),
    """CREATE TEMP TABLE nw AS SELECT host, ts // 3600 w, count(*) flows, sum(sent) sent, sum(recv) recv
       FROM nh GROUP BY 1, 2""",
    """SELECT host, count(*), avg(sent), stddev_samp(sent), quantile_cont(sent, [0.25, 0.5, 0.75, 0.9, 0.99]),
              avg(recv), stddev_samp(recv), quantile_cont(recv, [0.25, 0.5, 0.75, 0.9, 0.99]),
              avg(flows), quantile_cont(flows, [0.5, 0.99])
       FROM nw GROUP BY 1""",
    "SELECT host, proto, port, count(*) FROM nh GROUP BY 1, 2, 3",
    "SELECT host, (ts // 3600) % 24, count(*) FROM nh GROUP BY 1, 2",
    "SELECT host, count(DISTINCT peer) FROM nh GROUP BY 1",
    """SELECT dst_ip, proto, port, count(DISTINCT src_ip), count(*) FROM n
       WHERE """ + internal("src_ip") + " AND " + internal("dst_ip") + " GROUP BY 1, 2, 3",
    """SELECT src_ip, dst_ip, list(DISTINCT port), count(*) FROM n
       WHERE """ + internal("src_ip") + " AND " + internal("dst_ip") + " GROUP BY 1, 2",
    "SELECT peer, count(DISTINCT host), count(*) FROM nh WHERE NOT both_internal GROUP BY 1",
]

DETECT = [
    "SELECT host, ts // 3600 w, count(*), sum(sent), sum(recv) FROM th GROUP BY 1, 2",
    """SELECT host, peer, list(ts ORDER BY ts), list(sent + recv ORDER BY ts) FROM th
       WHERE NOT both_internal GROUP BY 1, 2 HAVING count(*) >= 10""",
    """SELECT src_ip, timestamp // 300 w, count(DISTINCT port), count(DISTINCT dst_ip), count(*) FROM t
       GROUP BY 1, 2""",
    """SELECT host, count(*), avg(sent), stddev_samp(sent), count(DISTINCT peer) FROM th
       WHERE port = 53 GROUP BY 1""",
    """SELECT host, ts // 3600 w, sum(sent), sum(recv), count(DISTINCT peer) FROM th
       WHERE NOT both_internal GROUP BY 1, 2""",
    """SELECT a.src_ip, a.dst_ip, list(DISTINCT a.port), count(*) FROM t a
       WHERE """ + internal("a.src_ip") + " AND " + internal("a.dst_ip") + """
         AND NOT EXISTS (SELECT 1 FROM n b WHERE b.src_ip = a.src_ip AND b.dst_ip = a.dst_ip)
       GROUP BY 1, 2""",
]


def main():
    normal, test = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    con = duckdb.connect()
    con.execute(f"SET threads TO {threads}")
    con.execute("SET enable_progress_bar = false")
    if len(sys.argv) > 4:
        # the same memory limit as flowhound's --memory-limit, spilling to the same kind of directory
        con.execute(f"SET memory_limit = '{sys.argv[4]}'")
        con.execute(f"SET temp_directory = '{sys.argv[5] if len(sys.argv) > 5 else '/tmp'}'")
    if len(sys.argv) > 6:
        con.execute(f"SET max_temp_directory_size = '{sys.argv[6]}'")
    start = time.perf_counter()
    try:
        run(con, normal, test, "VIEW" if sys.argv[7:8] == ["views"] else "TEMP TABLE")
    except duckdb.Error as e:
        print(f"failed after {time.perf_counter() - start:.1f} s: {e}")
        sys.exit(1)
    print(f"{time.perf_counter() - start:.3f}")


def run(con, normal, test, kind):
    con.execute(f"CREATE VIEW n AS SELECT * FROM read_parquet('{normal}')")
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{test}')")
    con.execute(f"CREATE {kind} nh AS {host_view('n')}")
    con.execute(f"CREATE {kind} th AS {host_view('t')}")
    for q in BASELINE + DETECT:
        con.execute(q).fetchall()


if __name__ == "__main__":
    main()
