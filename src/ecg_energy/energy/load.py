"""How busy the rest of the machine was during a measurement window.

A machine-wide meter (RAPL, NVML, CodeCarbon in ``machine`` mode) charges every other process's
work to the window it measures; a process-attributed one (CodeCarbon in ``process`` mode, the CPU-
time model) does not, but another process that wants more cores than we leave free still slows
ours. So every window records the CPU seconds that *other* processes used during it, as a share of
the machine: (machine busy CPU seconds - this process's CPU seconds) / (wall seconds x CPUs).
A window above the protocol's limit is repeated, and marked when it stays above it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import time

# Share of the machine that other processes may use during a window before it is repeated, by the
# meter's attribution. Machine-wide: 10% of the machine is already a fifth of one busy core on two
# cores, about as much as the power our one inference thread adds. Process-attributed: the other
# processes' work is not in the figure; only contention for cores is, which starts when they use
# more than the half of the machine our single inference thread leaves them on two cores.
DEFAULT_MAX_OTHER_SHARE = {"machine": 0.10, "process": 0.50}


def other_share(machine_busy_s: float, own_s: float, wall_s: float, cpus: int) -> float:
    """Share of the machine other processes used: (busy - own) / (wall x CPUs), between 0 and 1.
    The kernel counts CPU time in ticks (10 ms), so over a window of a few ms the difference can
    read more than the whole machine: it is at most 1.

    >>> other_share(machine_busy_s=1.5, own_s=1.0, wall_s=1.0, cpus=2)
    0.25
    >>> other_share(machine_busy_s=0.03, own_s=0.0, wall_s=0.01, cpus=2)
    1.0
    """
    if wall_s <= 0 or cpus < 1:
        return 0.0
    return min(1.0, max(0.0, machine_busy_s - own_s) / (wall_s * cpus))


def busy_seconds(times) -> float:
    """Busy CPU seconds in a ``psutil.cpu_times()`` reading: everything but idle, I/O wait, time
    stolen by the hypervisor (not a process of this machine) and guest time (already in user)."""
    total = sum(times)
    for field in ("idle", "iowait", "steal", "guest", "guest_nice"):
        total -= getattr(times, field, 0.0)
    return total


class LoadProbe:
    """``start()`` then ``stop() -> share``: other processes' share of the machine in between.

    This process's own CPU time counts its live children too, as CodeCarbon's process mode does.
    """

    def __init__(self, clock=time.perf_counter):
        import psutil

        self._psutil = psutil
        self._me = psutil.Process(os.getpid())
        self._cpus = psutil.cpu_count() or 1
        self._clock = clock
        self._start: tuple[float, float, float] | None = None

    def _own_seconds(self) -> float:
        total = 0.0
        procs = [self._me]
        with contextlib.suppress(self._psutil.Error):
            procs += self._me.children(recursive=True)
        for p in procs:
            try:
                t = p.cpu_times()
            except self._psutil.Error:
                continue
            total += t.user + t.system
        return total

    def _read(self) -> tuple[float, float, float]:
        return self._clock(), busy_seconds(self._psutil.cpu_times()), self._own_seconds()

    def start(self) -> None:
        self._start = self._read()

    def stop(self) -> float:
        (t0, busy0, own0), (t1, busy1, own1) = self._start, self._read()
        return other_share(busy1 - busy0, own1 - own0, t1 - t0, self._cpus)


def machine_facts() -> dict:
    """The machine a figure was taken on: Python, platform, processor and CPUs."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }
