"""Recurrent models through LiteRT: unrolled before conversion, the same MACs and outputs."""

from __future__ import annotations

import numpy as np


def test_a_cnn_lstm_converts_to_int8_with_the_keras_macs():
    import keras

    from ecg_energy.models.quantize import convert, unrolled
    from ecg_energy.models.runners import LiteRTRunner
    from ecg_energy.ops.keras_ops import count_keras
    from ecg_energy.ops.tflite_ops import count_tflite

    keras.utils.set_random_seed(0)
    inp = keras.Input((1000, 1))
    x = keras.layers.Conv1D(8, 10, strides=10, activation="relu")(inp)
    x = keras.layers.LSTM(16)(x)
    model = keras.Model(inp, keras.layers.Dense(5)(x))
    # conv 100 positions × 10 taps × 1 × 8 = 8,000; LSTM 100 steps × 4 gates × 16 units ×
    # (8 + 16) = 153,600; dense 16 × 5 = 80
    hand = 8_000 + 153_600 + 80
    assert count_keras(model).macs == hand
    flat = unrolled(model)
    assert flat is not model and flat.layers[2].unroll and not model.layers[2].unroll
    x = np.random.default_rng(0).normal(size=(64, 1000, 1)).astype("float32")
    fp32 = convert(model, "fp32")
    int8 = count_tflite(convert(model, "int8", x))
    assert count_tflite(fp32).macs == hand
    assert int8.macs == hand and int8.macs_by_precision() == {"int8": hand}
    runner = LiteRTRunner(fp32)
    runner.prepare(4)
    assert np.allclose(runner(x[:4]), np.asarray(model(x[:4])), atol=1e-4)


def test_a_model_without_recurrent_layers_is_not_rebuilt():
    import keras

    from ecg_energy.models.quantize import unrolled

    model = keras.Sequential([keras.Input((10, 1)), keras.layers.Conv1D(2, 3)])
    assert unrolled(model) is model
