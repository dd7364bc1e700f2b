"""Loading a Keras 2 model file in Keras 3: what is refused (in one line naming the layer and the
way out), the file's config translated (:mod:`.keras2`), its weights put where Keras 3 reads them
(:mod:`.keras2_weights`), then Keras 3's own loaders, in safe mode unless the user trusts the file.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile

from ..errors import ModelError
from .keras2 import (
    CUDNN,
    CUSTOM_HINT,
    REMOVED,
    REMOVED_HINT,
    UNSAFE_HINT,
    is_object,
    translate_config,
)
from .keras2_tfop import ALLOWED, TFOP_CLASS


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
        if name in REMOVED:
            return (
                f"its layer '{label}' is a {name} ({REMOVED[name]}), which Keras 3 does not "
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
    if not isinstance(obj, dict) or not is_object(obj):
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
    if re.search(r"\bLambda\b", msg):  # not our own TFOpLambda
        return f"contains a Lambda layer (Python code stored in the file); refused. {UNSAFE_HINT}"
    if re.search(r"mismatch|variables? during loading|could not be loaded", msg):
        return (
            f"its weights do not fit the model rebuilt from its Keras {version} config "
            f"({failing_layer(msg)}{first[:160]})"
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
