"""Counting a Keras model: walk its layer graph call by call, one pure handler per layer class (a
dispatch table keyed by the classes themselves, not by name matching). Batch 1, float32 (4-byte)
tensors.

The walk follows the model's nodes (each call of a layer), not its list of layers: a layer or a
sub-model applied twice does its work twice and is counted twice (the second call named
``name#2``). A model used as a layer (Functional or Sequential) is walked into, its layers named
``outer/inner``, so the totals include them.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ModelError
from .counts import (
    UNARY_KINDS,
    ModelCounts,
    OpCount,
    activation_ops,
    attention_macs,
    attention_ops,
    batchnorm_ops,
    bidirectional_merge_ops,
    conv_macs,
    dense_macs,
    depthwise_macs,
    elementwise_ops,
    global_pool_ops,
    layernorm_ops,
    merge_ops,
    peak_live_bytes,
    pool_ops,
    recurrent_cell_ops,
    recurrent_macs,
    reduce_ops,
    resize_ops,
    scale_ops,
    transpose_conv_macs,
    unary_ops,
)

FP32 = 4  # bytes


@dataclass(frozen=True)
class Call:
    """One call of a layer: the shapes (batch left out) of its input and output tensors, and the
    call's node (for layers whose inputs have roles, e.g. the query of an attention layer)."""

    ins: tuple[tuple[int, ...], ...]
    outs: tuple[tuple[int, ...], ...]
    node: object = None

    @property
    def inp(self) -> tuple[int, ...]:
        return self.ins[0]

    @property
    def out(self) -> tuple[int, ...]:
        return self.outs[0]


def _shape(t) -> tuple:
    """A tensor's shape without the batch axis; an unknown dimension stays None."""
    return tuple(None if d is None else int(d) for d in t.shape[1:])


def _params(layer) -> tuple[int, int]:
    """A layer's stored parameters from its variables: (weight elements, bias elements), biases
    being the variables named ``bias`` or ``beta``."""
    weights = bias = 0
    for v in layer.weights:
        n = math.prod(int(d) for d in v.shape)
        if v.name.split("/")[-1].split(":")[0] in ("bias", "beta"):
            bias += n
        else:
            weights += n
    return weights, bias


def _act(layer, elems: int) -> dict[str, int]:
    """The layer's own fused activation (e.g. Dense(..., activation="relu"))."""
    fn = getattr(layer, "activation", None)
    name = getattr(fn, "__name__", "linear") if fn is not None else "linear"
    try:
        return activation_ops(elems, name)
    except KeyError:
        return {"exp": elems}  # an activation function we have no formula for: priced as one exp


def _conv(layer, call: Call):
    out = call.out
    in_ch = call.inp[-1]
    positions, out_ch = math.prod(out[:-1]), out[-1]
    k = math.prod(layer.kernel_size)
    macs = conv_macs(positions, k, in_ch, out_ch, getattr(layer, "groups", 1))
    bias = out_ch if layer.use_bias else 0
    elems = positions * out_ch
    return (
        macs,
        merge_ops({"add": elems if bias else 0}, _act(layer, elems)),
        (k * in_ch // getattr(layer, "groups", 1)) * out_ch,
        bias,
    )


def _conv_transpose(layer, call: Call):
    """Conv1DTranspose / Conv2DTranspose: every input position through the whole kernel."""
    in_positions, in_ch = math.prod(call.inp[:-1]), call.inp[-1]
    out_ch = call.out[-1]
    k = math.prod(layer.kernel_size)
    bias = out_ch if layer.use_bias else 0
    elems = math.prod(call.out)
    return (
        transpose_conv_macs(in_positions, k, in_ch, out_ch),
        merge_ops({"add": elems if bias else 0}, _act(layer, elems)),
        k * in_ch * out_ch,
        bias,
    )


def _depthwise(layer, call: Call):
    out = call.out
    positions, out_ch = math.prod(out[:-1]), out[-1]
    k = math.prod(layer.kernel_size)
    bias = out_ch if layer.use_bias else 0
    elems = positions * out_ch
    return (
        depthwise_macs(positions, k, out_ch),
        merge_ops({"add": elems if bias else 0}, _act(layer, elems)),
        k * out_ch,
        bias,
    )


def _separable(layer, call: Call):
    out = call.out
    in_ch = call.inp[-1]
    positions, out_ch = math.prod(out[:-1]), out[-1]
    k = math.prod(layer.kernel_size)
    mid = in_ch * layer.depth_multiplier
    macs = depthwise_macs(positions, k, mid) + conv_macs(positions, 1, mid, out_ch)
    bias = out_ch if layer.use_bias else 0
    elems = positions * out_ch
    return (
        macs,
        merge_ops({"add": elems if bias else 0}, _act(layer, elems)),
        k * mid + mid * out_ch,
        bias,
    )


def _dense(layer, call: Call):
    in_shape = call.inp
    rows = math.prod(in_shape[:-1]) if len(in_shape) > 1 else 1
    bias = layer.units if layer.use_bias else 0
    elems = rows * layer.units
    return (
        dense_macs(in_shape[-1], layer.units, rows),
        merge_ops({"add": elems if bias else 0}, _act(layer, elems)),
        in_shape[-1] * layer.units,
        bias,
    )


def _batchnorm(layer, call: Call):
    elems = math.prod(call.out)
    ch = call.out[-1]
    return 0, batchnorm_ops(elems), 2 * ch, 0  # folded scale and shift per channel


def _layernorm(layer, call: Call):
    """Normalised over ``layer.axis`` (counted from the batch axis; negative from the end)."""
    if getattr(layer, "rms_scaling", False):
        return None  # RMS normalisation: no formula here
    axes = layer.axis if isinstance(layer.axis, list | tuple) else [layer.axis]
    shape = call.inp
    features = math.prod(shape[a if a < 0 else a - 1] for a in axes)
    weights, bias = _params(layer)
    return (
        0,
        layernorm_ops(math.prod(shape) // features, features, layer.scale, layer.center),
        weights,
        bias,
    )


_CELLS: dict[str, str] = {"LSTMCell": "lstm", "GRUCell": "gru", "SimpleRNNCell": "simple_rnn"}


def _recurrent(layer, call: Call):
    """LSTM, GRU, SimpleRNN (or RNN over one of their cells) over an input of (time, features):
    the same work whether it returns the sequence or the last step, and either direction."""
    kind = _CELLS.get(type(getattr(layer, "cell", None)).__name__)
    if kind is None or len(call.inp) != 2:
        return None  # stacked or custom cells: no formula here
    steps, features = call.inp
    units = layer.cell.units
    weights, bias = _params(layer)
    return (
        recurrent_macs(steps, features, units, kind),
        recurrent_cell_ops(steps, units, kind),
        weights,
        bias,
    )


def _bidirectional(layer, call: Call):
    """Both directions' recurrent work, and the merge of their outputs."""
    parts = [_recurrent(d, call) for d in (layer.forward_layer, layer.backward_layer)]
    if any(p is None for p in parts):
        return None
    fwd, bwd = parts
    merged = layer.merge_mode in ("sum", "mul", "ave")
    elems = math.prod(call.out) if merged else 0  # a merged output has one direction's size
    return (
        fwd[0] + bwd[0],
        merge_ops(fwd[1], bwd[1], bidirectional_merge_ops(elems, layer.merge_mode)),
        fwd[2] + bwd[2],
        fwd[3] + bwd[3],
    )


def _argument(node, position: int, name: str):
    args = node.arguments
    if len(args.args) > position:
        return args.args[position]
    return args.kwargs.get(name)


def _attention(layer, call: Call):
    """MultiHeadAttention called as (query, value[, key]): the Q, K, V and output projections,
    the scores and the context products, the query scaling, softmax and biases."""
    if call.node is None:
        return None
    query, value = _argument(call.node, 0, "query"), _argument(call.node, 1, "value")
    key = _argument(call.node, 2, "key")
    q, v = _shape(query), _shape(value)
    k = _shape(key) if key is not None else v
    axes = getattr(layer, "_attention_axes", None)
    if axes is not None and len(axes) != len(q) - 1:
        return None  # attention over some of the axes only: no formula here
    q_len, kv_len = math.prod(q[:-1]), math.prod(v[:-1])
    heads, key_dim, value_dim = layer._num_heads, layer._key_dim, layer._value_dim
    out_dim = math.prod(call.out) // q_len
    parts = attention_macs(q_len, kv_len, q[-1], heads, key_dim, value_dim, out_dim,
                           kv_dim=v[-1], key_in_dim=k[-1])  # fmt: skip
    weights, bias = _params(layer)
    return (
        sum(parts.values()),
        attention_ops(q_len, kv_len, heads, key_dim, value_dim, out_dim, layer._use_bias),
        weights,
        bias,
    )


def _time_distributed(layer, call: Call):
    """The wrapped layer's work on one time step, times the steps (its weights stored once)."""
    inner = _table().get(type(layer.layer))
    if inner is None:
        return None
    steps = call.inp[0]
    got = inner(layer.layer, Call(tuple(s[1:] for s in call.ins), tuple(s[1:] for s in call.outs)))
    if got is None:
        return None
    macs, other, weights, bias = got
    return macs * steps, scale_ops(other, steps), weights, bias


def _upsampling(layer, call: Call):
    """Nearest-neighbour upsampling copies; bilinear interpolates (``resize_ops``)."""
    try:
        ops = resize_ops(math.prod(call.out), getattr(layer, "interpolation", "nearest"))
    except KeyError:
        return None
    return 0, ops, 0, 0


def _masking(layer, call: Call):
    """A comparison per element (is it the mask value?) and a multiply zeroing masked steps."""
    elems = math.prod(call.out)
    return 0, {"cmp": elems, "mul": elems}, 0, 0


def _rescaling(layer, call: Call):
    elems = math.prod(call.out)
    return 0, {"mul": elems, "add": elems}, 0, 0


def _pool(kind: str):
    def handler(layer, call: Call):
        return 0, pool_ops(math.prod(call.out), math.prod(layer.pool_size), kind), 0, 0

    return handler


def _global_pool(kind: str):
    def handler(layer, call: Call):
        inp = call.inp
        return 0, global_pool_ops(math.prod(inp[:-1]), inp[-1], kind), 0, 0

    return handler


def _activation_layer(name: str | None):
    def handler(layer, call: Call):
        elems = math.prod(call.out)
        kind = name or getattr(layer.activation, "__name__", "linear")
        try:
            return 0, activation_ops(elems, kind), 0, 0
        except KeyError:
            return 0, {"exp": elems}, 0, 0

    return handler


def _elementwise(kind: str, binary: bool = False):
    """Merge layers of n inputs: n - 1 operations per element (an average adds a multiply by
    1/n). ``binary``: a Keras operation (``x + y`` on symbolic tensors) whose second operand may
    be a constant, not a tensor: one operation per element."""

    def handler(layer, call: Call):
        elems = math.prod(call.out)
        n = 2 if binary else len(call.ins)
        if kind == "ave":
            return 0, merge_ops(elementwise_ops(elems, n, "add"), {"mul": elems}), 0, 0
        return 0, elementwise_ops(elems, n, kind), 0, 0

    return handler


def _free(layer, call: Call):
    return 0, {}, 0, 0


def _stored(layer, call: Call):
    """No arithmetic (a table look-up), but stored weights (an embedding's table)."""
    weights, bias = _params(layer)
    return 0, {}, weights, bias


def _tf_op(layer, call: Call):
    """A Keras 2 TFOpLambda rebuilt from the allow-list: counted by the kind of its function
    (moving data, one operation per output element, a reduction, an activation); None (listed
    as uncounted) for a function loaded only with --unsafe-load."""
    from ..models.keras2_tfop import tfop_kind

    kind = tfop_kind(layer)
    elems = math.prod(call.out)
    if kind is None:
        return None
    if kind == "free":
        return 0, {}, 0, 0
    if kind in ("add", "mul", "div", "cmp"):
        return 0, elementwise_ops(elems, 2, kind), 0, 0
    if kind in ("sum", "mean", "max"):
        window = math.prod(call.inp) // max(elems, 1)
        return 0, reduce_ops(elems, window, kind), 0, 0
    if kind in UNARY_KINDS:
        return 0, unary_ops(elems, kind), 0, 0
    return 0, activation_ops(elems, kind), 0, 0


def _keras_operations() -> dict[type, Callable]:
    """Arithmetic written on symbolic tensors (``x + y``) is a graph node too."""
    try:
        from keras.src.ops import numpy as knp
    except ImportError:  # a Keras without this module: such nodes stay uncounted
        return {}
    kinds = {"Add": "add", "Subtract": "add", "Multiply": "mul", "Divide": "div",
             "TrueDivide": "div"}  # fmt: skip
    return {getattr(knp, n): _elementwise(k, binary=True) for n, k in kinds.items()
            if hasattr(knp, n)}  # fmt: skip


@functools.cache
def _table() -> dict[type, Callable]:
    from keras import layers as L

    from ..models.keras2_tfop import tfop_layer_class

    return {
        L.Conv1D: _conv, L.Conv2D: _conv,
        L.Conv1DTranspose: _conv_transpose, L.Conv2DTranspose: _conv_transpose,
        L.DepthwiseConv1D: _depthwise, L.DepthwiseConv2D: _depthwise,
        L.SeparableConv1D: _separable, L.SeparableConv2D: _separable,
        L.Dense: _dense,
        L.BatchNormalization: _batchnorm, L.LayerNormalization: _layernorm,
        L.LSTM: _recurrent, L.GRU: _recurrent, L.SimpleRNN: _recurrent, L.RNN: _recurrent,
        L.Bidirectional: _bidirectional,
        L.MultiHeadAttention: _attention,
        L.TimeDistributed: _time_distributed,
        L.MaxPooling1D: _pool("max"), L.MaxPooling2D: _pool("max"),
        L.AveragePooling1D: _pool("avg"), L.AveragePooling2D: _pool("avg"),
        L.GlobalAveragePooling1D: _global_pool("avg"), L.GlobalAveragePooling2D: _global_pool("avg"),
        L.GlobalMaxPooling1D: _global_pool("max"), L.GlobalMaxPooling2D: _global_pool("max"),
        L.ReLU: _activation_layer("relu"), L.Activation: _activation_layer(None),
        L.Softmax: _activation_layer("softmax"),
        L.Add: _elementwise("add"), L.Subtract: _elementwise("add"),
        L.Multiply: _elementwise("mul"), L.Average: _elementwise("ave"),
        L.Maximum: _elementwise("cmp"), L.Minimum: _elementwise("cmp"),
        L.UpSampling1D: _upsampling, L.UpSampling2D: _upsampling,
        L.Masking: _masking, L.Rescaling: _rescaling, L.Embedding: _stored,
        # data movement, or nothing at inference
        L.Concatenate: _free, L.Dropout: _free, L.Flatten: _free, L.Reshape: _free,
        L.InputLayer: _free, L.SpatialDropout1D: _free, L.SpatialDropout2D: _free,
        L.GaussianNoise: _free, L.GaussianDropout: _free, L.AlphaDropout: _free,
        L.Identity: _free, L.Permute: _free, L.RepeatVector: _free,
        L.ZeroPadding1D: _free, L.ZeroPadding2D: _free,
        L.Cropping1D: _free, L.Cropping2D: _free,
        **_keras_operations(),
        tfop_layer_class(): _tf_op,
    }  # fmt: skip


def _graph(model):
    """The layer graph of a model (a Functional model, or the one a built Sequential holds);
    None for a model without one (a subclassed model, an unbuilt Sequential)."""
    from keras import Sequential

    graph = getattr(model, "_functional", None) if isinstance(model, Sequential) else model
    return graph if hasattr(graph, "_nodes_by_depth") else None


def _nodes(graph) -> list:
    """The graph's calls in an order that runs it (deepest first, as Keras does), layers of one
    depth in the model's own order."""
    order = {id(op): i for i, op in enumerate(graph.operations)}
    out = []
    for depth in sorted(graph._nodes_by_depth, reverse=True):
        out += sorted(graph._nodes_by_depth[depth], key=lambda n: order.get(id(n.operation), 0))
    return out


@dataclass
class _Walk:
    ops: list
    steps: list
    sizes: dict


def _walk(graph, prefix: str, alias: dict[int, str], acc: _Walk) -> None:
    """Count every call in ``graph``, named with ``prefix``; ``alias`` names the tensors a nested
    model shares with its caller (its inputs and outputs) by the caller's ids."""
    from keras import Model

    table = _table()
    calls: Counter = Counter()

    def tid(t) -> str:
        return alias.get(id(t)) or f"{prefix}{id(t)}"

    for node in _nodes(graph):
        layer = node.operation
        if node.is_input and prefix:
            continue  # a nested model's input is its caller's tensor
        seen = calls[id(layer)]
        calls[id(layer)] += 1
        name = f"{prefix}{layer.name}" + (f"#{seen + 1}" if seen else "")
        ins = [] if node.is_input else list(node.input_tensors)
        outs = list(node.output_tensors)
        inner = _graph(layer) if isinstance(layer, Model) else None
        if inner is not None:
            sub = {id(a): tid(b) for a, b in zip(inner.inputs, ins, strict=False)}
            sub.update({id(a): tid(b) for a, b in zip(inner.outputs, outs, strict=False)})
            _walk(inner, f"{name}/", sub, acc)
            continue
        in_shapes = tuple(_shape(t) for t in ins)
        out_shapes = tuple(_shape(t) for t in outs)
        known = all(None not in s for s in in_shapes + out_shapes)
        in_bytes = sum(math.prod(s) * FP32 for s in in_shapes) if known else 0
        out_bytes = sum(math.prod(s) * FP32 for s in out_shapes) if known else 0
        if node.is_input:  # the window arrives in memory; its reads are counted by the first layer
            out_bytes = 0
        handler = table.get(type(layer))
        # data movement needs no shapes: an unknown dimension leaves only its bytes unknown
        usable = handler is not None and (known or handler is _free)
        got = handler(layer, Call(in_shapes, out_shapes, node)) if usable else None
        out_shape = tuple(d or 0 for d in out_shapes[0]) if out_shapes else ()
        if got is None:
            why = "has dimensions unknown at batch 1" if handler and not known else "is not counted"
            warnings.warn(f"layer {name} ({type(layer).__name__}) {why}", stacklevel=3)
            acc.ops.append(OpCount(name, type(layer).__name__, counted=False,
                                   input_bytes=in_bytes, output_bytes=out_bytes,
                                   output_shape=out_shape))  # fmt: skip
        else:
            macs, other, weights, bias = got
            acc.ops.append(OpCount(name, type(layer).__name__, int(macs), other, "fp32", 0,
                                   weights * FP32, bias * FP32, in_bytes, out_bytes, out_shape))  # fmt: skip
        for t, s in zip(outs, out_shapes, strict=True):
            acc.sizes[tid(t)] = math.prod(s) * FP32 if None not in s else 0
        acc.steps.append(([tid(t) for t in ins], [tid(t) for t in outs]))


def count_keras(model) -> ModelCounts:
    """Per-call counts of a Keras model (float32), with the peak activation memory.

    A layer class without a handler (or one its handler has no formula for, e.g. a custom
    recurrent cell) is listed as uncounted with a warning, never as zero work.
    """
    graph = _graph(model)
    if graph is None:
        raise ModelError(
            f"{model.name}: no layer graph to count (a subclassed or unbuilt model); "
            "build it as a Functional or Sequential model with a known input shape"
        )
    acc = _Walk([], [], {})
    _walk(graph, "", {}, acc)
    return ModelCounts("keras", tuple(acc.ops), peak_live_bytes(acc.steps, acc.sizes))


def total_macs(model) -> int:
    return count_keras(model).macs
