"""Input preprocessing applied identically before every variant of a model (float and INT8).

Rhythm windows are in mV with baseline offset and a dynamic range from 20 µV (asystole) to several
mV (VT, coarse VF). A full-integer model gets an int8 input: a linear 8-bit scale over ±4 mV would
give 31 µV steps and erase the difference between fine VF and asystole. mu-law companding (ITU-T
G.711, mu = 255) keeps ~1.5 µV resolution near zero and ~0.2 mV at the top of the range, so the
same input serves float and INT8 variants alike. Its cost runs once per window before the model
and is the same for every variant, so it is left out of the per-model energy.

``bandpass-mulaw`` (the rhythm default) first filters each window 0.5-40 Hz (zero-phase 2nd-order
Butterworth, as ECG front ends and published shock advisers do): baseline wander, electrode
offsets and mains interference differ from patient to patient and from database to database, and
a network left to see them learns the recording instead of the rhythm. On record-wise 5-fold
cross-validation of 22 real records it raised the student's shock-decision sensitivity from 91.2
to 92.2% (``benchmarks/results/real_cv/``).

Training augmentation (:func:`augment`) works on the preprocessed input through the inverse of
the companding, so it changes the signal in mV (amplitude, noise) and never the preprocessing.
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


def compand(mv: np.ndarray) -> np.ndarray:
    """mu-law from ±4 mV to [-1, 1] (clipped outside): 0 -> 0, 4 mV -> 1, -4 mV -> -1."""
    v = np.clip(np.abs(mv) / FULL_SCALE_MV, 0.0, 1.0)
    return (np.sign(mv) * np.log1p(MU * v) / np.log1p(MU)).astype(np.float32)


def expand(m: np.ndarray) -> np.ndarray:
    """The inverse of :func:`compand` (mV), exact inside ±4 mV."""
    m = np.asarray(m, dtype=np.float64)
    return np.sign(m) * np.expm1(np.abs(m) * np.log1p(MU)) / MU * FULL_SCALE_MV


@register("mulaw")
def mulaw(x: np.ndarray) -> np.ndarray:
    """Window median removed, then mu-law companded from ±4 mV to [-1, 1]."""
    x = np.asarray(x, dtype=np.float32)
    return compand(x - np.median(x, axis=1, keepdims=True))


BAND_HZ = (0.5, 40.0)
RHYTHM_FS_HZ = 250.0  # every rhythm window is resampled to 250 Hz by the readers


@register("bandpass-mulaw")
def bandpass_mulaw(x: np.ndarray) -> np.ndarray:
    """0.5-40 Hz zero-phase band-pass over each window (1 s reflected pad), then :func:`mulaw`."""
    from scipy import signal as sps

    x = np.asarray(x, dtype=np.float64)
    sos = sps.butter(2, BAND_HZ, btype="bandpass", fs=RHYTHM_FS_HZ, output="sos")
    pad = min(x.shape[1] - 1, int(RHYTHM_FS_HZ))
    return mulaw(sps.sosfiltfilt(sos, x, axis=1, padlen=pad).astype(np.float32))


# amplitude gain log-uniform over [1/2, 2] (electrode placement and lead differ by patient) and
# white noise of 20 µV RMS (electrode and muscle noise), applied in mV
AUGMENT_GAIN = (0.5, 2.0)
AUGMENT_NOISE_MV = 0.02


def augment(name: str, x: np.ndarray, rng: np.random.Generator,
            max_gain: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """Training windows ``x`` (already preprocessed with ``name``) with a random gain and noise
    in mV, preprocessed again; unchanged for preprocessing that is not in mV (``none``).

    ``max_gain`` (one per window) lowers the top of the gain range for windows whose label rests
    on their amplitude: an asystole window amplified 2x may no longer be asystole, so its gain is
    drawn log-uniform over [low, min(high, max_gain)] instead (e.g. 1: attenuated only)."""
    if name not in ("mulaw", "bandpass-mulaw"):
        return x
    n = len(x)
    lo, hi = np.log(AUGMENT_GAIN[0]), np.full(n, np.log(AUGMENT_GAIN[1]))
    if max_gain is not None:
        hi = np.maximum(lo, np.minimum(hi, np.log(np.asarray(max_gain, dtype=np.float64))))
    u = rng.uniform(size=n)
    gain = np.exp(lo + u * (hi - lo)).reshape((n,) + (1,) * (x.ndim - 1))
    mv = expand(x) * gain + rng.normal(0.0, AUGMENT_NOISE_MV, size=x.shape)
    return compand(mv)


def default_for(task: str) -> str:
    return "bandpass-mulaw" if task == "rhythm" else "none"


def apply(name: str, x: np.ndarray) -> np.ndarray:
    return PREPROCESSORS[name](x)
