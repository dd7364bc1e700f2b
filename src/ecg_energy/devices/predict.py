"""One model on one board: energy and latency per inference with their ranges, memory fit, real
time and days of battery. Pure functions over a profile and the model's facts.

- energy: ``e_mac x MACs`` from the board's MLPerf Tiny energy results (method
  ``mlperf-tiny:...``), or, for a board with latency results only, the datasheet's active power x
  the calibrated latency (method ``datasheet-power x mlperf-tiny-latency``, lower confidence);
  the range is the calibration's prediction band.
- latency: ``c_mac x MACs / clock``, with its band.
- SRAM: TFLM's arena for the model + the runtime's stated RAM overhead; flash: the model file +
  the runtime's stated code size.
- float models: priced only with a profile's ``[calibration.float32]`` figures (energy_pj_per_mac,
  energy_band, cycles_per_mac, latency_band: measured float32 inference on that board), else
  listed as out of scope.
- real time: the upper end of the latency range within one window stride.
- battery: see ``battery``; a board without a cited sleep power gets no days (and says why).

Every figure is modelled from measurements of *other* models on the board (``measured`` false);
an imported on-device measurement (``imports``) is the measured one.
"""

from __future__ import annotations

from .battery import Battery, DutyCycle, life
from .profile import DeviceProfile

FLOAT_PRECISIONS = ("fp32", "fp16", "hybrid")


def model_precision(macs_by_precision: dict[str, int]) -> str:
    """``int8`` when every MAC is int8 x int8, else ``float`` (fp32, fp16 or dynamic range).

    >>> model_precision({"int8": 10}), model_precision({"int8": 5, "fp32": 1})
    ('int8', 'float')"""
    return "float" if any(macs_by_precision.get(p) for p in FLOAT_PRECISIONS) else "int8"


def price(profile: DeviceProfile, model: dict, cycle: DutyCycle, battery: Battery) -> dict:
    """The device row of ``model`` on ``profile``.

    ``model``: {"name", "format", "macs", "macs_by_precision", "file_bytes", "tflm": {"arena_bytes",
    "missing_ops", "error"}} (``tflm`` absent for a model TFLM was not run on)."""
    cal = profile.calibration
    row: dict = {"device": profile.name, "model": model["name"], "confidence": profile.confidence,
                 "energy_from": "modelled", "energy_basis": profile.energy_basis,
                 "notes": []}  # fmt: skip
    keys = ("energy_j", "energy_j_low", "energy_j_high", "latency_s", "latency_s_low",
            "latency_s_high", "arena_bytes", "sram_bytes", "flash_bytes", "fits", "realtime",
            "battery_days", "battery_days_low", "battery_days_high", "method")  # fmt: skip
    row.update(dict.fromkeys(keys))
    if model.get("format") != "tflite":
        fmt = model.get("format", "?")
        row["skipped"] = (f"{'an' if fmt[:1] in 'aeiou' else 'a'} {fmt} model: a "
                          "microcontroller runs the .tflite version (make one with --quantize)")  # fmt: skip
        return row
    precision = model_precision(model.get("macs_by_precision") or {})
    row["precision"] = precision
    if precision == "float" and not profile.float_data:
        row["skipped"] = (f"a float model: {profile.name}'s calibration has INT8 results only "
                          "(MLPerf Tiny's closed division), so float inference on it is out of "
                          "scope here")  # fmt: skip
        return row
    if precision == "float":  # a profile's own float32 figures replace the INT8 ones
        cal = {**cal, **cal["float32"], "precision": "float32"}
    macs = int(model["macs"])
    lo_macs, hi_macs = cal.get("macs_range", [0, 0])
    if macs < lo_macs or macs > hi_macs:
        row["notes"].append(f"{macs:,} MACs is outside the calibrated {lo_macs:,}-{hi_macs:,}; "
                            "a fixed cost per inference, not modelled, weighs more on a small "
                            "model")  # fmt: skip
    source = f"MLPerf Tiny {cal.get('round')} {cal.get('system')}"
    if "cycles_per_mac" in cal:
        lat = cal["cycles_per_mac"] * macs / profile.clock_hz
        lb = cal["latency_band"]
        row.update(latency_s=lat, latency_s_low=lat * lb[0], latency_s_high=lat * lb[1])
    if "energy_pj_per_mac" in cal:
        e = cal["energy_pj_per_mac"] * 1e-12 * macs
        eb = cal["energy_band"]
        row.update(energy_j=e, energy_j_low=e * eb[0], energy_j_high=e * eb[1],
                   method=f"mlperf-tiny:{cal.get('round')}:{cal.get('system')} "
                          f"({cal['energy_pj_per_mac']:g} pJ/MAC x MACs)")  # fmt: skip
    elif row["latency_s"] is not None and profile.power.get("active_w"):
        p = profile.power["active_w"]
        row.update(energy_j=p * row["latency_s"], energy_j_low=p * row["latency_s_low"],
                   energy_j_high=p * row["latency_s_high"],
                   method=f"datasheet-power x mlperf-tiny-latency ({p * 1e3:.3g} mW x "
                          f"{source} latency; lower confidence)")  # fmt: skip
    else:
        row["notes"].append("no energy: the profile has no energy results and no cited active "
                            "power (add power.active_w and power.active_source)")  # fmt: skip
    row["measured"] = False
    tflm = model.get("tflm") or {}
    row["missing_ops"] = list(tflm.get("missing_ops") or [])
    if tflm.get("error"):
        row["notes"].append(tflm["error"])
    rt = profile.runtime
    if tflm.get("arena_bytes") is not None:
        row["arena_bytes"] = int(tflm["arena_bytes"])
        row["sram_bytes"] = row["arena_bytes"] + int(rt["ram_overhead_bytes"])
    row["flash_bytes"] = int(model["file_bytes"]) + int(rt["flash_overhead_bytes"])
    if row["sram_bytes"] is not None:
        fit_check(row, profile)
    realtime_and_battery(row, profile, cycle, battery)
    return row


def fit_check(row: dict, profile: DeviceProfile) -> None:
    """``row["fits"]``: its SRAM and flash need within the board's, and a note when not."""
    row["fits"] = bool(row["sram_bytes"] <= profile.sram_bytes
                       and row["flash_bytes"] <= profile.flash_bytes)  # fmt: skip
    if not row["fits"]:
        row["notes"].append(
            f"does not fit: needs {row['sram_bytes']:,} B SRAM of {profile.sram_bytes:,} and "
            f"{row['flash_bytes']:,} B flash of {profile.flash_bytes:,}")  # fmt: skip


def realtime_and_battery(row: dict, profile: DeviceProfile, cycle: DutyCycle,
                         battery: Battery) -> None:  # fmt: skip
    """Fill ``row`` in place: real time (the slowest latency within one window's stride) and days
    of battery at the row's energy and latency (its band's ends for the range)."""
    if row.get("latency_s_high") is not None:
        row["realtime"] = bool(row["latency_s_high"] <= cycle.stride_s)
        if not row["realtime"]:
            row["notes"].append(f"not real time: up to {row['latency_s_high']:.3g} s per window, "
                                f"one window every {cycle.stride_s:g} s")  # fmt: skip
    sleep = profile.power.get("sleep_w")
    if row.get("energy_j") is not None and row.get("realtime") and sleep is not None:
        mid = life(row["energy_j"], row["latency_s"], sleep, battery, cycle)
        worst = life(row["energy_j_high"], row["latency_s_high"], sleep, battery, cycle)
        best = life(row["energy_j_low"], row["latency_s_low"], sleep, battery, cycle)
        row.update(battery_days=mid["battery_days"], battery_days_low=worst["battery_days"],
                   battery_days_high=best["battery_days"], average_power_w=mid["average_power_w"],
                   inference_share=mid["inference_share"])  # fmt: skip
    elif sleep is None:
        row["notes"].append(f"no battery life: {profile.name} has no cited sleep power "
                            "(add power.sleep_w and power.sleep_source)")  # fmt: skip
