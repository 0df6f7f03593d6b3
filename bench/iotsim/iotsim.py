#!/usr/bin/env python3
"""iotsim: an independent simulator of IoT-23-style labelled Zeek conn.log captures (CSV).

Written from general knowledge of the IoT-23 dataset (Garcia, Parmisano, Erquiaga, Stratosphere
Laboratory, 2020) and of the malware families it contains (Mirai, Okiru, Gafgyt/Bashlite, Muhstik,
IRCBot, Hajime, Hide-and-Seek, Kenjiro, Torii) -- NOT from flowhound's own generator or detectors.
The CSV layout (header, empty-field conventions, label columns) copies the real captures in
/work/shared/testdata/iot23/.

usage: iotsim.py --family F --seed N --out FILE.csv      (writes FILE.truth.json next to it)
"""
import argparse, json, math, os, sys
import numpy as np

HEADER = ("ts,uid,id.orig_h,id.orig_p,id.resp_h,id.resp_p,proto,service,duration,orig_bytes,"
          "resp_bytes,conn_state,local_orig,local_resp,missed_bytes,history,orig_pkts,orig_ip_bytes,"
          "resp_pkts,resp_ip_bytes,tunnel_parents,label,detailed-label")

FAMILIES = ["mirai-scan", "okiru", "gagfyt", "muhstik", "ircbot", "hajime", "kenjiro",
            "hide-and-seek", "torii", "benign-speaker", "benign-camera", "benign-plug",
            "benign-lamp", "benign-lock"]

B62 = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))

# ----------------------------------------------------------------------------- addresses

_PRIVATE = [(0, 8), (10 << 24, 8), (127 << 24, 8), (100 << 24 | 64 << 16, 10), (169 << 24 | 254 << 16, 16),
            (172 << 24 | 16 << 16, 12), (192 << 24 | 168 << 16, 16), (224 << 24, 3)]


def ip_str(n):
    n = int(n)
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def random_public(rng, n):
    """n random routable IPv4 addresses (vectorised), as strings."""
    out = np.empty(0, dtype=np.uint64)
    while len(out) < n:
        c = rng.integers(1 << 24, 224 << 24, size=int((n - len(out)) * 1.2) + 16, dtype=np.uint64)
        ok = np.ones(len(c), bool)
        for net, bits in _PRIVATE:
            ok &= (c >> np.uint64(32 - bits)) != np.uint64(net >> (32 - bits))
        out = np.concatenate([out, c[ok]])
    out = out[:n]
    a = (out >> np.uint64(24)).astype(str); b = ((out >> np.uint64(16)) & np.uint64(255)).astype(str)
    c_ = ((out >> np.uint64(8)) & np.uint64(255)).astype(str); d = (out & np.uint64(255)).astype(str)
    return np.char.add(np.char.add(np.char.add(np.char.add(np.char.add(np.char.add(a, "."), b), "."), c_), "."), d)


# hosting-provider-ish prefixes for C&C servers / download servers (DigitalOcean, OVH, Hetzner, ...)
CNC_PREFIXES = ["46.101.", "178.128.", "185.244.25.", "104.248.", "159.89.", "167.99.", "51.38.",
                "94.156.", "185.172.110.", "45.95.168.", "193.228.91.", "198.98.56.", "209.141.",
                "80.211.", "89.46.223.", "31.13.195.", "141.98.10.", "185.10.68.", "37.49.226.",
                "5.206.227."]
NTP_POOL = ["147.231.100.5", "81.2.254.224", "77.78.107.252", "89.221.214.130", "83.167.252.118",
            "37.157.198.150", "31.31.74.35", "195.113.144.201", "213.199.225.40", "81.2.248.189",
            "185.189.115.149", "194.182.76.214", "147.251.48.140", "80.79.25.111", "5.1.56.123"]
GOOGLE_NTP = ["216.239.35.0", "216.239.35.4", "216.239.35.8", "216.239.35.12"]


def pick_cnc(rng, used=()):
    while True:
        p = CNC_PREFIXES[rng.integers(len(CNC_PREFIXES))]
        n = 4 - p.count(".")
        ip = p + ".".join(str(rng.integers(1, 255)) for _ in range(n))
        if ip not in used:
            return ip


# ----------------------------------------------------------------------------- rows


class Cap:
    def __init__(self, rng, honeypot=False):
        self.rng = rng
        self.rows = []          # tuples: (ts, orig, oport, resp, rport, proto, service, dur, ob, rb,
                                #          state, history, opk, oipb, rpk, ripb, label, dlabel)
        self.honeypot = honeypot
        self.tunnel = "(empty)" if rng.random() < 0.3 else ""

    def lab(self, dl):
        if dl is None or dl == "-":
            return ("benign" if self.honeypot else "Benign", "-")
        return ("Malicious", dl)

    def add(self, ts, o, op, r, rp, proto, svc, dur, ob, rb, state, hist, opk, oipb, rpk, ripb, dl=None):
        lab, d = self.lab(dl)
        self.rows.append((ts, o, op, r, rp, proto, svc, dur, ob, rb, state, hist, opk, oipb, rpk, ripb, lab, d))

    # --- primitives
    def eph(self):
        return int(self.rng.integers(32768, 61000))

    def tcp(self, ts, o, r, rp, up, down, dur, svc="", state="SF", dl=None, op=None, missed=0):
        """an established TCP connection"""
        mss = 1448
        opk = 3 + max(1, math.ceil(up / mss)) + (math.ceil(down / mss) // 2 if down else 0)
        rpk = 2 + (math.ceil(down / mss) if down else 0) + (1 if up else 0)
        hist = {"SF": "ShADadFf" if (up and down) else ("ShADaFf" if up else "ShAFf"),
                "S1": "ShADad", "RSTO": "ShADadR", "RSTR": "ShADadr", "S3": "ShAdDaf",
                "SH": "ShAF", "OTH": "DdA"}.get(state, "ShADadFf")
        if state == "SF" and down > 20000:
            hist = "ShADadttFf" if self.rng.random() < 0.5 else "ShADadtfF"
        self.add(ts, o, op or self.eph(), r, rp, "tcp", svc, "%.6f" % dur, str(up), str(down), state, hist,
                 opk, opk * 52 + up, rpk, rpk * 52 + down, dl)
        return self

    def syn_fail(self, ts, o, r, rp, dl=None, op=None, retries=None):
        """a connect() to a dead address: Zeek splits the kernel's SYN retries into records"""
        op = op or self.eph()
        rng = self.rng
        self.add(ts, o, op, r, rp, "tcp", "", "%.6f" % (3.0 + rng.random() * 0.2), "0", "0", "S0", "S",
                 3, 180, 0, 0, dl)
        n = rng.integers(1, 4) if retries is None else retries
        t = ts
        for k in range(int(n)):
            t += [7.2, 8.4, 16.6, 33.2][k] + rng.random() * 0.1
            self.add(t, o, op, r, rp, "tcp", "", "", "", "", "S0", "S", 1, 60, 0, 0, dl)
        return t

    def udp(self, ts, o, r, rp, up, down, dur=None, svc="", dl=None, op=None, answered=True, opk=1, rpk=1):
        op = op or self.eph()
        if answered:
            self.add(ts, o, op, r, rp, "udp", svc, "%.6f" % (dur if dur is not None else 0.002 + self.rng.random() * 0.06),
                     str(up), str(down), "SF", "Dd", opk, up + 28 * opk, rpk, down + 28 * rpk, dl)
        else:
            if opk == 1:
                self.add(ts, o, op, r, rp, "udp", svc, "", "", "", "S0", "D", 1, up + 28, 0, 0, dl)
            else:
                self.add(ts, o, op, r, rp, "udp", svc, "%.6f" % (dur or 5.0), str(up), "0", "S0", "D",
                         opk, up + 28 * opk, 0, 0, dl)

    def dns(self, ts, o, server, qlen=None, ok=True, dl=None):
        q = qlen or int(self.rng.integers(28, 48))
        if ok:
            self.udp(ts, o, server, 53, q, q + int(self.rng.integers(16, 280)), svc="dns", dl=dl)
        else:
            self.udp(ts, o, server, 53, q, 0, svc="dns", answered=False, dl=dl)

    # --- output
    def write(self, path):
        rows = sorted(self.rows, key=lambda r: r[0])
        n = len(rows)
        tun = self.tunnel
        with open(path, "w") as f:
            f.write(HEADER + "\n")
            buf = []
            for i, r in enumerate(rows):
                uid = _fast_uid(self.rng)
                (ts, o, op, rr, rp, proto, svc, dur, ob, rb, st, hist, opk, oipb, rpk, ripb, lab, dl) = r
                buf.append("%.6f,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,,,0,%s,%d,%d,%d,%d,%s,%s,%s\n" % (
                    ts, uid, o, op, rr, rp, proto, svc, dur, ob, rb, st, hist, opk, oipb, rpk, ripb, tun, lab, dl))
                if len(buf) >= 20000:
                    f.write("".join(buf)); buf = []
            f.write("".join(buf))
        return n


_uid_pool = []


def _fast_uid(rng):
    global _uid_pool
    if not _uid_pool:
        a = B62[rng.integers(0, 62, size=(100000, 17))]
        _uid_pool = ["C" + "".join(x) for x in a.tolist()]
    return _uid_pool.pop()


# ----------------------------------------------------------------------------- benign background


def background(cap, rng, dev, router, t0, t1, profile="rpi", lab_host=None):
    """the device's own benign traffic (labelled Benign)"""
    # DNS to the router: resolver traffic every 30 s - 15 min (device-specific)
    period = {"rpi": rng.uniform(40, 300), "speaker": rng.uniform(20, 60), "camera": rng.uniform(60, 300),
              "plug": rng.uniform(120, 600), "lamp": 900.0, "lock": rng.uniform(1800, 5400)}[profile]
    t = t0 + rng.uniform(0, period)
    while t < t1:
        cap.dns(t, dev, router, ok=rng.random() > 0.08)
        if rng.random() < 0.3:
            cap.dns(t + 0.001 + rng.random() * 0.01, dev, router)
        t += period * rng.uniform(0.5, 1.5) if profile != "lamp" else 900 + rng.normal(0, 0.5)
    if profile == "rpi" and rng.random() < 0.7:     # some DNS straight to 8.8.8.8
        for _ in range(int(rng.integers(5, 60))):
            cap.dns(rng.uniform(t0, t1), dev, "8.8.8.8", ok=rng.random() > 0.3)
    # NTP
    if profile in ("rpi",):
        servers = list(rng.choice(NTP_POOL, size=int(rng.integers(4, 9)), replace=False))
        # ntpd: poll interval grows 64 -> 1024 s; one server polled often (prefer peer)
        for k, s in enumerate(servers):
            poll = 64.0 if k == 0 else float(rng.choice([64, 128, 256, 512, 1024]))
            t = t0 + rng.uniform(0, poll)
            end = t1 if k < 4 else t0 + (t1 - t0) * rng.uniform(0.1, 1.0)
            while t < end:
                cap.udp(t, dev, s, 123, 48, 48, op=123, answered=rng.random() > 0.02)
                t += poll + rng.uniform(-1, 1)
                if k and rng.random() < 0.02:
                    poll = min(1024, poll * 2)
    else:
        servers = list(rng.choice(GOOGLE_NTP if profile == "lamp" else NTP_POOL, size=int(rng.integers(1, 5)), replace=False))
        poll = {"speaker": 1024, "camera": 3600, "plug": 3600, "lamp": 3000, "lock": 43200}[profile]
        t = t0 + rng.uniform(0, 600)
        while t < t1:
            cap.udp(t, dev, servers[int(rng.integers(len(servers)))], 123, 48, 48)
            t += poll * rng.uniform(0.8, 1.2)
    # occasional SSH from the lab management host (seen in the real malware captures)
    if lab_host and profile == "rpi":
        for _ in range(int(rng.integers(1, 6))):
            ts = rng.uniform(t0, t1)
            if rng.random() < 0.5:
                cap.add(ts, lab_host, cap.eph(), dev, 22, "tcp", "", "", "", "", "OTH", "^d", 0, 0, 1, 88)
            else:
                cap.tcp(ts, lab_host, dev, 22, int(rng.integers(2000, 20000)), int(rng.integers(3000, 60000)),
                        rng.uniform(20, 900), svc="ssh")
    # DHCP renewals
    t = t0 + rng.uniform(0, 3600)
    lease = rng.choice([3600, 7200, 43200, 86400])
    while t < t1:
        cap.udp(t, dev, router, 67, 300, 300, svc="dhcp", op=68)
        t += lease / 2
    # SSDP / mDNS for non-rpi devices
    if profile in ("speaker", "lamp", "camera"):
        t = t0 + rng.uniform(0, 600)
        while t < t1:
            cap.udp(t, dev, "239.255.255.250", 1900, int(rng.integers(1, 30)) * 314, 0, dur=rng.uniform(0, 160),
                    op=1900, answered=False, opk=int(rng.integers(2, 24)))
            t += rng.uniform(1200, 7200)
    if profile in ("speaker", "lock"):
        t = t0 + rng.uniform(0, 300)
        ll = "fe80::%x:%xff:fe%x:%x" % tuple(int(x) for x in rng.integers(0, 65535, 4))
        while t < t1:
            cap.udp(t, ll, "ff02::fb", 5353, int(rng.integers(40, 400)), 0, op=5353, svc="dns", answered=False)
            if rng.random() < 0.3:
                cap.add(t + 0.5, "::", 143, "ff02::16", 0, "icmp", "", "", "", "", "OTH", "", 1, 76, 0, 0)
            t += rng.uniform(120, 900)
    # a little generic cloud traffic: OS / package update checks (rpi), a few HTTPS hosts
    if profile == "rpi":
        cloud = list(random_public(rng, int(rng.integers(1, 4))))
        for _ in range(int(rng.integers(0, 6))):
            ts = rng.uniform(t0, t1)
            c = cloud[int(rng.integers(len(cloud)))]
            cap.tcp(ts, dev, c, 80, int(rng.integers(150, 400)), int(rng.integers(300, 30000)),
                    rng.uniform(0.1, 2), svc="http")


def benign_device(cap, rng, dev, router, t0, t1, kind):
    """honeypot-style benign IoT device: periodic cloud heartbeats, firmware checks, streaming"""
    background(cap, rng, dev, router, t0, t1, profile=kind)
    beh = []
    if kind == "lamp":
        # Hue-like: 443 every 900 s to two CDN addresses (empty TLS keepalive), HTTP every hour to 2 cloud hosts
        cdn = ["2.16.60.%d" % rng.integers(2, 250), "2.16.60.%d" % rng.integers(2, 250)]
        cl = list(random_public(rng, 2))
        t = t0 + rng.uniform(0, 900)
        while t < t1:
            cap.tcp(t, dev, cdn[int(rng.integers(2))], 443, 0, 0, 0.0035, state="SF")
            t += 900 + rng.normal(0, 0.4)
        t = t0 + rng.uniform(0, 3600)
        while t < t1:
            for c in cl:
                cap.tcp(t + rng.uniform(0, 0.01), dev, c, 80, 1847, int(rng.choice([1539, 791])), 0.09, svc="http")
            t += 3600 + rng.normal(0, 0.5)
        beh = ["cloud heartbeat 443/900s", "http 80/3600s"]
    elif kind == "plug":
        # Tuya-like: persistent TLS MQTT (tcp/8883) session with 30-60 s keepalives; reconnects every few hours;
        # plus an HTTPS "device config" poll every 10-30 min
        broker = pick_cnc(rng) if rng.random() < 0 else str(random_public(rng, 1)[0])
        port = int(rng.choice([8883, 1883, 443, 8886]))
        ka = rng.uniform(30, 60)
        t = t0
        while t < t1:
            d = min(rng.uniform(1800, 4 * 3600), t1 - t)
            n = int(d / ka)
            cap.tcp(t, dev, broker, port, 400 + 2 * n + int(rng.integers(0, 2000)), 3500 + 2 * n + int(rng.integers(0, 2000)), d,
                    svc="ssl" if port != 1883 else "", state=("SF" if t + d < t1 - 1 else "S1"))
            t += d + rng.uniform(1, 20)
        api = str(random_public(rng, 1)[0])
        per = rng.uniform(600, 1800)
        t = t0 + rng.uniform(0, per)
        while t < t1:
            cap.tcp(t, dev, api, 443, int(rng.integers(700, 900)), int(rng.integers(4000, 4400)), rng.uniform(0.3, 0.9), svc="ssl")
            t += per + rng.normal(0, 2)
        beh = ["mqtt session %d" % port, "https poll %.0fs" % per]
    elif kind == "camera":
        cloud = list(random_public(rng, 3))
        # persistent control session with reconnect every 1-2 h
        t = t0
        while t < t1:
            d = min(rng.uniform(3600, 7200), t1 - t)
            cap.tcp(t, dev, cloud[0], 443, int(d / 30) * 60 + 2000, int(d / 30) * 60 + 5000, d, svc="ssl")
            t += d + rng.uniform(1, 5)
        # heartbeat every 60 s to a relay over UDP (P2P relay / STUN-like)
        relay = cloud[1]
        rport = int(rng.choice([8000, 32100, 10001, 3478]))
        t = t0 + rng.uniform(0, 60)
        per = float(rng.choice([20, 30, 60]))
        while t < t1:
            cap.udp(t, dev, relay, rport, int(rng.integers(40, 60)), int(rng.integers(40, 60)))
            t += per + rng.normal(0, 0.3)
        # motion-event clip uploads
        for _ in range(int(rng.integers(5, 40))):
            ts = rng.uniform(t0, t1)
            cap.tcp(ts, dev, cloud[2], 443, int(rng.integers(400_000, 8_000_000)), int(rng.integers(3000, 8000)),
                    rng.uniform(5, 60), svc="ssl")
        beh = ["control session", "udp relay heartbeat %ds/%d" % (per, rport), "clip uploads"]
    elif kind == "speaker":
        aws = list(random_public(rng, 6))
        # connectivity check HTTP to 93.184.216.34 every 5 min
        t = t0 + rng.uniform(0, 300)
        while t < t1:
            cap.tcp(t, dev, "93.184.216.34", 80, 150, int(rng.integers(1200, 1700)), rng.uniform(0.1, 0.4), svc="http")
            t += 300 + rng.normal(0, 5)
        # many short TLS requests to the voice cloud
        t = t0
        while t < t1:
            cap.tcp(t, dev, aws[int(rng.integers(4))], 443, int(rng.integers(1500, 3000)), int(rng.integers(3000, 80000)),
                    rng.uniform(0.2, 3), svc="ssl", state=str(rng.choice(["SF", "SF", "RSTO", "S1"])))
            t += rng.exponential(240)
        # streaming sessions
        for _ in range(int(rng.integers(1, 5))):
            ts = rng.uniform(t0, t1)
            cap.tcp(ts, dev, aws[5], 443, int(rng.integers(50_000, 500_000)), int(rng.integers(20_000_000, 200_000_000)),
                    rng.uniform(600, 3600), svc="ssl")
        # ping the router
        t = t0 + 60
        while t < t1:
            cap.add(t, dev, 8, router, 0, "icmp", "", "%.6f" % rng.uniform(0.01, 0.1), "560", "560", "OTH", "", 10, 840, 10, 840)
            t += rng.uniform(200, 600)
        beh = ["http check 300s", "tls voice", "streaming"]
    elif kind == "lock":
        cap.tcp(t0 + 10, dev, str(random_public(rng, 1)[0]), 443, 900, 4200, 1.2, svc="ssl")
        t = t0 + rng.uniform(0, 600)
        while t < t1:
            cap.tcp(t, dev, router, 80, 0, 0, 0.01, state="SH")
            t += rng.uniform(300, 1200)
        beh = ["sparse"]
    # firmware / update check (every 6-24 h, occasionally a real download)
    fw = str(random_public(rng, 1)[0])
    t = t0 + rng.uniform(0, 3600 * 6)
    while t < t1:
        big = rng.random() < 0.15
        cap.tcp(t, dev, fw, 443, int(rng.integers(500, 1500)), int(rng.integers(5_000_000, 30_000_000)) if big else int(rng.integers(2000, 9000)),
                rng.uniform(20, 120) if big else rng.uniform(0.3, 2), svc="ssl")
        t += rng.uniform(6, 24) * 3600
    return beh + ["firmware check"]


# ----------------------------------------------------------------------------- malware behaviours


def scan(cap, rng, dev, t0, t1, n, ports, weights, dl="PartOfAHorizontalPortScan", rej=0.05, burst=False):
    """horizontal scan: n SYNs to random internet addresses (vectorised)"""
    if n <= 0:
        return
    if burst:   # scanning only in active phases
        k = int(rng.integers(3, 10))
        starts = np.sort(rng.uniform(t0, t1, k)); lens = rng.uniform(600, 3600, k)
        seg = rng.integers(0, k, n)
        ts = starts[seg] + rng.uniform(0, 1, n) * lens[seg]
        ts = np.minimum(ts, t1 - 1)
    else:
        ts = rng.uniform(t0, t1, n)
    dst = random_public(rng, n)
    p = np.array(ports)[rng.choice(len(ports), size=n, p=np.array(weights) / sum(weights))]
    sp = rng.integers(1024, 65535, n)
    r = rng.random(n)
    lab, d = cap.lab(dl)
    rows = cap.rows
    for i in range(n):
        if r[i] < rej:
            rows.append((float(ts[i]), dev, int(sp[i]), str(dst[i]), int(p[i]), "tcp", "", "%.6f" % (0.02 + r[i] * 3),
                         "0", "0", "REJ", "Sr", 1, 40, 1, 40, lab, d))
        else:
            rows.append((float(ts[i]), dev, int(sp[i]), str(dst[i]), int(p[i]), "tcp", "", "", "", "", "S0", "S",
                         1, 40, 0, 0, lab, d))
    # a few answered probes -> telnet brute-force sessions (short, small)
    nb = int(n * rng.uniform(0.0005, 0.003))
    for i in range(nb):
        cap.tcp(float(rng.uniform(t0, t1)), dev, str(dst[int(rng.integers(n))]), 23, int(rng.integers(20, 200)),
                int(rng.integers(20, 600)), rng.uniform(1, 30), state=str(rng.choice(["SF", "RSTO", "RSTR"])), dl="Attack")


def ddos(cap, rng, dev, t0, t1, target=None, dl="DDoS"):
    """one attack burst against one target"""
    target = target or str(random_public(rng, 1)[0])
    ts0 = rng.uniform(t0, t1 - 700)
    dur = rng.uniform(30, 600)
    kind = str(rng.choice(["udpplain", "udp", "syn", "ack", "http"]))
    if kind == "udpplain":   # one connected socket: one huge Zeek flow (cf. CTU-Malware-Capture-44-1)
        pk = int(dur * rng.uniform(2000, 8000)); size = int(rng.integers(512, 1400))
        cap.add(ts0, dev, cap.eph(), target, int(rng.integers(1, 65535)), "udp", "", "%.6f" % dur, str(pk * size), "0",
                "S0", "D", pk, pk * (size + 28), 0, 0, dl)
        n = 1
    else:
        n = int(dur * rng.uniform(20, 150))
        n = min(n, 60000)
        tts = np.sort(rng.uniform(ts0, ts0 + dur, n))
        port = int(rng.choice([80, 443, 53, 22, 8080, 3074, 27015]))
        for t in tts:
            if kind == "udp":
                size = int(rng.integers(512, 1460))
                cap.udp(float(t), dev, target, int(rng.integers(1, 65535)), size, 0, answered=False, dl=dl)
            elif kind == "http":
                cap.tcp(float(t), dev, target, 80, int(rng.integers(100, 300)), int(rng.integers(0, 2000)), rng.uniform(0.05, 2),
                        svc="http", state=str(rng.choice(["SF", "RSTO", "S1"])), dl=dl)
            else:
                cap.add(float(t), dev, int(rng.integers(1024, 65535)), target, port, "tcp", "", "", "", "", "S0",
                        "S" if kind == "syn" else "A", 1, 40 + (0 if kind == "syn" else 512), 0, 0, dl)
    return {"target": target, "kind": kind, "start": ts0, "secs": dur, "flows": n}


def file_download(cap, rng, dev, t, server, dl="FileDownload", n=None):
    n = n or int(rng.integers(1, 4))
    for k in range(n):
        cap.tcp(t + k * rng.uniform(1, 5), dev, server, 80, int(rng.integers(140, 180)), int(rng.integers(50_000, 600_000)),
                rng.uniform(0.8, 6), svc="http", dl=dl)


def cnc_session_mirai(cap, rng, dev, t0, t1, cnc, port, dl, outage_p=0.3):
    """Mirai-style: DNS (to 8.8.8.8) + one long TCP session with 2-byte keepalives every 60 s;
    dropped sessions reconnect, outages give SYN retry storms (sleep 1-10 s between attempts)"""
    t = t0
    sessions = 0; fails = 0
    while t < t1:
        cap.dns(t - 0.05, dev, "8.8.8.8", dl=None)
        if rng.random() < outage_p:    # C&C unreachable for a while
            out_end = t + rng.uniform(300, 3 * 3600)
            while t < min(out_end, t1):
                tl = cap.syn_fail(t, dev, cnc, port, dl=dl, retries=int(rng.integers(1, 3)))
                fails += 1
                t = tl + 3 + rng.uniform(1, 10)
                if rng.random() < 0.1:
                    cap.dns(t - 0.05, dev, "8.8.8.8")
            continue
        d = min(rng.exponential(4 * 3600) + 300, t1 - t)
        ka = int(d / 60)
        st = "S1" if t + d >= t1 - 1 else str(rng.choice(["SF", "RSTR", "RSTO"]))
        cap.tcp(t, dev, cnc, port, 4 + 2 * ka + int(rng.integers(1, 40)), 2 * ka, d, state=st, dl=dl)
        sessions += 1
        t += d + rng.uniform(1, 60)
    return {"sessions": sessions, "failed_attempts": fails}


def cnc_periodic(cap, rng, dev, t0, t1, cnc, port, period, jitter, up, down, dl, fail_p=0.03, proto="tcp"):
    """short connections every `period` s (relative jitter `jitter`)"""
    t = t0 + rng.uniform(0, period)
    n = 0
    while t < t1:
        if proto == "udp":
            cap.udp(t, dev, cnc, port, int(up * rng.uniform(0.8, 1.2)), int(down * rng.uniform(0.8, 1.2)), dl=dl,
                    answered=rng.random() > fail_p)
        elif rng.random() < fail_p:
            cap.syn_fail(t, dev, cnc, port, dl=dl, retries=0)
        else:
            cap.tcp(t, dev, cnc, port, max(1, int(up * rng.uniform(0.8, 1.25))), max(0, int(down * rng.uniform(0.8, 1.25))),
                    rng.uniform(0.05, 1.5), state=str(rng.choice(["SF", "SF", "SF", "RSTO", "S3"])), dl=dl)
        n += 1
        t += period * (1 + rng.uniform(-jitter, jitter))
    return n


# ----------------------------------------------------------------------------- families


def build(family, seed):
    rng = np.random.default_rng(seed * 7919 + sum(map(ord, family)))
    net = "192.168.1." if rng.random() < 0.5 else "192.168.100."
    router = net + "1"
    dev = net + str(int(rng.integers(100, 250)))
    lab_host = net + str(int(rng.integers(2, 99)))
    t0 = float(rng.integers(1530000000, 1570000000)) + rng.random()
    honeypot = family.startswith("benign")
    cap = Cap(rng, honeypot=honeypot)
    truth = {"family": family, "seed": seed, "network": net + "0/24", "infected": None if honeypot else dev,
             "device": dev, "router": router, "cnc_peers": [], "behaviours": {}}

    if honeypot:
        hours = float(rng.uniform(1.5, 24))
        t1 = t0 + hours * 3600
        kind = family.split("-", 1)[1]
        truth["behaviours"]["benign"] = benign_device(cap, rng, dev, router, t0, t1, kind)
    else:
        hours = float(rng.uniform(2, 24))
        t1 = t0 + hours * 3600
        background(cap, rng, dev, router, t0, t1, "rpi", lab_host)
        B = truth["behaviours"]
        cnc = pick_cnc(rng)
        tinf = t0 + rng.uniform(30, 900)       # the infection: download, then the bot runs
        if family in ("mirai-scan", "okiru"):
            dlsrv = cnc if rng.random() < 0.5 else pick_cnc(rng, [cnc])
            file_download(cap, rng, dev, tinf, dlsrv, dl="C&C-FileDownload" if dlsrv == cnc else "FileDownload")
            B["filedownload"] = dlsrv
            port = int(rng.choice([23, 23, 1312, 666, 5555, 9506, 4258, 6738, 3074]))
            mode = str(rng.choice(["session", "periodic", "down"]))
            if mode == "session":
                B["cnc"] = dict(mode=mode, port=port, **cnc_session_mirai(cap, rng, dev, tinf + 5, t1, cnc, port, "C&C-HeartBeat"))
            elif mode == "periodic":
                per = float(rng.uniform(20, 300)); jit = float(rng.uniform(0.02, 0.3))
                up = int(rng.integers(2, 60)); down = int(rng.integers(0, 40))
                n = cnc_periodic(cap, rng, dev, tinf + 5, t1, cnc, port, per, jit, up, down, "C&C-HeartBeat")
                B["cnc"] = dict(mode=mode, port=port, period=per, jitter=jit, up=up, down=down, flows=n)
            else:
                B["cnc"] = dict(mode=mode, port=port, **cnc_session_mirai(cap, rng, dev, tinf + 5, t1, cnc, port, "C&C", outage_p=1.0))
            truth["cnc_peers"].append(cnc)
            # Mirai reports brute-forced victims to a report server on tcp/48101
            if rng.random() < 0.5:
                rep = pick_cnc(rng, [cnc])
                nrep = int(rng.integers(3, 40))
                for _ in range(nrep):
                    cap.tcp(rng.uniform(tinf, t1), dev, rep, 48101, int(rng.integers(20, 60)), 0, rng.uniform(0.1, 1), dl="C&C")
                truth["cnc_peers"].append(rep); B["report_server"] = dict(ip=rep, flows=nrep)
            rate = rng.uniform(3, 15)
            nscan = int(min(700_000, rate * (t1 - tinf)))
            if family == "okiru":
                ports, w = [23, 2323, 37215, 52869, 8080, 80, 5555], [40, 8, 25, 15, 6, 4, 2]
            else:
                ports, w = [23, 2323], [90, 10]
            scan(cap, rng, dev, tinf + 10, t1, nscan, ports, w, burst=rng.random() < 0.3)
            B["scan"] = dict(flows=nscan, ports=ports, rate=rate)
            if rng.random() < 0.6:
                B["ddos"] = [ddos(cap, rng, dev, tinf, t1) for _ in range(int(rng.integers(1, 4)))]
        elif family == "gagfyt":
            port = int(rng.choice([666, 6667, 23, 1014, 9506, 42516, 7777, 81]))
            per = float(rng.uniform(15, 240)); jit = float(rng.uniform(0.0, 0.25))
            mode = str(rng.choice(["periodic", "session"]))
            dlsrv = pick_cnc(rng, [cnc])
            file_download(cap, rng, dev, tinf, dlsrv, dl="FileDownload")
            if mode == "periodic":
                up = int(rng.integers(4, 30)); down = int(rng.integers(4, 30))
                n = cnc_periodic(cap, rng, dev, tinf + 3, t1, cnc, port, per, jit, up, down, "C&C-HeartBeat", fail_p=0.05)
                B["cnc"] = dict(mode=mode, port=port, period=per, jitter=jit, up=up, down=down, flows=n)
            else:
                # persistent session with PING/PONG, dropped every 10-90 min, plus failures
                t = tinf + 3; ns = 0
                while t < t1:
                    d = min(rng.uniform(600, 5400), t1 - t)
                    k = int(d / per)
                    cap.tcp(t, dev, cnc, port, 30 + 5 * k, 10 + 5 * k, d, state="S1" if t + d >= t1 - 1 else "RSTR",
                            dl="C&C-HeartBeat")
                    ns += 1
                    t += d + rng.uniform(5, 60)
                    if rng.random() < 0.3:
                        for _ in range(int(rng.integers(1, 20))):
                            t = cap.syn_fail(t, dev, cnc, port, dl="C&C-HeartBeat", retries=1) + rng.uniform(1, 5)
                B["cnc"] = dict(mode=mode, port=port, ping_period=per, sessions=ns)
            truth["cnc_peers"].append(cnc)
            atk = []
            for _ in range(int(rng.integers(1, 5))):
                a = ddos(cap, rng, dev, tinf, t1)
                # the attack command arrives over the C&C
                cap.tcp(a["start"] - rng.uniform(0.1, 2), dev, cnc, port, int(rng.integers(10, 40)), int(rng.integers(20, 80)),
                        rng.uniform(0.1, 1), dl="C&C-HeartBeat-Attack")
                atk.append(a)
            B["ddos"] = atk
            if rng.random() < 0.5:
                nscan = int(rng.uniform(1, 4) * (t1 - tinf))
                scan(cap, rng, dev, tinf, t1, nscan, [23, 22, 2323], [80, 15, 5])
                B["scan"] = dict(flows=nscan, ports=[23, 22, 2323])
        elif family in ("muhstik", "ircbot"):
            port = int(rng.choice([6667, 6667, 6697, 443, 2407, 9999, 8080, 1863]))
            servers = [cnc] + ([pick_cnc(rng, [cnc])] if rng.random() < 0.4 else [])
            dlsrv = pick_cnc(rng, servers)
            file_download(cap, rng, dev, tinf, dlsrv, dl="FileDownload")
            t = tinf + 2; ns = 0; nf = 0
            ping = float(rng.uniform(90, 300))
            while t < t1:
                s = servers[int(rng.integers(len(servers)))]
                cap.dns(t - 0.1, dev, router)
                if rng.random() < 0.15:     # server refuses / unreachable
                    for _ in range(int(rng.integers(1, 6))):
                        t = cap.syn_fail(t, dev, s, port, dl="C&C", retries=int(rng.integers(0, 3))) + rng.uniform(10, 60)
                        nf += 1
                    continue
                d = min(rng.uniform(1200, 4 * 3600), t1 - t)
                k = int(d / ping)
                cap.tcp(t, dev, s, port, 120 + int(rng.integers(0, 200)) + 24 * k, 1500 + int(rng.integers(0, 3000)) + 30 * k, d,
                        svc="irc" if port != 443 else "", state="S1" if t + d >= t1 - 1 else str(rng.choice(["SF", "RSTR", "RSTO"])),
                        dl="C&C")
                ns += 1
                t += d + rng.uniform(5, 120)
            truth["cnc_peers"] += servers
            B["cnc"] = dict(mode="irc", port=port, servers=servers, sessions=ns, failed=nf, ping=ping)
            # scanning: Muhstik scans web / ssh (WebLogic 7001, 80, 8080, 22); IRCBot telnet + ssh
            ports, w = ([80, 8080, 7001, 22, 2004, 8000], [30, 25, 15, 20, 5, 5]) if family == "muhstik" else ([23, 22, 2323, 8080], [50, 35, 5, 10])
            nscan = int(rng.uniform(0.5, 6) * (t1 - tinf))
            scan(cap, rng, dev, tinf, t1, nscan, ports, w, burst=rng.random() < 0.5)
            B["scan"] = dict(flows=nscan, ports=ports)
            if family == "ircbot" and rng.random() < 0.5:
                B["ddos"] = [ddos(cap, rng, dev, tinf, t1)]
            # further module downloads
            for _ in range(int(rng.integers(0, 4))):
                file_download(cap, rng, dev, rng.uniform(tinf, t1), dlsrv, dl="FileDownload", n=1)
        elif family == "hajime":
            # BitTorrent-DHT bootstrap + lookups to many peers on random high udp ports, uTP transfers
            boots = ["67.215.246.10", "82.221.103.244", "87.98.162.88"]     # router.bittorrent/utorrent, dht.transmissionbt
            lport = int(rng.integers(1025, 65535))
            npeers = int(rng.integers(300, 3000))
            peers = random_public(rng, npeers); pports = rng.integers(1025, 65535, npeers)
            t = tinf; nb = 0
            boot_per = float(rng.uniform(600, 1800))
            while t < t1:       # bootstrap node queries (periodic-ish)
                b = boots[int(rng.integers(len(boots)))]
                cap.udp(t, dev, b, int(rng.choice([6881, 6881, 51413])), int(rng.integers(90, 110)), int(rng.integers(300, 450)),
                        op=lport, dl="C&C", answered=rng.random() > 0.1)
                nb += 1
                t += boot_per * rng.uniform(0.7, 1.3)
            ndht = int(rng.uniform(0.2, 1.5) * (t1 - tinf))
            idx = rng.integers(0, npeers, ndht)
            tts = rng.uniform(tinf, t1, ndht)
            for i in range(ndht):
                cap.udp(float(tts[i]), dev, str(peers[idx[i]]), int(pports[idx[i]]), int(rng.integers(90, 150)),
                        int(rng.integers(200, 450)), op=lport, answered=rng.random() > 0.45, dl="C&C")
            # uTP: config / module download from a few peers
            utp = []
            for _ in range(int(rng.integers(2, 10))):
                i = int(rng.integers(npeers)); p = str(peers[i]); utp.append(p)
                sz = int(rng.integers(2000, 120_000))
                cap.udp(float(rng.uniform(tinf, t1)), dev, p, int(pports[i]), int(sz * 0.08), sz, dur=rng.uniform(1, 20),
                        op=lport, dl="C&C", opk=max(2, sz // 1400 // 2), rpk=max(2, sz // 1400 + 1))
            truth["cnc_peers"] = boots + utp
            truth["cnc_note"] = "P2P: no single C&C; bootstrap DHT nodes + uTP peers (all DHT flows labelled C&C)"
            B["p2p"] = dict(listen_port=lport, peers=npeers, dht_flows=ndht, boot_queries=nb, boot_period=boot_per, utp_peers=utp)
            nscan = int(min(700_000, rng.uniform(2, 10) * (t1 - tinf)))
            scan(cap, rng, dev, tinf, t1, nscan, [23, 5358, 81, 7547], [60, 20, 10, 10])
            B["scan"] = dict(flows=nscan, ports=[23, 5358, 81, 7547])
            # inbound: other Hajime nodes query us
            for _ in range(int(rng.uniform(0.05, 0.3) * (t1 - tinf) / 10)):
                i = int(rng.integers(npeers))
                cap.udp(float(rng.uniform(tinf, t1)), str(peers[i]), dev, lport, int(rng.integers(90, 150)), int(rng.integers(200, 400)),
                        op=int(pports[i]), dl="C&C")
        elif family in ("kenjiro", "hide-and-seek"):
            lport = int(rng.integers(1025, 65535))
            npeers = int(rng.integers(20, 400))
            peers = random_public(rng, npeers); pports = rng.integers(1025, 65535, npeers)
            if family == "hide-and-seek":
                # custom UDP P2P: ping known peers every ~10-60 s round-robin, config/data exchange
                per = float(rng.uniform(3, 30))
                t = tinf; n = 0
                while t < t1:
                    i = int(rng.integers(min(npeers, 30)))       # a small, active peer list
                    cap.udp(t, dev, str(peers[i]), int(pports[i]), int(rng.integers(1, 30)), int(rng.integers(0, 30)),
                            op=lport, answered=rng.random() > 0.4, dl="C&C")
                    n += 1
                    if rng.random() < 0.02:   # config hash mismatch -> data transfer
                        cap.udp(t + 1, dev, str(peers[i]), int(pports[i]), int(rng.integers(100, 800)), int(rng.integers(1000, 60000)),
                                dur=rng.uniform(1, 10), op=lport, dl="C&C", opk=5, rpk=40)
                    t += per * rng.uniform(0.5, 1.5)
                for _ in range(int(n * rng.uniform(0.3, 1))):     # inbound peer pings
                    i = int(rng.integers(npeers))
                    cap.udp(float(rng.uniform(tinf, t1)), str(peers[i]), dev, lport, int(rng.integers(1, 30)), int(rng.integers(1, 30)),
                            op=int(pports[i]), dl="C&C")
                truth["cnc_peers"] = [str(p) for p in peers[:min(npeers, 30)]]
                truth["cnc_note"] = "P2P: no single C&C; active peer list"
                B["p2p"] = dict(listen_port=lport, peers=npeers, period=per, flows=n)
                ports, w = [23, 2323, 80, 8080, 81, 5555, 37215], [50, 10, 15, 10, 5, 5, 5]
            else:
                # Kenjiro: C&C heartbeat to one server + a couple of fallbacks
                port = int(rng.choice([23, 443, 1024, 6666, 8443, 31337]))
                per = float(rng.uniform(30, 600)); jit = float(rng.uniform(0.05, 0.5))
                n = cnc_periodic(cap, rng, dev, tinf, t1, cnc, port, per, jit, int(rng.integers(10, 80)), int(rng.integers(10, 120)),
                                 "C&C-HeartBeat", fail_p=0.1)
                fb = pick_cnc(rng, [cnc])
                nfb = 0
                for _ in range(int(rng.integers(0, 30))):
                    cap.syn_fail(float(rng.uniform(tinf, t1)), dev, fb, port, dl="C&C", retries=1); nfb += 1
                truth["cnc_peers"] = [cnc, fb]
                B["cnc"] = dict(mode="periodic", port=port, period=per, jitter=jit, flows=n, fallback=fb, fallback_attempts=nfb)
                ports, w = [23, 2323, 37215, 52869, 80, 8080], [50, 10, 15, 10, 10, 5]
            nscan = int(min(800_000, rng.uniform(3, 15) * (t1 - tinf)))
            scan(cap, rng, dev, tinf, t1, nscan, ports, w, burst=rng.random() < 0.3)
            B["scan"] = dict(flows=nscan, ports=ports)
            if rng.random() < 0.5:
                file_download(cap, rng, dev, tinf, pick_cnc(rng, [cnc]), dl="FileDownload")
        elif family == "torii":
            port = int(rng.choice([443, 443, 993, 995]))
            dlsrv = pick_cnc(rng, [cnc])
            file_download(cap, rng, dev, tinf, dlsrv, dl="FileDownload", n=1)
            t = tinf + rng.uniform(10, 300); ns = 0; nf = 0
            while t < t1:
                if rng.random() < 0.35:
                    t = cap.syn_fail(t, dev, cnc, port, dl="C&C-Torii", retries=int(rng.integers(1, 4))) + rng.uniform(60, 300)
                    nf += 1
                    continue
                d = min(rng.uniform(1800, 6 * 3600), t1 - t)
                k = int(d / 300)
                cap.tcp(t, dev, cnc, port, 600 + 180 * k + int(rng.integers(0, 3000)), 900 + 150 * k + int(rng.integers(0, 50000)), d,
                        svc="ssl" if rng.random() < 0.5 else "", state="S1" if t + d >= t1 - 1 else "SF", dl="C&C-Torii")
                ns += 1
                t += d + rng.uniform(30, 900)
            truth["cnc_peers"] = [cnc]
            B["cnc"] = dict(mode="tls-sessions", port=port, sessions=ns, failed=nf)
        else:
            raise SystemExit("unknown family " + family)
    truth["hours"] = hours
    truth["t0"] = t0
    return cap, truth


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", required=True, choices=FAMILIES)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cap, truth = build(a.family, a.seed)
    n = cap.write(a.out)
    labs = {}
    for r in cap.rows:
        labs[r[17]] = labs.get(r[17], 0) + 1
    truth["flows"] = n
    truth["labels"] = labs
    tj = os.path.splitext(a.out)[0] + ".truth.json"
    with open(tj, "w") as f:
        json.dump(truth, f, indent=1, default=str)
    print("%s seed %d: %d flows, %.1f h -> %s" % (a.family, a.seed, n, truth["hours"], a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
