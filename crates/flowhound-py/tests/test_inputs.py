"""Every input kind gives the same answer; timestamp dtypes, string IPs and IPv6 work."""

import glob
import shutil

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import flowhound as fh

from conftest import FIXTURES

NORMAL = FIXTURES / "outliers" / "normal.parquet"


def profile(data, **kw):
    p = fh.profile(data, progress=False, **kw)
    p.pop("input")
    return p


@pytest.fixture(scope="module")
def df():
    return pd.read_parquet(NORMAL)


@pytest.fixture(scope="module")
def want(df):
    return profile(str(NORMAL))


def test_paths_globs_lists_and_pathlike(tmp_path, want):
    for i in range(2):
        shutil.copy(NORMAL, tmp_path / f"part{i}.parquet")
    assert profile(NORMAL) == want
    assert profile([str(NORMAL)]) == want
    double = profile(str(tmp_path / "part*.parquet"))
    assert double["flows"] == 2 * want["flows"]
    assert profile([tmp_path / "part0.parquet", tmp_path / "part1.parquet"]) == double


def test_pandas_pyarrow_polars_and_readers(df, want):
    table = pa.Table.from_pandas(df, preserve_index=False)
    assert profile(df) == want
    assert profile(table) == want
    assert profile(pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=1000))) == want
    assert profile(table.to_batches()[0]) == profile(table.slice(0, table.to_batches()[0].num_rows))
    assert profile(pl.from_pandas(df)) == want


def test_pandas_frame_with_an_index_and_extra_columns(df, want):
    odd = df.set_index(df.index * 3 + 7).assign(note="x")
    assert profile(odd) == want


@pytest.mark.parametrize("kind", ["int_ms", "float_s", "datetime64_utc", "int_s_forced_ms"])
def test_timestamp_dtypes(df, want, kind):
    d = df.copy()
    if kind == "int_ms":
        d["timestamp"] = d.timestamp * 1000
    elif kind == "float_s":
        d["timestamp"] = d.timestamp.astype("float64")
    elif kind == "datetime64_utc":
        d["timestamp"] = pd.to_datetime(d.timestamp, unit="s", utc=True).astype("datetime64[ns, UTC]")
        assert str(d.timestamp.dtype) == "datetime64[ns, UTC]"
    else:
        d["timestamp"] = d.timestamp * 1000
        assert profile(d, ts_unit="ms") == want
        return
    assert profile(d) == want


def test_millisecond_fractions_are_kept(df):
    d = df.head(100).copy()
    d["timestamp"] = d.timestamp.astype("float64") + 0.25
    p = fh.profile(d, progress=False)
    assert p["time_span"]["first"].endswith(".250000Z")


def test_ipv6_and_string_ips(df):
    d = df.head(50).copy()
    d["src_ip"] = "2001:db8::7"
    d["dst_ip"] = "2001:4860:4860::8888"
    p = fh.profile(d, progress=False)
    assert p["top_src"]["by_flows"][0]["ip"] == "2001:db8::7"
    e = fh.enrich(d, progress=False)
    assert (e.dst_country == "US").all()
    assert (e.dst_asn == 15169).all()


def test_map_renames_columns(df, want):
    d = df.rename(columns={"up_bytes": "SrcBytes", "timestamp": "when"})
    assert profile(d, map={"up_bytes": "SrcBytes", "ts": "when"}) == want
    assert profile(d, map=["up_bytes=SrcBytes", "ts=when"]) == want


def test_enrich_returns_the_type_it_was_given(df):
    small = df.head(200)
    out = fh.enrich(small, progress=False)
    assert isinstance(out, pd.DataFrame) and list(out.index) == list(small.index)
    added = ["src_country", "src_asn", "src_org", "dst_country", "dst_asn", "dst_org"]
    assert list(out.columns) == list(small.columns) + added
    t = fh.enrich(pa.Table.from_pandas(small, preserve_index=False), progress=False)
    assert isinstance(t, pa.Table) and t.column_names == list(small.columns) + added
    p = fh.enrich(pl.from_pandas(small), progress=False)
    assert isinstance(p, pl.DataFrame) and p.columns == list(small.columns) + added
    f = fh.enrich(str(NORMAL), progress=False)
    assert isinstance(f, pd.DataFrame) and len(f) == len(df) and set(added) <= set(f.columns)
    # The same answers as fh.geo.lookup, address by address.
    ips = sorted(set(small.dst_ip))[:20]
    truth = {r["ip"]: r for r in fh.geo.lookup(ips)}
    for ip, cc, org in zip(out.dst_ip, out.dst_country, out.dst_org):
        if ip in truth:
            assert cc == truth[ip]["country"] or (pd.isna(cc) and truth[ip]["country"] is None)
            assert org == truth[ip]["org"] or (pd.isna(org) and truth[ip]["org"] is None)


def test_sql_over_a_frame(df):
    t = fh.sql("SELECT src_ip, sum(up_bytes) AS up FROM flows GROUP BY src_ip ORDER BY up DESC LIMIT 3", df, progress=False)
    assert isinstance(t, pa.Table)
    want = df.groupby("src_ip").up_bytes.sum().sort_values(ascending=False).head(3)
    assert t.column("src_ip").to_pylist() == list(want.index)
    assert t.column("up").to_pylist() == [int(x) for x in want.values]


def test_geo_lookup_and_info():
    rows = fh.geo.lookup(["8.8.8.8", "2001:4860:4860::8888"])
    assert rows[0]["country"] == "US" and rows[0]["asn"] == 15169
    assert rows[1]["asn"] == 15169
    info = fh.geo.info()
    assert info["sources"] and info["attribution"]
