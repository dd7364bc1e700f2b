"""Small signal-processing helpers shared by the generator and the readers (pure functions)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import signal as sps

# Band used for amplitude measurements: removes baseline wander (< 1 Hz) and powerline/EMG
# (> 30 Hz), as a monitor's display filter would, before peak-to-peak amplitudes are compared with
# the AHA thresholds (fine VF < 200 µV, asystole < 100 µV).
AMPLITUDE_BAND_HZ = (1.0, 30.0)


def resample(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """Polyphase resampling of a 1-D signal from ``fs_in`` to ``fs_out`` Hz."""
    if fs_in == fs_out:
        return np.asarray(x, dtype=np.float64)
    ratio = Fraction(fs_out / fs_in).limit_denominator(1000)
    return sps.resample_poly(np.asarray(x, dtype=np.float64), ratio.numerator, ratio.denominator)


def bandpass(x: np.ndarray, fs: float, band: tuple[float, float] = AMPLITUDE_BAND_HZ) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth band-pass."""
    low, high = band
    high = min(high, 0.45 * fs)
    sos = sps.butter(2, [low, high], btype="bandpass", fs=fs, output="sos")
    # a 2 s reflected pad keeps the record's first and last seconds free of start-up transients
    padlen = min(len(x) - 1, int(2 * fs))
    return sps.sosfiltfilt(sos, x, padlen=padlen)


def peak_to_peak_uv(x_mv: np.ndarray, fs: float) -> float:
    """Robust peak-to-peak amplitude in µV of a signal in mV: the 0.5–99.5 percentile range after
    :func:`bandpass` (a single spike does not make fine VF coarse)."""
    if len(x_mv) < 16:
        return float("nan")
    y = bandpass(np.asarray(x_mv, dtype=np.float64), fs)
    lo, hi = np.percentile(y, [0.5, 99.5])
    return float((hi - lo) * 1000.0)
