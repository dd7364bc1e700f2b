"""Keras 2's ``TFOpLambda`` layers (a TensorFlow function applied to a Keras tensor:
``tf.expand_dims(x, -1)``, ``tf.concat([a, b], -1)``, ``x + y``...) rebuilt safely in Keras 3.

The file names the function (``"expand_dims"``, ``"math.reduce_mean"``); only the pure tensor
functions of :data:`ALLOWED` are rebuilt, each as a fixed ``keras.ops`` call chosen here, never
looked up from the file's text. Any other function stays refused, naming it and ``--unsafe-load``
(which does not load it either: Keras 3 has no TFOpLambda).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

TFOP_CLASS = "ecg_energy>TFOpLambda"


def _ops():
    from keras import ops

    return ops


def _binary(name: str) -> Callable:
    return lambda x, y=None, **_: getattr(_ops(), name)(x, y)


def _reduce(name: str) -> Callable:
    def fn(input_tensor, axis=None, keepdims=False, **_):
        return getattr(_ops(), name)(input_tensor, axis=axis, keepdims=bool(keepdims))

    return fn


def _unary(name: str) -> Callable:
    return lambda x, **_: getattr(_ops(), name)(x)


def _softmax(logits, axis=None, **_):
    return _ops().softmax(logits, axis=-1 if axis is None else axis)


# TensorFlow function (as Keras 2 named it) -> (the keras.ops call, how it is counted: "free"
# moves data only; "add"/"mul"/"div"/"cmp" one operation per output element; "sum"/"mean"/"max"
# a reduction; "relu"/"sigmoid"/"tanh"/"softmax" an activation; "exp"/"abs"/"square"/"sqrt" one
# unary operation per element)
ALLOWED: dict[str, tuple[Callable, str]] = {
    "expand_dims": (lambda input, axis, **_: _ops().expand_dims(input, axis), "free"),
    "squeeze": (lambda input, axis=None, **_: _ops().squeeze(input, axis=axis), "free"),
    "reshape": (lambda tensor, shape, **_: _ops().reshape(tensor, shape), "free"),
    "transpose": (lambda a, perm=None, **_: _ops().transpose(a, perm), "free"),
    "concat": (lambda values, axis, **_: _ops().concatenate(list(values), axis=axis), "free"),
    "stack": (lambda values, axis=0, **_: _ops().stack(list(values), axis=axis), "free"),
    "__operators__.add": (_binary("add"), "add"),
    "math.add": (_binary("add"), "add"),
    "math.subtract": (_binary("subtract"), "add"),
    "math.multiply": (_binary("multiply"), "mul"),
    "math.truediv": (_binary("true_divide"), "div"),
    "math.divide": (_binary("divide"), "div"),
    "math.maximum": (_binary("maximum"), "cmp"),
    "math.minimum": (_binary("minimum"), "cmp"),
    "math.reduce_mean": (_reduce("mean"), "mean"),
    "reduce_mean": (_reduce("mean"), "mean"),
    "math.reduce_sum": (_reduce("sum"), "sum"),
    "reduce_sum": (_reduce("sum"), "sum"),
    "math.reduce_max": (_reduce("max"), "max"),
    "reduce_max": (_reduce("max"), "max"),
    "nn.relu": (lambda features, **_: _ops().relu(features), "relu"),
    "nn.softmax": (_softmax, "softmax"),
    "math.softmax": (_softmax, "softmax"),
    "math.sigmoid": (_unary("sigmoid"), "sigmoid"),
    "nn.sigmoid": (_unary("sigmoid"), "sigmoid"),
    "math.tanh": (_unary("tanh"), "tanh"),
    "nn.tanh": (_unary("tanh"), "tanh"),
    "math.abs": (_unary("abs"), "abs"),
    "math.square": (_unary("square"), "square"),
    "math.sqrt": (_unary("sqrt"), "sqrt"),
    "math.exp": (_unary("exp"), "exp"),
}
# set while a model the user trusts (--unsafe-load) is rebuilt: any TensorFlow function then
_UNSAFE: ContextVar[bool] = ContextVar("tfop_unsafe", default=False)


@contextmanager
def trusted(unsafe: bool):
    """Within it, a TFOpLambda outside :data:`ALLOWED` resolves its TensorFlow function by name
    (only when ``unsafe``: the user passed --unsafe-load)."""
    token = _UNSAFE.set(bool(unsafe))
    try:
        yield
    finally:
        _UNSAFE.reset(token)


def _tensorflow_function(name: str) -> Callable:
    import tensorflow as tf

    fn = tf
    for part in name.split("."):
        fn = getattr(fn, part)
    if not callable(fn):
        raise ValueError(f"tf.{name} is not a function")
    return fn


def tfop_layer_class():
    """The Keras 3 layer an allowed TFOpLambda becomes (registered once, by name)."""
    import keras

    known = keras.saving.get_registered_object(TFOP_CLASS)
    if known is not None:
        return known
    package, name = TFOP_CLASS.split(">")

    @keras.saving.register_keras_serializable(package=package, name=name)
    class TFOpLambda(keras.layers.Layer):
        """One pure tensor function of :data:`ALLOWED`, by its TensorFlow name."""

        def __init__(self, function: str, **kwargs):
            if function in ALLOWED:
                fn = ALLOWED[function][0]
            elif _UNSAFE.get():
                fn = _tensorflow_function(function)
            else:
                raise ValueError(f"the TensorFlow function tf.{function} is not allowed")
            super().__init__(**kwargs)
            self.function = function
            self._fn = fn

        def call(self, inputs, **kwargs):
            if self.function in ALLOWED:
                kwargs.pop("name", None)  # TensorFlow's op name, not an argument of the op
            return self._fn(inputs, **kwargs)

        def get_config(self):
            return {**super().get_config(), "function": self.function}

    return TFOpLambda


def tfop_kind(layer) -> str | None:
    """How an allowed TFOpLambda layer is counted (see :data:`ALLOWED`); None for other layers."""
    entry = ALLOWED.get(getattr(layer, "function", None) or "")
    return entry[1] if entry is not None else None
