"""Keras 2 model files in Keras 3: the config translated, the file's own weights loaded.

Keras 2.2-2.15 wrote ``.h5`` files (and 2.13-2.15 ``.keras`` zips) whose configs Keras 3 refuses or
misreads: keys it no longer has (``groups`` in DepthwiseConv2D, ``time_major`` in RNNs, ...),
module paths and layers that moved, and another numbering of a nested model's calls.
:func:`translate_config` rewrites such a config (a pure function over the JSON dict);
:func:`.keras2_load.load_keras2` hands the rewritten config, with the file's weights untouched, to Keras 3's own
loaders. Code stays refused as for Keras 3 files: a Lambda layer needs ``--unsafe-load``, an
unregistered custom class is named and refused, nothing is unpickled.
"""

from __future__ import annotations

import copy

from ..errors import ModelError
from .keras2_graph import fix_model

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
REMOVED = {
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
    if is_object(obj):
        _rename(obj)
        if obj["class_name"] == "Sequential" and isinstance(obj["config"], list):
            obj["config"] = {"name": "sequential", "layers": obj["config"]}  # Keras 2.0-2.2.2
        if isinstance(obj["config"], dict):
            _fix_settings(obj)
            if isinstance(obj["config"].get("layers"), list):
                fix_model(obj)
    for key, value in obj.items():
        obj[key] = _translate(value)
    return obj


def is_object(obj: dict) -> bool:
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
