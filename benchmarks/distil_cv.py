"""Benchmark: distillation settings, cross-validated by record on a finished ``--folds`` run.

The run's fold teachers (``<run>/folds/<k>/original.keras``) stay as they are; for each fold a
fresh student is distilled from that fold's teacher on the fold's own training records, with the
run's training settings except the ones given here (``--hard-weight``: the label loss's weight,
the rest the teacher's; ``--temperature``; ``--train-seed``), selected on the fold's validation
records as the run selects, and scored on the fold's test records. Pooled over the folds: the
shock decision per window and over ``--decide-over`` consecutive windows, the AHA verdicts and the
seconds spent. It answers whether another distillation setting brings the distilled student
closer to the original without retraining any teacher.

    .venv/bin/python benchmarks/distil_cv.py --run runs/real --hard-weight 0.8 --out FILE
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace

import numpy as np

from ecg_energy.config import from_dict
from ecg_energy.data.sources import load_sources
from ecg_energy.fsio import atomic_write_json
from ecg_energy.models import architectures, preprocess
from ecg_energy.models.assess import scores
from ecg_energy.models.crossval import fold_of_windows, fold_split
from ecg_energy.models.io import load_keras
from ecg_energy.models.train import distill
from ecg_energy.models.variants import shockable_classes


def _summary(m: dict) -> dict:
    sd = m.get("shock_decision") or {}
    return {"shock_sensitivity": sd.get("sensitivity"), "shock_specificity": sd.get("specificity"),
            "balanced_accuracy": m.get("balanced_accuracy"), "aha_all_pass": m.get("aha_all_pass"),
            "aha": {g: {k: r[k] for k in ("n", "estimate", "passed")}
                    for g, r in (m.get("aha") or {}).items()}}  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", required=True, help="a run folder made with --folds")
    ap.add_argument("--hard-weight", type=float, default=None)
    ap.add_argument("--temperature", type=float, default=None)
    ap.add_argument("--train-seed", type=int, default=None)
    ap.add_argument("--decide-over", type=int, default=4)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    with open(os.path.join(args.run, "run.json")) as fh:
        cfg = from_dict(json.load(fh)["config"])
    tc = cfg.models.train
    changes = {k: v for k, v in (("student_loss_weight", args.hard_weight),
                                 ("temperature", args.temperature),
                                 ("seed", args.train_seed)) if v is not None}  # fmt: skip
    tc = replace(tc, **changes)
    echo = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    t0 = time.perf_counter()
    ds, _ = load_sources(list(cfg.data), cfg.read, os.path.join(args.run, "data"))
    folds, _ = fold_of_windows(ds, cfg.folds, cfg.split_seed)
    logits = np.zeros((len(ds), len(ds.class_names)))
    shock = shockable_classes(ds.class_names, ds.task)
    per_fold = []
    for k in range(cfg.folds):
        part = fold_split(ds, folds, k, cfg.split_seed)
        teacher_path = os.path.join(args.run, "folds", str(k), "original.keras")
        with open(os.path.join(args.run, "folds", str(k), "original.json")) as fh:
            prep = json.load(fh)["preprocessing"]
        teacher = load_keras(teacher_path)
        x = {s: preprocess.apply(prep, ds.X[idx]) for s, idx in part.items()}
        student = architectures.build("student", x["train"].shape[1], len(ds.class_names),
                                      seed=tc.seed)  # fmt: skip
        t = time.perf_counter()
        res = distill(teacher, student, (x["train"], ds.y[part["train"]]),
                      (x["val"], ds.y[part["val"]]), tc, f"fold{k}", echo=echo,
                      preprocessing=prep, shockable=shock)  # fmt: skip
        seconds = time.perf_counter() - t
        test = part["test"]
        logits[test] = np.concatenate([np.asarray(res.model(x["test"][i:i + 512], training=False))
                                       for i in range(0, len(test), 512)])  # fmt: skip
        _, m = scores(logits[test], ds.subset(test))
        per_fold.append({"fold": k + 1, "seconds": seconds, "epochs": res.epochs_run,
                         "best_epoch": res.best_epoch, **_summary(m)})  # fmt: skip
        echo(f"fold {k + 1}: shock {m['shock_decision']}")
    _, alone = scores(logits, ds)
    _, over = scores(logits, ds, args.decide_over)
    doc = {"run": args.run, "settings": {**vars(args), "train": {k: getattr(tc, k) for k in (
               "student_loss_weight", "temperature", "seed", "student_epochs",
               "student_patience", "student_learning_rate")}},
           "windows": int(len(ds)), "per_window": _summary(alone),
           "decided_over_windows": {"windows": args.decide_over, **_summary(over)},
           "folds": per_fold, "total_seconds": time.perf_counter() - t0}  # fmt: skip
    atomic_write_json(args.out, doc)
    for what, m in (
        ("each window", doc["per_window"]),
        (f"last {args.decide_over} windows", doc["decided_over_windows"]),
    ):
        print(f"{what}: shock sensitivity {100 * m['shock_sensitivity']:.1f}%, specificity "
              f"{100 * m['shock_specificity']:.1f}%, AHA {'pass' if m['aha_all_pass'] else 'miss'}")  # fmt: skip
    print(f"{doc['total_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
