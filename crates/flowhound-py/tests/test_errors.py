"""Every error type, with the CLI's message (file, row, column and the fix)."""

import pandas as pd
import pytest

import flowhound as fh

from conftest import FIXTURES

NORMAL = FIXTURES / "outliers" / "normal.parquet"


@pytest.fixture(scope="module")
def df():
    return pd.read_parquet(NORMAL).head(100)


def test_hierarchy():
    for e in (fh.InputError, fh.ConfigError, fh.DatabaseError, fh.QueryError, fh.OutputError):
        assert issubclass(e, fh.FlowhoundError)
    assert issubclass(fh.FlowhoundError, Exception)


def test_missing_file(tmp_path):
    with pytest.raises(fh.InputError, match=r"nope\.parquet: no such file .*quote globs"):
        fh.profile(str(tmp_path / "nope.parquet"), progress=False)


def test_missing_column_names_the_fix(df):
    with pytest.raises(fh.InputError) as e:
        fh.profile(df.drop(columns=["up_bytes"]), progress=False)
    msg = str(e.value)
    assert "<data: pandas.DataFrame>: missing column 'up_bytes'" in msg
    assert "--map up_bytes=SOURCE_COLUMN" in msg


def test_wrong_type(df):
    d = df.assign(up_bytes=[[1]] * len(df))
    with pytest.raises(fh.InputError, match="column 'up_bytes' has type"):
        fh.profile(d, progress=False)


def test_bad_row_is_skipped_or_fatal_under_strict(df):
    d = df.copy()
    d.loc[d.index[4], "src_ip"] = "not-an-ip"
    p = fh.profile(d, progress=False)
    assert p["flows"] == len(d) - 1
    sample = p["input"]["bad_rows"]["samples"][0]
    assert sample["column"] == "src_ip" and sample["location"] == {"row": 5}
    with pytest.raises(fh.InputError, match=r"row 5, column 'src_ip': not an IP address \(value 'not-an-ip'\)"):
        fh.profile(d, strict=True, progress=False)
    with pytest.raises(fh.InputError, match="row 5, column 'src_ip'"):
        fh.enrich(d, progress=False)


def test_config_errors(df):
    with pytest.raises(fh.ConfigError, match="not-a-cidr"):
        fh.profile(df, internal=["not-a-cidr"], progress=False)
    with pytest.raises(fh.ConfigError, match="nosuch"):
        fh.analyze(df, detectors=["nosuch"], progress=False)
    with pytest.raises(fh.ConfigError, match="expected CANONICAL=SOURCE"):
        fh.profile(df, map=["up_bytes"], progress=False)
    with pytest.raises(fh.ConfigError, match="unknown unit 'hours'"):
        fh.profile(df, ts_unit="hours", progress=False)
    with pytest.raises(fh.ConfigError, match="'1.2.3' is not an IP address"):
        fh.geo.lookup(["1.2.3"])
    with pytest.raises(fh.ConfigError, match="unknown setting 'flows'"):
        fh.generate("unused", flows=3, progress=False)


def test_config_file_errors(df, tmp_path):
    bad = tmp_path / "flowhound.toml"
    bad.write_text("[analysis]\nno_such_key = 1\n")
    with pytest.raises(fh.ConfigError, match="no_such_key"):
        fh.analyze(df, config=bad, progress=False)


def test_database_error(tmp_path):
    junk = tmp_path / "GeoIP.dat"
    junk.write_bytes(b"not a database" * 10)
    with pytest.raises(fh.DatabaseError, match="GeoIP.dat"):
        fh.geo.lookup(["8.8.8.8"], geoip_db=junk)


def test_query_error(df):
    with pytest.raises(fh.QueryError, match="query failed"):
        fh.sql("SELECT nosuch FROM flows", df, progress=False)


def test_output_error(df, tmp_path):
    b = fh.baseline(df, progress=False)
    with pytest.raises(fh.FlowhoundError):
        b.save(str(tmp_path / "no" / "such" / "dir" / "b.json"))


def test_not_a_frame():
    with pytest.raises(fh.InputError, match="cannot read a builtins.int"):
        fh.profile(42, progress=False)


def test_bad_rows_of_a_large_frame_are_reported_in_row_order(df):
    big = pd.concat([df] * 1500, ignore_index=True)  # 150,000 rows: converted in slices, in parallel
    big.loc[140_000, "src_ip"] = "bad-late"
    big.loc[3, "dst_ip"] = "bad-early"
    p = fh.profile(big, threads=2, progress=False)
    assert p["flows"] == len(big) - 2
    samples = p["input"]["bad_rows"]["samples"]
    assert [(s["value"], s["location"]) for s in samples] == [("bad-early", {"row": 4}), ("bad-late", {"row": 140_001})]
    with pytest.raises(fh.InputError, match="row 4, column 'dst_ip'"):
        fh.profile(big, strict=True, threads=2, progress=False)
