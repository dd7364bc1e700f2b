"""A Keras 2.15 ``.keras`` archive written by hand, as Keras 2.15 writes one: ``keras.src.engine``
module paths, Keras 2 settings, and weights under ``_layer_checkpoint_dependencies``, where every
layer with weights takes two names (so the second Conv1D lands at ``conv1d_2``). The model is the
shape of a published ECG CNN + LSTM: Conv1D x2 with an L2 regulariser, BatchNormalization x2,
MaxPooling1D x2, Dropout x3, an LSTM and a softmax Dense."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from ecg_energy.models.io import load_keras
from ecg_energy.models.keras2_weights import layer_paths
from ecg_energy.ops.files import count_file

SEQ, STEPS_IN = "keras.src.engine.sequential", 60
L2 = {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.0010000000474974513},
      "registered_name": None}  # fmt: skip
GLOROT = {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None},
          "registered_name": None}  # fmt: skip
ZEROS = {
    "module": "keras.initializers",
    "class_name": "Zeros",
    "config": {},
    "registered_name": None,
}


def _obj(cls: str, module: str = "keras.layers", **config) -> dict:
    return {"module": module, "class_name": cls,
            "config": {"trainable": True, "dtype": "float32", **config}, "registered_name": None}  # fmt: skip


def _conv(name: str, filters: int, kernel: int) -> dict:
    return _obj("Conv1D", name=name, filters=filters, kernel_size=[kernel], strides=[1],
                padding="valid", data_format="channels_last", dilation_rate=[1], groups=1,
                activation="relu", use_bias=True, kernel_initializer=GLOROT,
                bias_initializer=ZEROS, kernel_regularizer=L2, bias_regularizer=None,
                activity_regularizer=None, kernel_constraint=None, bias_constraint=None)  # fmt: skip


def _bn(name: str) -> dict:
    return _obj("BatchNormalization", name=name, axis=[2], momentum=0.99, epsilon=0.001,
                center=True, scale=True, beta_initializer=ZEROS,
                gamma_initializer={**ZEROS, "class_name": "Ones"},
                moving_mean_initializer=ZEROS,
                moving_variance_initializer={**ZEROS, "class_name": "Ones"},
                beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                gamma_constraint=None)  # fmt: skip


def _pool(name: str) -> dict:
    return _obj("MaxPooling1D", name=name, strides=[2], pool_size=[2], padding="valid",
                data_format="channels_last")  # fmt: skip


def _drop(name: str, rate: float) -> dict:
    return _obj("Dropout", name=name, rate=rate, noise_shape=None, seed=None)


def keras215_config(steps: int = STEPS_IN, f1: int = 4, f2: int = 4, units: int = 3,
                    classes: int = 5) -> dict:  # fmt: skip
    lstm = _obj("LSTM", name="lstm", return_sequences=False, return_state=False,
                go_backwards=False, stateful=False, unroll=False, time_major=False, units=units,
                activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                kernel_initializer=GLOROT, recurrent_initializer=GLOROT,
                bias_initializer=ZEROS, unit_forget_bias=True, kernel_regularizer=None,
                recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                dropout=0.0, recurrent_dropout=0.0, implementation=2)  # fmt: skip
    dense = _obj("Dense", name="dense", units=classes, activation="softmax", use_bias=True,
                 kernel_initializer=GLOROT, bias_initializer=ZEROS, kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None)  # fmt: skip
    inp = {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
           "config": {"batch_input_shape": [None, steps, 1], "dtype": "float32",
                      "sparse": False, "ragged": False, "name": "conv1d_input"}}  # fmt: skip
    layers = [inp, _conv("conv1d", f1, 5), _bn("batch_normalization"), _pool("max_pooling1d"),
              _drop("dropout", 0.2), _conv("conv1d_1", f2, 3), _bn("batch_normalization_1"),
              _pool("max_pooling1d_1"), _drop("dropout_1", 0.2), lstm, _drop("dropout_2", 0.3),
              dense]  # fmt: skip
    return {"module": SEQ, "class_name": "Sequential", "registered_name": None,
            "config": {"name": "sequential", "layers": layers},
            "build_config": {"input_shape": [None, steps, 1]},
            "compile_config": {"optimizer": "adam", "loss": "categorical_crossentropy"}}  # fmt: skip


def known_weights() -> dict[str, list[np.ndarray]]:
    """Small weights anyone can write down: a ramp scaled to stay in tanh's useful range."""

    def ramp(shape, scale):
        n = int(np.prod(shape))
        return (np.linspace(-1.0, 1.0, n) * scale).reshape(shape).astype(np.float32)

    return {
        "conv1d": [ramp((5, 1, 4), 0.5), ramp((4,), 0.1)],
        "batch_normalization": [
            ramp((4,), 0.2) + 1,
            ramp((4,), 0.1),
            ramp((4,), 0.3),
            ramp((4,), 0.2) + 1.2,
        ],  # fmt: skip
        "conv1d_1": [ramp((3, 4, 4), 0.3), ramp((4,), 0.05)],
        "batch_normalization_1": [
            ramp((4,), 0.1) + 0.9,
            ramp((4,), 0.05),
            ramp((4,), 0.2),
            ramp((4,), 0.1) + 0.8,
        ],  # fmt: skip
        "lstm": [ramp((4, 12), 0.4), ramp((3, 12), 0.3), ramp((12,), 0.1)],
        "dense": [ramp((3, 5), 0.7), ramp((5,), 0.2)],
    }


def keras215_weights_h5(weights: dict[str, list[np.ndarray]], twice: bool = True) -> bytes:
    """``model.weights.h5`` as Keras 2.15 writes it for this Sequential: its layers (without the
    InputLayer) under ``_layer_checkpoint_dependencies``, one name per entry of a dict that holds
    each layer with weights twice; the LSTM's weights on its cell."""
    import h5py

    order = [("Conv1D", "conv1d"), ("BatchNormalization", "batch_normalization"),
             ("MaxPooling1D", None), ("Dropout", None), ("Conv1D", "conv1d_1"),
             ("BatchNormalization", "batch_normalization_1"), ("MaxPooling1D", None),
             ("Dropout", None), ("LSTM", "lstm"), ("Dropout", None), ("Dense", "dense")]  # fmt: skip
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_group("vars")
        names = layer_paths([(cls, key is not None) for cls, key in order])
        if not twice:  # each layer named once, as Keras 3 names them
            names = [(n3, n3) for _, n3 in names]
        for (cls, key), (name2, _) in zip(order, names):
            group = f.create_group(f"_layer_checkpoint_dependencies/{name2}")
            target = group.create_group("cell") if cls == "LSTM" else group
            if cls == "LSTM":
                group.create_group("vars")
            vars_ = target.create_group("vars")
            for i, w in enumerate(weights.get(key, []) if key else []):
                vars_[str(i)] = w
        f.create_group("optimizer/vars")
    return buf.getvalue()


def write_keras215(path, weights, twice: bool = True) -> None:
    meta = {"keras_version": "2.15.0", "date_saved": "2024-02-01@10:00:00"}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps(meta))
        zf.writestr("config.json", json.dumps(keras215_config()))
        zf.writestr("model.weights.h5", keras215_weights_h5(weights, twice))


def test_keras2_names_two_entries_per_layer_with_weights():
    got = layer_paths([("Conv1D", True), ("BatchNormalization", True), ("Dropout", False),
                       ("Conv1D", True), ("BatchNormalization", True), ("Conv1D", True)])  # fmt: skip
    assert got == [("conv1d", "conv1d"), ("batch_normalization", "batch_normalization"),
                   ("dropout", "dropout"), ("conv1d_2", "conv1d_1"),
                   ("batch_normalization_2", "batch_normalization_1"), ("conv1d_4", "conv1d_2")]  # fmt: skip


@pytest.fixture(scope="module")
def keras3_twin():
    """The same model built in Keras 3 and given the same weights."""
    import keras
    from keras import layers

    w = known_weights()
    model = keras.Sequential([
        keras.Input((STEPS_IN, 1)),
        layers.Conv1D(4, 5, activation="relu"), layers.BatchNormalization(),
        layers.MaxPooling1D(2), layers.Dropout(0.2),
        layers.Conv1D(4, 3, activation="relu"), layers.BatchNormalization(),
        layers.MaxPooling1D(2), layers.Dropout(0.2),
        layers.LSTM(3), layers.Dropout(0.3), layers.Dense(5, activation="softmax"),
    ])  # fmt: skip
    flat = [a for key in ("conv1d", "batch_normalization", "conv1d_1", "batch_normalization_1",
                          "lstm", "dense") for a in w[key]]  # fmt: skip
    model.set_weights(flat)
    return model


@pytest.mark.parametrize("twice", [True, False])
def test_keras215_archive_loads_with_its_weights(tmp_path, keras3_twin, twice):
    path = tmp_path / "cnn_lstm.keras"
    write_keras215(path, known_weights(), twice)
    model = load_keras(str(path))
    w = known_weights()
    # the second convolution and batch normalisation got their own weights, not the first's
    assert np.array_equal(model.layers[4].get_weights()[0], w["conv1d_1"][0])
    assert np.array_equal(model.layers[5].get_weights()[3], w["batch_normalization_1"][3])
    assert model.layers[0].kernel_regularizer.l2 == pytest.approx(0.001)
    x = np.sin(np.linspace(0, 12, 2 * STEPS_IN)).reshape(2, STEPS_IN, 1).astype(np.float32)
    got = model.predict(x, verbose=0)
    assert np.allclose(got, keras3_twin.predict(x, verbose=0), atol=1e-6)
    assert np.allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_keras215_archive_macs_by_hand(tmp_path):
    path = tmp_path / "cnn_lstm.keras"
    write_keras215(path, known_weights())
    # Conv1D 60 -> 56 positions x 4 filters x 5 taps x 1 channel = 1,120; pool -> 28
    # Conv1D 28 -> 26 positions x 4 filters x 3 taps x 4 channels = 1,248; pool -> 13
    # LSTM 13 steps x 4 gates x 3 units x (4 inputs + 3 units) = 13 x 84 = 1,092
    # Dense 3 x 5 = 15 (batch normalisation, pooling and dropout: no MACs)
    assert count_file(str(path)).counts.totals()["macs"] == 1120 + 1248 + 1092 + 15


def _zero_weights(f1: int, f2: int, units: int, classes: int) -> dict[str, list[np.ndarray]]:
    z = np.zeros
    bn = lambda n: [np.ones(n), z(n), z(n), np.ones(n)]  # noqa: E731
    return {"conv1d": [z((5, 1, f1)), z(f1)], "batch_normalization": bn(f1),
            "conv1d_1": [z((3, f1, f2)), z(f2)], "batch_normalization_1": bn(f2),
            "lstm": [z((f2, 4 * units)), z((units, 4 * units)), z(4 * units)],
            "dense": [z((units, classes)), z(classes)]}  # fmt: skip


def test_published_size_cnn_lstm_counts_by_hand(tmp_path):
    """The published model's size: input (None, 180, 1), Conv1D 32 and 64 filters, LSTM(64),
    Dense(23)."""
    import h5py

    path = tmp_path / "published.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "2.15.0"}))
        zf.writestr("config.json", json.dumps(keras215_config(180, 32, 64, 64, 23)))
        zf.writestr("model.weights.h5", keras215_weights_h5(_zero_weights(32, 64, 64, 23)))
    with zipfile.ZipFile(path) as zf, h5py.File(io.BytesIO(zf.read("model.weights.h5"))) as f:
        assert "_layer_checkpoint_dependencies/conv1d_2/vars/0" in f  # the second Conv1D
    # Conv1D 180 -> 176 positions x 32 filters x 5 taps = 28,160; pool -> 88
    # Conv1D 88 -> 86 positions x 64 filters x 3 taps x 32 channels = 528,384; pool -> 43
    # LSTM 43 steps x 4 gates x 64 units x (64 inputs + 64 units) = 43 x 32,768 = 1,409,024
    # Dense 64 x 23 = 1,472
    assert count_file(str(path)).counts.macs == 28_160 + 528_384 + 1_409_024 + 1_472 == 1_967_040
