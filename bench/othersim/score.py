#!/usr/bin/env python3
"""Score flowhound findings against othersim / ctu_style ground truth, at host level.

    python3 score.py corp DIR      # DIR has truth.json + findings.json (othersim.py)
    python3 score.py ctu DIR       # DIR has truth.json + findings.json + eval.json (ctu_style.py)

Writes DIR/score.json and prints a one-line summary.
A host is "flagged" when some finding at medium or above lists it in `hosts`.
Collateral hosts (an internal resolver / proxy relaying an attack) count neither as hits nor as false
positives; they are listed apart.
"""
import ipaddress
import json
import os
import sys

SPECIFIC_MAX = 10
SEV = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def load_findings(path):
    doc = json.load(open(path))
    per_host = {}
    for f in doc.get("findings", []):
        for h in f.get("hosts", []):
            per_host.setdefault(h, []).append(f)
    return doc, per_host


def brief(f, n=400):
    ex = (f.get("evidence") or {}).get("explanation", "")
    return {"kind": f["kind"], "detector": f.get("detector"), "severity": f["severity"], "score": round(f["score"], 3),
            "n_hosts": len(f.get("hosts", [])),
            "peers": f.get("peers", [])[:3], "explanation": ex[:n]}


def max_sev(fs):
    return max((SEV[f["severity"]] for f in fs), default=-1)


def score_corp(d):
    truth = json.load(open(os.path.join(d, "truth.json")))
    doc, per_host = load_findings(os.path.join(d, "findings.json"))
    cfg = truth["config"]
    mal = {}
    for m in truth["malicious"]:
        mal.setdefault(m["ip"], []).append(m)
    att = {}
    for a in truth["attacked"]:
        att.setdefault(a["ip"], []).append(a)
    bad = set(mal) | set(att)
    collateral = {c["ip"]: c["why"] for c in truth.get("collateral", [])}
    roles = dict(truth.get("benign_roles", {}))
    roles.update(truth.get("malicious_roles", {}))
    nets = [ipaddress.ip_network(n) for n in truth["internal"]]
    is_int = lambda h: any(ipaddress.ip_address(h) in n for n in nets)
    attack_sources = {s for a in truth["attacked"] for s in a.get("source_ips", [])}
    external_blamed = [{"ip": h, "attack_source": h in attack_sources, "findings": [brief(f, 200) for f in fs if SEV[f["severity"]] >= 1]}
                       for h, fs in per_host.items() if not is_int(h) and max_sev(fs) >= 1]
    flagged = {h for h, fs in per_host.items() if max_sev(fs) >= 1 and is_int(h)}
    # "specific": flagged by a finding that names at most SPECIFIC_MAX hosts (not only by a network-wide cluster)
    specific = {h for h in flagged if any(SEV[f["severity"]] >= 1 and len(f.get("hosts", [])) <= SPECIFIC_MAX for f in per_host[h])}
    phantom = {h for h in flagged - bad - set(collateral) if h not in roles}  # blamed addresses no simulated host has
    tp = flagged & bad
    fp = flagged - bad - set(collateral) - phantom
    fp_findings = {}
    for f in doc.get("findings", []):
        hs = [h for h in f.get("hosts", []) if is_int(h)]
        if SEV[f["severity"]] >= 1 and hs and not (set(hs) & bad) and not set(hs) <= set(collateral):
            fp_findings[f["kind"]] = fp_findings.get(f["kind"], 0) + 1
    recall = len(tp) / len(bad) if bad else 1.0
    prec = len(tp) / (len(tp) + len(fp)) if (tp or fp) else 1.0
    fps = []
    for h in sorted(fp, key=lambda h: -max_sev(per_host[h])):
        fs = [f for f in per_host[h] if SEV[f["severity"]] >= 1]
        fs.sort(key=lambda f: -f["score"])
        fps.append({"ip": h, "role": roles.get(h, "(unknown: not a simulated host)"), "max_severity": fs[0]["severity"],
                    "findings": [brief(f) for f in fs]})
    behaviours = []
    for ip, ms in mal.items():
        for m in ms:
            fs = per_host.get(ip, [])
            behaviours.append({"ip": ip, "behaviour": m["behaviour"], "truth": m, "flagged": ip in flagged, "specific": ip in specific,
                               "max_severity": ["none", "low", "medium", "high", "critical"][max_sev(fs) + 1],
                               "findings": [brief(f, 300) for f in sorted(fs, key=lambda f: -f["score"])][:5]})
    for ip, as_ in att.items():
        for a in as_:
            fs = per_host.get(ip, [])
            behaviours.append({"ip": ip, "behaviour": "inbound " + a["behaviour"].replace("inbound ", ""), "truth": a, "flagged": ip in flagged,
                               "specific": ip in specific,
                               "max_severity": ["none", "low", "medium", "high", "critical"][max_sev(fs) + 1],
                               "findings": [brief(f, 300) for f in sorted(fs, key=lambda f: -f["score"])][:5]})
    coll = [{"ip": ip, "why": why, "flagged": ip in flagged,
             "findings": [brief(f, 300) for f in per_host.get(ip, []) if SEV[f["severity"]] >= 1]} for ip, why in collateral.items()]
    out = {
        "seed": cfg["seed"], "hosts": cfg["hosts"], "clients": cfg["clients_count"], "flows_per_client_day": cfg["flows_per_client_day"],
        "normal_flows": cfg["normal_flows"], "test_flows": cfg["test_flows"], "server_flows": cfg["server_flows"],
        "attacks": cfg["attacks"], "bad_hosts": len(bad), "flagged": len(flagged), "tp": len(tp), "fp": len(fp),
        "precision": round(prec, 3), "recall": round(recall, 3),
        "recall_specific": round(len(specific & bad) / len(bad), 3) if bad else 1.0,
        "precision_specific": round(len(specific & bad) / max(len(specific & bad) + len(specific & fp), 1), 3),
        "benign_specific_medium_plus": len(specific & fp),
        "benign_high": sum(1 for x in fps if SEV[x["max_severity"]] >= 2),
        "benign_medium": sum(1 for x in fps if x["max_severity"] == "medium"),
        "phantom_blamed": len(phantom), "fp_findings": sum(fp_findings.values()), "fp_findings_by_kind": fp_findings,
        "per_severity": doc.get("per_severity"), "false_positives": fps, "behaviours": behaviours, "collateral": coll,
        "external_blamed": external_blamed,
        "config": cfg,
    }
    json.dump(out, open(os.path.join(d, "score.json"), "w"), indent=1)
    return out


def score_ctu(d):
    truth = json.load(open(os.path.join(d, "truth.json")))
    doc, per_host = load_findings(os.path.join(d, "findings.json"))
    bots, normals = set(truth["bots"]), set(truth["normal"])
    flag = lambda lvl: {h for h, fs in per_host.items() if max_sev(fs) >= lvl}
    med, high = flag(1), flag(2)
    sources = set(truth.get("campus_sources", []))
    bg_med = sorted(h for h in med - bots - normals if h in sources)
    bg_high = sorted(h for h in high - bots - normals if h in sources)
    phantom_med = sorted(h for h in med - bots - normals if h not in sources)
    roles = truth.get("background_roles", {})
    ev = json.load(open(os.path.join(d, "eval.json"))) if os.path.exists(os.path.join(d, "eval.json")) else None
    out = {"seed": truth["config"]["seed"], "bots": len(bots), "bot_behaviours": truth["config"]["bot_behaviour"],
           "bots_flagged_medium": len(bots & med), "bots_flagged_high": len(bots & high),
           "normal_flagged_high": sorted(normals & high), "normal_flagged_medium": sorted(normals & med),
           "background_flagged_medium": len(bg_med), "background_flagged_high": len(bg_high), "background_hosts": len(sources - bots - normals),
           "phantom_flagged_medium": len(phantom_med),
           "phantom_kinds": sorted({f["kind"] for h in phantom_med for f in per_host[h] if SEV[f["severity"]] >= 1}),
           "flows": truth["config"]["flows"],
           "background_fp": [{"ip": h, "role": roles.get(h, "(unlisted)"), "max_severity": ["low", "medium", "high", "critical"][max_sev(per_host[h])],
                              "findings": [brief(f, 300) for f in per_host[h] if SEV[f["severity"]] >= 1]} for h in bg_med],
           "normal_fp": [{"ip": h, "findings": [brief(f, 300) for f in per_host[h] if SEV[f["severity"]] >= 1]} for h in sorted(normals & med)],
           "bot_detail": [{"ip": h, "findings": [brief(f, 300) for f in per_host.get(h, [])][:4]} for h in sorted(bots)],
           "evaluate": ev}
    json.dump(out, open(os.path.join(d, "score.json"), "w"), indent=1)
    return out


if __name__ == "__main__" and sys.argv[1] != "report":
    mode, d = sys.argv[1], sys.argv[2]
    if mode == "corp":
        o = score_corp(d)
        print(f"seed {o['seed']}: hosts {o['hosts']} flows {o['normal_flows']}/{o['test_flows']}+{o['server_flows']} "
              f"P {o['precision']} R {o['recall']} benign_high {o['benign_high']} benign_medium {o['benign_medium']} attacks {o['attacks']}")
    else:
        o = score_ctu(d)
        print(f"ctu seed {o['seed']}: bots {o['bots_flagged_medium']}/{o['bots']} normal_high {len(o['normal_flagged_high'])} "
              f"background medium+ {o['background_flagged_medium']} high+ {o['background_flagged_high']}")


# ------------------------------------------------------------------------------------------------
# Report over many runs:  python3 score.py report RUN_DIR... > report.md
# ------------------------------------------------------------------------------------------------
def base_role(r):
    return r.split(" (+")[0].split(" (visited")[0].split(" (stale")[0].split(" (new legit")[0]


def report(dirs):
    import datetime
    import statistics
    corp = [json.load(open(os.path.join(d, "score.json"))) for d in dirs if os.path.exists(os.path.join(d, "score.json")) and "corp" in os.path.basename(d)]
    ctu = [json.load(open(os.path.join(d, "score.json"))) for d in dirs if os.path.exists(os.path.join(d, "score.json")) and "ctu" in os.path.basename(d)]
    L = []
    p = L.append
    p(f"# othersim sweep report ({datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M UTC')})\n")
    p("## Corporate simulator: per configuration\n")
    p("Host level: a host is flagged when a finding at medium or above lists it. Precision counts simulated hosts only; "
      "'phantom' = blamed internal addresses that no simulated host has (scan targets pulled into a finding). "
      "'FP findings' = findings at medium+ that blame no malicious/attacked host (by kind).\n")
    p("| seed | hosts | clients | flows/client/day | normal flows | test flows | server flows | timeout s | proxy | scanner | attacks | bad hosts | precision | recall | benign high+ | benign medium | phantom | FP findings | recall (specific) | precision (specific) | benign medium+ (specific) |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for o in sorted(corp, key=lambda o: o["seed"]):
        c = o["config"]
        p(f"| {o['seed']} | {o['hosts']} | {o['clients']} | {o['flows_per_client_day']} | {o['normal_flows']} | {o['test_flows']} | {o['server_flows']} | "
          f"{int(c['active_timeout_secs'])} | {'y' if c['proxy'] else 'n'} | {c['scanner']} | {', '.join(o['attacks'])} | {o['bad_hosts']} | "
          f"{o['precision']:.3f} | {o['recall']:.3f} | {o['benign_high']} | {o['benign_medium']} | {o['phantom_blamed']} | "
          f"{o['fp_findings']} ({', '.join(f'{k}:{v}' for k, v in sorted(o['fp_findings_by_kind'].items(), key=lambda x: -x[1]))}) | "
          f"{o['recall_specific']:.3f} | {o['precision_specific']:.3f} | {o['benign_specific_medium_plus']} |")
    if corp:
        P = [o["precision"] for o in corp]
        R = [o["recall"] for o in corp]
        RS = [o["recall_specific"] for o in corp]
        PS = [o["precision_specific"] for o in corp]
        p(f"\nmedian recall (specific) {statistics.median(RS):.3f} (worst {min(RS):.3f}), median precision (specific) {statistics.median(PS):.3f}; "
          f"pooled: {sum(o['tp'] for o in corp)} bad hosts flagged of {sum(o['bad_hosts'] for o in corp)}, "
          f"{sum(o['fp'] for o in corp)} benign hosts flagged, {sum(o['benign_specific_medium_plus'] for o in corp)} of them by a specific finding")
        p(f"\nmedian precision {statistics.median(P):.3f} (worst {min(P):.3f}), median recall {statistics.median(R):.3f} (worst {min(R):.3f}); "
          f"benign hosts at high+: {sum(o['benign_high'] for o in corp)} total, at medium: {sum(o['benign_medium'] for o in corp)} total; "
          f"FP findings: {sum(o['fp_findings'] for o in corp)}\n")
        tot = {}
        for o in corp:
            for k, v in o["fp_findings_by_kind"].items():
                tot[k] = tot.get(k, 0) + v
        p("FP findings by kind over the sweep: " + ", ".join(f"{k} {v}" for k, v in sorted(tot.items(), key=lambda x: -x[1])) + "\n")
    # per behaviour
    sevs = ["none", "low", "medium", "high", "critical"]
    beh = {}
    for o in corp:
        for b in o["behaviours"]:
            k = b["behaviour"].split(" (")[0] if not b["behaviour"].startswith("DDoS") else b["behaviour"]
            beh.setdefault(k, []).append(b)
    p("## Per behaviour\n")
    p(f"'specific' = flagged by a finding naming at most {SPECIFIC_MAX} hosts (i.e. not only as one member of a network-wide "
      "botnet cluster of dozens to hundreds of hosts). Kinds: findings at medium+ on the host.\n")
    p("| behaviour | instances | flagged (medium+) | recall | recall (specific) | worst severity | median severity | kinds seen |")
    p("|---|---|---|---|---|---|---|---|")
    for k, bs in sorted(beh.items()):
        idx = sorted(sevs.index(b["max_severity"]) for b in bs)
        kinds = {}
        for b in bs:
            for f in b["findings"]:
                if f["severity"] != "low":
                    kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
        p(f"| {k} | {len(bs)} | {sum(b['flagged'] for b in bs)} | {sum(b['flagged'] for b in bs)/len(bs):.2f} | "
          f"{sum(b.get('specific', False) for b in bs)/len(bs):.2f} | {sevs[idx[0]]} | {sevs[idx[len(idx)//2]]} | "
          f"{', '.join(f'{a}:{n}' for a, n in sorted(kinds.items(), key=lambda x: -x[1]))} |")
    # false positives grouped
    p("\n## False positives (benign internal hosts at medium or above), grouped by role and finding kind\n")
    groups = {}
    for o in corp:
        for fp in o["false_positives"]:
            top = fp["findings"][0]
            key = (base_role(fp["role"]), top["kind"])
            groups.setdefault(key, []).append((o, fp))
    for (role, kind), items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        sevc = {}
        for _, fp in items:
            sevc[fp["max_severity"]] = sevc.get(fp["max_severity"], 0) + 1
        seeds = sorted({o["seed"] for o, _ in items})
        p(f"### {role} — {kind}: {len(items)} hosts in {len(seeds)} configs (seeds {seeds}); severities {sevc}\n")
        shown = 0
        for o, fp in sorted(items, key=lambda x: -SEV[x[1]["max_severity"]]):
            if shown >= 4:
                break
            shown += 1
            p(f"- seed {o['seed']} {fp['ip']} ({fp['role']}), timeout {int(o['config']['active_timeout_secs'])} s:")
            for f in fp["findings"][:3]:
                p(f"  - {f['severity']} {f['kind']} [{f['detector']}] {f['explanation']}")
        p("")
    p("\n## Misses (malicious or attacked hosts not flagged at medium+, or flagged only as a member of a network-wide cluster)\n")
    for k, bs in sorted(beh.items()):
        for b in bs:
            if b.get("specific", b["flagged"]):
                continue
            t = {kk: v for kk, v in b["truth"].items() if kk not in ("source_ips", "start", "end")}
            how = "flagged only as a member of a network-wide cluster" if b["flagged"] else "not flagged at medium+"
            p(f"- **{b['behaviour']}** ({how}) seed {[o['seed'] for o in corp if b in o['behaviours']][0]} {b['ip']}: truth {json.dumps(t)}")
            if b["findings"]:
                for f in b["findings"][:3]:
                    p(f"  - flowhound said ({f['severity']}) {f['kind']}: {f['explanation']}")
            else:
                p("  - flowhound said nothing about this host")
    p("\n## Collateral (relays of an attack; not counted)\n")
    for o in corp:
        for c in o["collateral"]:
            p(f"- seed {o['seed']} {c['ip']}: {c['why']}; flagged: {c['flagged']} {[f['kind'] + '/' + f['severity'] for f in c['findings']]}")
    p("\n## External addresses blamed as hosts (server_abuse etc.)\n")
    for o in corp:
        eb = o.get("external_blamed", [])
        if eb:
            src = sum(1 for e in eb if e["attack_source"])
            ex = eb[0]["findings"][0]["explanation"][:160] if eb[0]["findings"] else ""
            p(f"- seed {o['seed']}: {len(eb)} external addresses blamed ({src} are injected attack sources). e.g. {ex}")
    if ctu:
        p("\n## CTU-style captures\n")
        p("Background = campus addresses that originate flows (neither bot nor known normal); phantom = campus addresses that only receive "
          "(scan targets) yet are blamed. Eval: `flowhound evaluate` on verdicts at the default cut (medium), 300 s windows.\n")
        p("| seed | flows | bots | behaviour | bots flagged medium+ | bots high+ | normal at high+ | normal at medium+ | background hosts | background medium+ | background high+ | phantom medium+ | eval TP/FP/TN/FN (plain) | eval FPR | eval TPR |")
        p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for o in sorted(ctu, key=lambda o: o["seed"]):
            ev = o.get("evaluate") or {}
            pl = ev.get("plain", {})
            tpr = pl.get("tp", 0) / max(pl.get("tp", 0) + pl.get("fn", 0), 1)
            fpr = pl.get("fp", 0) / max(pl.get("fp", 0) + pl.get("tn", 0), 1)
            p(f"| {o['seed']} | {o['flows']} | {o['bots']} | {o['bot_behaviours']} | {o['bots_flagged_medium']} | {o['bots_flagged_high']} | "
              f"{len(o['normal_flagged_high'])} | {len(o['normal_flagged_medium'])} | {o['background_hosts']} | {o['background_flagged_medium']} | {o['background_flagged_high']} | "
              f"{o['phantom_flagged_medium']} {o['phantom_kinds']} | "
              f"{pl.get('tp')}/{pl.get('fp')}/{pl.get('tn')}/{pl.get('fn')} | {fpr:.2f} | {tpr:.2f} |")
        p("\n### CTU-style false positives by kind\n")
        kinds = {}
        for o in ctu:
            for x in o["background_fp"] + [dict(n, role="known normal host", max_severity="?") for n in o["normal_fp"]]:
                if x["findings"]:
                    kinds.setdefault((x["role"] if "(unlisted)" not in x["role"] else "background campus client", x["findings"][0]["kind"]), []).append((o["seed"], x))
        for (role, kind), items in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
            p(f"- {role} — {kind}: {len(items)} hosts; e.g. seed {items[0][0]} {items[0][1]['ip']}: {items[0][1]['findings'][0]['severity']} "
              f"{items[0][1]['findings'][0]['explanation'][:250]}")
        p("\n### Bots\n")
        for o in ctu:
            for b in o["bot_detail"]:
                p(f"- seed {o['seed']} {b['ip']} ({o['bot_behaviours']}): " + "; ".join(f"{f['severity']} {f['kind']}" for f in b["findings"]))
    return "\n".join(L)


if __name__ == "__main__" and sys.argv[1] == "report":
    print(report(sys.argv[2:]))
