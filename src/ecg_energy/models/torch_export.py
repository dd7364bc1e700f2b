"""PyTorch models in: a ``torch.nn.Module`` and an example input become an ONNX file, which is
then counted, run, quantized, evaluated and measured like any ``.onnx`` file.

The export is PyTorch's own (``torch.onnx.export``, its TorchScript exporter, which needs only
the ``onnx`` package; the newer exporter when ``onnxscript`` is installed and the old one
fails), in evaluation mode, with a dynamic batch axis. PyTorch is an optional extra
(``pip install 'ecg-energy[torch]'``); nothing else in the package imports it.
"""

from __future__ import annotations

import os
import tempfile
import warnings

from ..errors import ModelError
from ..quiet import silenced

OPSET = 17
TORCH_HINT = "install it with: pip install 'ecg-energy[torch]'"


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise ModelError(f"PyTorch is not installed; {TORCH_HINT}") from exc
    return torch


def torch_to_onnx(module, example_input, path: str, opset: int = OPSET) -> str:
    """Export ``module`` (called as ``module(example_input)``) to the ONNX file ``path``,
    written atomically; a module that does not export is one ModelError line naming it."""
    torch = _torch()
    name = type(module).__name__
    if not isinstance(module, torch.nn.Module):
        raise ModelError(f"{name}: not a torch.nn.Module; give the network itself")
    if not isinstance(example_input, torch.Tensor):
        raise ModelError(f"{name}: the example input must be a torch.Tensor, e.g. "
                         "torch.zeros(1, 1, 1000) for one 4-s window at 250 Hz")  # fmt: skip
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".onnx", dir=folder)
    os.close(fd)
    was_training = module.training
    module.eval()
    errors = []
    try:
        for dynamo in (False, True):
            try:
                with torch.no_grad(), warnings.catch_warnings(), silenced():
                    warnings.simplefilter("ignore")  # the exporter's deprecation notices
                    torch.onnx.export(
                        module, (example_input,), tmp, input_names=["input"],
                        output_names=["logits"], opset_version=opset, dynamo=dynamo,
                        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                    )  # fmt: skip
                break
            except ImportError as exc:  # the newer exporter needs onnxscript
                errors.append(f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # an operator or a Python construct that does not export
                errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
        else:
            raise ModelError(f"{name}: cannot be exported to ONNX ({errors[0]}); export it "
                             "yourself with torch.onnx.export and pass the .onnx file")  # fmt: skip
        os.replace(tmp, path)
    finally:
        module.train(was_training)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
