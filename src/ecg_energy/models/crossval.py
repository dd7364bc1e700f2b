"""Cross-validation by record: every record tested exactly once, by models that never saw it.

The records are dealt into K folds stratified by the classes they hold (``record_folds``). For
each fold, every variant (the original, both students and their quantized versions) is built
exactly as the run builds its deployed models, from the other folds' records (validation records
for model selection drawn from those), into ``folds/<k>/``, and scored on the fold's records.
The predictions of all folds are pooled: one confusion matrix and one AHA table per variant with
exact lower 90% bounds over every record, and each fold's figures for the spread. A fold's models
are reused when their build keys match, so an interrupted cross-validation resumes by fold.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import numpy as np

from ..data.dataset import Dataset, _two_way, record_class_counts, record_folds
from .assess import logits_of, raise_nonfinite, scores
from .evaluate import agreement
from .io import load_model_file

VAL_FRACTION = 0.2  # of a fold's training records, held out for model selection


def fold_of_windows(ds: Dataset, k: int, seed: int) -> tuple[np.ndarray, dict[str, int]]:
    """(the fold of every window, the fold of every record)."""
    records, fold = record_folds(ds, k, seed)
    of_record = dict(zip(records.tolist(), (int(f) for f in fold)))
    return np.array([of_record[g] for g in ds.groups]), of_record


def fold_split(ds: Dataset, folds: np.ndarray, k: int, seed: int) -> dict[str, np.ndarray]:
    """Train, validation and test windows of fold ``k`` (validation records from the others)."""
    test = np.flatnonzero(folds == k)
    rest = np.flatnonzero(folds != k)
    recs, counts = record_class_counts(ds.subset(rest))
    val_recs = recs[_two_way(counts, VAL_FRACTION, seed) == 1]
    in_val = np.isin(ds.groups[rest], val_recs)
    return {"train": rest[~in_val], "val": rest[in_val], "test": test}


def _records(ds: Dataset, idx: np.ndarray) -> list[str]:
    return sorted(set(ds.groups[idx].tolist()))


def cross_validate(ds: Dataset, k: int, seed: int, cfg, out_dir: str,
                   echo: Callable[[str], None] = lambda m: None, redo=frozenset(),
                   unsafe: bool = False, decide_over: int = 1,
                   extra_train=None) -> dict:  # fmt: skip
    """{"folds": [per fold: records, windows, per-variant figures], "variants": pooled metrics,
    "spread": per variant the folds' min and max}. ``extra_train``: windows every fold trains on
    besides its own (``build_variants``). ``decide_over``: the windows each decision
    averages (``assess.scores``); a record's windows are all in one fold, so pooling the folds'
    outputs and deciding over them is deciding within each fold."""
    from ..progress import Bar
    from .variants import build_variants

    folds, of_record = fold_of_windows(ds, k, seed)
    outputs: dict[str, np.ndarray] = {}
    parents: dict[str, str | None] = {}
    per_fold = []
    bar = Bar(k, "  cross-validation", unit="fold")  # a bar on a terminal, else the fold lines
    for f in range(k):
        part = fold_split(ds, folds, f, seed)
        records = {name: _records(ds, idx) for name, idx in part.items()}
        if not bar.live:
            echo(f"  fold {f + 1}/{k}: test records {', '.join(records['test'])}")
        data_key = json.dumps([ds.provenance, ds.class_counts(), records,
                               f"cross-validation fold {f + 1} of {k}"], sort_keys=True,
                              default=str)  # fmt: skip
        tr, va, te = (ds.subset(part[s]) for s in ("train", "val", "test"))
        built = build_variants(tr.X, tr.y, va.X, va.y, ds.class_names, ds.task, data_key, cfg,
                               os.path.join(out_dir, str(f)), echo, redo=redo,
                               unsafe=unsafe, extra_train=extra_train)  # fmt: skip
        fold_scores = {}
        for v in built:
            mf = load_model_file(v.path, unsafe=unsafe)
            logits = logits_of(mf, te.X)
            if not np.isfinite(logits).all():
                raise_nonfinite(v.path)
            pooled_out = outputs.setdefault(v.name, np.full((len(ds), logits.shape[1]), np.nan))
            pooled_out[part["test"]] = logits
            parents[v.name] = v.parent
            _, m = scores(logits, te, decide_over)
            fold_scores[v.name] = {"balanced_accuracy": m["balanced_accuracy"],
                                   "shock_decision": m.get("shock_decision"),
                                   "aha_all_pass": m.get("aha_all_pass"),
                                   "train_seconds": v.train_seconds,
                                   "epochs": v.epochs}  # fmt: skip
        per_fold.append({"fold": f + 1, "records": records,
                         "windows": {s: int(len(i)) for s, i in part.items()},
                         "variants": fold_scores})  # fmt: skip
        bar.update(1, fold=f"{f + 1}/{k}")
    bar.close()
    pooled, preds = {}, {}
    for name, logits in outputs.items():
        preds[name], pooled[name] = scores(logits, ds, decide_over)
    for name, m in pooled.items():
        parent = parents.get(name)
        if parent in preds:
            m["agreement_with_parent"] = agreement(preds[name], preds[parent])
    return {"k": k, "seed": seed, "records_by_fold": {str(f + 1): sorted(r for r, x in
                                                                            of_record.items()
                                                                            if x == f)
                                                      for f in range(k)},
            "folds": per_fold, "variants": pooled, "spread": _spread(per_fold)}  # fmt: skip


def _spread(per_fold: list[dict]) -> dict:
    """Per variant, the lowest and highest fold figure of balanced accuracy and of the shock
    decision's sensitivity and specificity (folds without such windows left out)."""
    out: dict = {}
    names = {n for f in per_fold for n in f["variants"]}
    for name in sorted(names):
        rows = [f["variants"][name] for f in per_fold if name in f["variants"]]
        entry = {}
        for key, get in (("balanced_accuracy", lambda r: r["balanced_accuracy"]),
                         ("shock_sensitivity", lambda r: (r["shock_decision"] or {}).get("sensitivity")),
                         ("shock_specificity", lambda r: (r["shock_decision"] or {}).get("specificity"))):  # fmt: skip
            vals = [get(r) for r in rows if get(r) is not None]
            entry[key] = [min(vals), max(vals)] if vals else None
        out[name] = entry
    return out
