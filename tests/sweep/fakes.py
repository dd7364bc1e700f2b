"""A stand-in trial for the orchestration tests: figures made from the settings at once (no
TensorFlow), so Tune's search, failure handling and results can be checked in seconds."""

from __future__ import annotations


def fake_trainable(config: dict, ctx=None) -> None:
    """energy = width x depth µJ, balanced accuracy 0.9 + 0.01 x depth, every AHA goal met
    below width 1.5; a width above 1.9 fails."""
    from ray import tune

    from ecg_energy.sweep.pareto import objectives
    from ecg_energy.sweep.run import point_of
    from ecg_energy.sweep.space import normalise
    from ecg_energy.sweep.trial import label

    p = normalise(point_of(config))
    if p["width"] > 1.9:
        raise RuntimeError(f"width {p['width']} is too wide for this test")
    row = {"trial": label(p), **p, "macs": int(1000 * p["width"] * p["depth"]),
           "file_bytes": 1024, "energy_j[stm32u575]": p["width"] * p["depth"] * 1e-6,
           "balanced_accuracy": 0.9 + 0.01 * p["depth"], "aha_pass": p["width"] < 1.5,
           "aha_failed": "" if p["width"] < 1.5 else "NSR", "seconds": 0.0, "session": 1}  # fmt: skip
    tune.report({**row, **objectives(row, "energy_j[stm32u575]")})
