"""Counting a ``.tflite`` model exactly from its flatbuffer (LiteRT's own schema): every operator's
tensors (static shapes, batch 1), types, constant buffers and options (strides, pool windows,
fused activations). Only a graph with dynamic shapes (a RESHAPE to a computed shape) is run once,
on zeros, through LiteRT's interpreter, to resolve them.

Facts this relies on (ANCHORS §2): Conv1D becomes EXPAND_DIMS + CONV_2D + RESHAPE; batch norm and
ReLU are folded into CONV_2D (a fused activation is a clamp per output); INT8 weights are
per-channel int8 with int32 biases; dynamic-range models keep float activations with int8 weights
("hybrid"); float16 models store fp16 weights that DEQUANTIZE turns into float32 at load time.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .counts import (
    ModelCounts,
    OpCount,
    activation_ops,
    conv_macs,
    dense_macs,
    depthwise_macs,
    elementwise_ops,
    merge_ops,
    peak_live_bytes,
    pool_ops,
)

# LiteRT TensorType enum -> (name, bytes per element)
_TYPES = {0: ("float32", 4), 1: ("float16", 2), 2: ("int32", 4), 3: ("uint8", 1), 4: ("int64", 8),
          7: ("int16", 2), 9: ("int8", 1), 10: ("float64", 8)}  # fmt: skip
_FUSED = {0: "none", 1: "relu", 2: "relu_n1_to_1", 3: "relu6", 4: "tanh", 5: "sign_bit"}
FREE_OPS = frozenset({"RESHAPE", "EXPAND_DIMS", "SQUEEZE", "CONCATENATION", "PAD", "PADV2",
                      "STRIDED_SLICE", "SLICE", "TRANSPOSE", "GATHER", "SHAPE", "PACK", "UNPACK",
                      "SPLIT", "SPLIT_V"})  # fmt: skip


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int
    constant: bool


@dataclass(frozen=True)
class Operator:
    name: str  # builtin operator name, e.g. CONV_2D
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict


def resolved_shapes(content: bytes) -> dict[int, tuple[int, ...]]:
    """Tensor shapes as LiteRT resolves them after ``allocate_tensors()`` (batch 1), for tensors
    whose shape the flatbuffer leaves dynamic (e.g. a RESHAPE to a computed shape)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from ..quiet import silenced

    with silenced():
        interp = Interpreter(model_content=content,
                             experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)  # fmt: skip
        interp.allocate_tensors()
        # dynamic tensors get their shapes when the graph runs: one invoke on zeros resolves them
        for inp in interp.get_input_details():
            interp.set_tensor(inp["index"], np.zeros(inp["shape"], dtype=inp["dtype"]))
        interp.invoke()
        return {
            int(t["index"]): tuple(int(d) for d in t["shape"]) for t in interp.get_tensor_details()
        }


def read_graph(content: bytes) -> tuple[list[Tensor], list[Operator]]:
    """Tensors and operators of the first subgraph of a LiteRT flatbuffer (shapes resolved)."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(content, 0))
    graph = model.subgraphs[0]
    codes = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    tensors = []
    resolved: dict[int, tuple[int, ...]] | None = None
    for i, t in enumerate(graph.tensors):
        dtype, size = _TYPES.get(t.type, (f"type{t.type}", 4))
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
        signature = tuple(
            int(d) for d in (t.shapeSignature if t.shapeSignature is not None else ())
        )
        if signature and (signature[1:] != shape[1:] or len(signature) != len(shape)):
            resolved = resolved if resolved is not None else resolved_shapes(content)
            shape = resolved.get(i, shape)
        buf = model.buffers[t.buffer] if t.buffer < len(model.buffers) else None
        constant = bool(buf is not None and buf.data is not None and len(buf.data) > 0)
        name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
        tensors.append(Tensor(i, name, shape, dtype, math.prod(shape) * size, constant))
    ops = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        opts = vars(op.builtinOptions) if op.builtinOptions is not None else {}
        ops.append(Operator(codes.get(builtin, f"OP{builtin}"),
                            tuple(int(i) for i in op.inputs if i >= 0),
                            tuple(int(i) for i in op.outputs), dict(opts)))  # fmt: skip
    return tensors, ops


def _precision(act: Tensor, weight: Tensor | None) -> str:
    if act.dtype == "int8":
        return "int8"
    if weight is not None and weight.dtype == "int8":
        return "hybrid"  # dynamic range: int8 weights, activations quantized on the fly
    return "fp16" if act.dtype == "float16" else "fp32"


def _elems(t: Tensor) -> int:
    return math.prod(t.shape)


def _fused(op: Operator, elems: int) -> dict[str, int]:
    kind = _FUSED.get(op.options.get("fusedActivationFunction", 0), "none")
    if kind in ("relu", "relu6", "relu_n1_to_1"):
        return activation_ops(elems, "relu6" if kind != "relu" else "relu")
    return activation_ops(elems, "tanh") if kind == "tanh" else {}


def _hybrid_extra(prec: str, act: Tensor, out: Tensor) -> dict[str, int]:
    """Dynamic-range kernels quantize the input and rescale the output on the fly."""
    return {"mul": _elems(act) + _elems(out), "add": _elems(act)} if prec == "hybrid" else {}


def _conv(op, t):
    act, w, out = t[op.inputs[0]], t[op.inputs[1]], t[op.outputs[0]]
    bias = t[op.inputs[2]] if len(op.inputs) > 2 else None
    cout, kh, kw, cin_w = w.shape
    positions = math.prod(out.shape[1:3])
    groups = max(1, act.shape[-1] // cin_w)
    prec = _precision(act, w)
    macs = conv_macs(positions, kh * kw, act.shape[-1], cout, groups)
    return macs, prec, merge_ops(_fused(op, _elems(out)), {"add": _elems(out) if bias else 0},
                              _hybrid_extra(prec, act, out)), w, bias  # fmt: skip


def _depthwise(op, t):
    act, w, out = t[op.inputs[0]], t[op.inputs[1]], t[op.outputs[0]]
    bias = t[op.inputs[2]] if len(op.inputs) > 2 else None
    _, kh, kw, cout = w.shape
    prec = _precision(act, w)
    macs = depthwise_macs(math.prod(out.shape[1:3]), kh * kw, cout)
    return macs, prec, merge_ops(_fused(op, _elems(out)), {"add": _elems(out) if bias else 0},
                              _hybrid_extra(prec, act, out)), w, bias  # fmt: skip


def _fully_connected(op, t):
    act, w, out = t[op.inputs[0]], t[op.inputs[1]], t[op.outputs[0]]
    bias = t[op.inputs[2]] if len(op.inputs) > 2 else None
    units, depth = w.shape
    rows = _elems(act) // depth
    prec = _precision(act, w)
    return (
        dense_macs(depth, units, rows),
        prec,
        merge_ops(
            _fused(op, _elems(out)),
            {"add": _elems(out) if bias else 0},
            _hybrid_extra(prec, act, out),
        ),
        w,
        bias,
    )


def _pool(kind):
    def handler(op, t):
        act, out = t[op.inputs[0]], t[op.outputs[0]]
        window = op.options.get("filterWidth", 1) * op.options.get("filterHeight", 1)
        return 0, _precision(act, None), merge_ops(pool_ops(_elems(out), window, kind),
                                                _fused(op, _elems(out))), None, None  # fmt: skip

    return handler


def _mean(op, t):
    act, out = t[op.inputs[0]], t[op.outputs[0]]
    window = _elems(act) // max(1, _elems(out))
    return 0, _precision(act, None), pool_ops(_elems(out), window, "avg"), None, None


def _elementwise(kind):
    def handler(op, t):
        act, out = t[op.inputs[0]], t[op.outputs[0]]
        return 0, _precision(act, None), merge_ops(elementwise_ops(_elems(out), len(op.inputs), kind),
                                                _fused(op, _elems(out))), None, None  # fmt: skip

    return handler


def _activation(kind):
    def handler(op, t):
        act, out = t[op.inputs[0]], t[op.outputs[0]]
        return 0, _precision(act, None), activation_ops(_elems(out), kind), None, None

    return handler


def _requantize_like(op, t):
    """QUANTIZE / DEQUANTIZE at run time: one multiply and one add per element."""
    out = t[op.outputs[0]]
    return 0, "fp32", {"mul": _elems(out), "add": _elems(out)}, None, None


def _free(op, t):
    return 0, _precision(t[op.inputs[0]], None) if op.inputs else "fp32", {}, None, None


HANDLERS: dict[str, Callable] = {
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _depthwise,
    "FULLY_CONNECTED": _fully_connected,
    "MAX_POOL_2D": _pool("max"),
    "AVERAGE_POOL_2D": _pool("avg"),
    "MEAN": _mean,
    "ADD": _elementwise("add"),
    "MUL": _elementwise("mul"),
    "SUB": _elementwise("add"),
    "SOFTMAX": _activation("softmax"),
    "LOGISTIC": _activation("sigmoid"),
    "TANH": _activation("tanh"),
    "RELU": _activation("relu"),
    "RELU6": _activation("relu6"),
    "QUANTIZE": _requantize_like,
    "DEQUANTIZE": _requantize_like,
    **{name: _free for name in FREE_OPS},
}
# int8 operators whose output scale differs from their input's: each output is requantized
REQUANTIZING = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MUL", "SUB",
                          "MEAN", "AVERAGE_POOL_2D"})  # fmt: skip


def count_tflite(content: bytes) -> ModelCounts:
    """Per-operator counts of a LiteRT model; unknown operators are listed as uncounted."""
    tensors, ops = read_graph(content)
    # DEQUANTIZE of a constant (fp16 weights) runs once at load: its output is a weight, not work
    load_time = {o.outputs[0]: o.inputs[0] for o in ops
                 if o.name == "DEQUANTIZE" and tensors[o.inputs[0]].constant}  # fmt: skip
    counted: list[OpCount] = []
    steps, sizes = [], {}
    for i, op in enumerate(ops):
        if op.name == "DEQUANTIZE" and op.outputs[0] in load_time:
            continue
        outs = [tensors[j] for j in op.outputs]
        acts = [tensors[j] for j in op.inputs if not tensors[j].constant and j not in load_time]
        in_bytes = sum(
            a.nbytes for a in acts if op.name not in ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")
        )
        out_bytes = sum(
            o.nbytes for o in outs if op.name not in ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")
        )
        handler = HANDLERS.get(op.name)
        label = f"{i}:{op.name.lower()}"
        if handler is None:
            warnings.warn(f"LiteRT operator {op.name} (#{i}) is not counted", stacklevel=2)
            counted.append(OpCount(label, op.name, counted=False, input_bytes=in_bytes,
                                   output_bytes=out_bytes, output_shape=outs[0].shape))  # fmt: skip
        else:
            macs, prec, other, w, b = handler(op, tensors)
            wsrc = tensors[load_time[w.index]] if w is not None and w.index in load_time else w
            counted.append(OpCount(
                label, op.name, int(macs), other, prec,
                _elems(outs[0]) if prec == "int8" and op.name in REQUANTIZING else 0,
                wsrc.nbytes if wsrc is not None else 0, b.nbytes if b is not None else 0,
                in_bytes, out_bytes, outs[0].shape,
            ))  # fmt: skip
        for t in acts + outs:
            sizes[str(t.index)] = t.nbytes
        steps.append(([str(a.index) for a in acts], [str(o.index) for o in outs]))
    return ModelCounts("tflite", tuple(counted), peak_live_bytes(steps, sizes))
