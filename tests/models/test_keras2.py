"""Keras 2 model files in Keras 3: the config translation on hand-written configs, then files made
here in the shape Keras 2 writes them (.h5 and .keras), refusals, and the two real MLPerf Tiny
.h5 files when they are beside this checkout."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ecg_energy.errors import ModelError
from ecg_energy.models.io import load_keras
from ecg_energy.models.keras2 import HARD_SIGMOID, translate_config
from ecg_energy.models.keras2_load import keras2_version, refused
from ecg_energy.ops.files import count_file

MLPERF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mlperf-tiny" / "models"


def _layer(class_name: str, **config) -> dict:
    return {"class_name": class_name, "config": {"name": class_name.lower(), **config}}


def _one(obj: dict) -> dict:
    return translate_config(obj)["config"]


# --- the translation, on configs written by hand --------------------------------------------


def test_groups_dropped_where_keras3_has_none():
    cfg = _one(_layer("DepthwiseConv2D", kernel_size=[3, 3], groups=1, depth_multiplier=1))
    assert "groups" not in cfg and cfg["kernel_size"] == [3, 3]
    assert "groups" not in _one(_layer("Conv2DTranspose", filters=4, groups=1))
    # a plain convolution keeps it: Keras 3's Conv2D has groups
    assert _one(_layer("Conv2D", filters=4, groups=2))["groups"] == 2


def test_groups_other_than_one_is_refused():
    with pytest.raises(ModelError, match="groups=2"):
        translate_config(_layer("DepthwiseConv2D", groups=2))


def test_time_major_false_dropped_and_true_refused():
    cfg = _one(_layer("LSTM", units=4, time_major=False, implementation=2))
    assert "time_major" not in cfg and cfg["implementation"] == 2  # Keras 3 takes implementation
    assert "time_major" not in _one(_layer("GRU", units=4, time_major=False, reset_after=True))
    with pytest.raises(ModelError, match="time_major=True"):
        translate_config(_layer("SimpleRNN", units=4, time_major=True))


def test_rnn_inside_a_wrapper_is_translated_too():
    bi = _layer("Bidirectional", layer=_layer("LSTM", units=3, time_major=False))
    assert "time_major" not in _one(bi)["layer"]["config"]


def test_other_keys_keras3_rejects():
    sep = _one(_layer("SeparableConv1D", filters=4, groups=1, kernel_initializer={}, kernel_regularizer=None))  # fmt: skip
    assert not {"groups", "kernel_initializer", "kernel_regularizer"} & set(sep)
    drop = _one(_layer("SpatialDropout1D", rate=0.1, trainable=True, noise_shape=None))
    assert set(drop) == {"name", "rate"}
    mha = _layer("MultiHeadAttention", num_heads=2, key_dim=3, query_shape=[None, 10, 4], key_shape=[None, 10, 4], value_shape=[None, 10, 4])  # fmt: skip
    mha["build_config"] = {"input_shape": [None, 10, 4]}
    out = translate_config(mha)
    assert "build_config" not in out and not {"query_shape", "key_shape", "value_shape"} & set(out["config"])  # fmt: skip


def test_axis_list_becomes_an_int():
    # Keras 2's BatchNormalization wrote axis [3]; Keras 3 wants 3
    assert _one(_layer("BatchNormalization", axis=[3]))["axis"] == 3
    assert _one(_layer("LayerNormalization", axis=[1, 2]))["axis"] == [1, 2]


def test_module_paths_mapped():
    f = {"module": "keras.src.engine.functional", "class_name": "Functional", "registered_name": "Functional",
         "config": {"name": "m", "layers": [], "input_layers": [], "output_layers": []}}  # fmt: skip
    assert translate_config(f)["module"] == "keras.src.models.functional"
    for module in ("keras.engine.sequential", "keras.src.engine.sequential", "tf_keras.src.engine.sequential"):  # fmt: skip
        s = {"module": module, "class_name": "Sequential", "config": {"name": "s", "layers": []}}
        assert translate_config(s)["module"] == "keras"
    # an internal path to a layer: the public namespace that has it in Keras 3
    d = {"module": "keras.src.layers.core.dense", "class_name": "Dense", "config": {"units": 2}}
    assert translate_config(d)["module"] == "keras.layers"
    # public ones stay as they are
    init = {"module": "keras.initializers", "class_name": "Zeros", "config": {}}
    assert translate_config(_layer("Dense", units=2, bias_initializer=init))["config"]["bias_initializer"] == init  # fmt: skip


def test_renamed_layers_and_policies():
    relu = translate_config(_layer("ThresholdedReLU", theta=0.5))
    assert relu["class_name"] == "ReLU" and relu["config"]["threshold"] == 0.5
    assert relu["config"]["negative_slope"] == 0.0 and relu["config"]["max_value"] is None
    policy = {"module": "keras.mixed_precision", "class_name": "Policy", "config": {"name": "mixed_float16"}}  # fmt: skip
    assert _one(_layer("Dense", units=2, dtype=policy))["dtype"] == "mixed_float16"


def test_keras2_hard_sigmoid_is_kept_by_hand():
    """Keras 2's hard_sigmoid is clip(0.2·x + 0.5, 0, 1); Keras 3's is clip(x/6 + 0.5, 0, 1)."""
    import keras
    from keras.src.saving import serialization_lib

    cfg = _one(_layer("Activation", activation="hard_sigmoid"))
    assert cfg["activation"]["config"] == HARD_SIGMOID
    assert _one(_layer("LSTM", units=2, recurrent_activation="hard_sigmoid"))["recurrent_activation"]["config"] == HARD_SIGMOID  # fmt: skip
    with serialization_lib.SafeModeScope(True):
        layer = keras.layers.Activation.from_config(cfg)
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0], np.float32)
    # 0.2·(-1) + 0.5 = 0.3, 0.2·1 + 0.5 = 0.7, and ±3 clip to 0 and 1
    assert np.allclose(keras.ops.convert_to_numpy(layer(x)), [0.0, 0.3, 0.5, 0.7, 1.0])


def test_sequential_without_input_layer_gets_one():
    # Keras 2.2-2.3: the input shape on the first layer, no InputLayer
    seq = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        _layer("Conv1D", filters=4, kernel_size=[3], batch_input_shape=[None, 100, 1], dtype="float32"),
        _layer("Dense", units=2, batch_input_shape=[None, 98, 4])]}}  # fmt: skip
    layers = translate_config(seq)["config"]["layers"]
    assert [ly["class_name"] for ly in layers] == ["InputLayer", "Conv1D", "Dense"]
    assert layers[0]["config"]["batch_input_shape"] == [None, 100, 1]
    assert layers[0]["config"]["name"] == "conv1d_input"
    assert all("batch_input_shape" not in ly["config"] for ly in layers[1:])
    # Keras 2.0-2.2.2 wrote a Sequential's config as the list of its layers
    old = translate_config({"class_name": "Sequential", "config": [_layer("Dense", units=2)]})
    assert [ly["class_name"] for ly in old["config"]["layers"]] == ["Dense"]


def _functional(layers, outputs):
    return {"class_name": "Functional", "config": {
        "name": "outer", "layers": layers, "input_layers": [["x", 0, 0]], "output_layers": outputs}}  # fmt: skip


def _nested(class_name: str, name: str) -> dict:
    inner = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "name": f"{name}_in"}},  # fmt: skip
             _layer("Dense", units=4)]  # fmt: skip
    cfg = {"name": name, "layers": inner}
    if class_name == "Functional":
        cfg.update(input_layers=[[f"{name}_in", 0, 0]], output_layers=[["dense", 0, 0]])
    return {"class_name": class_name, "config": cfg, "name": name}


def test_nested_model_calls_renumbered():
    """Keras 2 numbered a nested model's calls from 1 (its own graph was call 0); Keras 3 from 0,
    except in the output list, where a nested Functional (not a Sequential) still skips one."""
    x = {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "name": "x"},
         "name": "x", "inbound_nodes": []}  # fmt: skip
    sub, seq = _nested("Functional", "sub"), _nested("Sequential", "seq")
    sub["inbound_nodes"] = [[["x", 0, 0, {}]], [["sub", 1, 0, {}]]]  # called twice, shared
    seq["inbound_nodes"] = [[["sub", 2, 0, {}]]]
    add = _layer("Add")
    add["name"], add["inbound_nodes"] = "add", [[["sub", 1, 0, {}], ["seq", 1, 0, {}]]]
    out = translate_config(_functional([x, sub, seq, add], [["add", 0, 0], ["sub", 2, 0], ["seq", 1, 0]]))  # fmt: skip
    layers = {ly["name"]: ly for ly in out["config"]["layers"]}
    assert layers["sub"]["inbound_nodes"] == [[["x", 0, 0, {}]], [["sub", 0, 0, {}]]]
    assert layers["seq"]["inbound_nodes"] == [[["sub", 1, 0, {}]]]
    assert layers["add"]["inbound_nodes"] == [[["sub", 0, 0, {}], ["seq", 0, 0, {}]]]
    assert out["config"]["output_layers"] == [["add", 0, 0], ["sub", 2, 0], ["seq", 0, 0]]


def test_nested_model_numbered_from_zero_is_left_alone():
    x = {"class_name": "InputLayer", "config": {"name": "x"}, "name": "x", "inbound_nodes": []}
    seq = _nested("Sequential", "seq")
    seq["inbound_nodes"] = [[["x", 0, 0, {}]]]
    out = translate_config(_functional([x, seq], [["seq", 0, 0]]))
    assert out["config"]["output_layers"] == [["seq", 0, 0]]


def test_tensor_in_call_kwargs_becomes_keras3_node():
    # MultiHeadAttention(x, value=y): Keras 2 wrote value as [layer, node, tensor] in the kwargs
    mha = _layer("MultiHeadAttention", num_heads=2, key_dim=3)
    mha["inbound_nodes"] = [[["q", 0, 0, {"value": ["v", 0, 0], "training": False}]]]
    out = translate_config(_functional([mha], [["multiheadattention", 0, 0]]))
    node = out["config"]["layers"][0]["inbound_nodes"][0]
    assert node["args"][0]["config"]["keras_history"] == ["q", 0, 0]
    assert node["kwargs"]["value"]["config"]["keras_history"] == ["v", 0, 0]
    assert node["kwargs"]["training"] is False


def test_attention_score_mode_keeps_its_string():
    # without a module, Keras 3's .h5 reader would turn "dot" into the function keras.layers.dot
    att = translate_config(_layer("Attention", score_mode="dot", use_scale=False))
    assert att["module"] == "keras.layers" and att["config"]["score_mode"] == "dot"


def test_translation_leaves_its_argument_alone():
    cfg = _layer("DepthwiseConv2D", groups=1)
    before = copy.deepcopy(cfg)
    translate_config(cfg)
    assert cfg == before


def test_refused_names_the_class_and_the_way_out():
    lam = _functional([_layer("Lambda", function=["abc", None, None])], [])
    why = refused(translate_config(lam))
    assert "Lambda" in why and "--unsafe-load" in why
    assert refused(translate_config(lam), unsafe=True) is None
    custom = _functional([{"class_name": "mine>Scale", "config": {"name": "scale"}}], [])
    why = refused(translate_config(custom))
    assert "'Scale' (package 'mine')" in why and "register_keras_serializable" in why
    tfop = _functional([_layer("TFOpLambda", function="math.cumsum")], [])
    assert "TFOpLambda calling tf.math.cumsum" in refused(translate_config(tfop))
    assert refused(translate_config(tfop), unsafe=True) is None
    # a pure tensor function of the allow-list is rebuilt, in safe mode too
    add = _functional([_layer("TFOpLambda", function="math.add")], [])
    assert refused(translate_config(add)) is None
    # a custom class inside a wrapper is found too
    wrapped = _functional([_layer("TimeDistributed", layer={"class_name": "MyDense", "config": {}})], [])  # fmt: skip
    assert "'MyDense'" in refused(translate_config(wrapped))
    assert refused(translate_config(_functional([_layer("Dense", units=2)], []))) is None


# --- files in the shape Keras 2 writes them -------------------------------------------------

_GROUPED = ("DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D")
_RNNS = ("LSTM", "GRU", "SimpleRNN")


def _ref(t: dict, shift: dict) -> list:
    name, node, tensor = t["config"]["keras_history"]
    return [name, node + shift.get(name, 0), tensor]


def _keras2_node(node: dict, shift: dict) -> list:
    """A Keras 3 node ({"args", "kwargs"}) as Keras 2 wrote it: [[layer, node, tensor, kwargs]]."""
    (arg,) = node["args"]
    tensors = arg if isinstance(arg, list) else [arg]
    kwargs = {k: v for k, v in node["kwargs"].items() if v is not None}
    return [_ref(t, shift) + [kwargs] for t in tensors]


def _as_keras2(obj, keras_module: bool):
    """A config Keras 3 wrote, rewritten the way Keras 2.15 writes it."""
    if isinstance(obj, list):
        return [_as_keras2(v, keras_module) for v in obj]
    if not isinstance(obj, dict):
        return obj
    obj = {k: _as_keras2(v, keras_module) for k, v in obj.items()}
    name, cfg = obj.get("class_name"), obj.get("config")
    if not isinstance(cfg, dict):
        return obj
    if obj.get("module") == "keras.src.models.functional":
        obj["module"] = "keras.src.engine.functional"
    if name == "InputLayer":
        cfg["batch_input_shape"] = cfg.pop("batch_shape")
        cfg.pop("optional", None)
    if name in _GROUPED:
        cfg["groups"] = 1
    if name in _RNNS:
        cfg["time_major"] = False
    if name == "BatchNormalization":
        cfg["axis"] = [cfg["axis"]]
    if isinstance(cfg.get("dtype"), dict):
        cfg["dtype"] = cfg["dtype"]["config"]["name"]
    if isinstance(cfg.get("layers"), list) and "input_layers" in cfg:
        # Keras 2 numbers a nested model's calls from 1; in the output list Keras 3 already
        # does so for a nested Functional, not for a nested Sequential
        nested = {ly["name"]: ly["class_name"] for ly in cfg["layers"] if "layers" in ly["config"]}
        for ly in cfg["layers"]:
            ly["inbound_nodes"] = [_keras2_node(n, dict.fromkeys(nested, 1)) for n in ly["inbound_nodes"]]  # fmt: skip
        seq = {n: 1 for n, c in nested.items() if c == "Sequential"}
        for key in ("input_layers", "output_layers"):  # Keras 2 always wrote a list of them
            refs = cfg[key] if isinstance(cfg[key][0], list) else [cfg[key]]
            cfg[key] = [[n, i + seq.get(n, 0), t] for n, i, t in refs]
    return obj


def _write_keras2_h5(model, path: Path) -> Path:
    import h5py

    model.save(path)
    with h5py.File(path, "r+") as f:
        cfg = json.loads(f.attrs["model_config"])
        f.attrs["model_config"] = json.dumps(_as_keras2(cfg, keras_module=False))
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f["model_weights"].attrs["keras_version"] = "2.15.0"
    return path


def _write_keras2_zip(model, path: Path) -> Path:
    keras3 = path.with_name("keras3_" + path.name)
    model.save(keras3)
    with zipfile.ZipFile(keras3) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "config.json":
                data = json.dumps(_as_keras2(json.loads(data), keras_module=True)).encode()
            elif info.filename == "metadata.json":
                data = json.dumps({"keras_version": "2.15.0", "date_saved": "2024-01-01@00:00:00"}).encode()  # fmt: skip
            out.writestr(info.filename, data)
    return path


def _conv_lstm_model():
    """DepthwiseConv2D, BatchNormalization and an LSTM, as small ECG-style models have them."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    x = keras.Input((16, 4, 2))
    y = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)  # 16·4·2 outputs × 9 = 1,152
    y = layers.Conv2D(4, 1, use_bias=False)(y)  # 16·4 positions × 4 × 2 = 512
    y = layers.BatchNormalization()(y)
    y = layers.Reshape((16, 16))(y)
    y = layers.LSTM(5)(y)
    y = layers.Dense(3, activation="softmax")(y)  # 5 × 3 = 15
    model = keras.Model(x, y)
    bn = model.layers[3]
    bn.moving_mean.assign(np.linspace(-0.5, 0.5, 4).astype(np.float32))
    bn.moving_variance.assign(np.linspace(0.5, 2.0, 4).astype(np.float32))
    return model


def _nested_model():
    """A nested Sequential and a nested Functional called twice (shared)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(1)
    enc = keras.Sequential([keras.Input((32, 1)), layers.Conv1D(4, 3), layers.GlobalAveragePooling1D()], name="enc")  # fmt: skip
    hi = keras.Input((4,))
    head = keras.Model(hi, layers.Dense(4, activation="tanh")(hi), name="head")
    x = keras.Input((32, 1))
    e = enc(x)
    y = head(head(e))
    return keras.Model(x, layers.Dense(2)(layers.Concatenate()([e, y])))


@pytest.fixture(scope="module")
def models():
    return {"conv_lstm": _conv_lstm_model(), "nested": _nested_model()}


def _x(model, seed=0):
    shape = (3,) + tuple(model.inputs[0].shape[1:])
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("name", ["conv_lstm", "nested"])
@pytest.mark.parametrize("fmt", ["h5", "keras"])
def test_keras2_file_loads_with_same_predictions_and_counts(models, tmp_path, name, fmt):
    import keras

    model = models[name]
    writer = _write_keras2_h5 if fmt == "h5" else _write_keras2_zip
    path = writer(model, tmp_path / f"{name}.{fmt}")
    assert keras2_version(str(path)) == "2.15.0"
    # the file really is in Keras 2's shape: Keras 3 alone refuses it
    with pytest.raises((TypeError, ValueError)):
        keras.saving.load_model(path, compile=False)
    loaded = load_keras(str(path))
    x = _x(model)
    assert np.allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    original = tmp_path / f"{name}_keras3.keras"
    model.save(original)
    assert count_file(str(path)).counts.totals()["macs"] == count_file(str(original)).counts.totals()["macs"]  # fmt: skip


def test_conv_lstm_macs_by_hand(models, tmp_path):
    # DepthwiseConv2D 1,152 + Conv2D 512 + LSTM 16 steps × 4 gates × 5 units × (16 + 5) = 6,720
    # + Dense 15
    path = _write_keras2_h5(models["conv_lstm"], tmp_path / "m.h5")
    assert count_file(str(path)).counts.totals()["macs"] == 1152 + 512 + 6720 + 15


def test_keras2_versions_and_keras3_files(models, tmp_path):
    model = models["conv_lstm"]
    for ext in ("h5", "keras"):
        model.save(tmp_path / f"k3.{ext}")
        assert keras2_version(str(tmp_path / f"k3.{ext}")) is None  # Keras 3 loads it as before
        assert load_keras(str(tmp_path / f"k3.{ext}")).count_params() == model.count_params()
    (tmp_path / "junk.h5").write_bytes(b"not a model")
    assert keras2_version(str(tmp_path / "junk.h5")) is None


def test_keras2_file_keras3_already_read_gives_the_same_model(tmp_path):
    import keras

    keras.utils.set_random_seed(2)
    x = keras.Input((8, 1))
    y = keras.layers.Conv1D(3, 3, activation="relu")(x)
    model = keras.Model(x, keras.layers.Dense(2)(keras.layers.Flatten()(y)))
    path = _write_keras2_h5(model, tmp_path / "plain.h5")
    direct = keras.saving.load_model(path, compile=False)  # no Keras 2 quirk in this one
    translated = load_keras(str(path))
    for a, b in zip(direct.get_weights(), translated.get_weights()):
        assert np.array_equal(a, b)
    xs = _x(model)
    assert np.array_equal(direct.predict(xs, verbose=0), translated.predict(xs, verbose=0))


def test_keras2_lambda_is_refused(tmp_path):
    import keras

    x = keras.Input((4,))
    model = keras.Model(x, keras.layers.Dense(2)(keras.layers.Lambda(lambda t: t * 2.0, name="double")(x)))  # fmt: skip
    path = _write_keras2_h5(model, tmp_path / "lam.h5")
    with pytest.raises(ModelError) as err:
        load_keras(str(path))
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg
    assert "'double' is a Lambda" in msg and "--unsafe-load" in msg


def test_keras2_unknown_custom_class_is_refused(tmp_path):
    import h5py
    import keras

    x = keras.Input((4,))
    model = keras.Model(x, keras.layers.Dense(2, name="mine")(x))
    path = _write_keras2_zip(model, tmp_path / "custom.keras")
    h5path = _write_keras2_h5(model, tmp_path / "custom.h5")
    with h5py.File(h5path, "r+") as f:
        f.attrs["model_config"] = f.attrs["model_config"].replace('"Dense"', '"lab>Scaler"')
    with zipfile.ZipFile(path) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist()}
    cfg = json.loads(files["config.json"])
    dense = cfg["config"]["layers"][1]
    dense.update(module="lab.layers", class_name="Scaler", registered_name="lab>Scaler")
    files["config.json"] = json.dumps(cfg).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    for p in (path, h5path):
        with pytest.raises(ModelError) as err:
            load_keras(str(p))
        msg = str(err.value)
        assert "\n" not in msg and str(p) in msg
        assert "'Scaler' (package 'lab')" in msg and "register_keras_serializable" in msg


# --- the real MLPerf Tiny files -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, macs",
    [("vww_96.h5", 7_489_664), ("str_ww_ref_model.h5", 826_368)],  # as their .tflite versions
)
def test_real_keras2_files(name, macs):
    path = MLPERF / name
    if not path.is_file():
        pytest.skip(f"{path} is not beside this checkout")
    assert keras2_version(str(path)).startswith("2.")
    assert count_file(str(path)).counts.totals()["macs"] == macs


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_keras_3_file_with_a_custom_class_is_refused_naming_it(tmp_path, suffix):
    import keras

    from ecg_energy.errors import ModelError
    from ecg_energy.models.io import load_keras

    @keras.saving.register_keras_serializable(package="mine")
    class Doubling(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    path = tmp_path / f"custom{suffix}"
    keras.Sequential([keras.Input((10, 1)), Doubling(), keras.layers.Flatten(),
                      keras.layers.Dense(2)]).save(path)  # fmt: skip
    keras.saving.get_custom_objects().pop("mine>Doubling")  # a class this process does not have
    with pytest.raises(ModelError, match=r"custom class 'Doubling' \(package 'mine'\).*"
                                         r"register_keras_serializable"):  # fmt: skip
        load_keras(str(path))
