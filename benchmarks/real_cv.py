"""Benchmark: record-wise cross-validation of one architecture on real PhysioNet records.

Every record is tested exactly once (``record_folds``: K folds stratified by the classes the
records hold); in each fold the model is trained on the other folds' records, with validation
records drawn from them for model selection, and scored on the fold's records. Predictions are
pooled over the folds: the five-class metrics, the shock decision's sensitivity and specificity,
and the AHA table with exact lower 90% bounds; plus each fold's figures and the seconds spent.

Settings under test (what the generalisation measurements vary): ``--prep`` (the input
preprocessing, default the run's ``bandpass-mulaw``), ``--no-augment`` (the run augments training
windows with a random gain and noise), ``--gain``, ``--noise-mv``,
``--attenuate-asystole``, ``--record-balance`` (each class's share of an epoch split
equally among its records), ``--other-lead`` (the training records' second lead as more training
windows), ``--average-epochs`` (selection on weights averaged over about that many epochs),
``--lr``, ``--weight-decay``, ``--epochs`` and ``--patience``. The model is trained by
the run's own ``train_classifier`` on the run's own folds. (Earlier results in
``benchmarks/results/real_cv/`` came from this script's previous options: ``--filter``,
``--augment`` as one extra augmented copy per window, ``--scale``, ``--balance sqrt``, with
every class oversampled to the largest.)

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
from ecg_energy.models import train as train_module
from ecg_energy.models.assess import scores
from ecg_energy.models.crossval import fold_of_windows, fold_split
from ecg_energy.models.evaluate import evaluate_predictions
from ecg_energy.models.train import TrainConfig, train_classifier
from ecg_energy.models.variants import shockable_classes


def load(folders: list[str]):
    parts = []
    for f in folders:
        ds, _ = load_wfdb(f, ReadOptions())
        name = os.path.basename(os.path.normpath(f))
        parts.append(replace(ds, groups=np.array([f"{name}/{g}" for g in ds.groups])))
    return concatenate(parts)


def other_lead(folders: list[str], ds):
    """For every window of ``ds`` (read from each record's default lead), the same stretch of the
    record's other lead, to be labelled as ``ds`` labels it (the default lead's QRS rates decided
    rapid or slow VT); records with one lead give none. Returns (X, the index into ``ds`` of each
    row)."""
    import wfdb

    from ecg_energy.data.wfdb_examples import ReadLog, rhythm_windows
    from ecg_energy.data.wfdb_read import _pick_lead, list_records, read_record

    xs, idx = [], []
    where = {(g, round(float(s), 3)): i for i, (g, s) in enumerate(zip(ds.groups, ds.start_s))}
    for f in folders:
        db = os.path.basename(os.path.normpath(f))
        for name in list_records(f):
            names = list(wfdb.rdheader(os.path.join(f, name)).sig_name)
            if len(names) < 2:
                continue
            first = _pick_lead(names, None, name)  # the lead read_record picks by default
            other = next(i for i in range(len(names)) if i != first)
            rec = read_record(f, name, str(other))
            part = rhythm_windows(rec, ReadOptions(), ReadLog())
            for x, s in zip(part.X, part.start_s):
                i = where.get((f"{db}/{name}", round(float(s), 3)))
                if i is not None:
                    xs.append(x)
                    idx.append(i)
    return np.stack(xs), np.array(idx)


def pretrained(args, cfg, student: bool, echo) -> list:
    """Weights of the architecture trained on the synthetic database (same classes, same input)."""
    from ecg_energy.data.dataset import split_by_record
    from ecg_energy.data.sources import load_sources

    syn, _ = load_sources(["synth"], ReadOptions(), os.path.join("runs", "cache"))
    split = split_by_record(syn, (0.8, 0.2, 0.0), seed=args.seed)
    x = preprocess.apply(args.prep, syn.X)
    model = architectures.build(args.arch, x.shape[1], len(syn.class_names), seed=args.seed)
    res = train_classifier(model, (x[split.train], syn.y[split.train]),
                           (x[split.val], syn.y[split.val]), cfg, "synth", student=student,
                           echo=echo, preprocessing=args.prep,
                           shockable=shockable_classes(syn.class_names, "rhythm"))  # fmt: skip
    echo(f"pre-trained on {len(split.train)} synthetic windows: {res.epochs_run} epochs "
         f"in {res.seconds:.0f} s")  # fmt: skip
    return res.model.get_weights()


def detected_rates(folders: list[str], ds) -> np.ndarray:
    """Every window's ventricular rate as a device would estimate it, from the signal alone: QRS
    complexes found by XQRS over the record's (default) lead, the rate of those inside the window
    as the labels' ``window_rate`` takes it (NaN under three), never from the annotations, which a
    device does not have."""
    from ecg_energy.data.dsp import resample
    from ecg_energy.data.wfdb_examples import detect_qrs, window_rate
    from ecg_energy.data.wfdb_read import list_records, read_record

    rate = np.full(len(ds), np.nan)
    win = ds.X.shape[1]
    for f in folders:
        db = os.path.basename(os.path.normpath(f))
        for name in list_records(f):
            mine = np.flatnonzero(ds.groups == f"{db}/{name}")
            if not len(mine):
                continue
            rec = read_record(f, name)
            peaks = detect_qrs(resample(rec.signal_mv, rec.fs_hz, ds.fs_hz), ds.fs_hz)
            for i in mine:
                a = int(round(ds.start_s[i] * ds.fs_hz))
                rate[i] = window_rate(peaks[(peaks >= a) & (peaks < a + win)], ds.fs_hz)
    return rate


def rate_gated(pred: np.ndarray, rate: np.ndarray, class_names, bpm: float) -> np.ndarray:
    """``pred`` with every VT call whose detected rate is under ``bpm`` (or unknown: fewer than
    three QRS complexes in the window) made "other non-shockable", an AED's rate criterion beside
    the network's morphology; VF calls stay."""
    names = list(class_names)
    out = pred.copy()
    out[(pred == names.index("VT")) & ~(rate >= bpm)] = names.index("ONS")
    return out


_BALANCED_DRAW = train_module.balanced_draw


def epoch_windows(n: int) -> None:
    """Every training epoch draws ``n`` windows (the run draws as many as the training set has)."""
    train_module.balanced_draw = lambda y, _n, rng, groups=None: _BALANCED_DRAW(y, n, rng, groups)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", required=True)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--arch", default="original")
    ap.add_argument("--arch-param", action="append", default=[], metavar="KEY=VALUE",
                    help="an architecture parameter, e.g. depth=5 for the student (repeatable)")  # fmt: skip
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--prep", default=preprocess.default_for("rhythm"),
                    choices=sorted(preprocess.PREPROCESSORS))  # fmt: skip
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--select", default="auto", choices=("auto", "balanced-accuracy"),
                    help="model selection on the shock decision (auto) or five-class accuracy")  # fmt: skip
    ap.add_argument("--pretrain", choices=("synth",), default=None,
                    help="start every fold from weights trained on the embedded synthetic "
                         "database (synth:0, all its records but a fifth for selection)")  # fmt: skip
    ap.add_argument(
        "--gain",
        type=float,
        nargs=2,
        default=list(preprocess.AUGMENT_GAIN),
        metavar=("LO", "HI"),
        help="augmentation gain range (log-uniform)",
    )
    ap.add_argument(
        "--noise-mv",
        type=float,
        default=preprocess.AUGMENT_NOISE_MV,
        help="augmentation white noise, mV RMS",
    )
    ap.add_argument(
        "--lr",
        type=float,
        default=None,
        help="learning rate (default: the run's, for the architecture)",
    )
    ap.add_argument("--weight-decay", type=float, default=0.0,
                    help="decoupled weight decay of the original's optimizer")  # fmt: skip
    ap.add_argument("--record-balance", action="store_true",
                    help="split every class's share of an epoch equally among its records")  # fmt: skip
    ap.add_argument("--attenuate-asystole", action="store_true",
                    help="the augmentation only attenuates asystole windows, never amplifies "
                         "them (the run draws every class's gain alike)")  # fmt: skip
    ap.add_argument("--seed", type=int, default=0, help="seed of the folds (and of training)")
    ap.add_argument(
        "--train-seed",
        type=int,
        default=None,
        help="seed of training alone (default: --seed): the same folds, another draw",
    )
    ap.add_argument(
        "--decide-over",
        type=int,
        default=4,
        help="also the shock decision over this many consecutive windows",
    )
    ap.add_argument("--average-epochs", type=float, default=0.0,
                    help="select on (and keep) the weights averaged over about this many epochs")  # fmt: skip
    ap.add_argument("--other-lead", action="store_true",
                    help="also train on the training records' second lead (same windows, same "
                         "labels; an epoch keeps the first lead's number of windows)")  # fmt: skip
    ap.add_argument("--rate-gate", type=float, default=None, metavar="BPM",
                    help="also score the shock decision with VT calls under this detected "
                         "ventricular rate (XQRS on the signal) made non-shockable")  # fmt: skip
    ap.add_argument("--save-logits", default=None, metavar="FILE.npz",
                    help="also write every window's pooled test logits, record and start")  # fmt: skip
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    preprocess.AUGMENT_GAIN = tuple(args.gain)  # read by preprocess.augment at each call
    preprocess.AUGMENT_NOISE_MV = args.noise_mv
    t0 = time.perf_counter()
    ds = load(args.data)
    folds, rec_fold = fold_of_windows(ds, args.folds, args.seed)  # the run's own folds
    pred = np.full(len(ds), -1)
    logits_all = np.zeros((len(ds), len(ds.class_names)))
    per_fold, seconds = [], []
    student = args.arch != "original"
    cfg = TrainConfig(epochs=args.epochs, student_epochs=args.epochs, patience=args.patience,
                      student_patience=args.patience,
                      seed=args.seed if args.train_seed is None else args.train_seed,
                      augment=not args.no_augment, select=args.select,
                      weight_decay=args.weight_decay,
                      average_epochs=args.average_epochs)  # fmt: skip
    if args.lr is not None:
        cfg = replace(cfg, learning_rate=args.lr, student_learning_rate=args.lr)
    x_all = preprocess.apply(args.prep, ds.X)
    arch_params = {k: float(v) if "." in v else int(v)
                   for k, _, v in (p.partition("=") for p in args.arch_param)}  # fmt: skip
    echo = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    start = pretrained(args, cfg, student, echo) if args.pretrain else None
    if args.other_lead:
        x2_raw, of2 = other_lead(args.data, ds)
        x2_all = preprocess.apply(args.prep, x2_raw)
        echo(f"other lead: {len(of2)} windows of {len(np.unique(ds.groups[of2]))} records")
    for k in range(args.folds):
        part = fold_split(ds, folds, k, args.seed)  # and their train / validation records
        train, val, test = part["train"], part["val"], part["test"]
        val_recs = set(ds.groups[val].tolist())
        xt, yt, xv, xs_test = x_all[train], ds.y[train], x_all[val], x_all[test]
        gt = ds.groups[train]
        if args.other_lead:
            more = np.isin(of2, train)
            xt = np.concatenate([xt, x2_all[more]])
            yt = np.concatenate([yt, ds.y[of2[more]]])
            gt = np.concatenate([gt, ds.groups[of2[more]]])
            epoch_windows(len(train))
        model = architectures.build(args.arch, xt.shape[1], len(ds.class_names), seed=cfg.seed,
                                    **arch_params)  # fmt: skip
        if start is not None:
            model.set_weights(start)
        t = time.perf_counter()
        res = train_classifier(model, (xt, yt), (xv, ds.y[val]), cfg, f"fold{k}", student=student,
                               echo=echo, preprocessing=args.prep,
                               shockable=shockable_classes(ds.class_names, "rhythm"),
                               attenuate_only=(list(ds.class_names).index("ASYS"),)
                               if args.attenuate_asystole else None,
                               groups=gt if args.record_balance else None)  # fmt: skip
        seconds.append(time.perf_counter() - t)
        logits = np.concatenate([np.asarray(res.model(xs_test[i:i + 512], training=False))
                                 for i in range(0, len(test), 512)])  # fmt: skip
        pred[test] = np.argmax(logits, axis=1)
        logits_all[test] = logits
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
    by_rhythm = {}
    for r in np.unique(ds.rhythm):
        m = ds.rhythm == r
        by_rhythm[str(r)] = {"windows": int(m.sum()), "shock_advised": int(shock_pred[m].sum()),
                             "records": int(len(np.unique(ds.groups[m])))}  # fmt: skip
    _, decided = scores(logits_all, ds, args.decide_over)
    gated = None
    if args.rate_gate is not None:
        rate = detected_rates(args.data, ds)
        gp = rate_gated(pred, rate, ds.class_names, args.rate_gate)
        g = evaluate_predictions(gp, ds.y, ds.class_names, ds.rhythm, ds.amplitude_uv, "rhythm")
        gated = {"bpm": args.rate_gate, "shock_decision": g.get("shock_decision"),
                 "aha_all_pass": g.get("aha_all_pass"),
                 "balanced_accuracy": g["balanced_accuracy"],
                 "vt_calls_gated": int((gp != pred).sum()),
                 "aha": {k: {k2: r.get(k2) for k2 in ("n", "estimate", "lower90", "passed")}
                         for k, r in (g.get("aha") or {}).items()}}  # fmt: skip
        print(f"rate gate {args.rate_gate:g} bpm: {json.dumps(gated['shock_decision'])}")
    doc = {"settings": vars(args), "windows": int(len(ds)), "records": len(rec_fold),
           "decided_over_windows": {"windows": args.decide_over,
                                    "shock_decision": decided.get("shock_decision"),
                                    "aha_all_pass": decided.get("aha_all_pass"),
                                    "aha": {g: {k: r[k] for k in ("n", "estimate", "passed")}
                                            for g, r in (decided.get("aha") or {}).items()}},
           "rate_gated": gated, "by_record": by_record, "by_rhythm": by_rhythm,
           "shock_sensitivity": sens, "shock_specificity": spec, "pooled": pooled,
           "folds": per_fold, "train_seconds": seconds,
           "total_seconds": time.perf_counter() - t0}  # fmt: skip
    atomic_write_json(args.out, doc)
    if args.save_logits:
        np.savez_compressed(args.save_logits, logits=logits_all, y=ds.y, groups=ds.groups,
                            start_s=ds.start_s)  # fmt: skip
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
