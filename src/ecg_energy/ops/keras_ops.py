"""Counting a Keras model by walking its layers with a dispatch table (no class-name matching)."""

from __future__ import annotations

import math
from collections.abc import Callable

from .counts import OpCount, conv1d_macs, dense_macs, depthwise_conv1d_macs

_HANDLERS: dict[str, Callable] = {}  # Keras layer class name -> MACs handler


def _handler(layer_type_name: str):
    def deco(fn):
        _HANDLERS[layer_type_name] = fn
        return fn

    return deco


def _shape(t) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape[1:])


@_handler("Conv1D")
def _conv1d(layer) -> int:
    out_len, out_ch = _shape(layer.output)
    in_ch = _shape(layer.input)[-1]
    return conv1d_macs(out_len, layer.kernel_size[0], in_ch, out_ch, layer.groups)


@_handler("DepthwiseConv1D")
def _dw1d(layer) -> int:
    out_len, out_ch = _shape(layer.output)
    in_ch = _shape(layer.input)[-1]
    return depthwise_conv1d_macs(out_len, layer.kernel_size[0], in_ch, out_ch // in_ch)


@_handler("Dense")
def _dense(layer) -> int:
    in_shape = _shape(layer.input)
    rows = math.prod(in_shape[:-1]) if len(in_shape) > 1 else 1
    return dense_macs(in_shape[-1], layer.units, rows)


def _handlers_by_type() -> dict[type, Callable]:
    """Map real Keras classes (resolved once, by identity) to their handlers."""
    from keras import layers

    return {getattr(layers, name): fn for name, fn in _HANDLERS.items()}


def count_keras(model) -> list[OpCount]:
    """MACs of every layer that multiplies (others count 0 MACs here)."""
    table = _handlers_by_type()
    out = []
    for layer in model.layers:
        fn = table.get(type(layer))
        macs = fn(layer) if fn else 0
        out.append(OpCount(layer.name, type(layer).__name__, int(macs), int(layer.count_params()),
                           _shape(layer.output)))  # fmt: skip
    return out


def total_macs(model) -> int:
    return sum(c.macs for c in count_keras(model))
