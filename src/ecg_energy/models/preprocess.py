"""Input preprocessing applied identically before every variant of a model (float and INT8).

Rhythm windows are in mV with baseline offset and a dynamic range from 20 µV (asystole) to several
mV (VT, coarse VF). A full-integer model gets an int8 input: a linear 8-bit scale over ±4 mV would
give 31 µV steps and erase the difference between fine VF and asystole. mu-law companding (ITU-T
G.711, mu = 255) keeps ~1.5 µV resolution near zero and ~0.2 mV at the top of the range, so the
same input serves float and INT8 variants alike. Its cost runs once per window before the model
and is the same for every variant, so it is left out of the per-model energy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PREPROCESSORS: dict[str, Callable[[np.ndarray], np.ndarray]] = {}

MU = 255.0
FULL_SCALE_MV = 4.0


def register(name: str):
    def deco(fn):
        PREPROCESSORS[name] = fn
        return fn

    return deco


@register("none")
def identity(x: np.ndarray) -> np.ndarray:
    """As the data comes (e.g. Kaggle beats already scaled to [0, 1])."""
    return np.asarray(x, dtype=np.float32)


@register("mulaw")
def mulaw(x: np.ndarray) -> np.ndarray:
    """Window median removed, then mu-law companded from ±4 mV to [-1, 1]."""
    x = np.asarray(x, dtype=np.float32)
    centred = x - np.median(x, axis=1, keepdims=True)
    v = np.clip(np.abs(centred) / FULL_SCALE_MV, 0.0, 1.0)
    return (np.sign(centred) * np.log1p(MU * v) / np.log1p(MU)).astype(np.float32)


def default_for(task: str) -> str:
    return "mulaw" if task == "rhythm" else "none"


def apply(name: str, x: np.ndarray) -> np.ndarray:
    return PREPROCESSORS[name](x)
