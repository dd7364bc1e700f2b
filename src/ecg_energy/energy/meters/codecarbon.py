"""CodeCarbon's ``OfflineEmissionsTracker`` around a window, with the country given explicitly.

Never the online tracker: without internet it silently picks a wrong country (Canada/Quebec,
~90× below the USA). Whether the figure is measured depends on what CodeCarbon found: RAPL
counters (measured) or, on machines without them, its CPU-load model and a constant RAM power
(modelled: on a 2-vCPU VM ~75% of the figure is the 20 W RAM constant, ANCHORS §4).

``tracking_mode``: in ``machine`` mode CodeCarbon's CPU model follows the whole machine's load
(TDP x (0.1 + 0.9 u^3)), so other processes' work lands in our windows; in ``process`` mode it
charges TDP x this process's share of the CPUs (its CPU seconds and its children's), and RAM by
this process's memory. ``process`` is the default here: on a shared 2-vCPU VM it kept the variants
in the order of their work under a bursty background load where ``machine`` did not
(benchmarks/attribution.py; the README gives the figures). With RAPL, CodeCarbon reads the
package counter, which is machine-wide whatever the mode.
"""

from __future__ import annotations

import glob
import logging
import os
import tempfile

from ..carbon import KWH_TO_J
from .base import EnergyReading, Meter, MeterUnavailable, register_meter

MEASURED_CPU_MODES = ("intel_rapl", "rapl", "powergadget")
TRACKING_MODES = ("process", "machine")
ONE_READING_S = 1e6  # a sampling period longer than any window: CodeCarbon reads at stop only


@register_meter("codecarbon")
class CodeCarbonMeter(Meter):
    name = "codecarbon"

    def __init__(self, country: str = "USA", output_dir: str | None = None,
                 measure_power_secs: float | None = None,
                 tracking_mode: str = "process"):  # fmt: skip
        if tracking_mode not in TRACKING_MODES:
            raise MeterUnavailable(f"CodeCarbon tracking mode {tracking_mode!r}: choose "
                                   f"{' or '.join(TRACKING_MODES)}")  # fmt: skip
        try:
            from codecarbon import OfflineEmissionsTracker  # noqa: F401
        except ImportError as exc:
            raise MeterUnavailable("codecarbon is not installed") from exc
        self.country = country.upper()
        self.output_dir = output_dir or tempfile.mkdtemp(prefix="ecg-energy-codecarbon-")
        # None: one reading per window, from start to stop. CodeCarbon's periodic samples
        # double-count on windows of a few seconds: with 1-s samples a 2-s idle window read 30 J
        # of RAM at 10 W, while a busy window (whose thread holds the GIL, so the sampler rarely
        # runs) read 10 W x its length; with one reading the model is integrated once, exactly
        # (measured on a 2-vCPU VM, CodeCarbon 3.3.2: idle 20.0 J in 2.01 s, busy 28.0 J)
        self.measure_power_secs = (
            ONE_READING_S if measure_power_secs is None else measure_power_secs
        )
        self.tracking_mode = tracking_mode
        # with readable RAPL counters CodeCarbon reads the package counter: machine-wide
        self.attribution = "machine" if _rapl_readable() else tracking_mode
        self.sampling_period_s = self.measure_power_secs
        self._tracker = None
        self.last_mode = "unknown"

    def start(self) -> None:
        from codecarbon import OfflineEmissionsTracker, OutputMethod

        logging.getLogger("codecarbon").setLevel(logging.ERROR)
        os.makedirs(self.output_dir, exist_ok=True)
        self._tracker = OfflineEmissionsTracker(
            country_iso_code=self.country, measure_power_secs=self.measure_power_secs,
            output_dir=self.output_dir, output_methods=[OutputMethod.CSV], log_level="error",
            tracking_mode=self.tracking_mode, project_name="ecg-energy",
        )  # fmt: skip
        self._tracker.start()

    def stop(self) -> EnergyReading:
        tracker, self._tracker = self._tracker, None
        tracker.stop()
        data = tracker.final_emissions_data
        modes = [getattr(h, "_mode", None) for h in getattr(tracker, "_hardware", [])]
        cpu_mode = next((m for m in modes if m), "unknown")
        self.last_mode = str(cpu_mode)
        measured = str(cpu_mode) in MEASURED_CPU_MODES
        if measured:  # a RAPL package counter: the whole machine, whatever the tracking mode
            self.attribution = "machine"
        parts = {k: float(getattr(data, f"{k}_energy", 0.0) or 0.0) * KWH_TO_J
                 for k in ("cpu", "ram", "gpu")}  # fmt: skip
        return EnergyReading(float(data.energy_consumed) * KWH_TO_J, float(data.duration),
                             f"codecarbon:{cpu_mode}", measured, parts)  # fmt: skip


def _rapl_readable() -> bool:
    return any(os.access(p, os.R_OK)
               for p in glob.glob("/sys/class/powercap/intel-rapl*/energy_uj"))  # fmt: skip
