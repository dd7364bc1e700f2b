"""Statistics of repeated trials (pure functions)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def bootstrap_ci(
    values, stat: Callable = np.median, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """(statistic, lower, upper): percentile bootstrap over trials. One value -> (v, v, v)."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return (float("nan"),) * 3
    point = float(stat(v))
    if len(v) == 1:
        return point, point, point
    rng = np.random.default_rng(seed)
    boots = stat(v[rng.integers(0, len(v), size=(n_boot, len(v)))], axis=1)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(boots, [alpha, 1 - alpha])
    return point, float(lo), float(hi)


def net_joules(gross_j: float, idle_w: float, seconds: float) -> float:
    """Gross energy minus what the machine draws idle over the same time: 50 J - 8 W × 5 s = 10 J."""
    return gross_j - idle_w * seconds


def spread(values) -> float:
    """(max - min) / median: trial-to-trial spread as a fraction of the median."""
    v = np.asarray(values, dtype=float)
    med = float(np.median(v)) if len(v) else float("nan")
    return float((v.max() - v.min()) / med) if len(v) and med else float("nan")


def net_figure(values, n_boot: int = 2000, seed: int = 0, why: str | None = None) -> dict:
    """Net energy per inference over rounds: median and 95% interval when resolved; else only
    the interval's upper bound (None when even that is not above zero), never a negative figure.

    Resolved means the whole interval lies above zero: gross energy measurably above idle.
    ``why`` says why there are no values at all.
    """
    if not len(values):
        return {"resolved": False, "median": None, "ci95": None, "upper_j": None, "trials": 0,
                "why": why or "no paired rounds"}  # fmt: skip
    med, lo, hi = bootstrap_ci(values, n_boot=n_boot, seed=seed)
    if lo > 0:
        return {"resolved": True, "median": med, "ci95": [lo, hi], "spread": spread(values),
                "trials": len(values)}  # fmt: skip
    return {"resolved": False, "median": None, "ci95": None, "upper_j": hi if hi > 0 else None,
            "trials": len(values), "why": "its 95% interval reaches zero or below: not "
            "resolved above the idle baseline"}  # fmt: skip


def log_middle(lo: float, hi: float) -> float:
    """The middle of a range on a log scale (its geometric mean): 1e-6 .. 1e-4 -> 1e-5; a range
    that touches zero by its arithmetic middle."""
    return math.sqrt(lo * hi) if lo > 0 and hi > 0 else (lo + hi) / 2
