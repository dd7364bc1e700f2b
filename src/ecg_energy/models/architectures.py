"""Model architectures in a registry, sized from the input length.

- ``original``: a 1-D CNN at the scale of the evaluated report's Original CNN (23 M FLOPs): about
  10.5 M multiply-accumulates (21 MFLOPs at 2 FLOPs per MAC) for a 1000-sample window.
- ``student``: a microcontroller-class network (strided first convolution, depthwise-separable
  convolutions, widths 8-24): 52,720 MACs for a 1000-sample window (105 kFLOPs at 2 per MAC,
  119 kFLOPs by TensorFlow's profiler), 198× fewer.

Both output logits (no softmax): distillation needs them, and argmax is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

ARCHITECTURES: dict[str, Callable[..., object]] = {}

# Keras' default 0.99 needs hundreds of steps for the moving statistics to settle; with ~30 steps
# an epoch the validation loss then lags the training loss by many epochs and early stopping
# picks a bad epoch.
BN_MOMENTUM = 0.9


def register_architecture(name: str):
    def deco(fn):
        ARCHITECTURES[name] = fn
        return fn

    return deco


def build(name: str, input_len: int, n_classes: int, seed: int = 0):
    """A fresh, uncompiled Keras model ``name`` for inputs (input_len, 1)."""
    import keras

    if name not in ARCHITECTURES:
        raise KeyError(f"unknown architecture {name!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    keras.utils.set_random_seed(seed)
    return ARCHITECTURES[name](input_len, n_classes)


def _conv_block(x, filters: int, kernel: int, pool: bool):
    from keras import layers

    x = layers.Conv1D(filters, kernel, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.ReLU()(x)
    return layers.MaxPooling1D(2)(x) if pool else x


@register_architecture("original")
def original(input_len: int, n_classes: int):
    """Five conv blocks (32-32-64-64-128 filters), global average pooling, two dense layers."""
    import keras
    from keras import layers

    inputs = keras.Input((input_len, 1), name="ecg")
    x = inputs
    for filters, kernel in ((32, 7), (32, 7), (64, 5), (64, 5)):
        x = _conv_block(x, filters, kernel, pool=True)
    x = _conv_block(x, 128, 3, pool=False)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(n_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="original")


@register_architecture("student")
def student(input_len: int, n_classes: int):
    """Strided conv (8 filters of 7 taps, stride 5), three depthwise-separable stride-2 blocks with 7-tap
    depthwise kernels (receptive field ~0.9 s at 250 Hz), global average pooling, dense."""
    import keras
    from keras import layers

    inputs = keras.Input((input_len, 1), name="ecg")
    x = layers.Conv1D(8, 7, strides=5, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.ReLU()(x)
    for filters in (12, 16, 24):
        x = layers.DepthwiseConv1D(7, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.ReLU()(x)
        x = layers.Conv1D(filters, 1, use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(n_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="student")
