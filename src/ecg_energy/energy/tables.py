"""Energy tables as data: TOML files in the package (each citing its source) or a user's own file.

A table prices a multiply-accumulate by precision (``mac_pj``), other arithmetic by kind and
precision (``op_pj``), an INT8 requantization (``requant``), and memory per byte (``memory``), or is
one flat price per FLOP (``flat_pj_per_flop``, the report's convention).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from importlib import resources

from ..errors import ConfigError
from ..tomlio import loads as _toml_loads

BUILTIN = ("seed-flat", "horowitz-45nm", "jouppi-7nm")


@dataclass(frozen=True)
class EnergyTable:
    name: str
    description: str
    source: str
    flat_pj_per_flop: float | None = None
    mac_pj: dict[str, float] = field(default_factory=dict)
    op_pj: dict[str, dict[str, float]] = field(default_factory=dict)
    requant_pj: float = 0.0
    sram_pj_per_byte: tuple[tuple[int, float], ...] = ()
    dram_pj_per_byte: tuple[float, float] = (0.0, 0.0)
    origin: str = ""

    @property
    def flat(self) -> bool:
        return self.flat_pj_per_flop is not None

    def mac(self, precision: str) -> float:
        if precision not in self.mac_pj:
            raise ConfigError(f"energy table {self.name}: no MAC energy for {precision}; "
                              f"add mac_pj.{precision} to {self.origin or 'the table'}")  # fmt: skip
        return self.mac_pj[precision]

    def op(self, kind: str, precision: str) -> float:
        group = "int8" if precision == "int8" else ("fp16" if precision == "fp16" else "fp32")
        try:
            return self.op_pj[group][kind]
        except KeyError:
            raise ConfigError(f"energy table {self.name}: no energy for {kind} in {group}; "
                              f"add op_pj.{group}.{kind}") from None  # fmt: skip

    def sram(self, buffer_bytes: int) -> float:
        """pJ per byte of the smallest listed SRAM that holds ``buffer_bytes`` (else the largest)."""
        for size, pj in self.sram_pj_per_byte:
            if buffer_bytes <= size:
                return pj
        return self.sram_pj_per_byte[-1][1]


def _positive(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value < 0:  # fmt: skip
        raise ConfigError(f"{where}: must be a non-negative number, got {value!r}")
    return float(value)


def parse_table(data: dict, origin: str) -> EnergyTable:
    """Validate a table's TOML content; every problem names the file and the key."""
    name = str(data.get("name") or os.path.splitext(os.path.basename(origin))[0])
    common = {"name": name, "description": str(data.get("description", "")),
              "source": str(data.get("source", "")), "origin": origin}  # fmt: skip
    if not common["source"]:
        raise ConfigError(f"{origin}: say where the figures come from in a 'source' key")
    if "flat_pj_per_flop" in data:
        return EnergyTable(**common, flat_pj_per_flop=_positive(data["flat_pj_per_flop"],
                                                                f"{origin}: flat_pj_per_flop"))  # fmt: skip
    for key in ("mac_pj", "op_pj", "requant", "memory"):
        if not isinstance(data.get(key), dict):
            raise ConfigError(f"{origin}: missing section [{key}] (or give flat_pj_per_flop)")
    mac = {k: _positive(v, f"{origin}: mac_pj.{k}") for k, v in data["mac_pj"].items()}
    for need in ("fp32", "int8"):
        if need not in mac:
            raise ConfigError(f"{origin}: mac_pj needs at least fp32 and int8 (missing {need})")
    ops = {}
    for group, entries in data["op_pj"].items():
        if not isinstance(entries, dict):
            raise ConfigError(f"{origin}: op_pj.{group} must be a table of operation energies")
        ops[group] = {k: _positive(v, f"{origin}: op_pj.{group}.{k}") for k, v in entries.items()}
    mem = data["memory"]
    try:
        sram = tuple(sorted((int(s), _positive(p, f"{origin}: memory.sram_pj_per_byte"))
                            for s, p in mem["sram_pj_per_byte"]))  # fmt: skip
        lo, hi = (
            _positive(v, f"{origin}: memory.dram_pj_per_byte") for v in mem["dram_pj_per_byte"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: memory needs sram_pj_per_byte = [[bytes, pJ], …] and "
                          f"dram_pj_per_byte = [low, high] ({exc})") from exc  # fmt: skip
    if not sram or lo > hi:
        raise ConfigError(f"{origin}: memory.sram_pj_per_byte is empty or dram low > high")
    return EnergyTable(**common, mac_pj=mac, op_pj=ops,
                       requant_pj=_positive(data["requant"].get("pj"), f"{origin}: requant.pj"),
                       sram_pj_per_byte=sram, dram_pj_per_byte=(lo, hi))  # fmt: skip


def load_table(name_or_path: str) -> EnergyTable:
    """A built-in table by name, or a user's TOML file by path."""
    if name_or_path in BUILTIN:
        text = (
            resources.files("ecg_energy.energy")
            .joinpath("tables", f"{name_or_path}.toml")
            .read_text()
        )
        return parse_table(_toml_loads(text, name_or_path), f"built-in table {name_or_path}")
    if not os.path.isfile(name_or_path):
        raise ConfigError(f"energy table {name_or_path!r}: not a built-in table "
                          f"({', '.join(BUILTIN)}) and no such file")  # fmt: skip
    with open(name_or_path, encoding="utf-8") as fh:
        return parse_table(_toml_loads(fh.read(), name_or_path), name_or_path)
