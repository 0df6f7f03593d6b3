#!/usr/bin/env python3
"""Blasts NetFlow v9 datagrams at a UDP collector on loopback at a fixed flow rate and reports what it
sent (JSON on stdout): the sender's side of bench/collect.sh and the flow source of bench/nfcapd.sh.

Each datagram carries --per-datagram flow records of one v9 template (src/dst IPv4, ports, protocol,
in/out bytes and packets, first/last switched: 37 bytes a record); the template goes out in its own
datagram first and every 500 data datagrams. Records vary (addresses, ports, counters) over a pool of
prebuilt datagrams; only the header (time, sequence) is rewritten per send. Standard library only."""
import argparse
import json
import random
import socket
import struct
import sys
import time

TEMPLATE_ID = 256
FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4), (22, 4), (21, 4), (23, 4), (24, 4)]
REC = struct.Struct("!IIHHBIIIIII")
HEADER = struct.Struct("!HHIIII")


def template_datagram(seq, now):
    body = struct.pack("!HH", TEMPLATE_ID, len(FIELDS)) + b"".join(struct.pack("!HH", t, l) for t, l in FIELDS)
    flowset = struct.pack("!HH", 0, 4 + len(body)) + body
    return HEADER.pack(9, 1, 3_600_000, now, seq, 1) + flowset


def data_body(rng, n):
    recs = []
    for _ in range(n):
        up = rng.randint(40, 2_000_000)
        recs.append(REC.pack(
            0x0A000000 | rng.randint(1, 0xFFFF),          # 10.0.x.y
            0xC0000000 | rng.randint(0, 0x00FFFFFF),      # 192.x.y.z
            rng.randint(1024, 65535),
            rng.choice((53, 80, 443, 443, 443, 22, 123, 8080)),
            rng.choice((6, 6, 6, 17, 17, 1)),
            up, max(1, up // 900), 3_590_000, 3_599_000,
            rng.randint(0, 4_000_000), rng.randint(0, 3000)))
    data = b"".join(recs)
    pad = (-len(data)) % 4
    return struct.pack("!HH", TEMPLATE_ID, 4 + len(data) + pad) + data + b"\0" * pad


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--to", default="127.0.0.1:2055", help="collector HOST:PORT (loopback only)")
    ap.add_argument("--rate", type=float, default=500_000, help="flows per second")
    ap.add_argument("--seconds", type=float, default=10.0, help="how long to send")
    ap.add_argument("--flows", type=int, default=0, help="stop after this many flows instead")
    ap.add_argument("--per-datagram", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    if host not in ("127.0.0.1", "localhost"):
        sys.exit("netflow_sender: loopback only (127.0.0.1)")
    rng = random.Random(a.seed)
    pool = [data_body(rng, a.per_datagram) for _ in range(512)]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    dest = (host, int(port))
    per_sec = a.rate / a.per_datagram
    limit = a.flows // a.per_datagram if a.flows else int(per_sec * a.seconds)
    sent = errors = templates = 0
    seq = 0
    start = time.perf_counter()
    hdr_count = a.per_datagram
    while sent < limit:
        now = time.perf_counter()
        due = min(limit, int((now - start) * per_sec) + 1)
        if sent >= due:
            time.sleep(0.0002)
            continue
        unix = int(time.time())
        while sent < due:
            if sent % 500 == 0:
                sock.sendto(template_datagram(seq, unix), dest)
                seq += 1
                templates += 1
            dgram = HEADER.pack(9, hdr_count, 3_600_000, unix, seq, 1) + pool[sent & 511]
            try:
                sock.sendto(dgram, dest)
            except OSError:
                errors += 1
            seq += 1
            sent += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({
        "datagrams": sent, "template_datagrams": templates, "send_errors": errors,
        "flows": (sent - errors) * a.per_datagram, "seconds": round(elapsed, 3),
        "flows_per_sec": round((sent - errors) * a.per_datagram / elapsed),
    }))


if __name__ == "__main__":
    main()
