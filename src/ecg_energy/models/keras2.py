"""Keras 2 model files in Keras 3: the config translated, the file's own weights loaded.

Keras 2.2-2.15 wrote ``.h5`` files (and 2.13-2.15 ``.keras`` zips) whose configs Keras 3 refuses or
misreads: keys it no longer has (``groups`` in DepthwiseConv2D, ``time_major`` in RNNs, ...),
module paths and layers that moved, and another numbering of a nested model's calls.
:func:`translate_config` rewrites such a config (a pure function over the JSON dict);
:func:`load_keras2` hands the rewritten config, with the file's weights untouched, to Keras 3's own
loaders. Code stays refused as for Keras 3 files: a Lambda layer needs ``--unsafe-load``, an
unregistered custom class is named and refused, nothing is unpickled.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile

from ..errors import ModelError
from .keras2_tfop import ALLOWED, TFOP_CLASS

UNSAFE_HINT = "if you trust this file, pass --unsafe-load"
CUSTOM_HINT = (
    "custom code is refused: register it with keras.saving.register_keras_serializable in your "
    "own code and load the model there"
)

# Keras 2 wrote `groups` (always 1) for every convolution; these Keras 3 classes do not take it
_NO_GROUPS = {
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
}
# Keras 2's separable convolutions also wrote their base class's unused kernel_* settings
_SEPARABLE = {"SeparableConv1D", "SeparableConv2D"}
_SEPARABLE_UNUSED = ("kernel_initializer", "kernel_regularizer", "kernel_constraint")
# Keras 3's spatial dropouts take only rate, seed, name and dtype
_SPATIAL_DROPOUT = {"SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"}
# Keras 2 stored the shapes a MultiHeadAttention was built for; Keras 3 builds it when called
_MHA_SHAPES = ("query_shape", "key_shape", "value_shape")
# Keras 2 model classes and where Keras 3 keeps them (the `.keras` format names modules)
_MODEL_MODULES = {
    "Functional": "keras.src.models.functional",
    "Model": "keras",
    "Sequential": "keras",
}
# where Keras 2 and tf_keras kept their model classes, and their own internal paths
_ENGINE = ("keras.engine", "keras.src.engine", "tf_keras")
_PUBLIC_MODULES = ("keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints")
# Keras 2 layers that Keras 3 does not have (refused with this reason)
_REMOVED = {
    "TFOpLambda": "a TensorFlow function applied to a Keras tensor",
    "SlicingOpLambda": "a TensorFlow slice of a Keras tensor",
    "LocallyConnected1D": "a locally connected layer",
    "LocallyConnected2D": "a locally connected layer",
    "DenseFeatures": "a feature-column layer",
    "RandomFourierFeatures": "an experimental layer",
}
# cuDNN-only recurrent layers and the standard layer each is (Keras 2 converted their weights
# the same way when it loaded one into the other)
CUDNN = {"CuDNNLSTM": "LSTM", "CuDNNGRU": "GRU"}
_CUDNN_KEYS = {"name", "trainable", "dtype", "units", "return_sequences", "return_state",
               "go_backwards", "stateful", "kernel_initializer", "recurrent_initializer",
               "bias_initializer", "unit_forget_bias", "kernel_regularizer",
               "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
               "kernel_constraint", "recurrent_constraint", "bias_constraint"}  # fmt: skip
REMOVED_HINT = "rebuild it from Keras 3 layers, or convert it to .tflite with TensorFlow 2.15"


def keras2_version(path: str) -> str | None:
    """The Keras version that wrote a model file when it is Keras 2 (``"2.15.0"``), else None.

    Unreadable files give None too: Keras 3's own loading then reports them as before.
    """
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                info = zf.getinfo("metadata.json")
                if info.file_size > 1 << 20:
                    return None
                version = json.loads(zf.read(info)).get("keras_version")
        else:
            import h5py

            with h5py.File(path, "r") as f:
                if "model_config" not in f.attrs:
                    return None
                version = f.attrs.get("keras_version")
    except Exception:  # not a zip, not HDF5, no metadata: not ours to judge
        return None
    if isinstance(version, bytes):
        version = version.decode("utf-8", "replace")
    if isinstance(version, str) and version.split(".")[0] == "2":
        return version
    return None


# --- the config -----------------------------------------------------------------------------


def translate_config(config: dict) -> dict:
    """A Keras 2 model config (``model_config`` of an ``.h5``, ``config.json`` of a ``.keras``)
    rewritten so that Keras 3.15 builds the same model; the argument is left as it was.

    Raises ModelError (without a file name) for a setting Keras 3 has no equivalent for.
    """
    return _translate(copy.deepcopy(config))


def _translate(obj):
    if isinstance(obj, list):
        return [_translate(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if _is_object(obj):
        _rename(obj)
        if obj["class_name"] == "Sequential" and isinstance(obj["config"], list):
            obj["config"] = {"name": "sequential", "layers": obj["config"]}  # Keras 2.0-2.2.2
        if isinstance(obj["config"], dict):
            _fix_settings(obj)
            if isinstance(obj["config"].get("layers"), list):
                _fix_model(obj)
    for key, value in obj.items():
        obj[key] = _translate(value)
    return obj


def _is_object(obj: dict) -> bool:
    """A serialized Keras object (not a tensor, tuple or other special value)."""
    name = obj.get("class_name")
    return isinstance(name, str) and not name.startswith("__") and "config" in obj


def _rename(obj: dict) -> None:
    """Layers Keras 3 renamed, and module paths of the ``.keras`` format that moved."""
    name = obj["class_name"]
    cfg = obj["config"]
    if name == "ThresholdedReLU" and isinstance(cfg, dict):
        # x if x > theta else 0; ReLU(threshold) differs only at x == theta exactly
        obj["class_name"] = "ReLU"
        cfg["threshold"] = float(cfg.pop("theta", 1.0))
        cfg.update(negative_slope=0.0, max_value=None)
        if "module" in obj:
            obj["module"] = "keras.layers"
    elif name == "TFOpLambda" and isinstance(cfg, dict) and isinstance(cfg.get("function"), str):
        # a TensorFlow function on a Keras tensor: rebuilt as a fixed keras.ops call when it is a
        # pure tensor function (refused below otherwise, unless the user trusts the file)
        from .keras2_tfop import TFOP_CLASS, tfop_layer_class

        tfop_layer_class()
        obj["class_name"] = obj["registered_name"] = TFOP_CLASS
        if "module" in obj:
            obj["module"] = "ecg_energy.models.keras2_tfop"
        return
    elif name in CUDNN and isinstance(cfg, dict):
        # a cuDNN-only LSTM/GRU is the standard layer with cuDNN's fixed activations; its
        # weights are converted when loaded (keras2_weights.cudnn_*_weights)
        std = CUDNN[name]
        obj["class_name"] = std
        keep = {k: v for k, v in cfg.items() if k in _CUDNN_KEYS}
        cfg.clear()
        cfg.update(keep, activation="tanh", recurrent_activation="sigmoid", use_bias=True)
        if std == "GRU":
            cfg["reset_after"] = True
        if "module" in obj:
            obj["module"] = "keras.layers"
    elif name == "SyncBatchNormalization" and isinstance(cfg, dict):
        obj["class_name"] = "BatchNormalization"
        cfg["synchronized"] = True
        if "module" in obj:
            obj["module"] = "keras.layers"
    module = obj.get("module")
    if not isinstance(module, str):
        return
    name = obj["class_name"]
    if name in _MODEL_MODULES and module.startswith(_ENGINE):
        obj["module"] = _MODEL_MODULES[name]
        obj["registered_name"] = "Functional" if name == "Functional" else None
    elif module.startswith(("keras.src.", *_ENGINE)):
        # an internal Keras 2 path: the public namespace that has the class in Keras 3
        from keras.src.api_export import get_symbol_from_name

        for public in _PUBLIC_MODULES:
            if get_symbol_from_name(f"{public}.{name}") is not None:
                obj["module"] = public
                break


def _drop_default(cfg: dict, key: str, default, cls: str) -> None:
    if key not in cfg:
        return
    value = cfg.pop(key)
    if value != default:
        raise ModelError(
            f"its {cls} layer '{cfg.get('name', '?')}' has {key}={value!r}, which Keras 3 "
            f"does not support; re-save it with {key}={default!r}"
        )


def _fix_settings(obj: dict) -> None:
    """Keys Keras 3 rejects or reads differently, class by class."""
    name, cfg = obj["class_name"], obj["config"]
    if name in _NO_GROUPS:
        _drop_default(cfg, "groups", 1, name)
    if name in _SEPARABLE:
        for key in _SEPARABLE_UNUSED:
            cfg.pop(key, None)
    if "time_major" in cfg:  # every Keras 2 RNN (LSTM, GRU, SimpleRNN, RNN, ConvLSTM*)
        _drop_default(cfg, "time_major", False, name)
    if name in _SPATIAL_DROPOUT:
        cfg.pop("trainable", None)
        cfg.pop("noise_shape", None)
    if name == "MultiHeadAttention":
        for key in _MHA_SHAPES:
            cfg.pop(key, None)
        obj.pop("build_config", None)  # one input shape; Keras 3 builds it when the graph calls it
    if name == "Lambda" and "module" in obj:
        # (loaded only with --unsafe-load) the .keras format kept Keras 2's function list, which
        # Keras 3 reads only in .h5 files: the same rewrite its .h5 reader does
        for key in ("module", "function_type", "output_shape_type", "output_shape_module"):
            cfg.pop(key, None)
        fn = cfg.get("function")
        if isinstance(fn, list) and len(fn) == 3:
            cfg["function"] = {"class_name": "__lambda__",
                               "config": {"code": fn[0], "defaults": fn[1], "closure": fn[2]}}  # fmt: skip
    for key in _INT_SETTINGS & set(cfg):
        cfg[key] = _whole(cfg[key], key, name, cfg)
    dtype = cfg.get("dtype")
    if isinstance(dtype, dict) and dtype.get("class_name") == "Policy":
        # a Keras 2 mixed-precision policy; Keras 3 takes its name ("mixed_float16")
        cfg["dtype"] = (dtype.get("config") or {}).get("name", "float32")
    for key, value in cfg.items():
        if value == "hard_sigmoid" and (key == "activation" or key.endswith("_activation")):
            cfg[key] = _keras2_hard_sigmoid()
    axis = cfg.get("axis")
    if isinstance(axis, list) and len(axis) == 1 and isinstance(axis[0], int):
        cfg["axis"] = axis[0]  # BatchNormalization wrote [3]; Keras 3 wants 3
    if name != "InputLayer":
        # the model's InputLayer carries the shape (added below for old Sequential configs)
        cfg.pop("batch_input_shape", None)
    if "module" not in obj and _layer_function_value(cfg):
        # Keras 3's legacy reader turns a string such as Attention's score_mode="dot" into the
        # function keras.layers.dot; its current reader, chosen by a module, keeps the string
        from keras.src.api_export import get_symbol_from_name

        if get_symbol_from_name(f"keras.layers.{name}") is not None:
            obj["module"] = "keras.layers"
            obj["registered_name"] = None


# settings that are whole numbers (or lists of them): Keras 2 on TensorFlow 1 took 187.0 where
# 187 was meant (a shape computed with `/`); TensorFlow 2 refuses it ("Dimension value must be
# integer or None")
_INT_SETTINGS = {"batch_input_shape", "batch_shape", "input_shape", "target_shape", "dims",
                 "kernel_size", "pool_size", "strides", "dilation_rate", "size", "cropping",
                 "units", "filters", "depth_multiplier", "n", "input_dim", "output_dim",
                 "input_length", "num_heads", "key_dim", "value_dim"}  # fmt: skip


def _whole(value, key: str, cls: str, cfg: dict):
    if isinstance(value, list):
        return [_whole(v, key, cls, cfg) for v in value]
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ModelError(
            f"its {cls} layer '{cfg.get('name', '?')}' has {key} {value!r}, not a whole "
            "number; re-save the model with whole-number sizes"
        )
    return value


HARD_SIGMOID = "ecg_energy>keras2_hard_sigmoid"


def _keras2_hard_sigmoid() -> dict:
    """Keras 2's hard_sigmoid, clip(0.2·x + 0.5, 0, 1), as a config: Keras 3's own is
    clip(x/6 + 0.5, 0, 1), another function under the same name (the default recurrent
    activation of Keras 2's ConvLSTM layers and of LSTM/GRU before tf.keras)."""
    import keras

    if keras.saving.get_registered_object(HARD_SIGMOID) is None:

        def hard_sigmoid(x):
            return keras.ops.clip(0.2 * x + 0.5, 0.0, 1.0)

        package, name = HARD_SIGMOID.split(">")
        keras.saving.register_keras_serializable(package=package, name=name)(hard_sigmoid)
    return {"module": "builtins", "class_name": "function", "config": HARD_SIGMOID,
            "registered_name": "function"}  # fmt: skip


_LAYER_FUNCTIONS = {"add", "average", "concatenate", "dot", "maximum", "minimum", "multiply",
                    "subtract", "Input", "serialize", "deserialize"}  # fmt: skip


def _layer_function_value(cfg: dict) -> bool:
    return any(k != "name" and isinstance(v, str) and v in _LAYER_FUNCTIONS for k, v in cfg.items())


def _fix_model(obj: dict) -> None:
    cfg = obj["config"]
    layers = cfg["layers"]
    if "input_layers" not in cfg:  # a Sequential
        first = layers[0] if layers else None
        if (
            isinstance(first, dict)
            and first.get("class_name") != "InputLayer"
            and isinstance(first.get("config"), dict)
            and "batch_input_shape" in first["config"]
        ):
            # Keras 2.2-2.3 kept the input shape on the first layer, without an InputLayer
            fcfg = first["config"]
            dtype = fcfg.get("dtype") if isinstance(fcfg.get("dtype"), str) else "float32"
            inp = {
                "class_name": "InputLayer",
                "config": {
                    "batch_input_shape": fcfg["batch_input_shape"],
                    "dtype": dtype,
                    "sparse": False,
                    "name": f"{fcfg.get('name', 'layer')}_input",
                },
            }
            if "module" in first:
                inp.update(module="keras.layers", registered_name=None)
            layers.insert(0, inp)
        return
    # Keras 2 counted a nested model's own graph as its call 0 (tf.keras when the nested model
    # starts with an InputLayer, Keras 2.2 always), so its calls in the outer graph are 1, 2...;
    # Keras 3 counts them from 0, except in the model's input/output lists, where it still skips
    # one for a nested Functional (not for a nested Sequential). Every call a config keeps is
    # used, so the smallest call number the config gives a nested model tells the numbering.
    used: dict[str, list[int]] = {}
    for ref in _iter_refs([ly.get("inbound_nodes") for ly in layers if isinstance(ly, dict)]):
        used.setdefault(ref[0], []).append(ref[1])
    for ref in _iter_refs(cfg.get("output_layers")):
        used.setdefault(ref[0], []).append(ref[1])
    inner, outer = {}, {}
    for ly in layers:
        if not (isinstance(ly, dict) and _is_model(ly) and used.get(ly.get("name"))):
            continue
        skipped = 1 if min(used[ly["name"]]) >= 1 else 0
        functional = ly.get("class_name") in ("Functional", "Model")
        inner[ly["name"]] = -skipped
        outer[ly["name"]] = (1 if functional else 0) - skipped
    for ly in layers:
        if isinstance(ly, dict) and isinstance(ly.get("inbound_nodes"), list):
            ly["inbound_nodes"] = [_node(n, inner) for n in ly["inbound_nodes"]]
    for key in ("input_layers", "output_layers"):
        if key in cfg:
            cfg[key] = _shift_refs(cfg[key], outer)


def _is_model(layer: dict) -> bool:
    """A nested Functional or Sequential (Keras 2.0-2.2.2 wrote a Sequential as a list)."""
    cfg = layer.get("config")
    return isinstance(cfg, list) or (isinstance(cfg, dict) and isinstance(cfg.get("layers"), list))


def _iter_refs(x):
    """Every tensor reference in a structure; an inbound node's carry their call's keyword
    arguments as a fourth item: ``[name, node_index, tensor_index, {kwargs}]``."""
    if _is_ref(x):
        yield x
    elif isinstance(x, list) and len(x) == 4 and _is_ref(x[:3]) and isinstance(x[3], dict):
        yield x[:3]
        yield from _iter_refs(x[3])
    elif isinstance(x, list):
        for v in x:
            yield from _iter_refs(v)
    elif isinstance(x, dict):
        for v in x.values():
            yield from _iter_refs(v)


def _is_ref(x) -> bool:
    """``[layer_name, node_index, tensor_index]``: a tensor as Keras 2 wrote it."""
    return (
        isinstance(x, list)
        and len(x) == 3
        and isinstance(x[0], str)
        and isinstance(x[1], int)
        and isinstance(x[2], int)
    )


def _shift_refs(x, shift: dict):
    """Tensor references with the call numbers of the named layers moved by ``shift[name]``."""
    if _is_ref(x):
        return [x[0], x[1] + shift.get(x[0], 0), x[2]]
    if isinstance(x, list):
        return [_shift_refs(v, shift) for v in x]
    if isinstance(x, dict) and "class_name" not in x:
        return {k: _shift_refs(v, shift) for k, v in x.items()}
    return x


def _has_ref(x) -> bool:
    if _is_ref(x):
        return True
    if isinstance(x, list):
        return any(_has_ref(v) for v in x)
    if isinstance(x, dict):
        return any(_has_ref(v) for v in x.values())
    return False


def _node(node, shift: dict):
    """One call of a layer: the call numbers of nested models shifted; a call whose keyword
    arguments hold tensors (MultiHeadAttention's ``value``) in Keras 3's own form."""
    if not isinstance(node, list):
        return node  # already Keras 3's form
    if node and isinstance(node[0], str):
        node = [node]  # one input written flat
    refs = [_shift_refs(list(r[:3]), shift) + list(r[3:]) for r in node if isinstance(r, list)]
    kwargs = refs[-1][3] if refs and len(refs[-1]) > 3 else {}
    if not (isinstance(kwargs, dict) and _has_ref(kwargs)):
        return refs
    kwargs = _shift_refs(kwargs, shift)
    tensors = [_keras_tensor(r[:3]) for r in refs]
    return {
        "args": [tensors[0] if len(tensors) == 1 else tensors],
        "kwargs": _tensors_in(kwargs),
    }


def _keras_tensor(ref: list) -> dict:
    # the shape is a placeholder: Keras 3 takes the real tensor from the named layer's call
    return {"class_name": "__keras_tensor__",
            "config": {"shape": [], "dtype": "float32", "keras_history": list(ref)}}  # fmt: skip


def _tensors_in(x):
    if _is_ref(x):
        return _keras_tensor(x)
    if isinstance(x, list):
        return [_tensors_in(v) for v in x]
    if isinstance(x, dict):
        return {k: _tensors_in(v) for k, v in x.items()}
    return x


# --- what is refused ------------------------------------------------------------------------


def refused(config: dict, unsafe: bool = False) -> str | None:
    """Why a (translated) config cannot be loaded safely, in one line without the file name;
    None when it can: a Lambda layer (unless ``unsafe``), a Keras 2 layer Keras 3 does not
    have, or a custom class this process does not know."""
    for obj in _layer_objects(config):
        name = obj.get("class_name")
        cfg = obj.get("config") if isinstance(obj.get("config"), dict) else {}
        label = cfg.get("name") or obj.get("name") or "?"
        if name == "Lambda":
            if unsafe:
                continue
            return (
                f"its layer '{label}' is a Lambda (Python code stored in the file); refused. "
                f"{UNSAFE_HINT}"
            )
        if name == TFOP_CLASS:
            function = cfg.get("function")
            if function not in ALLOWED and not unsafe:
                return (
                    f"its layer '{label}' is a TFOpLambda calling tf.{function}, which is not "
                    f"among the pure tensor functions rebuilt safely; refused. {UNSAFE_HINT}"
                )
            continue
        if name == "TorchModuleWrapper":  # never unpickled, not even with --unsafe-load
            return f"its layer '{label}' is a TorchModuleWrapper (a pickled torch module); refused"
        if name in _REMOVED:
            return (
                f"its layer '{label}' is a {name} ({_REMOVED[name]}), which Keras 3 does not "
                f"have; {REMOVED_HINT}"
            )
        registered = obj.get("registered_name")
        if not _known_class(name, registered):
            shown = registered if isinstance(registered, str) and ">" in registered else name
            return f"uses the custom class {_custom_name(shown)}, which this tool does not know; {CUSTOM_HINT}"
    return None


def _custom_name(name) -> str:
    name = str(name)
    if ">" in name:  # "package>Class", as register_keras_serializable names it
        package, cls = name.split(">", 1)
        return f"'{cls}' (package '{package}')"
    return f"'{name}'"


def _layer_objects(obj):
    """The model and every layer inside it (sub-models, wrapped layers, RNN cells)."""
    if not isinstance(obj, dict) or not _is_object(obj):
        return
    yield obj
    cfg = obj["config"]
    if not isinstance(cfg, dict):
        return
    for key in ("layers", "cells"):
        for child in cfg.get(key) or []:
            yield from _layer_objects(child)
    for key in ("layer", "backward_layer", "cell"):
        child = cfg.get(key)
        if isinstance(child, list):
            for c in child:
                yield from _layer_objects(c)
        else:
            yield from _layer_objects(child)


def _known_class(name, registered_name) -> bool:
    import inspect

    import keras

    if not isinstance(name, str):
        return False
    if name in ("Functional", "Model", "Sequential", "InputLayer"):
        return True
    if inspect.isclass(getattr(keras.layers, name, None)):
        return True
    for key in (registered_name, name):
        if isinstance(key, str) and keras.saving.get_registered_object(key) is not None:
            return True
    return False


# --- loading --------------------------------------------------------------------------------


def load_keras2(path: str, version: str, unsafe: bool = False):
    """A Keras 2 ``.h5`` or ``.keras`` file as a Keras 3 model, safely; one ModelError line
    naming the file and the fix otherwise."""
    from .keras2_tfop import trusted

    try:
        with trusted(unsafe):
            if zipfile.is_zipfile(path):
                return _load_zip(path, version, unsafe)
            return _load_h5(path, version, unsafe)
    except ModelError:
        raise
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{path}: not a valid .keras file (corrupt or truncated)") from exc
    except Exception as exc:  # every failure on a user's file is one line naming the layer
        raise ModelError(f"{path}: {_explain(exc, version)}") from exc


def stored_config(path: str) -> dict | None:
    """The model config a ``.keras`` zip or an ``.h5`` file holds (None when unreadable)."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                return json.loads(zf.read("config.json"))
        import h5py

        with h5py.File(path, "r") as src:
            raw = src.attrs["model_config"]
            return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def _checked(path: str, config, unsafe: bool) -> dict:
    if not isinstance(config, dict):
        raise ModelError(f"{path}: its model config is not a Keras model; re-save the model")
    try:
        config = translate_config(config)
    except ModelError as exc:
        raise ModelError(f"{path}: {exc}") from exc
    why = refused(config, unsafe)
    if why:
        raise ModelError(f"{path}: {why}")
    return config


def _load_h5(path: str, version: str, unsafe: bool):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "r") as src:
        raw = src.attrs["model_config"]
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        config = _checked(path, json.loads(raw), unsafe)
        if "model_weights" not in src:
            raise ModelError(f"{path}: has no model_weights (a config without weights)")
        # the same file, in memory, with the translated config: Keras 3's reader does the rest
        mem = h5py.File(io.BytesIO(), "w")
        try:
            for key, value in src.attrs.items():
                if key != "training_config":
                    mem.attrs[key] = value
            mem.attrs["model_config"] = json.dumps(config)
            src.copy(src["model_weights"], mem, "model_weights")
            cudnn = _cudnn_layers(json.loads(raw))
            if cudnn:
                from .keras2_weights import convert_cudnn_h5

                convert_cudnn_h5(mem["model_weights"], cudnn)
            return legacy_h5_format.load_model_from_hdf5(mem, compile=False, safe_mode=not unsafe)
        finally:
            mem.close()


# a member declaring far more bytes than it stores is a decompression bomb (Keras's own rule)
_BOMB_FLOOR, _BOMB_RATIO = 1 << 28, 100


def _load_zip(path: str, version: str, unsafe: bool):
    from keras.src.saving import saving_lib

    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.file_size > _BOMB_FLOOR and info.file_size > _BOMB_RATIO * info.compress_size:
                raise ModelError(
                    f"{path}: member {info.filename} declares {info.file_size} bytes but stores "
                    f"{info.compress_size}; refused as a possible decompression bomb"
                )
        raw = json.loads(zf.read("config.json"))
        cudnn = _cudnn_layers(raw)
        if cudnn:
            name, cls = next(iter(cudnn.items()))
            raise ModelError(
                f"{path}: its layer '{name}' is a {cls}, whose cuDNN weights are converted only "
                f"from .h5 files; save the model as .h5 in Keras 2, or rebuild the layer as "
                f"{CUDNN[cls]} and load its weights there"
            )
        config = _checked(path, raw, unsafe)
        config["compile_config"] = None  # counting and running need no optimizer
        weights = _keras3_weights(zf, raw, config, unsafe)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as out:
            for info in zf.infolist():
                if info.filename == "config.json":
                    out.writestr("config.json", json.dumps(config))
                elif info.filename == _WEIGHTS and weights is not None:
                    out.writestr(_WEIGHTS, weights)
                else:
                    with (
                        zf.open(info) as fin,
                        out.open(info.filename, "w", force_zip64=True) as fout,
                    ):
                        while chunk := fin.read(1 << 20):
                            fout.write(chunk)
    buf.seek(0)
    return saving_lib.load_model(buf, compile=False, safe_mode=not unsafe)


def _cudnn_layers(raw) -> dict[str, str]:
    """The cuDNN-only recurrent layers of a Keras 2 config: name -> class."""
    return {
        obj["config"]["name"]: obj["class_name"]
        for obj in _layer_objects(raw)
        if obj.get("class_name") in CUDNN and isinstance(obj.get("config"), dict)
    }


_WEIGHTS = "model.weights.h5"


def _keras3_weights(zf: zipfile.ZipFile, raw: dict, config: dict, unsafe: bool) -> bytes | None:
    """The archive's weights in Keras 3's layout when Keras 2.13-2.15 wrote them in its own
    (:mod:`.keras2_weights`); None when they are already readable as they are."""
    import h5py
    from keras.src.saving import serialization_lib

    from .keras2_weights import keras2_layout, keras3_weights

    if _WEIGHTS not in zf.namelist():
        return None
    with h5py.File(io.BytesIO(zf.read(_WEIGHTS)), "r") as src:
        if not keras2_layout(src):
            return None
        with serialization_lib.ObjectSharingScope():
            model = serialization_lib.deserialize_keras_object(
                copy.deepcopy(config), safe_mode=not unsafe
            )
        classes = {
            obj["config"]["name"]: obj["class_name"]
            for obj in _layer_objects(raw)
            if isinstance(obj.get("config"), dict) and isinstance(obj["config"].get("name"), str)
        }
        return keras3_weights(model, classes, src)


def _explain(exc: Exception, version: str) -> str:
    msg = str(exc)
    first = (msg.strip().splitlines() or [type(exc).__name__])[0]
    m = re.search(r"Unknown [\w ]+: '([^']+)'", msg) or re.search(
        r"Could not locate (?:class|function) '([^']+)'", msg
    )
    if m:
        return f"uses the custom class {_custom_name(m.group(1))}, which this tool does not know; {CUSTOM_HINT}"
    if "Lambda" in msg:
        return f"contains a Lambda layer (Python code stored in the file); refused. {UNSAFE_HINT}"
    if re.search(r"mismatch|variables? during loading|could not be loaded", msg):
        return (
            f"its weights do not fit the model rebuilt from its Keras {version} config "
            f"({first[:160]})"
        )
    if isinstance(exc, OSError):
        return f"not a valid .h5 file ({first[:120]})"
    return f"cannot load this Keras {version} model in Keras 3 ({failing_layer(msg)}{first[:160]})"


def failing_layer(msg: str) -> str:
    """``"layer 'conv1d' (Conv1D): "`` when a Keras error message names the layer it failed on
    (its class and its config's name, or its name alone); else an empty string."""
    m = re.search(r"class '(\w+)' using config=\{.*?'name': '([^']+)'", msg, re.S)
    if m:
        return f"layer '{m.group(2)}' ({m.group(1)}): "
    m = re.search(r"""[Ll]ayer ["']([^"']+)["']""", msg)
    if m:
        return f"layer '{m.group(1)}': "
    return ""
