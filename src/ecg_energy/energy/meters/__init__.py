"""Energy meters behind one interface: ``start()``, then ``stop() -> EnergyReading``.

Every reading says where it came from (``method``) and, part by part, whether a counter measured
it (``sources``: each component of the total, ``measured`` or ``modelled``). The reading is
``measured`` only when every part of its total was read from a counter: RAPL's package and DRAM
counters are; CodeCarbon with RAPL reads the CPU package but always models RAM, so its total is
partly modelled; CodeCarbon without counters and the CPU-time model are models throughout.

Every meter says which devices it covers (``covers``): a model that runs on the CPU is metered by
a meter that covers the CPU, never by a GPU's counter alone. ``auto`` picks, in ``AUTO_ORDER``, the
first meter available here that covers the device the models run on, and says why it skipped the
others.
"""

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
# most direct first: hardware counters, then CodeCarbon (which uses them when it can), then a model
AUTO_ORDER = ("rapl", "nvml", "codecarbon", "cputime")


def register_meter(name: str):
    def deco(factory):
        METERS[name] = factory
        return factory

    return deco


def _fill() -> None:
    from . import codecarbon, cputime, nvml, rapl  # noqa: F401  (fill the registry)


def covering(device: str) -> list[str]:
    """The meters that cover ``device``, in ``AUTO_ORDER``: 'cpu' -> rapl, codecarbon, cputime."""
    _fill()
    return [n for n in AUTO_ORDER if device in METERS[n].covers]


def make_meter(name: str, device: str | None = None, **options) -> Meter:
    """Build a meter by name; raises MeterUnavailable (one line) when it cannot run here, and
    ConfigError when it does not cover ``device``, the device the models run on."""
    from ...errors import ConfigError

    _fill()
    if name not in METERS:
        raise ConfigError(f"unknown meter {name!r}; choose auto, {', '.join(METERS)}")
    covers = METERS[name].covers
    if device is not None and device not in covers:
        raise ConfigError(f"meter {name} reads the {' and '.join(c.upper() for c in covers)} "
                          f"only, and the models run on the {device.upper()}: choose "
                          f"{', '.join(covering(device)) or 'no meter'} or auto")  # fmt: skip
    return METERS[name](**options)


def auto_meter(device: str = "cpu", **options) -> tuple[Meter, list[str]]:
    """The most direct meter available here that covers ``device``, and one line for each meter
    skipped (and why): e.g. on a machine with an NVIDIA GPU and no readable RAPL, CPU work gets
    ``codecarbon`` and the line 'nvml: reads the GPU only; the models run on the CPU'."""
    _fill()
    skipped = []
    for name in AUTO_ORDER:
        covers = METERS[name].covers
        if device not in covers:
            skipped.append(f"{name}: reads the {' and '.join(c.upper() for c in covers)} only; "
                           f"the models run on the {device.upper()}")  # fmt: skip
            continue
        try:
            return make_meter(name, **options.get(name, {})), skipped
        except MeterUnavailable as exc:
            skipped.append(f"{name}: {exc}")
    raise MeterUnavailable(f"no meter for the {device.upper()} available: " + "; ".join(skipped))
