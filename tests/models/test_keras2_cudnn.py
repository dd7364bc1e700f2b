"""Keras 2's cuDNN-only recurrent layers (CuDNNLSTM, CuDNNGRU) load as LSTM / GRU, their weights
converted as Keras 2 converted them (each gate's block re-laid, cuDNN's two biases summed for the
LSTM, kept as GRU's input and recurrent biases). A Keras 2.2.4 .h5 written by hand."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from ecg_energy.errors import ModelError
from ecg_energy.models.io import load_keras
from ecg_energy.models.keras2_weights import cudnn_gru_weights, cudnn_lstm_weights
from ecg_energy.ops.files import count_file

from .test_keras2_224 import NONE_KEYS, VS, ZEROS, write_keras224

KERNEL = np.arange(16, dtype=np.float32).reshape(2, 8) / 20  # cuDNN layout, 2 inputs, 2 units
RECURRENT = -np.arange(16, dtype=np.float32).reshape(2, 8) / 40
BIAS = np.linspace(-0.4, 0.4, 16).astype(np.float32)  # input biases, then recurrent biases


def test_lstm_blocks_relaid_and_biases_summed():
    kernel, recurrent, bias = cudnn_lstm_weights(KERNEL, RECURRENT, BIAS)
    # each gate's 2 x 2 block transposed: [[0, 1], [8, 9]] -> [[0, 8], [1, 9]], and so on
    assert np.array_equal(kernel * 20, [[0, 8, 2, 10, 4, 12, 6, 14], [1, 9, 3, 11, 5, 13, 7, 15]])
    assert np.array_equal(recurrent * -40, [[0, 8, 2, 10, 4, 12, 6, 14], [1, 9, 3, 11, 5, 13, 7, 15]])  # fmt: skip
    assert np.allclose(bias, BIAS[:8] + BIAS[8:])
    # a (3 inputs x 1 unit) block is a column: Keras 2's re-laying leaves it as it was
    k, _, b = cudnn_lstm_weights(np.arange(12.0).reshape(3, 4), np.ones((1, 4)), np.ones(8))
    assert np.array_equal(k, np.arange(12.0).reshape(3, 4)) and np.array_equal(b, [2, 2, 2, 2])
    _, _, gru_bias = cudnn_gru_weights(np.zeros((2, 6)), np.zeros((2, 6)), np.arange(12.0))
    assert gru_bias.shape == (2, 6) and gru_bias[1, 0] == 6  # input biases, recurrent biases


def _config(cls: str = "CuDNNLSTM") -> dict:
    inp = {"name": "input_1", "class_name": "InputLayer", "inbound_nodes": [],
           "config": {"batch_input_shape": [None, 5, 2], "dtype": "float32", "sparse": False,
                      "name": "input_1"}}  # fmt: skip
    rnn = {"name": "cu_dnnlstm_1", "class_name": cls, "inbound_nodes": [[["input_1", 0, 0, {}]]],
           "config": {"name": "cu_dnnlstm_1", "trainable": True, "return_sequences": False,
                      "return_state": False, "go_backwards": False, "stateful": False,
                      "units": 2, "kernel_initializer": VS, "recurrent_initializer": VS,
                      "bias_initializer": ZEROS, "unit_forget_bias": True,
                      "kernel_regularizer": None, "recurrent_regularizer": None,
                      "bias_regularizer": None, "activity_regularizer": None,
                      "kernel_constraint": None, "recurrent_constraint": None,
                      "bias_constraint": None}}  # fmt: skip
    dense = {"name": "dense_1", "class_name": "Dense", "inbound_nodes": [[["cu_dnnlstm_1", 0, 0, {}]]],
             "config": {"name": "dense_1", "trainable": True, "units": 1, "activation": "linear",
                        "use_bias": True, "kernel_initializer": VS, "bias_initializer": ZEROS,
                        **dict.fromkeys(NONE_KEYS)}}  # fmt: skip
    return {"class_name": "Model", "config": {"name": "model_1", "layers": [inp, rnn, dense],
            "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}}  # fmt: skip


HEAD = [("dense_1/kernel:0", np.array([[0.5], [-1.0]], np.float32)),
        ("dense_1/bias:0", np.array([0.1], np.float32))]  # fmt: skip


def _lstm_by_hand(x: np.ndarray) -> np.ndarray:
    """The LSTM (gates i, f, c, o) with the converted weights written out above, then the head."""
    kernel = np.array([[0, 8, 2, 10, 4, 12, 6, 14], [1, 9, 3, 11, 5, 13, 7, 15]]) / 20
    recurrent = -np.array([[0, 8, 2, 10, 4, 12, 6, 14], [1, 9, 3, 11, 5, 13, 7, 15]]) / 40
    bias = BIAS[:8] + BIAS[8:]

    def sig(v):
        return 1 / (1 + np.exp(-v))

    h = np.zeros((x.shape[0], 2))
    c = np.zeros_like(h)
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = np.split(z, 4, axis=1)
        c = sig(f) * c + sig(i) * np.tanh(g)
        h = sig(o) * np.tanh(c)
    return h @ HEAD[0][1] + HEAD[1][1]


def test_cudnn_lstm_file_loads_as_lstm_and_counts(tmp_path):
    path = tmp_path / "cudnn.h5"
    weights = {"cu_dnnlstm_1": [("cu_dnnlstm_1/kernel:0", KERNEL),
                                ("cu_dnnlstm_1/recurrent_kernel:0", RECURRENT),
                                ("cu_dnnlstm_1/bias:0", BIAS)], "dense_1": HEAD}  # fmt: skip
    write_keras224(path, _config(), weights)
    model = load_keras(str(path))
    assert type(model.layers[1]).__name__ == "LSTM"
    x = np.sin(np.linspace(0, 5, 20)).reshape(2, 5, 2).astype(np.float32)
    assert np.allclose(model.predict(x, verbose=0), _lstm_by_hand(x), atol=1e-5)
    # 5 steps x 4 gates x 2 units x (2 inputs + 2 units) = 160; Dense 2 x 1 = 2
    assert count_file(str(path)).counts.macs == 160 + 2


def test_cudnn_layer_in_a_keras_archive_is_refused_naming_the_fix(tmp_path):
    path = tmp_path / "cudnn.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "2.15.0"}))
        zf.writestr("config.json", json.dumps(_config("CuDNNGRU")))
    with pytest.raises(ModelError, match=r"'cu_dnnlstm_1' is a CuDNNGRU.*save the model as \.h5"):
        load_keras(str(path))
