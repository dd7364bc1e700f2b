"""The embedded synthetic ECG database: patients moving between rhythms, written as WFDB records.

Each record is one synthetic patient (own morphology, heart-rate variability, gain and noise) whose
rhythm changes inside the record, e.g. sinus -> rapid VT -> coarse VF -> fine VF -> asystole. The
records are real WFDB files (``.hea``/``.dat`` and an ``.atr`` with beat symbols and MIT-BIH-style
'+' rhythm annotations), so the default run goes through exactly the reader used for PhysioNet data.

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

Hard pairs are built in on purpose (fine VF vs asystole, SVT vs rapid VT, slow vs rapid VT, noisy
sinus vs VF), so model variants can differ in accuracy.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy import signal as sps

from .dsp import peak_to_peak_uv

# --- rhythm states -----------------------------------------------------------------------------

# rhythm token (MIT-BIH aux note without "(") -> duration range in seconds
DURATION_S: dict[str, tuple[float, float]] = {
    "N": (15, 40),
    "SBR": (15, 40),
    "STACH": (15, 35),
    "AFIB": (20, 50),
    "SVTA": (12, 30),
    "B": (15, 35),
    "VTSLOW": (12, 30),
    "VT": (12, 30),
    "VF": (20, 45),
    "VFINE": (15, 35),
    "ASYS": (15, 40),
}

# Markov transitions between rhythms; arrest paths (VT -> VF -> fine VF -> asystole) are the most
# likely from the ventricular states, and resuscitation (-> sinus) closes the loop.
TRANSITIONS: dict[str, dict[str, float]] = {
    "N": {"SBR": 0.1, "STACH": 0.1, "AFIB": 0.15, "SVTA": 0.15, "B": 0.15, "VT": 0.25,
          "VTSLOW": 0.1},
    "SBR": {"N": 0.3, "VTSLOW": 0.25, "ASYS": 0.2, "B": 0.25},
    "STACH": {"N": 0.3, "SVTA": 0.35, "VT": 0.35},
    "AFIB": {"N": 0.4, "VT": 0.3, "STACH": 0.3},
    "SVTA": {"N": 0.3, "VT": 0.4, "STACH": 0.3},
    "B": {"N": 0.3, "VT": 0.5, "VTSLOW": 0.2},
    "VTSLOW": {"N": 0.3, "VT": 0.4, "SBR": 0.3},
    "VT": {"VF": 0.7, "N": 0.2, "VTSLOW": 0.1},
    "VF": {"VFINE": 0.45, "N": 0.2, "ASYS": 0.25, "VT": 0.1},
    "VFINE": {"ASYS": 0.55, "VF": 0.25, "N": 0.2},
    "ASYS": {"N": 0.35, "VFINE": 0.3, "SBR": 0.35},
}  # fmt: skip

# Every record starts in sinus rhythm and visits its "featured" rhythm next; featuring rhythms in
# turn guarantees that every rhythm is in every database of 11 records or more.
FEATURED: tuple[str, ...] = ("VT", "VF", "AFIB", "SVTA", "B", "VTSLOW", "ASYS", "SBR", "STACH",
                             "VFINE", "VT", "VF")  # fmt: skip
ORGANISED = frozenset({"N", "SBR", "STACH", "AFIB", "SVTA", "B", "VTSLOW", "VT"})

# ECGSYN's published P, Q, R, S, T parameters (McSharry 2003, Table 1)
ECGSYN_TI_DEG = np.array([-70.0, -15.0, 0.0, 15.0, 100.0])
ECGSYN_AI = np.array([1.2, -5.0, 30.0, -7.5, 0.75])
ECGSYN_BI = np.array([0.25, 0.1, 0.1, 0.1, 0.4])


@dataclass(frozen=True)
class SynthConfig:
    """What the generator makes: ``records`` patients of ``minutes`` each at ``fs_hz``."""

    records: int = 24
    minutes: float = 5.0
    seed: int = 0
    fs_hz: int = 250

    def __post_init__(self) -> None:
        if self.records < 1:
            raise ValueError("records must be at least 1")
        if not 0.25 <= self.minutes <= 240:
            raise ValueError("minutes must be between 0.25 and 240")
        if self.fs_hz < 100:
            raise ValueError("fs_hz must be at least 100 Hz")


@dataclass(frozen=True)
class Patient:
    """One synthetic patient's constant traits."""

    gain: float  # overall amplitude scale of organised activity
    ai: tuple[float, ...]  # ECGSYN wave heights (P Q R S T)
    bi: tuple[float, ...]  # ECGSYN wave widths (rad)
    ti: tuple[float, ...]  # ECGSYN wave angles (deg)
    hr_nsr: float  # bpm
    hr_std: float  # bpm
    v_polarity: float  # sign of the wide ventricular complex in this lead
    v_amp_mv: float  # amplitude of ventricular complexes
    vf_amp_mv: float  # coarse VF peak-to-peak
    wander_mv: float
    emg_uv: float  # EMG RMS
    powerline_hz: float
    powerline_uv: float
    motion_per_min: float  # electrode-motion bursts per minute of organised rhythm


@dataclass(frozen=True)
class SynthRecord:
    name: str
    fs_hz: int
    signal_mv: np.ndarray
    ann_sample: np.ndarray
    ann_symbol: tuple[str, ...]
    ann_aux: tuple[str, ...]
    episodes: tuple[tuple[str, float, float], ...]  # (rhythm token, start s, end s)


# --- patients and plans ------------------------------------------------------------------------


def make_patient(rng: np.random.Generator) -> Patient:
    ai = ECGSYN_AI * rng.uniform([0.6, 0.5, 0.8, 0.5, 0.45], [1.4, 1.5, 1.2, 1.6, 1.05])
    bi = ECGSYN_BI * rng.uniform(0.9, 1.1, size=5)
    ti = ECGSYN_TI_DEG + rng.uniform([-8, -3, 0, -3, -10], [8, 3, 0, 3, 10])
    return Patient(
        gain=float(rng.uniform(0.5, 1.6)),
        ai=tuple(ai.round(4)),
        bi=tuple(bi.round(4)),
        ti=tuple(ti.round(3)),
        hr_nsr=float(rng.uniform(62, 92)),
        hr_std=float(rng.uniform(1.0, 4.0)),
        v_polarity=float(rng.choice([-1.0, 1.0])),
        v_amp_mv=float(rng.uniform(0.8, 2.0)),
        vf_amp_mv=float(rng.uniform(0.4, 1.5)),
        wander_mv=float(rng.uniform(0.03, 0.3)),
        emg_uv=float(rng.uniform(1.5, 8.0)),
        powerline_hz=float(rng.choice([50.0, 60.0])),
        powerline_uv=float(rng.uniform(2.0, 25.0)),
        motion_per_min=float(rng.uniform(0.0, 2.5)),
    )


def plan_episodes(
    rng: np.random.Generator, total_s: float, featured: str
) -> list[tuple[str, float]]:
    """A rhythm sequence filling ``total_s`` seconds: sinus, the featured rhythm, then a Markov walk."""
    plan: list[tuple[str, float]] = []
    state, used = "N", 0.0
    nxt: str | None = featured
    while used < total_s:
        lo, hi = DURATION_S[state]
        dur = min(float(rng.uniform(lo, hi)), total_s - used)
        if dur < 4.0 and plan:  # too short to hold a window: extend the previous episode
            plan[-1] = (plan[-1][0], plan[-1][1] + dur)
            break
        plan.append((state, dur))
        used += dur
        if nxt is not None and nxt != state:
            state, nxt = nxt, None
        else:
            options = TRANSITIONS[state]
            names = list(options)
            p = np.array([options[k] for k in names])
            state = names[int(rng.choice(len(names), p=p / p.sum()))]
    return plan


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


def synth_record(cfg: SynthConfig, index: int) -> SynthRecord:
    """Generate record ``index`` of the database described by ``cfg`` (deterministic)."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, index]))
    fs = cfg.fs_hz
    p = make_patient(rng)
    plan = plan_episodes(rng, cfg.minutes * 60.0, FEATURED[index % len(FEATURED)])
    pieces, organised = [], []
    samples, symbols, aux = [], [], []
    episodes, offset = [], 0
    fade = int(0.05 * fs)
    # episode boundaries in whole samples, so the record is exactly minutes × 60 × fs long
    bounds = np.round(np.cumsum([0.0] + [d for _, d in plan]) * fs).astype(int)
    for (rhythm, _), n in zip(plan, np.diff(bounds)):
        x, beat_at, beat_sym = render_episode(rng, p, rhythm, n / fs, fs)
        if pieces and len(x) > fade and len(pieces[-1]) > fade:
            # 50 ms tapers through zero join episodes without a step (and without dragging one
            # rhythm's amplitude into the next: asystole starts at asystole's level)
            pieces[-1][-fade:] *= np.linspace(1, 0, fade)
            x[:fade] *= np.linspace(0, 1, fade)
        samples.append(np.array([offset]))
        symbols.append("+")
        aux.append("(" + rhythm)
        samples.append(beat_at + offset)
        symbols.extend(beat_sym)
        aux.extend([""] * len(beat_sym))
        episodes.append((rhythm, offset / fs, (offset + len(x)) / fs))
        pieces.append(x)
        organised.append(np.full(len(x), rhythm in ORGANISED))
        offset += len(x)
    clean = np.concatenate(pieces)
    sig = add_noise(rng, p, clean, fs, np.concatenate(organised))
    return SynthRecord(
        name=f"s{index + 1:03d}",
        fs_hz=fs,
        signal_mv=sig,
        ann_sample=np.concatenate(samples).astype(np.int64),
        ann_symbol=tuple(symbols),
        ann_aux=tuple(aux),
        episodes=tuple(episodes),
    )


# --- writing -----------------------------------------------------------------------------------

# 16-bit samples at 1000 ADC units per mV: 1 µV resolution (fine VF and asystole are tens of µV),
# ±32 mV range.
ADC_GAIN = 1000.0


def write_record(rec: SynthRecord, out_dir: str) -> None:
    import wfdb

    d = np.clip(np.round(rec.signal_mv * ADC_GAIN), -32767, 32767).astype(np.int16)
    wfdb.wrsamp(
        rec.name, fs=rec.fs_hz, units=["mV"], sig_name=["ECG"], d_signal=d.reshape(-1, 1).astype(np.int64),
        fmt=["16"], adc_gain=[ADC_GAIN], baseline=[0], write_dir=out_dir,
        comments=["synthetic patient generated by ecg-energy"],
    )  # fmt: skip
    wfdb.wrann(
        rec.name, "atr", sample=rec.ann_sample, symbol=list(rec.ann_symbol),
        aux_note=list(rec.ann_aux), fs=rec.fs_hz, write_dir=out_dir,
    )  # fmt: skip


def _make_and_write(job: tuple[SynthConfig, int, str]) -> dict:
    cfg, index, out_dir = job
    rec = synth_record(cfg, index)
    write_record(rec, out_dir)
    return {"name": rec.name, "seconds": len(rec.signal_mv) / rec.fs_hz,
            "episodes": [list(e) for e in rec.episodes]}  # fmt: skip


def generate(
    cfg: SynthConfig,
    out_dir: str,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> dict:
    """Write the whole database into ``out_dir`` (which must exist) and return its summary.

    Files: one ``.hea``/``.dat``/``.atr`` per record, ``RECORDS``, and ``synth.json`` (the
    configuration and each record's rhythm episodes).
    """

    t0 = time.perf_counter()
    jobs = [(cfg, i, out_dir) for i in range(cfg.records)]
    workers = min(workers or os.cpu_count() or 1, cfg.records)
    records = []
    if workers > 1:
        # records are independent and seeded by (seed, index): the bytes do not depend on workers
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            for summary in pool.map(_make_and_write, jobs):
                records.append(summary)
                if progress:
                    progress(len(records), cfg.records)
    else:
        for job in jobs:
            records.append(_make_and_write(job))
            if progress:
                progress(len(records), cfg.records)
    with open(os.path.join(out_dir, "RECORDS"), "w") as fh:
        fh.write("".join(r["name"] + "\n" for r in records))
    summary = {"generator": "ecg-energy synth", "config": asdict(cfg), "records": records}
    with open(os.path.join(out_dir, "synth.json"), "w") as fh:
        json.dump(summary, fh, indent=1)
    return {**summary, "elapsed_s": time.perf_counter() - t0}
