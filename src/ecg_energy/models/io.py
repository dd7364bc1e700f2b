"""Loading model files safely: users' files are untrusted.

Keras files load with ``safe_mode=True``: a Lambda layer (Python code inside the file) or an
unknown custom class is refused with one line unless the user passes ``--unsafe-load``. Nothing a
user hands us is unpickled. An ``.onnx`` file carries no code, but an operator of a custom domain
would need a library loaded into onnxruntime: such a model is refused, naming the operator, and
so are weights stored outside the file (a path the file would make us read). A model's sidecar ``<stem>.json`` (written for built-in variants) says
how its input was preprocessed and what its classes are; without one, the data is fed as it is.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass

from ..errors import ModelError
from .runners import KerasRunner, LiteRTRunner

FORMATS = {".keras": "keras", ".h5": "keras", ".hdf5": "keras", ".tflite": "tflite",
           ".onnx": "onnx"}  # fmt: skip
UNSAFE_HINT = "if you trust this file, pass --unsafe-load"


@dataclass(frozen=True)
class ModelFile:
    """A loaded model and what is known about it."""

    path: str
    name: str
    format: str  # "keras", "tflite" or "onnx"
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
    """``keras.saving.load_model`` in safe mode, every failure turned into one line; a file
    written by Keras 2 has its config translated first (:mod:`.keras2`)."""
    import keras

    from .keras2_load import keras2_version, load_keras2

    if os.path.isfile(path) and not zipfile.is_zipfile(path):  # HDF5: read whole, bounded, first
        from .h5probe import probe_h5

        probe_h5(path)
    version = keras2_version(path)
    if version is not None:
        return load_keras2(path, version, unsafe)
    try:
        return keras.saving.load_model(path, safe_mode=not unsafe, compile=False)
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{path}: not a valid .keras file (corrupt or truncated)") from exc
    except RuntimeError as exc:  # h5py's errors for a damaged HDF5 file
        what = ".keras" if zipfile.is_zipfile(path) else ".h5"
        raise ModelError(f"{path}: not a valid {what} file (corrupt or truncated: "
                         f"{str(exc).splitlines()[0][:120] if str(exc) else 'RuntimeError'})") from exc  # fmt: skip
    except Exception as exc:  # every failure on a user's file is one line, never "unexpected"
        msg = str(exc)
        if "Lambda" in msg:
            raise ModelError(f"{path}: contains a Lambda layer (Python code stored in the file); "
                             f"refused. {UNSAFE_HINT}") from exc  # fmt: skip
        if "could not be deserialized" in msg or "Could not locate" in msg or "Unknown" in msg:
            from .keras2_load import refused, stored_config

            config = stored_config(path)
            why = refused(config, unsafe) if isinstance(config, dict) else None
            if why:  # the class that needs code, by name, and the way out
                raise ModelError(f"{path}: {why}") from exc
            raise ModelError(f"{path}: uses custom layers or objects this tool does not know; "
                             "custom code is refused (register it in your own code to load it)") from exc  # fmt: skip
        if "File not found" in msg or "zip file" in msg or isinstance(exc, zipfile.BadZipFile):
            raise ModelError(f"{path}: not a valid .keras file (corrupt or truncated)") from exc
        if isinstance(exc, OSError) or "HDF5" in msg or "h5" in msg.lower():
            raise ModelError(f"{path}: not a valid .h5 file ({msg.splitlines()[0][:120]})") from exc
        from .keras2_load import failing_layer

        first = (msg.strip().splitlines() or [type(exc).__name__])[0]
        raise ModelError(
            f"{path}: cannot load this Keras model ({failing_layer(msg)}{first[:160]})"
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


# the operator domains onnxruntime's CPU build implements: the standard ones and its own
ONNX_RUNTIME_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml", "com.microsoft",
                                  "com.microsoft.nchwc", "com.ms.internal.nhwc"})  # fmt: skip
ONNX_FLOAT_INPUTS = {1: "float32", 10: "float16"}  # TensorProto element types a runner feeds


def read_onnx(path: str):
    """The ``onnx.ModelProto`` of an ``.onnx`` file, checked: a parseable, valid graph with all
    weights inside the file, operators onnxruntime implements, one float input whose only
    dynamic dimension is the batch (first) one, one output. Every refusal is one line."""
    import onnx
    from google.protobuf.message import DecodeError

    with open(path, "rb") as fh:
        content = fh.read()
    try:
        model = onnx.load_model_from_string(content)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{path}: not a valid .onnx model (corrupt or truncated)") from exc
    if not model.HasField("graph") or not model.graph.node:
        raise ModelError(f"{path}: not a valid .onnx model (no graph; corrupt or truncated)")
    try:
        return _check_onnx(path, model)
    except (TypeError, UnicodeDecodeError) as exc:  # a name protobuf kept as bytes
        raise ModelError(f"{path}: not a valid .onnx model (a name that is not text; corrupt "
                         "or truncated)") from exc  # fmt: skip


def _check_onnx(path: str, model):
    import onnx

    graph = model.graph
    local = {f.domain for f in model.functions}
    for node in _onnx_nodes(graph):
        if node.domain not in ONNX_RUNTIME_DOMAINS and node.domain not in local:
            raise ModelError(f"{path}: uses operator {node.op_type} of the custom domain "
                             f"{node.domain!r}, which onnxruntime cannot run without a library "
                             "of custom code; refused (export it with standard ONNX operators)")  # fmt: skip
        if node.domain in ("", "ai.onnx", "ai.onnx.ml") and not onnx.defs.has(
            node.op_type, node.domain
        ):
            raise ModelError(f"{path}: uses {node.op_type}, which is not an ONNX operator; "
                             "export it with standard ONNX operators")  # fmt: skip
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in graph.initializer):
        raise ModelError(f"{path}: keeps its weights in separate files; save the model with "
                         "every weight inside the .onnx file (onnx.save without external data)")  # fmt: skip
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError) as exc:
        why = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path}: not a valid .onnx model ({why})") from exc
    inits = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in inits]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise ModelError(f"{path}: the model must have one input and one output (it has "
                         f"{len(inputs)} and {len(graph.output)})")  # fmt: skip
    inp = inputs[0]
    ttype = inp.type.tensor_type
    if ttype.elem_type not in ONNX_FLOAT_INPUTS:
        raise ModelError(f"{path}: input {inp.name!r} is not a float tensor; give a model with "
                         "a float32 input (a QDQ INT8 model quantizes inside its graph)")  # fmt: skip
    if not ttype.HasField("shape") or not ttype.shape.dim:
        raise ModelError(f"{path}: input {inp.name!r} has no shape; export the model with its "
                         "input shape, e.g. (batch, 1000, 1)")  # fmt: skip
    dims = list(ttype.shape.dim)
    if dims[0].HasField("dim_value") and dims[0].dim_value > 1:
        raise ModelError(f"{path}: input {inp.name!r} has a fixed batch of {dims[0].dim_value}; "
                         "export the model with batch 1 or a dynamic batch dimension")  # fmt: skip
    for i, d in enumerate(dims[1:], start=1):
        if not (d.HasField("dim_value") and d.dim_value > 0):
            raise ModelError(f"{path}: input {inp.name!r} dimension {i} is dynamic "
                             f"({d.dim_param or '?'}); only the batch (first) dimension may be: "
                             "export the model with a fixed window length, e.g. (batch, 1000, 1)")  # fmt: skip
    return model


def _onnx_nodes(graph):
    """Every node of ``graph`` and of the subgraphs its nodes hold (If, Loop, Scan)."""
    import onnx

    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _onnx_nodes(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _onnx_nodes(g)


def load_onnx(path: str, num_threads: int | None = None):
    """An ``OnnxRunner`` for a checked ``.onnx`` file (see ``read_onnx``)."""
    from .onnx_runner import OnnxRunner, graph_precision

    model = read_onnx(path)
    try:
        return OnnxRunner(model.SerializeToString(), num_threads=num_threads,
                          precision=graph_precision(model))  # fmt: skip
    except Exception as exc:  # onnxruntime's own errors (Fail, InvalidGraph, NotImplemented)
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path}: onnxruntime cannot run this model ({msg[:200]})") from exc


def model_format(path: str) -> str:
    """ "keras", "tflite" or "onnx" for an existing model file; a ModelError otherwise."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise ModelError(f"{path}: unsupported model format {ext or '(none)'}; "
                         "give a .keras, .h5, .tflite or .onnx file")  # fmt: skip
    if not os.path.isfile(path):
        raise ModelError(f"{path}: file not found")
    return FORMATS[ext]


def load_model_file(path: str, unsafe: bool = False, num_threads: int | None = None) -> ModelFile:
    """Load a ``.keras``/``.h5``/``.tflite``/``.onnx`` file into a runner, safely."""
    fmt = model_format(path)
    meta = read_sidecar(path)
    if fmt == "tflite":
        runner = load_tflite(path, num_threads)
        out_shape = runner._interp.get_output_details()[0]["shape"]
        precision = meta.get("precision", runner.precision)
    elif fmt == "onnx":
        runner = load_onnx(path, num_threads)
        out_shape = runner.output_shape
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


def variant_names(paths: list[str]) -> dict[str, str]:
    """{variant name: path}: a model's name is its sidecar's ``variant``, else the file's stem."""
    out: dict[str, str] = {}
    for path in paths:
        name = read_sidecar(path).get("variant") or os.path.splitext(os.path.basename(path))[0]
        out[name if name not in out else path] = path
    return out


def save_keras(model, path: str) -> None:
    """Keras writes through a temporary name, then one rename (never a half-written model)."""
    tmp = os.path.join(os.path.dirname(path), f".tmp-{os.path.basename(path)}")
    model.save(tmp)
    os.replace(tmp, path)
