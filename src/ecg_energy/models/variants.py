"""The built-in variants of one detector, built from a dataset split.

``original`` (large CNN, float32) -> ``distilled`` (student taught by the original) and
``student-plain`` (the same student trained on labels alone: the control that shows what
distillation bought) -> ``original-int8`` and ``distilled-int8`` (full-integer LiteRT), plus optional
float16 and dynamic-range LiteRT versions. Each model file gets a sidecar ``<stem>.json`` saying
how its input is preprocessed, its classes, its parent, and a key of everything it was built from,
so a re-run reuses a finished model instead of training it again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from ..fsio import atomic_write_json
from . import architectures, preprocess
from .io import read_sidecar, sidecar_path
from .quantize import MODES, convert, representative_sample
from .train import TrainConfig, distill, train_classifier

STUDENT_VARIANTS = ("distilled", "student-plain")


@dataclass(frozen=True)
class ModelsConfig:
    """Which variants to build and how."""

    train: TrainConfig = field(default_factory=TrainConfig)
    # LiteRT versions of original and distilled: int8, fp16, dynamic, and fp32 (the float model on
    # LiteRT's runtime: same weights, ~4x faster than tf.function at batch 1 on a 2-core VM)
    quantize: tuple[str, ...] = ("int8",)
    representative_windows: int = 1000  # class-balanced, at most 200 per class

    def __post_init__(self) -> None:
        bad = [m for m in self.quantize if m not in MODES]
        if bad:
            raise ValueError(f"unknown LiteRT version {', '.join(bad)}; choose from "
                             "int8, fp16, dynamic, fp32")  # fmt: skip


@dataclass(frozen=True)
class Variant:
    """A model file that is one version of the detector."""

    name: str
    path: str
    format: str  # "keras" or "tflite"
    precision: str  # "fp32", "int8", "fp16", "dynamic"
    parent: str | None
    description: str
    train_seconds: float = 0.0
    epochs: int = 0
    reused: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def build_key(data_key: str, settings: dict, name: str, parent_key: str = "") -> str:
    """A short hash of everything a model file depends on: the data, the settings that shape this
    file (not the other variants' settings), and its parent's key and content."""
    from .. import __version__

    blob = json.dumps([__version__, data_key, settings, name, parent_key], sort_keys=True,
                      default=str)  # fmt: skip
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def fingerprint(model) -> str:
    """The network's definition without Keras' auto-generated layer names (those count up within
    a process, so the same network built twice would otherwise look different)."""

    def strip(obj):
        if isinstance(obj, dict):
            return {k: strip(v) for k, v in obj.items() if k != "name"}
        if isinstance(obj, list | tuple):
            return [strip(v) for v in obj]
        return obj

    layers = [[type(ly).__name__, strip(ly.get_config())] for ly in model.layers]
    return json.dumps(layers, sort_keys=True, default=str)


def _reusable(path: str, key: str) -> dict | None:
    if os.path.isfile(path):
        meta = read_sidecar(path)
        if meta.get("build_key") == key:
            return meta
    return None


def _save_keras(model, path: str) -> None:
    """Keras writes through a temporary name, then one rename (never a half-written model)."""
    tmp = os.path.join(os.path.dirname(path), f".tmp-{os.path.basename(path)}")
    model.save(tmp)
    os.replace(tmp, path)


def _save_bytes(content: bytes, path: str) -> None:
    tmp = os.path.join(os.path.dirname(path), f".tmp-{os.path.basename(path)}")
    with open(tmp, "wb") as fh:
        fh.write(content)
    os.replace(tmp, path)


def trained_on(data_key: str) -> dict | None:
    """The data a model was fitted to, from the run's data key: its source(s) and the training and
    validation records (so an evaluation can tell data the model saw from data it did not)."""
    try:
        provenance, _counts, records, _method = json.loads(data_key)
    except (ValueError, TypeError):
        return None
    parts = provenance.get("sources", [provenance])
    return {
        "sources": [p["source"] for p in parts if p.get("source")],
        "folders": [p["folder"] for p in parts if p.get("folder")],
        "records": sorted({*records.get("train", ()), *records.get("val", ())}),
    }


def shockable_classes(class_names: tuple[str, ...], task: str) -> tuple[int, ...] | None:
    """The indices of the classes that advise a shock (rhythm task), else None."""
    from ..data.labels import SHOCKABLE_CLASSES

    if task != "rhythm" or not set(class_names) >= SHOCKABLE_CLASSES:
        return None
    return tuple(i for i, c in enumerate(class_names) if c in SHOCKABLE_CLASSES)


def build_variants(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    class_names: tuple[str, ...],
    task: str,
    data_key: str,
    cfg: ModelsConfig,
    models_dir: str,
    echo: Callable[[str], None] | None = None,
    redo: frozenset[str] = frozenset(),
) -> list[Variant]:
    """Train, distil and quantize into ``models_dir``; reuse files whose build key matches.

    ``x_*`` are raw dataset windows; the task's preprocessing is applied here and recorded.
    ``redo`` names steps ("train", "distil", "quantize") to do again even where a file matches.
    A child's key includes its parent's content digest, so a parent that changed rebuilds it.
    """
    import keras

    from ..ledger import file_digest

    os.makedirs(models_dir, exist_ok=True)
    prep = preprocess.default_for(task)
    shock = shockable_classes(class_names, task)
    xt, xv = preprocess.apply(prep, x_train), preprocess.apply(prep, x_val)
    length, n_classes = int(xt.shape[1]), len(class_names)
    base_meta = {"task": task, "preprocessing": prep, "class_names": list(class_names),
                 "input_shape": list(xt.shape[1:]), "trained_on": trained_on(data_key)}  # fmt: skip
    say = echo or (lambda _m: None)
    variants: list[Variant] = []
    keys: dict[str, str] = {}
    models: dict[str, object] = {}

    def keras_variant(name: str, arch: str, parent: str | None, description: str, fit, step: str):
        path = os.path.join(models_dir, f"{name}.keras")
        # the architecture's own definition is part of the key: a changed network is retrained
        definition = fingerprint(architectures.build(arch, length, n_classes, seed=cfg.train.seed))
        settings = {**asdict(cfg.train), "preprocessing": prep}
        key = build_key(data_key + definition, settings, name, keys.get(parent or "", ""))
        meta = _reusable(path, key) if step not in redo else None
        if meta is not None:
            keys[name] = f"{key}:{file_digest(path)}"
            say(f"  {name}: reusing {path}")
            models[name] = keras.saving.load_model(path, safe_mode=True, compile=False)
            variants.append(Variant(name, path, "keras", "fp32", parent, description,
                                    meta.get("train_seconds", 0.0), meta.get("epochs", 0), True))  # fmt: skip
            return
        if os.path.isfile(sidecar_path(path)):  # a model being replaced is not valid meanwhile
            os.unlink(sidecar_path(path))
        say(f"  {name}: training ({architectures.ARCHITECTURES[arch].__doc__.splitlines()[0]})")
        result = fit(architectures.build(arch, length, n_classes, seed=cfg.train.seed))
        models[name] = result.model
        _save_keras(result.model, path)
        atomic_write_json(sidecar_path(path), {
            **base_meta, "variant": name, "architecture": arch, "precision": "fp32",
            "parent": parent, "build_key": key, "train_seconds": round(result.seconds, 2),
            "epochs": result.epochs_run, "best_epoch": result.best_epoch,
            "history": result.history,
        })  # fmt: skip
        keys[name] = f"{key}:{file_digest(path)}"
        say(f"  {name}: {result.epochs_run} epochs (best {result.best_epoch}) in "
            f"{result.seconds:.0f} s")  # fmt: skip
        variants.append(Variant(name, path, "keras", "fp32", parent, description,
                                round(result.seconds, 2), result.epochs_run))  # fmt: skip

    tc = cfg.train
    fit_args = {"echo": echo, "preprocessing": prep, "shockable": shock}
    keras_variant("original", "original", None, "original CNN, float32",
                  lambda m: train_classifier(m, (xt, y_train), (xv, y_val), tc, "original",
                                             **fit_args), "train")  # fmt: skip
    keras_variant("distilled", "student", "original", "student distilled from the original, float32",
                  lambda m: distill(models["original"], m, (xt, y_train), (xv, y_val), tc,
                                    **fit_args), "distil")  # fmt: skip
    keras_variant("student-plain", "student", None,
                  "same student trained on labels only (control for distillation), float32",
                  lambda m: train_classifier(m, (xt, y_train), (xv, y_val), tc, "plain",
                                             student=True, **fit_args), "train")  # fmt: skip

    rep = representative_sample(xt, y_train, cfg.representative_windows, tc.seed)
    for parent in ("original", "distilled"):
        for mode in cfg.quantize:
            name = f"{parent}-{mode}"
            path = os.path.join(models_dir, f"{name}.tflite")
            settings = {"mode": mode, "representative_windows": cfg.representative_windows,
                        "seed": tc.seed, "preprocessing": prep}  # fmt: skip
            key = build_key(data_key, settings, name, keys[parent])
            desc = f"{parent}, LiteRT {MODES[mode]}"
            if "quantize" not in redo and _reusable(path, key) is not None:
                say(f"  {name}: reusing {path}")
                variants.append(Variant(name, path, "tflite", mode, parent, desc, reused=True))
                continue
            say(f"  {name}: converting")
            _save_bytes(convert(models[parent], mode, rep if mode == "int8" else None), path)
            atomic_write_json(sidecar_path(path), {
                **base_meta, "variant": name, "precision": mode, "parent": parent,
                "build_key": key, "representative_windows": len(rep) if mode == "int8" else 0,
            })  # fmt: skip
            variants.append(Variant(name, path, "tflite", mode, parent, desc))
    return variants
