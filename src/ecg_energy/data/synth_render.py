"""The waveform renderer: one rhythm episode of one patient as a clean signal, then noise.

Models (ANCHORS §8)
- Sinus rhythm, sinus bradycardia and sinus tachycardia: ECGSYN (McSharry et al., IEEE TBME 2003)
  through ``neurokit2.ecg_simulate(method="ecgsyn")``, with the patient's own P-Q-R-S-T angles,
  heights and widths. Beat positions come from the R peaks of the clean signal.
- Every other beat-based rhythm is rendered beat by beat from the same wave model (each ECGSYN wave
  is a Gaussian in phase; in time its centre and width scale with sqrt(RR) as ECGSYN scales them),
  driven by an explicit RR sequence so that beat annotations are exact:
  AF (irregular RR, no P, 4–9 Hz f-waves; Healey et al., CinC 2004), SVT (narrow, 150–220 bpm,
  regular, sometimes aberrant), ventricular bigeminy (premature wide beats, compensatory pause),
  slow VT (110–145 bpm) and rapid VT (150–250 bpm), both wide (QRS >= 110 ms), no P.
- VF: a frequency- and amplitude-modulated quasi-sinusoid with a 2nd harmonic, dominant 3–7 Hz;
  coarse 0.35–1.5 mV peak-to-peak, fine 60–170 µV (< 200 µV).
- Asystole: 20–70 µV (< 100 µV), only drift and low-level noise; overlaps fine VF in amplitude.
- Noise: baseline wander (respiration and drift), EMG (band-limited, 20–100 Hz), powerline
  (50 or 60 Hz) and electrode-motion bursts (0.5–6 Hz, up to 1.5 mV) during organised rhythms —
  which makes noisy sinus look like VF.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from .dsp import peak_to_peak_uv
from .synth_plan import Patient

# --- waveform pieces ---------------------------------------------------------------------------


def _waves_in_time(p: Patient, rr_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECGSYN waves as Gaussians in time for one beat of length ``rr_s``: (centre s, width s, mV).

    ECGSYN scales angles and widths with hr: widths and Q/S angles by sqrt(hr/60), P/T angles by
    (hr/60)^(1/4); in the ODE each wave integrates to a_i * b_i^2. Scaled so R minus the deepest
    wave spans 1.6 mV like ECGSYN's output.
    """
    hr = 60.0 / rr_s
    f1, f2 = np.sqrt(hr / 60.0), (hr / 60.0) ** 0.25
    ti = np.deg2rad(np.array(p.ti)) * np.array([f2, f1, 1.0, f1, f2])
    bi = np.array(p.bi) * f1
    to_s = rr_s / (2 * np.pi)
    amp = np.array(p.ai) * np.array(p.bi) ** 2
    amp = amp * 1.6 / (amp[2] - min(amp.min(), 0.0))
    return ti * to_s, bi * to_s, amp


def _gauss(out: np.ndarray, fs: float, centre_s: float, width_s: float, amp: float) -> None:
    """Add one Gaussian wave into ``out`` in place (only where it is non-negligible)."""
    c = centre_s * fs
    half = int(np.ceil(5 * width_s * fs))
    lo, hi = max(0, int(c) - half), min(len(out), int(c) + half + 2)
    if lo >= hi:
        return
    t = (np.arange(lo, hi) - c) / fs
    out[lo:hi] += amp * np.exp(-0.5 * (t / width_s) ** 2)


def _supraventricular_beat(out, fs, r_s, rr_s, p: Patient, with_p: bool, qrs_scale: float = 1.0):
    centres, widths, amps = _waves_in_time(p, rr_s)
    for i in range(5):
        if i == 0 and not with_p:
            continue
        w = widths[i] * (qrs_scale if i in (1, 2, 3) else 1.0)
        _gauss(out, fs, r_s + centres[i], w, p.gain * amps[i])


def _ventricular_beat(out, fs, r_s, p: Patient, qrs_s: float, amp_scale: float = 1.0):
    """A wide complex with no P wave and a discordant T (bundle-branch-like shape)."""
    a = p.gain * p.v_amp_mv * amp_scale * p.v_polarity
    sigma = qrs_s / 5.0  # ~95% of a Gaussian lies within +/- 2.5 sigma
    _gauss(out, fs, r_s, sigma, a)
    _gauss(out, fs, r_s + 0.6 * qrs_s, 0.8 * sigma, -0.35 * a)
    _gauss(out, fs, r_s + qrs_s + 0.12, 0.07, -0.35 * a)


def _smooth_noise(rng, n: int, fs: float, cutoff_hz: float) -> np.ndarray:
    """Gaussian noise low-passed at ``cutoff_hz``, unit standard deviation."""
    sos = sps.butter(2, cutoff_hz, fs=fs, output="sos")
    y = sps.sosfilt(sos, rng.standard_normal(n + int(2 * fs)))[int(2 * fs) :]
    return y / (y.std() + 1e-12)


def _sinus(rng, p: Patient, dur_s: float, fs: int, hr: float, hr_std: float):
    """ECGSYN through neurokit2; R peaks found on the clean signal."""
    import neurokit2 as nk  # heavy import, only when generating

    n = int(round(dur_s * fs))
    x = np.asarray(
        nk.ecg_simulate(duration=dur_s + 2.0, sampling_rate=fs, noise=0, heart_rate=hr, heart_rate_std=hr_std,
                        method="ecgsyn", random_state=int(rng.integers(2**31)),
                        ti=p.ti, ai=p.ai, bi=p.bi),
        dtype=np.float64,
    )[:n]  # fmt: skip
    # neurokit2 sizes the RR process from `duration`; ask for a little more and cut to length
    x = (x - np.median(x)) * p.gain
    peaks, _ = sps.find_peaks(x, height=0.55 * x.max(), distance=int(0.3 * fs))
    return x, peaks, ["N"] * len(peaks)


def _beat_train(rng, p: Patient, dur_s: float, fs: int, rhythm: str):
    """Rhythms rendered beat by beat: (signal, beat samples, beat symbols)."""
    n = int(round(dur_s * fs))
    x = np.zeros(n)
    beats: list[tuple[float, str]] = []
    t = float(rng.uniform(0.1, 0.4))
    if rhythm == "AFIB":
        mean_rr = 60.0 / rng.uniform(75, 150)
        while t < dur_s:
            beats.append((t, "N"))
            # irregularly irregular: RR drawn independently, coefficient of variation 15–25 %
            t += max(0.28, mean_rr * (1 + rng.uniform(0.15, 0.25) * rng.standard_normal()))
        for r, _ in beats:
            _supraventricular_beat(x, fs, r, mean_rr, p, with_p=False)
        # fibrillatory f-waves, 4–9 Hz, 30–120 µV, slowly modulated
        f = rng.uniform(4, 9)
        phase = 2 * np.pi * np.cumsum(f + 0.5 * _smooth_noise(rng, n, fs, 0.3)) / fs
        env = 1 + 0.4 * _smooth_noise(rng, n, fs, 0.2)
        x += p.gain * rng.uniform(0.03, 0.12) * env * np.sin(phase)
    elif rhythm == "SVTA":
        rr = 60.0 / rng.uniform(150, 220)
        aberrant = rng.random() < 0.35  # aberrant conduction widens the QRS: the SVT/VT hard pair
        qrs_scale = rng.uniform(1.8, 2.6) if aberrant else 1.0
        while t < dur_s:
            beats.append((t, "A"))
            _supraventricular_beat(x, fs, t, rr, p, with_p=False, qrs_scale=qrs_scale)
            t += rr * (1 + 0.01 * rng.standard_normal())
    elif rhythm == "B":
        rr = 60.0 / rng.uniform(60, 90)
        coupling = rng.uniform(0.45, 0.65)
        qrs = rng.uniform(0.12, 0.17)
        while t < dur_s:
            beats.append((t, "N"))
            _supraventricular_beat(x, fs, t, rr, p, with_p=True)
            tv = t + coupling * rr
            if tv < dur_s:
                beats.append((tv, "V"))
                _ventricular_beat(x, fs, tv, p, qrs)
            t += 2 * rr * (1 + 0.02 * rng.standard_normal())  # full compensatory pause
    elif rhythm in ("VT", "VTSLOW"):
        bpm = rng.uniform(155, 245) if rhythm == "VT" else rng.uniform(110, 145)
        rr = 60.0 / bpm
        qrs = rng.uniform(0.11, 0.18)
        amp = rng.uniform(0.7, 1.3)
        while t < dur_s:
            beats.append((t, "V"))
            _ventricular_beat(x, fs, t, p, qrs, amp)
            t += rr * (1 + 0.02 * rng.standard_normal())
    else:
        raise ValueError(f"no beat renderer for rhythm {rhythm}")
    keep = [(r, s) for r, s in beats if r < dur_s]
    samples = np.array([int(round(r * fs)) for r, _ in keep], dtype=np.int64)
    samples = np.clip(samples, 0, n - 1)
    return x, samples, [s for _, s in keep]


def _fibrillation(rng, dur_s: float, fs: int, p2p_mv: float):
    """VF: quasi-sinusoid, dominant frequency 3–7 Hz, slow frequency and amplitude modulation."""
    n = int(round(dur_s * fs))
    f0 = rng.uniform(4.0, 6.5) if p2p_mv > 0.2 else rng.uniform(3.0, 5.0)
    freq = np.clip(f0 + 0.8 * _smooth_noise(rng, n, fs, 0.3), 3.0, 7.0)
    phase = 2 * np.pi * np.cumsum(freq) / fs + rng.uniform(0, 2 * np.pi)
    wave = np.sin(phase) + rng.uniform(0.15, 0.4) * np.sin(2 * phase + rng.uniform(0, 2 * np.pi))
    env = np.clip(1 + 0.35 * _smooth_noise(rng, n, fs, 0.4), 0.4, 1.6)
    y = env * wave
    # normalise the robust peak-to-peak amplitude to the requested one
    lo, hi = np.percentile(y, [0.5, 99.5])
    return y * (p2p_mv / (hi - lo)), np.zeros(0, dtype=np.int64), []


def _asystole(rng, dur_s: float, fs: int):
    """Asystole: no organised activity, only slow drift and low-level noise, 20–70 µV peak-to-peak
    in the 1–30 Hz band (below the 100 µV of the definition, but overlapping fine VF's range)."""
    n = int(round(dur_s * fs))
    y = _smooth_noise(rng, n, fs, rng.uniform(2.0, 8.0))
    y *= rng.uniform(0.020, 0.070) / (peak_to_peak_uv(y, fs) / 1000.0)
    return y, np.zeros(0, np.int64), []


def render_episode(rng, p: Patient, rhythm: str, dur_s: float, fs: int):
    """Clean waveform (mV) of one rhythm episode, with its beat annotations."""
    if rhythm == "N":
        return _sinus(rng, p, dur_s, fs, p.hr_nsr, p.hr_std)
    if rhythm == "SBR":
        return _sinus(rng, p, dur_s, fs, rng.uniform(38, 55), p.hr_std * 0.6)
    if rhythm == "STACH":
        return _sinus(rng, p, dur_s, fs, rng.uniform(102, 135), p.hr_std)
    if rhythm == "VF":
        return _fibrillation(rng, dur_s, fs, p.vf_amp_mv * rng.uniform(0.8, 1.2) + 0.05)
    if rhythm == "VFINE":
        return _fibrillation(rng, dur_s, fs, rng.uniform(0.06, 0.17))
    if rhythm == "ASYS":
        return _asystole(rng, dur_s, fs)
    return _beat_train(rng, p, dur_s, fs, rhythm)


def add_noise(rng, p: Patient, x: np.ndarray, fs: int, organised: np.ndarray) -> np.ndarray:
    """Baseline wander, EMG, powerline everywhere; electrode-motion bursts in organised rhythms."""
    n = len(x)
    t = np.arange(n) / fs
    resp = rng.uniform(0.15, 0.35)
    wander = p.wander_mv * (0.7 * np.sin(2 * np.pi * resp * t + rng.uniform(0, 6.3))
                            + 0.5 * _smooth_noise(rng, n, fs, 0.1))  # fmt: skip
    sos = sps.butter(2, [20.0, min(100.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    emg = sps.sosfilt(sos, rng.standard_normal(n))
    emg *= p.emg_uv * 1e-3 / (emg.std() + 1e-12)
    line = p.powerline_uv * 1e-3 * np.sin(2 * np.pi * p.powerline_hz * t + rng.uniform(0, 6.3))
    y = x + wander + emg + line
    # electrode motion: 0.5–6 Hz bursts of up to 1.5 mV, 1–4 s long, only over organised rhythm
    n_bursts = rng.poisson(p.motion_per_min * organised.mean() * n / fs / 60.0)
    for _ in range(n_bursts):
        length = int(rng.uniform(1.0, 4.0) * fs)
        start = int(rng.integers(0, max(1, n - length)))
        if not organised[start : start + length].all():
            continue
        burst = _smooth_noise(rng, length, fs, rng.uniform(3.0, 6.0)) * rng.uniform(0.1, 0.45)
        burst *= np.hanning(length)
        # a burst of high EMG rides along (a patient moving)
        burst += rng.uniform(0.02, 0.08) * rng.standard_normal(length) * np.hanning(length)
        y[start : start + length] += burst
    return y
