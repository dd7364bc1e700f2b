"""LiteRT conversion: full-integer INT8 (int8 input and output), float16, dynamic-range, float32,
and 16x8 (int16 activations, int8 weights).

Full-integer INT8 and 16x8 calibrate activation ranges on representative windows from the training
split (never validation or test). Weights are per-channel int8, biases int32 (int64 for 16x8:
LiteRT's scheme).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..quiet import silenced

MODES: dict[str, str] = {
    "int8": "full-integer INT8, int8 input and output",
    "fp16": "float16 weights, float32 compute",
    "dynamic": "dynamic-range: int8 weights, float activations",
    "fp32": "float32",
}
# LiteRT's experimental 16x8 scheme (int16 activations, int8 weights): it converts and runs with
# ai-edge-litert 2.3.0, but neither the run nor a sweep offers it (MODES) until the LiteRT counter
# has an int16 precision (it would label these MACs "hybrid") and the tables price it.
CONVERSIONS: dict[str, str] = {
    **MODES,
    "int16x8": "16x8: int16 activations, int8 weights, float32 input and output",
}
CALIBRATED = ("int8", "int16x8")  # the modes that need representative training windows


def representative_sample(x: np.ndarray, y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Up to ``n`` training examples drawn evenly from every class (seeded)."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    per = max(1, n // len(classes))
    idx = np.concatenate([
        rng.choice(np.flatnonzero(y == k), min(per, int((y == k).sum())), replace=False)
        for k in classes
    ])  # fmt: skip
    return x[np.sort(idx)]


RECURRENT = ("LSTM", "GRU", "SimpleRNN", "RNN")


def _unroll_configs(node) -> int:
    """Set ``unroll`` on every recurrent layer in a serialized model (nested ones too); returns
    how many were set."""
    n = 0
    if isinstance(node, dict):
        cfg = node.get("config")
        if node.get("class_name") in RECURRENT and isinstance(cfg, dict) and not cfg.get("unroll"):
            cfg["unroll"] = True
            n += 1
        for v in node.values():
            n += _unroll_configs(v)
    elif isinstance(node, list):
        n += sum(_unroll_configs(v) for v in node)
    return n


def unrolled(model):
    """``model`` with its recurrent layers unrolled over their (fixed) time steps, same weights:
    every step becomes plain FULLY_CONNECTED work. LiteRT's INT8 calibration of a looped Keras 3
    LSTM/GRU (a WHILE loop) crashes the process here; unrolled, it converts. A model without
    recurrent layers is returned as it is."""
    import keras

    from ..errors import ModelError

    blob = keras.saving.serialize_keras_object(model)
    if not _unroll_configs(blob):
        return model
    if any(d is None for d in model.input_shape[1:]):
        raise ModelError(f"{model.name}: its recurrent layers cannot be unrolled for LiteRT: "
                         f"the number of time steps is not fixed (input {model.input_shape})")  # fmt: skip

    try:
        clone = keras.saving.deserialize_keras_object(blob)
        clone.set_weights(model.get_weights())
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{model.name}: its recurrent layers cannot be unrolled for LiteRT "
                         f"({str(exc).splitlines()[0][:120]}); give them a fixed number of time "
                         "steps") from exc  # fmt: skip
    return clone


def has_looped_recurrence(model) -> bool:
    """Whether ``model`` has a recurrent layer that is not unrolled (nested ones too)."""
    import keras

    return _unroll_configs(keras.saving.serialize_keras_object(model)) > 0


def batch_one(model):
    """``model`` behind an input of batch 1 when it has recurrent layers: the converter cannot
    size a looped layer's state for a dynamic batch ("TensorListReserve requires element_shape
    to be static"); with batch 1 it keeps the loop (a WHILE whose body is one step)."""
    import keras

    if not has_looped_recurrence(model):
        return model
    inp = keras.Input(model.input_shape[1:], batch_size=1)
    return keras.Model(inp, model(inp), name=model.name)


def convert(model, mode: str, representative: np.ndarray | None = None,
            unroll: bool = True) -> bytes:  # fmt: skip
    """The Keras ``model`` as a LiteRT flatbuffer (batch 1; runners resize for other batches).

    Recurrent layers are unrolled over their time steps (``unrolled``; ``unroll=False`` keeps
    the loop). A loop is kept only where the steps are unknown, and then converted at batch 1
    (``batch_one``: it cannot be resized, so such a model runs one window at a time) and never
    to INT8 (its calibration crashes the converter here)."""
    import tensorflow as tf

    from ..errors import ModelError

    if mode not in CONVERSIONS:
        raise ValueError(f"unknown quantization {mode!r}; choose from {', '.join(CONVERSIONS)}")
    if has_looped_recurrence(model):
        if unroll:
            try:
                model = unrolled(model)
            except ModelError:
                if mode in CALIBRATED:
                    raise
                model = batch_one(model)
        elif mode in CALIBRATED:
            raise ModelError(f"{model.name}: INT8 of a looped recurrent layer is not supported "
                             "(LiteRT's calibration of its WHILE loop crashes the converter); "
                             "convert it unrolled")  # fmt: skip
        else:
            model = batch_one(model)
    # from_keras_model freezes the variables (a concrete function alone leaves READ_VARIABLE ops
    # that break calibration); it exports through a temporary SavedModel and prints about it
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode in ("int8", "int16x8", "fp16", "dynamic"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    if mode in CALIBRATED:
        if representative is None or len(representative) == 0:
            raise ValueError(f"{mode} quantization needs representative training data")
        data = np.asarray(representative, dtype=np.float32)

        def gen():
            for row in data:
                yield [row[None]]

        converter.representative_dataset = gen
    if mode == "int8":
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    if mode == "int16x8":
        # float32 at the edges (a QUANTIZE and a DEQUANTIZE in the graph): the runners feed
        # int8 or float inputs, not int16
        ops = tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        converter.target_spec.supported_ops = [ops]
    with silenced(), warnings.catch_warnings():
        # "Statistics for quantized inputs were expected": the representative data provides them
        warnings.simplefilter("ignore", UserWarning)
        return converter.convert()
