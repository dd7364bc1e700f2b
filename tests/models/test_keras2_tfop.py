"""Keras 2 functional models that called TensorFlow functions on Keras tensors (TFOpLambda
layers): the pure tensor functions of the allow-list load in safe mode and count; any other is
refused naming it and --unsafe-load. Files written by hand in Keras 2.15's .h5 layout."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ecg_energy.errors import ModelError
from ecg_energy.models.io import load_keras
from ecg_energy.ops.files import count_file

from .test_keras2_224 import NONE_KEYS, VS, ZEROS, write_keras224


def _tfop(name: str, function: str, inbound) -> dict:
    cfg = {"name": name, "trainable": True, "dtype": "float32", "function": function}
    return {"class_name": "TFOpLambda", "name": name, "config": cfg, "inbound_nodes": [inbound]}


def _layer(cls: str, name: str, inbound, **cfg) -> dict:
    full = {"name": name, "trainable": True, "dtype": "float32", **cfg}
    return {"class_name": cls, "name": name, "config": full, "inbound_nodes": [[[*r, {}] for r in inbound]]}  # fmt: skip


def _conv(name: str) -> dict:
    return _layer("Conv1D", name, [["tf.expand_dims", 0, 0]], filters=2, kernel_size=[3],
                  strides=[1], padding="valid", data_format="channels_last", dilation_rate=[1],
                  groups=1, activation="linear", use_bias=True, kernel_initializer=VS,
                  bias_initializer=ZEROS, **dict.fromkeys(NONE_KEYS))  # fmt: skip


def tfop_config(mean: str = "math.reduce_mean") -> dict:
    inp = {"class_name": "InputLayer", "name": "signal", "inbound_nodes": [],
           "config": {"batch_input_shape": [None, 32], "dtype": "float32", "sparse": False,
                      "ragged": False, "name": "signal"}}  # fmt: skip
    dense = _layer("Dense", "head", [["tf.math.reduce_mean", 0, 0]], units=3,
                   activation="softmax", use_bias=True, kernel_initializer=VS,
                   bias_initializer=ZEROS, **dict.fromkeys(NONE_KEYS))  # fmt: skip
    layers = [
        inp,
        # tf.expand_dims(x, -1): Keras 2 kept the tensor first, the rest as keyword arguments
        _tfop("tf.expand_dims", "expand_dims", ["signal", 0, 0, {"axis": -1}]),
        _conv("c1"), _conv("c2"),
        _tfop("tf.concat", "concat", [["c1", 0, 0, {"axis": -1}], ["c2", 0, 0, {"axis": -1}]]),
        _tfop("tf.nn.relu", "nn.relu", ["tf.concat", 0, 0, {"name": None}]),
        _tfop("tf.math.reduce_mean", mean, ["tf.nn.relu", 0, 0, {"axis": 1}]),
        dense,
    ]  # fmt: skip
    return {"class_name": "Functional", "config": {"name": "model", "layers": layers,
            "input_layers": [["signal", 0, 0]], "output_layers": [["head", 0, 0]]}}  # fmt: skip


def _ramp(*shape, scale=0.5):
    return (np.linspace(-1, 1, int(np.prod(shape))).reshape(shape) * scale).astype(np.float32)


WEIGHTS = {
    "c1": [("c1/kernel:0", _ramp(3, 1, 2)), ("c1/bias:0", _ramp(2, scale=0.1))],
    "c2": [("c2/kernel:0", _ramp(3, 1, 2, scale=-0.7)), ("c2/bias:0", _ramp(2, scale=0.2))],
    "head": [("head/kernel:0", _ramp(4, 3)), ("head/bias:0", _ramp(3, scale=0.1))],
}


def _write(path, config) -> None:
    import h5py

    write_keras224(path, config, WEIGHTS)
    with h5py.File(path, "r+") as f:  # as Keras 2.15 marks its .h5 files
        f.attrs["keras_version"] = "2.15.0"
        f["model_weights"].attrs["keras_version"] = "2.15.0"


def _by_hand(x: np.ndarray) -> np.ndarray:
    w = {k: [a for _, a in v] for k, v in WEIGHTS.items()}

    def conv(name):
        k, b = w[name]
        taps = np.stack([x[:, i : i + 30] for i in range(3)], axis=-1)  # (batch, 30, 3)
        return taps @ k[:, 0, :] + b

    feat = np.maximum(np.concatenate([conv("c1"), conv("c2")], axis=-1), 0).mean(axis=1)
    z = feat @ w["head"][0] + w["head"][1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_expand_dims_and_concat_lambdas_load_safely_and_count(tmp_path):
    path = tmp_path / "tfops.h5"
    _write(path, tfop_config())
    model = load_keras(str(path))  # safe mode
    x = np.cos(np.linspace(0, 7, 64)).reshape(2, 32).astype(np.float32)
    assert np.allclose(model.predict(x, verbose=0), _by_hand(x), atol=1e-6)
    counts = count_file(str(path)).counts
    # two Conv1D over 30 positions x 2 filters x 3 taps = 180 each; Dense 4 x 3 = 12
    assert counts.macs == 180 + 180 + 12 and counts.uncounted == []
    ops = {o.name: o.other for o in counts.ops}
    assert ops["tf.concat"] == {} and ops["tf.expand_dims"] == {}
    assert ops["tf.nn.relu"] == {"cmp": 30 * 4}  # one comparison per element
    # the mean of 30 positions for 4 channels: 29 adds and one multiply each
    assert ops["tf.math.reduce_mean"] == {"add": 4 * 29, "mul": 4}


def test_any_other_tensorflow_function_is_refused_naming_it(tmp_path):
    path = tmp_path / "cumsum.h5"
    _write(path, tfop_config(mean="math.cumsum"))
    with pytest.raises(ModelError) as err:
        load_keras(str(path))
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg
    assert "'tf.math.reduce_mean' is a TFOpLambda calling tf.math.cumsum" in msg
    assert "--unsafe-load" in msg


def test_with_unsafe_load_another_function_loads_and_is_listed_uncounted(tmp_path):
    cfg = copy.deepcopy(tfop_config(mean="math.reduce_logsumexp"))
    path = tmp_path / "lse.h5"
    _write(path, cfg)
    counts = count_file(str(path), unsafe=True).counts
    assert counts.uncounted == ["tf.math.reduce_mean (TFOpLambda)"]
    assert counts.macs == 180 + 180 + 12


def test_x_plus_y_on_keras_tensors_loads_and_counts(tmp_path):
    # Keras 2 wrote c1 + c2 as tf.__operators__.add with the second tensor as keyword y
    cfg = tfop_config()
    layers = cfg["config"]["layers"]
    add = ["c1", 0, 0, {"y": ["c2", 0, 0], "name": None}]
    layers.insert(4, _tfop("tf.__operators__.add", "__operators__.add", add))
    layers[5]["inbound_nodes"] = [[["tf.__operators__.add", 0, 0, {"axis": -1}],
                                   ["c2", 0, 0, {"axis": -1}]]]  # fmt: skip
    path = tmp_path / "add.h5"
    _write(path, cfg)
    model = load_keras(str(path))
    x = np.cos(np.linspace(0, 7, 64)).reshape(2, 32).astype(np.float32)
    w = {k: [a for _, a in v] for k, v in WEIGHTS.items()}
    taps = np.stack([x[:, i : i + 30] for i in range(3)], axis=-1)
    c1, c2 = (taps @ w[n][0][:, 0, :] + w[n][1] for n in ("c1", "c2"))
    z = np.maximum(np.concatenate([c1 + c2, c2], axis=-1), 0).mean(axis=1) @ w["head"][0]
    z = z + w["head"][1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    assert np.allclose(model.predict(x, verbose=0), e / e.sum(axis=1, keepdims=True), atol=1e-6)
    ops = {o.name: o.other for o in count_file(str(path)).counts.ops}
    assert ops["tf.__operators__.add"] == {"add": 30 * 2}  # one add per element of (30, 2)
