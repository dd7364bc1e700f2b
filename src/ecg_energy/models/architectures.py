"""Model architectures in a registry, sized from the input length.

- ``original``: a 1-D CNN at the scale of the evaluated report's Original CNN (23 M FLOPs): about
  10.5 M multiply-accumulates (21 MFLOPs at 2 FLOPs per MAC) for a 1000-sample window.
- ``student``: a microcontroller-class network (strided first convolution, depthwise-separable
  convolutions, widths 8-24): 52,720 MACs for a 1000-sample window (105 kFLOPs at 2 per MAC,
  119 kFLOPs by TensorFlow's profiler), 198× fewer. Its size is parametrised (width multiplier,
  number of separable blocks, first-layer stride and kernel) so that sweeps can search it; the
  defaults are that network exactly.

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


def build(name: str, input_len: int, n_classes: int, seed: int = 0, **params):
    """A fresh, uncompiled Keras model ``name`` for inputs (input_len, 1); ``params`` go to the
    architecture (e.g. ``width=0.5, depth=2`` for the student)."""
    import keras

    if name not in ARCHITECTURES:
        raise KeyError(f"unknown architecture {name!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    keras.utils.set_random_seed(seed)
    _fresh_names()
    return ARCHITECTURES[name](input_len, n_classes, **params)


def _fresh_names() -> None:
    """Layer names counted from zero for each model (conv1d, conv1d_1, ...), not from however
    many layers this process made before: a model rebuilt in a resumed run is the same file."""
    try:
        from keras.src.utils.naming import reset_uids
    except ImportError:  # pragma: no cover (another Keras layout: names as Keras gives them)
        return
    reset_uids()


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


# the student's filters at width 1: the first convolution, then the pointwise convolution of each
# depthwise-separable block (the default network uses the first three blocks)
STUDENT_FIRST_FILTERS = 8
STUDENT_BLOCK_FILTERS = (12, 16, 24, 32, 48, 64)
STUDENT_DEPTHWISE_KERNEL = 7  # taps of every depthwise convolution (~0.9 s receptive field)


def scaled(filters: int, width: float) -> int:
    """``filters`` × ``width``, rounded half up, at least 1: scaled(8, 0.5) = 4, scaled(12, 1.25)
    = 15, scaled(12, 0.625) = 8 (7.5 rounds up)."""
    return max(1, int(filters * width + 0.5))


def student_filters(width: float = 1.0, depth: int = 3) -> tuple[int, ...]:
    """The student's filters: (first convolution, block 1, ..., block ``depth``).

    >>> student_filters(), student_filters(0.5, 2)
    ((8, 12, 16, 24), (4, 6, 8))"""
    if not width > 0:
        raise ValueError(f"student width must be positive, not {width!r}")
    if not 1 <= depth <= len(STUDENT_BLOCK_FILTERS):
        raise ValueError(f"student depth must be 1 to {len(STUDENT_BLOCK_FILTERS)} separable "
                         f"blocks, not {depth!r}")  # fmt: skip
    return tuple(scaled(f, width) for f in (STUDENT_FIRST_FILTERS, *STUDENT_BLOCK_FILTERS[:depth]))


@register_architecture("student")
def student(input_len: int, n_classes: int, width: float = 1.0, depth: int = 3, stride: int = 5,
            kernel: int = 7):  # fmt: skip
    """Strided conv (8 filters of 7 taps, stride 5), three depthwise-separable stride-2 blocks with 7-tap
    depthwise kernels (receptive field ~0.9 s at 250 Hz), global average pooling, dense.

    ``width`` scales every layer's filters (``student_filters``), ``depth`` is the number of
    separable blocks (1-6; widths 12, 16, 24, 32, 48, 64 at width 1), ``stride`` and ``kernel``
    are the first convolution's. The defaults give the network above (1,489 parameters, 52,720
    MACs for a 1000-sample window)."""
    import keras
    from keras import layers

    if stride < 1 or kernel < 1:
        raise ValueError(f"student stride and kernel must be at least 1, not {stride}, {kernel}")
    first, *blocks = student_filters(width, depth)
    inputs = keras.Input((input_len, 1), name="ecg")
    x = layers.Conv1D(first, kernel, strides=stride, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.ReLU()(x)
    for filters in blocks:
        x = layers.DepthwiseConv1D(STUDENT_DEPTHWISE_KERNEL, strides=2, padding="same",
                                   use_bias=False)(x)  # fmt: skip
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.ReLU()(x)
        x = layers.Conv1D(filters, 1, use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(n_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="student")
