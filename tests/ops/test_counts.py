"""Operation counts against hand counts, and Keras vs LiteRT agreement."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_energy.ops.counts import conv1d_macs, peak_live_bytes
from ecg_energy.ops.keras_ops import count_keras
from ecg_energy.ops.tflite_ops import count_tflite


def _model(*layers, shape=(1000, 1)):
    import keras

    inp = keras.Input(shape)
    x = inp
    for layer in layers:
        x = layer(x)
    return keras.Model(inp, x)


def _op(model, index=1):
    return count_keras(model).ops[index]


def test_conv1d_same_padding_by_hand():
    from keras import layers

    op = _op(_model(layers.Conv1D(32, 7, padding="same", use_bias=False)))
    assert op.macs == conv1d_macs(1000, 7, 1, 32) == 224_000
    assert op.weight_bytes == 7 * 32 * 4 and op.bias_bytes == 0
    assert op.input_bytes == 4000 and op.output_bytes == 1000 * 32 * 4


def test_conv1d_valid_stride_bias_relu():
    from keras import layers

    # valid, stride 2: (1000 - 5) // 2 + 1 = 498 outputs × 8 channels
    op = _op(_model(layers.Conv1D(8, 5, strides=2, activation="relu")))
    assert op.macs == 498 * 5 * 1 * 8 == 19_920
    assert op.other == {"add": 498 * 8, "cmp": 498 * 8}  # bias add and ReLU per output
    assert op.bias_bytes == 8 * 4


def test_depthwise_separable_dense_by_hand():
    from keras import layers

    m = _model(layers.Conv1D(4, 1), layers.DepthwiseConv1D(3, padding="same"),
               layers.SeparableConv1D(6, 3, padding="same"), layers.GlobalAveragePooling1D(),
               layers.Dense(5))  # fmt: skip
    ops = count_keras(m).ops
    assert ops[2].macs == 1000 * 3 * 4  # depthwise: positions × kernel × channels
    assert ops[3].macs == 1000 * 3 * 4 + 1000 * 4 * 6  # depthwise + pointwise
    assert ops[4].other == {"add": 6 * 999, "mul": 6}  # global average: 999 adds + 1 scale
    assert ops[5].macs == 6 * 5 and ops[5].other == {"add": 5}


def test_batchnorm_pool_add_concat_dropout():
    import keras
    from keras import layers

    inp = keras.Input((100, 4))
    bn = layers.BatchNormalization()(inp)
    mp = layers.MaxPooling1D(4)(bn)  # 25 outputs × 4 channels, 3 comparisons each
    ap = layers.AveragePooling1D(2)(bn)  # 50 × 4, 1 add and 1 scale each
    added = layers.Add()([layers.Dropout(0.5)(mp), mp])
    cat = layers.Concatenate()([added, mp])
    ops = {o.op: o for o in count_keras(keras.Model(inp, [cat, ap])).ops}
    assert ops["BatchNormalization"].other == {"mul": 400, "add": 400}
    assert ops["MaxPooling1D"].other == {"cmp": 25 * 4 * 3}
    assert ops["AveragePooling1D"].other == {"add": 50 * 4, "mul": 50 * 4}
    assert ops["Add"].other == {"add": 100}
    assert ops["Concatenate"].other == {} and ops["Dropout"].other == {}
    assert all(o.macs == 0 for o in ops.values())


def test_unknown_layer_is_listed_not_zero():
    import keras
    from keras import layers

    cumsum = layers.Lambda(lambda t: keras.ops.cumsum(t, axis=1))  # no formula for a Lambda
    with pytest.warns(UserWarning, match="not counted"):
        counts = count_keras(_model(cumsum, layers.Dense(2)))
    assert counts.uncounted == [f"{counts.ops[1].name} (Lambda)"]
    assert counts.totals()["uncounted"] == counts.uncounted


def test_peak_live_bytes_by_hand():
    # x(10) -> a(20) -> b(5), and a is read again by c with b: a, b and c (7) live together
    steps = [(["x"], ["a"]), (["a"], ["b"]), (["a", "b"], ["c"])]
    assert peak_live_bytes(steps, {"x": 10, "a": 20, "b": 5, "c": 7}) == 32


@pytest.fixture(scope="module")
def small_pair():
    """A small CNN and its full-integer INT8 LiteRT version."""
    from keras import layers

    from ecg_energy.models.quantize import convert

    m = _model(layers.Conv1D(8, 7, strides=2, padding="same"), layers.BatchNormalization(),
               layers.ReLU(), layers.MaxPooling1D(2), layers.DepthwiseConv1D(5, padding="same"),
               layers.Conv1D(12, 1), layers.GlobalAveragePooling1D(), layers.Dense(5),
               shape=(200, 1))  # fmt: skip
    rep = np.random.default_rng(0).standard_normal((16, 200, 1)).astype(np.float32)
    return m, convert(m, "int8", rep), convert(m, "fp32")


def test_keras_and_int8_litert_give_the_same_macs(small_pair):
    m, int8, _ = small_pair
    k, t = count_keras(m), count_tflite(int8)
    # 100·7·8 + 50·5·8 + 50·8·12 + 12·5 = 5,600 + 2,000 + 4,800 + 60
    assert k.macs == t.macs == 12_460
    assert t.macs_by_precision() == {"int8": 12_460} and k.macs_by_precision() == {"fp32": 12_460}
    assert t.uncounted == []
    # every int8 conv/dense output is requantized: 100·8 + 50·8 + 50·12 + 5 (+ the mean's 12)
    assert t.requant == 800 + 400 + 600 + 5 + 12
    assert t.weight_bytes < k.weight_bytes  # int8 weights, int32 biases, BN folded away


def test_float_litert_counts_like_keras(small_pair):
    m, _, fp32 = small_pair
    t = count_tflite(fp32)
    assert t.macs == count_keras(m).macs and t.macs_by_precision() == {"fp32": 12_460}


def test_unknown_litert_operator_is_listed(tmp_path):
    import keras
    from keras import layers

    from ecg_energy.models.quantize import convert

    # a cumulative sum lowers to CUMSUM, an operator this counter has no formula for
    cumsum = layers.Lambda(lambda t: keras.ops.cumsum(t, axis=1))
    content = convert(_model(cumsum, layers.Dense(2), shape=(16, 4)), "fp32")
    with pytest.warns(UserWarning, match="is not counted"):
        counts = count_tflite(content)
    assert counts.uncounted and all("(" in u for u in counts.uncounted)
    assert counts.macs == 16 * 4 * 2  # the dense layer is still counted
