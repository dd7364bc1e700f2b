"""Run model files on held-out data and evaluate them (the glue between runners and metrics)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..data.dataset import Dataset
from . import preprocess
from .evaluate import agreement, decide_over, evaluate_predictions
from .io import ModelFile, check_fits, load_model_file


def logits_of(mf: ModelFile, x_raw: np.ndarray, preprocessing: str | None = None) -> np.ndarray:
    """The model's logits for raw dataset windows, after the model's own preprocessing."""
    x = preprocess.apply(preprocessing or mf.preprocessing, x_raw)
    return mf.runner.predict(x)


def scores(logits: np.ndarray, ds: Dataset, windows: int = 1) -> tuple[np.ndarray, dict]:
    """(the decided classes, every metric of them) for a model's logits on ``ds``.

    ``windows`` > 1 decides each window on the mean class probabilities of it and the
    ``windows - 1`` before it in its record (``evaluate.decide_over``): every metric, the
    confusion matrix and the AHA table are then those of that decision, with ``decision`` saying
    how it was made and ``per_window`` the per-window shock decision and AHA verdict beside it.
    """
    metrics = lambda p: evaluate_predictions(p, ds.y, ds.class_names, ds.rhythm,  # noqa: E731
                                             ds.amplitude_uv, ds.task)  # fmt: skip
    own = np.argmax(logits, axis=1)
    if windows == 1:
        return own, with_breakdown(metrics(own), own, ds)
    if ds.task != "rhythm":
        from ..errors import ConfigError

        raise ConfigError(f"decide_over {windows}: a decision over consecutive windows needs "
                          "rhythm windows, not the beat task; use decide_over 1")  # fmt: skip
    pred, how = decide_over(logits, ds.groups, ds.start_s, windows)
    if how["stride_s"] is not None:
        how["seconds_of_ecg"] = ds.X.shape[1] / ds.fs_hz + (windows - 1) * how["stride_s"]
    alone = metrics(own)
    out = metrics(pred)
    out["decision"] = how
    out["per_window"] = {k: alone.get(k) for k in ("balanced_accuracy", "shock_decision",
                                                   "aha_all_pass")}  # fmt: skip
    if "aha" in alone:
        out["per_window"]["aha"] = {g: {k: r[k] for k in ("n", "estimate", "lower90", "passed")}
                                    for g, r in alone["aha"].items()}  # fmt: skip
    return pred, with_breakdown(out, pred, ds)


def with_breakdown(metrics: dict, pred: np.ndarray, ds: Dataset) -> dict:
    """``metrics`` with the shock decision per database (``by_database``) and the records that
    cost the most (``costly_records``), for rhythm windows."""
    if "shock_decision" not in metrics:
        return metrics
    from .breakdown import by_database, costly_records, database_of
    from .evaluate import aha_groups

    prov = ds.provenance or {}
    groups = aha_groups(ds.class_names, ds.y, ds.rhythm, ds.amplitude_uv)
    shock = np.isin(np.asarray(ds.class_names)[pred], ["VT", "VF"])
    # several sources name records "<source>/<record>"; one source: every window is its
    single = f"{prov.get('source') or 'data'}/"
    several = "sources" in prov
    dbs = database_of(ds.groups if several else np.array([single] * len(ds)))
    # records as "<database>/<record>" (vfdb/418) rather than the source's whole path
    records = np.array([f"{d}/{str(g).rsplit('/', 1)[-1]}" for d, g in zip(dbs, ds.groups)]
                       if several else np.asarray(ds.groups))  # fmt: skip
    return {
        **metrics,
        "by_database": by_database(groups, shock, dbs),
        "costly_records": costly_records(groups, shock, records),
    }


def evaluate_files(
    paths: list[str],
    ds: Dataset,
    unsafe: bool = False,
    preprocessing: str | None = None,
    echo: Callable[[str], None] | None = None,
    predictions: dict[str, np.ndarray] | None = None,
    decide_over: int = 1,
) -> dict[str, dict]:
    """Evaluate every model file on ``ds``; a quantized model is also compared with its parent.

    Returns {variant name: metrics}; each carries the file, format, precision, preprocessing and
    seconds spent predicting. ``predictions``, when given, receives each variant's predicted
    classes. ``decide_over``: the windows each decision averages (``scores``).
    """
    results: dict[str, dict] = {}
    preds: dict[str, np.ndarray] = {}
    for path in paths:
        mf = load_model_file(path, unsafe=unsafe)
        check_fits(mf, ds.input_shape, ds.class_names)
        t0 = time.perf_counter()
        logits = logits_of(mf, ds.X, preprocessing)
        seconds = time.perf_counter() - t0
        if not np.isfinite(logits).all():
            raise_nonfinite(mf.path)
        pred, metrics = scores(logits, ds, decide_over)
        name = mf.name if mf.name not in results else path
        preds[name] = pred
        results[name] = {
            "file": path,
            "format": mf.format,
            "precision": mf.precision,
            "parent": mf.meta.get("parent"),
            "preprocessing": preprocessing or mf.preprocessing,
            "predict_seconds": round(seconds, 3),
            **metrics,
        }
        if echo:
            r = results[name]
            echo(f"  {name}: balanced accuracy {r['balanced_accuracy']:.4f}")
    if predictions is not None:
        predictions.update(preds)
    for name, r in results.items():
        parent = r.get("parent")
        if parent in preds and r["format"] in ("tflite", "onnx"):  # a conversion of its parent
            r["agreement_with_parent"] = agreement(preds[name], preds[parent])
            r["balanced_accuracy_change_vs_parent"] = (
                r["balanced_accuracy"] - results[parent]["balanced_accuracy"]
            )
    return results


def raise_nonfinite(path: str) -> None:
    from ..errors import ModelError

    raise ModelError(f"{path}: produced NaN or infinite outputs on this data")
