"""fh.profile and fh.outliers equal pandas/scipy computed here with the analysts' notebook formulas."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import flowhound as fh

from conftest import FIXTURES


@pytest.fixture(scope="module")
def nb():
    normal = pd.read_parquet(FIXTURES / "outliers" / "normal.parquet")
    test = pd.read_parquet(FIXTURES / "outliers" / "test.parquet")
    return normal, test


def describe_matches(got, series):
    d = series.describe()
    assert got["count"] == int(d["count"])
    assert got["sum"] == int(series.sum())
    assert got["mean"] == pytest.approx(d["mean"], rel=1e-12)
    assert got["std"] == pytest.approx(d["std"], rel=1e-9)
    assert got["min"] == int(d["min"]) and got["max"] == int(d["max"])
    for key, q in (("p25", "25%"), ("p50", "50%"), ("p75", "75%")):
        assert got[key] == pytest.approx(d[q], rel=1e-12)


def test_profile_equals_pandas_describe(nb):
    normal, _ = nb
    p = fh.profile(normal, progress=False)
    assert p["flows"] == len(normal)
    describe_matches(p["stats"]["up_bytes"], normal.up_bytes)
    describe_matches(p["stats"]["down_bytes"], normal.down_bytes)
    top = normal.groupby("src_ip").size().sort_values(ascending=False)
    assert p["top_src"]["by_flows"][0]["flows"] == int(top.iloc[0])
    hours = pd.to_datetime(normal.timestamp, unit="s", utc=True).dt.hour.value_counts()
    by_hour = {int(r["key"]): r["flows"] for r in p["by_hour"]}
    assert all(by_hour[h] == int(n) for h, n in hours.items())


def test_profile_of_frame_equals_profile_of_file(nb):
    path = FIXTURES / "outliers" / "normal.parquet"
    a = fh.profile(str(path), progress=False)
    b = fh.profile(nb[0], progress=False)
    a.pop("input"), b.pop("input")
    assert a == b


def notebook(normal, test, col):
    """The analysts' formulas, verbatim."""
    thr = normal[col].mean() + 3 * normal[col].std()
    q1, q3 = normal[col].quantile(0.25), normal[col].quantile(0.75)
    lower, upper = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    sigma = test[col] > thr
    iqr = (test[col] < lower) | (test[col] > upper)
    z = np.abs(stats.zscore(test[col])) > 3
    return thr, lower, upper, sigma, iqr, z


@pytest.mark.parametrize("col", ["up_bytes", "down_bytes"])
def test_outliers_equal_the_notebook(nb, col):
    normal, test = nb
    thr, lower, upper, sigma, iqr, z = notebook(normal, test, col)
    r = fh.outliers(normal, test, progress=False)[col]
    assert r["sigma"]["threshold"] == pytest.approx(thr, rel=1e-12)
    assert r["sigma"]["rows"] == int(sigma.sum())
    assert r["iqr"]["lower"] == pytest.approx(lower, rel=1e-12)
    assert r["iqr"]["upper"] == pytest.approx(upper, rel=1e-12)
    assert r["iqr"]["rows"] == int(iqr.sum())
    assert r["zscore_test"]["rows"] == int(z.sum())
    assert r["combined_rows"] == int((sigma | iqr | z).sum())


def test_outlier_rows_are_the_flagged_rows(nb):
    normal, test = nb
    _, _, _, up_sigma, _, _ = notebook(normal, test, "up_bytes")
    _, _, _, down_sigma, _, _ = notebook(normal, test, "down_bytes")
    rows = fh.outlier_rows(normal, test, methods="sigma", progress=False)
    assert isinstance(rows, pd.DataFrame)
    want = test[up_sigma | down_sigma]
    assert len(rows) == len(want)
    assert sorted(rows.up_bytes.tolist()) == sorted(want.up_bytes.tolist())
    assert {"dst_country", "dst_asn", "dst_org", "up_flags", "down_flags"} <= set(rows.columns)
    assert set(rows.src_ip) <= set(test.src_ip)
