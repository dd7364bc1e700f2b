"""Benchmark: how well the device energy model predicts MLPerf Tiny results it was not given.

Every MLPerf Tiny energy result (each board and round with at least three of the four benchmarks)
is predicted from the same board's *other* benchmarks of the same round: energy = the geometric
mean of their J / MAC x the left-out model's MACs. Its prediction band is built from every *other*
board's leave-one-out ratios (so the board under test never shapes its own band). Reported per
board and overall: median absolute error, the share of measured values inside the band, and the
same for latency (cycles per MAC). Alternative models are scored the same way, which is why the
geometric mean was chosen. For the boards whose profile cites a datasheet active power, the
datasheet power x the measured latency is compared with the measured energy.

    .venv/bin/python benchmarks/device_validation.py [--results data/mlperf-tiny/results.csv]
                                                     [--out benchmarks/results/device_validation.json]
Targets (issue): median absolute error <= 20% and >= 80% of measured values inside the range.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from calibrate_devices import RESULTS, reference_macs  # noqa: E402

from ecg_energy.devices import calibrate as cal  # noqa: E402
from ecg_energy.devices.profile import builtin_names, load_profile  # noqa: E402
from ecg_energy.fsio import atomic_write_json  # noqa: E402

TARGET_ERROR = 0.20
TARGET_COVERAGE = 0.80


def _candidates():
    """Other ways to predict a left-out benchmark from a board's others (J or cycles per MAC)."""

    def median(others, macs, target):
        return statistics.median(k for k, _ in others) * target

    def geo(others, macs, target):
        return cal.geo_mean([k for k, _ in others]) * target

    def loglog(others, macs, target):  # log(J) = a log(MACs) + b
        xs = [math.log(m) for _, m in others]
        ys = [math.log(k * m) for k, m in others]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        a = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
        return math.exp(my + a * (math.log(target) - mx))

    def affine(others, macs, target):  # J = a MACs + b (a fixed cost per inference)
        xs = [m for _, m in others]
        ys = [k * m for k, m in others]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        a = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        return my + a * (target - mx)

    return {"geometric-mean (chosen)": geo, "median": median, "log-log fit": loglog,
            "affine (fixed cost)": affine}  # fmt: skip


def validate(rows: list[cal.Row], kind: str) -> dict:
    groups = cal.groups(rows, kind)
    cases = []
    for key, g in groups.items():
        lo, hi, _ = cal.pooled_band(rows, kind, exclude=key)
        for row, pred, meas in cal.leave_one_out(g, kind):
            cases.append({"board": key, "benchmark": row.benchmark, "macs": row.macs,
                          "measured": meas, "predicted": pred, "error": pred / meas - 1,
                          "low": pred * lo, "high": pred * hi,
                          "inside": pred * lo <= meas <= pred * hi})  # fmt: skip

    def summary(cs):
        errs = [abs(c["error"]) for c in cs]
        return {"n": len(cs), "median_abs_error": statistics.median(errs),
                "p90_abs_error": cal.quantile(errs, 0.9),
                "coverage": sum(c["inside"] for c in cs) / len(cs)}  # fmt: skip

    boards = {}
    for key in groups:
        boards[key] = summary([c for c in cases if c["board"] == key])
    overall = summary(cases)
    overall.update(meets_error_target=overall["median_abs_error"] <= TARGET_ERROR,
                   meets_coverage_target=overall["coverage"] >= TARGET_COVERAGE)  # fmt: skip
    models = {}
    for name, fn in _candidates().items():
        errs = []
        for g in groups.values():
            for row in g:
                others = [(cal.per_mac(r, kind), r.macs) for r in g if r.benchmark != row.benchmark]
                pred = fn(others, None, row.macs)
                errs.append(abs(pred / (cal.per_mac(row, kind) * row.macs) - 1))
        models[name] = {"median_abs_error": statistics.median(errs),
                        "p90_abs_error": cal.quantile(errs, 0.9)}  # fmt: skip
    return {"overall": overall, "by_board": boards, "candidates": models, "cases": cases}


def datasheet_check(rows: list[cal.Row]) -> list[dict]:
    """Datasheet active power x measured latency against measured energy, per benchmark, for
    the profiles that cite an active power and have energy results."""
    out = []
    for name in builtin_names():
        p = load_profile(name)
        if not (p.has_energy and p.power.get("active_w")):
            continue
        for r in rows:
            if r.round == p.select["round"] and r.system == p.select["system"] and r.energy_j \
                    and r.latency_s:  # fmt: skip
                model = p.power["active_w"] * r.latency_s
                out.append({"device": name, "benchmark": r.benchmark, "measured_j": r.energy_j,
                            "datasheet_x_latency_j": model, "ratio": model / r.energy_j,
                            "measured_power_w": r.power_w,
                            "datasheet_power_w": p.power["active_w"]})  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default=RESULTS)
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                  "device_validation.json"))  # fmt: skip
    args = ap.parse_args(argv)
    rows = cal.read_results(args.results, reference_macs())
    energy, latency = validate(rows, "energy"), validate(rows, "latency")
    kws = [c for c in energy["cases"] if c["board"] == "v1.2|NUCLEO_U575ZI_Q"
           and c["benchmark"] == "kws"]  # fmt: skip
    doc = {"results_csv": os.path.relpath(args.results, ROOT), "band_coverage": cal.BAND_COVERAGE,
           "targets": {"median_abs_error": TARGET_ERROR, "coverage": TARGET_COVERAGE},
           "energy": energy, "latency": latency, "datasheet_vs_measured": datasheet_check(rows),
           "stm32u575_kws": kws[0] if kws else None}  # fmt: skip
    atomic_write_json(args.out, doc)
    for kind, v in (("energy", energy), ("latency", latency)):
        o = v["overall"]
        print(
            f"{kind}: {o['n']} results, median |error| {100 * o['median_abs_error']:.1f}%, "
            f"inside the {100 * cal.BAND_COVERAGE:.0f}% band {100 * o['coverage']:.1f}%"
        )
        for name, c in v["candidates"].items():
            print(f"  {name:<24} median |error| {100 * c['median_abs_error']:.1f}%")
    print(f"{'board':<46}{'n':>3}{'median |err|':>14}{'inside':>8}")
    for key, b in energy["by_board"].items():
        print(
            f"{key:<46}{b['n']:>3}{100 * b['median_abs_error']:>13.1f}%{100 * b['coverage']:>7.0f}%"
        )
    if kws:
        k = kws[0]
        print(
            f"STM32U575 v1.2 kws: predicted {k['predicted'] * 1e6:.0f} uJ "
            f"[{k['low'] * 1e6:.0f}, {k['high'] * 1e6:.0f}], measured {k['measured'] * 1e6:.0f} "
            f"uJ ({100 * k['error']:+.1f}%)"
        )
    for d in doc["datasheet_vs_measured"]:
        print(f"{d['device']} {d['benchmark']}: datasheet x latency / measured = {d['ratio']:.2f}")
    print(f"wrote {os.path.relpath(args.out, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
