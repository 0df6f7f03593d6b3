"""Ctrl-C (SIGINT sent to the process) stops a long call at once with KeyboardInterrupt."""

import signal
import subprocess
import sys
import time

CHILD = r"""
import sys, time, flowhound as fh
print("started", flush=True)
t0 = time.monotonic()
try:
    fh.generate(sys.argv[1], flows_normal=200_000_000, flows_test=1000, flows_servers=1000, progress=False)
    print("finished", flush=True)
except KeyboardInterrupt:
    print(f"interrupted {time.monotonic() - t0:.2f}", flush=True)
"""


def test_sigint_stops_a_long_call(tmp_path):
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "big")], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "started"
    time.sleep(1.0)
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=30)
    waited = time.monotonic() - sent
    assert out.startswith("interrupted"), out
    assert waited < 5, f"took {waited:.1f} s to stop"
