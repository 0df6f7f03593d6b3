"""Long calls release the GIL and show a progress bar unless progress=False; docstrings and stubs."""

import threading
import time
from pathlib import Path

import flowhound as fh

SMALL = dict(flows_normal=30_000, flows_test=5_000, flows_servers=1_000, clients=30)


def test_long_calls_release_the_gil(tmp_path):
    done = threading.Event()
    ticks = 0

    def work():
        fh.generate(tmp_path, progress=False, **SMALL)
        done.set()

    t = threading.Thread(target=work)
    t0 = time.monotonic()
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    elapsed = time.monotonic() - t0
    # With the GIL held for the whole call this thread could not have run at all meanwhile.
    assert elapsed < 0.2 or ticks > 20, (elapsed, ticks)


def test_progress_bar_on_stderr_and_off_with_progress_false(tmp_path, capfd):
    fh.generate(tmp_path / "a", progress=True, **SMALL)
    err = capfd.readouterr().err
    assert "generating" in err
    fh.generate(tmp_path / "b", progress=False, **SMALL)
    assert capfd.readouterr().err == ""


def test_help_has_examples_and_the_package_is_typed():
    for f in (fh.profile, fh.outliers, fh.outlier_rows, fh.enrich, fh.analyze, fh.baseline, fh.sql,
              fh.generate, fh.evaluate, fh.geo.lookup, fh.geo.info, fh.dns.resolve, fh.dns.reverse):
        assert f.__doc__ and ">>> " in f.__doc__, f.__name__
    pkg = Path(fh.__file__).parent
    assert (pkg / "py.typed").exists() and (pkg / "_flowhound.pyi").exists()
