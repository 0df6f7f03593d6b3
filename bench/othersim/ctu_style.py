#!/usr/bin/env python3
"""ctu_style: a short (15-20 min) CTU-13-style campus capture, Argus binetflow with per-flow labels.

    python3 ctu_style.py --seed N --out DIR

Writes DIR/capture.binetflow and DIR/truth.json ({"bots": [...], "normal": [...], "background_roles": {...}}).
A university /16 (147.32.0.0/16) with hundreds of background hosts (campus and external; many periodic
services), ~6 known normal hosts (labelled From-Normal) and 1-5 bots (labelled From-Botnet): IRC or HTTP
C&C, then spam, ICMP/UDP DDoS or scanning.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from othersim import PFX, Net, ip4, ip_str, lognorm, periodic  # noqa: E402

HEADER = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label"


class Cap:
    def __init__(self):
        self.cols = {k: [] for k in ("t", "dur", "proto", "src", "sport", "dir", "dst", "dport", "state", "pkts", "tot", "srcb", "label")}

    def add(self, t, dur, proto, src, sport, dir_, dst, dport, state, pkts, tot, srcb, label):
        t = np.atleast_1d(np.asarray(t, float))
        n = len(t)
        if n == 0:
            return
        bc = lambda v: np.broadcast_to(np.asarray(v), (n,)).copy()
        for k, v in zip(self.cols, (t, dur, proto, src, sport, dir_, dst, dport, state, pkts, tot, srcb, label)):
            self.cols[k].append(bc(v))

    def write(self, path, t_lo, t_hi):
        c = {k: np.concatenate(v) for k, v in self.cols.items()}
        keep = (c["t"] >= t_lo) & (c["t"] < t_hi)
        c = {k: v[keep] for k, v in c.items()}
        o = np.argsort(c["t"], kind="stable")
        c = {k: v[o] for k, v in c.items()}
        ts = np.datetime_as_string((c["t"] * 1e6).astype("int64").astype("datetime64[us]"), unit="us")
        ts = np.char.replace(np.char.replace(ts, "-", "/"), "T", " ")
        tot = np.maximum(c["tot"].astype(np.int64), c["srcb"].astype(np.int64))
        src = c["src"].astype(np.int64)
        self.campus_sources = sorted(ip_str(x) for x in np.unique(src[(src >> 16) == ((147 << 8) | 32)]))
        with open(path, "w") as f:
            f.write(HEADER + "\n")
            ips = {}
            s_ = lambda x: ips.setdefault(x, ip_str(x))
            for i in range(len(ts)):
                f.write(f"{ts[i]},{c['dur'][i]:.6f},{c['proto'][i]},{s_(int(c['src'][i]))},{c['sport'][i]},{c['dir'][i]},"
                        f"{s_(int(c['dst'][i]))},{c['dport'][i]},{c['state'][i]},0,0,{int(c['pkts'][i])},{int(tot[i])},"
                        f"{int(c['srcb'][i])},{c['label'][i]}\n")
        return len(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=None,
                    help="capture length (default: drawn between 15 and 20 minutes, as CTU-13's short captures)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed + 424242)
    net = Net(rng)
    V = int(rng.integers(40, 60))  # scenario number in labels
    T0 = float(1313488846 + int(rng.integers(0, 200)) * 86400 + rng.uniform(0, 8 * 3600))  # Aug 2011 + days, daytime UTC
    D = float(rng.uniform(900, 1200))
    if a.minutes:
        D = a.minutes * 60.0
    T1 = T0 + D
    cap = Cap()
    camp = lambda c, d: ip4(147, 32, c, d)
    roles = {}
    # campus infrastructure
    dns_srv = camp(80, 9)
    ntp_srv = camp(80, 14)
    mail_srv = camp(80, 23)
    nagios = camp(80, 41)
    web_srvs = [camp(80, 2), camp(83, 234), camp(87, 36)]
    ssh_srvs = [camp(82, 10), camp(86, 11), camp(96, 69)]
    roles.update({ip_str(dns_srv): "campus DNS resolver", ip_str(ntp_srv): "NTP server", ip_str(mail_srv): "mail server (IMAP/POP/SMTP)",
                  ip_str(nagios): "monitoring (Nagios) polling 100+ hosts every 60 s"})
    for w in web_srvs:
        roles[ip_str(w)] = "campus web server"
    for s in ssh_srvs:
        roles[ip_str(s)] = "campus ssh server (internet-exposed)"
    # normal (labelled) hosts
    normals = [camp(84, 170), camp(84, 134), camp(84, 164), camp(87, 36), dns_srv, camp(87, 11)]
    # bots
    nb = int(rng.integers(1, 6))
    bots = [camp(84, 165 + i) if i < 4 else camp(84, 191 + i) for i in range(nb)]
    behaviour = str(rng.choice(["spam", "icmp_ddos", "udp_ddos", "scan"]))
    cc_kind = str(rng.choice(["irc", "http"]))
    # background campus hosts
    nbg = int(rng.integers(200, 600))
    subnets = [80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 96, 97, 98]
    bg = set()
    while len(bg) < nbg:
        x = camp(int(rng.choice(subnets)), int(rng.integers(2, 255)))
        if x not in bots and x not in normals and x not in (dns_srv, ntp_srv, mail_srv, nagios):
            bg.add(x)
    bg = np.array(sorted(bg), dtype=np.int64)
    act = lognorm(rng, 1.0, 1.0, len(bg))
    sites = net.ext(["cloudflare", "akamai", "aws", "google", "eu_isp", "us_isp", "hetzner", "ovh", "asia", "microsoft", "meta"], 6000)
    sp = 1.0 / np.arange(1, 6001) ** 1.1
    scdf = np.cumsum(sp / sp.sum())
    pick_site = lambda n: sites[np.minimum(np.searchsorted(scdf, rng.random(n)), 5999)]
    sport = lambda n: rng.integers(1025, 65535, n)

    def tcp_web(src, n, label, t=None, port=None):
        t = rng.uniform(T0, T1, n) if t is None else t
        dst = pick_site(n)
        dport = np.where(rng.random(n) < 0.6, 80, 443) if port is None else port
        sb = lognorm(rng, 700, 0.8, n)
        db = lognorm(rng, 12000, 1.6, n)
        failed = rng.random(n) < 0.03
        db[failed] = 0
        sb[failed] = 62
        state = np.where(failed, "S_", np.where(rng.random(n) < 0.7, "FSPA_FSPA", "SRPA_SPA"))
        pk = np.maximum(1, (sb + db) / 700).astype(int) + 2
        cap.add(t, lognorm(rng, 2.0, 1.5, n), "tcp", src, sport(n), "   ->", dst, dport, state, pk, sb + db, sb, label)

    def dns(src, n, label, t=None, srv=dns_srv):
        t = rng.uniform(T0, T1, n) if t is None else t
        q = rng.integers(60, 100, n)
        cap.add(t, rng.uniform(0.0003, 0.05, n), "udp", src, sport(n), "  <->", srv, 53, "CON", 2, q + rng.integers(40, 300, n), q, label)

    # ---- background campus clients: web + dns (Zipf activity), forwarding by the resolver
    nweb = rng.poisson(act * 120 * D / 1000)
    for i, h in enumerate(bg):
        if nweb[i]:
            tcp_web(h, int(nweb[i]), "flow=Background-TCP-Established")
            dns(h, int(nweb[i] // 2 + 1), "flow=Background-UDP-Established")
    # resolver upstream
    k = int(len(bg) * 20 * D / 1000)
    cap.add(rng.uniform(T0, T1, k), 0.02, "udp", dns_srv, sport(k), "  <->", net.ext(["aws", "eu_isp", "us_isp", "cloudflare", "asia"], 800)[rng.integers(0, 800, k)],
            53, "CON", 2, rng.integers(150, 500, k), rng.integers(60, 100, k), "flow=From-Normal-V%d-UDP-CVUT-DNS-Server" % V)
    # ---- periodic services
    ntp_clients = bg[rng.random(len(bg)) < 0.4]
    for h in ntp_clients:
        ts = periodic(rng, T0 - 1024, T1, float(rng.choice([64, 128, 256, 512, 1024])), 0.01)
        cap.add(ts, 0.001, "udp", h, 123, "  <->", ntp_srv, 123, "CON", 2, 180, 90, "flow=Background-UDP-Established")
    for p in net.ext(["eu_isp", "hetzner"], 4):
        ts = periodic(rng, T0 - 64, T1, 64.0, 0.01)
        cap.add(ts, 0.02, "udp", ntp_srv, 123, "  <->", p, 123, "CON", 2, 180, 90, "flow=Background-UDP-Established")
    polled = rng.choice(np.concatenate([bg, np.array(web_srvs + ssh_srvs + [mail_srv, dns_srv])]), min(len(bg), 150), replace=False)
    roles[ip_str(nagios)] = f"monitoring (Nagios) polling {len(polled)} hosts every 60 s (ICMP + tcp/80 check)"
    for h in polled:
        ts = periodic(rng, T0 - 60, T1, 60.0, 0.005)
        cap.add(ts, 0.001, "icmp", nagios, "0x0008", "  <->", h, "0x5c1d", "ECO", 2, 196, 98, "flow=Background")
        if h in web_srvs:
            cap.add(ts + 1, 0.01, "tcp", nagios, sport(len(ts)), "   ->", h, 80, "FSPA_FSPA", 10, 1500, 400, "flow=Background-TCP-Established")
    mail_pollers = bg[rng.random(len(bg)) < 0.1]
    for h in mail_pollers:
        ts = periodic(rng, T0 - 60, T1, float(rng.choice([60, 120, 300])), 0.02)
        cap.add(ts, 0.2, "tcp", h, sport(len(ts)), "   ->", mail_srv, int(rng.choice([993, 110, 143])), "FSPA_FSPA", 14, 3500, 1200,
                "flow=Background-TCP-Established")
        roles[ip_str(h)] = "mail client polling every minute or so"
    keepalive = bg[rng.random(len(bg)) < 0.15]
    im = net.ext(["microsoft", "aws", "eu_isp"], 10)
    for h in keepalive:
        ts = periodic(rng, T0 - 60, T1, float(rng.choice([30, 45, 60, 180])), 0.03)
        cap.add(ts, 0.1, "tcp", h, sport(len(ts)), "   ->", im[int(h) % 10], int(rng.choice([5222, 443, 1863, 5228])), "SRPA_SPA", 4, 300, 150,
                "flow=Background-TCP-Established")
        roles.setdefault(ip_str(h), "software keep-alive (IM/push) every 30-180 s")
    # broadcasts: NetBIOS, Dropbox LAN sync, SSDP
    for h in bg[rng.random(len(bg)) < 0.3]:
        ts = periodic(rng, T0 - 30, T1, 30.0, 0.05)
        kind = int(rng.integers(0, 3))
        dst, port = [(ip4(147, 32, 255, 255), 137), (ip4(255, 255, 255, 255), 17500), (ip4(239, 255, 255, 250), 1900)][kind]
        cap.add(ts, 0.0, "udp", h, port, "   ->", dst, port, "INT", 1, 250, 250, "flow=Background-UDP-NotEstablished")
    # P2P clients: many UDP peers (DHT), fan-out
    p2p = bg[rng.random(len(bg)) < 0.02]
    for h in p2p:
        k = int(rng.integers(500, 4000))
        peers = net.ext(["residential", "asia", "latam", "eu_isp", "us_isp"], min(k, 1500))
        cap.add(rng.uniform(T0, T1, k), rng.exponential(2, k), "udp", h, 51413, "  <->", peers[rng.integers(0, len(peers), k)],
                rng.integers(1025, 65535, k), np.where(rng.random(k) < 0.5, "CON", "INT"), 2, rng.integers(100, 400, k), rng.integers(60, 150, k),
                "flow=Background-UDP-Established")
        roles[ip_str(h)] = "BitTorrent client (DHT fan-out to many peers)"
    # inbound: web servers, ssh background guessing, scanners
    visitors = net.ext(["residential", "eu_isp", "us_isp", "asia"], 3000)
    for w in web_srvs:
        k = int(rng.integers(2000, 8000) * D / 1000)
        v = visitors[rng.integers(0, 3000, k)]
        sb = lognorm(rng, 500, 0.5, k)
        db = lognorm(rng, 15000, 1.5, k)
        lab = "flow=From-Normal-V%d-Jist" % V if w == camp(87, 36) else "flow=Background-TCP-Established"
        cap.add(rng.uniform(T0, T1, k), lognorm(rng, 1, 1, k), "tcp", v, sport(k), "   ->", w, 80, "FSPA_FSPA", 12, sb + db, sb,
                "flow=Background-TCP-Established")
        # the web server's own outbound (to CDNs, updates)
        if w == camp(87, 36):
            tcp_web(w, int(30 * D / 1000), lab)
    for s in ssh_srvs:
        for b in net.ext(["hosting_bad", "asia", "latam"], int(rng.integers(1, 5))):
            k = int(rng.integers(5, 80))
            cap.add(rng.uniform(T0, T1, k), rng.uniform(1, 5, k), "tcp", b, sport(k), "   ->", s, 22, "FSPA_FSPA", 25, lognorm(rng, 4500, 0.2, k),
                    lognorm(rng, 2000, 0.2, k), "flow=Background-TCP-Established")
    scn = net.ext(["hosting_bad", "asia", "latam", "digitalocean"], int(rng.integers(20, 80)))
    for s in scn:
        k = int(rng.integers(5, 300))
        cap.add(rng.uniform(T0, T1, k), 0.0, "tcp", s, sport(k), "   ->", camp(0, 0) + rng.integers(0, 65536, k), int(rng.choice([22, 23, 445, 3389, 80, 8080])),
                "S_", 1, 60, 60, "flow=Background-Attempt-cmpgw-CVUT")
    # ---- labelled normal hosts
    for j, h in enumerate(normals):
        if h == dns_srv or h == camp(87, 36):
            continue
        name = ["Stribrek", "Grill", "Jist", "MatLab-Server", "CVUT-DNS-Server", "Jist"][j]
        lab = "flow=From-Normal-V%d-%s" % (V, name)
        n = int(rng.integers(150, 900) * D / 1000)
        tcp_web(h, n, lab)
        dns(h, n // 2, "flow=From-Normal-V%d-UDP-CVUT-DNS-Server" % V)
        ts = periodic(rng, T0 - 60, T1, 60.0, 0.02)
        cap.add(ts, 0.3, "tcp", h, sport(len(ts)), "   ->", mail_srv, 993, "FSPA_FSPA", 14, 3500, 1200, lab)
        ts = periodic(rng, T0 - 64, T1, 64.0, 0.01)
        cap.add(ts, 0.001, "udp", h, 123, "  <->", ntp_srv, 123, "CON", 2, 180, 90, lab)
    # ---- bots
    cc = net.ext("hosting_bad", 1)[0]
    bl = lambda what: f"flow=From-Botnet-V{V}-{what}"
    mx = net.ext(["eu_isp", "us_isp", "asia", "latam", "google", "microsoft"], 2000)
    target = net.ext(["us_isp", "eu_isp", "asia"], 1)[0]
    for b in bots:
        st = rng.uniform(T0 - 30, T0 + 120)
        if cc_kind == "irc":
            # persistent IRC session (one long record) + periodic re-joins
            cap.add([st], T1 - st, "tcp", b, int(rng.integers(1025, 65535)), "   ->", cc, 6667, "SRPA_SPA", 200, 30000, 9000, bl("TCP-CC1-IRC"))
            ts = periodic(rng, st, T1, float(rng.uniform(60, 200)), 0.1)
            cap.add(ts, rng.uniform(0.5, 3, len(ts)), "tcp", b, sport(len(ts)), "   ->", cc, 6667, "FSPA_FSPA", 8, 900, 400, bl("TCP-CC2-IRC"))
        else:
            period = float(rng.uniform(10, 120))
            ts = periodic(rng, st, T1, period, float(rng.uniform(0, 0.3)))
            cap.add(ts, rng.uniform(0.2, 2, len(ts)), "tcp", b, sport(len(ts)), "   ->", cc, 80, "FSPA_FSPA", 10, lognorm(rng, 1800, 0.2, len(ts)),
                    lognorm(rng, 600, 0.2, len(ts)), bl("TCP-CC6-Plain-HTTP-Encrypted-Data"))
        dns(b, int(rng.integers(20, 200)), bl("UDP-DNS"))
        if behaviour == "spam":
            k = int(rng.integers(300, 3000) * D / 1000)
            ok = rng.random(k) < 0.6
            sb = np.where(ok, lognorm(rng, 4000, 0.6, k), 62)
            db = np.where(ok, lognorm(rng, 800, 0.3, k), 0)
            cap.add(rng.uniform(st, T1, k), np.where(ok, 3.0, 9.0), "tcp", b, sport(k), "   ->", mx[rng.integers(0, 2000, k)], 25,
                    np.where(ok, "FSPA_FSPA", "S_"), np.where(ok, 20, 3), sb + db, sb, np.where(ok, bl("TCP-Established-SPAM"), bl("TCP-Attempt-SPAM")))
        elif behaviour == "icmp_ddos":
            k = int(rng.integers(2000, 20000) * D / 1000)
            cap.add(rng.uniform(st + 200, T1, k), 0.0, "icmp", b, "0x0008", "   ->", target, "0x0000", "ECO", 1, 1066, 1066, bl("ICMP-Attempt"))
        elif behaviour == "udp_ddos":
            k = int(rng.integers(2000, 20000) * D / 1000)
            cap.add(rng.uniform(st + 200, T1, k), 0.0, "udp", b, sport(k), "   ->", target, rng.integers(1, 65535, k), "INT", 1, 1066, 1066,
                    bl("UDP-Attempt"))
        else:
            k = int(rng.integers(1000, 10000) * D / 1000)
            port = int(rng.choice([445, 135, 139, 22]))
            tg = np.where(rng.random(k) < 0.5, camp(0, 0) + rng.integers(0, 65536, k), net.any_public(k))
            rst = rng.random(k) < 0.1
            cap.add(rng.uniform(st + 100, T1, k), np.where(rst, 0.001, 3.0), "tcp", b, sport(k), "   ->", tg, port, np.where(rst, "S_RA", "S_"),
                    np.where(rst, 2, 3), np.where(rst, 122, 186), np.where(rst, 62, 186), bl("TCP-Attempt"))
    n = cap.write(os.path.join(a.out, "capture.binetflow"), T0, T1)
    truth = {"bots": [ip_str(b) for b in bots], "normal": [ip_str(h) for h in normals], "background_roles": roles,
             "campus_sources": cap.campus_sources,
             "config": {"seed": a.seed, "scenario": V, "start": T0, "duration_secs": round(D), "background_campus_hosts": int(len(bg)),
                        "bots": nb, "cc": cc_kind, "bot_behaviour": behaviour, "flows": n, "cc_ip": ip_str(cc)}}
    json.dump(truth, open(os.path.join(a.out, "truth.json"), "w"), indent=1)
    print(json.dumps(truth["config"]))


if __name__ == "__main__":
    main()
