"""CO2e from energy: energy × the carbon intensity of the electricity.

Intensity comes from CodeCarbon's country table (Our World in Data; USA 369.47 g/kWh) or from a
g/kWh override. The energy interval is carried through unchanged in shape.
"""

from __future__ import annotations

from ..errors import ConfigError

KWH_TO_J = 3.6e6


def carbon_intensity_g_per_kwh(
    country: str | None = None, override: float | None = None
) -> tuple[float, str]:
    """(g CO2e per kWh, where it came from)."""
    if override is not None:
        if override < 0:
            raise ConfigError("--carbon-intensity must be a non-negative g/kWh figure")
        return float(override), "user override"
    from codecarbon.input import DataSource

    table = DataSource().get_global_energy_mix_data()
    code = (country or "").upper()
    if code not in table:
        raise ConfigError(f"country {country!r} is not in CodeCarbon's table; give an ISO 3166 "
                          "alpha-3 code (e.g. USA, FRA, IND) or --carbon-intensity G_PER_KWH")  # fmt: skip
    return float(table[code]["carbon_intensity"]), f"CodeCarbon energy mix table ({code})"


def co2e_kg(joules: float, g_per_kwh: float) -> float:
    """kg CO2e of ``joules``: 3.6e6 J (1 kWh) at 369.47 g/kWh -> 0.36947 kg."""
    return joules / KWH_TO_J * g_per_kwh / 1000.0
