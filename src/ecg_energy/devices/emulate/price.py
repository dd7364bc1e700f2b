"""A model's device row by the emulated method: its own instructions on the board's core (TFLM +
CMSIS-NN on QEMU), priced with the board's fitted cycles per instruction and energy per
instruction (``calibration.json``, made by ``benchmarks/device_emulated.py``).

The row keeps the per-MAC row's keys (so reports and the run read it the same way) and adds the
per-operator table, the fixed cost per inference (the interpreter's own instructions, outside every
operator) and the counts it came from. Pure functions over the profile, the emulation record and
the board's fit.
"""

from __future__ import annotations

import json
from importlib import resources

from ..battery import Battery, DutyCycle
from ..predict import fit_check, realtime_and_battery
from ..profile import DeviceProfile

CALIBRATION_FILE = "calibration.json"


def load_calibration() -> dict:
    """The packaged fits: {"boards": {profile name: fit}, "instructions": ..., ...}; {} if absent."""
    path = resources.files("ecg_energy.devices.emulate") / CALIBRATION_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def price_emulated(profile: DeviceProfile, base: dict, emu: dict, fit: dict, cycle: DutyCycle,
                   battery: Battery) -> dict:  # fmt: skip
    """The emulated row, from ``base`` (the per-MAC row of the same model and board: its memory
    and notes are kept) and ``emu`` (an emulation record of ``run.emulate``)."""
    row = dict(base)
    row["notes"] = [n for n in base.get("notes", []) if "outside the calibrated" not in n
                    and "not real time" not in n]  # fmt: skip
    counts = emu["instructions"]
    insns = float(counts["invoke"])
    cpi = fit.get("cycles_per_instruction")
    e_insn = fit.get("energy_pj_per_instruction")
    clock = profile.clock_hz
    where = f"MLPerf Tiny {fit.get('round')} {fit.get('system')}"
    row["instructions"] = insns
    row["per_mac_row"] = {k: base.get(k) for k in ("energy_j", "energy_j_low", "energy_j_high",
                                                   "latency_s", "latency_s_low", "latency_s_high",
                                                   "method")}  # fmt: skip
    if cpi:
        lat = cpi * insns / clock
        lb = fit["latency_band"]
        row.update(latency_s=lat, latency_s_low=lat * lb[0], latency_s_high=lat * lb[1])
    if e_insn:
        e = e_insn * 1e-12 * insns
        eb = fit["energy_band"]
        row.update(energy_j=e, energy_j_low=e * eb[0], energy_j_high=e * eb[1])
        energy_text = f"{e_insn:g} pJ/instruction"
    elif cpi and profile.power.get("active_w"):
        p = profile.power["active_w"]
        row.update(energy_j=p * row["latency_s"], energy_j_low=p * row["latency_s_low"],
                   energy_j_high=p * row["latency_s_high"])  # fmt: skip
        energy_text = f"datasheet {p * 1e3:.3g} mW x latency"
    else:
        energy_text = "no energy"
    row["method"] = (f"emulated:{emu['target']} (TFLM+CMSIS-NN on QEMU {emu['machine']}: "
                     f"{insns:,.0f} instructions x {cpi:g} cycles/instruction, {energy_text}; "
                     f"fitted on {where})")  # fmt: skip
    per_cycle_e = row["energy_j"] / insns if row.get("energy_j") else None
    per_insn_t = row["latency_s"] / insns if row.get("latency_s") else None
    row["operators"] = operator_table(emu, per_insn_t, per_cycle_e)
    interp = float(counts["interpreter"])
    row["fixed"] = {"instructions": interp, "share": interp / insns if insns else None,
                    "latency_s": interp * per_insn_t if per_insn_t else None,
                    "energy_j": interp * per_cycle_e if per_cycle_e else None,
                    "setup_instructions": counts["setup"]}  # fmt: skip
    if emu.get("arena_bytes") is not None:
        row["arena_bytes"] = int(emu["arena_bytes"])
        row["arena_source"] = f"TFLM's arena_used_bytes on the emulated {emu['target']}"
        row["sram_bytes"] = row["arena_bytes"] + int(profile.runtime["ram_overhead_bytes"])
        row["notes"] = [n for n in row["notes"] if not n.startswith("does not fit")]
        fit_check(row, profile)
    _realtime_and_battery(row, profile, cycle, battery)
    return row


def operator_table(emu: dict, s_per_insn: float | None, j_per_insn: float | None) -> list[dict]:
    """One row per operator in execution order: its instructions, share of the inference, and
    (priced) time and energy.

    >>> emu = {"ops": ["CONV_2D", "SOFTMAX"], "instructions": {"invoke": 100.0,
    ...        "per_op": [75.0, 20.0], "interpreter": 5.0}}
    >>> [(r["op"], r["share"]) for r in operator_table(emu, None, None)]
    [('CONV_2D', 0.75), ('SOFTMAX', 0.2)]"""
    invoke = float(emu["instructions"]["invoke"])
    out = []
    for i, (op, n) in enumerate(zip(emu["ops"], emu["instructions"]["per_op"])):
        out.append({"index": i, "op": op, "instructions": float(n),
                    "share": n / invoke if invoke else None,
                    "latency_s": n * s_per_insn if s_per_insn else None,
                    "energy_j": n * j_per_insn if j_per_insn else None})  # fmt: skip
    return out


def _realtime_and_battery(row: dict, profile: DeviceProfile, cycle: DutyCycle,
                          battery: Battery) -> None:  # fmt: skip
    row["realtime"] = None
    row.update(battery_days=None, battery_days_low=None, battery_days_high=None)
    realtime_and_battery(row, profile, cycle, battery)
