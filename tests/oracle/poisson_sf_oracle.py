#!/usr/bin/env python3
"""Oracle for flowhound's `off_hours::poisson_sf(k, lam)` = P(X >= k), X ~ Poisson(lam).

Computed with scipy.stats.poisson.sf(k - 1, lam). Writes poisson_sf_expected.json next to this file.
Run: python3 tests/oracle/poisson_sf_oracle.py
"""
import json
import os

from scipy.stats import poisson

CASES = [
    (0, 3.0), (1, 0.5), (1, 3.0), (3, 3.0), (5, 1.2), (10, 2.0), (20, 4.5), (25, 5.2),
    (30, 30.0), (40, 30.0), (50, 10.0), (100, 20.0), (100, 95.5), (260, 200.0), (300, 150.0),
    (1000, 900.0), (2000, 1500.0), (5, 40.0), (120, 140.0),
]

out = [{"k": k, "lam": lam, "sf": float(poisson.sf(k - 1, lam))} for k, lam in CASES]
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "poisson_sf_expected.json")
with open(path, "w") as fh:
    json.dump({"generator": "scipy.stats.poisson.sf(k - 1, lam)", "cases": out}, fh, indent=1)
    fh.write("\n")
print(path)
