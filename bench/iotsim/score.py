#!/usr/bin/env python3
"""Run flowhound on one iotsim capture and check the targets.

usage: score.py CAPTURE.csv [--fh /tmp/iotsim/flowhound] [--outdir DIR]
Reads CAPTURE.truth.json; writes DIR/NAME.result.json; prints one JSON line.
"""
import argparse, json, os, subprocess, sys, time

SEV = {"low": 0, "medium": 1, "high": 2, "critical": 3}
CNC_KINDS = ("cnc_beacon", "cnc_channel")


def texts(f):
    ev = [f.get("evidence") or {}] + list(f.get("other_evidence") or [])
    return " ".join(str(e.get("explanation", "")) for e in ev)


def names(f, peers):
    """does finding f name one of the C&C peers (as peer or in its evidence)?"""
    fp = set(f.get("peers") or [])
    t = texts(f)
    for p in peers:
        if p in fp:
            return p
        # exact address in the explanation (avoid prefix matches)
        for sep in (" ", ":", ",", ")", ";"):
            pass
        i = t.find(p)
        while i >= 0:
            after = t[i + len(p): i + len(p) + 1]
            before = t[i - 1: i] if i else " "
            if not (after.isdigit() or after == "." and t[i + len(p) + 1: i + len(p) + 2].isdigit()) and not (before.isdigit() or before == "."):
                return p
            i = t.find(p, i + 1)
    return None


def brief(f):
    return {"kind": f["kind"], "detector": f.get("detector"), "severity": f["severity"], "score": round(f["score"], 3),
            "hosts": f.get("hosts"), "peers": (f.get("peers") or [])[:4], "flows": f.get("flows"),
            "explanation": (f.get("evidence") or {}).get("explanation", "")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("--fh", default="/tmp/iotsim/flowhound")
    ap.add_argument("--outdir", default=None)
    a = ap.parse_args()
    cap = a.capture
    base = os.path.splitext(cap)[0]
    outdir = a.outdir or os.path.dirname(os.path.abspath(cap))
    name = os.path.basename(base)
    truth = json.load(open(base + ".truth.json"))
    fj = os.path.join(outdir, name + ".findings.json")
    vc = os.path.join(outdir, name + ".verdicts.csv")
    t = time.time()
    p = subprocess.run([a.fh, "analyze", "--test", cap, "--json", fj, "--min-severity", "low", "--no-rdns",
                        "--verdicts", vc, "--color", "never"], capture_output=True, text=True)
    secs = time.time() - t
    res = {"capture": name, "family": truth["family"], "seed": truth["seed"], "flows": truth["flows"],
           "hours": round(truth["hours"], 1), "secs": round(secs, 2), "flows_per_s": round(truth["flows"] / max(secs, 1e-6)),
           "exit": p.returncode}
    if p.returncode != 0:
        res["error"] = p.stderr[-2000:]
        print(json.dumps(res)); json.dump(res, open(os.path.join(outdir, name + ".result.json"), "w"), indent=1)
        return
    doc = json.load(open(fj))
    fs = doc["findings"]
    res["per_severity"] = doc.get("per_severity")
    res["top"] = [brief(f) for f in fs[:6]]
    benign = truth["infected"] is None
    dev = truth["device"]
    if benign:
        hi = [f for f in fs if SEV[f["severity"]] >= 2]
        res["quiet"] = not hi
        res["high_findings"] = [brief(f) for f in hi]
    else:
        inf = truth["infected"]
        mine = [f for f in fs if inf in (f.get("hosts") or [])]
        res["flagged"] = any(SEV[f["severity"]] >= 1 for f in mine)
        res["max_sev_on_host"] = max([f["severity"] for f in mine], key=lambda s: SEV[s]) if mine else None
        cnc = sorted([f for f in fs if f["kind"] in CNC_KINDS], key=lambda f: -f["score"])
        res["cnc_findings"] = [brief(f) for f in cnc[:5]]
        res["n_cnc_findings"] = len(cnc)
        rank = None
        for i, f in enumerate(cnc):
            if names(f, truth["cnc_peers"]):
                rank = i + 1
                res["cnc_named_by"] = brief(f)
                break
        # is the C&C peer named by any finding at all (other kinds)?
        res["cnc_named_elsewhere"] = [brief(f)["kind"] + ":" + f["severity"] for f in fs
                                      if f["kind"] not in CNC_KINDS and names(f, truth["cnc_peers"])]
        res["cnc_rank"] = rank
        res["cnc_ok"] = rank is not None and rank <= 3
    # CTU-13 metric: verdicts at the product's default severity cut (medium), and at --min-severity low
    vd = os.path.join(outdir, name + ".verdicts-default.csv")
    subprocess.run([a.fh, "analyze", "--test", cap, "--no-rdns", "--verdicts", vd, "--color", "never"],
                   capture_output=True, text=True)
    for tag, vfile in (("", vd), ("low_", vc)):
      e = subprocess.run([a.fh, "evaluate", "--labels", cap, "--verdicts", vfile, "--json"], capture_output=True, text=True)
      if e.returncode == 0:
        m = json.loads(e.stdout)
        res[tag + "ctu13_ips"] = {"botnet_ips": m.get("botnet_ips"), "normal_ips": m.get("normal_ips"), "windows": m.get("windows")}
        for k in ("plain", "weighted"):
            tp, fp, tn, fn = (m[k][x] for x in ("tp", "fp", "tn", "fn"))
            tpr = tp / (tp + fn) if tp + fn else None
            fpr = fp / (fp + tn) if fp + tn else None
            prec = tp / (tp + fp) if tp + fp else None
            f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
            res[tag + "ctu13_" + k] = {"tp": round(tp, 2), "fp": round(fp, 2), "tn": round(tn, 2), "fn": round(fn, 2),
                                 "tpr": tpr, "fpr": fpr, "precision": prec, "f1": f1}
      else:
        res[tag + "ctu13_error"] = e.stderr[-500:]
    json.dump(res, open(os.path.join(outdir, name + ".result.json"), "w"), indent=1)
    print(json.dumps({k: v for k, v in res.items() if k not in ("top", "cnc_findings", "high_findings", "cnc_named_by")}))


if __name__ == "__main__":
    main()
