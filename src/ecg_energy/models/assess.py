"""Run model files on held-out data and evaluate them (the glue between runners and metrics)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..data.dataset import Dataset
from . import preprocess
from .evaluate import agreement, evaluate_predictions
from .io import ModelFile, check_fits, load_model_file


def logits_of(mf: ModelFile, x_raw: np.ndarray, preprocessing: str | None = None) -> np.ndarray:
    """The model's logits for raw dataset windows, after the model's own preprocessing."""
    x = preprocess.apply(preprocessing or mf.preprocessing, x_raw)
    return mf.runner.predict(x)


def evaluate_files(
    paths: list[str],
    ds: Dataset,
    unsafe: bool = False,
    preprocessing: str | None = None,
    echo: Callable[[str], None] | None = None,
    predictions: dict[str, np.ndarray] | None = None,
) -> dict[str, dict]:
    """Evaluate every model file on ``ds``; a quantized model is also compared with its parent.

    Returns {variant name: metrics}; each carries the file, format, precision, preprocessing and
    seconds spent predicting. ``predictions``, when given, receives each variant's predicted
    classes.
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
        pred = np.argmax(logits, axis=1)
        name = mf.name if mf.name not in results else path
        preds[name] = pred
        results[name] = {
            "file": path,
            "format": mf.format,
            "precision": mf.precision,
            "parent": mf.meta.get("parent"),
            "preprocessing": preprocessing or mf.preprocessing,
            "predict_seconds": round(seconds, 3),
            **evaluate_predictions(pred, ds.y, ds.class_names, ds.rhythm, ds.amplitude_uv, ds.task),
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
