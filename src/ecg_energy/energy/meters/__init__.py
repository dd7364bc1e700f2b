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

from .base import (
    DEVICES,
    MEASURED,
    METERS,
    MODELLED,
    EnergyReading,
    Meter,
    MeterUnavailable,
    register_meter,
)

__all__ = [
    "AUTO_ORDER",
    "DEVICES",
    "MEASURED",
    "METERS",
    "MODELLED",
    "EnergyReading",
    "Meter",
    "MeterUnavailable",
    "auto_meter",
    "covering",
    "make_meter",
    "register_meter",
]

# most direct first: hardware counters, then CodeCarbon (which uses them when it can), then a model
AUTO_ORDER = ("rapl", "nvml", "codecarbon", "cputime")


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
