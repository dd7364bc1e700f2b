"""Loading model files safely: users' files are untrusted.

Keras files load with ``safe_mode=True``: a Lambda layer (Python code inside the file) or an
unknown custom class is refused with one line unless the user passes ``--unsafe-load``. Nothing a
user hands us is unpickled. A model's sidecar ``<stem>.json`` (written for built-in variants) says
how its input was preprocessed and what its classes are; without one, the data is fed as it is.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass

from ..errors import ModelError
from .runners import KerasRunner, LiteRTRunner

FORMATS = {".keras": "keras", ".h5": "keras", ".hdf5": "keras", ".tflite": "tflite"}
UNSAFE_HINT = "if you trust this file, pass --unsafe-load"


@dataclass(frozen=True)
class ModelFile:
    """A loaded model and what is known about it."""

    path: str
    name: str
    format: str  # "keras" or "tflite"
    runner: object
    input_shape: tuple[int, ...]
    n_outputs: int
    precision: str
    meta: dict

    @property
    def preprocessing(self) -> str:
        return self.meta.get("preprocessing", "none")


def sidecar_path(path: str) -> str:
    return os.path.splitext(path)[0] + ".json"


def read_sidecar(path: str) -> dict:
    side = sidecar_path(path)
    if not os.path.isfile(side):
        return {}
    try:
        with open(side, encoding="utf-8") as fh:
            meta = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{side}: unreadable model description ({exc}); fix or remove it") from exc
    return meta if isinstance(meta, dict) else {}


def load_keras(path: str, unsafe: bool = False):
    """``keras.saving.load_model`` in safe mode, every failure turned into one line."""
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=not unsafe, compile=False)
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{path}: not a valid .keras file (corrupt or truncated)") from exc
    except (ValueError, TypeError, KeyError, OSError, AttributeError) as exc:
        msg = str(exc)
        if "Lambda" in msg:
            raise ModelError(f"{path}: contains a Lambda layer (Python code stored in the file); "
                             f"refused. {UNSAFE_HINT}") from exc  # fmt: skip
        if "could not be deserialized" in msg or "Could not locate" in msg or "Unknown" in msg:
            raise ModelError(f"{path}: uses custom layers or objects this tool does not know; "
                             "custom code is refused (register it in your own code to load it)") from exc  # fmt: skip
        if "File not found" in msg or "zip file" in msg:
            raise ModelError(f"{path}: not a valid .keras file (corrupt or truncated)") from exc
        if isinstance(exc, OSError) or "HDF5" in msg or "h5" in msg.lower():
            raise ModelError(f"{path}: not a valid .h5 file ({msg.splitlines()[0][:120]})") from exc
        raise ModelError(
            f"{path}: cannot load this Keras model ({msg.splitlines()[0][:160]})"
        ) from exc


def load_tflite(path: str, num_threads: int | None = None) -> LiteRTRunner:
    with open(path, "rb") as fh:
        content = fh.read()
    # a LiteRT flatbuffer carries the identifier "TFL3" at bytes 4-8
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise ModelError(f"{path}: not a .tflite model (no TFL3 identifier; corrupt or truncated)")
    try:
        return LiteRTRunner(content, num_threads=num_threads)
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"{path}: not a valid .tflite model (corrupt or truncated: "
                         f"{str(exc).splitlines()[0][:120]})") from exc  # fmt: skip


def model_format(path: str) -> str:
    """ "keras" or "tflite" for an existing model file; a ModelError otherwise."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise ModelError(f"{path}: unsupported model format {ext or '(none)'}; "
                         "give a .keras, .h5 or .tflite file")  # fmt: skip
    if not os.path.isfile(path):
        raise ModelError(f"{path}: file not found")
    return FORMATS[ext]


def load_model_file(path: str, unsafe: bool = False, num_threads: int | None = None) -> ModelFile:
    """Load a ``.keras``/``.h5``/``.tflite`` file into a runner, safely."""
    fmt = model_format(path)
    meta = read_sidecar(path)
    if fmt == "tflite":
        runner = load_tflite(path, num_threads)
        out_shape = runner._interp.get_output_details()[0]["shape"]
        precision = meta.get("precision", runner.precision)
    else:
        model = load_keras(path, unsafe)
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise ModelError(f"{path}: the model must have one input and one output")
        runner = KerasRunner(model)
        out_shape = model.output_shape
        precision = meta.get("precision", "fp32")
    return ModelFile(
        path=path,
        name=meta.get("variant", os.path.splitext(os.path.basename(path))[0]),
        format=fmt,
        runner=runner,
        input_shape=tuple(runner.input_shape),
        n_outputs=int(out_shape[-1]),
        precision=precision,
        meta=meta,
    )


def check_fits(mf: ModelFile, input_shape: tuple[int, ...], class_names: tuple[str, ...]) -> None:
    """The model must take the data's windows and give one output per class."""
    if tuple(mf.input_shape) != tuple(input_shape):
        raise ModelError(f"{mf.path}: expects input {tuple(mf.input_shape)}, the data gives "
                         f"{tuple(input_shape)} (choose --task, --window-s, or a model made for "
                         "this data)")  # fmt: skip
    if mf.n_outputs != len(class_names):
        raise ModelError(f"{mf.path}: has {mf.n_outputs} outputs, the data has "
                         f"{len(class_names)} classes ({', '.join(class_names)})")  # fmt: skip
    known = mf.meta.get("class_names")
    if known and tuple(known) != tuple(class_names):
        raise ModelError(f"{mf.path}: was trained on classes {', '.join(known)}, the data has "
                         f"{', '.join(class_names)}")  # fmt: skip
