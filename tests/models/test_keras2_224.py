"""A Keras 2.2.4 ``.h5`` written by hand, as Keras 2.2.4 writes one: a functional model whose
shared sub-model (class ``Model``) is called twice, its two outputs concatenated; sizes stored as
floats (187.0) as TensorFlow 1 let a shape computed with ``/`` through; weights in
``model_weights`` with ``layer_names`` and ``weight_names``."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from ecg_energy.errors import ModelError
from ecg_energy.models.io import load_keras
from ecg_energy.ops.files import count_file

VS = {"class_name": "VarianceScaling",
      "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}}  # fmt: skip
ZEROS = {"class_name": "Zeros", "config": {}}
NONE_KEYS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
             "kernel_constraint", "bias_constraint")  # fmt: skip


def _conv(name: str, filters: int, kernel: int, inbound) -> dict:
    cfg = {"name": name, "trainable": True, "filters": filters, "kernel_size": [float(kernel)],
           "strides": [1], "padding": "valid", "data_format": "channels_last",
           "dilation_rate": [1], "activation": "relu", "use_bias": True,
           "kernel_initializer": VS, "bias_initializer": ZEROS, **dict.fromkeys(NONE_KEYS)}  # fmt: skip
    return {"name": name, "class_name": "Conv1D", "config": cfg, "inbound_nodes": [inbound]}


def _in(name: str, steps: float) -> dict:
    cfg = {"batch_input_shape": [None, steps, 1.0], "dtype": "float32", "sparse": False, "name": name}  # fmt: skip
    return {"name": name, "class_name": "InputLayer", "config": cfg, "inbound_nodes": []}


def _refs(*refs) -> list:
    return [[name, node, 0, {}] for name, node in refs]


def keras224_config(steps: float = 32.0) -> dict:
    encoder = {"name": "encoder", "class_name": "Model", "config": {
        "name": "encoder",
        "layers": [_in("input_1", steps), _conv("conv1d_1", 4, 3, _refs(("input_1", 0))),
                   {"name": "gmp", "class_name": "GlobalMaxPooling1D",
                    "config": {"name": "gmp", "trainable": True, "data_format": "channels_last"},
                    "inbound_nodes": [_refs(("conv1d_1", 0))]}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["gmp", 0, 0]]},
        # the sub-model's own graph is its call 0: the two calls here are 1 and 2
        "inbound_nodes": [_refs(("input_2", 0)), _refs(("pre", 0))]}  # fmt: skip
    dense = {"name": "dense_1", "class_name": "Dense", "inbound_nodes": [_refs(("concatenate_1", 0))],
             "config": {"name": "dense_1", "trainable": True, "units": 5.0, "activation": "softmax",
                        "use_bias": True, "kernel_initializer": VS, "bias_initializer": ZEROS,
                        **dict.fromkeys(NONE_KEYS)}}  # fmt: skip
    concat = {"name": "concatenate_1", "class_name": "Concatenate",
              "config": {"name": "concatenate_1", "trainable": True, "axis": -1},
              "inbound_nodes": [_refs(("encoder", 1), ("encoder", 2))]}  # fmt: skip
    layers = [
        _in("input_2", steps),
        _conv("pre", 1, 1, _refs(("input_2", 0))),
        encoder,
        concat,
        dense,
    ]
    return {"class_name": "Model", "config": {"name": "model_1", "layers": layers,
            "input_layers": [["input_2", 0, 0]], "output_layers": [["dense_1", 0, 0]]}}  # fmt: skip


def _ramp(*shape, scale=0.5):
    return (np.linspace(-1, 1, int(np.prod(shape))).reshape(shape) * scale).astype(np.float32)


WEIGHTS = {
    "pre": [("pre/kernel:0", _ramp(1, 1, 1) + 1.5), ("pre/bias:0", _ramp(1))],
    "encoder": [("conv1d_1/kernel:0", _ramp(3, 1, 4)), ("conv1d_1/bias:0", _ramp(4, scale=0.05))],
    "dense_1": [("dense_1/kernel:0", _ramp(8, 5)), ("dense_1/bias:0", _ramp(5, scale=0.1))],
}


def write_keras224(path, config: dict, weights: dict) -> None:
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        group = f.create_group("model_weights")
        group.attrs["keras_version"] = b"2.2.4"
        group.attrs["backend"] = b"tensorflow"
        names = [ly["name"] for ly in config["config"]["layers"]]
        group.attrs["layer_names"] = [n.encode() for n in names]
        for name in names:
            layer = group.create_group(name)
            layer.attrs["weight_names"] = [w.encode() for w, _ in weights.get(name, [])]
            for w, array in weights.get(name, []):
                layer[w] = array


def _by_hand(x: np.ndarray) -> np.ndarray:
    """The model's forward pass in numpy: pre (1x1 conv, relu), the shared encoder (3-tap conv,
    relu, max over time) on the input and on pre's output, concatenated, then a softmax Dense."""
    w = {k: [a for _, a in v] for k, v in WEIGHTS.items()}

    def relu(v):
        return np.maximum(v, 0.0)

    def encoder(v):  # v: (batch, 32, 1)
        k, b = w["encoder"]
        taps = np.stack([v[:, i : i + 30, 0] for i in range(3)], axis=-1)  # (batch, 30, 3)
        return relu(taps @ k[:, 0, :] + b).max(axis=1)

    pre = relu(x * w["pre"][0][0, 0, 0] + w["pre"][1][0])
    z = np.concatenate([encoder(x), encoder(pre)], axis=1) @ w["dense_1"][0] + w["dense_1"][1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_shared_sub_model_concatenated_loads_and_counts(tmp_path):
    path = tmp_path / "baseline.h5"
    write_keras224(path, keras224_config(), WEIGHTS)
    model = load_keras(str(path))
    x = np.sin(np.linspace(0, 9, 64)).reshape(2, 32, 1).astype(np.float32)
    assert np.allclose(model.predict(x, verbose=0), _by_hand(x), atol=1e-6)
    # pre: 32 positions x 1 filter x 1 tap = 32; encoder, twice: 30 positions x 4 filters x
    # 3 taps = 360 each; Dense 8 x 5 = 40
    assert count_file(str(path)).counts.totals()["macs"] == 32 + 2 * 360 + 40


def test_a_size_that_is_not_whole_is_one_line_naming_the_layer(tmp_path):
    path = tmp_path / "bad.h5"
    write_keras224(path, keras224_config(steps=32.5), WEIGHTS)
    with pytest.raises(ModelError) as err:
        load_keras(str(path))
    msg = str(err.value)
    assert "\n" not in msg
    assert "InputLayer layer 'input_2' has batch_input_shape 32.5, not a whole number" in msg


def test_any_failure_rebuilding_is_one_line_naming_the_layer(tmp_path):
    cfg = copy.deepcopy(keras224_config())
    cfg["config"]["layers"][1]["config"]["padding"] = "sideways"  # no such padding
    path = tmp_path / "odd.h5"
    write_keras224(path, cfg, WEIGHTS)
    with pytest.raises(ModelError) as err:
        count_file(str(path))
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{path}: ") and "'pre'" in msg


def test_the_count_command_says_it_in_one_line(tmp_path, capsys):
    from ecg_energy.cli import main

    cfg = copy.deepcopy(keras224_config())
    cfg["config"]["layers"][4]["config"]["activation"] = "no_such_activation"
    path = tmp_path / "odd.h5"
    write_keras224(path, cfg, WEIGHTS)
    assert main(["count", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: ")
    assert "unexpected" not in lines[0] and "layer 'dense_1' (Dense)" in lines[0]
