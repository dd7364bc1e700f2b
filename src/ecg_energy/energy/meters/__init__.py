"""Energy meters behind one interface: ``start()``, then ``stop() -> EnergyReading``.

Every reading says where it came from (``method``) and whether a hardware counter measured it
(``measured``): RAPL and NVML counters are measurements; CodeCarbon on a machine without counters
and the CPU-time model are models of power × time, and say so.
"""

from __future__ import annotations

from ...errors import EcgEnergyError
from .base import METERS, EnergyReading, Meter, MeterUnavailable, register_meter

__all__ = [
    "AUTO_ORDER",
    "METERS",
    "EnergyReading",
    "Meter",
    "MeterUnavailable",
    "auto_meter",
    "make_meter",
    "register_meter",
]


# most direct first: hardware counters, then CodeCarbon (which uses them when it can), then a model
AUTO_ORDER = ("rapl", "nvml", "codecarbon", "cputime")


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
