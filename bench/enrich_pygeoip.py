#!/usr/bin/env python3
"""The analysts' way: per-row GeoIP with pygeoip (country + AS org of dst_ip) over the first N rows of a
Parquet file. Prints rows and elapsed seconds. Usage: enrich_pygeoip.py FILE.parquet GeoIP.dat GeoIPASNum.dat N
"""
import sys
import time

import pyarrow.parquet as pq
import pygeoip


def main():
    path, country_db, asn_db, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    table = pq.read_table(path, columns=["src_ip", "dst_ip"]).slice(0, n).to_pandas()
    gi = pygeoip.GeoIP(country_db)
    ga = pygeoip.GeoIP(asn_db)
    start = time.perf_counter()
    for col in ("src_ip", "dst_ip"):
        table[col.replace("ip", "country")] = table[col].apply(gi.country_code_by_addr)
        table[col.replace("ip", "org")] = table[col].apply(ga.org_by_addr)
    print(f"{len(table)} {time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
