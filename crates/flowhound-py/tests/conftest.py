"""Shared fixtures: a small generated network (fh.generate), the committed fixtures, the CLI binary."""

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

import flowhound as fh

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"

#: Generator settings of the shared dataset: small enough for debug builds, with every scenario.
GEN = dict(seed=7, flows_normal=20_000, flows_test=10_000, flows_servers=3_000, clients=60)


@pytest.fixture(scope="session")
def gen_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    fh.generate(out, progress=False, **GEN)
    return out


@pytest.fixture(scope="session")
def frames(gen_dir):
    """(normal, test, servers) as pandas DataFrames, read by pandas itself."""
    return tuple(pd.read_parquet(gen_dir / f"{n}.parquet") for n in ("normal", "test", "servers"))


@pytest.fixture(scope="session")
def cli():
    """The flowhound binary of the workspace build (FLOWHOUND_BIN, else the target dir)."""
    path = os.environ.get("FLOWHOUND_BIN")
    if not path:
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        path = str(target / "debug" / "flowhound")
    if not Path(path).exists():
        path = shutil.which("flowhound")
    if not path:
        pytest.skip("flowhound binary not built (cargo build --workspace); set FLOWHOUND_BIN")
    return path
