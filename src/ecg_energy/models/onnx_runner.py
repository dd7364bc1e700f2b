"""An ``.onnx`` model run with onnxruntime, with the interface of ``LiteRTRunner``.

One ``InferenceSession`` on the CPU execution provider: ``intra_op_num_threads`` is the thread
count asked for (one when none is given, as LiteRT runs ``num_threads or 1``), one inter-op thread
and sequential execution, so a figure per window is the model's and not a scheduler's. Input is
float32 (batch, ...) after preprocessing, output float32 logits. A QDQ INT8 model takes and gives
float32 itself (its QuantizeLinear and DequantizeLinear nodes are part of the graph), so nothing
is quantized here.

A model whose batch dimension is fixed (e.g. exported with batch 1) runs a larger batch as
consecutive calls of its own batch size: the model cannot take more at once.

A model that takes (batch, leads, samples), as PyTorch's Conv1d does, is given the windows
transposed from the readers' (batch, samples, leads) (``channels_first``): its ``input_shape`` is
then said the readers' way, so it is checked and fed like any other model.
"""

from __future__ import annotations

import numpy as np

# operators that compute on quantized activations (QDQ's QuantizeLinear, QOperator's QLinear*,
# dynamic quantization's integer kernels)
QUANTIZED_OPS = frozenset({"QuantizeLinear", "DynamicQuantizeLinear", "QLinearConv",
                           "QLinearMatMul", "ConvInteger", "MatMulInteger", "QGemm",
                           "QLinearAdd", "QLinearMul"})  # fmt: skip
_F32 = np.dtype(np.float32)
_ORT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16,
              "tensor(double)": np.float64}  # fmt: skip


def channels_first(dims) -> bool:
    """Whether an input of (leads, samples) dimensions (batch left out) is channels-first: two
    fixed dimensions, fewer of the first (1-12 leads) than of the second (hundreds of
    samples)."""
    return (len(dims) == 2 and all(isinstance(d, int) and d > 0 for d in dims)
            and dims[0] <= 12 < dims[1])  # fmt: skip


def graph_precision(model) -> str:
    """ "int8" when the graph computes on quantized activations, "fp16" when its input is
    float16, else "fp32" (a graph with int8 weights only dequantizes them once, at load)."""
    from onnx import TensorProto

    if any(n.op_type in QUANTIZED_OPS for n in model.graph.node):
        return "int8"
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if inputs and inputs[0].type.tensor_type.elem_type == TensorProto.FLOAT16:
        return "fp16"
    return "fp32"


class OnnxRunner:
    """An ONNX model as a function of float32 (batch, ...) -> float32 logits, on onnxruntime."""

    kind = "onnxruntime"
    backend = "onnxruntime"
    device = "cpu"  # the CPU execution provider only: what an energy meter must cover

    def __init__(self, content: bytes, num_threads: int | None = None, precision: str = "fp32"):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = int(num_threads or 1)
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3  # errors only: no notes about removed initializers
        self.num_threads = so.intra_op_num_threads
        self._sess = ort.InferenceSession(content, so, providers=["CPUExecutionProvider"])
        inp, out = self._sess.get_inputs()[0], self._sess.get_outputs()[0]
        self._in_name, self._out_names = inp.name, [out.name]
        dims = list(inp.shape)
        self.channels_first = channels_first(dims[1:])
        own = tuple(int(d) for d in dims[1:])
        self.input_shape = own[::-1] if self.channels_first else own  # the readers' layout
        self.input_dtype = np.dtype(_ORT_TYPES.get(inp.type, np.float32))
        # a fixed batch dimension (an int) limits what one call takes; a symbolic one does not
        self.fixed_batch = int(dims[0]) if isinstance(dims[0], int) and dims[0] > 0 else None
        self.precision = precision
        self._run = self._sess._sess.run if hasattr(self._sess, "_sess") else None
        self._batch: int | None = None
        shape = list(out.shape)
        if not shape or not isinstance(shape[-1], int) or shape[-1] <= 0:
            # an output the file leaves unshaped: one call on zeros says what it is
            shape = list(self(np.zeros((self.fixed_batch or 1, *self.input_shape))).shape)
        self.output_shape = tuple(shape)

    def prepare(self, batch_size: int) -> None:
        """One call at ``batch_size`` now, outside any timed or metered window (onnxruntime
        allocates its buffers for a new shape on the first run)."""
        self._batch = batch_size
        self(np.zeros((batch_size, *self.input_shape), np.float32))

    def _invoke(self, x: np.ndarray) -> np.ndarray:
        if self.channels_first:
            x = np.ascontiguousarray(x.transpose(0, 2, 1))
        return self._feed(x)

    def native_input(self, x: np.ndarray) -> np.ndarray:
        """``x`` (the readers' layout) in the model's own dtype and layout, contiguous: what
        ``native`` takes, made once outside a timed or metered window."""
        x = np.asarray(x, dtype=self.input_dtype)
        return np.ascontiguousarray(x.transpose(0, 2, 1) if self.channels_first else x)

    def native(self, xn: np.ndarray) -> np.ndarray:
        """One run on input already in the model's own layout and dtype (``native_input``), at
        a batch the model takes in one call: the session's work and nothing else."""
        y = self._feed(xn)
        return y if y.dtype == _F32 else y.astype(np.float32)

    def _feed(self, x: np.ndarray) -> np.ndarray:
        feed = {self._in_name: x}
        if self._run is not None:  # the native session: the same run without its Python checks
            return self._run(self._out_names, feed, None)[0]
        return self._sess.run(self._out_names, feed)[0]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if type(x) is not np.ndarray or x.dtype != self.input_dtype or not x.flags.c_contiguous:
            x = np.ascontiguousarray(x, dtype=self.input_dtype)
        fb = self.fixed_batch
        if fb is not None and len(x) != fb:
            return self._in_fixed_batches(x, fb)
        y = self._invoke(x)
        return y if y.dtype == _F32 else y.astype(np.float32)

    def _in_fixed_batches(self, x: np.ndarray, fb: int) -> np.ndarray:
        out = []
        for i in range(0, len(x), fb):
            part = x[i : i + fb]
            n = len(part)
            if n < fb:  # the last, short part padded with zeros, its padding's rows dropped
                part = np.concatenate([part, np.zeros((fb - n, *part.shape[1:]), part.dtype)])
            out.append(np.asarray(self._invoke(part), dtype=np.float32)[:n])
        return np.concatenate(out) if out else np.zeros((0,), np.float32)

    def reference_call(self, x: np.ndarray) -> np.ndarray:
        """The plain, public ``InferenceSession.run`` per call (the seed protocol's call)."""
        x = np.asarray(x, dtype=self.input_dtype)
        if self.fixed_batch is not None and len(x) != self.fixed_batch:
            return self(x)
        if self.channels_first:
            x = x.transpose(0, 2, 1)
        y = self._sess.run(self._out_names, {self._in_name: x})[0]
        return np.asarray(y, dtype=np.float32)

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        return np.concatenate([self(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
