"""INT8 ONNX: onnxruntime's static quantization of a float ``.onnx`` model, in QDQ format.

Weights are per-channel int8 (symmetric), activations int8 with ranges calibrated (min-max) on
training windows, never validation or test ones. QDQ keeps the graph in standard ONNX operators
(QuantizeLinear / DequantizeLinear around each one) that onnxruntime fuses into its int8 kernels;
the QOperator format (QLinearConv and others in the graph) ran 15-18× slower on x86-64, so it is
not offered. ``quant_pre_process`` runs first: its graph optimisation folds batch norm into the
convolutions before ranges are calibrated, as LiteRT's converter does. Where it fails, the graph
is quantized as it is, and the record says so with the reason (``record["pre_process"]``).
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from ..errors import ModelError
from ..fsio import atomic_write_bytes

CALIBRATION_BATCH = 64  # windows a calibration call takes when the model's batch is dynamic


def _reader(model, windows: np.ndarray):
    """A ``CalibrationDataReader`` over ``windows`` for the model's one input."""
    from onnxruntime.quantization import CalibrationDataReader

    inits = {t.name for t in model.graph.initializer}
    inp = next(i for i in model.graph.input if i.name not in inits)
    from .onnx_runner import channels_first

    dims = inp.type.tensor_type.shape.dim
    first = dims[0]
    batch = 1 if first.HasField("dim_value") and first.dim_value > 0 else CALIBRATION_BATCH
    data = np.asarray(windows, dtype=np.float32)
    own = [d.dim_value if d.HasField("dim_value") else None for d in dims[1:]]
    if channels_first(own) and data.ndim == 3 and data.shape[1:] == tuple(own[::-1]):
        data = data.transpose(
            0, 2, 1
        )  # the readers' (samples, leads) as the model's (leads, samples)
    data = np.ascontiguousarray(data)

    class Windows(CalibrationDataReader):
        def __init__(self):
            self._starts = iter(range(0, len(data), batch))

        def get_next(self):
            start = next(self._starts, None)
            return None if start is None else {inp.name: data[start : start + batch]}

        def rewind(self):
            self._starts = iter(range(0, len(data), batch))

    return Windows()


def quantize_onnx(src_path: str, calibration_windows: np.ndarray, out_path: str,
                  record: dict | None = None) -> str:  # fmt: skip
    """The float ``.onnx`` model at ``src_path`` quantized to INT8 QDQ (per-channel int8
    weights, int8 activations calibrated on ``calibration_windows``, the model's preprocessed
    training windows of its input shape), written atomically to ``out_path``; returns
    ``out_path``. ``record`` receives ``pre_process``: ``{"applied": True}``, or
    ``{"applied": False, "why": ...}`` when the pre-processing failed and the graph was
    quantized as it is."""
    record = {} if record is None else record
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from ..quiet import silenced
    from .io import read_onnx

    model = read_onnx(src_path)
    windows = np.asarray(calibration_windows, dtype=np.float32)
    if len(windows) == 0:
        raise ModelError(f"{src_path}: INT8 quantization needs calibration windows (none given)")
    with tempfile.TemporaryDirectory(prefix="onnx-int8-") as tmp:
        pre = os.path.join(tmp, "pre.onnx")
        try:
            # sympy's symbolic shape inference is left out: the input is static but for its batch
            quant_pre_process(src_path, pre, skip_symbolic_shape=True)
            record["pre_process"] = {"applied": True}
        except Exception as exc:  # a help, not a need: quantize the graph as it is, and say so
            pre = src_path
            msg = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            record["pre_process"] = {"applied": False, "why": f"quant_pre_process failed "
                                     f"({type(exc).__name__}: {msg}); batch norm was not "
                                     "folded before calibration"}  # fmt: skip
        out = os.path.join(tmp, "int8.onnx")
        try:
            with silenced():
                quantize_static(pre, out, _reader(model, windows), quant_format=QuantFormat.QDQ,
                                per_channel=True, activation_type=QuantType.QInt8,
                                weight_type=QuantType.QInt8)  # fmt: skip
        except Exception as exc:
            msg = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            raise ModelError(f"{src_path}: INT8 quantization failed ({type(exc).__name__}: "
                             f"{msg})") from exc  # fmt: skip
        with open(out, "rb") as fh:
            content = fh.read()
    atomic_write_bytes(out_path, content)
    return out_path
