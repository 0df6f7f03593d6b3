"""Ctrl-C (SIGINT sent to the process) stops a long call: KeyboardInterrupt within 2 s, and the work itself
stops (the process uses no CPU afterwards and leaves no half-written file), for `fh.generate` while it writes
and for `fh.analyze` while it learns the baseline and while it detects. The sizes suit the debug build
that scripts/test-python makes (a release build may finish before the signal arrives)."""

import signal
import subprocess
import sys
import time

import pytest

#: Runs one long call, printing each stage it enters; on KeyboardInterrupt prints the stage it was in,
#: then the CPU seconds the process uses over the next second (the stopped work must use none) and the
#: files left in the output directory.
CHILD = r"""
import os, sys, time
import flowhound as fh

mode, out, data = sys.argv[1], sys.argv[2], sys.argv[3]
stages, busy = [], set()

class Stages:
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return None
    def __call__(self, stage, done, total):
        if not stages or stages[-1] != stage:
            stages.append(stage)
            print("stage", stage, flush=True)
        if done and stage not in busy:
            busy.add(stage)
            print("busy", stage, flush=True)

fh._bar = lambda progress: Stages()   # the package's progress bar, replaced by a stage printer
try:
    if mode == "generate":
        os.makedirs(out)
        fh.generate(out, flows_normal=20_000_000, flows_test=1000, flows_servers=1000)
    else:
        import pandas as pd
        test = pd.read_parquet(os.path.join(data, "test.parquet"))
        big = pd.concat([test, test], ignore_index=True)
        fh.analyze(big, normal=os.path.join(data, "normal.parquet"))
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", stages[-1] if stages else "-", flush=True)
    c0 = time.process_time()
    time.sleep(1.0)
    print("cpu", round(time.process_time() - c0, 3), flush=True)
    print("left", sorted(os.listdir(out)) if os.path.isdir(out) else [], flush=True)
"""


def interrupt(mode, when, out, data=""):
    """Starts the child, sends SIGINT once it prints `when`; (seconds to KeyboardInterrupt, its lines)."""
    p = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(out), str(data)], stdout=subprocess.PIPE, text=True)
    try:
        for line in p.stdout:
            if line.strip() == "finished":
                pytest.skip(f"the call finished before {when!r}: sizes suit the debug build of scripts/test-python")
            assert line.startswith(("stage", "busy")), line
            if line.strip() == when:
                break
        else:
            pytest.fail(f"the call never printed {when!r}")
        sent = time.monotonic()
        p.send_signal(signal.SIGINT)
        first = p.stdout.readline().strip()
        waited = time.monotonic() - sent
        rest, _ = p.communicate(timeout=30)
    finally:
        p.kill()
    return waited, [first] + rest.splitlines()


def check_stopped(waited, lines, stage):
    assert lines[0] == f"interrupted {stage}", lines
    assert waited < 2, f"KeyboardInterrupt came {waited:.2f} s after SIGINT"
    cpu = float(lines[1].split()[1])
    assert cpu < 0.3, f"the work kept running after KeyboardInterrupt ({cpu} CPU s in the next second)"


def test_sigint_stops_generate(tmp_path):
    # Once rows are being written (the long part; planning takes a fraction of a second in release).
    waited, lines = interrupt("generate", "busy generating", tmp_path / "big")
    check_stopped(waited, lines, "generating")
    # The small files finished before the signal (each file is renamed into place when complete); the
    # interrupted one and truth.json are not written, and no temporary file is left.
    left = set(lines[2][len("left "):].strip("[]").replace("'", "").split(", ")) - {""}
    assert left <= {"test.parquet", "servers.parquet"}, f"an interrupted generate left {left}"


@pytest.mark.parametrize("stage", ["learning the baseline", "detecting"])
def test_sigint_stops_analyze(tmp_path, gen_dir, stage):
    waited, lines = interrupt("analyze", f"stage {stage}", tmp_path, gen_dir)
    check_stopped(waited, lines, stage)
