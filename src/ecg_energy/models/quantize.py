"""LiteRT conversion: full-integer INT8 (int8 input and output), float16, dynamic-range, float32.

Full-integer INT8 calibrates activation ranges on representative windows from the training split
(never validation or test). Weights are per-channel int8, biases int32 (LiteRT's scheme).
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


def convert(model, mode: str, representative: np.ndarray | None = None) -> bytes:
    """The Keras ``model`` as a LiteRT flatbuffer (batch 1; runners resize for other batches)."""
    import tensorflow as tf

    if mode not in MODES:
        raise ValueError(f"unknown quantization {mode!r}; choose from {', '.join(MODES)}")
    # from_keras_model freezes the variables (a concrete function alone leaves READ_VARIABLE ops
    # that break calibration); it exports through a temporary SavedModel and prints about it
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode in ("int8", "fp16", "dynamic"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    if mode == "int8":
        if representative is None or len(representative) == 0:
            raise ValueError("full-integer quantization needs representative training data")
        data = np.asarray(representative, dtype=np.float32)

        def gen():
            for row in data:
                yield [row[None]]

        converter.representative_dataset = gen
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    with silenced(), warnings.catch_warnings():
        # "Statistics for quantized inputs were expected": the representative data provides them
        warnings.simplefilter("ignore", UserWarning)
        return converter.convert()
