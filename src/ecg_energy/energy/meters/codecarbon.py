"""CodeCarbon's ``OfflineEmissionsTracker`` around a window, with the country given explicitly.

Never the online tracker: without internet it silently picks a wrong country (Canada/Quebec,
~90× below the USA). Whether the figure is measured depends on what CodeCarbon found: RAPL
counters (measured) or, on machines without them, its CPU-load model and a constant RAM power
(modelled: on a 2-vCPU VM ~75% of the figure is the 20 W RAM constant, ANCHORS §4).
"""

from __future__ import annotations

import logging
import os
import tempfile

from . import EnergyReading, Meter, MeterUnavailable, register_meter

KWH_TO_J = 3.6e6
MEASURED_CPU_MODES = ("intel_rapl", "rapl", "powergadget")


@register_meter("codecarbon")
class CodeCarbonMeter(Meter):
    name = "codecarbon"

    def __init__(self, country: str = "USA", output_dir: str | None = None,
                 measure_power_secs: float = 1.0, tracking_mode: str = "machine"):  # fmt: skip
        try:
            from codecarbon import OfflineEmissionsTracker  # noqa: F401
        except ImportError as exc:
            raise MeterUnavailable("codecarbon is not installed") from exc
        self.country = country.upper()
        self.output_dir = output_dir or tempfile.mkdtemp(prefix="ecg-energy-codecarbon-")
        self.measure_power_secs = measure_power_secs
        self.tracking_mode = tracking_mode
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
        parts = {k: float(getattr(data, f"{k}_energy", 0.0) or 0.0) * KWH_TO_J
                 for k in ("cpu", "ram", "gpu")}  # fmt: skip
        return EnergyReading(float(data.energy_consumed) * KWH_TO_J, float(data.duration),
                             f"codecarbon:{cpu_mode}", measured, parts)  # fmt: skip
