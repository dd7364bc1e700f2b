"""What every trial of a sweep shares: the data split by record, and the teacher, trained once.

Built on the driver before any trial starts and handed to the trials through Ray's object store
(``tune.with_parameters``): the windows already preprocessed, the test records' rhythm details for
the AHA table, and the teacher as the bytes of its ``.keras`` file, so a worker node needs the
package but neither the data nor the sweep folder to train. The teacher is kept in
``<out>/teacher/original.keras`` with a sidecar holding its key (the data, its training settings);
a resumed or repeated sweep with the same key loads it instead of training it again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from ..fsio import atomic_write_json
from ..ledger import key_of
from .space import SweepConfig

SPLIT_FRACTIONS = (0.6, 0.2, 0.2)  # train / validation (model selection) / test records


@dataclass(frozen=True)
class TrialContext:
    """Everything a trial needs besides its own settings (plain values, picklable)."""

    arrays: dict  # x_train, y_train, x_val, y_val, x_test, y_test (x preprocessed), rhythm_test,
    # amplitude_test (for the AHA groups)
    class_names: tuple[str, ...]
    task: str
    preprocessing: str
    teacher_keras: bytes = field(repr=False)
    trained_on: dict  # the data the students learn from: sources, train and validation records
    sweep: SweepConfig
    trials_dir: str
    key: str  # the training key: data, training settings and the teacher's content
    session: int = 1  # which invocation of the sweep this is (1, then 2 on a resume, ...)

    @property
    def input_len(self) -> int:
        return int(self.arrays["x_train"].shape[1])


def digest(*parts) -> str:
    """A short hash of JSON-able parts (the same parts give the same key on any machine)."""
    return key_of(*parts)[:16]


def load_split(cfg: SweepConfig, cache_dir: str, echo: Callable[[str], None]):
    """(Dataset, Split): the sweep's data read (the synthetic database generated into
    ``cache_dir`` when it is the source) and split by record."""
    from ..data.dataset import split_by_record
    from ..data.sources import load_sources
    from ..data.synth import SynthConfig
    from ..data.wfdb_source import ReadOptions

    synth = SynthConfig(records=cfg.data.records, minutes=cfg.data.minutes)
    ds, warnings = load_sources([cfg.data.source], ReadOptions(), cache_dir, synth)
    for w in warnings:
        echo(f"  data: {w}")
    return ds, split_by_record(ds, SPLIT_FRACTIONS, seed=cfg.data.split_seed)


def teacher_config(cfg: SweepConfig):
    from ..models.train import TrainConfig

    t = cfg.train
    return TrainConfig(
        epochs=t.teacher_epochs, patience=t.teacher_patience, batch_size=t.batch_size, seed=t.seed
    )


def ensure_teacher(
    cfg: SweepConfig, data: dict, key: str, folder: str, meta: dict, echo: Callable[[str], None]
) -> tuple[str, dict]:
    """(path, sidecar) of the shared teacher: reused when its sidecar's key is ``key``, else
    trained on ``data`` (preprocessed windows) and written atomically."""
    from ..models import architectures
    from ..models.io import read_sidecar, save_keras, sidecar_path
    from ..models.train import train_classifier
    from ..models.variants import shockable_classes

    path = os.path.join(folder, "original.keras")
    if os.path.isfile(path) and read_sidecar(path).get("build_key") == key:
        echo(f"  teacher: reusing {path}")
        return path, read_sidecar(path)
    os.makedirs(folder, exist_ok=True)
    echo("  teacher: training the original CNN once for every trial")
    tc = teacher_config(cfg)
    model = architectures.build(
        "original", data["x_train"].shape[1], len(meta["class_names"]), seed=tc.seed
    )
    shock = shockable_classes(tuple(meta["class_names"]), meta["task"])
    result = train_classifier(
        model,
        (data["x_train"], data["y_train"]),
        (data["x_val"], data["y_val"]),
        tc,
        "teacher",
        preprocessing=meta["preprocessing"],
        shockable=shock,
    )
    save_keras(result.model, path)
    side = {
        **meta,
        "variant": "original",
        "architecture": "original",
        "precision": "fp32",
        "parent": None,
        "build_key": key,
        "train_seconds": round(result.seconds, 2),
        "epochs": result.epochs_run,
        "best_epoch": result.best_epoch,
    }
    atomic_write_json(sidecar_path(path), side)
    echo(
        f"  teacher: {result.epochs_run} epochs (best {result.best_epoch}) in "
        f"{result.seconds:.0f} s"
    )
    return path, side


def prepare(
    cfg: SweepConfig, out: str, session: int, echo: Callable[[str], None] = lambda m: None
) -> tuple[TrialContext, dict]:
    """(the trials' shared context, facts about the data and the teacher for the results)."""
    from ..data import fingerprint
    from ..models import preprocess
    from ..models.variants import trained_on

    ds, split = load_split(cfg, os.path.join(out, "data"), echo)
    prep = preprocess.default_for(ds.task)
    tr, va, te = ds.subset(split.train), ds.subset(split.val), ds.subset(split.test)
    data = {
        "x_train": preprocess.apply(prep, tr.X),
        "y_train": tr.y,
        "x_val": preprocess.apply(prep, va.X),
        "y_val": va.y,
        "x_test": preprocess.apply(prep, te.X),
        "y_test": te.y,
        "rhythm_test": te.rhythm,
        "amplitude_test": te.amplitude_uv,
    }
    data_key = fingerprint.data_key(ds, split)
    meta = {
        "task": ds.task,
        "preprocessing": prep,
        "class_names": list(ds.class_names),
        "input_shape": list(data["x_train"].shape[1:]),
        "trained_on": trained_on(data_key),
    }
    teacher_key = digest("teacher", data_key, asdict(teacher_config(cfg)), prep)
    path, side = ensure_teacher(cfg, data, teacher_key, os.path.join(out, "teacher"), meta, echo)
    with open(path, "rb") as fh:
        teacher_bytes = fh.read()
    teacher_test = score_teacher(path, data, tuple(ds.class_names), ds.task)
    train_key = digest(
        "students", data_key, asdict(cfg.train), prep, hashlib.sha256(teacher_bytes).hexdigest()
    )
    ctx = TrialContext(
        arrays=data,
        class_names=tuple(ds.class_names),
        task=ds.task,
        preprocessing=prep,
        teacher_keras=teacher_bytes,
        trained_on=meta["trained_on"],
        sweep=cfg,
        trials_dir=os.path.abspath(os.path.join(out, "trials")),
        key=train_key,
        session=session,
    )
    facts = {
        "source": cfg.data.source,
        "windows": {
            s: int(len(i))
            for s, i in (("train", split.train), ("val", split.val), ("test", split.test))
        },
        "records": {k: list(v) for k, v in split.records.items()},
        "split": split.method,
        "preprocessing": prep,
        "class_names": list(ds.class_names),
        "teacher": {
            "file": os.path.relpath(path, out),
            "build_key": teacher_key,
            "epochs": side.get("epochs"),
            "train_seconds": side.get("train_seconds"),
            **teacher_test,
        },
    }
    return ctx, facts


def score_teacher(path: str, data: dict, class_names: tuple[str, ...], task: str) -> dict:
    """The teacher's MACs and its figures on the test records (the reference every student is
    compared with)."""
    from ..models.evaluate import evaluate_predictions
    from ..models.io import load_keras
    from ..ops.keras_ops import total_macs

    model = load_keras(path)
    pred = np.argmax(np.asarray(model.predict(data["x_test"], batch_size=256, verbose=0)), axis=1)
    m = evaluate_predictions(
        pred, data["y_test"], class_names, data["rhythm_test"], data["amplitude_test"], task
    )
    return {
        "macs": int(total_macs(model)),
        "params": int(model.count_params()),
        "balanced_accuracy": m["balanced_accuracy"],
        "aha_all_pass": m.get("aha_all_pass"),
    }
