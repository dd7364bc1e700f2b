"""``.onnx`` files: loading (and refusing), the onnxruntime runner, INT8 QDQ quantization, and the
same MACs from the Keras walker, the LiteRT counter and the ONNX counter for one network."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto as TP
from onnx import helper as oh
from onnx import numpy_helper as nh

from ecg_energy.errors import ModelError
from ecg_energy.models.io import load_model_file, model_format
from ecg_energy.models.onnx_runner import OnnxRunner
from ecg_energy.ops.files import count_file

L = 100  # samples per window
# Conv1D(8, 7, same, relu) -> MaxPooling1D(2) -> Conv1D(16, 5, stride 2, valid, relu) ->
# GlobalAveragePooling1D -> Dense(3), by hand:
#   conv 1: 100 positions · 7 taps · 1 input · 8 filters = 5,600
#   pool: 50 positions; conv 2: (50 - 5) // 2 + 1 = 23 positions · 5 · 8 · 16 = 14,720
#   dense: 16 · 3 = 48;                                                  total 20,368 MACs
HAND_MACS = 5_600 + 14_720 + 48


def _toy(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three classes: sines of 2, 6 and 15 cycles a window, random phase and amplitude, noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    t = np.arange(L) / L
    f = np.array([2.0, 6.0, 15.0])[y][:, None]
    x = rng.uniform(0.5, 1.5, (n, 1)) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3, (n, 1)))
    x = x + 0.05 * rng.standard_normal((n, L))
    return x.astype(np.float32)[:, :, None], y


def _keras_model():
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inp = keras.Input((L, 1))
    x = layers.Conv1D(8, 7, padding="same", activation="relu")(inp)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(16, 5, strides=2, activation="relu")(x)
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inp, layers.Dense(3)(x))


def _onnx_from_keras(model):
    """The same network as ONNX nodes, from the Keras weights: input (batch, 100, 1) transposed
    to ONNX's NCW; Conv1D kernels (taps, in, out) transposed to ONNX's (out, in, taps); 'same'
    with 7 taps at stride 1 pads 3 each side; the Dense kernel (in, out) is Gemm's B."""
    (k1, b1), (k2, b2), (kd, bd) = (ly.get_weights() for ly in model.layers
                                    if ly.get_weights())  # fmt: skip
    nodes = [oh.make_node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
             oh.make_node("Conv", ["xt", "W1", "b1"], ["c1"], kernel_shape=[7], pads=[3, 3]),
             oh.make_node("Relu", ["c1"], ["r1"]),
             oh.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2], strides=[2]),
             oh.make_node("Conv", ["p1", "W2", "b2"], ["c2"], kernel_shape=[5], strides=[2]),
             oh.make_node("Relu", ["c2"], ["r2"]),
             oh.make_node("GlobalAveragePool", ["r2"], ["g"]),
             oh.make_node("Flatten", ["g"], ["f"]),
             oh.make_node("Gemm", ["f", "Wd", "bd"], ["logits"])]  # fmt: skip
    weights = {"W1": k1.transpose(2, 1, 0), "b1": b1, "W2": k2.transpose(2, 1, 0), "b2": b2,
               "Wd": kd, "bd": bd}  # fmt: skip
    graph = oh.make_graph(
        nodes, "toy", [oh.make_tensor_value_info("x", TP.FLOAT, ["batch", L, 1])],
        [oh.make_tensor_value_info("logits", TP.FLOAT, ["batch", 3])],
        [nh.from_array(np.ascontiguousarray(a, np.float32), n) for n, a in weights.items()],
    )  # fmt: skip
    m = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])
    m.ir_version = 8
    return m


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The Keras model, a few epochs on the toy task, its .tflite (float32) and .onnx twins."""
    import onnx

    from ecg_energy.models.quantize import convert

    folder = tmp_path_factory.mktemp("onnx")
    model = _keras_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = _toy(600, 0)
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    onnx_path = str(folder / "toy.onnx")
    onnx.save(_onnx_from_keras(model), onnx_path)
    tflite_path = folder / "toy.tflite"
    tflite_path.write_bytes(convert(model, "fp32"))
    return model, onnx_path, str(tflite_path), folder


def test_onnx_runner_matches_keras(toy):
    from ecg_energy.models.runners import KerasRunner

    model, path, _, _ = toy
    x, _ = _toy(300, 1)
    mf = load_model_file(path)
    assert (mf.format, mf.precision, mf.input_shape, mf.n_outputs) == ("onnx", "fp32", (L, 1), 3)
    assert isinstance(mf.runner, OnnxRunner) and model_format(path) == "onnx"
    ref = KerasRunner(model).predict(x)
    for batch in (1, 7, 256):
        mf.runner.prepare(batch)
        assert np.allclose(mf.runner.predict(x, batch), ref, atol=1e-4)
    assert np.allclose(mf.runner.reference_call(x[:1]), ref[:1], atol=1e-4)
    assert mf.runner(x[:5]).dtype == np.float32


def test_same_macs_from_keras_litert_and_onnx(toy):
    from ecg_energy.ops.keras_ops import count_keras

    model, onnx_path, tflite_path, _ = toy
    keras_macs = count_keras(model).macs
    litert = count_file(tflite_path)
    onnx_counts = count_file(onnx_path)
    assert keras_macs == litert.counts.macs == onnx_counts.counts.macs == HAND_MACS
    assert onnx_counts.profiler_flops is None and onnx_counts.counts.source == "onnx"
    assert [o.macs for o in onnx_counts.counts.ops if o.macs] == [5_600, 14_720, 48]
    # weights: 7·1·8 + 5·8·16 + 16·3 = 744 floats, biases 8 + 16 + 3 = 27 floats
    assert onnx_counts.counts.weight_bytes == (744 + 27) * 4 == litert.counts.weight_bytes


def test_int8_qdq_quantization(toy):
    from ecg_energy.models.onnx_quantize import quantize_onnx

    _, path, _, folder = toy
    calib, _ = _toy(200, 2)
    out = str(folder / "toy-int8.onnx")
    record: dict = {}
    assert quantize_onnx(path, calib, out, record) == out
    assert record == {"pre_process": {"applied": True}}
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]  # written atomically
    counts = count_file(out).counts
    assert counts.macs_by_precision() == {"int8": HAND_MACS}
    convs = [o for o in counts.ops if o.op == "Conv"]
    assert [o.weight_bytes for o in convs] == [56, 640]  # int8 kernels as stored
    assert all(o.requant == o.output_shape[1] * o.output_shape[2] for o in convs)
    assert counts.uncounted == []
    mf, ref = load_model_file(out), load_model_file(path)
    assert mf.precision == "int8" and mf.format == "onnx"
    x, _ = _toy(500, 3)  # in distribution, not the calibration windows
    agreement = float(np.mean(mf.runner.predict(x).argmax(1) == ref.runner.predict(x).argmax(1)))
    assert agreement >= 0.95
    mf.runner.prepare(1)
    assert mf.runner(x[:1]).shape == (1, 3)


def test_runner_threads_and_a_fixed_batch(tmp_path):
    import onnx

    # a model exported with batch 1 runs a batch of 5 as five calls
    nodes = [oh.make_node("Flatten", ["x"], ["f"]), oh.make_node("Gemm", ["f", "W"], ["y"])]
    w = np.arange(20, dtype=np.float32).reshape(10, 2)
    graph = oh.make_graph(nodes, "g", [oh.make_tensor_value_info("x", TP.FLOAT, [1, 10, 1])],
                          [oh.make_tensor_value_info("y", TP.FLOAT, [1, 2])],
                          [nh.from_array(w, "W")])  # fmt: skip
    m = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])
    m.ir_version = 8
    path = str(tmp_path / "fixed.onnx")
    onnx.save(m, path)
    mf = load_model_file(path, num_threads=2)
    opts = mf.runner._sess.get_session_options()
    assert (opts.intra_op_num_threads, opts.inter_op_num_threads) == (2, 1)
    assert mf.runner.fixed_batch == 1 and mf.n_outputs == 2
    x = np.random.default_rng(0).standard_normal((5, 10, 1)).astype(np.float32)
    assert np.allclose(mf.runner(x), x[:, :, 0] @ w, atol=1e-4)
    one = load_model_file(path).runner._sess.get_session_options()
    assert one.intra_op_num_threads == 1  # none asked for: one thread, as LiteRT


def _write(path, content: bytes) -> str:
    with open(path, "wb") as fh:
        fh.write(content)
    return str(path)


def test_corrupt_and_truncated_files_are_one_line(toy, tmp_path):
    _, path, _, _ = toy
    with open(path, "rb") as fh:
        content = fh.read()
    cases = [_write(tmp_path / "empty.onnx", b""),
             _write(tmp_path / "noise.onnx", np.random.default_rng(0).bytes(2000)),
             _write(tmp_path / "half.onnx", content[: len(content) // 2]),
             _write(tmp_path / "cut.onnx", content[:-40])]  # fmt: skip
    for bad in cases:
        for load in (load_model_file, count_file):
            with pytest.raises(ModelError) as err:
                load(bad)
            msg = str(err.value)
            assert msg.startswith(f"{bad}: ") and "\n" not in msg, msg


def _graph_file(tmp_path, name, nodes, inputs, outputs, domains=()):
    import onnx

    graph = oh.make_graph(nodes, "g", inputs, outputs)
    opsets = [oh.make_opsetid("", 17), *(oh.make_opsetid(d, 1) for d in domains)]
    m = oh.make_model(graph, opset_imports=opsets)
    m.ir_version = 8
    path = str(tmp_path / name)
    onnx.save(m, path)
    return path


def test_custom_operators_and_shapes_are_refused_in_one_line(tmp_path):
    vi = oh.make_tensor_value_info
    custom = _graph_file(tmp_path, "custom.onnx", [oh.make_node("Fancy", ["x"], ["y"],
                                                                domain="org.example")],
                         [vi("x", TP.FLOAT, [1, 10])], [vi("y", TP.FLOAT, [1, 10])],
                         domains=["org.example"])  # fmt: skip
    dynamic = _graph_file(tmp_path, "dyn.onnx", [oh.make_node("Relu", ["x"], ["y"])],
                          [vi("x", TP.FLOAT, ["N", "L", 1])], [vi("y", TP.FLOAT, ["N", "L", 1])])  # fmt: skip
    two = _graph_file(tmp_path, "two.onnx", [oh.make_node("Add", ["a", "b"], ["y"])],
                      [vi("a", TP.FLOAT, [1, 4]), vi("b", TP.FLOAT, [1, 4])],
                      [vi("y", TP.FLOAT, [1, 4])])  # fmt: skip
    expect = {custom: "operator Fancy of the custom domain 'org.example'",
              dynamic: "input 'x' dimension 1 is dynamic (L)",
              two: "one input and one output (it has 2 and 1)"}  # fmt: skip
    for path, words in expect.items():
        for load in (load_model_file, count_file):
            with pytest.raises(ModelError) as err:
                load(path)
            msg = str(err.value)
            assert msg.startswith(f"{path}: ") and words in msg and "\n" not in msg, msg
    with pytest.raises(ModelError, match=r"\.onnx file"):
        model_format(str(tmp_path / "model.pt"))


def test_measurement_runs_onnx_on_onnxruntime(toy):
    from types import SimpleNamespace

    from ecg_energy.energy.measure import build_workloads, seed_call

    _, path, _, _ = toy
    x, _ = _toy(8, 4)
    ds = SimpleNamespace(X=x, input_shape=(L, 1), class_names=("a", "b", "c"))
    workloads, runtimes = build_workloads([path], ds, (1, 4), threads=1, compare_runtimes=True)
    assert [(w.batch, w.runtime) for w in workloads] == [(1, "onnxruntime"), (4, "onnxruntime")]
    assert runtimes["toy"] == {"runtime": "onnxruntime"}
    expected = load_model_file(path).runner.predict(x)
    assert np.allclose(workloads[1].call(), expected[:4], atol=1e-6)
    call, how = seed_call(load_model_file(path), x[:1])
    assert how == "onnxruntime-run" and np.allclose(call(), expected[:1], atol=1e-6)


def test_a_failed_pre_processing_is_recorded_with_its_reason(toy, tmp_path, monkeypatch):
    """The graph is then quantized as it is, and the record says so: never a silent fallback."""
    import onnxruntime.quantization.shape_inference as si

    from ecg_energy.models.onnx_quantize import quantize_onnx

    def broken(*_a, **_k):
        raise RuntimeError("shape inference failed on node conv1")

    monkeypatch.setattr(si, "quant_pre_process", broken)
    _, path, _, _ = toy
    calib, _ = _toy(50, 2)
    record: dict = {}
    quantize_onnx(path, calib, str(tmp_path / "q.onnx"), record)
    assert record["pre_process"] == {
        "applied": False,
        "why": "quant_pre_process failed (RuntimeError: shape inference failed on node conv1); "
        "batch norm was not folded before calibration",
    }
    assert count_file(str(tmp_path / "q.onnx")).counts.macs_by_precision() == {"int8": HAND_MACS}
