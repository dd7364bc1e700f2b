"""Who each synthetic record is and what it goes through: patients and rhythm plans.

A patient is a set of constant traits (ECGSYN wave shape, heart rate and its variability, gain,
ventricular and VF amplitudes, noise levels) drawn once per record; a plan is the record's
sequence of rhythm episodes, sinus first, then the record's featured rhythm, then a Markov walk.
Both are drawn from the record's own random generator, before any waveform is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
