"""Benchmark: how many consecutive windows the shock decision should average, chosen on each fold's
validation records and scored on its test records.

For a finished record-wise cross-validation (a run's ``folds/``, or one seed of
``benchmarks/cv_seeds.py``), every fold's models are run on that fold's validation records (the
ones its model selection used; never its test records) and each candidate ``decide_over`` is
scored there by the shock decision's balanced accuracy (ties: the fewer windows, the quicker
decision). The fold's test records are then decided with the fold's choice, and the test
predictions pooled: the figures a user gets by choosing on validation data only. The pooled test
figures of every candidate are written beside them, marked as not used for the choice.

    .venv/bin/python benchmarks/cv_decide_over.py --config run.toml --folds-dir runs/real/folds \\
        --choices 1,2,3,4 --out benchmarks/results/real_cv64_decide_over.json
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from ecg_energy.config import load_config
from ecg_energy.data.sources import load_sources
from ecg_energy.fsio import atomic_write_json
from ecg_energy.models.assess import logits_of, scores
from ecg_energy.models.crossval import fold_of_windows, fold_split
from ecg_energy.models.io import load_model_file
from ecg_energy.models.train import selection_score
from ecg_energy.models.variants import shockable_classes

VARIANTS = ("original", "original-int8", "distilled", "distilled-int8", "student-plain")
FILES = {"original": "original.keras", "original-int8": "original-int8.tflite",
         "distilled": "distilled.keras", "distilled-int8": "distilled-int8.tflite",
         "student-plain": "student-plain.keras"}  # fmt: skip


def _shock(m: dict) -> dict:
    sd = m.get("shock_decision") or {}
    return {"sensitivity": sd.get("sensitivity"), "specificity": sd.get("specificity"),
            "balanced_accuracy": m.get("balanced_accuracy"),
            "aha_all_pass": m.get("aha_all_pass"),
            "aha": {k: {"n": r.get("n"), "estimate": r.get("estimate"),
                        "lower90": r.get("lower90"), "passed": r.get("passed")}
                    for k, r in (m.get("aha") or {}).items()}}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--folds-dir", required=True)
    ap.add_argument("--choices", default="1,2,3,4")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    choices = [int(c) for c in args.choices.split(",")]
    ds, _ = load_sources(list(cfg.data), cfg.read, os.path.join("/tmp", "cv-decide-data"),
                         cfg.synth)  # fmt: skip
    shockable = shockable_classes(ds.class_names, ds.task)
    folds, _ = fold_of_windows(ds, cfg.folds, cfg.split_seed)
    out: dict = {"data": list(cfg.data), "folds_dir": args.folds_dir, "choices": choices,
                 "rule": "per fold, the decide_over with the highest shock balanced accuracy on "
                         "its validation records (ties: fewer windows)", "variants": {}}  # fmt: skip
    for name in VARIANTS:
        test_logits = np.full((len(ds), len(ds.class_names)), np.nan)
        chosen, per_fold = np.zeros(len(ds), dtype=int), []
        for f in range(cfg.folds):
            path = os.path.join(args.folds_dir, str(f), FILES[name])
            if not os.path.isfile(path):
                print(f"{path}: missing; is the cross-validation finished?", file=sys.stderr)
                return 2
            part = fold_split(ds, folds, f, cfg.split_seed)
            mf = load_model_file(path)
            va = ds.subset(part["val"])
            val_logits = logits_of(mf, va.X)
            val_scores = {}
            for k in choices:
                pred, _ = scores(val_logits, va, k)
                val_scores[k] = selection_score(va.y, pred, shockable)[0]
            best = max(choices, key=lambda k: (round(val_scores[k], 6), -k))
            chosen[part["test"]] = best
            test_logits[part["test"]] = logits_of(mf, ds.subset(part["test"]).X)
            per_fold.append({"fold": f + 1, "validation_shock_balanced": val_scores,
                             "chosen": best})  # fmt: skip
        # each test window decided with its fold's choice (a record's windows share one fold)
        pred = np.empty(len(ds), dtype=int)
        every = {}
        for k in choices:
            p_k, m_k = scores(test_logits, ds, k)
            pred[chosen == k] = p_k[chosen == k]
            every[str(k)] = _shock(m_k)
        from ecg_energy.models.assess import with_breakdown
        from ecg_energy.models.evaluate import evaluate_predictions

        m = with_breakdown(evaluate_predictions(pred, ds.y, ds.class_names, ds.rhythm,
                                                ds.amplitude_uv, ds.task), pred, ds)  # fmt: skip
        out["variants"][name] = {"per_fold": per_fold, "chosen_on_validation": _shock(m),
                                 "by_database": m.get("by_database"),
                                 "every_choice_not_used_for_choosing": every}  # fmt: skip
        c = out["variants"][name]["chosen_on_validation"]
        print(f"{name:<16} chosen {[p['chosen'] for p in per_fold]}  Se {c['sensitivity']:.4f} "
              f"Sp {c['specificity']:.4f}  AHA {c['aha_all_pass']}")  # fmt: skip
        atomic_write_json(args.out, out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
