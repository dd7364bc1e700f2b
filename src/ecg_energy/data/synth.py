"""The embedded synthetic ECG database: patients moving between rhythms, written as WFDB records.

Each record is one synthetic patient (own morphology, heart-rate variability, gain and noise) whose
rhythm changes inside the record, e.g. sinus -> rapid VT -> coarse VF -> fine VF -> asystole. The
records are real WFDB files (``.hea``/``.dat`` and an ``.atr`` with beat symbols and MIT-BIH-style
'+' rhythm annotations), so the default run goes through exactly the reader used for PhysioNet data.

Hard pairs are built in on purpose (fine VF vs asystole, SVT vs rapid VT, slow vs rapid VT, noisy
sinus vs VF), so model variants can differ in accuracy.

Rhythm states, patients and episode plans live in ``synth_plan``, the waveform models in
``synth_render``; this module assembles records from them and writes the WFDB files.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from .synth_plan import (
    DURATION_S,
    ECGSYN_AI,
    ECGSYN_BI,
    ECGSYN_TI_DEG,
    FEATURED,
    ORGANISED,
    TRANSITIONS,
    Patient,
    make_patient,
    plan_episodes,
)
from .synth_render import add_noise, render_episode

__all__ = [
    "ADC_GAIN",
    "DURATION_S",
    "ECGSYN_AI",
    "ECGSYN_BI",
    "ECGSYN_TI_DEG",
    "FEATURED",
    "ORGANISED",
    "TRANSITIONS",
    "Patient",
    "SynthConfig",
    "SynthRecord",
    "add_noise",
    "generate",
    "make_patient",
    "plan_episodes",
    "render_episode",
    "synth_record",
    "write_record",
]


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
class SynthRecord:
    name: str
    fs_hz: int
    signal_mv: np.ndarray
    ann_sample: np.ndarray
    ann_symbol: tuple[str, ...]
    ann_aux: tuple[str, ...]
    episodes: tuple[tuple[str, float, float], ...]  # (rhythm token, start s, end s)


# --- records -----------------------------------------------------------------------------------


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
