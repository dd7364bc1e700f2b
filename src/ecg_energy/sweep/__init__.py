"""Sweeps: the student's size, distillation and quantization searched on Ray Tune for the
energy-accuracy Pareto front (``pip install 'ecg-energy[sweep]'``). Nothing outside this package
imports it; :func:`require_ray` gives the install hint where Ray is missing."""

from __future__ import annotations

from ..errors import ConfigError

INSTALL_HINT = "pip install 'ecg-energy[sweep]'"


def require_ray() -> None:
    """A one-line ConfigError naming the extra when Ray Tune or Optuna is not installed."""
    import importlib.util

    missing = [m for m in ("ray", "optuna") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(
            f"sweeps need {' and '.join(missing)}, which are not installed; "
            f"install the extra: {INSTALL_HINT}"
        )
