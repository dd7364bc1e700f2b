"""Battery life of a wearable that runs one inference per window stride and sleeps between.

Pure arithmetic. Per period of ``stride_s`` seconds the device spends the inference's energy,
sleeps for the rest of the period at the board's sleep power, and the rest of the device (ECG
front end, radio) draws a constant ``rest_w`` throughout:

    average power = (E_inference + P_sleep x (stride - latency)) / stride + P_rest
    days          = usable battery energy / average power / 86,400 s

The inference's share of the average power says how much the model choice moves battery life.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import ConfigError

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Battery:
    name: str
    capacity_mah: float
    voltage_v: float
    source: str

    @property
    def energy_j(self) -> float:
        return self.capacity_mah * 1e-3 * 3600.0 * self.voltage_v

    def as_dict(self) -> dict:
        return {**asdict(self), "energy_j": self.energy_j}


PRESETS = {
    "cr2032": Battery("cr2032", 235.0, 3.0, "Energizer CR2032 product datasheet: 235 mAh typical "
                      "to 2.0 V at a 15 kOhm load, 3.0 V nominal"),  # fmt: skip
    "lipo-150": Battery("lipo-150", 150.0, 3.7, "a small 3.7 V 150 mAh lithium-polymer cell, "
                        "e.g. Adafruit product 1317 (3.7 V, 150 mAh)"),  # fmt: skip
}  # fmt: skip


def parse_battery(text: str) -> Battery:
    """A preset name (``cr2032``, ``lipo-150``) or ``MAH@VOLTS`` (e.g. ``300@3.7``)."""
    if text in PRESETS:
        return PRESETS[text]
    try:
        mah, volts = (float(x) for x in text.split("@"))
    except ValueError:
        raise ConfigError(f"battery {text!r}: give a preset ({', '.join(PRESETS)}) or "
                          "MAH@VOLTS such as 300@3.7") from None  # fmt: skip
    if mah <= 0 or volts <= 0:
        raise ConfigError(f"battery {text!r}: capacity and voltage must be positive")
    return Battery(text, mah, volts, "given by the user")


@dataclass(frozen=True)
class DutyCycle:
    stride_s: float = 2.0  # one window every stride (a 4-s window every 2 s by default)
    rest_w: float = 0.0  # constant power of the rest of the device (front end, radio)

    def __post_init__(self) -> None:
        if not self.stride_s > 0:
            raise ConfigError("device stride must be a positive number of seconds")
        if self.rest_w < 0:
            raise ConfigError("the rest of the device's power (rest_w) must be >= 0")


def average_power_w(energy_j: float, latency_s: float, sleep_w: float, cycle: DutyCycle) -> float:
    """>>> round(average_power_w(1e-3, 0.1, 1e-5, DutyCycle(2.0, 0.0)), 9)
    0.0005095"""
    idle = max(cycle.stride_s - latency_s, 0.0)
    return (energy_j + sleep_w * idle) / cycle.stride_s + cycle.rest_w


def battery_days(battery: Battery, avg_w: float) -> float:
    """>>> round(battery_days(PRESETS["cr2032"], 1e-3), 2)
    29.38"""
    return battery.energy_j / avg_w / SECONDS_PER_DAY


def life(energy_j: float, latency_s: float, sleep_w: float, battery: Battery,
         cycle: DutyCycle) -> dict:  # fmt: skip
    """Days of battery and the inference's share of the average power."""
    avg = average_power_w(energy_j, latency_s, sleep_w, cycle)
    return {"average_power_w": avg, "battery_days": battery_days(battery, avg),
            "inference_share": (energy_j / cycle.stride_s) / avg if avg > 0 else None}  # fmt: skip
