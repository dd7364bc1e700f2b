"""Intel/AMD RAPL through the Linux powercap sysfs tree: package and DRAM energy counters.

Counters are in µJ, update about every millisecond, and wrap at ``max_energy_range_uj`` (32-bit
on many parts): a reading smaller than the previous one means the counter wrapped once. Reading
them usually needs root (ANCHORS §4).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from .base import MEASURED, EnergyReading, Meter, MeterUnavailable, register_meter

POWERCAP = "/sys/class/powercap"


@dataclass(frozen=True)
class Domain:
    name: str  # e.g. "package-0", "dram"
    path: str
    max_uj: int


def counter_delta_uj(before: int, after: int, max_uj: int) -> int:
    """Energy between two counter readings, allowing one wraparound at ``max_uj``:
    e.g. before = max_uj - 10, after = 5 -> 15 µJ."""
    return after - before if after >= before else (max_uj - before) + after


def find_domains(root: str) -> list[Domain]:
    """Top-level package domains (intel-rapl:N) and their DRAM subdomains."""
    if not os.path.isdir(root):
        raise MeterUnavailable(f"no {root} (RAPL is not exposed on this machine)")
    domains = []
    for entry in sorted(os.listdir(root)):
        if not entry.startswith(("intel-rapl:", "amd-rapl:")) or entry.count(":") != 1:
            continue
        base = os.path.join(root, entry)
        candidates = [base] + [os.path.join(base, s) for s in sorted(os.listdir(base))
                               if s.startswith(entry + ":")]  # fmt: skip
        for path in candidates:
            try:
                with open(os.path.join(path, "name")) as fh:
                    name = fh.read().strip()
                if name not in ("dram",) and not name.startswith("package"):
                    continue
                with open(os.path.join(path, "max_energy_range_uj")) as fh:
                    max_uj = int(fh.read().strip())
                with open(os.path.join(path, "energy_uj")) as fh:
                    int(fh.read().strip())
            except PermissionError as exc:
                raise MeterUnavailable(f"{path}/energy_uj is not readable (run as root, or "
                                       "chmod it)") from exc  # fmt: skip
            except (OSError, ValueError):
                continue
            label = name if name != "dram" else f"dram-{entry.split(':')[1]}"
            domains.append(Domain(label, path, max_uj))
    if not domains:
        raise MeterUnavailable(f"no readable RAPL package domain under {root}")
    return domains


def _read(domain: Domain) -> int:
    with open(os.path.join(domain.path, "energy_uj")) as fh:
        return int(fh.read().strip())


@register_meter("rapl")
class RaplMeter(Meter):
    """Package + DRAM energy from RAPL counters (whole machine, measured)."""

    name = "rapl"
    measured = True
    covers = ("cpu",)  # the CPU package, and the DRAM where its domain is exposed
    attribution = "machine"  # a package counter sees every process on the socket

    def __init__(self, root: str | None = None, clock=time.perf_counter):
        self.domains = find_domains(root or POWERCAP)
        self._clock = clock
        self._start: dict[str, int] = {}
        self._t0 = 0.0

    def start(self) -> None:
        self._start = {d.name: _read(d) for d in self.domains}
        self._t0 = self._clock()

    def stop(self) -> EnergyReading:
        seconds = self._clock() - self._t0
        parts = {d.name: counter_delta_uj(self._start[d.name], _read(d), d.max_uj) * 1e-6
                 for d in self.domains}  # fmt: skip
        return EnergyReading(sum(parts.values()), seconds, "rapl", True, parts,
                             dict.fromkeys(parts, MEASURED))  # fmt: skip
