"""What every meter is: ``start()``, then ``stop() -> EnergyReading``; the registry that
``make_meter`` builds them from by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ...errors import EcgEnergyError

MEASURED, MODELLED = "measured", "modelled"
DEVICES = ("cpu", "gpu")


class MeterUnavailable(EcgEnergyError):
    """A meter that cannot run here; the message names what is missing."""


@dataclass(frozen=True)
class EnergyReading:
    """Energy over one window: joules, seconds, per-component joules, and its provenance.

    ``sources`` says for each component of ``joules`` whether it was read from a counter
    (``measured``) or computed by a model (``modelled``); ``measured`` is true only when every
    component was measured. ``apart``: energy read on devices the work does not run on (e.g. a
    GPU's while the models run on the CPU), kept beside the total, never in it."""

    joules: float
    seconds: float
    method: str  # e.g. "rapl", "nvml", "codecarbon:intel_rapl", "cputime-model"
    measured: bool  # True only when every component of the total was read from a counter
    components: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # component -> measured | modelled
    apart: dict[str, float] = field(default_factory=dict)  # J on other devices, not in joules

    def __post_init__(self) -> None:
        if self.sources and self.measured != all(v == MEASURED for v in self.sources.values()):
            raise ValueError(f"{self.method}: measured={self.measured} but its parts are "
                             f"{self.sources}")  # fmt: skip

    @property
    def watts(self) -> float:
        return self.joules / self.seconds if self.seconds > 0 else float("nan")

    def parts(self, kind: str) -> list[str]:
        """The components of the total that were ``measured`` (or ``modelled``)."""
        return [k for k, v in self.sources.items() if v == kind]


class Meter:
    """Base class: subclasses implement ``start`` and ``stop``; ``available`` explains absence."""

    name = "meter"
    measured = False
    covers: tuple[str, ...] = ("cpu",)  # the devices whose energy the figure holds
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
