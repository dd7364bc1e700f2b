"""Benchmark: record-wise cross-validation of one architecture on real PhysioNet records.

Every record is tested exactly once (``record_folds``: K folds stratified by the classes the
records hold); in each fold the model is trained on the other folds' records, with validation
records drawn from them for model selection, and scored on the fold's records. Predictions are
pooled over the folds: the five-class metrics, the shock decision's sensitivity and specificity,
and the AHA table with exact lower 90% bounds; plus each fold's figures and the seconds spent.

Settings under test (what the generalisation measurements vary): ``--augment`` (random amplitude
scaling, baseline offset and noise on training windows), ``--scale`` (per-window amplitude
normalisation before mu-law), ``--epochs`` and ``--patience``.

    .venv/bin/python benchmarks/real_cv.py --data ../shared/data/physionet/vfdb \\
        --data ../shared/data/physionet/mitdb --folds 5 --arch original --out FILE
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace

import numpy as np

from ecg_energy.data.dataset import concatenate
from ecg_energy.data.wfdb_source import ReadOptions, load_wfdb
from ecg_energy.fsio import atomic_write_json
from ecg_energy.models import architectures, preprocess
from ecg_energy.models.crossval import fold_of_windows, fold_split
from ecg_energy.models.evaluate import evaluate_predictions
from ecg_energy.models.train import TrainConfig, train_classifier


def load(folders: list[str]):
    parts = []
    for f in folders:
        ds, _ = load_wfdb(f, ReadOptions())
        name = os.path.basename(os.path.normpath(f))
        parts.append(replace(ds, groups=np.array([f"{name}/{g}" for g in ds.groups])))
    return concatenate(parts)


def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Amplitude x U(0.5, 2), a baseline offset N(0, 0.2 mV) and white noise N(0, 0.02 mV)."""
    n = len(x)
    scale = np.exp(rng.uniform(np.log(0.5), np.log(2.0), size=(n, 1, 1)))
    offset = rng.normal(0.0, 0.2, size=(n, 1, 1))
    noise = rng.normal(0.0, 0.02, size=x.shape)
    return (x * scale + offset + noise).astype(np.float32)


def sqrt_balanced_index(y: np.ndarray, seed: int) -> np.ndarray:
    """Each class repeated up to sqrt(its count x the largest count): rare classes seen more
    often, but not as often as the largest, so their few records are memorised less."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    parts = []
    for k, c in zip(classes, counts):
        idx = np.flatnonzero(y == k)
        target = int(np.sqrt(c * counts.max()))
        reps, extra = divmod(target, c)
        parts.append(np.concatenate([np.tile(idx, reps), rng.choice(idx, extra, replace=False)]))
    out = np.concatenate(parts)
    return out[rng.permutation(len(out))]


def prep(x: np.ndarray, scale: bool, band: bool = False) -> np.ndarray:
    if band:  # baseline wander and mains out, as most ECG front ends and detectors do
        import scipy.signal as sps

        sos = sps.butter(2, [0.5, 40.0], btype="bandpass", fs=250.0, output="sos")
        x = sps.sosfiltfilt(sos, x, axis=1, padlen=250).astype(np.float32)
    if scale:  # robust per-window amplitude: the 99th percentile of |x - median| to 1 mV
        c = x - np.median(x, axis=1, keepdims=True)
        s = np.percentile(np.abs(c), 99, axis=1, keepdims=True)
        x = c / np.maximum(s, 0.05)
    return preprocess.mulaw(x)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", required=True)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--arch", default="original")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--augment", action="store_true")
    ap.add_argument("--copies", type=int, default=1, help="augmented copies per training window")
    ap.add_argument("--scale", action="store_true")
    ap.add_argument("--filter", action="store_true", help="band-pass 0.5-40 Hz every window")
    ap.add_argument(
        "--balance",
        default="full",
        choices=("full", "sqrt"),
        help="oversample every class to the largest (full) or to sqrt(n * n_max)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.balance == "sqrt":
        import ecg_energy.models.train as train_mod

        train_mod.balanced_index = sqrt_balanced_index
    ds = load(args.data)
    folds, rec_fold = fold_of_windows(ds, args.folds, args.seed)  # the run's own folds
    pred = np.full(len(ds), -1)
    per_fold, seconds = [], []
    rng = np.random.default_rng(args.seed)
    student = args.arch != "original"
    cfg = TrainConfig(epochs=args.epochs, student_epochs=args.epochs, patience=args.patience,
                      student_patience=args.patience, seed=args.seed)  # fmt: skip
    for k in range(args.folds):
        part = fold_split(ds, folds, k, args.seed)  # and their train / validation records
        train, val, test = part["train"], part["val"], part["test"]
        val_recs = set(ds.groups[val].tolist())
        xt, yt = ds.X[train], ds.y[train]
        if args.augment:
            xs = [xt] + [augment(xt, rng) for _ in range(args.copies)]
            xt, yt = np.concatenate(xs), np.concatenate([yt] * (1 + args.copies))
        xt, xv, xs_test = (
            prep(xt, args.scale, args.filter),
            prep(ds.X[val], args.scale, args.filter),
            prep(ds.X[test], args.scale, args.filter),
        )
        model = architectures.build(args.arch, xt.shape[1], len(ds.class_names), seed=args.seed)
        t = time.perf_counter()
        res = train_classifier(model, (xt, yt), (xv, ds.y[val]), cfg, f"fold{k}", student=student,
                               echo=lambda m: print(m, file=sys.stderr, flush=True))  # fmt: skip
        seconds.append(time.perf_counter() - t)
        logits = np.concatenate([np.asarray(res.model(xs_test[i:i + 512], training=False))
                                 for i in range(0, len(test), 512)])  # fmt: skip
        pred[test] = np.argmax(logits, axis=1)
        m = evaluate_predictions(pred[test], ds.y[test], ds.class_names, ds.rhythm[test],
                                 ds.amplitude_uv[test], "rhythm")  # fmt: skip
        per_fold.append({"fold": k, "test_records": sorted(set(ds.groups[test].tolist())),
                         "val_records": sorted(val_recs), "windows": int(len(test)),
                         "balanced_accuracy": m["balanced_accuracy"], "best_epoch": res.best_epoch,
                         "epochs": res.epochs_run, "seconds": seconds[-1],
                         "aha": {g: {k2: r.get(k2) for k2 in ("n", "estimate", "passed")}
                                 for g, r in (m.get("aha") or {}).items()}})  # fmt: skip
        print(
            f"fold {k}: bal {m['balanced_accuracy']:.3f} {json.dumps(per_fold[-1]['aha'])}",
            file=sys.stderr,
            flush=True,
        )
    pooled = evaluate_predictions(pred, ds.y, ds.class_names, ds.rhythm, ds.amplitude_uv, "rhythm")
    sens = pooled["shock_decision"]["sensitivity"]
    spec = pooled["shock_decision"]["specificity"]
    shock_true = np.isin(np.asarray(ds.class_names)[ds.y], ["VT", "VF"])
    shock_pred = np.isin(np.asarray(ds.class_names)[pred], ["VT", "VF"])
    by_record = {}
    for g in np.unique(ds.groups):
        m = ds.groups == g
        by_record[str(g)] = {"windows": int(m.sum()), "shockable": int(shock_true[m].sum()),
                             "missed_shockable": int((shock_true & ~shock_pred)[m].sum()),
                             "false_shock": int((~shock_true & shock_pred)[m].sum()),
                             "fold": rec_fold[str(g)]}  # fmt: skip
    doc = {"settings": vars(args), "windows": int(len(ds)), "records": len(rec_fold),
           "by_record": by_record,
           "shock_sensitivity": sens, "shock_specificity": spec, "pooled": pooled,
           "folds": per_fold, "train_seconds": seconds,
           "total_seconds": time.perf_counter() - t0}  # fmt: skip
    atomic_write_json(args.out, doc)
    print(
        f"pooled: shock sens {100 * sens:.1f}% spec {100 * spec:.1f}%, balanced accuracy "
        f"{pooled['balanced_accuracy']:.3f}; {doc['total_seconds']:.0f} s"
    )
    for g, r in pooled["aha"].items():
        print(
            f"  {g}: n {r['n']} {r['measure']} {r['estimate']} lower90 {r['lower90']} "
            f"passed {r['passed']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
