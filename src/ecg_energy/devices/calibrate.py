"""Calibration of a board's energy and latency per inference from MLPerf Tiny results.

The model (chosen from the data; ``benchmarks/device_validation.py`` compares the candidates):

    energy per inference  = e_mac   x MACs       e_mac:   the geometric mean of the board's J / MAC
    latency per inference = c_mac   x MACs / f   c_mac:   the geometric mean of its cycles / MAC

over the board's benchmarks of one round (one software stack). Why this one: on every MCU in the
results the energy run's power is nearly constant across the four benchmarks (e.g. STM32U575 v1.2
22.7-24.0 mW), so energy follows time, and time follows work; what varies is the work's kind
(a ResNet's 3x3 convolutions run at fewer cycles per MAC than a DS-CNN's depthwise layers or an
autoencoder's fully connected layers). The spread is multiplicative, so the geometric mean is the
natural centre. Leaving each benchmark out and predicting it from the board's others, it is the
best of the candidates tried on the 113 energy results: median absolute error 17.4% against 21.9%
(the arithmetic median of J/MAC), 24.9% (a log-log fit) and 31.3% (an affine fit, J = a x MACs + b,
whose fixed cost per inference b three points cannot pin down: it comes out negative on some
boards); ``benchmarks/results/device_validation.json``. So the fixed
cost per inference is not modelled; the smallest reference model has 264,192 MACs, and a model
far below that is flagged as outside the calibrated range.

The range is a prediction band: the 5th-95th percentiles of the leave-one-benchmark-out ratios
(measured / predicted) pooled over every board with energy results (a split-conformal 90% band).

Pure functions over rows; reading ``results.csv`` is :func:`read_results`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass

import numpy as np

BENCHMARKS = ("ad", "ic", "kws", "vww")
BAND_COVERAGE = 0.90  # the prediction band's nominal coverage


@dataclass(frozen=True)
class Row:
    """One MLPerf Tiny result, as used for calibration."""

    round: str
    system: str
    benchmark: str
    macs: int
    energy_j: float | None  # median energy per inference (EnergyRunner, the board's supply)
    latency_s: float | None  # median latency of the performance run
    power_w: float | None  # median power of the energy run
    clock_hz: float | None
    framework: str
    source_path: str
    energy_source_path: str

    @property
    def key(self) -> str:
        return f"{self.round}|{self.system}"

    def as_dict(self) -> dict:
        return asdict(self)


def _float(text: str | None) -> float | None:
    try:
        v = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return v if v is not None and math.isfinite(v) else None


def read_results(path: str, macs: dict[str, int]) -> list[Row]:
    """The closed- and open-division rows of ``results.csv`` for the reference models (no
    ``variant``), with ``macs`` per benchmark. A row whose energy figure repeats an earlier row
    of the same system and benchmark exactly (a result resubmitted byte for byte in a later
    round) is kept once."""
    rows, seen = [], set()
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            b = r.get("benchmark", "")
            if b not in macs or (r.get("variant") or "").strip():
                continue
            energy_uj = _float(r.get("median_uj_per_inf"))
            dup = (r["system"], b, energy_uj, _float(r.get("perf_median_latency_ms")))
            if dup in seen:
                continue
            seen.add(dup)
            lat_ms = _float(r.get("perf_median_latency_ms"))
            power_mw = _float(r.get("energy_median_power_mw"))
            clock = _float(r.get("clock_mhz"))
            rows.append(Row(r["round"], r["system"], b, int(macs[b]),
                            energy_uj * 1e-6 if energy_uj is not None else None,
                            lat_ms * 1e-3 if lat_ms is not None else None,
                            power_mw * 1e-3 if power_mw is not None else None,
                            clock * 1e6 if clock is not None else None,
                            r.get("framework", ""), r.get("source_path", ""),
                            r.get("energy_source_path", "")))  # fmt: skip
    return rows


def per_mac(row: Row, kind: str) -> float | None:
    """J per MAC (``energy``) or cycles per MAC (``latency``) of one result."""
    if kind == "energy":
        return row.energy_j / row.macs if row.energy_j else None
    if kind == "latency":
        return row.latency_s * row.clock_hz / row.macs if row.latency_s and row.clock_hz else None
    raise ValueError(f"kind is energy or latency, not {kind!r}")


def geo_mean(values: list[float]) -> float:
    """>>> round(geo_mean([1.0, 4.0]), 6)
    2.0"""
    if not values or min(values) <= 0:
        raise ValueError("geo_mean needs positive values")
    return math.exp(sum(math.log(v) for v in values) / len(values))


def groups(rows: list[Row], kind: str, min_benchmarks: int = 3) -> dict[str, list[Row]]:
    """{round|system: its rows with a figure of ``kind``}, for groups of >= ``min_benchmarks``
    distinct benchmarks (fewer cannot leave one out and keep a spread)."""
    out: dict[str, list[Row]] = {}
    for r in rows:
        if per_mac(r, kind) is not None:
            out.setdefault(r.key, []).append(r)
    return {k: g for k, g in out.items() if len({r.benchmark for r in g}) >= min_benchmarks}


def leave_one_out(group: list[Row], kind: str) -> list[tuple[Row, float, float]]:
    """(row, predicted, measured) for each row, predicted from the group's other benchmarks."""
    out = []
    for row in group:
        others = [per_mac(r, kind) for r in group if r.benchmark != row.benchmark]
        out.append((row, geo_mean(others) * row.macs, per_mac(row, kind) * row.macs))
    return out


def quantile(values: list[float], q: float) -> float:
    """Linear-interpolated quantile (numpy's default).

    >>> quantile([1.0, 2.0, 3.0, 4.0], 0.5)
    2.5"""
    if not len(values):
        raise ValueError("quantile of no values")
    return float(np.quantile(np.asarray(values, dtype=float), q))


def band(ratios: list[float], coverage: float = BAND_COVERAGE) -> tuple[float, float]:
    """(low, high) factors on a prediction: the central ``coverage`` quantiles of measured /
    predicted ratios."""
    tail = (1.0 - coverage) / 2.0
    return quantile(ratios, tail), quantile(ratios, 1.0 - tail)


def pooled_band(rows: list[Row], kind: str, exclude: str | None = None) -> tuple[float, float, int]:
    """The band from every group's leave-one-out ratios (``exclude``: a group left out, for
    validating that group honestly); also the number of ratios."""
    ratios = [m / p for key, g in groups(rows, kind).items() if key != exclude
              for _, p, m in leave_one_out(g, kind)]  # fmt: skip
    lo, hi = band(ratios)
    return lo, hi, len(ratios)


def calibrate(rows: list[Row], select: dict, all_rows: list[Row] | None = None) -> dict:
    """A board's calibration from its ``rows`` (those matching ``select``: round and system).

    Returns the generated figures of a profile: energy per MAC and cycles per MAC with their
    per-benchmark values, the pooled bands, the measured power of the energy runs, the calibrated
    MAC range and every row used (with its source path)."""
    mine = [r for r in rows if r.round == select["round"] and r.system == select["system"]]
    if not mine:
        raise ValueError(f"no MLPerf Tiny rows for round {select['round']} system "
                         f"{select['system']}")  # fmt: skip
    pool = all_rows if all_rows is not None else rows
    out: dict = {"round": select["round"], "system": select["system"],
                 "model": "geometric mean per MAC over the board's benchmarks",
                 "band_coverage": BAND_COVERAGE,
                 "macs_range": [min(r.macs for r in mine), max(r.macs for r in mine)]}  # fmt: skip
    energy = [per_mac(r, "energy") for r in mine if per_mac(r, "energy")]
    cycles = [per_mac(r, "latency") for r in mine if per_mac(r, "latency")]
    if energy:
        lo, hi, n = pooled_band(pool, "energy")
        out.update(energy_pj_per_mac=_round(geo_mean(energy) * 1e12),
                   energy_pj_per_mac_by_benchmark={r.benchmark: _round(per_mac(r, "energy") * 1e12)
                                                   for r in mine if r.energy_j},
                   energy_band=[_round(lo), _round(hi)], energy_band_ratios=n,
                   measured_power_w=_round(_median([r.power_w for r in mine if r.power_w])))  # fmt: skip
    if cycles:
        lo, hi, n = pooled_band(pool, "latency")
        out.update(cycles_per_mac=_round(geo_mean(cycles)),
                   cycles_per_mac_by_benchmark={r.benchmark: _round(per_mac(r, "latency"))
                                                for r in mine if per_mac(r, "latency")},
                   latency_band=[_round(lo), _round(hi)], latency_band_ratios=n)  # fmt: skip
    out["rows"] = [{"benchmark": r.benchmark, "macs": r.macs,
                    "energy_uj": _round(r.energy_j * 1e6) if r.energy_j else None,
                    "latency_ms": _round(r.latency_s * 1e3) if r.latency_s else None,
                    "power_mw": _round(r.power_w * 1e3) if r.power_w else None,
                    "framework": r.framework, "source_path": r.source_path,
                    "energy_source_path": r.energy_source_path}
                   for r in sorted(mine, key=lambda r: r.benchmark)]  # fmt: skip
    return out


def _median(xs: list[float]) -> float | None:
    return quantile(xs, 0.5) if xs else None


def _round(x: float | None, digits: int = 5) -> float | None:
    """Significant digits, so regenerated files compare equal across platforms."""
    if x is None or x == 0:
        return x
    return float(f"{x:.{digits}g}")
