"""Seeds for the model-file fuzzers: one tiny network (Conv1D, pooling, Dense) as .keras, .h5,
.tflite and .onnx, built once per session."""

from __future__ import annotations

import functools
import io
import os
import tempfile
import zipfile

import numpy as np

L = 100


@functools.cache
def seeds() -> dict[str, bytes]:
    import keras
    from keras import layers
    from onnx import TensorProto as TP
    from onnx import helper as oh
    from onnx import numpy_helper as nh

    from ecg_energy.models.quantize import convert

    keras.utils.set_random_seed(0)
    inp = keras.Input((L, 1))
    x = layers.Conv1D(4, 5, strides=2, activation="relu")(inp)
    x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inp, layers.Dense(3)(x))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for ext in ("keras", "h5"):
            path = os.path.join(tmp, f"m.{ext}")
            model.save(path)
            with open(path, "rb") as fh:
                out[ext] = fh.read()
    out["tflite"] = convert(model, "fp32")
    (k, b), (kd, bd) = (ly.get_weights() for ly in model.layers if ly.get_weights())
    nodes = [oh.make_node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
             oh.make_node("Conv", ["xt", "W", "b"], ["c"], kernel_shape=[5], strides=[2]),
             oh.make_node("Relu", ["c"], ["r"]),
             oh.make_node("GlobalAveragePool", ["r"], ["g"]),
             oh.make_node("Flatten", ["g"], ["f"]),
             oh.make_node("Gemm", ["f", "Wd", "bd"], ["logits"])]  # fmt: skip
    weights = {"W": k.transpose(2, 1, 0), "b": b, "Wd": kd, "bd": bd}
    graph = oh.make_graph(
        nodes, "toy", [oh.make_tensor_value_info("x", TP.FLOAT, ["batch", L, 1])],
        [oh.make_tensor_value_info("logits", TP.FLOAT, ["batch", 3])],
        [nh.from_array(np.ascontiguousarray(a, np.float32), n) for n, a in weights.items()],
    )  # fmt: skip
    m = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])
    m.ir_version = 8
    out["onnx"] = m.SerializeToString()
    return out


def keras_config(seed: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(seed)) as z:
        return z.read("config.json")


def with_config(seed: bytes, config: bytes) -> bytes:
    """The .keras archive with its config.json replaced (the other members kept)."""
    src = zipfile.ZipFile(io.BytesIO(seed))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in src.infolist():
            z.writestr(info, config if info.filename == "config.json" else src.read(info))
    return buf.getvalue()


def _keras_config_install(sandbox, data: bytes):
    path = sandbox / "model.keras"
    path.write_bytes(with_config(seeds()["keras"], data))
    return (str(path),)


def _reader(ext: str) -> tuple:
    from .readers import _file, _model

    return (lambda: seeds()[ext], _file(f"model.{ext}"), _model, False)


def _config_reader() -> tuple:
    from .readers import _model

    return (lambda: keras_config(seeds()["keras"]), _keras_config_install, _model, True)


class _Lazy(dict):
    def __missing__(self, key):
        if key == "model-keras-config":
            return _config_reader()
        return _reader(key.removeprefix("model-"))


MODEL_READERS = _Lazy()
