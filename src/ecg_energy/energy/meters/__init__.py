"""Energy meters behind one interface: ``start()``, then ``stop() -> EnergyReading``.

Every reading says where it came from (``method``) and whether a hardware counter measured it
(``measured``): RAPL and NVML counters are measurements; CodeCarbon on a machine without counters
and the CPU-time model are models of power × time, and say so.
"""

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
# most direct first: hardware counters, then CodeCarbon (which uses them when it can), then a model
AUTO_ORDER = ("rapl", "nvml", "codecarbon", "cputime")


def register_meter(name: str):
    def deco(factory):
        METERS[name] = factory
        return factory

    return deco


def make_meter(name: str, **options) -> Meter:
    """Build a meter by name; raises MeterUnavailable (one line) when it cannot run here."""
    from . import codecarbon, cputime, nvml, rapl  # noqa: F401  (fill the registry)

    if name not in METERS:
        raise EcgEnergyError(f"unknown meter {name!r}; choose auto, {', '.join(METERS)}")
    return METERS[name](**options)


def auto_meter(**options) -> tuple[Meter, list[str]]:
    """The most direct meter available, and one line for each meter skipped (and why)."""
    from . import codecarbon, cputime, nvml, rapl  # noqa: F401

    skipped = []
    for name in AUTO_ORDER:
        try:
            return make_meter(name, **options.get(name, {})), skipped
        except MeterUnavailable as exc:
            skipped.append(f"{name}: {exc}")
    raise MeterUnavailable("no meter available: " + "; ".join(skipped))
