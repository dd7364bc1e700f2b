"""A model, not a measurement: this process's CPU seconds × an assumed power per busy core.

Useful where no counter exists; it ranks work, not watts. The default 4 W per core is CodeCarbon's
fallback for an unknown CPU (4 W per thread, ANCHORS §4); pass the real figure for your part.
"""

from __future__ import annotations

import os
import time

from .base import MODELLED, EnergyReading, Meter, register_meter

DEFAULT_WATTS_PER_CORE = 4.0


@register_meter("cputime")
class CpuTimeMeter(Meter):
    name = "cputime"
    measured = False
    covers = ("cpu",)
    attribution = "process"  # this process's CPU seconds only

    def __init__(self, watts_per_core: float = DEFAULT_WATTS_PER_CORE, clock=time.perf_counter,
                 cpu_clock=time.process_time):  # fmt: skip
        self.watts_per_core = watts_per_core
        self._clock, self._cpu = clock, cpu_clock
        self._t0 = self._c0 = 0.0

    def start(self) -> None:
        self._t0, self._c0 = self._clock(), self._cpu()

    def stop(self) -> EnergyReading:
        seconds, cpu_s = self._clock() - self._t0, self._cpu() - self._c0
        joules = cpu_s * self.watts_per_core
        return EnergyReading(joules, seconds, "cputime-model", False,
                             {"cpu": joules, "cpu_seconds": cpu_s,
                              "cores_busy": cpu_s / seconds if seconds else 0.0,
                              "cpus": float(os.cpu_count() or 1)}, {"cpu": MODELLED})  # fmt: skip
