"""Training and knowledge distillation, reproducible for a seed.

Class balancing is by resampling: every epoch draws as many windows as the training set holds,
the classes equally often (a class smaller than its share is repeated, a larger one subsampled,
afresh each epoch, seeded), so the classes weigh the same and an epoch costs the same as one pass
over the data. Resampling rather than loss weights, because ``keras.distillation.Distiller``
ignores sample weights in its student loss and both the plain and the distilled student must be
balanced the same way for the control to be fair. (Oversampling every class up to the largest
made an epoch of 22 real records 2.8x the data, and the rare classes' few records were seen
dozens of times an epoch.) With ``augment`` on, every drawn window also gets a random gain and
noise in mV (``preprocess.augment``), so no window is seen twice the same.

Model selection watches the trained network on the validation records (never test records) after
every epoch, keeps the best epoch's weights, and stops after ``patience`` epochs without
improvement. For a shock adviser (``shockable`` classes given, ``select="auto"``) the score is the
shock decision's balanced accuracy, (sensitivity + specificity) / 2, ties broken by the five-class
balanced accuracy, then the network's lower validation cross-entropy: the decision the device
acts on, rather than VT-versus-VF confusions that change nothing. Otherwise the balanced accuracy
(ties: lower cross-entropy).
Never the loss alone, because the distiller's validation loss mixes in the teacher term, which
keeps falling while the student's classification gets no better.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; ``student_*`` apply to both students (plain and distilled)."""

    # at most 30 epochs of at most 8,192 windows (epoch_windows) for the original, 50 for the
    # students: on the 64 shared real records the original's 5-fold cross-validation and the
    # deployed build then fit in 90 minutes on 2 cores (the original ~15 s an epoch); on the
    # synthetic database (~2,000 training windows) early stopping ends sooner anyway
    epochs: int = 30
    student_epochs: int = 50
    batch_size: int = 64
    learning_rate: float = 1e-3
    student_learning_rate: float = 3e-3
    weight_decay: float = 0.0  # decoupled weight decay of the original's optimizer (not students')
    patience: int = 8
    student_patience: int = 10
    temperature: float = 4.0  # softening of the teacher's logits (Hinton et al., 2015)
    student_loss_weight: float = 0.5  # weight of the hard-label loss; 1 - it goes to the teacher
    augment: bool = True  # random gain and noise on training windows (inputs in mV only)
    select: str = "auto"  # "auto": the shock decision where there is one; "balanced-accuracy"
    # weights averaged over about this many epochs (an exponential moving average updated every
    # batch, BatchNorm statistics included); model selection scores and keeps the averaged
    # weights. 0: the weights as trained
    average_epochs: float = 0.0
    # at most this many windows drawn per epoch (class-balanced, afresh each epoch); 0: as many as
    # the training set holds. A cap keeps an epoch's cost bounded on a large database: on 64
    # records (~28,000 training windows) an epoch of the original costs 3.4x less, the model
    # selection sees the validation records 3.4x as often, and every window is still drawn
    epoch_windows: int = 8192
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.student_epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if not 0.0 <= self.student_loss_weight <= 1.0:
            raise ValueError("student_loss_weight must be between 0 and 1")
        if self.weight_decay < 0:
            raise ValueError("weight_decay must not be negative")
        if self.temperature <= 0:
            raise ValueError("temperature must be positive")
        if self.average_epochs < 0:
            raise ValueError("average_epochs must not be negative")
        if self.epoch_windows < 0:
            raise ValueError("epoch_windows must be 0 (the training set's size) or positive")
        if self.select not in ("auto", "balanced-accuracy"):
            raise ValueError("select must be auto or balanced-accuracy")


@dataclass(frozen=True)
class TrainResult:
    """A trained model and how it got there."""

    model: object
    history: dict[str, list[float]] = field(default_factory=dict)
    epochs_run: int = 0
    best_epoch: int = 0
    seconds: float = 0.0


def _shares(n: int, k: int) -> np.ndarray:
    """``n`` split into ``k`` shares that differ by at most one, the larger first."""
    shares = np.full(k, n // k)
    shares[: n % k] += 1
    return shares


def _draw(idx: np.ndarray, share: int, rng: np.random.Generator) -> np.ndarray:
    reps, extra = divmod(int(share), len(idx))
    return np.concatenate([np.tile(idx, reps), rng.choice(idx, extra, replace=False)])


def balanced_draw(y: np.ndarray, n: int, rng: np.random.Generator,
                  groups: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """``n`` indices with every class of ``y`` equally often (shares differ by at most one): a
    class with fewer windows than its share is repeated whole and topped up without replacement, a
    larger class subsampled without replacement. With ``groups`` (the record of every window), a
    class's share is split equally among the records that hold it, and each record's part drawn
    the same way, so no patient's many windows of a class outweigh the others'. Pure for a given
    ``rng``; shuffled.

    E.g. y = [0, 0, 0, 0, 0, 0, 1], n = 4 -> two distinct 0s and the single 1 twice; with groups
    [a, a, a, a, a, b, b], n = 4 -> one 0 of record a, the 0 of record b, the 1 twice.
    """
    classes = np.unique(y)
    parts = []
    for k, share in zip(classes, _shares(n, len(classes))):
        idx = np.flatnonzero(y == k)
        if groups is None:
            parts.append(_draw(idx, share, rng))
            continue
        recs = np.unique(groups[idx])
        for rec, part in zip(recs, _shares(int(share), len(recs))):
            parts.append(_draw(idx[groups[idx] == rec], part, rng))
    out = np.concatenate(parts)
    return out[rng.permutation(len(out))]


def balanced_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, augment=None,
                     groups: np.ndarray | None = None, windows: int = 0):  # fmt: skip
    """A Keras ``PyDataset``: each epoch a fresh :func:`balanced_draw` of ``len(y)`` windows (at most
    ``windows`` when given) in
    batches, each batch passed through ``augment(x, rng, labels)`` when given. Seeded by (seed, epoch,
    batch), so a run repeats exactly whatever order Keras asks for the batches in."""
    import keras

    class BalancedBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch = 0
            self._draw()

        def _draw(self):
            self.index = balanced_draw(
                y,
                min(windows, len(y)) if windows else len(y),
                np.random.default_rng([seed, self.epoch]),
                groups,
            )

        def __len__(self):
            return -(-len(self.index) // batch_size)

        def __getitem__(self, i):
            sel = self.index[i * batch_size : (i + 1) * batch_size]
            xb = x[sel]
            if augment is not None:
                xb = augment(xb, np.random.default_rng([seed, self.epoch, i, 1]), y[sel])
            return xb, y[sel]

        def on_epoch_end(self):
            self.epoch += 1
            self._draw()

    return BalancedBatches()


def make_deterministic(seed: int) -> None:
    """Seed Python, NumPy and the backend, and ask TensorFlow for deterministic kernels."""
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def _progress_callback(name: str, epochs: int, echo: Callable[[str], None] | None):
    """A bar of the model's epochs with the time left on a terminal; a line per epoch elsewhere."""
    import keras

    from ..progress import Bar

    class Progress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self._bar = Bar(epochs, f"  {name}", unit="epoch") if echo is not None else None

        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if echo is None:
                return
            logs = logs or {}
            shown = {k: v for k, v in logs.items()
                     if k in ("loss", "val_loss", "val_balanced_accuracy",
                              "val_shock_balanced_accuracy")}  # fmt: skip
            if self._bar.live:
                self._bar.update(1, **{k.replace("val_balanced_accuracy", "val_bal_acc"): f"{v:.3f}"
                                       for k, v in shown.items() if "shock" not in k})  # fmt: skip
                return
            parts = [f"{k} {v:.3f}" for k, v in shown.items()]
            echo(f"  {name:<10} epoch {epoch + 1:>3}/{epochs}  {'  '.join(parts)}  "
                 f"({time.perf_counter() - self._t0:.1f} s)")  # fmt: skip

        def on_train_end(self, logs=None):
            if self._bar is not None:
                self._bar.close()

    return Progress()


def selection_score(y: np.ndarray, pred: np.ndarray, shockable=None) -> tuple[float, ...]:
    """What model selection maximises: (shock balanced accuracy, five-class balanced accuracy)
    when ``shockable`` class indices are given and ``y`` holds windows on both sides of the
    decision, else (balanced accuracy,). E.g. y = [0, 0, 3, 4], pred = [0, 3, 4, 4] with 3, 4
    shockable: sensitivity 2/2, specificity 1/2 -> 0.75; classes 0, 3, 4 recalled 1/2, 0, 1 -> 0.5.
    """
    from .evaluate import confusion_matrix, summary

    k = max(int(y.max()), int(pred.max())) + 1
    bal = float(summary(confusion_matrix(y, pred, k))["balanced_accuracy"])
    if shockable is None:
        return (bal,)
    truth, shock = np.isin(y, shockable), np.isin(pred, shockable)
    if truth.all() or not truth.any():
        return (bal,)
    return (float((shock[truth].mean() + (~shock[~truth]).mean()) / 2), bal)


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy of integer labels ``y`` under ``logits``, in nats: logits [0, 0] give
    log 2 whatever the label; [log 3, 0] with label 0 gives log(4/3)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), np.asarray(y, dtype=int)].mean())


def average_step(mean: list[np.ndarray] | None, weights: list[np.ndarray],
                 decay: float) -> list[np.ndarray]:  # fmt: skip
    """One update of an exponential moving average of weights: ``decay`` · mean + (1 − ``decay``)
    · weights, the first update the weights themselves. E.g. mean [2.0], weights [4.0], decay 0.75
    -> [2.5]."""
    if mean is None:
        return [np.array(w, dtype=np.float64) for w in weights]
    return [decay * m + (1.0 - decay) * np.asarray(w, dtype=np.float64)
            for m, w in zip(mean, weights)]  # fmt: skip


def average_decay(epochs: float, steps_per_epoch: int) -> float:
    """The decay of a moving average over about ``epochs`` epochs of ``steps_per_epoch`` batches
    (its mean age, 1 / (1 − decay), is that many steps): 1 epoch of 200 steps -> 0.995."""
    return 1.0 - 1.0 / max(1.0, epochs * steps_per_epoch)


def _selection_callback(net, x_val, y_val, patience: int, shockable=None, decay: float = 0.0):
    """Keep the weights of the epoch with the best :func:`selection_score` (ties: the lower
    validation cross-entropy of the network itself); stop early. The one pass over the
    validation windows per epoch gives both, so ``fit`` gets no ``validation_data`` of its own
    (for a distiller, Keras' own validation ran the teacher over every validation window too).
    With ``decay`` > 0 the network's weights are averaged after every batch
    (:func:`average_step`), and the averaged weights are what is scored and kept."""
    import keras

    class BestEpoch(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best: tuple[float, ...] = (-1.0,)
            self.best_epoch = 0
            self.best_weights = None
            self.mean: list[np.ndarray] | None = None  # the moving average, with decay > 0
            self.scores: list[float] = []  # five-class balanced accuracy per epoch
            self.shock_scores: list[float] = []  # the shock decision's, where it is selected on
            self.losses: list[float] = []  # the network's cross-entropy on the labels

        def on_train_batch_end(self, batch, logs=None):
            if decay > 0:
                self.mean = average_step(self.mean, net.get_weights(), decay)

        def on_epoch_end(self, epoch, logs=None):
            trained = None
            if self.mean is not None:
                trained = net.get_weights()
                net.set_weights([m.astype(w.dtype) for m, w in zip(self.mean, trained)])
            logits = np.concatenate([np.asarray(net(x_val[i : i + 1024], training=False))
                                     for i in range(0, len(x_val), 1024)])  # fmt: skip
            pred = np.argmax(logits, axis=1)
            score = selection_score(y_val, pred, shockable)
            loss = cross_entropy(logits, y_val)
            self.scores.append(score[-1])
            self.losses.append(loss)
            if len(score) > 1:
                self.shock_scores.append(score[0])
            if logs is not None:
                logs["val_loss"] = loss
                logs["val_balanced_accuracy"] = score[-1]
                if len(score) > 1:
                    logs["val_shock_balanced_accuracy"] = score[0]
            key = (*score, -loss)
            if key > self.best:
                self.best = key
                self.best_epoch = epoch + 1
                self.best_weights = net.get_weights()
            elif epoch + 1 - self.best_epoch >= patience:
                self.model.stop_training = True
            if trained is not None:
                net.set_weights(trained)

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                net.set_weights(self.best_weights)

    return BestEpoch()


def augmenter(preprocessing: str, attenuate_only=None):
    """The per-batch augmentation ``(x, rng, labels) -> x`` of :func:`_fit`: a random gain and
    noise (``preprocess.augment``), the classes in ``attenuate_only`` (whose label rests on a
    low amplitude: asystole) never amplified."""
    from . import preprocess

    def aug(xb, rng, yb):
        cap = None
        if attenuate_only:
            cap = np.where(np.isin(yb, attenuate_only), 1.0, np.inf)
        return preprocess.augment(preprocessing, xb, rng, cap)

    return aug


def _fit(model, net, x, y, val, epochs, patience, cfg, preprocessing, name, echo,
         shockable=None, attenuate_only=None, groups=None) -> TrainResult:  # fmt: skip
    """Fit ``model`` (the network itself, or a distiller around it); select on ``net``."""
    aug = augmenter(preprocessing, attenuate_only) if cfg.augment else None
    batches = balanced_batches(x, y, cfg.batch_size, cfg.seed, aug, groups, cfg.epoch_windows)
    if cfg.select != "auto":
        shockable = None
    decay = average_decay(cfg.average_epochs, len(batches)) if cfg.average_epochs > 0 else 0.0
    select = _selection_callback(net, val[0], val[1], patience, shockable, decay)
    t0 = time.perf_counter()
    hist = model.fit(
        batches, epochs=epochs, verbose=0,
        callbacks=[select, _progress_callback(name, epochs, echo)],
    )  # fmt: skip
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    history["val_loss"] = select.losses
    history["val_balanced_accuracy"] = select.scores
    if select.shock_scores:
        history["val_shock_balanced_accuracy"] = select.shock_scores
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
    preprocessing: str = "none",
    shockable: tuple[int, ...] | None = None,
    attenuate_only: tuple[int, ...] | None = None,
    groups: np.ndarray | None = None,
) -> TrainResult:
    """Train ``model`` (logits out) with cross-entropy on class-balanced batches. ``train`` and
    ``val`` are already preprocessed with ``preprocessing`` (which augmentation needs to know);
    ``shockable`` names the classes that advise a shock (model selection), ``attenuate_only``
    those whose windows the augmentation may only attenuate (asystole); ``groups`` (each training
    window's record) balances every class's draw over its records too."""
    import keras

    make_deterministic(cfg.seed)
    lr = cfg.student_learning_rate if student else cfg.learning_rate
    decay = None if student or not cfg.weight_decay else cfg.weight_decay
    model.compile(
        optimizer=keras.optimizers.Adam(lr, weight_decay=decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    epochs = cfg.student_epochs if student else cfg.epochs
    patience = cfg.student_patience if student else cfg.patience
    return _fit(model, model, *train, val, epochs, patience, cfg, preprocessing, name, echo,
                shockable, attenuate_only, groups)  # fmt: skip


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


@functools.lru_cache(maxsize=1)
def _log_probabilities_layer():
    import keras

    class LogProbabilities(keras.layers.Layer):
        """log(p) of a model that outputs probabilities: logits up to a constant per row."""

        def call(self, p):
            return keras.ops.log(keras.ops.maximum(p, 1e-7))

    return LogProbabilities


def LogProbabilities():  # noqa: N802 (a layer class, made when Keras is imported)
    return _log_probabilities_layer()()


def distill(
    teacher,
    student,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    cfg: TrainConfig,
    name: str = "distilled",
    echo: Callable[[str], None] | None = None,
    preprocessing: str = "none",
    shockable: tuple[int, ...] | None = None,
    attenuate_only: tuple[int, ...] | None = None,
    groups: np.ndarray | None = None,
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
    return _fit(distiller, student, *train, val, cfg.student_epochs, cfg.student_patience, cfg,
                preprocessing, name, echo, shockable, attenuate_only, groups)  # fmt: skip
