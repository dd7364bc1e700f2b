"""The input preprocessing and the training augmentation, on signals worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_energy.models import preprocess


def test_mulaw_end_points_and_inverse():
    mv = np.array([0.0, 4.0, -4.0, 9.0])
    assert preprocess.compand(mv).tolist() == [0.0, 1.0, -1.0, 1.0]  # clipped beyond ±4 mV
    # 0.1 mV: log(1 + 255 * 0.025) / log(256) = log(7.375) / log(256) = 1.99810 / 5.54518 = 0.36033
    assert preprocess.compand(np.array([0.1]))[0] == pytest.approx(0.36033, abs=1e-5)
    x = np.array([-3.0, -0.02, 0.0, 0.5, 2.5])
    assert preprocess.expand(preprocess.compand(x)) == pytest.approx(x, abs=1e-5)


def test_bandpass_removes_offset_and_drift_keeps_a_10_hz_wave():
    t = np.arange(1000) / 250.0
    wave = 0.5 * np.sin(2 * np.pi * 10 * t)
    drifting = wave + 2.0 + 0.8 * np.sin(2 * np.pi * 0.05 * t)  # offset and 0.05 Hz wander
    out = preprocess.bandpass_mulaw(np.stack([drifting, np.full(1000, 3.0)]))
    mv = preprocess.expand(out)
    assert np.abs(mv[1]).max() < 1e-6  # a constant is all offset: nothing left
    # the 10 Hz wave (inside 0.5-40 Hz) keeps its 0.5 mV amplitude within 3 % in the middle
    assert np.abs(mv[0, 250:750]).max() == pytest.approx(0.5, rel=0.03)
    assert np.abs(mv[0, 250:750] - wave[250:750]).max() < 0.03


def test_augment_scales_in_mv_and_leaves_unscaled_inputs_alone():
    rng = np.random.default_rng(0)
    x = preprocess.compand(np.tile(np.array([0.0, 1.0, -1.0, 0.5]), (2000, 1)))
    out = preprocess.augment("bandpass-mulaw", x, rng)
    gain = preprocess.expand(out)[:, 1]  # 1 mV sample: its new value is the gain plus noise
    assert gain.min() > 0.5 - 0.1 and gain.max() < 2.0 + 0.1
    assert np.median(gain) == pytest.approx(1.0, abs=0.08)  # log-uniform on [1/2, 2]: median 1
    noise = preprocess.expand(out)[:, 0]  # the 0 mV sample is noise alone: 20 µV RMS
    assert noise.std() == pytest.approx(0.02, rel=0.1)
    beats = np.random.default_rng(1).random((3, 8)).astype(np.float32)
    assert preprocess.augment("none", beats, rng) is beats


def test_augment_only_attenuates_windows_given_a_gain_cap():
    # half the windows capped at gain 1 (asystole): their 1 mV sample becomes 0.5-1 mV (+ noise),
    # the others keep the full 1/2-2 range; log-uniform, so the capped median is 1/sqrt(2)
    rng = np.random.default_rng(0)
    x = preprocess.compand(np.tile(np.array([0.0, 1.0, -1.0, 0.5]), (4000, 1)))
    cap = np.where(np.arange(4000) % 2 == 0, 1.0, np.inf)
    gain = preprocess.expand(preprocess.augment("bandpass-mulaw", x, rng, cap))[:, 1]
    capped, free = gain[::2], gain[1::2]
    assert capped.min() > 0.5 - 0.1 and capped.max() < 1.0 + 0.1
    assert np.median(capped) == pytest.approx(2**-0.5, abs=0.03)
    assert free.max() > 1.8 and np.median(free) == pytest.approx(1.0, abs=0.08)


def test_training_augmentation_can_leave_asystole_unamplified():
    from ecg_energy.models.train import augmenter

    x = preprocess.compand(np.tile(np.array([0.0, 1.0]), (3000, 1)))
    y = np.arange(3000) % 5  # every fifth window asystole
    gain = preprocess.expand(augmenter("bandpass-mulaw", (2,))(x, np.random.default_rng(0), y))
    assert gain[y == 2, 1].max() < 1.0 + 0.1  # attenuated only
    assert gain[y != 2, 1].max() > 1.8  # the other classes up to 2x
