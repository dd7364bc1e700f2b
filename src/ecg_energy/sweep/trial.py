"""One trial of a sweep: a student configuration trained (or distilled from the shared teacher),
quantized, scored on the held-out records, counted, estimated and priced on the devices.

Returns one flat dict of figures (the row of ``sweep.csv``) and keeps its model files in
``<trials>/<label>-<key>/``: ``student.keras`` and ``student-<mode>.tflite``, each with a sidecar
saying how its input is preprocessed and what it was trained on, so ``ecg-energy run --model``
can take either further. The folder is keyed by everything the student depends on, so trials
that differ only in the quantization share one trained student, and a trial whose
``result-<mode>.json`` is already there (finished before the sweep was killed) returns it at
once. Nothing here imports Ray: the orchestration (``run``) wraps it.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable

import numpy as np

from ..fsio import atomic_write_json
from .shared import TrialContext, digest
from .space import normalise


def label(point: dict) -> str:
    """A trial's readable name: w0.5-d2-s5-k7-T4-h0.5-int8 (distilled at temperature 4, label
    weight 0.5) or w1-d3-s5-k7-plain-int8 (labels alone)."""
    p = normalise(point)
    kd = f"T{p['temperature']:g}-h{p['hard_weight']:g}" if p["distill"] else "plain"
    return f"w{p['width']:g}-d{p['depth']}-s{p['stride']}-k{p['kernel']}-{kd}-{p['quantize']}"


def student_key(ctx_key: str, point: dict) -> str:
    """The key of a trial's trained student: the shared training key and the student's settings
    (not the quantization, which is made from the same student)."""
    p = {k: v for k, v in normalise(point).items() if k != "quantize"}
    return digest(ctx_key, p)[:10]


def limit_threads(threads: int) -> None:
    """TensorFlow's thread pools sized to the CPUs the trial was given (before its first op): a
    trial on one core must not spread over the cores of the trials beside it."""
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised in this process (a reused worker): keep its pools
        pass


def _train(point: dict, ctx: TrialContext, folder: str, name: str) -> dict:
    """Train (or distil) the student into ``folder``/student.keras unless it is there; its
    training facts."""
    from dataclasses import replace

    from ..models import architectures
    from ..models.io import load_keras, read_sidecar, save_keras, sidecar_path
    from ..models.train import TrainConfig, distill, train_classifier
    from ..models.variants import shockable_classes

    path = os.path.join(folder, "student.keras")
    if os.path.isfile(path) and read_sidecar(path).get("build_key") == os.path.basename(folder):
        meta = read_sidecar(path)
        return {"model": load_keras(path), "reused": True, **meta["training"]}
    a, t, p = ctx.arrays, ctx.sweep.train, normalise(point)
    cfg = TrainConfig(
        student_epochs=t.epochs,
        student_patience=t.patience,
        batch_size=t.batch_size,
        student_learning_rate=t.learning_rate,
        seed=t.seed,
    )
    model = architectures.build(
        "student",
        ctx.input_len,
        len(ctx.class_names),
        seed=t.seed,
        width=p["width"],
        depth=p["depth"],
        stride=p["stride"],
        kernel=p["kernel"],
    )
    args = {
        "preprocessing": ctx.preprocessing,
        "shockable": shockable_classes(ctx.class_names, ctx.task),
    }
    train, val = (a["x_train"], a["y_train"]), (a["x_val"], a["y_val"])
    if p["distill"]:
        # a private copy: trials that differ only in quantization may train here side by side
        fd, teacher_path = tempfile.mkstemp(prefix=".teacher-", suffix=".keras", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(ctx.teacher_keras)
        try:
            teacher = load_keras(teacher_path)
        finally:
            os.unlink(teacher_path)
        cfg = replace(cfg, temperature=p["temperature"], student_loss_weight=p["hard_weight"])
        result = distill(teacher, model, train, val, cfg, name, **args)
    else:
        result = train_classifier(model, train, val, cfg, name, student=True, **args)
    training = {
        "train_seconds": round(result.seconds, 2),
        "epochs": result.epochs_run,
        "best_epoch": result.best_epoch,
    }
    save_keras(result.model, path)
    atomic_write_json(
        sidecar_path(path),
        {
            **_base_meta(ctx),
            "variant": name,
            "architecture": "student",
            "architecture_params": {k: p[k] for k in ("width", "depth", "stride", "kernel")},
            "distillation": (
                {"temperature": p["temperature"], "hard_weight": p["hard_weight"]}
                if p["distill"]
                else None
            ),
            "precision": "fp32",
            "parent": "original" if p["distill"] else None,
            "build_key": os.path.basename(folder),
            "training": training,
        },
    )
    return {"model": result.model, "reused": False, **training}


def _base_meta(ctx: TrialContext) -> dict:
    return {
        "task": ctx.task,
        "preprocessing": ctx.preprocessing,
        "class_names": list(ctx.class_names),
        "input_shape": [ctx.input_len, 1],
        "trained_on": ctx.trained_on,
    }


def _quantize(model, mode: str, ctx: TrialContext, folder: str, name: str, parent: str) -> str:
    from ..fsio import atomic_write_bytes
    from ..models.io import sidecar_path
    from ..models.quantize import CALIBRATED, convert, representative_sample

    path = os.path.join(folder, f"student-{mode}.tflite")
    a = ctx.arrays
    rep = (
        representative_sample(
            a["x_train"], a["y_train"], ctx.sweep.train.representative_windows, ctx.sweep.train.seed
        )
        if mode in CALIBRATED
        else None
    )
    atomic_write_bytes(path, convert(model, mode, rep))
    atomic_write_json(
        sidecar_path(path),
        {
            **_base_meta(ctx),
            "variant": name,
            "precision": mode,
            "parent": parent,
            "representative_windows": 0 if rep is None else len(rep),
        },
    )
    return path


def _score(path: str, ctx: TrialContext, threads: int) -> dict:
    """The model's figures on the test records (preprocessed already): balanced accuracy, the
    shock decision and the AHA table."""
    from ..models.evaluate import evaluate_predictions
    from ..models.io import load_model_file

    a = ctx.arrays
    mf = load_model_file(path, num_threads=threads)
    logits = mf.runner.predict(a["x_test"])
    if not np.isfinite(logits).all():
        raise ValueError(f"{path}: NaN or infinite outputs on the test records")
    return evaluate_predictions(
        np.argmax(logits, axis=1),
        a["y_test"],
        ctx.class_names,
        a["rhythm_test"],
        a["amplitude_test"],
        ctx.task,
    )


def _price(path: str, name: str, ctx: TrialContext) -> dict:
    """Counts, estimates per table (low-high) and the device rows, flattened."""
    from ..devices.assess import DeviceConfig, assess
    from ..devices.profile import load_profiles
    from ..energy.estimate import DEFAULT_BUFFER_BYTES, estimate_variants
    from ..energy.stats import log_middle
    from ..ops.files import count_file

    fc = count_file(path)
    totals = fc.counts.totals()
    row: dict = {
        "macs": int(fc.counts.macs),
        "macs_by_precision": fc.counts.macs_by_precision(),
        "weight_bytes": int(totals.get("weight_bytes", 0)),
        "file_bytes": os.path.getsize(path),
    }
    est = estimate_variants({name: fc}, ctx.sweep.tables, DEFAULT_BUFFER_BYTES)[name]["estimates"]
    for table, e in est.items():
        row[f"estimate_j[{table}]"] = log_middle(e["low_j"], e["high_j"])
        row[f"estimate_j_low[{table}]"], row[f"estimate_j_high[{table}]"] = e["low_j"], e["high_j"]
    if ctx.sweep.devices:
        profiles = load_profiles(ctx.sweep.devices)
        dev = assess(
            {name: path},
            profiles,
            DeviceConfig(names=ctx.sweep.devices, windows=0),
            counted={name: fc},
        )
        for device, rows in dev["by_device"].items():
            r = rows[name]
            for k in (
                "energy_j",
                "energy_j_low",
                "energy_j_high",
                "latency_s",
                "fits",
                "realtime",
                "sram_bytes",
                "battery_days",
            ):
                row[f"{k}[{device}]"] = r.get(k)
            why = r.get("skipped") or "; ".join(r.get("notes") or [])
            row[f"device_note[{device}]"] = why or None
    return row


def run_trial(
    point: dict,
    ctx: TrialContext,
    threads: int = 1,
    measure: Callable[[str, np.ndarray, str], dict] | None = None,
    node: str | None = None,
) -> dict:
    """The trial's figures (one flat dict); its files stay in its folder. ``measure(tflite
    path, windows, name)``, when given, measures host energy per inference (``meter``)."""
    t0 = time.perf_counter()
    p = normalise(point)
    name = label(p)
    student = name.rsplit("-", 1)[0]  # the label without the quantization: the Keras student's
    folder = os.path.join(ctx.trials_dir, f"{student}-{student_key(ctx.key, p)}")
    done = os.path.join(folder, f"result-{p['quantize']}.json")
    if os.path.isfile(done):
        import json

        with open(done, encoding="utf-8") as fh:
            return {**json.load(fh), "reused": True}
    os.makedirs(folder, exist_ok=True)
    limit_threads(threads)
    trained = _train(p, ctx, folder, student)
    tflite = _quantize(trained.pop("model"), p["quantize"], ctx, folder, name, student)
    acc = _score(tflite, ctx, threads)
    keras_acc = _score(os.path.join(folder, "student.keras"), ctx, threads)
    shock = acc.get("shock_decision") or {}
    failing = [g for g, r in (acc.get("aha") or {}).items() if r.get("passed") is False]
    row = {
        "trial": name,
        **p,
        "balanced_accuracy": acc["balanced_accuracy"],
        "keras_balanced_accuracy": keras_acc["balanced_accuracy"],
        "accuracy": acc["accuracy"],
        "macro_f1": acc["macro_f1"],
        "shock_sensitivity": shock.get("sensitivity"),
        "shock_specificity": shock.get("specificity"),
        "aha_pass": bool(acc.get("aha_all_pass")),
        "aha_failed": ", ".join(failing),
        **_price(tflite, name, ctx),
        "train_seconds": trained["train_seconds"],
        "epochs": trained["epochs"],
        "best_epoch": trained["best_epoch"],
        "student_reused": trained["reused"],
        "keras_file": os.path.relpath(
            os.path.join(folder, "student.keras"), os.path.dirname(ctx.trials_dir)
        ),
        "tflite_file": os.path.relpath(tflite, os.path.dirname(ctx.trials_dir)),
        "aha": acc.get("aha"),
        "session": ctx.session,
        "node": node,
    }
    if measure is not None:
        row.update(measure(tflite, ctx.arrays["x_test"][:1], name))
    row["seconds"] = round(time.perf_counter() - t0, 2)
    atomic_write_json(done, row)  # last: its presence means the trial finished
    return {**row, "reused": False}
