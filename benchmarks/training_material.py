"""Benchmark: what a change of training material does, cross-validated by record with the student.

Two questions of the real-data work, each answered against the same folds with and without:

- ``--edge-guard S``: training windows within S s of a rhythm change left out (cudb's episode edges
  are ±5 s). Scored twice on the test folds: on every labelled window (the same test windows as
  without the guard, so the figures compare), and on the guarded windows only (what a user of
  ``--edge-guard`` sees).
- ``--alarm-negatives DIR``: the windows of the 16 s before every *false* VT and VF/VFL alarm of a
  Challenge 2015 folder, labelled other non-shockable, added to every fold's training windows. The
  alarms are dealt into two halves by record; only half A's false alarms are trained on, and the
  alarm score is read on half B's alarms (true and false), which no model saw.

The student (``student-plain``: the run's student architecture and training settings, labels
only) is the probe: a fold costs ~2 min of CPU instead of the original's ~10, so a question costs
one tenth of a full cross-validation. A change that does not help the student is not tried on the
original. Folds, validation records and model selection are the run's (``crossval.fold_split``).

    .venv/bin/python benchmarks/training_material.py --config run.toml --edge-guard 5 \\
        --alarm-negatives ../shared/data/physionet/challenge2015 --decide-over 1 --out FILE

(``benchmarks/results/training_material.json`` was made so, each window decided alone.)
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import numpy as np

from ecg_energy.config import load_config
from ecg_energy.data.alarms import load_alarm_windows
from ecg_energy.data.sources import load_sources
from ecg_energy.fsio import atomic_write_json
from ecg_energy.models import architectures, preprocess
from ecg_energy.models.alarm_score import score_calls
from ecg_energy.models.assess import scores
from ecg_energy.models.crossval import fold_of_windows, fold_split
from ecg_energy.models.evaluate import softmax
from ecg_energy.models.train import train_classifier
from ecg_energy.models.variants import shockable_classes

SHOCK_ALARMS = ("Ventricular_Tachycardia", "Ventricular_Flutter_Fib")


def _shock(m: dict) -> dict:
    sd = m.get("shock_decision") or {}
    return {"sensitivity": sd.get("sensitivity"), "specificity": sd.get("specificity"),
            "balanced_accuracy": m.get("balanced_accuracy"), "aha_all_pass": m.get("aha_all_pass"),
            "by_database": m.get("by_database")}  # fmt: skip


def _key(groups, starts) -> list[tuple[str, float]]:
    return [(str(g), round(float(s), 3)) for g, s in zip(groups, starts)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="The run's configuration (TOML, with data).")
    ap.add_argument("--edge-guard", type=float, default=None, metavar="S")
    ap.add_argument("--alarm-negatives", default=None, metavar="DIR")
    ap.add_argument("--train-set", action="append", default=[], metavar="KEY=VALUE",
                    help="an arm trained with this training setting changed (e.g. "
                         "average_epochs=1); repeat for several in the same arm")  # fmt: skip
    ap.add_argument("--seed", type=int, default=None, help="the training seed (default: the run's)")
    ap.add_argument("--decide-over", type=int, default=None,
                    help="windows each decision averages (default: the run's)")  # fmt: skip
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    k = cfg.folds or 5
    tc = cfg.models.train
    decide = args.decide_over or cfg.decision_windows
    if args.seed is not None:
        tc = replace(tc, seed=args.seed)
    changed_tc = tc
    for item in args.train_set:
        key, value = item.split("=", 1)
        changed_tc = replace(changed_tc, **{key: type(getattr(tc, key))(value)})
    ds, _ = load_sources(list(cfg.data), cfg.read, "/tmp/training-material-data", cfg.synth)
    shock = shockable_classes(ds.class_names, ds.task)
    prep = cfg.models.preprocessing or preprocess.default_for(ds.task)
    folds, _ = fold_of_windows(ds, k, cfg.split_seed)
    keep = np.ones(len(ds), bool)  # training windows kept by the change
    guarded_test = None
    aw = None
    if args.edge_guard:
        gds, _ = load_sources(list(cfg.data), replace(cfg.read, edge_guard_s=args.edge_guard),
                              "/tmp/training-material-data", cfg.synth)  # fmt: skip
        inside = set(_key(gds.groups, gds.start_s))
        keep = np.array([w in inside for w in _key(ds.groups, ds.start_s)])
        guarded_test = keep.copy()
    extra_x = np.zeros((0, *ds.X.shape[1:]), np.float32)
    half_b = None
    if args.alarm_negatives:
        aw = load_alarm_windows(args.alarm_negatives, window_s=cfg.read.window_s,
                                stride_s=cfg.read.stride_s, fs_hz=ds.fs_hz)  # fmt: skip
        records = sorted({a.record for a in aw.alarms})
        half = {r: i % 2 for i, r in enumerate(records)}  # A: even positions, B: odd
        neg = [i for i, a in enumerate(aw.alarms)
               if half[a.record] == 0 and a.kind in SHOCK_ALARMS and not a.true]  # fmt: skip
        extra_x = aw.X[np.isin(aw.alarm_index, neg)]
        half_b = np.array([half[a.record] == 1 for a in aw.alarms])
    ons = ds.class_names.index("ONS")
    # arm -> (edge guard on training, alarm negatives added, training settings)
    arms = {"without": (False, False, tc)}
    if args.edge_guard:
        arms["edge-guard"] = (True, False, tc)
    if args.alarm_negatives:
        arms["alarm-negatives"] = (False, True, tc)
    if args.train_set:
        arms["train:" + ",".join(args.train_set)] = (False, False, changed_tc)
    logits = {a: np.full((len(ds), len(ds.class_names)), np.nan) for a in arms}
    alarm_logits = {a: [] for a in arms}
    seconds = {a: 0.0 for a in arms}
    per_fold = []
    for f in range(k):
        part = fold_split(ds, folds, f, cfg.split_seed)
        va, te = ds.subset(part["val"]), ds.subset(part["test"])
        row = {"fold": f + 1}
        for arm, (guard, negatives, arm_tc) in arms.items():
            tr_idx = part["train"][keep[part["train"]]] if guard else part["train"]
            xt, yt = ds.X[tr_idx], ds.y[tr_idx]
            if negatives:
                xt = np.concatenate([xt, extra_x])
                yt = np.concatenate([yt, np.full(len(extra_x), ons)])
            net = architectures.build("student", ds.X.shape[1], len(ds.class_names),
                                      seed=arm_tc.seed)  # fmt: skip
            t0 = time.perf_counter()
            res = train_classifier(net, (preprocess.apply(prep, xt), yt),
                                   (preprocess.apply(prep, va.X), va.y), arm_tc,
                                   f"{arm} f{f + 1}",
                                   student=True, echo=print, preprocessing=prep,
                                   shockable=shock)  # fmt: skip
            seconds[arm] += time.perf_counter() - t0
            logits[arm][part["test"]] = np.asarray(res.model.predict(
                preprocess.apply(prep, te.X), batch_size=1024, verbose=0))  # fmt: skip
            if half_b is not None:
                alarm_logits[arm].append(np.asarray(res.model.predict(
                    preprocess.apply(prep, aw.X), batch_size=1024, verbose=0)))  # fmt: skip
            row[arm] = {"training_windows": int(len(yt)), "epochs": res.epochs_run,
                        "best_epoch": res.best_epoch}  # fmt: skip
        per_fold.append(row)
        print(f"fold {f + 1}/{k} done", flush=True)
    out: dict = {"data": list(cfg.data), "windows": len(ds), "folds": k,
                 "probe": "student-plain", "train": {"epochs": tc.student_epochs,
                                                    "patience": tc.student_patience,
                                                    "epoch_windows": tc.epoch_windows,
                                                    "seed": tc.seed},
                 "train_set": args.train_set, "decide_over": decide,
                 "edge_guard_s": args.edge_guard, "alarm_negatives": args.alarm_negatives,
                 "seconds": seconds, "per_fold": per_fold, "arms": {}}  # fmt: skip
    if args.edge_guard:
        out["edge_guard_left_out_windows"] = int((~keep).sum())
    if len(extra_x):
        out["alarm_negative_windows"] = int(len(extra_x))
    for arm in arms:
        _, m = scores(logits[arm], ds, decide)
        entry = {"all_test_windows": _shock(m)}
        if guarded_test is not None:
            sub = ds.subset(np.flatnonzero(guarded_test))
            _, mg = scores(logits[arm][guarded_test], sub, decide)
            entry["guarded_test_windows"] = _shock(mg)
        if half_b is not None:
            # every fold's model on half B's alarms; an alarm called on the folds' mean probabilities
            pred = np.argmax(np.mean([softmax(z) for z in alarm_logits[arm]], axis=0), axis=1)
            scored = np.zeros(len(aw.alarms), bool)
            scored[aw.scored] = True
            entry["alarms_half_b"] = score_calls([a.kind for a in aw.alarms],
                                                 np.array([a.true for a in aw.alarms]), pred,
                                                 aw.alarm_index, ds.class_names,
                                                 scored & half_b)  # fmt: skip
        out["arms"][arm] = entry
        a = entry["all_test_windows"]
        print(f"{arm:<8} Se {a['sensitivity']:.4f} Sp {a['specificity']:.4f}")
    atomic_write_json(args.out, out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
