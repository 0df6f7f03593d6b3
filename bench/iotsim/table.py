#!/usr/bin/env python3
"""Print the results table (markdown) from DIR/*.result.json."""
import glob, json, os, sys

d = sys.argv[1] if len(sys.argv) > 1 else "/tmp/iotsim/caps"
rows = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(d, "*.result.json")))]
order = ["mirai-scan", "okiru", "gagfyt", "muhstik", "ircbot", "hajime", "kenjiro", "hide-and-seek", "torii",
         "benign-speaker", "benign-camera", "benign-plug", "benign-lamp", "benign-lock"]
rows.sort(key=lambda r: (order.index(r["family"]) if r["family"] in order else 99, r["seed"]))


def pct(x):
    return "-" if x is None else "%.0f%%" % (100 * x)


print("| capture | flows | h | secs | flows/s | host flagged (max sev) | C&C rank (kind, sev, score) | benign quiet | CTU-13 TPR / FPR / F1 (default cut; low cut) | weighted F1 | result |")
print("|---|---:|---:|---:|---:|---|---|---|---|---|---|")
fails = 0
for r in rows:
    if "error" in r:
        print("| %s | %d | %s | %s | | ERROR | | | | | FAIL |" % (r["capture"], r["flows"], r["hours"], r["secs"])); fails += 1; continue
    c = r.get("ctu13_plain") or {}
    cl = r.get("low_ctu13_plain") or {}
    w = r.get("ctu13_weighted") or {}
    ct = "%s / %s / %s (low cut: %s / %s / %s)" % (pct(c.get("tpr")), pct(c.get("fpr")), pct(c.get("f1")),
                                                 pct(cl.get("tpr")), pct(cl.get("fpr")), pct(cl.get("f1")))
    if "quiet" in r:
        hi = r["high_findings"]
        q = "yes" if r["quiet"] else "NO (%s)" % ", ".join("%s %s %.2f" % (h["kind"], h["severity"], h["score"]) for h in hi[:3])
        ok = r["quiet"]
        print("| %s | %d | %s | %s | %d | - | - | %s | %s | %s | %s |" % (r["capture"], r["flows"], r["hours"], r["secs"], r["flows_per_s"],
              q, ct, pct(w.get("f1")), "ok" if ok else "FAIL"))
    else:
        fl = "yes (%s)" % r["max_sev_on_host"] if r["flagged"] else "NO (%s)" % r["max_sev_on_host"]
        if r["cnc_rank"]:
            b = r["cnc_named_by"]
            cr = "%d (%s, %s, %.2f)" % (r["cnc_rank"], b["kind"], b["severity"], b["score"])
        else:
            cr = "not named (%d C&C findings)" % r["n_cnc_findings"]
        ok = r["flagged"] and r["cnc_ok"]
        print("| %s | %d | %s | %s | %d | %s | %s | - | %s | %s | %s |" % (r["capture"], r["flows"], r["hours"], r["secs"], r["flows_per_s"],
              fl, cr, ct, pct(w.get("f1")), "ok" if ok else "FAIL"))
    fails += 0 if ok else 1
print("\n%d captures, %d failing a target" % (len(rows), fails))
