"""ecg-energy: energy and accuracy of ECG model variants.

The Python API (:mod:`ecg_energy.api`) is importable from here: ``ecg_energy.count``,
``estimate``, ``load_data``, ``evaluate``, ``evaluate_alarms``, ``measure``, ``measure_function``, ``measuring``,
``run``, ``open_run``, ``from_torch``, ``quantize``, ``sweep``. It loads on first use, so ``import ecg_energy`` stays light.
"""

from __future__ import annotations

from ._version import __version__

_API = ("count", "estimate", "load_data", "evaluate", "evaluate_alarms", "measure", "measure_function",
        "measuring", "run", "open_run", "with_recommendation", "model_files", "from_torch", "quantize", "sweep")  # fmt: skip

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'ecg_energy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
