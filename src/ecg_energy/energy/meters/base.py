"""What every meter is: ``start()``, then ``stop() -> EnergyReading``; the registry that
``make_meter`` builds them from by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ...errors import EcgEnergyError


class MeterUnavailable(EcgEnergyError):
    """A meter that cannot run here; the message names what is missing."""


@dataclass(frozen=True)
class EnergyReading:
    """Energy over one window: joules, seconds, per-component joules, and its provenance."""

    joules: float
    seconds: float
    method: str  # e.g. "rapl", "nvml", "codecarbon:cpu_load", "cputime-model"
    measured: bool  # True only for hardware counters (or an external meter)
    components: dict[str, float] = field(default_factory=dict)

    @property
    def watts(self) -> float:
        return self.joules / self.seconds if self.seconds > 0 else float("nan")


class Meter:
    """Base class: subclasses implement ``start`` and ``stop``; ``available`` explains absence."""

    name = "meter"
    measured = False
    # "machine": the figure covers the whole machine (every process's work is in it);
    # "process": only this process's share is charged (see energy.load)
    attribution = "machine"

    def start(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def stop(self) -> EnergyReading:  # pragma: no cover - interface
        raise NotImplementedError


METERS: dict[str, Callable[..., Meter]] = {}


def register_meter(name: str):
    def deco(factory):
        METERS[name] = factory
        return factory

    return deco
