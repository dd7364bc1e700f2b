"""Counting a model file: ``.keras``/``.h5`` through the layer walker (plus the profiler's FLOPs),
``.tflite`` from its flatbuffer, ``.onnx`` from its graph."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from ..errors import ModelError
from .counts import ModelCounts


@dataclass(frozen=True)
class FileCounts:
    path: str
    counts: ModelCounts
    profiler_flops: int | None  # the report's convention; None for LiteRT and ONNX files

    def as_dict(self, layers: bool = True) -> dict:
        out = {"file": self.path, "source": self.counts.source, **self.counts.totals(),
               "profiler_flops": self.profiler_flops}  # fmt: skip
        if layers:
            out["layers"] = [o.as_dict() for o in self.counts.ops]
        return out


def count_file(path: str, unsafe: bool = False) -> FileCounts:
    from ..models.io import load_keras, model_format

    fmt = model_format(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # uncounted ops are reported in the counts themselves
        if fmt == "tflite":
            from .tflite_ops import count_tflite

            with open(path, "rb") as fh:
                content = fh.read()
            if len(content) < 8 or content[4:8] != b"TFL3":
                raise ModelError(
                    f"{path}: not a .tflite model (no TFL3 identifier; corrupt or truncated)"
                )
            try:
                counts = count_tflite(content)
            except Exception as exc:  # a malformed flatbuffer fails deep inside the parser
                raise ModelError(
                    f"{path}: cannot read the .tflite graph ({type(exc).__name__})"
                ) from exc
            return FileCounts(path, counts, None)
        if fmt == "onnx":
            from ..models.io import read_onnx
            from .onnx_ops import count_onnx

            model = read_onnx(path)  # one line for a corrupt file or a custom operator
            try:
                counts = count_onnx(model, path)
            except ModelError:
                raise
            except Exception as exc:  # a graph the checker let through but no shape fits
                raise ModelError(
                    f"{path}: cannot count the .onnx graph ({type(exc).__name__}: "
                    f"{str(exc).splitlines()[0][:120] if str(exc) else ''})"
                ) from exc
            return FileCounts(path, counts, None)
        from .keras_ops import count_keras
        from .profiler import profiler_flops

        model = load_keras(path, unsafe)
        try:
            return FileCounts(path, count_keras(model), profiler_flops(model))
        except ModelError:
            raise
        except Exception as exc:  # a model Keras rebuilt but cannot trace: one line, the layer
            from ..models.keras2_load import failing_layer

            msg = str(exc)
            first = (msg.strip().splitlines() or [type(exc).__name__])[0]
            raise ModelError(
                f"{path}: cannot count this Keras model ({failing_layer(msg)}"
                f"{type(exc).__name__}: {first[:160]})"
            ) from exc


def counts_from_dict(d: dict) -> FileCounts:
    """A FileCounts back from its ``as_dict()`` (with layers), as written to counts.json."""
    from .counts import OpCount

    ops = tuple(OpCount(**{**ly, "output_shape": tuple(ly.get("output_shape", ()))})
                for ly in d["layers"])  # fmt: skip
    counts = ModelCounts(d["source"], ops, int(d["peak_activation_bytes"]))
    return FileCounts(d["file"], counts, d.get("profiler_flops"))


def count_variants(paths: list[str], unsafe: bool = False) -> dict:
    """{variant name: FileCounts} (names from the models' sidecars, else file stems)."""
    from ..models.io import variant_names

    return {name: count_file(path, unsafe) for name, path in variant_names(paths).items()}
