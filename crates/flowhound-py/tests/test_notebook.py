"""examples/notebook.ipynb runs clean (nbclient), its reverse DNS answered by a server on 127.0.0.1."""

import os

import pytest

from conftest import ROOT

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("dnslib")
pytest.importorskip("matplotlib")
from dns_server import serve  # noqa: E402


def test_notebook_runs_clean(tmp_path, monkeypatch):
    ns, zone, servers = serve()
    monkeypatch.setenv("FLOWHOUND_NAMESERVER", ns)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    try:
        nb = nbformat.read(ROOT / "examples" / "notebook.ipynb", as_version=4)
        client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
    finally:
        for s in servers:
            s.stop()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert zone.queries > 0, "the notebook's reverse DNS did not reach the local server"
    html = [o for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert any("flowhound</b>:" in o["data"]["text/html"] for o in html), "no findings table shown"
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "no plot drawn"
