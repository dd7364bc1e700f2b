"""Benchmark: model files scored at ICU alarms as the PhysioNet/CinC Challenge 2015 scored them.

Runs ``ecg_energy.evaluate_alarms`` (the 16 s before each alarm; VT and VF/VFL alarms called true
on a shock advised, asystole alarms on asystole called; bradycardia and tachycardia alarms counted,
not scored) and writes the scores with what was scored and how.

    PYTHONPATH=src .venv/bin/python benchmarks/alarm_scores.py runs/default/models \\
        --alarms ../shared/data/physionet/challenge2015 --note "trained on ..." --out FILE
"""

from __future__ import annotations

import argparse
import sys

import ecg_energy as ee
from ecg_energy.fsio import atomic_write_json
from ecg_energy.report.alarms import format_alarms


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--alarms", required=True)
    ap.add_argument("--note", default="", help="What the models were trained on.")
    ap.add_argument("--alarm-windows", type=int, default=1)
    ap.add_argument("--out", default="benchmarks/results/alarm_scores.json")
    args = ap.parse_args(argv)
    result = ee.evaluate_alarms(args.models, args.alarms, min_windows=args.alarm_windows)
    print(format_alarms(result))
    atomic_write_json(args.out, {"models_trained_on": args.note, **result})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
