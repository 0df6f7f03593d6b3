"""fh.analyze on pandas frames gives the CLI's findings on the same files; Findings and Baseline."""

import json
import subprocess

import pandas as pd
import pyarrow as pa
import pytest

import flowhound as fh


def comparable(doc):
    """A findings document without the input names (paths for the CLI, labels for frames)."""
    doc = dict(doc)
    doc["input"] = {k: v for k, v in doc["input"].items() if k != "files"}
    doc["baseline"] = {k: v for k, v in doc["baseline"].items() if k != "inputs"}
    return doc


@pytest.fixture(scope="module")
def cli_doc(cli, gen_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "findings.json"
    subprocess.run(
        [cli, "analyze", "--normal", str(gen_dir / "normal.parquet"), "--test", str(gen_dir / "test.parquet"),
         "--json", str(out), "--no-rdns", "--quiet", "--color", "never"],
        check=True, capture_output=True,
    )
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def findings(frames):
    normal, test, _ = frames
    return fh.analyze(test, normal=normal, progress=False)


def test_pandas_frames_give_the_cli_findings(findings, cli_doc):
    got = json.loads(findings.to_json())
    assert len(got["findings"]) > 5
    assert comparable(got) == comparable(cli_doc)
    assert got["input"]["files"] == ["<test: pandas.DataFrame>"]


def test_paths_give_the_cli_document_exactly(gen_dir, cli_doc):
    f = fh.analyze(str(gen_dir / "test.parquet"), normal=str(gen_dir / "normal.parquet"), progress=False)
    assert json.loads(f.to_json()) == cli_doc


def test_findings_table(findings):
    df = findings.to_pandas()
    assert list(df.columns) == fh.COLUMNS
    assert len(df) == len(findings)
    assert df.score.is_monotonic_decreasing
    assert all(isinstance(h, list) for h in df.hosts) and all(isinstance(p, list) for p in df.peers)
    assert str(df.first_seen.dtype) == "datetime64[us, UTC]" or "UTC" in str(df.first_seen.dtype)
    doc = findings.doc["findings"]
    assert df.id.tolist() == [f["id"] for f in doc]
    assert df.explanation.tolist() == [f["evidence"]["explanation"] for f in doc]
    t = findings.to_arrow()
    assert isinstance(t, pa.Table) and t.column_names == fh.COLUMNS
    assert t.schema.field("hosts").type == pa.list_(pa.string())


def test_repr_html_is_the_ranked_coloured_table(findings):
    html = findings._repr_html_()
    first = findings.doc["findings"][0]
    assert "<table>" in html and first["kind"] in html
    assert "color:" in html


def test_evidence_are_the_flows_behind_a_finding(findings, frames):
    f = findings.doc["findings"][0]
    ev = findings.evidence(f["id"])
    assert isinstance(ev, pd.DataFrame)
    assert len(ev) > 0 and len(ev) <= f["flows"]
    assert set(f["hosts"]) & (set(ev.src_ip) | set(ev.dst_ip))
    assert {"dst_country", "dst_asn", "dst_org"} <= set(ev.columns)
    assert ev.attrs["evidence"] == f["evidence"]
    with pytest.raises(fh.ConfigError, match="no finding with id 'nope'"):
        findings.evidence("nope")


def test_report_writes_html(findings, tmp_path):
    path = findings.report(tmp_path / "report.html", title="notebook run")
    text = open(path, encoding="utf-8").read()
    assert text.startswith("<!DOCTYPE html>") or "<html" in text[:200]
    assert "notebook run" in text


def test_baseline_save_load_gives_the_same_findings(frames, findings, tmp_path):
    normal, test, _ = frames
    b = fh.baseline(normal, progress=False)
    assert b.flows == len(normal)
    b.save(tmp_path / "baseline.json")
    loaded = fh.Baseline.load(tmp_path / "baseline.json")
    again = fh.analyze(test, baseline=loaded, progress=False)
    assert [f["id"] for f in again] == [f["id"] for f in findings]
    assert [f["score"] for f in again] == [f["score"] for f in findings]
    by_path = fh.analyze(test, baseline=tmp_path / "baseline.json", progress=False)
    assert by_path.doc["findings"] == again.doc["findings"]


def test_self_learned_and_detector_choice(frames):
    _, test, _ = frames
    f = fh.analyze(test, detectors=["botnet"], progress=False)
    assert f.doc["baseline"]["source"] == "self"
    assert {x["detector"] for x in f} <= {"botnet"}


def test_evaluate_equals_the_cli(cli, gen_dir, findings, tmp_path):
    path = tmp_path / "findings.json"
    path.write_text(findings.to_json())
    out = subprocess.run([cli, "evaluate", "--truth", str(gen_dir / "truth.json"), str(path), "--json"],
                         check=True, capture_output=True, text=True).stdout
    assert fh.evaluate(gen_dir / "truth.json", findings) == json.loads(out)
    assert fh.evaluate(gen_dir / "truth.json", path) == json.loads(out)


def one_way(df):
    """``df`` as a router exports it: per flow the client's record (a client port unique to the
    flow, no download bytes), then the server's answer one second later when there was one."""
    port = 1024 + (pd.RangeIndex(len(df)) % 60_000)
    fwd = pd.DataFrame({
        "timestamp": df["timestamp"].values, "src_ip": df["src_ip"].values,
        "dst_ip": df["dst_ip"].values, "proto": df["proto"].values, "src_port": port,
        "port": df["port"].values, "up_bytes": df["up_bytes"].values, "down_bytes": 0,
    })
    answered = (df["down_bytes"] > 0).values
    back = pd.DataFrame({
        "timestamp": df["timestamp"].values[answered] + 1, "src_ip": df["dst_ip"].values[answered],
        "dst_ip": df["src_ip"].values[answered], "proto": df["proto"].values[answered],
        "src_port": df["port"].values[answered], "port": port[answered],
        "up_bytes": df["down_bytes"].values[answered], "down_bytes": 0,
    })
    return pd.concat([fwd, back], ignore_index=True).sort_values("timestamp", kind="stable")


def test_router_flows_are_stitched_as_the_cli_stitches_them(frames, findings):
    normal, test, _ = frames
    want = json.loads(findings.to_json())["findings"]
    stitched = fh.analyze(one_way(test), normal=one_way(normal), progress=False)
    assert json.loads(stitched.to_json())["findings"] == want
    b = fh.baseline(one_way(normal), progress=False)
    again = fh.analyze(one_way(test), baseline=b, progress=False)
    assert json.loads(again.to_json())["findings"] == want
    raw = fh.analyze(one_way(test), normal=one_way(normal), stitch=False, progress=False)
    # unstitched, the answers read as connections from the servers to the clients' high ports
    assert len(raw) > len(want), "answers read as inbound connections"
    assert json.loads(raw.to_json())["findings"] != want
