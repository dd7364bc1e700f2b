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

try:  # the ufunc itself: np.clip and ndarray.clip reach it through ~1 µs of Python
    from numpy._core.umath import clip as _clip
except ImportError:  # pragma: no cover - NumPy < 2
    _clip = np.clip

_F32 = np.dtype(np.float32)
_LO, _HI = np.float32(-128), np.float32(127)


class KerasRunner:
    """A Keras model as a compiled function of float32 (batch, length, channels) -> logits."""

    kind = "keras"

    def __init__(self, model):
        import keras

        self.model = model
        self.input_shape = tuple(int(d) for d in model.input_shape[1:])
        self.precision = "fp32"
        self.backend = keras.backend.backend()
        self.device = "cpu"  # where it runs, for the energy meters (tensorflow-cpu)
        if self.backend == "tensorflow":
            import tensorflow as tf

            spec = tf.TensorSpec([None, *self.input_shape], tf.float32)
            # No XLA: it cut batch-1 calls (1.12 -> 0.76 ms for the original on a 2-core VM) but
            # slowed batched inference up to 5x (distilled, batch 256: 13 -> 72 µs per window)
            fn = tf.function(lambda x: model(x, training=False), input_signature=[spec],
                             autograph=False)  # fmt: skip
            # its one concrete function, called directly: the same graph and logits without the
            # polymorphic dispatch (batch 1 on a 2-core VM: original 1.36 -> 1.14 ms, distilled
            # 0.76 -> 0.60 ms a call; batched unchanged)
            concrete = fn.get_concrete_function()
            self._fn = lambda x: concrete(tf.constant(x))
        elif self.backend == "jax":  # e.g. a GPU machine with JAX and no TensorFlow
            import jax

            self.device = "cpu" if jax.default_backend() == "cpu" else "gpu"

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
    """A ``.tflite`` flatbuffer run with ``ai_edge_litert.interpreter.Interpreter``.

    ``__call__`` on a float32 array of the prepared shape takes a fast path: the arithmetic of
    ``reference_call`` (same ufuncs, same float32 constants, hence the same bits), a scratch
    buffer, a table of the 256 dequantized int8 outputs, and views of the interpreter's own input
    and output buffers held between calls with the native wrapper's ``Invoke`` (``Interpreter``'s
    ``_interpreter``, ai-edge-litert 2.3.0; without it, every call is ``reference_call``). At batch
    1 on a 2-core VM that is ~7 µs less per call (original INT8, one thread: 85 -> 78 µs; invoke
    alone 73.6). LiteRT's ``invoke()`` and ``allocate_tensors()`` refuse to run while such a view
    is alive (they count references to the wrapper), so ``prepare`` and ``reference_call`` drop
    the views first and take fresh ones after; the first call on new views checks that Invoke
    left the buffers where they were.
    """

    kind = "litert"
    device = "cpu"  # LiteRT's CPU kernels (XNNPACK): what an energy meter must cover

    def __init__(self, content: bytes, num_threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        # num_threads=None means one thread: LiteRT passes ``num_threads or 1`` to its runtime
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
        # float32 constants: what NumPy makes of a Python float or int beside a float32 array
        self._q_int8 = self.input_dtype == np.int8
        if self._q_int8:
            scale, zero = self._in_q
            self._in_scale, self._in_zero = np.float32(scale), np.float32(zero)
            self._add_zero = zero != 0  # + 0 only turns -0.0 into 0.0: the same int8 either way
        self._out_table = None
        if self.output_dtype == np.int8:  # every int8 output, dequantized, indexed by its byte
            scale, zero = self._out_q
            every = np.arange(256, dtype=np.uint8).view(np.int8)
            self._out_table = ((every.astype(np.float32) - zero) * scale).astype(np.float32)
        self._in_view = self._interp.tensor(self._in_index)  # functions: each call, a new view
        self._out_view = self._interp.tensor(self._out_index)
        self._bound: tuple | None = None
        self._may_bind = hasattr(getattr(self._interp, "_interpreter", None), "Invoke")
        self._bind()

    def _bind(self) -> None:
        if not self._may_bind:
            return
        try:
            y = self._out_view()
        except ValueError:  # an output LiteRT allocates only when it runs (e.g. an unrolled RNN)
            self._bound = None
            return
        shape = (self._batch, *self.input_shape)
        self._bound = (self._interp._interpreter.Invoke, self._in_view(),
                       y.view(np.uint8) if self._out_table is not None else y,
                       np.empty(shape, np.float32), shape)  # fmt: skip
        self._checked = False  # have the buffers stayed put through an Invoke?

    def _unbind(self) -> None:
        self._bound = None

    def prepare(self, batch_size: int) -> None:
        if batch_size != self._batch:
            self._unbind()
            self._interp.resize_tensor_input(self._in_index, [batch_size, *self.input_shape])
            self._interp.allocate_tensors()
            self._batch = batch_size
            self._bind()

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        if self.input_dtype != np.int8:
            return np.asarray(x, dtype=self.input_dtype)
        scale, zero = self._in_q
        return np.clip(np.round(x / scale) + zero, -128, 127).astype(np.int8)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        bound = self._bound
        if bound is None or type(x) is not np.ndarray or x.dtype != _F32 or x.shape != bound[4]:
            bound = None  # no view may be alive in this frame while prepare() reallocates
            return self._other(x)
        invoke, x_in, y_out, buf, _ = bound
        if self._q_int8:  # quantize_input's ufuncs, in place
            np.divide(x, self._in_scale, buf)  # out= by position: ~0.1 µs less
            np.rint(buf, buf)  # what np.round does with 0 decimals: half to even
            if self._add_zero:
                np.add(buf, self._in_zero, buf)
            _clip(buf, _LO, _HI, buf)
            x_in[...] = buf  # the float32 -> int8 cast of astype(np.int8)
        else:
            x_in[...] = x
        invoke()
        if not self._checked:
            y_out = self._check(x_in, y_out)
        if self._out_table is not None:
            return self._out_table.take(y_out)
        return np.array(y_out, dtype=np.float32)

    def native(self, xn: np.ndarray) -> np.ndarray:
        """One invoke on input already in the model's own dtype and the prepared shape (an INT8
        model's int8 input from ``quantize_input``); returns the output tensor as the model gives
        it (the bytes of an INT8 model's int8 output), a view valid until the next call.

        This is the call a measurement times: the model and its runtime, without the float
        conversions around it that a deployment does not make (the sensor's samples are
        quantized once, as the float models' windows are preprocessed once, outside the loop).
        """
        bound = self._bound
        if bound is None or xn.shape != bound[4]:
            bound = None  # no view may be alive in this frame while prepare() reallocates
            self.prepare(len(xn))
            if self._bound is None or xn.shape != self._bound[4]:
                self._unbind()
                try:
                    self._interp.set_tensor(self._in_index, xn)
                    self._interp.invoke()
                    return self._interp.get_tensor(self._out_index)
                finally:
                    self._bind()
            bound = self._bound
        invoke, x_in, y_out, _, _ = bound
        x_in[...] = xn
        invoke()
        if not self._checked:
            y_out = self._check(x_in, y_out)
        return y_out

    def logits(self, y_native: np.ndarray) -> np.ndarray:
        """float32 logits from what ``native`` returned (dequantized for an INT8 model)."""
        if self._out_table is not None:
            return self._out_table.take(np.asarray(y_native).view(np.uint8))
        return np.array(y_native, dtype=np.float32)

    def _check(self, x_in: np.ndarray, y_out: np.ndarray) -> np.ndarray:
        """After the first Invoke on new views: if a buffer moved (a graph with dynamic tensors),
        give up held views for good and read this call's output afresh."""
        self._checked = True
        y = self._out_view()
        if _address(x_in) == _address(self._in_view()) and _address(y_out) == _address(y):
            return y_out
        self._may_bind = False
        self._unbind()
        return y.view(np.uint8) if self._out_table is not None else y

    def _other(self, x) -> np.ndarray:
        """A new batch size (resize, then the fast path), or anything else: reference_call."""
        if type(x) is np.ndarray and x.dtype == _F32 and x.shape[1:] == self.input_shape and len(x):
            self.prepare(len(x))
            if self._bound is not None:
                return self(x)
        return self.reference_call(x)

    def reference_call(self, x: np.ndarray) -> np.ndarray:
        """The plain path (set_tensor, invoke, get_tensor), for any input __call__ does not take."""
        self.prepare(len(x))
        self._unbind()
        try:
            self._interp.set_tensor(self._in_index, self.quantize_input(x))
            self._interp.invoke()
            y = self._interp.get_tensor(self._out_index)
        finally:
            self._bind()
        if self.output_dtype == np.int8:
            scale, zero = self._out_q
            return ((y.astype(np.float32) - zero) * scale).astype(np.float32)
        return y.astype(np.float32)

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        out = [self(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        return np.concatenate(out)


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]
