"""One way to run any variant: Keras through a compiled function, LiteRT through its Interpreter.

Never ``model.predict`` per sample (~36 ms of framework overhead a call on a 2-core VM, ANCHORS §9):
a Keras model runs through ``tf.function`` with a fixed input signature; a ``.tflite`` model
through ``ai_edge_litert``'s Interpreter, resized once per batch size. Both take float32 input
after preprocessing and return float32 logits; INT8 models quantize the input and dequantize the
output with the scale and zero point stored in the file.
"""

from __future__ import annotations

import numpy as np

from ..quiet import silenced


class KerasRunner:
    """A Keras model as a compiled function of float32 (batch, length, channels) -> logits."""

    kind = "keras"

    def __init__(self, model):
        import keras

        self.model = model
        self.input_shape = tuple(int(d) for d in model.input_shape[1:])
        self.precision = "fp32"
        self.backend = keras.backend.backend()
        if self.backend == "tensorflow":
            import tensorflow as tf

            spec = tf.TensorSpec([None, *self.input_shape], tf.float32)
            # No XLA: it cut batch-1 calls (1.12 -> 0.76 ms for the original on a 2-core VM) but
            # slowed batched inference up to 5x (distilled, batch 256: 13 -> 72 µs per window)
            self._fn = tf.function(lambda x: model(x, training=False), input_signature=[spec],
                                   autograph=False)  # fmt: skip
        elif self.backend == "jax":  # e.g. a GPU machine with JAX and no TensorFlow
            import jax

            trainable = [v.value for v in model.trainable_variables]
            frozen = [v.value for v in model.non_trainable_variables]

            @jax.jit
            def fn(x):
                out, _ = model.stateless_call(trainable, frozen, x, training=False)
                return out

            # results come back asynchronously: block so a timed or metered window holds the work
            self._fn = lambda x: fn(x).block_until_ready()
        else:
            self._fn = lambda x: model(x, training=False)
        self._batch: int | None = None

    def prepare(self, batch_size: int) -> None:
        """Trace/compile for ``batch_size`` now, outside any timed or metered window."""
        self._batch = batch_size
        self(np.zeros((batch_size, *self.input_shape), np.float32))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._fn(np.asarray(x, dtype=np.float32)), dtype=np.float32)

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        return np.concatenate([self(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


class LiteRTRunner:
    """A ``.tflite`` flatbuffer run with ``ai_edge_litert.interpreter.Interpreter``."""

    kind = "litert"

    def __init__(self, content: bytes, num_threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        with silenced():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
            self._interp = Interpreter(model_content=content, num_threads=num_threads)
            self._interp.allocate_tensors()
        inp = self._interp.get_input_details()[0]
        out = self._interp.get_output_details()[0]
        self._in_index, self._out_index = inp["index"], out["index"]
        self.input_shape = tuple(int(d) for d in inp["shape"][1:])
        self.input_dtype = np.dtype(inp["dtype"])
        self.output_dtype = np.dtype(out["dtype"])
        self._in_q = inp["quantization"]
        self._out_q = out["quantization"]
        self.precision = "int8" if self.input_dtype == np.int8 else "float"
        self._batch = int(inp["shape"][0])

    def prepare(self, batch_size: int) -> None:
        if batch_size != self._batch:
            self._interp.resize_tensor_input(self._in_index, [batch_size, *self.input_shape])
            self._interp.allocate_tensors()
            self._batch = batch_size

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        if self.input_dtype != np.int8:
            return np.asarray(x, dtype=self.input_dtype)
        scale, zero = self._in_q
        return np.clip(np.round(x / scale) + zero, -128, 127).astype(np.int8)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.prepare(len(x))
        self._interp.set_tensor(self._in_index, self.quantize_input(x))
        self._interp.invoke()
        y = self._interp.get_tensor(self._out_index)
        if self.output_dtype == np.int8:
            scale, zero = self._out_q
            return ((y.astype(np.float32) - zero) * scale).astype(np.float32)
        return y.astype(np.float32)

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        out = [self(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        return np.concatenate(out)
