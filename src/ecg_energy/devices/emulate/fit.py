"""Calibration of the emulated method: per board, the cycles per emulated instruction and the
energy per instruction (and so per cycle), fitted on MLPerf Tiny's measured results of the four
reference models, whose instructions per inference come from emulating TFLM + CMSIS-NN on the
board's core.

    latency per inference = CPI x instructions / clock    CPI: geometric mean over the board's benchmarks
    energy per inference  = e_insn x instructions         e_insn: likewise; e_cycle = e_insn / CPI

The per-MAC model (``devices.calibrate``) does the same with MACs in place of instructions; the
instruction count adds what the per-MAC model cannot see: the runtime's requantisation, im2col
and copies, each operator's fixed work and the interpreter's own. Bands are split-conformal: the
5th-95th percentiles of leave-one-benchmark-out ratios (measured / predicted) pooled over the
boards. Pure functions over :class:`devices.calibrate.Row` and {benchmark: instructions}.
"""

from __future__ import annotations

import math

from ..calibrate import Row, band, geo_mean, quantile


def per_insn(row: Row, insns: float, kind: str) -> float | None:
    """J per instruction (``energy``) or cycles per instruction (``latency``) of one result.

    >>> r = Row("v1", "b", "ad", 10, 0.5, 1e-3, None, 1e6, "", "", "")
    >>> per_insn(r, 500.0, "energy"), per_insn(r, 500.0, "latency")
    (0.001, 2.0)"""
    if kind == "energy":
        return row.energy_j / insns if row.energy_j else None
    if kind == "latency":
        return row.latency_s * row.clock_hz / insns if row.latency_s and row.clock_hz else None
    raise ValueError(f"kind is energy or latency, not {kind!r}")


def measured(row: Row, kind: str) -> float | None:
    return row.energy_j if kind == "energy" else row.latency_s


def loo(group: list[Row], insns: dict[str, float], kind: str) -> list[tuple[Row, float, float]]:
    """(row, predicted, measured) for each row of one board, predicted from its other benchmarks
    (latency predicted in seconds, energy in joules)."""
    out = []
    for row in group:
        others = [per_insn(r, insns[r.benchmark], kind) for r in group
                  if r.benchmark != row.benchmark]  # fmt: skip
        scale = insns[row.benchmark] / (row.clock_hz if kind == "latency" else 1.0)
        out.append((row, geo_mean(others) * scale, measured(row, kind)))
    return out


def loo_per_mac(group: list[Row], kind: str) -> list[tuple[Row, float, float]]:
    """The per-MAC model's leave-one-out on the same rows (as ``devices.calibrate``)."""
    return loo(group, {r.benchmark: float(r.macs) for r in group}, kind)


def abs_errors(triples: list[tuple[Row, float, float]]) -> list[float]:
    """|predicted / measured - 1| of each (row, predicted, measured).

    >>> abs_errors([(None, 1.1, 1.0), (None, 0.5, 1.0)])
    [0.10000000000000009, 0.5]"""
    return [abs(p / m - 1.0) for _, p, m in triples]


def median(xs: list[float]) -> float | None:
    return quantile(xs, 0.5) if xs else None


def fit_board(group: list[Row], insns: dict[str, float], bands: dict[str, tuple[float, float]]
              ) -> dict:  # fmt: skip
    """A board's constants from its rows: cycles per instruction, energy per instruction and per
    cycle (geometric means, with the per-benchmark values), and the pooled bands."""
    out: dict = {"benchmarks": sorted({r.benchmark for r in group})}
    cpi = {r.benchmark: per_insn(r, insns[r.benchmark], "latency") for r in group}
    cpi = {k: v for k, v in cpi.items() if v}
    e = {r.benchmark: per_insn(r, insns[r.benchmark], "energy") for r in group}
    e = {k: v for k, v in e.items() if v}
    if cpi:
        out["cycles_per_instruction"] = _round(geo_mean(list(cpi.values())))
        out["cycles_per_instruction_by_benchmark"] = {k: _round(v) for k, v in sorted(cpi.items())}
        out["latency_band"] = [_round(v) for v in bands["latency"]]
    if e:
        out["energy_pj_per_instruction"] = _round(geo_mean(list(e.values())) * 1e12)
        out["energy_pj_per_instruction_by_benchmark"] = {k: _round(v * 1e12)
                                                         for k, v in sorted(e.items())}  # fmt: skip
        out["energy_band"] = [_round(v) for v in bands["energy"]]
        if cpi:
            out["energy_pj_per_cycle"] = _round(out["energy_pj_per_instruction"]
                                                / out["cycles_per_instruction"])  # fmt: skip
    return out


def pooled_bands(groups: dict[str, list[Row]], insns_of: dict[str, dict[str, float]]
                 ) -> dict[str, tuple[float, float]]:  # fmt: skip
    """The 90% bands of the emulated method from every group's leave-one-out ratios."""
    out = {}
    for kind in ("energy", "latency"):
        ratios = [m / p for key, g in groups.items()
                  for _, p, m in loo([r for r in g if measured(r, kind)], insns_of[key], kind)
                  if len({r.benchmark for r in g if measured(r, kind)}) >= 3]  # fmt: skip
        out[kind] = band(ratios) if ratios else (math.nan, math.nan)
    return out


def _round(x: float, digits: int = 5) -> float:
    return float(f"{x:.{digits}g}")
