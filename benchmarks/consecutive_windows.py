"""Benchmark: the shock decision over consecutive windows, on a cross-validated run's own models.

A wearable analyses the ECG every stride (2 s) and may act on more than the last window: this
script takes a run made with ``--folds K``, scores every record with the fold models that never
saw it (as the run's cross-validation does), and compares the per-window decision (what the run
reports) with a causal decision over the last ``n`` windows: the mean of the class probabilities
of the window and the ``n - 1`` before it in the same record (fewer where the record starts or a
window was skipped), argmax, shock if that class is shockable. ``n = 3`` is 8 s of ECG at the
default 4 s windows and 2 s stride; the device runs the same one inference per stride, so the
energy per decision is unchanged. Every figure is pooled over the folds, with the AHA table.
The run itself makes this decision with ``--decide-over N`` (``decide_over`` in the config).

    .venv/bin/python benchmarks/consecutive_windows.py --run runs/real --out FILE
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from ecg_energy.data.sources import load_sources
from ecg_energy.data.wfdb_source import ReadOptions
from ecg_energy.fsio import atomic_write_json
from ecg_energy.models.assess import logits_of
from ecg_energy.models.evaluate import (
    causal_mean,
    evaluate_predictions,
    previous_window,
    softmax,
)
from ecg_energy.models.io import load_model_file


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", required=True, help="a run folder made with --folds")
    ap.add_argument("--variants", nargs="+",
                    default=["original", "original-int8", "distilled", "distilled-int8",
                             "student-plain"])  # fmt: skip
    ap.add_argument("--windows", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    with open(os.path.join(args.run, "run.json")) as fh:
        config = json.load(fh)["config"]
    with open(os.path.join(args.run, "crossval.json")) as fh:
        by_fold = json.load(fh)["records_by_fold"]
    read = config["read"]
    opts = ReadOptions(**{k: v for k, v in read.items() if k in ReadOptions.__dataclass_fields__})
    ds, _ = load_sources(config["data"], opts, os.path.join(args.run, "data"))  # the run's cache
    prev = previous_window(ds.groups, ds.start_s, float(read["stride_s"]))
    doc = {"run": args.run, "windows": int(len(ds)), "stride_s": read["stride_s"],
           "with_predecessor": float((prev >= 0).mean()), "variants": {}}  # fmt: skip
    for name in args.variants:
        probs = np.full((len(ds), len(ds.class_names)), np.nan)
        for k, records in by_fold.items():
            folder = os.path.join(args.run, "folds", str(int(k) - 1))
            path = next((os.path.join(folder, f"{name}{ext}") for ext in (".keras", ".tflite")
                         if os.path.isfile(os.path.join(folder, f"{name}{ext}"))), None)  # fmt: skip
            if path is None:
                break
            test = np.flatnonzero(np.isin(ds.groups, records))
            probs[test] = softmax(logits_of(load_model_file(path), ds.X[test]))
        if np.isnan(probs).any():
            print(f"{name}: not in every fold of {args.run}; left out", file=sys.stderr)
            continue
        rows = {}
        for n in args.windows:
            pred = np.argmax(causal_mean(probs, prev, n), axis=1)
            m = evaluate_predictions(pred, ds.y, ds.class_names, ds.rhythm, ds.amplitude_uv,
                                     ds.task)  # fmt: skip
            sd = m["shock_decision"]
            rows[str(n)] = {"shock_sensitivity": sd["sensitivity"],
                            "shock_specificity": sd["specificity"],
                            "balanced_accuracy": m["balanced_accuracy"],
                            "aha_all_pass": m["aha_all_pass"],
                            "aha": {g: {"n": r["n"], "estimate": r["estimate"],
                                        "lower90": r["lower90"], "passed": r["passed"]}
                                    for g, r in m["aha"].items()}}  # fmt: skip
            print(f"{name:<15} last {n} windows: shock sensitivity "
                  f"{100 * sd['sensitivity']:.1f}%, specificity {100 * sd['specificity']:.1f}%, "
                  f"AHA {'pass' if m['aha_all_pass'] else 'miss'}")  # fmt: skip
        doc["variants"][name] = rows
    atomic_write_json(args.out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
