"""Counting a Keras model: walk its layers, one pure handler per layer class (a dispatch table
keyed by the classes themselves, not by name matching). Batch 1, float32 (4-byte) tensors."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

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
    merge_ops,
    peak_live_bytes,
    pool_ops,
)

FP32 = 4  # bytes


def _shape(t) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape[1:])


def _inputs(layer) -> list:
    x = layer.input
    return list(x) if isinstance(x, list | tuple) else [x]


def _act(layer, elems: int) -> dict[str, int]:
    """The layer's own fused activation (e.g. Dense(..., activation="relu"))."""
    fn = getattr(layer, "activation", None)
    name = getattr(fn, "__name__", "linear") if fn is not None else "linear"
    try:
        return activation_ops(elems, name)
    except KeyError:
        return {"exp": elems}  # an activation function we have no formula for: priced as one exp


def _conv(layer):
    out = _shape(layer.output)
    in_ch = _shape(layer.input)[-1]
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


def _depthwise(layer):
    out = _shape(layer.output)
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


def _separable(layer):
    out = _shape(layer.output)
    in_ch = _shape(layer.input)[-1]
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


def _dense(layer):
    in_shape = _shape(layer.input)
    rows = math.prod(in_shape[:-1]) if len(in_shape) > 1 else 1
    bias = layer.units if layer.use_bias else 0
    elems = rows * layer.units
    return (
        dense_macs(in_shape[-1], layer.units, rows),
        merge_ops({"add": elems if bias else 0}, _act(layer, elems)),
        in_shape[-1] * layer.units,
        bias,
    )


def _batchnorm(layer):
    elems = math.prod(_shape(layer.output))
    ch = _shape(layer.output)[-1]
    return 0, batchnorm_ops(elems), 2 * ch, 0  # folded scale and shift per channel


def _pool(kind: str):
    def handler(layer):
        out = _shape(layer.output)
        return 0, pool_ops(math.prod(out), math.prod(layer.pool_size), kind), 0, 0

    return handler


def _global_pool(kind: str):
    def handler(layer):
        inp = _shape(layer.input)
        return 0, global_pool_ops(math.prod(inp[:-1]), inp[-1], kind), 0, 0

    return handler


def _activation_layer(name: str | None):
    def handler(layer):
        elems = math.prod(_shape(layer.output))
        kind = name or getattr(layer.activation, "__name__", "linear")
        try:
            return 0, activation_ops(elems, kind), 0, 0
        except KeyError:
            return 0, {"exp": elems}, 0, 0

    return handler


def _elementwise(kind: str):
    def handler(layer):
        elems = math.prod(_shape(layer.output))
        return 0, elementwise_ops(elems, len(_inputs(layer)), kind), 0, 0

    return handler


def _free(layer):
    return 0, {}, 0, 0


def _table() -> dict[type, Callable]:
    from keras import layers as L

    return {
        L.Conv1D: _conv, L.Conv2D: _conv,
        L.DepthwiseConv1D: _depthwise, L.DepthwiseConv2D: _depthwise,
        L.SeparableConv1D: _separable, L.SeparableConv2D: _separable,
        L.Dense: _dense,
        L.BatchNormalization: _batchnorm,
        L.MaxPooling1D: _pool("max"), L.MaxPooling2D: _pool("max"),
        L.AveragePooling1D: _pool("avg"), L.AveragePooling2D: _pool("avg"),
        L.GlobalAveragePooling1D: _global_pool("avg"), L.GlobalAveragePooling2D: _global_pool("avg"),
        L.GlobalMaxPooling1D: _global_pool("max"), L.GlobalMaxPooling2D: _global_pool("max"),
        L.ReLU: _activation_layer("relu"), L.Activation: _activation_layer(None),
        L.Softmax: _activation_layer("softmax"),
        L.Add: _elementwise("add"), L.Multiply: _elementwise("mul"),
        L.Concatenate: _free, L.Dropout: _free, L.Flatten: _free, L.Reshape: _free,
        L.InputLayer: _free, L.SpatialDropout1D: _free, L.GaussianNoise: _free,
    }  # fmt: skip


def count_keras(model) -> ModelCounts:
    """Per-layer counts of a Keras model (float32), with the peak activation memory.

    A layer class without a handler is listed as uncounted with a warning, never as zero work.
    """
    table = _table()
    ops, steps, sizes = [], [], {}
    for layer in model.layers:
        handler = table.get(type(layer))
        out_shape = _shape(layer.output)
        out_bytes = math.prod(out_shape) * FP32
        is_input = type(layer).__name__ == "InputLayer"
        ins = [] if is_input else _inputs(layer)
        in_bytes = sum(math.prod(_shape(t)) * FP32 for t in ins)
        if is_input:  # the window arrives in memory; its reads are counted by the first layer
            out_bytes = 0
        if handler is None:
            warnings.warn(
                f"layer {layer.name} ({type(layer).__name__}) is not counted", stacklevel=2
            )
            ops.append(OpCount(layer.name, type(layer).__name__, counted=False,
                               input_bytes=in_bytes, output_bytes=out_bytes,
                               output_shape=out_shape))  # fmt: skip
        else:
            macs, other, weights, bias = handler(layer)
            ops.append(OpCount(layer.name, type(layer).__name__, int(macs), other, "fp32", 0,
                               weights * FP32, bias * FP32, in_bytes, out_bytes, out_shape))  # fmt: skip
        out_id = str(id(layer.output))
        sizes[out_id] = math.prod(out_shape) * FP32
        steps.append(([str(id(t)) for t in ins], [out_id]))
    return ModelCounts("keras", tuple(ops), peak_live_bytes(steps, sizes))


def total_macs(model) -> int:
    return count_keras(model).macs
