"""Counting a ``.tflite`` model exactly from its flatbuffer (LiteRT's own schema): every operator's
tensors (static shapes, batch 1), types, constant buffers and options (strides, pool windows,
fused activations). Only a graph with dynamic shapes (a RESHAPE to a computed shape) is run once,
on zeros, through LiteRT's interpreter, to resolve them.

Facts this relies on (ANCHORS §2): Conv1D becomes EXPAND_DIMS + CONV_2D + RESHAPE; batch norm and
ReLU are folded into CONV_2D (a fused activation is a clamp per output); INT8 weights are
per-channel int8 with int32 biases; dynamic-range models keep float activations with int8 weights
("hybrid"); float16 models store fp16 weights that DEQUANTIZE turns into float32 at load time.

Recurrent layers of Keras 3 (LSTM, GRU, SimpleRNN, each direction of a Bidirectional) convert to a
WHILE loop over the time steps whose body subgraph holds the cell (two FULLY_CONNECTED products,
gate activations and element-wise updates). A loop is counted as its body × its trip count, read
from the graph itself (:mod:`.tflite_loops`: a counter compared with a limit that is a constant,
a loop variable, or a tensor's shape); a loop whose trip count the graph does not fix has its body
counted once and is marked, with the model's totals, as a lower bound. The fused UNIDIRECTIONAL_SEQUENCE_LSTM / _RNN and BIDIRECTIONAL_SEQUENCE_LSTM / _RNN
operators (from other converters) are counted from their weight matrices.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .counts import (
    ModelCounts,
    OpCount,
    activation_ops,
    batch_matmul_macs,
    conv_macs,
    dense_macs,
    depthwise_macs,
    elementwise_ops,
    merge_ops,
    peak_live_bytes,
    pool_ops,
    recurrent_cell_ops,
    reduce_ops,
    resize_ops,
    scale_ops,
    transpose_conv_macs,
    unary_ops,
)
from .tflite_loops import loop_trips

# LiteRT TensorType enum -> (name, bytes per element)
_TYPES = {0: ("float32", 4), 1: ("float16", 2), 2: ("int32", 4), 3: ("uint8", 1), 4: ("int64", 8),
          7: ("int16", 2), 9: ("int8", 1), 10: ("float64", 8)}  # fmt: skip
_FUSED = {0: "none", 1: "relu", 2: "relu_n1_to_1", 3: "relu6", 4: "tanh", 5: "sign_bit"}
# data movement (copies, views, type conversion, constant fills): no arithmetic on the values
FREE_OPS = frozenset({"RESHAPE", "EXPAND_DIMS", "SQUEEZE", "CONCATENATION", "PAD", "PADV2",
                      "MIRROR_PAD", "STRIDED_SLICE", "SLICE", "TRANSPOSE", "GATHER", "GATHER_ND",
                      "SHAPE", "PACK", "UNPACK", "SPLIT", "SPLIT_V", "TILE", "REVERSE_V2",
                      "BROADCAST_TO", "RESIZE_NEAREST_NEIGHBOR", "SPACE_TO_BATCH_ND",
                      "BATCH_TO_SPACE_ND", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "CAST", "FILL",
                      "ZEROS_LIKE"})  # fmt: skip
# integer constants of at most this many elements are read (loop starts, limits and steps)
_SMALL_CONSTANT = 16


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int
    constant: bool
    value: tuple | None = None  # a small integer constant's values (loop bounds), else None
    signature: tuple[int, ...] = ()  # the stored shape, -1 where a dimension is dynamic


@dataclass(frozen=True)
class Operator:
    name: str  # builtin operator name, e.g. CONV_2D
    inputs: tuple[int, ...]  # the tensors given (an omitted optional input left out)
    outputs: tuple[int, ...]
    options: dict
    raw_inputs: tuple[int, ...] = ()  # by position, -1 for an omitted optional input


@dataclass(frozen=True)
class Graph:
    """One subgraph: its tensors, operators, and its input and output tensors (a loop body's
    inputs and outputs are the loop variables, by position)."""

    tensors: list[Tensor]
    ops: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


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


def read_graphs(content: bytes) -> list[Graph]:
    """Every subgraph of a LiteRT flatbuffer (the first is the model; others are loop bodies and
    conditions), shapes of the first resolved where the flatbuffer leaves them dynamic."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(content, 0))
    codes = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    resolved: dict[int, tuple[int, ...]] | None = None
    graphs = []
    for gi, graph in enumerate(model.subgraphs):
        tensors = []
        for i, t in enumerate(graph.tensors or []):
            dtype, size = _TYPES.get(t.type, (f"type{t.type}", 4))
            shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
            signature = tuple(
                int(d) for d in (t.shapeSignature if t.shapeSignature is not None else ())
            )
            dynamic = signature and (signature[1:] != shape[1:] or len(signature) != len(shape))
            if dynamic and gi == 0:  # the interpreter reports the first subgraph's tensors
                resolved = resolved if resolved is not None else resolved_shapes(content)
                shape = resolved.get(i, shape)
            buf = model.buffers[t.buffer] if t.buffer < len(model.buffers) else None
            constant = bool(buf is not None and buf.data is not None and len(buf.data) > 0)
            value = None
            if constant and dtype in ("int32", "int64") and math.prod(shape) <= _SMALL_CONSTANT:
                value = tuple(int(v) for v in np.frombuffer(bytes(buf.data), dtype=dtype))
            name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
            tensors.append(Tensor(i, name, shape, dtype, math.prod(shape) * size, constant, value,
                                  signature))  # fmt: skip
        ops = []
        for op in graph.operators or []:
            code = model.operatorCodes[op.opcodeIndex]
            builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
            opts = vars(op.builtinOptions) if op.builtinOptions is not None else {}
            raw = tuple(int(i) for i in (op.inputs if op.inputs is not None else ()))
            ops.append(Operator(codes.get(builtin, f"OP{builtin}"),
                                tuple(i for i in raw if i >= 0),
                                tuple(int(i) for i in op.outputs), dict(opts), raw))  # fmt: skip
        graphs.append(Graph(tensors, ops, tuple(int(i) for i in graph.inputs),
                            tuple(int(i) for i in graph.outputs)))  # fmt: skip
    return graphs


def read_graph(content: bytes) -> tuple[list[Tensor], list[Operator]]:
    """Tensors and operators of the first subgraph of a LiteRT flatbuffer (shapes resolved)."""
    first = read_graphs(content)[0]
    return first.tensors, first.ops


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


def _transpose_conv(op, t):
    """TRANSPOSE_CONV(output shape, weights (out, kh, kw, in), input[, bias])."""
    w, act, out = t[op.inputs[1]], t[op.inputs[2]], t[op.outputs[0]]
    bias = t[op.inputs[3]] if len(op.inputs) > 3 else None
    cout, kh, kw, cin = w.shape
    prec = _precision(act, w)
    macs = transpose_conv_macs(math.prod(act.shape[1:3]), kh * kw, cin, cout)
    return macs, prec, merge_ops(_fused(op, _elems(out)), {"add": _elems(out) if bias else 0},
                              _hybrid_extra(prec, act, out)), w, bias  # fmt: skip


def _batch_matmul(op, t):
    """BATCH_MATMUL(x, y): for every leading index, (rows × inner) · (inner × cols); a constant
    operand is a stored weight."""
    x, y, out = t[op.inputs[0]], t[op.inputs[1]], t[op.outputs[0]]
    inner = x.shape[-2] if op.options.get("adjX") else x.shape[-1]
    rows, cols = out.shape[-2], out.shape[-1]
    batch = _elems(out) // max(1, rows * cols)
    prec = _precision(x, y if y.constant else None)
    weights = [a for a in (x, y) if a.constant]
    return batch_matmul_macs(batch, rows, inner, cols), prec, {}, weights, None


# fused recurrent operators: the cell, and for each direction the input position of a matrix
# whose rows are the cell's units (input-to-forget-gate weights for LSTM, input weights for RNN)
_SEQUENCE_RNNS = {
    "UNIDIRECTIONAL_SEQUENCE_LSTM": ("lstm", (2,)),
    "BIDIRECTIONAL_SEQUENCE_LSTM": ("lstm", (2, 19)),
    "UNIDIRECTIONAL_SEQUENCE_RNN": ("simple_rnn", (1,)),
    "BIDIRECTIONAL_SEQUENCE_RNN": ("simple_rnn", (1, 5)),
}


def _sequence_rnn(op, t):
    """A fused recurrent operator over a (batch, time, features) input (time first when
    ``timeMajor``): at every step each constant weight matrix (units × its input: the input,
    recurrent, projection and auxiliary weights of either direction) multiplies one vector, so
    MACs are steps × batch × the matrices' elements; each direction adds its cell's element-wise
    work. 1-D constants (biases, peepholes, layer-norm coefficients) are stored as biases."""
    cell, unit_inputs = _SEQUENCE_RNNS[op.name]
    x = t[op.raw_inputs[0]]
    steps, batch = x.shape[:2] if op.options.get("timeMajor") else x.shape[1::-1]
    consts = [t[i] for i in op.raw_inputs[1:] if i >= 0 and t[i].constant]
    matrices = [c for c in consts if len(c.shape) == 2]
    vectors = [c for c in consts if len(c.shape) < 2]
    macs = sum(dense_macs(m.shape[1], m.shape[0], steps * batch) for m in matrices)
    units = [t[op.raw_inputs[i]].shape[0] for i in unit_inputs]
    other = merge_ops(*(recurrent_cell_ops(steps * batch, u, cell) for u in units))
    prec = _precision(x, matrices[0] if matrices else None)
    return macs, prec, other, matrices, vectors


def _mean(op, t):
    act, out = t[op.inputs[0]], t[op.outputs[0]]
    window = _elems(act) // max(1, _elems(out))
    return 0, _precision(act, None), pool_ops(_elems(out), window, "avg"), None, None


def _reduce(kind):
    def handler(op, t):
        act, out = t[op.inputs[0]], t[op.outputs[0]]
        window = _elems(act) // max(1, _elems(out))
        return 0, _precision(act, None), reduce_ops(_elems(out), window, kind), None, None

    return handler


def _elementwise(kind, per_input: bool = True):
    """Element-wise operators over broadcast inputs: (inputs - 1) operations per output element
    (``per_input`` False: one, whatever the inputs: a comparison, a select). A constant operand
    is stored: as a bias for adds, a weight otherwise."""

    def handler(op, t):
        act, out = t[op.inputs[0]], t[op.outputs[0]]
        n = len(op.inputs) if per_input else 2
        consts = [t[i] for i in op.inputs if t[i].constant]
        w, b = (None, consts) if kind == "add" else (consts, None)
        return 0, _precision(act, None), merge_ops(elementwise_ops(_elems(out), n, kind),
                                                _fused(op, _elems(out))), w, b  # fmt: skip

    return handler


def _squared_difference(op, t):
    """(x - y)²: a subtract and a multiply per element."""
    act, out = t[op.inputs[0]], t[op.outputs[0]]
    e = _elems(out)
    return 0, _precision(act, None), {"add": e, "mul": e}, None, None


def _unary(kind):
    def handler(op, t):
        act, out = t[op.inputs[0]], t[op.outputs[0]]
        return 0, _precision(act, None), unary_ops(_elems(out), kind), None, None

    return handler


def _resize(kind):
    def handler(op, t):
        act, out = t[op.inputs[0]], t[op.outputs[0]]
        return 0, _precision(act, None), resize_ops(_elems(out), kind), None, None

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
    "TRANSPOSE_CONV": _transpose_conv,
    "FULLY_CONNECTED": _fully_connected,
    "BATCH_MATMUL": _batch_matmul,
    **{name: _sequence_rnn for name in _SEQUENCE_RNNS},
    "MAX_POOL_2D": _pool("max"),
    "AVERAGE_POOL_2D": _pool("avg"),
    "MEAN": _mean,
    "SUM": _reduce("sum"),
    "REDUCE_PROD": _reduce("prod"),  # e.g. a shape's element count, for a dynamic reshape
    "REDUCE_MAX": _reduce("max"),
    "REDUCE_MIN": _reduce("min"),
    "REDUCE_ANY": _reduce("any"),
    "ADD": _elementwise("add"),
    "MUL": _elementwise("mul"),
    "SUB": _elementwise("add"),
    "DIV": _elementwise("div"),
    "SQUARED_DIFFERENCE": _squared_difference,
    "MAXIMUM": _elementwise("cmp"),
    "MINIMUM": _elementwise("cmp"),
    **{name: _elementwise("cmp", per_input=False)
       for name in ("LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL", "NOT_EQUAL",
                    "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT", "SELECT", "SELECT_V2")},
    "NEG": _unary("neg"),
    "ABS": _unary("abs"),
    "SQUARE": _unary("square"),
    "SQRT": _unary("sqrt"),
    "RSQRT": _unary("rsqrt"),
    "EXP": _unary("exp"),
    "LOG": _unary("log"),
    "RESIZE_BILINEAR": _resize("bilinear"),
    "SOFTMAX": _activation("softmax"),
    "LOGISTIC": _activation("sigmoid"),
    "TANH": _activation("tanh"),
    "RELU": _activation("relu"),
    "RELU6": _activation("relu6"),
    "QUANTIZE": _requantize_like,
    "DEQUANTIZE": _requantize_like,
    **{name: _free for name in FREE_OPS},
}  # fmt: skip
# int8 operators whose output scale differs from their input's: each output is requantized
REQUANTIZING = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED",
                          "BATCH_MATMUL", "ADD", "MUL", "SUB", "MEAN", "AVERAGE_POOL_2D"})  # fmt: skip


def _repeated(op: OpCount, times: int) -> OpCount:
    """An operator's counts when it runs ``times`` times (its stored weights read as stored)."""
    return replace(op, macs=op.macs * times, other=scale_ops(op.other, times),
                   requant=op.requant * times, input_bytes=op.input_bytes * times,
                   output_bytes=op.output_bytes * times)  # fmt: skip


def _tensor_bytes(x, tensors: list[Tensor], load_time: dict[int, int]) -> int:
    """Bytes of a weight (or a list of them); one dequantized at load time (``load_time``: the
    dequantized tensor -> its stored source) counts its stored source."""
    items = [] if x is None else x if isinstance(x, list) else [x]
    return sum(tensors[load_time.get(w.index, w.index)].nbytes for w in items)


def _count_graph(
    graphs: list[Graph],
    gi: int,
    prefix: str,
    times: int,
    out: list[OpCount],
    steps: list | None,
    sizes: dict | None,
) -> None:
    """Count subgraph ``gi``, run ``times`` times, into ``out``; the top graph (``steps`` given)
    also records which tensors each operator reads and writes, for the peak memory."""
    graph = graphs[gi]
    tensors, ops = graph.tensors, graph.ops
    # DEQUANTIZE of a constant (fp16 weights) runs once at load: its output is a weight, not work
    load_time = {o.outputs[0]: o.inputs[0] for o in ops
                 if o.name == "DEQUANTIZE" and tensors[o.inputs[0]].constant}  # fmt: skip
    view = [replace(t, constant=True) if t.index in load_time else t for t in tensors]
    for i, op in enumerate(ops):
        if op.name == "DEQUANTIZE" and op.outputs[0] in load_time:
            continue
        outs = [tensors[j] for j in op.outputs]
        acts = [tensors[j] for j in op.inputs if not view[j].constant]
        in_bytes = sum(
            a.nbytes for a in acts if op.name not in ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")
        )
        out_bytes = sum(
            o.nbytes for o in outs if op.name not in ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")
        )
        label = f"{prefix}{i}:{op.name.lower()}"
        shape = outs[0].shape if outs else ()
        handler = HANDLERS.get(op.name)
        if op.name == "WHILE" and "bodySubgraphIndex" in op.options:
            trips = loop_trips(graphs, graph, op)
            if trips is None:
                warnings.warn(f"LiteRT WHILE loop #{prefix}{i}: its trip count is not fixed by "
                              "the graph; its body is counted once (a lower bound)", stacklevel=3)  # fmt: skip
            # the loop itself moves nothing; its work is its condition and body, repeated
            # (once, when the trip count is unknown: the total is then a lower bound)
            out.append(OpCount(label, op.name, output_shape=shape, lower_bound=trips is None))
            runs = 1 if trips is None else trips
            _count_graph(graphs, op.options["condSubgraphIndex"], f"{label}/cond/",
                         times * (runs + 1), out, None, None)  # fmt: skip
            _count_graph(graphs, op.options["bodySubgraphIndex"], f"{label}/body/",
                         times * runs, out, None, None)  # fmt: skip
        elif handler is None:
            warnings.warn(f"LiteRT operator {op.name} (#{prefix}{i}) is not counted", stacklevel=3)
            out.append(OpCount(label, op.name, counted=False, input_bytes=in_bytes * times,
                               output_bytes=out_bytes * times, output_shape=shape))  # fmt: skip
        else:
            macs, prec, other, w, b = handler(op, view)
            one = OpCount(
                label, op.name, int(macs), other, prec,
                _elems(outs[0]) if prec == "int8" and op.name in REQUANTIZING else 0,
                # weights as stored (an fp16 weight counts its fp16 source); a bias as the
                # runtime holds it (float32 once dequantized at load)
                _tensor_bytes(w, tensors, load_time), _tensor_bytes(b, tensors, {}),
                in_bytes, out_bytes, shape,
            )  # fmt: skip
            out.append(_repeated(one, times) if times != 1 else one)
        if steps is not None and sizes is not None:
            for t in acts + outs:
                sizes[str(t.index)] = t.nbytes
            steps.append(([str(a.index) for a in acts], [str(o.index) for o in outs]))


def count_tflite(content: bytes) -> ModelCounts:
    """Per-operator counts of a LiteRT model, loop bodies expanded (``3:while/body/5:add``, each
    counted for every iteration); unknown operators are listed as uncounted."""
    graphs = read_graphs(content)
    counted: list[OpCount] = []
    steps: list = []
    sizes: dict = {}
    _count_graph(graphs, 0, "", 1, counted, steps, sizes)
    return ModelCounts("tflite", tuple(counted), peak_live_bytes(steps, sizes))
