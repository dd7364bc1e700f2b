"""The measurement protocol on any callable: a meter by name (or one of yours), the protocol's
settings checked, the carbon intensity of the country. ``api.measure_function`` and the sweep's
measurement actors both measure through here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigError


def pick_meter(
    meter,
    country: str,
    out: str | None,
    watts_per_core: float | None,
    say,
    tracking_mode: str = "process",
):
    """A meter by name (``auto`` picks the most direct one available and says why), or a
    ``energy.meters.Meter`` instance of yours (e.g. an external power meter's reader)."""
    from .measure import choose_meter
    from .meters import Meter

    if isinstance(meter, Meter):
        return meter
    return choose_meter(meter, country, out, watts_per_core, say, tracking_mode)


def protocol_config(
    trials: int, min_seconds: float, idle_seconds: float | None, max_other_share: float | None
):
    """The protocol's settings, a bad value as one ``ConfigError`` line."""
    from .protocol import ProtocolConfig

    try:
        return ProtocolConfig(
            trials=trials,
            min_seconds=min_seconds,
            idle_seconds=idle_seconds,
            max_other_share=max_other_share,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def measure_callable(
    fn: Callable[[], object],
    *,
    name: str = "function",
    inferences_per_call: int = 1,
    meter: Any = "auto",
    trials: int = 5,
    min_seconds: float = 2.0,
    idle_seconds: float | None = None,
    max_other_share: float | None = None,
    country: str = "USA",
    carbon_intensity: float | None = None,
    say: Callable[[str], None] = lambda _m: None,
) -> dict:
    """The protocol's result (the ``measurements.json`` shape) for ``fn()``, which runs
    ``inferences_per_call`` inferences: warmed up, repeated for trials of at least
    ``min_seconds`` interleaved with idle windows, per inference, gross and net of idle."""
    from .carbon import carbon_intensity_g_per_kwh
    from .measure import add_carbon
    from .protocol import Workload, run_protocol

    if not callable(fn):
        raise ConfigError(f"measure_function needs a callable, not {type(fn).__name__}")
    if int(inferences_per_call) < 1:
        raise ConfigError("inferences_per_call must be at least 1")
    cfg = protocol_config(trials, min_seconds, idle_seconds, max_other_share)
    m = pick_meter(meter, country, None, None, say)
    g, source = carbon_intensity_g_per_kwh(country, carbon_intensity)
    work = Workload(name, int(inferences_per_call), fn, runtime="python", key=name)
    return add_carbon(run_protocol([work], m, cfg, say), g, source)
