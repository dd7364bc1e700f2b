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

from ..fsio import atomic_write_bytes, atomic_write_json
from . import architectures, preprocess
from .adapt import fitted_to_data, teacher_logits
from .io import read_sidecar, save_keras, sidecar_path
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
    # your own trained model (.keras, .h5) as the original: the teacher of the students and the
    # parent of its LiteRT versions, used as it is (never retrained)
    original: str | None = None
    # your own student architecture (.keras, untrained) instead of the built-in student
    student: str | None = None
    # the input preprocessing of every variant (None: the original's sidecar's, else the task's
    # default for the built-in original and "none" for yours)
    preprocessing: str | None = None

    def __post_init__(self) -> None:
        bad = [m for m in self.quantize if m not in MODES]
        if bad:
            raise ValueError(
                f"unknown LiteRT version {', '.join(bad)}; choose from int8, fp16, dynamic, fp32"
            )
        if self.preprocessing is not None and self.preprocessing not in preprocess.PREPROCESSORS:
            raise ValueError(
                f"unknown preprocessing {self.preprocessing!r}; choose from "
                f"{', '.join(preprocess.PREPROCESSORS)}"
            )


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
    # "built-in", "user-original" (your original, used as it is) or "from-user-original" (built
    # from your original or with your student architecture)
    source: str = "built-in"

    def as_dict(self) -> dict:
        return asdict(self)


# training settings added after models were first built: in a build key only when set, so the
# models built before them keep their keys
LATER_TRAIN_SETTINGS = {"average_epochs": 0.0, "epoch_windows": 0}


def train_settings(train) -> dict:
    """The training settings a model's build key holds (``LATER_TRAIN_SETTINGS`` only when not
    their default)."""
    return {
        k: v
        for k, v in asdict(train).items()
        if k not in LATER_TRAIN_SETTINGS or v != LATER_TRAIN_SETTINGS[k]
    }


def build_key(data_key: str, settings: dict, name: str, parent_key: str = "") -> str:
    """A short hash of everything a model file depends on: the data, the settings that shape this
    file (not the other variants' settings), and its parent's key and content."""
    from .._version import __version__

    blob = json.dumps(
        [__version__, data_key, settings, name, parent_key], sort_keys=True, default=str
    )
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


def variants_preprocessing(cfg: ModelsConfig, task: str) -> tuple[str, str]:
    """(the preprocessing of every variant, where it came from): the configured one, else the
    user's original's sidecar's, else ``none`` for a user's original (its windows as they come)
    and the task's default for the built-in one."""
    if cfg.preprocessing:
        return cfg.preprocessing, "as configured"
    if cfg.original:
        known = read_sidecar(cfg.original).get("preprocessing")
        if known in preprocess.PREPROCESSORS:
            return known, f"from {os.path.basename(sidecar_path(cfg.original))}"
        return "none", (
            "windows as they come, in mV: pass --preprocess if your original was "
            "trained on other input"
        )
    return preprocess.default_for(task), f"the {task} default"


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
    unsafe: bool = False,
    extra_train: tuple[np.ndarray, np.ndarray, str] | None = None,
) -> list[Variant]:
    """Train, distil and quantize into ``models_dir``; reuse files whose build key matches.

    ``extra_train``: (windows, labels, what they are) added to the training windows only (e.g.
    the windows before false ICU alarms as hard non-shockable examples); its description and
    count are part of every model's key and sidecar.

    ``x_*`` are raw dataset windows; the preprocessing (``variants_preprocessing``) is applied
    here and recorded. ``redo`` names steps ("train", "distil", "quantize") to do again even
    where a file matches. A child's key includes its parent's content digest, so a parent that
    changed rebuilds it. With ``cfg.original`` the user's trained model is the original (copied
    in as it is, never retrained); with ``cfg.student`` the user's architecture is the students'.
    ``unsafe``: the user's files may hold Lambda layers (the user trusts them).
    """

    from ..ledger import file_digest
    from .io import load_keras

    os.makedirs(models_dir, exist_ok=True)
    seen = trained_on(data_key)
    extra_meta = None
    if extra_train is not None:
        x_extra, y_extra, what = extra_train
        x_train = np.concatenate([x_train, x_extra.astype(x_train.dtype)])
        y_train = np.concatenate([y_train, y_extra.astype(y_train.dtype)])
        extra_meta = {"what": what, "windows": int(len(y_extra))}
        data_key = f"{data_key} + {json.dumps(extra_meta, sort_keys=True)}"
    prep, _why = variants_preprocessing(cfg, task)
    shock = shockable_classes(class_names, task)
    xt, xv = preprocess.apply(prep, x_train), preprocess.apply(prep, x_val)
    length, n_classes = int(xt.shape[1]), len(class_names)
    base_meta = {
        "task": task,
        "preprocessing": prep,
        "class_names": list(class_names),
        "input_shape": list(xt.shape[1:]),
        "trained_on": {**seen, "extra": extra_meta} if seen and extra_meta else seen,
    }
    say = echo or (lambda _m: None)
    variants: list[Variant] = []
    keys: dict[str, str] = {}
    models: dict[str, object] = {}

    shape = tuple(int(d) for d in xt.shape[1:])

    def fresh(arch: str):
        """A new, untrained network: the built-in architecture, or the user's student file."""
        if arch == "user-student":
            return fitted_to_data(
                load_keras(cfg.student, unsafe), cfg.student, shape, class_names, "the student"
            )
        return architectures.build(arch, length, n_classes, seed=cfg.train.seed)

    def keras_variant(
        name: str,
        arch: str,
        parent: str | None,
        description: str,
        fit,
        step: str,
        source: str = "built-in",
    ):
        path = os.path.join(models_dir, f"{name}.keras")
        # the architecture's own definition is part of the key: a changed network is retrained
        definition = fingerprint(fresh(arch))
        if arch == "user-student":
            definition += file_digest(cfg.student)  # its initial weights too
        settings = {**train_settings(cfg.train), "preprocessing": prep}
        key = build_key(data_key + definition, settings, name, keys.get(parent or "", ""))
        meta = _reusable(path, key) if step not in redo else None

        def keras_row(seconds: float, epochs: int, reused: bool = False) -> Variant:
            return Variant(
                name, path, "keras", "fp32", parent, description, seconds, epochs, reused, source
            )

        if meta is not None:
            keys[name] = f"{key}:{file_digest(path)}"
            say(f"  {name}: reusing {path}")
            models[name] = load_keras(path, unsafe)
            variants.append(keras_row(meta.get("train_seconds", 0.0), meta.get("epochs", 0), True))
            return
        if os.path.isfile(sidecar_path(path)):  # a model being replaced is not valid meanwhile
            os.unlink(sidecar_path(path))
        what = (
            f"your architecture {os.path.basename(cfg.student)}"
            if arch == "user-student"
            else architectures.ARCHITECTURES[arch].__doc__.splitlines()[0]
        )
        say(f"  {name}: training ({what})")
        result = fit(fresh(arch))
        models[name] = result.model
        save_keras(result.model, path)
        atomic_write_json(
            sidecar_path(path),
            {
                **base_meta,
                "variant": name,
                "architecture": arch,
                "precision": "fp32",
                "parent": parent,
                "build_key": key,
                "train_seconds": round(result.seconds, 2),
                "epochs": result.epochs_run,
                "best_epoch": result.best_epoch,
                "history": result.history,
            },
        )
        keys[name] = f"{key}:{file_digest(path)}"
        say(
            f"  {name}: {result.epochs_run} epochs (best {result.best_epoch}) in "
            f"{result.seconds:.0f} s"
        )
        variants.append(keras_row(round(result.seconds, 2), result.epochs_run))

    tc = cfg.train
    fit_args = {"echo": echo, "preprocessing": prep, "shockable": shock}
    if cfg.original:
        user_original(
            cfg,
            shape,
            class_names,
            base_meta,
            prep,
            data_key,
            models_dir,
            unsafe,
            variants,
            keys,
            models,
            say,
        )
    else:
        keras_variant(
            "original",
            "original",
            None,
            "original CNN, float32",
            lambda m: train_classifier(m, (xt, y_train), (xv, y_val), tc, "original", **fit_args),
            "train",
        )
    yours = cfg.original is not None or cfg.student is not None
    student_arch = "user-student" if cfg.student else "student"
    student_words = "your student architecture" if cfg.student else "student"
    teacher_words = "your original" if cfg.original else "the original"
    teacher = teacher_logits(models["original"], xt[:256]) if cfg.original else None
    keras_variant(
        "distilled",
        student_arch,
        "original",
        f"{student_words} distilled from {teacher_words}, float32",
        lambda m: distill(
            models["original"] if teacher is None else teacher,
            m,
            (xt, y_train),
            (xv, y_val),
            tc,
            **fit_args,
        ),
        "distil",
        "from-user-original" if yours else "built-in",
    )
    keras_variant(
        "student-plain",
        student_arch,
        None,
        f"same {student_words} trained on labels only (control for distillation), float32",
        lambda m: train_classifier(
            m, (xt, y_train), (xv, y_val), tc, "plain", student=True, **fit_args
        ),
        "train",
        "from-user-original" if cfg.student else "built-in",
    )

    rep = representative_sample(xt, y_train, cfg.representative_windows, tc.seed)
    for parent in ("original", "distilled"):
        for mode in cfg.quantize:
            name = f"{parent}-{mode}"
            path = os.path.join(models_dir, f"{name}.tflite")
            settings = {
                "mode": mode,
                "representative_windows": cfg.representative_windows,
                "seed": tc.seed,
                "preprocessing": prep,
            }
            key = build_key(data_key, settings, name, keys[parent])
            of_user = next(v.source for v in variants if v.name == parent) != "built-in"
            desc = (
                f"{'your original' if parent == 'original' and cfg.original else parent}, "
                f"LiteRT {MODES[mode]}"
            )
            source = "from-user-original" if of_user else "built-in"
            if "quantize" not in redo and _reusable(path, key) is not None:
                say(f"  {name}: reusing {path}")
                variants.append(
                    Variant(name, path, "tflite", mode, parent, desc, reused=True, source=source)
                )
                continue
            say(f"  {name}: converting")
            atomic_write_bytes(path, convert(models[parent], mode, rep if mode == "int8" else None))
            atomic_write_json(
                sidecar_path(path),
                {
                    **base_meta,
                    "variant": name,
                    "precision": mode,
                    "parent": parent,
                    "build_key": key,
                    "representative_windows": len(rep) if mode == "int8" else 0,
                },
            )
            variants.append(Variant(name, path, "tflite", mode, parent, desc, source=source))
    return variants


def user_original(
    cfg: ModelsConfig,
    shape,
    class_names,
    base_meta: dict,
    prep: str,
    data_key: str,
    models_dir: str,
    unsafe: bool,
    variants: list,
    keys: dict,
    models: dict,
    say,
) -> None:
    """The user's trained model as the ``original`` variant: checked against the data (input
    shape, one output per class), copied into ``models_dir`` as it is (behind a Reshape where
    its input has no channel axis), never trained."""
    from ..ledger import file_digest
    from .io import load_keras

    path = os.path.join(models_dir, "original.keras")
    digest = file_digest(cfg.original)
    key = build_key(data_key, {"user_original": digest, "preprocessing": prep}, "original")
    desc = f"your original ({os.path.basename(cfg.original)}), float32"
    meta = _reusable(path, key)
    if meta is None:
        model = fitted_to_data(
            load_keras(cfg.original, unsafe), cfg.original, shape, class_names, "your original"
        )
        save_keras(model, path)
        atomic_write_json(
            sidecar_path(path),
            {
                **base_meta,
                "variant": "original",
                "precision": "fp32",
                "parent": None,
                "build_key": key,
                "user_file": os.path.abspath(cfg.original),
                "user_digest": digest,
                "train_seconds": 0.0,
                "epochs": 0,
                "trained_on": None,  # not by this tool: what it learnt from is the user's to say
            },
        )
        say(f"  original: your model {cfg.original} (used as it is, not retrained)")
    else:
        say(f"  original: reusing {path} (your model {cfg.original})")
    models["original"] = load_keras(path, unsafe)
    keys["original"] = f"{key}:{file_digest(path)}"
    variants.append(
        Variant(
            "original", path, "keras", "fp32", None, desc, 0.0, 0, meta is not None, "user-original"
        )
    )
