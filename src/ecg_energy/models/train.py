"""Training and knowledge distillation, reproducible for a seed.

Class balancing is by oversampling: every class is repeated (seeded) up to the size of the largest
one, so each epoch sees the classes equally often. Oversampling rather than loss weights, because
``keras.distillation.Distiller`` ignores sample weights in its student loss and both the plain and
the distilled student must be balanced the same way for the control to be fair.

Model selection watches the balanced accuracy of the trained network on the validation records
(never test records) after every epoch, keeps the best epoch's weights (ties: lower validation
loss), and stops after ``patience`` epochs without improvement. Balanced accuracy rather than the
loss because the distiller's validation loss mixes in the teacher term, which keeps falling while
the student's classification gets no better.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; ``student_*`` apply to both students (plain and distilled)."""

    epochs: int = 40
    student_epochs: int = 80
    batch_size: int = 64
    learning_rate: float = 1e-3
    student_learning_rate: float = 3e-3
    patience: int = 8
    student_patience: int = 15
    temperature: float = 4.0  # softening of the teacher's logits (Hinton et al., 2015)
    student_loss_weight: float = 0.5  # weight of the hard-label loss; 1 - it goes to the teacher
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.student_epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if not 0.0 <= self.student_loss_weight <= 1.0:
            raise ValueError("student_loss_weight must be between 0 and 1")
        if self.temperature <= 0:
            raise ValueError("temperature must be positive")


@dataclass(frozen=True)
class TrainResult:
    """A trained model and how it got there."""

    model: object
    history: dict[str, list[float]] = field(default_factory=dict)
    epochs_run: int = 0
    best_epoch: int = 0
    seconds: float = 0.0


def balanced_index(y: np.ndarray, seed: int) -> np.ndarray:
    """Indices that repeat every class up to the largest class's count (seeded, shuffled).

    Pure: e.g. y = [0, 0, 0, 1] -> the three 0s and the single 1 three times.
    """
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    target = counts.max()
    parts = []
    for k, c in zip(classes, counts):
        idx = np.flatnonzero(y == k)
        reps, extra = divmod(target, c)
        parts.append(np.concatenate([np.tile(idx, reps), rng.choice(idx, extra, replace=False)]))
    out = np.concatenate(parts)
    return out[rng.permutation(len(out))]


def make_deterministic(seed: int) -> None:
    """Seed Python, NumPy and the backend, and ask TensorFlow for deterministic kernels."""
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def _progress_callback(name: str, epochs: int, echo: Callable[[str], None] | None):
    import keras

    class Progress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if echo is None:
                return
            logs = logs or {}
            parts = [f"{k} {v:.3f}" for k, v in logs.items()
                     if k in ("loss", "val_loss", "val_balanced_accuracy")]  # fmt: skip
            echo(f"  {name:<10} epoch {epoch + 1:>3}/{epochs}  {'  '.join(parts)}  "
                 f"({time.perf_counter() - self._t0:.1f} s)")  # fmt: skip

    return Progress()


def _selection_callback(net, x_val, y_val, patience: int):
    """Keep the weights of the epoch with the best validation balanced accuracy; stop early."""
    import keras

    from .evaluate import confusion_matrix, summary

    n_classes = int(max(y_val.max(), 0)) + 1

    class BestBalancedAccuracy(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best = (-1.0, float("inf"))
            self.best_epoch = 0
            self.best_weights = None
            self.scores: list[float] = []

        def on_epoch_end(self, epoch, logs=None):
            pred = np.argmax(np.asarray(net(x_val, training=False)), axis=1)
            k = max(n_classes, int(pred.max()) + 1)
            score = summary(confusion_matrix(y_val, pred, k))["balanced_accuracy"]
            self.scores.append(float(score))
            if logs is not None:
                logs["val_balanced_accuracy"] = float(score)
            key = (score, -(logs or {}).get("val_loss", 0.0))
            if key > (self.best[0], -self.best[1]):
                self.best = (score, (logs or {}).get("val_loss", 0.0))
                self.best_epoch = epoch + 1
                self.best_weights = net.get_weights()
            elif epoch + 1 - self.best_epoch >= patience:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                net.set_weights(self.best_weights)

    return BestBalancedAccuracy()


def _fit(model, net, x, y, val, epochs, patience, batch_size, seed, name, echo) -> TrainResult:
    """Fit ``model`` (the network itself, or a distiller around it); select on ``net``."""
    idx = balanced_index(y, seed)
    select = _selection_callback(net, val[0], val[1], patience)
    t0 = time.perf_counter()
    hist = model.fit(
        x[idx], y[idx], validation_data=val, epochs=epochs, batch_size=batch_size, shuffle=True,
        verbose=0, callbacks=[select, _progress_callback(name, epochs, echo)],
    )  # fmt: skip
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    history["val_balanced_accuracy"] = select.scores
    return TrainResult(
        model=net,
        history=history,
        epochs_run=len(select.scores),
        best_epoch=select.best_epoch,
        seconds=time.perf_counter() - t0,
    )


def train_classifier(
    model,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    cfg: TrainConfig,
    name: str,
    student: bool = False,
    echo: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train ``model`` (logits out) with cross-entropy on class-balanced batches."""
    import keras

    make_deterministic(cfg.seed)
    lr = cfg.student_learning_rate if student else cfg.learning_rate
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    epochs = cfg.student_epochs if student else cfg.epochs
    patience = cfg.student_patience if student else cfg.patience
    return _fit(model, model, *train, val, epochs, patience, cfg.batch_size, cfg.seed, name, echo)


def logits_distillation(temperature: float):
    """Hinton's soft-target loss: T² · KL(softmax(teacher/T) || softmax(student/T)).

    Built with a ``KLDivergence`` object, not the default ``"kl_divergence"`` string: in Keras
    3.15.1 the string resolves to a plain function, ``LogitsDistillation`` then skips its softmax
    branch and applies KL to the raw scaled logits (a wrong loss that can even be negative).
    """
    import keras
    from keras import distillation

    return distillation.LogitsDistillation(
        temperature=temperature, loss=keras.losses.KLDivergence()
    )


def distill(
    teacher,
    student,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    cfg: TrainConfig,
    name: str = "distilled",
    echo: Callable[[str], None] | None = None,
) -> TrainResult:
    """Knowledge distillation: the student matches the teacher's logits softened by
    ``cfg.temperature`` (KL divergence scaled by T², Hinton et al. 2015) and the hard labels,
    weighted ``cfg.student_loss_weight`` : 1 - it. Uses ``keras.distillation.Distiller``."""
    import keras
    from keras import distillation

    make_deterministic(cfg.seed)
    teacher.trainable = False
    distiller = distillation.Distiller(
        teacher=teacher,
        student=student,
        distillation_losses=logits_distillation(cfg.temperature),
        student_loss_weight=cfg.student_loss_weight,
    )
    distiller.compile(
        optimizer=keras.optimizers.Adam(cfg.student_learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return _fit(distiller, student, *train, val, cfg.student_epochs, cfg.student_patience,
                cfg.batch_size, cfg.seed, name, echo)  # fmt: skip
