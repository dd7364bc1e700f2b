"""NVIDIA GPU energy through NVML: the total-energy counter (Volta and newer, mJ, updated about
every 100 ms), or power polling integrated over time where the counter is missing (ANCHORS §4).
Both are the GPU's own sensors: measured, for the GPU only."""

from __future__ import annotations

import threading
import time

from .base import MEASURED, EnergyReading, Meter, MeterUnavailable, register_meter


def _import_nvml():
    try:
        import pynvml
    except ImportError as exc:  # nvidia-ml-py comes with codecarbon
        raise MeterUnavailable("pynvml is not installed (pip install nvidia-ml-py)") from exc
    return pynvml


@register_meter("nvml")
class NvmlMeter(Meter):
    name = "nvml"
    measured = True
    covers = ("gpu",)  # the GPU's own sensors: never a figure for work on the CPU
    attribution = "machine"  # the whole GPU, whoever else runs on it

    def __init__(self, device: int = 0, nvml=None, poll_s: float = 0.05, clock=time.perf_counter):
        self.nvml = nvml or _import_nvml()
        try:
            self.nvml.nvmlInit()
            self.handle = self.nvml.nvmlDeviceGetHandleByIndex(device)
        except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, InvalidArgument…
            raise MeterUnavailable(f"NVML cannot open GPU {device} ({exc}); no NVIDIA GPU or "
                                   "driver here") from exc  # fmt: skip
        try:
            self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)
            self.counter = True
        except Exception:
            self.counter = False
        self.poll_s, self._clock = poll_s, clock
        self._samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def method(self) -> str:
        return "nvml" if self.counter else "nvml:power-polling"

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._samples.append(
                (self._clock(), self.nvml.nvmlDeviceGetPowerUsage(self.handle) / 1e3)
            )
            self._stop.wait(self.poll_s)

    def start(self) -> None:
        self._t0 = self._clock()
        if self.counter:
            self._e0 = self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)
        else:
            self._samples, self._stop = [], threading.Event()
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()

    def stop(self) -> EnergyReading:
        if self.counter:
            joules = (self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle) - self._e0) / 1e3
            seconds = self._clock() - self._t0
        else:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            seconds = self._clock() - self._t0
            joules = integrate_power(self._samples)
        return EnergyReading(joules, seconds, self.method, True, {"gpu": joules},
                             {"gpu": MEASURED})  # fmt: skip


def integrate_power(samples: list[tuple[float, float]]) -> float:
    """Trapezoidal integral of (time s, power W) samples, in J. E.g. [(0, 10), (2, 20)] -> 30 J."""
    return sum((t1 - t0) * (p0 + p1) / 2 for (t0, p0), (t1, p1) in zip(samples, samples[1:]))
