#!/usr/bin/env python3
"""Records pygeoip's answers for random IPv4 addresses, as the oracle of the
legacy .dat conformance test (tests/legacy_oracle.rs).

usage: make_expected.py [TESTDATA_GEOIP_DIR]   (default: the shared testdata)
writes legacy_expected.tsv.gz beside this script.

Needs `pip install pygeoip` (pure-Python reader of the legacy format, independent
of flowhound). Output: a header of `# key=value` lines (seed, count, sha256 of
each database), then `ip<TAB>country<TAB>asnum-record<TAB>country-2016` per address
(GeoIP.dat, GeoIPASNum.dat, GeoIP-2016.dat); empty
fields mean pygeoip returned nothing.
"""
import gzip
import hashlib
import os
import random
import socket
import struct
import sys

import pygeoip

SEED = 20261129
COUNT = 120_000


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    geo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../../../shared/testdata/geoip")
    country_db = os.path.join(geo, "GeoIP.dat")
    asn_db = os.path.join(geo, "GeoIPASNum.dat")
    old_db = os.path.join(geo, "GeoIP-2016.dat")
    country = pygeoip.GeoIP(country_db, pygeoip.MEMORY_CACHE)
    old = pygeoip.GeoIP(old_db, pygeoip.MEMORY_CACHE)
    asn = pygeoip.GeoIP(asn_db, pygeoip.MEMORY_CACHE)
    rng = random.Random(SEED)
    fixed = ["8.8.8.8", "193.136.73.21", "192.168.1.1", "0.0.0.0", "255.255.255.255"]
    addrs = fixed + [socket.inet_ntoa(struct.pack(">I", rng.getrandbits(32))) for _ in range(COUNT)]
    out = os.path.join(here, "legacy_expected.tsv.gz")
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        head = [f"seed={SEED}", f"count={len(addrs)}", f"pygeoip={pygeoip.__version__}",
                f"GeoIP.dat.sha256={sha256(country_db)}", f"GeoIPASNum.dat.sha256={sha256(asn_db)}",
                f"GeoIP-2016.dat.sha256={sha256(old_db)}"]
        head += [f"{os.path.basename(p)}.size={os.path.getsize(p)}" for p in (country_db, asn_db, old_db)]
        gz.write("".join(f"# {h}\n" for h in head).encode())
        for ip in addrs:
            cc = country.country_code_by_addr(ip) or ""
            org = asn.org_by_addr(ip) or ""
            cc_old = old.country_code_by_addr(ip) or ""
            gz.write(f"{ip}\t{cc}\t{org}\t{cc_old}\n".encode("utf-8"))
    print(f"wrote {out}: {len(addrs)} addresses")


if __name__ == "__main__":
    main()
