"""Counting an ``.onnx`` model exactly from its graph: every node's tensors (static shapes at batch
1), element types, constant initializers and attributes (groups, kernels, directions).

Shapes come from ONNX's own shape inference (``onnx.shape_inference.infer_shapes`` with data
propagation, so a Reshape to a computed shape resolves) after the input's batch dimension, when
symbolic, is fixed to 1; any other dynamic input dimension is refused in one line. A tensor whose
shape inference still leaves open (an operator without a shape function) is resolved the way the
LiteRT counter resolves its dynamic tensors: one run on zeros through onnxruntime.

Facts this relies on (onnxruntime 1.31's CPU provider):
- Work on constants only (a DequantizeLinear of int8 weights, a Transpose of an initializer, a
  Shape of a static tensor) is done once at load, not per inference: such nodes are not counted
  and the weights they make are counted as stored (int8 bytes for a quantized weight).
- QDQ models (QuantizeLinear -> DequantizeLinear around each operator, the format of
  ``onnxruntime.quantization.quantize_static``) are fused by onnxruntime into int8 kernels
  (QLinearConv, QGemm, QLinearAdd, ...): a node of ``QDQ_INT8`` whose every activation input
  comes from a DequantizeLinear of int8 is an ``int8`` node, its DequantizeLinear inputs and
  QuantizeLinear outputs vanish into it (its outputs rescaled from the int32 accumulator are its
  ``requant``), and its tensors move as int8. A QuantizeLinear or DequantizeLinear left over (the
  float input quantized, the logits dequantized) is work: one multiply and one add per element.
- Conv's 1-D form covers Conv1D (no EXPAND_DIMS/RESHAPE around it as in LiteRT); batch norm is
  its own node unless the exporter or ``quant_pre_process`` folded it into the Conv.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from .counts import (
    ModelCounts,
    OpCount,
    activation_ops,
    batchnorm_ops,
    conv_macs,
    dense_macs,
    depthwise_macs,
    elementwise_ops,
    global_pool_ops,
    layernorm_ops,
    merge_ops,
    peak_live_bytes,
    pointwise_ops,
    pool_ops,
    recurrent_cell_ops,
    recurrent_macs,
    transpose_conv_macs,
)

# TensorProto element type -> (name, bytes per element)
_TYPES = {1: ("float32", 4), 2: ("uint8", 1), 3: ("int8", 1), 4: ("uint16", 2), 5: ("int16", 2),
          6: ("int32", 4), 7: ("int64", 8), 9: ("bool", 1), 10: ("float16", 2),
          11: ("float64", 8), 12: ("uint32", 4), 13: ("uint64", 8), 16: ("bfloat16", 2)}  # fmt: skip
_INT8 = frozenset({"int8", "uint8"})
FREE_OPS = frozenset({"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat",
                      "Shape", "Size", "Gather", "GatherElements", "Slice", "Pad", "Identity",
                      "Dropout", "Constant", "ConstantOfShape", "Cast", "CastLike", "Split",
                      "Expand", "Tile", "DepthToSpace", "SpaceToDepth"})  # fmt: skip
# operators that only relabel their input's bytes: no activation bytes move (as LiteRT's RESHAPE)
NO_BYTES = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"})
# operators onnxruntime runs on int8 when QDQ nodes surround them (its QDQ selectors)
QDQ_INT8 = frozenset({"Conv", "ConvTranspose", "MatMul", "Gemm", "Add", "Mul", "AveragePool",
                      "GlobalAveragePool", "MaxPool", "Relu", "Clip", "Sigmoid", "LeakyRelu",
                      "Softmax", "Concat", "Reshape", "Flatten", "Transpose", "Squeeze",
                      "Unsqueeze", "Gather", "Slice", "Pad", "Split", "Expand", "Tile",
                      "Resize", "InstanceNormalization"})  # fmt: skip
# integer operators of QOperator and dynamically quantized graphs: int8 × int8 -> int32
INTEGER_OPS = frozenset({"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger"})
# int8 operators whose outputs are rescaled from the int32 accumulator (or to another scale)
REQUANTIZING = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "QLinearConv",
                          "QLinearMatMul", "Add", "Sub", "Mul", "AveragePool",
                          "GlobalAveragePool", "ReduceMean"})  # fmt: skip
_RANDOM = frozenset({"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                     "Multinomial", "Bernoulli"})  # fmt: skip
_STANDARD = ("", "ai.onnx")


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int
    constant: bool


@dataclass(frozen=True)
class Node:
    index: int
    name: str
    op: str  # the operator, prefixed by its domain outside the standard one
    inputs: tuple[str, ...]  # "" where an optional input is left out
    outputs: tuple[str, ...]
    attrs: dict


def _attrs(node) -> dict:
    from onnx import AttributeProto, helper

    out = {}
    for a in node.attribute:
        if a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS):
            out[a.name] = "<graph>"
            continue
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _dims(ttype) -> tuple[int, ...] | None:
    """The static shape of a tensor type, or None where a dimension is unknown."""
    if not ttype.HasField("shape"):
        return None
    dims = []
    for d in ttype.shape.dim:
        if not d.HasField("dim_value") or d.dim_value <= 0:
            return None
        dims.append(int(d.dim_value))
    return tuple(dims)


def fix_batch(model, path: str = "model.onnx"):
    """A copy of ``model`` whose input has batch 1 (a symbolic or unknown first dimension set to
    1); another dynamic dimension is a ModelError naming the input and the fix."""
    m = type(model)()
    m.CopyFrom(model)
    inits = {t.name for t in m.graph.initializer}
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        ttype = vi.type.tensor_type
        if not ttype.HasField("shape") or not ttype.shape.dim:
            raise ModelError(f"{path}: input {vi.name!r} has no shape; export the model with its "
                             "input shape, e.g. (batch, 1000, 1)")  # fmt: skip
        for i, d in enumerate(ttype.shape.dim):
            static = d.HasField("dim_value") and d.dim_value > 0
            if i == 0 and not static:
                d.Clear()
                d.dim_value = 1
            elif not static:
                raise ModelError(f"{path}: input {vi.name!r} dimension {i} is dynamic "
                                 f"({d.dim_param or '?'}); only the batch (first) dimension may "
                                 "be: export the model with a fixed window length, e.g. "
                                 "(batch, 1000, 1)")  # fmt: skip
    for vi in m.graph.output:  # the declared output batch, so that it agrees with the input's
        ttype = vi.type.tensor_type
        if ttype.HasField("shape") and ttype.shape.dim:
            d = ttype.shape.dim[0]
            if not (d.HasField("dim_value") and d.dim_value > 0):
                d.Clear()
                d.dim_value = 1
    del m.graph.value_info[:]  # a symbolic batch recorded there would survive inference
    return m


def resolved_shapes(model, names: list[str]) -> dict[str, tuple[tuple[int, ...], int]]:
    """(shape, element type) of the tensors ``names`` after one onnxruntime run on zeros (batch
    1), for tensors that shape inference leaves open."""
    import onnx
    import onnxruntime as ort
    from onnx import helper

    m = type(model)()
    m.CopyFrom(model)
    del m.graph.output[:]
    m.graph.output.extend(onnx.ValueInfoProto(name=n) for n in names)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    inits = {t.name for t in m.graph.initializer}
    feed = {}
    for vi in m.graph.input:
        if vi.name not in inits:
            tt = vi.type.tensor_type
            dtype = helper.tensor_dtype_to_np_dtype(tt.elem_type)
            feed[vi.name] = np.zeros(_dims(tt) or (), dtype=dtype)
    arrays = sess.run(names, feed)
    return {n: (tuple(int(d) for d in np.shape(a)),
                int(helper.np_dtype_to_tensor_dtype(np.asarray(a).dtype)))
            for n, a in zip(names, arrays)}  # fmt: skip


def read_graph(model, path: str = "model.onnx") -> tuple[dict[str, Tensor], list[Node], set[int]]:
    """Tensors (static shapes at batch 1) and nodes of an ONNX model's main graph, and the
    indices of the nodes that only compute on constants (run once, at load)."""
    import onnx

    if model.functions:  # a model's own functions, expanded into the standard nodes they hold
        from onnx import inliner

        model = inliner.inline_local_functions(model)
    m = fix_batch(model, path)
    try:
        inferred = onnx.shape_inference.infer_shapes(m, check_type=False, strict_mode=False,
                                                     data_prop=True)  # fmt: skip
    except Exception:  # an inference failure leaves every shape to the run below
        inferred = m
    g = inferred.graph
    types: dict[str, tuple[tuple[int, ...] | None, int]] = {}
    for vi in [*g.input, *g.output, *g.value_info]:
        tt = vi.type.tensor_type
        types[vi.name] = (_dims(tt), tt.elem_type)
    stored: dict[str, int] = {}
    for t in g.initializer:
        size = _TYPES.get(t.data_type, ("", 4))[1]
        types[t.name] = (tuple(int(d) for d in t.dims), t.data_type)
        stored[t.name] = math.prod(t.dims) * size
    nodes = [Node(i, n.name, n.op_type if n.domain in _STANDARD else f"{n.domain}.{n.op_type}",
                  tuple(n.input), tuple(n.output), _attrs(n))
             for i, n in enumerate(g.node)]  # fmt: skip
    missing = [o for n in nodes for o in n.outputs if o and (types.get(o, (None,))[0] is None)]
    if missing:
        try:
            types.update(resolved_shapes(inferred, missing))
        except Exception as exc:
            raise ModelError(f"{path}: the shape of tensor {missing[0]!r} cannot be inferred "
                             f"and the model does not run on zeros to resolve it "
                             f"({type(exc).__name__}); export it with static shapes") from exc  # fmt: skip
    constant = set(stored)
    load_time: set[int] = set()
    for n in nodes:
        data = [i for i in n.inputs if i]
        if n.op in _RANDOM:
            continue
        if n.op == "Shape" or all(i in constant for i in data):  # a static input's shape too
            constant.update(o for o in n.outputs if o)
            load_time.add(n.index)
    tensors: dict[str, Tensor] = {}
    for name, (shape, etype) in types.items():
        if shape is None:
            continue
        dtype, size = _TYPES.get(etype, (f"type{etype}", 4))
        tensors[name] = Tensor(name, shape, dtype, math.prod(shape) * size, name in constant)
    for n in nodes:
        for o in n.outputs:
            if o and o not in tensors:
                raise ModelError(f"{path}: the shape of tensor {o!r} ({n.op} node "
                                 f"{n.name or n.index}) cannot be resolved; export the model "
                                 "with static shapes")  # fmt: skip
    return tensors, nodes, load_time


def _elems(t: Tensor) -> int:
    return math.prod(t.shape)


def _in(n: Node, t: dict[str, Tensor], k: int) -> Tensor | None:
    return t.get(n.inputs[k]) if k < len(n.inputs) and n.inputs[k] else None


def _name(n: Node, k: int) -> str | None:
    return n.inputs[k] if k < len(n.inputs) and n.inputs[k] else None


def _out(n: Node, t: dict[str, Tensor]) -> Tensor:
    return t[n.outputs[0]]


def _bias_add(n: Node, t, k: int) -> dict[str, int]:
    return {"add": _elems(_out(n, t))} if _name(n, k) else {}


def _conv_like(x_at: int, w_at: int, b_at: int | None):
    """Conv (and QLinearConv / ConvInteger, whose tensors sit at other input positions): X (N, C,
    spatial...), W (M, C / group, kernel...), Y (N, M, out spatial...)."""

    def handler(n, t):
        x, w, y = _in(n, t, x_at), _in(n, t, w_at), _out(n, t)
        group = int(n.attrs.get("group", 1))
        positions = y.shape[0] * math.prod(y.shape[2:])
        kernel = math.prod(w.shape[2:])
        cin, cout = x.shape[1], w.shape[0]
        if group > 1 and group == cin:  # depthwise: one input channel per group
            macs = depthwise_macs(positions, kernel, cout)
        else:
            macs = conv_macs(positions, kernel, cin, cout, group)
        bias = _name(n, b_at) if b_at is not None else None
        return macs, _bias_add(n, t, b_at) if b_at is not None else {}, (_name(n, w_at),), (bias,)

    return handler


def _conv_transpose(n, t):
    """X (N, C, in spatial...), W (C, M / group, kernel...): every input position scatters
    through the kernel into the group's M / group output channels."""
    x, w = _in(n, t, 0), _in(n, t, 1)
    in_positions = x.shape[0] * math.prod(x.shape[2:])
    macs = transpose_conv_macs(in_positions, math.prod(w.shape[2:]), x.shape[1], w.shape[1])
    return macs, _bias_add(n, t, 2), (_name(n, 1),), (_name(n, 2),)


def _gemm(n, t):
    """Y = alpha · A' · B' + beta · C, A' (M, K), B' (K, N); alpha and beta other than 1 are one
    multiply per output each."""
    a, y = _in(n, t, 0), _out(n, t)
    m_rows, k = (a.shape[1], a.shape[0]) if n.attrs.get("transA", 0) else a.shape[:2]
    scales = int(n.attrs.get("alpha", 1.0) != 1.0)
    scales += int(_name(n, 2) is not None and n.attrs.get("beta", 1.0) != 1.0)
    extra = merge_ops(_bias_add(n, t, 2), {"mul": _elems(y) * scales})
    # B is the weight; A too where it is a constant (stored_bytes counts constants only)
    return dense_macs(k, y.shape[-1], m_rows), extra, (_name(n, 1), _name(n, 0)), (_name(n, 2),)


def _matmul_like(a_at: int, b_at: int):
    """A (..., M, K) × B (..., K, N) with broadcast batch dimensions: every output element is K
    multiply-accumulates (a 1-D B drops N)."""

    def handler(n, t):
        a, b, y = _in(n, t, a_at), _in(n, t, b_at), _out(n, t)
        k = a.shape[-1]
        units = b.shape[-1] if len(b.shape) >= 2 else 1
        rows = _elems(y) // units
        return dense_macs(k, units, rows), {}, (_name(n, b_at), _name(n, a_at)), ()

    return handler


def _recurrent(cell: str):
    """LSTM / GRU / RNN: X (seq, batch, input), or (batch, seq, input) with layout 1; W (dirs,
    gates · hidden, input). Every direction runs the whole sequence: bidirectional is 2×."""
    gates = {"lstm": 4, "gru": 3, "simple_rnn": 1}[cell]

    def handler(n, t):
        x, w = _in(n, t, 0), _in(n, t, 1)
        steps, batch = (x.shape[1], x.shape[0]) if n.attrs.get("layout", 0) else x.shape[:2]
        dirs = w.shape[0]
        hidden = int(n.attrs.get("hidden_size") or w.shape[1] // gates)
        seqs = dirs * batch
        macs = seqs * recurrent_macs(steps, x.shape[2], hidden, cell)
        other = recurrent_cell_ops(steps * seqs, hidden, cell)
        if cell == "lstm" and _name(n, 7):  # peepholes: three more multiply-adds per unit
            other = merge_ops(other, {"mul": 3 * steps * seqs * hidden,
                                      "add": 3 * steps * seqs * hidden})  # fmt: skip
        return macs, other, (_name(n, 1), _name(n, 2)), (_name(n, 3),)

    return handler


def _pool(kind: str):
    def handler(n, t):
        window = math.prod(n.attrs.get("kernel_shape", [1]))
        return 0, pool_ops(_elems(_out(n, t)), window, kind), (), ()

    return handler


def _global_pool(kind: str):
    def handler(n, t):
        x = _in(n, t, 0)
        return 0, global_pool_ops(math.prod(x.shape[2:]), x.shape[0] * x.shape[1], kind), (), ()

    return handler


def _reduce(kind: str):
    def handler(n, t):
        x, y = _in(n, t, 0), _out(n, t)
        window = _elems(x) // max(1, _elems(y))
        if kind == "sum":
            return 0, elementwise_ops(_elems(y), window, "add"), (), ()
        return 0, pool_ops(_elems(y), window, kind), (), ()

    return handler


def _batchnorm(n, t):
    # inference: folded to one scale and one shift per channel (from scale, B, mean and var)
    return 0, batchnorm_ops(_elems(_out(n, t))), (_name(n, 1),), (_name(n, 2),)


def _layernorm(n, t):
    x = _in(n, t, 0)
    axis = int(n.attrs.get("axis", -1)) % len(x.shape)
    rows, features = math.prod(x.shape[:axis]), math.prod(x.shape[axis:])
    center = _name(n, 2) is not None
    return 0, layernorm_ops(rows, features, True, center), (_name(n, 1),), (_name(n, 2),)


def _instancenorm(n, t):
    # the layer normalisation of each (sample, channel) over its positions
    x = _in(n, t, 0)
    ops = layernorm_ops(x.shape[0] * x.shape[1], math.prod(x.shape[2:]), True, True)
    return 0, ops, (_name(n, 1),), (_name(n, 2),)


def _activation(kind: str):
    def handler(n, t):
        return 0, activation_ops(_elems(_out(n, t)), kind), (), ()

    return handler


def _pointwise(kind: str):
    def handler(n, t):
        return 0, pointwise_ops(_elems(_out(n, t)), kind), (), ()

    return handler


def _gelu(n, t):
    kind = "gelu_tanh" if n.attrs.get("approximate", "none") == "tanh" else "gelu"
    return 0, pointwise_ops(_elems(_out(n, t)), kind), (), ()


def _clip(n, t):
    """A clamp: one comparison per bound given (inputs min, max; attributes before opset 11)."""
    bounds = sum(1 for k in (1, 2) if _name(n, k)) + sum(1 for a in ("min", "max") if a in n.attrs)
    elems = _elems(_out(n, t))
    ops = {} if not bounds else activation_ops(elems, "relu6" if bounds == 2 else "clamp")
    return 0, ops, (), ()


def _elementwise(kind: str):
    def handler(n, t):
        inputs = sum(1 for i in n.inputs if i)
        return 0, elementwise_ops(_elems(_out(n, t)), inputs, kind), (), ()

    return handler


def _quantize_like(n, t):
    """QuantizeLinear / DequantizeLinear at run time: one multiply and one add per element."""
    e = _elems(_out(n, t))
    return 0, {"mul": e, "add": e}, (), ()


def _dynamic_quantize(n, t):
    """DynamicQuantizeLinear: the tensor's minimum and maximum (two comparisons per element),
    then a multiply and an add per element."""
    e = _elems(_in(n, t, 0))
    return 0, {"cmp": 2 * e, "mul": e, "add": e}, (), ()


def _free(n, t):
    return 0, {}, (), ()


HANDLERS: dict[str, Callable] = {
    "Conv": _conv_like(0, 1, 2),
    "QLinearConv": _conv_like(0, 3, 8),
    "ConvInteger": _conv_like(0, 1, None),
    "ConvTranspose": _conv_transpose,
    "Gemm": _gemm,
    "MatMul": _matmul_like(0, 1),
    "QLinearMatMul": _matmul_like(0, 3),
    "MatMulInteger": _matmul_like(0, 1),
    "LSTM": _recurrent("lstm"),
    "GRU": _recurrent("gru"),
    "RNN": _recurrent("simple_rnn"),
    "MaxPool": _pool("max"),
    "AveragePool": _pool("avg"),
    "GlobalAveragePool": _global_pool("avg"),
    "GlobalMaxPool": _global_pool("max"),
    "ReduceMean": _reduce("avg"),
    "ReduceMax": _reduce("max"),
    "ReduceSum": _reduce("sum"),
    "BatchNormalization": _batchnorm,
    "LayerNormalization": _layernorm,
    "InstanceNormalization": _instancenorm,
    "Relu": _activation("relu"),
    "Clip": _clip,
    "Sigmoid": _activation("sigmoid"),
    "Tanh": _activation("tanh"),
    "Softmax": _activation("softmax"),
    "LeakyRelu": _pointwise("leaky_relu"),
    "PRelu": _pointwise("prelu"),
    "Elu": _pointwise("elu"),
    "HardSigmoid": _pointwise("hard_sigmoid"),
    "HardSwish": _pointwise("hard_swish"),
    "Erf": _pointwise("erf"),
    "Gelu": _gelu,
    "com.microsoft.Gelu": _gelu,  # onnxruntime's own, the erf form (before opset 20 had one)
    "Add": _elementwise("add"),
    "Sub": _elementwise("add"),
    "Mul": _elementwise("mul"),
    "Div": _elementwise("div"),
    "Max": _elementwise("cmp"),
    "Min": _elementwise("cmp"),
    "Sum": _elementwise("add"),
    "QuantizeLinear": _quantize_like,
    "DequantizeLinear": _quantize_like,
    "DynamicQuantizeLinear": _dynamic_quantize,
    **{name: _free for name in FREE_OPS},
}


def count_onnx(model, path: str = "model.onnx") -> ModelCounts:
    """Per-node counts of an ONNX model (an ``onnx.ModelProto``) at batch 1; unknown operators
    are listed as uncounted. ``path`` names the file in error messages."""
    tensors, nodes, load_time = read_graph(model, path)
    graph_outputs = {o.name for o in model.graph.output}
    producer = {o: n for n in nodes for o in n.outputs if o}
    consumers: dict[str, list[Node]] = defaultdict(list)
    for n in nodes:
        for i in n.inputs:
            if i:
                consumers[i].append(n)

    def acts_of(n: Node) -> list[str]:
        return [i for i in n.inputs if i and i in tensors and not tensors[i].constant]

    # activations dequantized from int8 at run time: what a QDQ int8 node reads
    dq_act = {n.outputs[0]: n.inputs[0] for n in nodes
              if n.op == "DequantizeLinear" and n.index not in load_time
              and tensors[n.inputs[0]].dtype in _INT8}  # fmt: skip
    units = {n.index for n in nodes if n.index not in load_time and n.op in QDQ_INT8
             and acts_of(n) and all(a in dq_act for a in acts_of(n))}  # fmt: skip
    unit_outputs = {o for n in nodes if n.index in units for o in n.outputs}
    absorbed: set[int] = set()
    runtime: dict[str, str] = {}  # a graph tensor -> the tensor the fused runtime graph holds
    for n in nodes:
        if n.index in load_time:
            continue
        if n.op == "DequantizeLinear" and n.outputs[0] in dq_act:
            users = consumers.get(n.outputs[0], [])
            if users and all(u.index in units for u in users) and n.outputs[0] not in graph_outputs:
                absorbed.add(n.index)
                runtime[n.outputs[0]] = n.inputs[0]
        elif n.op == "QuantizeLinear" and n.inputs[0] in unit_outputs:
            absorbed.add(n.index)
            runtime.setdefault(n.inputs[0], n.outputs[0])

    def rt(name: str) -> Tensor:
        return tensors[runtime.get(name, name)]

    def stored_bytes(name: str | None) -> int:
        if not name or name not in tensors or not tensors[name].constant:
            return 0
        src = producer.get(name)
        if src is None or src.op == "Constant" or not [i for i in src.inputs if i]:
            return tensors[name].nbytes
        return stored_bytes(next(i for i in src.inputs if i))  # what the load-time node read

    def precision(n: Node, weights) -> str:
        if n.index in units or n.op in INTEGER_OPS:
            return "int8"
        dtypes = [tensors[a].dtype for a in acts_of(n)]
        if dtypes and all(d in _INT8 for d in dtypes):
            return "int8"
        if "float16" in dtypes:
            return "fp16"
        for w in weights:
            src = producer.get(w) if w else None
            if (src is not None and src.op == "DequantizeLinear" and src.index in load_time
                    and tensors[src.inputs[0]].dtype in _INT8):  # fmt: skip
                return "hybrid"  # int8 weights, dequantized for float arithmetic
        return "fp32"

    counted: list[OpCount] = []
    steps: list[tuple[list[str], list[str]]] = []
    sizes: dict[str, int] = {}
    for n in nodes:
        if n.index in load_time or n.index in absorbed:
            continue
        acts = [rt(a) for a in acts_of(n)]
        outs = [rt(o) for o in n.outputs if o]
        moves = n.op not in NO_BYTES
        in_bytes = sum(a.nbytes for a in acts) if moves else 0
        out_bytes = sum(o.nbytes for o in outs) if moves else 0
        label = f"{n.index}:{n.name or n.op.lower()}"
        handler = HANDLERS.get(n.op)
        if handler is None:
            warnings.warn(f"ONNX operator {n.op} (#{n.index}) is not counted", stacklevel=2)
            counted.append(OpCount(label, n.op, counted=False, input_bytes=in_bytes,
                                   output_bytes=out_bytes, output_shape=outs[0].shape))  # fmt: skip
        else:
            macs, other, weights, biases = handler(n, tensors)
            if n.op in ("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"):
                prec = "fp32"  # float arithmetic on the quantized values
            else:
                prec = precision(n, weights)
            counted.append(OpCount(
                label, n.op, int(macs), other, prec,
                _elems(outs[0]) if prec == "int8" and n.op in REQUANTIZING else 0,
                sum(stored_bytes(w) for w in weights), sum(stored_bytes(b) for b in biases),
                in_bytes, out_bytes, outs[0].shape,
            ))  # fmt: skip
        for tt in acts + outs:
            sizes[tt.name] = tt.nbytes
        steps.append(([a.name for a in acts], [o.name for o in outs]))
    return ModelCounts("onnx", tuple(counted), peak_live_bytes(steps, sizes))
