#!/usr/bin/env python3
"""othersim: an independent corporate-network flow simulator with injected attacks.

Written without reading flowhound's source, generator or detector docs; the traffic model is an
outside view of what a small/medium enterprise network looks like in flow logs.

    python3 othersim.py --seed N --out DIR [--hosts H] [--flows-per-host-day F] [--attacks a,b,...]

Writes DIR/normal.parquet (day 1, no attacks), DIR/test.parquet (day 2, same network + attacks),
DIR/servers.parquet (the public-facing servers, both days), DIR/truth.json.
Columns: timestamp (float epoch s), src_ip, dst_ip (text), proto (text), port, up_bytes, down_bytes.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

TCP, UDP, ICMP = 0, 1, 2
PROTO_NAMES = np.array(["tcp", "udp", "icmp"])
DAY = 86400.0

# --------------------------------------------------------------------------------------------
# External address space: realistic public /16 prefixes grouped by kind of operator.
# --------------------------------------------------------------------------------------------
PFX = {
    "cloudflare": "104.16 104.17 104.18 104.19 104.21 104.22 104.26 172.64 172.67 188.114",
    "akamai": "23.32 23.33 23.45 23.50 23.55 23.62 2.16 2.18 2.19 2.21 184.24 184.28 184.50 92.122 95.100 95.101",
    "fastly": "151.101 199.232 146.75",
    "aws": "52.4 52.20 52.28 52.58 52.84 52.94 52.216 54.72 54.144 54.160 54.230 3.120 3.208 3.64 18.64 18.154 18.184 13.32 13.224 35.156 34.192 44.192",
    "gcp": "34.102 34.107 34.117 35.186 35.190 35.201 35.227 34.120 35.244",
    "google": "142.250 142.251 172.217 216.58 74.125 172.253 108.177",
    "microsoft": "13.107 52.96 52.97 52.98 52.109 52.112 52.113 52.114 40.96 40.97 40.99 40.126 20.42 20.190 20.189 13.69 13.89 20.50 51.104 52.169 52.182",
    "azure": "20.36 20.43 20.52 20.76 40.112 40.114 52.142 52.151 104.40 104.45 137.116 138.91 168.61",
    "meta": "157.240 31.13 179.60 129.134",
    "apple": "17.253 17.248 17.57 17.133 17.142",
    "hetzner": "88.198 78.46 5.9 136.243 95.216 49.12 65.108 116.202 159.69 135.181",
    "ovh": "51.68 51.75 54.36 137.74 147.135 51.89 51.77 145.239 149.202 91.121 94.23 176.31 178.32 188.165",
    "digitalocean": "159.89 167.99 138.68 104.131 142.93 164.90 134.209 161.35 206.189 68.183",
    "linode": "139.162 172.104 45.79 50.116 96.126",
    "eu_isp": "81.2 81.169 82.165 84.17 85.214 86.110 87.106 89.163 90.84 91.189 93.184 94.130 109.70 176.9 185.199 193.104 194.25 195.20 212.58 213.133 217.160 80.67 62.210 46.4 77.4 79.140 83.220 92.40 178.62 188.64",
    "us_isp": "24.5 24.30 66.102 68.180 69.63 71.19 72.21 73.162 75.101 76.74 98.137 104.244 107.178 199.59 204.79 206.190 208.80 209.197 216.239 23.21 64.233 67.195 70.42 97.64",
    "asia": "1.0 14.215 27.0 36.110 39.156 42.120 58.246 59.24 60.210 101.32 103.21 106.10 110.242 111.221 112.175 114.114 115.239 116.253 117.18 118.89 119.28 120.92 121.40 122.10 123.125 124.150 125.209 180.76 182.61 183.232 202.108 203.208 210.140 211.115 218.30 219.94 220.181 221.228 222.186 223.5",
    "latam": "177.71 179.191 181.47 186.192 187.49 189.84 190.210 191.36 200.147 201.55",
    "africa": "41.58 102.132 105.112 154.66 196.25 197.210",
    "rare": "2.188 5.160 2.134 95.56 178.124 14.160 105.112 39.32 186.24 82.221 202.131 213.230",
    "residential": "24.16 47.200 50.35 67.160 71.60 73.5 76.100 98.20 99.100 108.20 174.50 2.200 5.146 31.16 37.4 46.114 62.30 77.180 78.190 79.200 80.100 81.150 82.50 83.100 84.60 85.0 86.150 87.70 88.150 89.200 90.40 91.60 92.100 93.30 94.200 95.90 109.190 151.40 176.140 178.200 188.150 212.100 213.50 217.80",
    "hosting_bad": "45.9 45.95 45.137 45.142 185.100 185.220 185.56 193.42 194.26 195.123 91.92 91.215 5.188 5.255 80.66 89.248 94.102 141.98 176.113 179.43 188.119 193.233 212.192 31.184 37.120 46.161 77.83 79.137 82.118 83.97 85.239 87.121 92.63 95.214 103.253 104.168 107.174 146.70 147.78 149.56 154.53 156.96 162.33 167.114 170.130 172.93 173.232 192.3 193.149 198.144 198.46 23.94 23.95 23.106 209.141",
    "github": "140.82",
    "dropbox": "162.125",
    "zoom": "170.114 206.247 144.195",
}
PFX = {k: [tuple(int(x) for x in p.split(".")) for p in v.split()] for k, v in PFX.items()}


def ip4(a, b, c, d):
    return (a << 24) | (b << 16) | (c << 8) | d


def ip_str(x):
    x = int(x)
    return f"{x >> 24 & 255}.{x >> 16 & 255}.{x >> 8 & 255}.{x & 255}"


def parse_ip(s):
    a, b, c, d = (int(t) for t in s.split("."))
    return ip4(a, b, c, d)


class Net:
    """Random generator helpers bound to one RNG."""

    def __init__(self, rng):
        self.rng = rng
        self.used = set()

    def ext(self, kinds, n=1, weights=None):
        """n distinct external addresses from the given operator kinds."""
        rng = self.rng
        kinds = kinds if isinstance(kinds, (list, tuple)) else [kinds]
        out = []
        while len(out) < n:
            k = kinds[rng.integers(len(kinds))] if weights is None else kinds[rng.choice(len(kinds), p=weights)]
            a, b = PFX[k][rng.integers(len(PFX[k]))]
            x = ip4(a, b, int(rng.integers(0, 256)), int(rng.integers(1, 255)))
            if x in self.used:
                continue
            self.used.add(x)
            out.append(x)
        return np.array(out, dtype=np.int64)

    def any_public(self, n):
        """Uniform-ish random public IPv4 addresses (worm scanning)."""
        rng = self.rng
        a = rng.integers(1, 224, n * 2)
        ok = ~np.isin(a, [10, 127, 0, 100, 169, 172, 192, 198, 203])
        a = a[ok][:n]
        while len(a) < n:
            a = np.concatenate([a, a[: n - len(a)]])
        return (a.astype(np.int64) << 24) | rng.integers(0, 1 << 24, n).astype(np.int64)


# --------------------------------------------------------------------------------------------
# Flow accumulation
# --------------------------------------------------------------------------------------------
class Flows:
    def __init__(self):
        self.parts = []

    def add(self, ts, src, dst, proto, port, up, down):
        ts = np.atleast_1d(np.asarray(ts, dtype=np.float64))
        n = len(ts)
        if n == 0:
            return
        b = lambda v, dt: np.broadcast_to(np.asarray(v, dtype=dt), (n,)).copy()
        self.parts.append((ts, b(src, np.int64), b(dst, np.int64), b(proto, np.int8), b(port, np.int32),
                           np.maximum(b(up, np.float64), 0).astype(np.int64),
                           np.maximum(b(down, np.float64), 0).astype(np.int64)))

    def wrap_since(self, k, lo):
        """Fold the times of the parts added since part k into one UTC day [lo, lo + DAY): the dataset's day is a
        UTC day, so activity of the organisation's local day that falls outside it wraps around (as the previous and
        next local days would put it there)."""
        for j in range(k, len(self.parts)):
            p = self.parts[j]
            self.parts[j] = (lo + np.mod(p[0] - lo, DAY),) + p[1:]

    def n(self):
        return sum(len(p[0]) for p in self.parts)

    def arrays(self):
        if not self.parts:
            z = np.zeros(0)
            return [z.astype(np.float64), z.astype(np.int64), z.astype(np.int64), z.astype(np.int8),
                    z.astype(np.int32), z.astype(np.int64), z.astype(np.int64)]
        return [np.concatenate([p[i] for p in self.parts]) for i in range(7)]

    def write(self, path, t_lo=None, t_hi=None):
        ts, src, dst, proto, port, up, down = self.arrays()
        keep = np.ones(len(ts), bool)
        if t_lo is not None:
            keep &= (ts >= t_lo) & (ts < t_hi)
        ts, src, dst, proto, port, up, down = (a[keep] for a in (ts, src, dst, proto, port, up, down))
        order = np.argsort(ts, kind="stable")
        ts, src, dst, proto, port, up, down = (a[order] for a in (ts, src, dst, proto, port, up, down))
        allip = np.concatenate([src, dst])
        uniq, inv = np.unique(allip, return_inverse=True)
        names = pa.array([ip_str(x) for x in uniq])
        n = len(ts)
        table = pa.table({
            "timestamp": pa.array(np.round(ts, 6)),
            "src_ip": names.take(pa.array(inv[:n])),
            "dst_ip": names.take(pa.array(inv[n:])),
            "proto": pa.array(PROTO_NAMES[proto]),
            "port": pa.array(port.astype(np.int64)),
            "up_bytes": pa.array(up),
            "down_bytes": pa.array(down),
        })
        pq.write_table(table, path, compression="zstd")
        return n


def lognorm(rng, median, sigma, n):
    return np.exp(np.log(median) + sigma * rng.standard_normal(n))


def periodic(rng, t0, t1, period, jitter=0.02, phase=None):
    """Timer-driven events from t0 to t1 (period with relative gaussian jitter)."""
    if t1 <= t0 or period <= 0:
        return np.zeros(0)
    k = int((t1 - t0) / period) + 2
    gaps = period * (1 + jitter * rng.standard_normal(k))
    gaps = np.maximum(gaps, period * 0.05)
    start = t0 + (rng.uniform(0, period) if phase is None else phase)
    t = start + np.concatenate([[0], np.cumsum(gaps[:-1])])
    return t[t < t1]


def long_conn(rng, t0, t1, timeout, rate_up, rate_down):
    """A long connection exported as one record per active timeout (flow start = record start)."""
    if t1 <= t0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    starts = np.arange(t0, t1, timeout)
    dur = np.minimum(timeout, t1 - starts)
    noise = lognorm(rng, 1.0, 0.3, len(starts))
    return starts, rate_up * dur * noise, rate_down * dur * lognorm(rng, 1.0, 0.3, len(starts))


# --------------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------------
ATTACKS = ["beacon", "cnc_longconn", "cnc_storm", "dns_tunnel", "exfil", "internal_scan", "outbound_scan",
           "ddos", "spam", "mining", "inbound_bruteforce", "inbound_scan", "botnet", "malicious_download"]


class Sim:
    def __init__(self, args):
        self.seed = args.seed
        self.rng = rng = np.random.default_rng(args.seed)
        self.net = Net(rng)
        cfg = {"seed": args.seed}
        H = args.hosts or int(round(math.exp(rng.uniform(math.log(20), math.log(800)))))
        cfg["hosts"] = H
        client_budget = args.client_budget
        n_sub = max(1 if H <= 200 and rng.random() < 0.6 else 2, int(math.ceil(H / 240)))
        cfg["subnets_count"] = n_sub
        style = rng.choice(["10", "172", "192"])
        if style == "10":
            a, b = 10, int(rng.integers(0, 256))
            subs = [(10, b, int(c)) for c in rng.choice(np.arange(1, 250), n_sub, replace=False)]
        elif style == "172":
            b = int(rng.integers(16, 32))
            subs = [(172, b, int(c)) for c in rng.choice(np.arange(0, 250), n_sub, replace=False)]
        else:
            subs = [(192, 168, int(c)) for c in rng.choice(np.arange(0, 250), n_sub, replace=False)]
        self.subnets = subs
        cfg["internal"] = [f"{a}.{b}.{c}.0/24" for a, b, c in subs]
        # addresses: spread hosts over the subnets, leaving gaps (unused addresses exist)
        # address pool: H plus room for the infrastructure roles of very small networks
        pool_n = min(H + 60, 250 * n_sub)
        per = int(math.ceil(pool_n / n_sub))
        addrs = []
        for i, (a, b, c) in enumerate(subs):
            k = min(per, pool_n - len(addrs))
            hostpart = np.sort(rng.choice(np.arange(2, 254), k, replace=False))
            addrs += [ip4(a, b, c, int(h)) for h in hostpart]
        addrs = np.array(addrs, dtype=np.int64)
        rng.shuffle(addrs)
        self.all_hosts = addrs
        # ---- roles ----
        roles = {}
        it = iter(addrs.tolist())
        take = lambda n: [next(it) for _ in range(n)]
        small = H < 60
        self.dc = take(1 if small else 2)
        for x in self.dc:
            roles[x] = "domain controller / DNS / DHCP / NTP"
        self.fileservers = take(1 if small else int(rng.integers(1, 4)))
        for x in self.fileservers:
            roles[x] = "file server (SMB)"
        self.printserver = take(1)[0]
        roles[self.printserver] = "print server"
        self.use_proxy = bool(rng.random() < 0.25)
        self.proxy = take(1)[0] if self.use_proxy else None
        if self.proxy:
            roles[self.proxy] = "web proxy (all client web goes through it)"
        self.backup = take(1)[0]
        roles[self.backup] = "backup server (nightly upload to cloud)"
        self.monitor = take(1)[0]
        roles[self.monitor] = "monitoring server (ICMP/SNMP/HTTP polling)"
        self.has_scanner = bool(rng.random() < 0.8)
        self.scanner_mode = str(rng.choice(["both days", "test day only (weekly)"], p=[0.6, 0.4])) if self.has_scanner else "none"
        self.scanner = take(1)[0] if self.has_scanner else None
        if self.scanner:
            roles[self.scanner] = f"vulnerability scanner ({self.scanner_mode})"
        self.wsus = take(1)[0]
        roles[self.wsus] = "software distribution / WSUS server"
        self.jump = take(1)[0]
        roles[self.jump] = "admin jump host"
        self.appsrv = take(1)[0]
        roles[self.appsrv] = "internal web application server"
        self.dbsrv = take(1)[0]
        roles[self.dbsrv] = "database server"
        self.has_relay = bool(rng.random() < 0.4)
        self.relay = take(1)[0] if self.has_relay else None
        if self.relay:
            roles[self.relay] = "outbound mail relay (SMTP to external MX)"
        self.logsrv = take(1)[0]
        roles[self.logsrv] = "syslog / SIEM collector"
        self.linux_servers = take(int(rng.integers(1, 3 if small else 8)))
        for x in self.linux_servers:
            roles[x] = "linux application server"
        n_print = max(1, int(H * rng.uniform(0.01, 0.03)))
        self.printers = take(n_print)
        for x in self.printers:
            roles[x] = "printer"
        n_cam = int(max(1, H * rng.uniform(0.005, 0.03)))
        self.cameras = take(n_cam)
        for x in self.cameras:
            roles[x] = "IP camera (cloud P2P heartbeat)"
        self.nvr = take(1)[0]
        roles[self.nvr] = "video recorder (NVR)"
        n_iot = int(rng.integers(1, 6))
        self.iot = take(n_iot)
        for x in self.iot:
            roles[x] = "IoT device (thermostat / sensor, MQTT heartbeat)"
        self.confroom = take(int(rng.integers(1, 4)))
        for x in self.confroom:
            roles[x] = "conference room system (Zoom/Teams room)"
        used = len(roles)
        self.clients = np.array(take(max(5, H - used)), dtype=np.int64)
        self.all_hosts = np.array(list(roles) + self.clients.tolist(), dtype=np.int64)
        nc = len(self.clients)
        cfg["hosts"] = H = len(self.all_hosts)
        cfg["clients_count"] = nc
        F = args.flows_per_host_day or float(np.exp(rng.uniform(np.log(2000), np.log(50000))))
        F_req = F
        F = min(F, client_budget / max(nc, 1))
        cfg["flows_per_client_day_requested"] = round(F_req)
        cfg["flows_per_client_day"] = round(F)
        self.F = F
        # client types
        ct = rng.choice(["office", "developer", "nightshift", "admin"], nc, p=[0.82, 0.12, 0.03, 0.03])
        self.ctype = ct
        self.act = lognorm(rng, 1.0, 0.6, nc)  # per-user activity level
        self.desktop_on = rng.random(nc) < rng.uniform(0.2, 0.6)  # left on overnight
        for i, c in enumerate(self.clients):
            if ct[i] == "developer":
                roles[int(c)] = "developer workstation"
            elif ct[i] == "nightshift":
                roles[int(c)] = "night-shift workstation"
            elif ct[i] == "admin":
                roles[int(c)] = "IT admin workstation"
            else:
                roles[int(c)] = "office workstation"
        self.roles = roles
        # environment
        self.tz = int(rng.integers(-8, 10))  # local = UTC + tz
        cfg["utc_offset_hours"] = self.tz
        base = int(time.mktime(time.strptime("2026-02-02", "%Y-%m-%d"))) - time.timezone
        day_off = int(rng.integers(0, 40)) * 7 + int(rng.integers(0, 4))  # Mon..Thu so day2 is a weekday
        self.day0 = float(base + day_off * 86400)
        cfg["normal_day"] = time.strftime("%Y-%m-%d", time.gmtime(self.day0))
        self.timeout = float(rng.choice([60, 120, 300, 1800]))
        cfg["active_timeout_secs"] = self.timeout
        self.icmp_port = int(rng.choice([0, 2048]))
        cfg["icmp_port_value"] = self.icmp_port
        self.resolver_mode = str(rng.choice(["forwarders", "root hints (iterative)"], p=[0.7, 0.3]))
        cfg["resolver_mode"] = self.resolver_mode
        cfg["proxy"] = self.use_proxy
        cfg["scanner"] = self.scanner_mode
        cfg["mail_relay"] = self.has_relay
        self.cfg = cfg
        self.build_external()

    # ---------------------------------------------------------------- external world
    def build_external(self):
        rng, net = self.rng, self.net
        ns = int(rng.integers(3000, 25000))
        self.cfg["web_sites_count"] = ns
        kinds = ["cloudflare", "akamai", "fastly", "aws", "gcp", "azure", "hetzner", "ovh", "digitalocean", "linode",
                 "eu_isp", "us_isp", "asia", "latam", "africa"]
        w = np.array([14, 8, 4, 16, 5, 5, 6, 6, 4, 2, 12, 10, 5, 2, 1], float)
        self.sites = net.ext(kinds, ns, weights=w / w.sum())
        s = rng.uniform(0.9, 1.25)
        p = 1.0 / np.arange(1, ns + 1) ** s
        self.site_cdf = np.cumsum(p / p.sum())
        # day-2 IP rotation of some sites (CDN / DNS load balancing)
        self.sites2 = self.sites.copy()
        rot = rng.random(ns) < 0.05
        self.sites2[rot] = net.ext(["cloudflare", "akamai", "aws", "fastly"], int(rot.sum()))
        self.trackers = np.concatenate([net.ext("google", 30), net.ext("meta", 10), net.ext(["aws", "cloudflare", "akamai"], 60)])
        tp = 1.0 / np.arange(1, len(self.trackers) + 1) ** 1.1
        self.tracker_cdf = np.cumsum(tp / tp.sum())
        self.ms = net.ext("microsoft", 250)
        self.ms_cdf = np.cumsum((lambda q: q / q.sum())(1.0 / np.arange(1, 251) ** 1.0))
        self.teams_media = net.ext("microsoft", 40)
        self.google = net.ext("google", 120)
        self.zoom = net.ext("zoom", 30)
        self.slack = net.ext("aws", 12)
        self.dropbox = net.ext("dropbox", 20)
        self.onedrive = net.ext("microsoft", 20)
        self.github = net.ext("github", 8)
        self.pkg = np.concatenate([net.ext("fastly", 10), net.ext("cloudflare", 10), net.ext("aws", 10)])
        self.winupd = np.concatenate([net.ext("microsoft", 10), net.ext("akamai", 20)])
        av = str(rng.choice(["eset", "sophos", "defender", "crowdstrike", "kaspersky"]))
        self.cfg["endpoint_security"] = av
        av_pfx = {"eset": [(91, 228)], "sophos": [(52, 5)], "defender": [(20, 42)], "crowdstrike": [(54, 183)],
                  "kaspersky": [(77, 74)]}[av]
        self.av = np.array([ip4(av_pfx[0][0], av_pfx[0][1], int(rng.integers(0, 256)), int(rng.integers(1, 255))) for _ in range(4)])
        self.edr = net.ext("aws", 3)
        self.telemetry = net.ext("microsoft", 15)
        self.chrome_upd = net.ext("google", 5)
        self.apple = net.ext("apple", 20)
        self.ntp_pool = np.concatenate([net.ext(["eu_isp", "us_isp", "hetzner", "ovh", "digitalocean", "linode"], 60),
                                        np.array([ip4(162, 159, 200, 1), ip4(162, 159, 200, 123), ip4(129, 6, 15, 28), ip4(129, 6, 15, 29)])])
        self.dns_fwd = np.array(rng.choice([[ip4(8, 8, 8, 8), ip4(8, 8, 4, 4)], [ip4(1, 1, 1, 1), ip4(1, 0, 0, 1)],
                                            [ip4(9, 9, 9, 9), ip4(149, 112, 112, 112)],
                                            [ip4(208, 67, 222, 222), ip4(208, 67, 220, 220)]]))
        self.auth_ns = np.concatenate([net.ext(["cloudflare", "aws", "akamai", "google", "eu_isp", "us_isp", "asia", "ovh", "hetzner"], 4000),
                                       np.array([ip4(198, 41, 0, 4), ip4(199, 9, 14, 201), ip4(192, 33, 4, 12), ip4(199, 7, 91, 13),
                                                 ip4(192, 203, 230, 10), ip4(192, 5, 5, 241), ip4(192, 112, 36, 4), ip4(198, 97, 190, 53),
                                                 ip4(192, 36, 148, 17), ip4(192, 58, 128, 30), ip4(193, 0, 14, 129), ip4(199, 7, 83, 42),
                                                 ip4(202, 12, 27, 33)])])
        ap = 1.0 / np.arange(1, len(self.auth_ns) + 1) ** 1.0
        self.ns_cdf = np.cumsum(ap / ap.sum())
        self.dev_vms = net.ext(["aws", "hetzner", "digitalocean", "linode", "ovh", "gcp"], 400)
        self.saas_misc = net.ext(["aws", "gcp", "azure", "cloudflare"], 200)
        self.mx = np.concatenate([net.ext("google", 20), net.ext("microsoft", 30), net.ext(["eu_isp", "us_isp", "ovh", "hetzner", "aws", "asia"], 900)])
        mp = 1.0 / np.arange(1, len(self.mx) + 1) ** 1.0
        self.mx_cdf = np.cumsum(mp / mp.sum())
        self.backup_target = net.ext(["aws", "azure"], 1)[0]
        self.iot_cloud = net.ext(["aws", "asia", "gcp"], 6)
        self.cam_cloud = net.ext(["asia", "aws"], 4)
        self.rare_sites = net.ext("rare", 40)

    # ---------------------------------------------------------------- time helpers
    def local_to_utc(self, day, hours):
        return self.day0 + day * DAY + (np.asarray(hours) - self.tz) * 3600.0

    def client_day(self, day):
        """Per-client (present, on_start, on_end, arrive, leave) in UTC epoch for one day."""
        rng = np.random.default_rng(self.seed * 1000 + 17 + day)
        nc = len(self.clients)
        arrive = rng.normal(8.4, 0.7, nc)
        leave = arrive + rng.normal(8.8, 0.8, nc)
        ns = self.ctype == "nightshift"
        arrive[ns] = rng.normal(21.5, 0.5, ns.sum())
        leave[ns] = arrive[ns] + rng.normal(8.5, 0.5, ns.sum())
        present = rng.random(nc) > 0.06  # sick / leave / travel
        # a few laptops that are away one day and back the other (travel)
        self.traveller_mask = getattr(self, "traveller_mask", None)
        if self.traveller_mask is None:
            r = np.random.default_rng(self.seed * 7 + 3)
            self.traveller_mask = r.random(nc) < 0.03
            self.travel_away_day = r.integers(0, 2, nc)
        present &= ~(self.traveller_mask & (self.travel_away_day == day))
        a = self.local_to_utc(day, arrive)
        l = self.local_to_utc(day, leave)
        on_s = np.where(self.desktop_on, self.day0 + day * DAY, a - 600)
        on_e = np.where(self.desktop_on, self.day0 + (day + 1) * DAY, l + 900)
        # evening home work for some laptops (VPN back in)
        return present, on_s, on_e, a, l

    def human_times(self, rng, ci, arrive, leave, on_s, on_e, day, p_bg=0.1):
        """Sample times of human-driven flows for client indices ci (vectorised)."""
        n = len(ci)
        a, l = arrive[ci], leave[ci]
        t = a + rng.random(n) * (l - a)
        # lunch dip: local 12-13h loses 60 % of its activity
        loc = ((t - self.day0) / 3600.0 + self.tz) % 24
        lunch = (loc >= 12) & (loc < 13) & (rng.random(n) < 0.6)
        t[lunch] = a[lunch] + rng.random(lunch.sum()) * (l[lunch] - a[lunch])
        # morning ramp: a little less in the first half hour
        bg = rng.random(n) < p_bg
        t[bg] = on_s[ci[bg]] + rng.random(bg.sum()) * (on_e[ci[bg]] - on_s[ci[bg]])
        # evening session for 8 % of users
        ev = rng.random(n) < 0.03
        t[ev] = self.local_to_utc(day, rng.uniform(19.5, 22.5, ev.sum()))
        lo = self.day0 + day * DAY
        return lo + np.mod(t - lo, DAY)

    # ---------------------------------------------------------------- benign day
    def benign_day(self, day, fl):
        rng = np.random.default_rng(self.seed * 1000 + 101 + day)
        C = self.clients
        nc = len(C)
        present, on_s, on_e, arrive, leave = self.client_day(day)
        dl, dh = self.day0 + day * DAY, self.day0 + (day + 1) * DAY
        sites = self.sites if day == 0 else self.sites2
        dayvar = lognorm(rng, 1.0, 0.25, nc)
        nflows = (self.F * self.act * dayvar * present).astype(np.int64)
        dev = self.ctype == "developer"
        adm = self.ctype == "admin"
        dcs = np.array(self.dc)

        def pick(arr, cdf=None, n=1):
            if cdf is None:
                return arr[rng.integers(0, len(arr), n)]
            return arr[np.minimum(np.searchsorted(cdf, rng.random(n)), len(arr) - 1)]

        # ---- category split of human-driven flows
        cats = ["dns", "web", "ms", "collab", "ad", "smb", "intranet", "misc_saas", "dev"]
        w_off = np.array([0.30, 0.33, 0.14, 0.04, 0.07, 0.05, 0.03, 0.04, 0.0])
        w_dev = np.array([0.28, 0.27, 0.10, 0.05, 0.06, 0.03, 0.02, 0.05, 0.14])
        counts = np.zeros((nc, len(cats)), np.int64)
        for i in range(nc):
            if nflows[i] > 0:
                counts[i] = rng.multinomial(nflows[i], (w_dev if dev[i] else w_off))
        # ---- web browsing (sessions)
        web_n = counts[:, 1]
        sess_mean = 12.0
        n_sess = np.maximum((web_n / sess_mean).astype(np.int64), (web_n > 0).astype(np.int64))
        sci = np.repeat(np.arange(nc), n_sess)
        sc_t = self.human_times(rng, sci, arrive, leave, on_s, on_e, day, p_bg=0.05)
        fav = rng.integers(0, len(sites), (nc, 30))
        fav = np.random.default_rng(self.seed + 99).integers(0, len(sites), (nc, 30))  # same favourites each day
        use_fav = rng.random(len(sci)) < 0.35
        site_idx = np.where(use_fav, fav[sci, rng.integers(0, 30, len(sci))],
                            np.minimum(np.searchsorted(self.site_cdf, rng.random(len(sci))), len(sites) - 1))
        per = rng.geometric(1 / sess_mean, len(sci))
        fi = np.repeat(np.arange(len(sci)), per)
        ci = sci[fi]
        t = sc_t[fi] + rng.exponential(25.0, len(fi))
        is_tr = rng.random(len(fi)) < 0.35
        dst = np.where(is_tr, pick(self.trackers, self.tracker_cdf, len(fi)), sites[site_idx[fi]])
        port = np.where(rng.random(len(fi)) < 0.08, 80, 443)
        proto = np.where((port == 443) & (rng.random(len(fi)) < 0.12), UDP, TCP)  # QUIC
        up = lognorm(rng, 900, 0.9, len(fi))
        down = lognorm(rng, 9000, 1.6, len(fi))
        failed = rng.random(len(fi)) < 0.01
        down[failed] = 0
        up[failed] = 120
        src = C[ci]
        if self.use_proxy:
            pm = rng.random(len(fi)) < 0.92
            # client -> proxy
            fl.add(t[pm], src[pm], self.proxy, TCP, 3128 if self.seed % 2 else 8080, up[pm] * 1.05, down[pm] * 1.02)
            # proxy -> site (same moments)
            fl.add(t[pm] + 0.01, self.proxy, dst[pm], TCP, port[pm], up[pm], down[pm])
            fl.add(t[~pm], src[~pm], dst[~pm], proto[~pm], port[~pm], up[~pm], down[~pm])
        else:
            fl.add(t, src, dst, proto, port, up, down)
        # ---- DNS to internal resolvers
        n = counts[:, 0]
        ci = np.repeat(np.arange(nc), n)
        t = self.human_times(rng, ci, arrive, leave, on_s, on_e, day, p_bg=0.15)
        res = dcs[rng.integers(0, len(dcs), len(ci))]
        up = rng.integers(55, 110, len(ci))
        down = up + rng.integers(16, 260, len(ci))
        fl.add(t, C[ci], res, UDP, 53, up, down)
        # resolver cache misses -> outside
        miss = rng.random(len(ci)) < 0.28
        if self.resolver_mode == "forwarders":
            fl.add(t[miss] + 0.002, res[miss], self.dns_fwd[rng.integers(0, 2, miss.sum())], UDP, 53, up[miss] + 11, down[miss] + 11)
        else:
            m = miss.sum()
            fl.add(t[miss] + 0.002, res[miss], pick(self.auth_ns, self.ns_cdf, m), UDP, 53, up[miss] + 11, down[miss] + 40)
        # ---- Microsoft 365
        n = counts[:, 2]
        ci = np.repeat(np.arange(nc), n)
        t = self.human_times(rng, ci, arrive, leave, on_s, on_e, day, p_bg=0.1)
        fl.add(t, C[ci], pick(self.ms, self.ms_cdf, len(ci)), TCP, 443, lognorm(rng, 1800, 1.0, len(ci)), lognorm(rng, 7000, 1.4, len(ci)))
        # ---- other collaboration (Slack, Zoom signalling, Google)
        n = counts[:, 3]
        ci = np.repeat(np.arange(nc), n)
        t = self.human_times(rng, ci, arrive, leave, on_s, on_e, day, p_bg=0.05)
        pool = np.concatenate([self.slack, self.zoom, self.google])
        fl.add(t, C[ci], pick(pool, None, len(ci)), TCP, 443, lognorm(rng, 1200, 0.9, len(ci)), lognorm(rng, 4000, 1.2, len(ci)))
        # ---- AD: Kerberos, LDAP, SMB (GPO), RPC to DCs
        n = counts[:, 4]
        ci = np.repeat(np.arange(nc), n)
        t = self.human_times(rng, ci, arrive, leave, on_s, on_e, day, p_bg=0.2)
        svc = rng.choice([88, 389, 445, 135, 3268, 464, 49668], len(ci), p=[0.32, 0.3, 0.2, 0.08, 0.05, 0.02, 0.03])
        pr = np.where((svc == 88) & (rng.random(len(ci)) < 0.2) | (svc == 389) & (rng.random(len(ci)) < 0.3), UDP, TCP)
        fl.add(t, C[ci], dcs[rng.integers(0, len(dcs), len(ci))], pr, svc, lognorm(rng, 1500, 0.8, len(ci)), lognorm(rng, 2500, 1.0, len(ci)))
        # ---- SMB file shares
        n = counts[:, 5]
        ci = np.repeat(np.arange(nc), n)
        t = self.human_times(rng, ci, arrive, leave, on_s, on_e, day, p_bg=0.02)
        fs = np.array(self.fileservers)
        home_fs = np.random.default_rng(self.seed + 5).integers(0, len(fs), nc)
        big = rng.random(len(ci)) < 0.03
        up = np.where(big, lognorm(rng, 3e6, 1.5, len(ci)), lognorm(rng, 3000, 1.2, len(ci)))
        down = np.where(big & (rng.random(len(ci)) < 0.6), lognorm(rng, 8e6, 1.5, len(ci)), lognorm(rng, 12000, 1.5, len(ci)))
        fl.add(t, C[ci], fs[home_fs[ci]], TCP, 445, up, down)
        # ---- intranet app
        n = counts[:, 6]
        ci = np.repeat(np.arange(nc), n)
        t = self.human_times(rng, ci, arrive, leave, on_s, on_e, day, p_bg=0.0)
        fl.add(t, C[ci], self.appsrv, TCP, 443, lognorm(rng, 1500, 0.8, len(ci)), lognorm(rng, 20000, 1.2, len(ci)))
        # app server -> db
        k = max(1, len(ci) // 3)
        fl.add(np.sort(rng.choice(t, k)) + 0.05 if len(ci) else [], self.appsrv, self.dbsrv, TCP, int(rng.choice([1433, 5432, 3306])),
               lognorm(rng, 800, 0.7, k), lognorm(rng, 6000, 1.3, k))
        # ---- misc SaaS (CRM, ticketing, HR, ...)
        n = counts[:, 7]
        ci = np.repeat(np.arange(nc), n)
        t = self.human_times(rng, ci, arrive, leave, on_s, on_e, day, p_bg=0.02)
        fl.add(t, C[ci], self.saas_misc[(np.random.default_rng(self.seed + 11).integers(0, 200, nc)[ci] + rng.integers(0, 8, len(ci))) % 200],
               TCP, 443, lognorm(rng, 1500, 0.9, len(ci)), lognorm(rng, 15000, 1.3, len(ci)))
        # ---- developer traffic: git over ssh/https, ssh to cloud VMs, package registries, docker
        n = counts[:, 8]
        ci = np.repeat(np.arange(nc), n)
        t = self.human_times(rng, ci, arrive, leave, on_s, on_e, day, p_bg=0.0)
        kind = rng.choice(4, len(ci), p=[0.35, 0.25, 0.3, 0.1])
        myvms = np.random.default_rng(self.seed + 13).integers(0, len(self.dev_vms), (nc, 6))
        vm_pick = myvms[ci, rng.integers(0, 6 if day == 0 else 6, len(ci))]
        # day 2: some devs also touch a new VM
        if day == 1:
            newvm = rng.random(len(ci)) < 0.05
            vm_pick[newvm] = rng.integers(0, len(self.dev_vms), newvm.sum())
        dst = np.select([kind == 0, kind == 1, kind == 2, kind == 3],
                        [pick(self.github, None, len(ci)), self.dev_vms[vm_pick], pick(self.pkg, None, len(ci)), pick(self.pkg, None, len(ci))])
        port = np.select([kind == 0, kind == 1], [np.where(rng.random(len(ci)) < 0.6, 22, 443), 22], 443)
        up = np.select([kind == 0, kind == 1], [lognorm(rng, 4000, 1.5, len(ci)), lognorm(rng, 30000, 1.8, len(ci))], lognorm(rng, 900, 0.6, len(ci)))
        down = np.select([kind == 0, kind == 1, kind == 3], [lognorm(rng, 20000, 2.0, len(ci)), lognorm(rng, 80000, 2.0, len(ci)),
                                                            lognorm(rng, 3e7, 1.2, len(ci))], lognorm(rng, 60000, 1.5, len(ci)))
        fl.add(t, C[ci], dst, TCP, port, up, down)

        # ---- Teams/Zoom meetings: UDP media, records per active timeout
        nmeet = rng.poisson(np.where(present, 1.2 * np.minimum(self.act, 2.5), 0))
        for i in np.nonzero(nmeet)[0]:
            for _ in range(nmeet[i]):
                st = self.human_times(rng, np.array([i]), arrive, leave, on_s, on_e, day, p_bg=0)[0]
                dur = rng.uniform(900, 3600)
                video = rng.random() < 0.5
                rate = rng.uniform(150e3, 300e3) if video else rng.uniform(8e3, 16e3)  # bytes/s
                zoom = rng.random() < 0.3
                dst = (self.zoom if zoom else self.teams_media)[rng.integers(0, 30)]
                port = int(rng.integers(8801, 8811)) if zoom else int(rng.integers(3478, 3482))
                ts, u, d = long_conn(rng, st, min(st + dur, dh - 1), self.timeout, rate * rng.uniform(0.4, 1.0), rate)
                fl.add(ts, C[i], dst, UDP, port, u, d)
        # ---- cloud sync uploads (a few heavy users), OneDrive/Dropbox notify long-poll
        heavy = np.random.default_rng(self.seed + 21).random(nc) < 0.08
        dbx_user = np.random.default_rng(self.seed + 22).random(nc) < 0.15
        for i in np.nonzero(heavy & present)[0]:
            if rng.random() < 0.5:
                k = int(rng.integers(1, 12))
                ts = self.human_times(rng, np.full(k, i), arrive, leave, on_s, on_e, day, p_bg=0)
                dst = (self.onedrive if i % 2 else self.dropbox)[rng.integers(0, 20, k)]
                fl.add(ts, C[i], dst, TCP, 443, lognorm(rng, 25e6, 1.2, k), lognorm(rng, 20000, 0.8, k))
        for i in np.nonzero(dbx_user & present)[0]:
            ts = periodic(rng, on_s[i], on_e[i], 90.0 + rng.uniform(-10, 10), 0.15)
            fl.add(ts, C[i], self.dropbox[i % 4], TCP, 443, lognorm(rng, 700, 0.2, len(ts)), lognorm(rng, 400, 0.3, len(ts)))
        # one user uploads a big video to Google Drive / YouTube (benign), some days
        if rng.random() < 0.35:
            i = int(rng.choice(np.nonzero(present)[0]))
            st = self.human_times(rng, np.array([i]), arrive, leave, on_s, on_e, day, p_bg=0)[0]
            size = rng.uniform(4e8, 2.5e9)
            ts, u, d = long_conn(rng, st, st + size / rng.uniform(2e6, 8e6), self.timeout, 0, 0)
            fl.add(ts, C[i], self.google[int(rng.integers(0, 120))], TCP, 443, size / max(len(ts), 1), 30000)
            self.roles[int(C[i])] += f" (+ benign {size/1e6:.0f} MB upload to Google on day {day})"
        # ---- machine-driven periodic traffic on every powered-on client
        kerb_p = rng.uniform(0.5, 1.5)
        for i in np.nonzero(present)[0]:
            c = int(C[i])
            s0, s1 = on_s[i], on_e[i]
            # EDR/AV persistent channel + cloud lookups
            ts, u, d = long_conn(rng, s0, s1, max(self.timeout, 300), 3.0, 5.0)
            fl.add(ts, c, self.edr[i % 3], TCP, 443, u + 200, d + 200)
            ts = periodic(rng, s0, s1, rng.choice([300, 600, 900, 3600]), 0.3)
            fl.add(ts, c, self.av[rng.integers(0, 4, len(ts))], TCP, 443, lognorm(rng, 1200, 0.4, len(ts)), lognorm(rng, 3000, 0.8, len(ts)))
            # Windows telemetry, Chrome update checks
            ts = periodic(rng, s0, s1, rng.uniform(900, 1800), 0.25)
            fl.add(ts, c, self.telemetry[rng.integers(0, 15, len(ts))], TCP, 443, lognorm(rng, 4000, 0.9, len(ts)), lognorm(rng, 600, 0.4, len(ts)))
            ts = periodic(rng, s0, s1, 5 * 3600, 0.1)
            fl.add(ts, c, self.chrome_upd[i % 5], TCP, 443, 900, 1500)
            # GPO refresh (every 90 min + random 0-30), NTP to DC, Kerberos renewals
            ts = periodic(rng, s0, s1, 90 * 60 + rng.uniform(0, 1800), 0.1)
            for port, u, d in ((389, 2500, 6000), (445, 3000, 25000)):
                fl.add(ts + rng.uniform(0, 2), c, self.dc[i % len(self.dc)], TCP, port, lognorm(rng, u, 0.3, len(ts)), lognorm(rng, d, 0.5, len(ts)))
            ts = periodic(rng, s0, s1, rng.choice([1024.0, 2048.0, 3600.0]), 0.01)
            fl.add(ts, c, self.dc[i % len(self.dc)], UDP, 123, 76, 76)
            # WSUS / SCCM client check-in
            ts = periodic(rng, s0, s1, 3600 * rng.uniform(0.9, 1.1), 0.2)
            fl.add(ts, c, self.wsus, TCP, 8530, lognorm(rng, 3000, 0.5, len(ts)), lognorm(rng, 8000, 0.8, len(ts)))
            # discovery broadcasts: mDNS, SSDP, LLMNR, NetBIOS, DHCP renew
            sub = c & ~0xFF
            n_b = int(rng.poisson(60 * (s1 - s0) / DAY * rng.uniform(0.5, 2)))
            ts = np.sort(rng.uniform(s0, s1, n_b))
            kind = rng.integers(0, 4, n_b)
            dst = np.select([kind == 0, kind == 1, kind == 2], [ip4(224, 0, 0, 251), ip4(239, 255, 255, 250), ip4(224, 0, 0, 252)], sub | 255)
            port = np.select([kind == 0, kind == 1, kind == 2], [5353, 1900, 5355], 137)
            fl.add(ts, c, dst, UDP, port, rng.integers(60, 400, n_b), 0)
            ts = periodic(rng, s0, s1, 4 * 3600, 0.05)
            fl.add(ts, c, self.dc[0], UDP, 67, 342, 342)
            # Windows Delivery Optimisation: LAN peers on tcp/7680 (random peers each day)
            if rng.random() < 0.3:
                k = int(rng.integers(1, 15))
                peers = C[rng.integers(0, nc, k)]
                ts = self.human_times(rng, np.full(k, i), arrive, leave, on_s, on_e, day, p_bg=0.3)
                fl.add(ts, c, peers, TCP, 7680, lognorm(rng, 2000, 1.0, k), lognorm(rng, 2e6, 1.5, k))
            # Windows Update content, Apple
            k = int(rng.poisson(6))
            ts = self.human_times(rng, np.full(k, i), arrive, leave, on_s, on_e, day, p_bg=0.5)
            fl.add(ts, c, self.winupd[rng.integers(0, len(self.winupd), k)], TCP, 443, 1500, lognorm(rng, 3e6, 1.5, k))
        # monitoring agent push (Zabbix active) from clients, some networks
        if np.random.default_rng(self.seed + 31).random() < 0.5:
            for i in np.nonzero(present)[0]:
                ts = periodic(rng, on_s[i], on_e[i], 60.0, 0.01)
                fl.add(ts, C[i], self.monitor, TCP, 10051, lognorm(rng, 600, 0.2, len(ts)), 90)

        # ---- servers and devices (all day)
        allh = self.all_hosts
        srv = [*self.dc, *self.fileservers, self.printserver, self.backup, self.monitor, self.wsus, self.jump, self.appsrv,
               self.dbsrv, self.logsrv, *self.linux_servers] + ([self.proxy] if self.proxy else []) + ([self.relay] if self.relay else []) + \
              ([self.scanner] if self.scanner else [])
        # DC <-> DC replication, DC NTP to pool
        if len(self.dc) > 1:
            ts = periodic(rng, dl, dh, 900, 0.05)
            for port in (135, 389, 49668):
                fl.add(ts + rng.uniform(0, 1), self.dc[0], self.dc[1], TCP, port, lognorm(rng, 5000, 1, len(ts)), lognorm(rng, 20000, 1, len(ts)))
        for x in [*self.dc, *self.linux_servers, self.backup, self.monitor, self.appsrv, self.dbsrv, self.logsrv, self.jump]:
            r2 = np.random.default_rng(x)
            for pool_ip in self.ntp_pool[r2.integers(0, len(self.ntp_pool), 4)]:
                ts = periodic(rng, dl, dh, float(r2.choice([64, 128, 256, 512, 1024])), 0.02)
                fl.add(ts, x, pool_ip, UDP, 123, 76, 76)
        # linux servers: apt mirrors, syslog to collector, some outbound API calls
        for x in [*self.linux_servers, self.appsrv, self.dbsrv]:
            ts = periodic(rng, dl, dh, 3600 * 6, 0.2)
            fl.add(ts, x, self.pkg[rng.integers(0, 30, len(ts))], TCP, 80, 600, lognorm(rng, 2e5, 1.5, len(ts)))
        for x in srv + list(self.printers) + list(self.cameras):
            k = int(rng.integers(200, 2000))
            fl.add(np.sort(rng.uniform(dl, dh, k)), x, self.logsrv, UDP, 514, lognorm(rng, 250, 0.5, k), 0)
        # app server calls external APIs (payment / geocoding) periodically
        api = self.saas_misc[int(np.random.default_rng(self.seed + 41).integers(0, 200))]
        ts = periodic(rng, dl, dh, 300, 0.05)
        fl.add(ts, self.appsrv, api, TCP, 443, lognorm(rng, 1200, 0.3, len(ts)), lognorm(rng, 3500, 0.4, len(ts)))
        # print server -> printers, printers -> vendor cloud
        pj = int(rng.poisson(max(10, nc * 0.8)))
        ts = self.human_times(rng, rng.integers(0, nc, pj), arrive, leave, on_s, on_e, day, p_bg=0)
        fl.add(ts, C[rng.integers(0, nc, pj)], self.printserver, TCP, 445, lognorm(rng, 3e5, 1.2, pj), 2000)
        fl.add(ts + 2, self.printserver, np.array(self.printers)[rng.integers(0, len(self.printers), pj)], TCP, 9100, lognorm(rng, 5e5, 1.2, pj), 500)
        for p in self.printers:
            ts = periodic(rng, dl, dh, 600, 0.05)
            fl.add(ts, p, self.iot_cloud[0], TCP, 443, 1500, 2500)
            k = int(rng.poisson(4))
            ts = self.human_times(rng, rng.integers(0, nc, k), arrive, leave, on_s, on_e, day, p_bg=0)
            if self.relay:  # scan-to-email
                fl.add(ts, p, self.relay, TCP, 25, lognorm(rng, 1.5e6, 0.8, k), 400)
        # cameras: stream to NVR; cloud P2P heartbeats (udp) to CN/US cloud
        for cam in self.cameras:
            ts, u, d = long_conn(rng, dl, dh, self.timeout, 1.5e5, 800)
            fl.add(ts, self.nvr, cam, TCP, 554, 200 + d * 0.01, u)  # NVR pulls RTSP
            ts = periodic(rng, dl, dh, 30.0, 0.02)
            fl.add(ts, cam, self.cam_cloud[cam % 4], UDP, 8000 + cam % 3, 120, 90)
        # IoT heartbeats
        for j, x in enumerate(self.iot):
            ts = periodic(rng, dl, dh, float([60, 120, 300][j % 3]), 0.01)
            fl.add(ts, x, self.iot_cloud[1 + j % 5], TCP, 8883, lognorm(rng, 300, 0.1, len(ts)), lognorm(rng, 200, 0.1, len(ts)))
            ts = periodic(rng, dl, dh, 3600.0, 0.01)
            fl.add(ts, x, self.ntp_pool[j % 10], UDP, 123, 76, 76)
        # conference rooms: long Zoom Rooms/Teams channels, meetings during the day
        for x in self.confroom:
            ts, u, d = long_conn(rng, dl, dh, max(self.timeout, 300), 30.0, 60.0)
            fl.add(ts, x, self.zoom[0], TCP, 443, u + 300, d + 300)
            for _ in range(int(rng.integers(1, 6))):
                st = self.local_to_utc(day, rng.uniform(8, 17))
                ts, u, d = long_conn(rng, st, st + rng.uniform(1800, 3600), self.timeout, 2e5, 3e5)
                fl.add(ts, x, self.zoom[int(rng.integers(1, 30))], UDP, 8801, u, d)
        # monitoring server: ICMP ping to every host, SNMP to servers/printers/cams, HTTP checks, agent pulls
        ping_p = max(float(rng.choice([60, 120, 300])), len(allh) * DAY / 150000)
        self.cfg.setdefault("monitor_ping_period_secs", ping_p)
        cidx = {int(c): i for i, c in enumerate(C)}
        for h in allh:
            ts = periodic(rng, dl, dh, ping_p, 0.01)
            i = cidx.get(int(h))
            if i is None:
                alive = np.ones(len(ts), bool)
            else:  # a workstation answers only while it is powered on
                alive = present[i] & (ts >= on_s[i]) & (ts < on_e[i])
            fl.add(ts, self.monitor, int(h), ICMP, self.icmp_port, 64, np.where(alive, 64, 0))
        snmp_targets = srv + list(self.printers) + list(self.cameras) + list(self.iot)
        for h in snmp_targets:
            ts = periodic(rng, dl, dh, 300.0, 0.01)
            fl.add(ts, self.monitor, h, UDP, 161, lognorm(rng, 180, 0.2, len(ts)), lognorm(rng, 900, 0.4, len(ts)))
        for h, port in ((self.appsrv, 443), (self.wsus, 8530), (self.proxy, 3128), (self.relay, 25)):
            if h:
                ts = periodic(rng, dl, dh, 60.0, 0.01)
                fl.add(ts, self.monitor, h, TCP, port, 400, 1200)
        # backup: pull from file servers and DB (internal), then upload GBs to one cloud address at night
        bk_local = self.local_to_utc(day, 1.0 + rng.uniform(0, 1))
        for fs in self.fileservers + [self.dbsrv, self.appsrv]:
            ts, u, d = long_conn(rng, bk_local, bk_local + rng.uniform(1800, 7200), self.timeout, 2e3, 4e7)
            fl.add(ts, self.backup, fs, TCP, 445 if fs in self.fileservers else 9102, u, d)
        size = rng.uniform(20e9, 150e9) * (np.random.default_rng(self.seed + 51).uniform(0.3, 1.5))
        streams = int(np.random.default_rng(self.seed + 52).integers(2, 9))
        st = bk_local + 3 * 3600
        for s in range(streams):
            rate = rng.uniform(3e6, 8e6)
            ts, u, d = long_conn(rng, st, min(st + size / streams / rate, dh - 1), self.timeout, rate, rate / 200)
            fl.add(ts, self.backup, self.backup_target, TCP, 443, u, d)
        # WSUS downloads content from Microsoft at night
        ts, u, d = long_conn(rng, self.local_to_utc(day, 3.0), self.local_to_utc(day, 3.5), self.timeout, 2e4, 5e6 * rng.uniform(0.3, 2))
        fl.add(ts, self.wsus, self.winupd[0], TCP, 443, u, d)
        # jump host: admins ssh in; jump host fans out to servers on ssh/rdp/winrm
        admins = C[adm] if adm.any() else C[:2]
        for a_ in admins:
            k = int(rng.integers(3, 20))
            ts = self.local_to_utc(day, rng.uniform(8, 18, k))
            fl.add(ts, a_, self.jump, TCP, int(rng.choice([22, 3389])), lognorm(rng, 2e5, 1.5, k), lognorm(rng, 2e6, 1.5, k))
        targets = np.array(srv + list(self.printers))
        k = int(rng.integers(20, 200))
        ts = np.sort(self.local_to_utc(day, rng.uniform(8, 18, k)))
        tg = targets[rng.integers(0, len(targets), k)]
        fl.add(ts, self.jump, tg, TCP, rng.choice([22, 3389, 5985], k), lognorm(rng, 1e5, 1.5, k), lognorm(rng, 5e5, 1.5, k))
        # proxy server's own update & auth
        # mail relay: internal apps and printers send; relay delivers to external MX on tcp/25
        if self.relay:
            k = int(max(50, nc * rng.uniform(2, 10)))
            ts = self.human_times(rng, rng.integers(0, nc, k), arrive, leave, on_s, on_e, day, p_bg=0.1)
            fl.add(ts, self.appsrv, self.relay, TCP, 25, lognorm(rng, 8000, 1.2, k), 500)
            fl.add(ts + rng.uniform(0.5, 5, k), self.relay, pick(self.mx, self.mx_cdf, k), TCP, 25, lognorm(rng, 9000, 1.3, k), lognorm(rng, 700, 0.3, k))
        # vulnerability scanner: sweep every address of the internal /24s on many ports (a couple of hours)
        if self.scanner and (self.scanner_mode == "both days" or day == 1):
            rs = np.random.default_rng(self.seed + 61)
            nports = int(min(1000, 150000 / (254 * len(self.subnets))))
            ports = np.unique(np.concatenate([[21, 22, 23, 25, 53, 80, 110, 135, 139, 143, 443, 445, 993, 1433, 3306, 3389, 5900, 8080],
                                              rs.integers(1, 10000, nports)]))[:nports]
            st = self.local_to_utc(day, float(rs.uniform(0, 5)) if rs.random() < 0.5 else float(rs.uniform(10, 15)))
            targets = np.concatenate([ip4(a, b, c, 0) + np.arange(1, 255) for a, b, c in self.subnets])
            tt = np.repeat(targets, len(ports))
            pp = np.tile(ports, len(targets))
            ts = st + rng.uniform(0, rs.uniform(3600, 3 * 3600), len(tt))
            live = np.isin(tt, allh)
            up = np.where(live, 60, 120)
            down = np.where(live, 54, 0)
            openp = live & np.isin(pp, [22, 80, 135, 139, 443, 445, 3389]) & (rng.random(len(tt)) < 0.5)
            up = np.where(openp, lognorm(rng, 1500, 0.8, len(tt)), up)
            down = np.where(openp, lognorm(rng, 3000, 1.0, len(tt)), down)
            fl.add(ts, self.scanner, tt, TCP, pp, up, down)
            # authenticated checks over SMB on live hosts
            fl.add(st + rng.uniform(0, 7200, len(allh)), self.scanner, allh, TCP, 445, lognorm(rng, 4e4, 0.5, len(allh)), lognorm(rng, 1.5e5, 0.5, len(allh)))
        # software rollout: a package pushed to (nearly) every client within a window, from SCCM
        roll = getattr(self, "rollout_day", None)
        if roll is None:
            self.rollout_day = roll = int(np.random.default_rng(self.seed + 71).choice([-1, 0, 1, 1]))
            self.cfg["rollout_day"] = ["none", "normal", "test"][roll + 1]
        if roll == day:
            st = self.local_to_utc(day, float(rng.uniform(9, 14)))
            pk = rng.uniform(1e8, 8e8)
            on = np.nonzero(present)[0]
            ts = st + rng.uniform(0, 7200, len(on))
            fl.add(ts, C[on], self.wsus, TCP, 445, 20000, pk * rng.uniform(0.98, 1.02, len(on)))
            # and a vendor update of a popular app from a CDN address that is new today
            cdn = self.net.ext(["akamai", "cloudflare", "fastly"], 1)[0]
            fl.add(ts + rng.uniform(0, 3600, len(on)), C[on], cdn, TCP, 443, 2000, rng.uniform(5e7, 1.5e8) * np.ones(len(on)))
        # a user visits a site in a rare country once (both days, different users/places)
        i = int(rng.choice(np.nonzero(present)[0]))
        k = int(rng.integers(3, 25))
        ts = self.human_times(rng, np.full(1, i), arrive, leave, on_s, on_e, day, p_bg=0)[0] + rng.exponential(20, k)
        fl.add(ts, C[i], self.rare_sites[int(rng.integers(0, 40))], TCP, 443, lognorm(rng, 900, 0.5, k), lognorm(rng, 20000, 1.0, k))
        self.roles[int(C[i])] += f" (visited a rare-country site on day {day})"
        # stale application retrying a dead endpoint (both days), some networks
        if np.random.default_rng(self.seed + 81).random() < 0.3:
            j = int(np.random.default_rng(self.seed + 82).integers(0, nc))
            dead = self.saas_misc[int(np.random.default_rng(self.seed + 83).integers(0, 200))]
            if present[j]:
                ts = periodic(rng, on_s[j], on_e[j], 30.0, 0.05)
                fl.add(ts, C[j], dead, TCP, 443, 120, 0)
                if "(stale app" not in self.roles[int(C[j])]:
                    self.roles[int(C[j])] += " (stale app retrying a dead server every 30 s, both days)"
        # a new legit agent installed on one host on day 2 (polls its vendor every 10 min)
        if day == 1 and np.random.default_rng(self.seed + 91).random() < 0.3:
            j = int(np.random.default_rng(self.seed + 92).integers(0, nc))
            vendor = self.net.ext(["aws", "azure", "gcp"], 1)[0]
            if present[j]:
                ts = periodic(rng, on_s[j], on_e[j], 600.0, 0.1)
                fl.add(ts, C[j], vendor, TCP, 443, lognorm(rng, 1500, 0.3, len(ts)), lognorm(rng, 4000, 0.5, len(ts)))
                self.roles[int(C[j])] += " (new legit agent installed on test day, polls vendor every 10 min)"
        return present, on_s, on_e, arrive, leave

    # ---------------------------------------------------------------- public servers
    def servers(self, fl, truth):
        rng = np.random.default_rng(self.seed * 1000 + 555)
        net = self.net
        if rng.random() < 0.5:
            a, b = PFX["eu_isp"][int(rng.integers(0, len(PFX["eu_isp"])))]
            base = ip4(a, b, int(rng.integers(0, 256)), int(rng.integers(0, 15)) * 16)
            self.public_range = f"{ip_str(base)}/28"
        else:
            a, b, c = 172, int(rng.integers(16, 32)), int(rng.integers(200, 250))
            base = ip4(a, b, c, 0)
            self.public_range = f"{ip_str(base)}/24"
        self.cfg["public_range"] = self.public_range
        web, mail, vpn = base + 5, base + 6, base + 7
        self.pub = {"web": web, "mail": mail, "vpn": vpn}
        self.roles[web] = "public web server (80/443, internet clients)"
        self.roles[mail] = "public mail server (25/587/993, delivers outbound on 25)"
        self.roles[vpn] = "VPN gateway (udp/500/4500, tcp/443) + exposed ssh"
        visitors = net.ext(["residential", "us_isp", "eu_isp", "asia", "latam", "africa", "aws", "google"], 30000)
        vp = 1.0 / np.arange(1, len(visitors) + 1) ** 0.8
        vcdf = np.cumsum(vp / vp.sum())
        remote = net.ext(["residential", "eu_isp", "us_isp"], max(5, len(self.clients) // 5))
        mtas = np.concatenate([net.ext("google", 15), net.ext("microsoft", 20), net.ext(["eu_isp", "us_isp", "aws", "ovh", "asia"], 500)])
        crawl = np.concatenate([np.array([ip4(66, 249, 66, x) for x in range(1, 9)]), np.array([ip4(40, 77, 167, x) for x in range(10, 16)])])
        uptime = net.ext(["aws", "linode", "digitalocean"], 6)
        volume = rng.uniform(0.3, 3)
        for day in (0, 1):
            dl, dh = self.day0 + day * DAY, self.day0 + (day + 1) * DAY
            # web visitors with diurnal shape (local time of the org)
            n = int(rng.uniform(20000, 60000) * volume)
            loc = np.where(rng.random(n) < 0.75, rng.normal(14, 4, n), rng.uniform(0, 24, n)) % 24
            ts = self.local_to_utc(day, loc)
            ts = np.where(ts < dl, ts + DAY, np.where(ts >= dh, ts - DAY, ts))
            v = visitors[np.minimum(np.searchsorted(vcdf, rng.random(n)), len(visitors) - 1)]
            port = np.where(rng.random(n) < 0.15, 80, 443)
            fl.add(ts, v, web, TCP, port, lognorm(rng, 900, 0.8, n), lognorm(rng, 25000, 1.5, n))
            for c in crawl:
                t = periodic(rng, dl, dh, rng.uniform(60, 400), 0.5)
                fl.add(t, c, web, TCP, 443, 400, lognorm(rng, 30000, 1.2, len(t)))
            for u in uptime:
                t = periodic(rng, dl, dh, 60.0, 0.01)
                fl.add(t, u, web, TCP, 443, 350, 5000)
            # mail in
            n = int(rng.uniform(2000, 15000))
            ts = np.sort(rng.uniform(dl, dh, n))
            fl.add(ts, mtas[rng.integers(0, len(mtas), n)], mail, TCP, 25, lognorm(rng, 15000, 1.5, n), lognorm(rng, 600, 0.3, n))
            # mail out (server delivers)
            n = int(rng.uniform(1000, 8000))
            ts = np.sort(rng.uniform(dl, dh, n))
            fl.add(ts, mail, self.mx[np.minimum(np.searchsorted(self.mx_cdf, rng.random(n)), len(self.mx) - 1)], TCP, 25,
                   lognorm(rng, 12000, 1.4, n), lognorm(rng, 700, 0.3, n))
            # users: IMAP/submission from home and phones
            n = int(len(remote) * rng.uniform(20, 80))
            ts = np.sort(rng.uniform(dl, dh, n))
            fl.add(ts, remote[rng.integers(0, len(remote), n)], mail, TCP, rng.choice([993, 587], n, p=[0.85, 0.15]),
                   lognorm(rng, 2000, 1.0, n), lognorm(rng, 20000, 1.5, n))
            # VPN sessions
            for r in remote:
                if rng.random() < 0.5:
                    st = self.local_to_utc(day, rng.uniform(7, 20))
                    t, u, d = long_conn(rng, st, min(st + rng.uniform(1800, 9 * 3600), dh - 1), self.timeout, 2e4, 1e5)
                    fl.add(t, r, vpn, UDP, 4500, u, d)
                    fl.add([st - 1], r, vpn, UDP, 500, 1200, 900)
            # internet background radiation: scanners probing every public address
            n_src = int(rng.uniform(300, 1500))
            srcs = np.concatenate([net.ext(["hosting_bad", "asia", "digitalocean", "ovh", "latam"], n_src - 6),
                                   np.array([ip4(162, 142, 125, x) for x in (10, 11, 12)] + [ip4(198, 20, 69, x) for x in (74, 98, 130)])])
            per = rng.geometric(0.3, n_src)
            s = np.repeat(srcs, per)
            ts = rng.uniform(dl, dh, len(s))
            tgt = np.array([web, mail, vpn])[rng.integers(0, 3, len(s))]
            port = rng.choice([22, 23, 80, 443, 445, 3389, 8080, 5900, 1433, 3306, 25, 21, 8443, 2323, 6379], len(s))
            opened = ((tgt == web) & np.isin(port, [80, 443])) | ((tgt == mail) & (port == 25)) | ((tgt == vpn) & np.isin(port, [22, 443]))
            fl.add(ts, s, tgt, TCP, port, np.where(opened, 300, 60), np.where(opened, 500, 0))
            # background ssh password guessing on the exposed ssh (low level, every day)
            for b in net.ext(["hosting_bad", "asia", "latam"], int(rng.integers(3, 15))):
                k = int(rng.integers(3, 60))
                st = rng.uniform(dl, dh - 3600)
                fl.add(st + np.sort(rng.uniform(0, rng.uniform(60, 1800), k)), b, vpn, TCP, 22, lognorm(rng, 2000, 0.2, k), lognorm(rng, 2600, 0.2, k))

    # ---------------------------------------------------------------- attacks
    def attacks(self, fl, srv_fl, truth, present, on_s, on_e, arrive, leave, chosen):
        rng = np.random.default_rng(self.seed * 1000 + 777)
        net = self.net
        C = self.clients
        day = 1
        dl, dh = self.day0 + DAY, self.day0 + 2 * DAY
        victims_pool = [i for i in rng.permutation(len(C)) if present[i]]
        vi = iter(victims_pool)
        mal = truth["malicious"]
        att = truth["attacked"]

        def host():
            nonlocal vi
            try:
                i = next(vi)
            except StopIteration:  # more victims than present clients (tiny networks): reuse hosts
                vi = iter(victims_pool)
                i = next(vi)
            return i, int(C[i])

        def span(i, min_h=1, max_h=20, whole=False):
            """active window of the malware on host i: while the host is on."""
            s0, s1 = on_s[i], on_e[i]
            if whole:
                return s0, s1
            dur = min(s1 - s0, rng.uniform(min_h, max_h) * 3600)
            st = rng.uniform(s0, s1 - dur) if s1 - s0 > dur else s0
            return st, st + dur

        def dns_lookup(c, ts_list):
            res = self.dc[c % len(self.dc)]
            fl.add(ts_list, c, res, UDP, 53, 75, 140)

        for a in chosen:
            intensity = float(rng.uniform(0, 1))  # 0 subtle .. 1 blatant
            rec = {"behaviour": a, "intensity": round(intensity, 2)}
            if a in ("beacon", "botnet"):
                cc = net.ext("hosting_bad", 1)[0]
                period = float(math.exp(rng.uniform(math.log(30), math.log(3600))))
                jitter = float(rng.uniform(0, 0.5))
                port = int(rng.choice([443, 443, 80, 8080, 8443]))
                upm, downm = rng.uniform(250, 1500), rng.uniform(150, 2000)
                members = 1 if a == "beacon" else int(rng.integers(3, 7))
                via_proxy = bool(self.use_proxy and rng.random() < 0.5)
                for _ in range(members):
                    i, c = host()
                    st, en = span(i, 2, 20, whole=rng.random() < 0.4)
                    ts = st + np.cumsum(period * (1 + jitter * rng.uniform(-1, 1, int((en - st) / period) + 2)))
                    ts = ts[ts < en]
                    up = lognorm(rng, upm, 0.15, len(ts))
                    down = lognorm(rng, downm, 0.2, len(ts))
                    task = rng.random(len(ts)) < 0.03
                    down[task] = lognorm(rng, 50000, 1.0, task.sum())
                    if via_proxy:
                        fl.add(ts, c, self.proxy, TCP, 3128 if self.seed % 2 else 8080, up + 200, down + 100)
                        fl.add(ts + 0.01, self.proxy, cc, TCP, port, up, down)
                    else:
                        fl.add(ts, c, cc, TCP, port, up, down)
                    dns_lookup(c, ts[::max(1, int(300 / period))])
                    if via_proxy:
                        truth["collateral"].append({"ip": ip_str(self.proxy), "why": f"web proxy relaying the C&C traffic of {ip_str(c)}"})
                    mal.append({"ip": ip_str(c), "behaviour": "botnet member (shared C&C beacon)" if a == "botnet" else "C&C beaconing",
                                "peer": ip_str(cc), "period_secs": round(period, 1), "jitter": round(jitter, 2), "port": port,
                                "flows": int(len(ts)), "start": st, "end": en, "via_proxy": via_proxy})
            elif a == "cnc_longconn":
                i, c = host()
                cc = net.ext("hosting_bad", 1)[0]
                port = int(rng.choice([443, 8443, 4444, 1337, 9001]))
                st, en = span(i, 3, 24, whole=True)
                ts, u, d = long_conn(rng, st, en, self.timeout, rng.uniform(0.5, 5), rng.uniform(0.5, 5))
                fl.add(ts, c, cc, TCP, port, u + 100, d + 100)
                k = int(rng.integers(0, 6))  # reconnects after blips: some failed
                fl.add(rng.uniform(st, en, k), c, cc, TCP, port, 120, 0)
                mal.append({"ip": ip_str(c), "behaviour": "C&C long-lived connection", "peer": ip_str(cc), "port": port, "flows": int(len(ts) + k)})
            elif a == "cnc_storm":
                i, c = host()
                cc = net.ext("hosting_bad", 1)[0]
                port = int(rng.choice([6667, 23, 443, 8080, 5555]))
                gap = float(rng.uniform(2, 30))
                st, en = span(i, 1, 12)
                ts = st + np.cumsum(rng.uniform(0.5, 1.5, int((en - st) / gap) + 1) * gap)
                ts = ts[ts < en]
                fl.add(ts, c, cc, TCP, port, rng.choice([60, 120, 180], len(ts)), 0)
                mal.append({"ip": ip_str(c), "behaviour": "C&C reconnect storm (failed connections)", "peer": ip_str(cc), "port": port,
                            "gap_secs": round(gap, 1), "flows": int(len(ts))})
            elif a == "dns_tunnel":
                i, c = host()
                qps = float(math.exp(rng.uniform(math.log(0.2), math.log(10))))
                st, en = span(i, 0.2, 6)
                n = int(qps * (en - st))
                n = min(n, 100000)
                ts = np.sort(rng.uniform(st, en, n))
                up = rng.integers(120, 260, n)
                down = up + rng.integers(50, 250, n)
                ns_ip = net.ext("hosting_bad", 1)[0]
                direct = bool(rng.random() < 0.4)
                if direct:
                    dst = ns_ip if rng.random() < 0.5 else ip4(8, 8, 8, 8)
                    fl.add(ts, c, dst, UDP, 53, up, down)
                    peer = dst
                else:
                    res = self.dc[c % len(self.dc)]
                    fl.add(ts, c, res, UDP, 53, up, down)
                    fl.add(ts + 0.003, res, ns_ip, UDP, 53, up + 11, down + 11)
                    peer = res
                    truth["collateral"].append({"ip": ip_str(res), "why": f"internal resolver relaying the DNS tunnel of {ip_str(c)}"})
                mal.append({"ip": ip_str(c), "behaviour": "DNS tunnelling" + (" (direct)" if direct else " (via internal resolver)"),
                            "peer": ip_str(peer), "tunnel_ns": ip_str(ns_ip), "queries": n, "qps": round(qps, 2)})
            elif a == "exfil":
                i, c = host()
                size = float(math.exp(rng.uniform(math.log(3e8), math.log(1e10))))
                dst = net.ext(["hosting_bad", "ovh", "hetzner", "digitalocean"], 1)[0]
                port = int(rng.choice([443, 443, 22, 21, 8443]))
                night = bool(rng.random() < 0.5)
                if night:
                    st = self.local_to_utc(1, rng.uniform(0.5, 4.5))
                else:
                    st = self.human_times(rng, np.array([i]), arrive, leave, on_s, on_e, 1, p_bg=0)[0]
                chunked = bool(rng.random() < 0.5)
                if chunked:
                    nch = int(rng.integers(10, 200))
                    ts = st + np.cumsum(rng.uniform(30, 600, nch))
                    fl.add(ts, c, dst, TCP, port, size / nch * rng.uniform(0.8, 1.2, nch), lognorm(rng, 5000, 0.5, nch))
                else:
                    rate = rng.uniform(2e6, 2e7)
                    ts, u, d = long_conn(rng, st, min(st + size / rate, dh - 1), self.timeout, rate, rate / 100)
                    fl.add(ts, c, dst, TCP, port, u, d)
                mal.append({"ip": ip_str(c), "behaviour": "data exfiltration", "peer": ip_str(dst), "bytes": int(size),
                            "night": night, "chunked": chunked, "port": port})
            elif a == "internal_scan":
                i, c = host()
                ports = [[445], [3389], [22], [445, 139, 135, 3389, 22, 5985]][int(rng.integers(0, 4))]
                fast = bool(rng.random() < 0.5)
                targets = np.concatenate([ip4(a_, b_, c_, 0) + np.arange(1, 255) for a_, b_, c_ in self.subnets])
                if rng.random() < 0.5:
                    targets = rng.choice(targets, int(len(targets) * rng.uniform(0.2, 0.6)), replace=False)
                tt = np.repeat(targets, len(ports))
                pp = np.tile(ports, len(targets))
                st = self.human_times(rng, np.array([i]), arrive, leave, on_s, on_e, 1, p_bg=0)[0]
                rate = rng.uniform(10, 200) if fast else 1 / rng.uniform(2, 30)
                ts = st + np.sort(rng.uniform(0, len(tt) / rate, len(tt)))
                live = np.isin(tt, self.all_hosts)
                openp = live & (rng.random(len(tt)) < 0.3)
                up = np.where(openp, 300, np.where(live, 60, 120))
                down = np.where(openp, 400, np.where(live, 54, 0))
                fl.add(ts, c, tt, TCP, pp, up, down)
                # lateral movement to a few hosts
                lt = rng.choice(self.all_hosts, int(rng.integers(1, 6)))
                tl = ts[-1] + rng.uniform(60, 1800, len(lt))
                fl.add(tl, c, lt, TCP, 445, lognorm(rng, 1e6, 1.0, len(lt)), lognorm(rng, 30000, 1, len(lt)))
                fl.add(tl + 5, c, lt, TCP, 135, 3000, 2000)
                mal.append({"ip": ip_str(c), "behaviour": "internal scan / lateral movement", "peer": None, "ports": ports,
                            "targets": int(len(targets)), "fast": fast, "rate_per_sec": round(rate, 3)})
            elif a == "outbound_scan":
                i, c = host()
                port = int(rng.choice([23, 445, 22, 80, 8080, 3389, 5555, 2323]))
                rate = float(math.exp(rng.uniform(math.log(3), math.log(300))))
                dur = rng.uniform(600, 8 * 3600)
                n = int(min(rate * dur, 150000))
                st, _ = span(i, dur / 3600, dur / 3600)
                ts = st + np.sort(rng.uniform(0, n / rate, n))
                dst = net.any_public(n)
                rst = rng.random(n) < 0.03
                fl.add(ts, c, dst, TCP, port, np.where(rst, 60, 120), np.where(rst, 40, 0))
                mal.append({"ip": ip_str(c), "behaviour": "outbound scanning (worm)", "peer": None, "port": port, "probes": n,
                            "rate_per_sec": round(rate, 1)})
            elif a == "ddos":
                i, c = host()
                tgt = net.ext(["us_isp", "eu_isp", "aws", "asia"], 1)[0]
                kind = str(rng.choice(["udp", "icmp", "syn"]))
                dur = rng.uniform(120, 1800)
                st = rng.uniform(on_s[i], on_e[i] - dur)
                if kind == "syn" or rng.random() < 0.5:
                    rate = float(min(rng.uniform(100, 3000), 150000 / dur))
                    n = int(rate * dur)
                    ts = st + np.sort(rng.uniform(0, dur, n))
                    if kind == "syn":
                        fl.add(ts, c, tgt, TCP, int(rng.choice([80, 443])), 60, 0)
                    elif kind == "udp":
                        fl.add(ts, c, tgt, UDP, rng.integers(1, 65535, n), rng.integers(64, 1400, n), 0)
                    else:
                        fl.add(ts, c, tgt, ICMP, self.icmp_port, rng.integers(64, 1400, n), 0)
                    rec_flows = n
                else:
                    bps = rng.uniform(5e6, 1e8)
                    ts, u, d = long_conn(rng, st, st + dur, min(self.timeout, 60), bps, 0)
                    fl.add(ts, c, tgt, UDP if kind == "udp" else ICMP, 53 if kind == "udp" else self.icmp_port, u, 0)
                    rec_flows = len(ts)
                mal.append({"ip": ip_str(c), "behaviour": f"DDoS participation ({kind} flood)", "peer": ip_str(tgt), "flows": int(rec_flows),
                            "duration_secs": round(dur)})
            elif a == "spam":
                i, c = host()
                n_mx = int(math.exp(rng.uniform(math.log(200), math.log(5000))))
                mxs = net.ext(["eu_isp", "us_isp", "asia", "latam", "ovh", "hetzner", "google", "microsoft"], n_mx)
                rate = float(math.exp(rng.uniform(math.log(0.05), math.log(5))))
                st, en = span(i, 1, 10)
                n = int(min(rate * (en - st), 100000))
                ts = np.sort(rng.uniform(st, en, n))
                ok = rng.random(n) > rng.uniform(0.1, 0.4)
                fl.add(ts, c, mxs[rng.integers(0, n_mx, n)], TCP, 25, np.where(ok, lognorm(rng, 6000, 0.8, n), 60),
                       np.where(ok, lognorm(rng, 600, 0.3, n), 0))
                mal.append({"ip": ip_str(c), "behaviour": "spam bot (SMTP to many MX)", "peer": None, "messages": n, "mx": n_mx})
            elif a == "mining":
                if rng.random() < 0.4:
                    c = int(rng.choice(self.linux_servers)); i = None
                    st, en = dl, dh
                else:
                    i, c = host()
                    st, en = on_s[i], on_e[i]
                pool = net.ext(["hosting_bad", "ovh", "hetzner", "asia"], 1)[0]
                port = int(rng.choice([3333, 4444, 14444, 5555, 45700]))
                ts, u, d = long_conn(rng, st, en, self.timeout, rng.uniform(2, 20), rng.uniform(5, 40))
                fl.add(ts, c, pool, TCP, port, u + 200, d + 200)
                k = int(rng.integers(0, 5))
                fl.add(rng.uniform(st, en, k), c, pool, TCP, port, 600, 900)
                mal.append({"ip": ip_str(c), "behaviour": "crypto-mining (stratum)", "peer": ip_str(pool), "port": port,
                            "role": self.roles.get(c)})
            elif a == "inbound_bruteforce":
                exposed_internal = bool(rng.random() < 0.4)
                if exposed_internal:
                    i, c = host()
                    port = int(rng.choice([3389, 22]))
                    out = fl
                else:
                    c = self.pub["vpn"]
                    port = 22 if rng.random() < 0.6 else 443
                    out = srv_fl
                nsrc = int(math.exp(rng.uniform(0, math.log(200))))
                srcs = net.ext(["hosting_bad", "asia", "latam", "residential"], nsrc)
                attempts = int(math.exp(rng.uniform(math.log(500), math.log(30000))))
                dur = rng.uniform(1800, 12 * 3600)
                st = rng.uniform(dl, dh - dur)
                ts = st + np.sort(rng.uniform(0, dur, attempts))
                up = lognorm(rng, 2200 if port != 3389 else 4000, 0.2, attempts)
                fl_ = out
                fl_.add(ts, srcs[rng.integers(0, nsrc, attempts)], c, TCP, port, up, up * 1.3)
                att.append({"ip": ip_str(c), "behaviour": "brute force", "sources": nsrc, "port": port, "attempts": attempts,
                            "exposed_internal": exposed_internal, "source_ips": [ip_str(x) for x in srcs]})
            elif a == "inbound_scan":
                tgt = self.pub[str(rng.choice(["web", "mail", "vpn"]))]
                nsrc = int(math.exp(rng.uniform(math.log(200), math.log(3000))))
                srcs = net.ext(["hosting_bad", "asia", "latam", "residential", "africa", "digitalocean"], nsrc)
                per = rng.integers(1, 50, nsrc)
                s = np.repeat(srcs, per)
                dur = rng.uniform(600, 6 * 3600)
                st = rng.uniform(dl, dh - dur)
                ts = st + rng.uniform(0, dur, len(s))
                port = rng.integers(1, 65536, len(s))
                srv_fl.add(ts, s, tgt, TCP, port, 60, 0)
                att.append({"ip": ip_str(tgt), "behaviour": "inbound scan", "sources": nsrc, "probes": int(len(s)),
                            "source_ips": [ip_str(x) for x in srcs]})
            elif a == "malicious_download":
                i, c = host()
                src = net.ext("hosting_bad", 1)[0]
                k = int(rng.integers(2, 6))
                st = self.human_times(rng, np.array([i]), arrive, leave, on_s, on_e, 1, p_bg=0)[0]
                ts = st + np.sort(rng.uniform(0, rng.uniform(30, 600), k))
                fl.add(ts, c, src, TCP, int(rng.choice([80, 80, 8080])), rng.integers(250, 500, k), lognorm(rng, 6e5, 1.0, k) + 50000)
                dns_lookup(c, ts[:1] - 0.05)
                mal.append({"ip": ip_str(c), "behaviour": "malicious download (binaries over HTTP)", "peer": ip_str(src), "files": k})
            rec["done"] = True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hosts", type=int)
    ap.add_argument("--flows-per-host-day", type=float)
    ap.add_argument("--client-budget", type=float, default=550_000,
                    help="cap on clients x flows per client-day (raise it for dense networks)")
    ap.add_argument("--attacks", help="comma-separated subset of: " + ",".join(ATTACKS))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    sim = Sim(args)
    rng = np.random.default_rng(args.seed * 1000 + 999)
    if args.attacks:
        chosen = args.attacks.split(",")
    else:
        chosen = list(rng.choice(ATTACKS, int(rng.integers(2, 7)), replace=False))
    sim.cfg["attacks"] = chosen
    truth = {"internal": list(sim.cfg["internal"]), "malicious": [], "attacked": [], "collateral": [], "benign_roles": {}, "config": sim.cfg}
    normal = Flows()
    sim.benign_day(0, normal)
    normal.wrap_since(0, sim.day0)
    test = Flows()
    present, on_s, on_e, arrive, leave = sim.benign_day(1, test)
    test.wrap_since(0, sim.day0 + DAY)
    k_test = len(test.parts)
    srv = Flows()
    sim.servers(srv, truth)
    truth["internal"].append(sim.public_range)
    sim.attacks(test, srv, truth, present, on_s, on_e, arrive, leave, chosen)
    test.wrap_since(k_test, sim.day0 + DAY)
    n1 = normal.write(os.path.join(args.out, "normal.parquet"), sim.day0, sim.day0 + DAY)
    n2 = test.write(os.path.join(args.out, "test.parquet"), sim.day0 + DAY, sim.day0 + 2 * DAY)
    n3 = srv.write(os.path.join(args.out, "servers.parquet"))
    bad = {m["ip"] for m in truth["malicious"]} | {a["ip"] for a in truth["attacked"]}
    truth["benign_roles"] = {ip_str(k): v for k, v in sim.roles.items() if ip_str(k) not in bad}
    truth["malicious_roles"] = {ip_str(k): v for k, v in sim.roles.items() if ip_str(k) in bad}
    sim.cfg.update({"normal_flows": n1, "test_flows": n2, "server_flows": n3, "gen_secs": round(time.time() - t0, 1)})
    with open(os.path.join(args.out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    print(json.dumps({k: sim.cfg[k] for k in ("seed", "hosts", "clients_count", "flows_per_client_day", "attacks",
                                               "normal_flows", "test_flows", "server_flows", "gen_secs")}))


if __name__ == "__main__":
    main()
