"""CodeCarbon's ``OfflineEmissionsTracker`` around a window, with the country given explicitly.

Never the online tracker: without internet it silently picks a wrong country (Canada/Quebec,
~90× below the USA). What is measured depends on what CodeCarbon found, part by part: its CPU
figure is read from a counter in the modes ``intel_rapl`` (Linux RAPL), ``intel_power_gadget`` and
``windows_emi`` (CodeCarbon 3.3.2's names, ``CPU._mode``), and modelled in ``cpu_load`` (its TDP
table x a function of load) and ``constant``; its RAM figure is always modelled (CodeCarbon 3.3.2
has no RAM counter: a power per DIMM, or per GB). So even with RAPL the total is partly modelled,
and the reading says which part is which (on a 2-vCPU VM ~75% of the figure is the RAM model,
ANCHORS §4). A GPU CodeCarbon finds (through nvidia-smi) is kept apart from the total: the models
measured here run on the CPU.

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
from .base import MEASURED, MODELLED, EnergyReading, Meter, MeterUnavailable, register_meter

# CodeCarbon 3.3.2's CPU modes (``codecarbon.external.hardware.CPU._mode``) that read a counter;
# its others, "cpu_load" and "constant", are models
COUNTER_CPU_MODES = ("intel_rapl", "intel_power_gadget", "windows_emi")
MODELLED_CPU_MODES = ("cpu_load", "constant")
TRACKING_MODES = ("process", "machine")
ONE_READING_S = 1e6  # a sampling period longer than any window: CodeCarbon reads at stop only


@register_meter("codecarbon")
class CodeCarbonMeter(Meter):
    name = "codecarbon"
    covers = ("cpu",)  # its CPU and RAM figures; a GPU it finds is kept apart

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
        modes = [getattr(h, "_mode", None) for h in getattr(tracker, "_hardware", [])]
        cpu_mode = str(next((m for m in modes if m), "unknown"))
        self.last_mode = cpu_mode
        if cpu_mode in COUNTER_CPU_MODES:  # a package counter: the whole machine, whatever mode
            self.attribution = "machine"
        return reading_from(tracker.final_emissions_data, cpu_mode)


def reading_from(data, cpu_mode: str) -> EnergyReading:
    """A reading from CodeCarbon's ``EmissionsData`` (energies in kWh) for work on the CPU: CPU
    and RAM in the total, the CPU part measured only in a counter mode, RAM always modelled; a
    GPU's energy kept apart. E.g. cpu 1e-6 kWh (intel_rapl), ram 5e-7 kWh, gpu 2e-6 kWh ->
    5.4 J: cpu 3.6 J measured, ram 1.8 J modelled; 7.2 J of GPU apart; not measured."""
    kwh = {k: float(getattr(data, f"{k}_energy", 0.0) or 0.0) for k in ("cpu", "ram", "gpu")}
    parts = {k: kwh[k] * KWH_TO_J for k in ("cpu", "ram")}
    sources = {"cpu": MEASURED if cpu_mode in COUNTER_CPU_MODES else MODELLED, "ram": MODELLED}
    apart = {"gpu": kwh["gpu"] * KWH_TO_J} if kwh["gpu"] else {}
    return EnergyReading(sum(parts.values()), float(data.duration), f"codecarbon:{cpu_mode}",
                         False, parts, sources, apart)  # fmt: skip


def _rapl_readable() -> bool:
    return any(os.access(p, os.R_OK)
               for p in glob.glob("/sys/class/powercap/intel-rapl*/energy_uj"))  # fmt: skip
