#!/usr/bin/env python3
"""Independent oracle for the embedded database (tests/embedded.rs).

usage: make_embedded_expected.py COUNTRY_PKG_DIR ASN_PKG_DIR
(the extracted `package/` folders of @ip-location-db/geo-whois-asn-country and
@ip-location-db/asn; scripts/update-geodb runs this after each update).

Reads the CSV files with Python's csv/ipaddress modules and answers, for random
addresses (uniform IPv4, inside random ranges, at range edges, IPv6 inside
ranges), the country and AS number of the smallest range holding the address
(ties: the later line), i.e. the ip-location-db meaning of nested ranges.
Addresses Python deems special (private, reserved, ...) are left out: flowhound
blanks those on purpose. Writes embedded_expected.tsv.gz beside this script:
`# version=...` then `ip<TAB>country<TAB>asn`.
"""
import bisect
import csv
import gzip
import ipaddress
import json
import os
import random
import sys

SEED = 20261129


def load(path, value_col):
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for rec in csv.reader(f):
            a, b = int(ipaddress.ip_address(rec[0])), int(ipaddress.ip_address(rec[1]))
            rows.append((a, b, rec[value_col]))
    return rows


def answer(rows, samples):
    """Maps each sample to the value of the smallest range holding it."""
    keys = sorted(samples)
    best = {}
    for a, b, v in rows:  # file order: later lines win ties
        lo, hi = bisect.bisect_left(keys, a), bisect.bisect_right(keys, b)
        for k in keys[lo:hi]:
            size = b - a
            if k not in best or size <= best[k][0]:
                best[k] = (size, v)
    return {k: v for k, (_, v) in best.items()}


def special(ip):
    a = ipaddress.ip_address(ip)
    flags = (a.is_private, a.is_reserved, a.is_multicast, a.is_loopback, a.is_link_local, a.is_unspecified)
    return any(flags) or (a.version == 4 and a in ipaddress.ip_network("100.64.0.0/10"))


def draw(rng, rows, n):
    out = []
    for _ in range(n):
        a, b, _ = rows[rng.randrange(len(rows))]
        out += [rng.randint(a, b), a, b, b + 1]
    return out


def main():
    cdir, adir = sys.argv[1], sys.argv[2]
    version = json.load(open(os.path.join(cdir, "package.json")))["version"]
    rng = random.Random(SEED)
    c4 = load(os.path.join(cdir, "geo-whois-asn-country-ipv4.csv"), 2)
    c6 = load(os.path.join(cdir, "geo-whois-asn-country-ipv6.csv"), 2)
    a4 = load(os.path.join(adir, "asn-ipv4.csv"), 2)
    a6 = load(os.path.join(adir, "asn-ipv6.csv"), 2)
    v4 = [rng.getrandbits(32) for _ in range(20_000)] + draw(rng, c4, 3000) + draw(rng, a4, 3000)
    v6 = draw(rng, c6, 2500) + draw(rng, a6, 2500)
    v4 = sorted({x for x in v4 if x < 2**32 and not special(ipaddress.IPv4Address(x))})
    v6 = sorted({x for x in v6 if x < 2**128 and not special(ipaddress.IPv6Address(x))})
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "embedded_expected.tsv.gz")
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(f"# version={version}\n".encode())
        for samples, crows, arows, cls in ((v4, c4, a4, ipaddress.IPv4Address), (v6, c6, a6, ipaddress.IPv6Address)):
            cc, asn = answer(crows, samples), answer(arows, samples)
            for x in samples:
                gz.write(f"{cls(x)}\t{cc.get(x, '')}\t{asn.get(x, '')}\n".encode())
    print(f"wrote {out}: {len(v4)} IPv4 + {len(v6)} IPv6 addresses (version {version})")


if __name__ == "__main__":
    main()
