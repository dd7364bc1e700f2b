"""PyTorch networks in: exported to ONNX, then counted and run like any .onnx file."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ecg_energy as ee  # noqa: E402
from ecg_energy.errors import ModelError  # noqa: E402


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv1d(1, 8, 10, stride=10), torch.nn.ReLU(),
        torch.nn.Conv1d(8, 16, 5, stride=5), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool1d(1), torch.nn.Flatten(), torch.nn.Linear(16, 5),
    )  # fmt: skip


# conv 1: 100 positions × 10 taps × 1 × 8 = 8,000; conv 2: 20 × 5 × 8 × 16 = 12,800;
# linear 16 × 5 = 80
HAND_MACS = 8_000 + 12_800 + 80


def test_a_conv1d_network_counts_its_hand_counted_macs():
    c = ee.count(_net(), example_input=torch.zeros(1, 1, 1000))
    assert c.macs == HAND_MACS
    assert c.uncounted == []
    assert c.data["weight_bytes"] == 4 * (80 + 8 + 640 + 16 + 80 + 5)  # weights and biases, fp32


def test_the_exported_model_runs_on_the_readers_windows_as_torch_does(tmp_path):
    from ecg_energy.models.io import check_fits, load_model_file

    net = _net()
    path = ee.from_torch(net, torch.zeros(1, 1, 1000), tmp_path / "net.onnx")
    mf = load_model_file(str(path))
    # the model takes (batch, leads, samples); it is fed the readers' (batch, samples, leads)
    assert mf.format == "onnx" and mf.input_shape == (1000, 1) and mf.n_outputs == 5
    check_fits(mf, (1000, 1), ("VF", "VT", "NSR", "ASYS", "ONS"))
    x = np.random.default_rng(0).normal(size=(6, 1000, 1)).astype("float32")
    with torch.no_grad():
        want = net(torch.from_numpy(x.transpose(0, 2, 1))).numpy()
    assert np.allclose(mf.runner(x), want, atol=1e-5)


def test_its_int8_version_is_counted_as_int8(tmp_path):
    from ecg_energy.models.onnx_quantize import quantize_onnx
    from ecg_energy.ops.files import count_file

    path = ee.from_torch(_net(), torch.zeros(1, 1, 1000), tmp_path / "net.onnx")
    x = np.random.default_rng(1).normal(size=(64, 1000, 1)).astype("float32")
    q = quantize_onnx(str(path), x, str(tmp_path / "net-int8.onnx"))
    counts = count_file(q).counts
    assert counts.macs == HAND_MACS and counts.macs_by_precision() == {"int8": HAND_MACS}


def test_a_module_that_does_not_export_is_one_line(tmp_path):
    class Spectrum(torch.nn.Module):
        def forward(self, x):
            return torch.fft.rfft(x).abs()

    with pytest.raises(ModelError, match="Spectrum: cannot be exported to ONNX .*fft_rfft"):
        ee.from_torch(Spectrum(), torch.zeros(1, 1, 1000), tmp_path / "s.onnx")
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    with pytest.raises(ModelError, match="not a torch.nn.Module"):
        ee.from_torch(lambda x: x, torch.zeros(1, 1, 1000), tmp_path / "f.onnx")


def test_a_cnn_lstm_counts_the_same_from_pytorch_as_from_keras():
    import keras

    from ecg_energy.ops.keras_ops import count_keras

    class ConvLSTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(1, 8, 10, stride=10)
            self.lstm = torch.nn.LSTM(8, 16, batch_first=True)
            self.head = torch.nn.Linear(16, 5)

        def forward(self, x):  # x: (batch, 1, 1000)
            h, _ = self.lstm(torch.relu(self.conv(x)).transpose(1, 2))
            return self.head(h[:, -1])

    inp = keras.Input((1000, 1))
    x = keras.layers.Conv1D(8, 10, strides=10, activation="relu")(inp)
    twin = keras.Model(inp, keras.layers.Dense(5)(keras.layers.LSTM(16)(x)))
    # conv 100 × 10 × 1 × 8 = 8,000; LSTM 100 steps × 4 gates × 16 × (8 + 16) = 153,600;
    # head 16 × 5 = 80
    hand = 8_000 + 153_600 + 80
    assert ee.count(ConvLSTM(), example_input=torch.zeros(1, 1, 1000)).macs == hand
    assert count_keras(twin).macs == hand


def test_the_measured_call_feeds_a_channels_first_model_its_own_layout(tmp_path):
    from ecg_energy.energy.measure import measured_call
    from ecg_energy.models.io import load_model_file

    path = ee.from_torch(_net(), torch.zeros(1, 1, 1000), tmp_path / "net.onnx")
    runner = load_model_file(str(path)).runner
    x = np.random.default_rng(2).normal(size=(4, 1000, 1)).astype("float32")
    assert runner.native_input(x).shape == (4, 1, 1000)  # transposed once, outside the loop
    assert np.array_equal(measured_call(runner, x)(), runner(x))
