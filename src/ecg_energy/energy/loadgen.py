"""A bounded, bursty background load, to check that a measurement holds on a shared machine.

One process busy-loops on one core for ``busy_s`` seconds, sleeps ``sleep_s``, and repeats until
``max_s`` have passed; it then exits by itself, so a load never outlives its bound even if nobody
stops it. It is started outside this process's tree (through a shell that exits at once), so a
meter that attributes its children's CPU time to us (CodeCarbon's ``process`` mode) sees it as the
other process it is.

    with bursty_load(busy_s=1.5, sleep_s=2.5, max_s=300):
        ...  # measure

or from a shell: ``python -m ecg_energy.energy.loadgen --busy 1.5 --sleep 2.5 --for 300``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time

MARKER = "ecg-energy-bursty-load"


def burn(
    busy_s: float, sleep_s: float, max_s: float, clock=time.monotonic, sleep=time.sleep
) -> int:
    """Busy-loop ``busy_s``, sleep ``sleep_s``, until ``max_s`` are over; returns the bursts run."""
    end, bursts = clock() + max_s, 0
    while clock() < end:
        stop = min(end, clock() + busy_s)
        x = 0
        while clock() < stop:
            x += 1
        bursts += 1
        left = end - clock()
        if left > 0:
            sleep(min(sleep_s, left))
    return bursts


@contextlib.contextmanager
def bursty_load(busy_s: float = 1.5, sleep_s: float = 2.5, max_s: float = 300.0):
    """Run the load in the background for at most ``max_s`` seconds; yields its process id."""
    cmd = [sys.executable, "-m", "ecg_energy.energy.loadgen", "--busy", str(busy_s), "--sleep",
           str(sleep_s), "--for", str(max_s), "--marker", MARKER]  # fmt: skip
    # `sh -c 'cmd & echo $!'`: the shell exits at once, so the load is re-parented and is not a
    # child of this process (its CPU time must not be attributed to us)
    line = " ".join(f"'{c}'" for c in cmd) + " >/dev/null 2>&1 & echo $!"
    pid = int(subprocess.run(["sh", "-c", line], capture_output=True, text=True,
                             check=True, env=os.environ).stdout.strip())  # fmt: skip
    try:
        yield pid
    finally:
        _stop(pid)


def _stop(pid: int) -> None:
    """Stop the load if it is still running (and still ours: its command line has the marker)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            if MARKER.encode() not in fh.read():
                return
        os.kill(pid, signal.SIGTERM)
    except (OSError, ProcessLookupError):
        return


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="A bounded bursty CPU load on one core.")
    ap.add_argument("--busy", type=float, default=1.5, help="Seconds busy per burst.")
    ap.add_argument("--sleep", type=float, default=2.5, help="Seconds asleep between bursts.")
    ap.add_argument("--for", dest="max_s", type=float, default=300.0, help="Total seconds.")
    ap.add_argument("--marker", default=MARKER, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    burn(args.busy, args.sleep, args.max_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
