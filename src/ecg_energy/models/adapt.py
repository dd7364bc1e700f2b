"""A user's Keras model made to fit: to the data's windows and classes (behind a Reshape where its
input has no channel axis), and as a teacher giving logits (a log behind a softmax)."""

from __future__ import annotations

import numpy as np

from ..errors import ModelError


def fitted_to_data(
    model, path: str, shape: tuple[int, ...], class_names: tuple[str, ...], what: str
):
    """``model`` taking the data's windows (``shape``, e.g. (1000, 1)) and giving one output per
    class: as it is, or behind a Reshape when it takes (1000,); a one-line ModelError otherwise."""
    import keras

    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelError(f"{path}: {what} must have one input and one output")
    got = tuple(int(d) if d is not None else None for d in model.input_shape[1:])
    n_out = model.output_shape[-1]
    if n_out != len(class_names):
        raise ModelError(
            f"{path}: {what} has {n_out} outputs, the data has {len(class_names)} "
            f"classes ({', '.join(class_names)}); give a model with one output per "
            "class, in this order, or choose --task"
        )
    if got == tuple(shape):
        return model
    if got == tuple(shape[:-1]) and shape[-1] == 1:
        inp = keras.Input(shape, name="ecg")
        out = model(keras.layers.Reshape(got, name="to_your_input")(inp))
        return keras.Model(inp, out, name=model.name)
    raise ModelError(
        f"{path}: {what} expects input {got}, the data gives windows of "
        f"{tuple(shape)} (choose --window-s so that the windows match its input "
        "length at 250 Hz)"
    )


def teacher_logits(model, sample: np.ndarray):
    """The teacher as distillation needs it, giving logits: a model whose outputs are already
    probabilities (a softmax at the end: every row in [0, 1], summing to 1) is followed by a
    log, which gives logits up to a constant per row (the same softmax at any temperature)."""
    import keras

    from .train import LogProbabilities

    p = np.asarray(model(sample, training=False))
    if p.min() >= 0.0 and p.max() <= 1.0 and np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        inp = keras.Input(model.input_shape[1:])
        return keras.Model(inp, LogProbabilities()(model(inp)))
    return model
