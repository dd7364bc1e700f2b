"""Turn one WFDB record's annotations into labelled examples.

- ``rhythm_windows``: fixed windows labelled from the rhythm annotations (MIT-BIH '+' aux notes or
  cudb's '[' ... ']' VF episode markers); windows across a rhythm change or without a rhythm are
  skipped and counted.
- ``beat_segments``: one Kaggle-style segment per annotated beat, labelled with the AAMI map.

Also the options that shape the examples (``ReadOptions``) and the log of what was skipped or
could not be interpreted (``ReadLog``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .dataset import Dataset
from .dsp import bandpass, resample
from .labels import (
    AAMI_CLASSES,
    AAMI_MAP,
    EXCLUDED_RHYTHMS,
    NON_BEAT_SYMBOLS,
    RAPID_VT_BPM,
    RHYTHM_CLASSES,
    SHOCKABLE_CLASSES,
    apply_vt_rate,
    rhythm_class,
    rhythm_token,
)
from .wfdb_read import RawRecord

# cudb has no rhythm aux notes: outside its '[' ']' VF episodes the rhythm is "not VF".
OUTSIDE_VF_EPISODE = ("NONVF", "ONS")

# QRS detectors for records without beat labels (vfdb, cudb): the ventricular rate of a VT window
# decides rapid (shockable) or slow VT. Both come from well-kept libraries already in the stack;
# benchmarks/qrs_rate.py compares them with mitdb's beat annotations.
QRS_DETECTORS = ("xqrs", "neurokit")
DEFAULT_QRS = "xqrs"


def detect_qrs(x: np.ndarray, fs: float, method: str = DEFAULT_QRS) -> np.ndarray:
    """R-peak sample indices of a whole record's signal (mV) at ``fs``."""
    if method == "xqrs":
        from wfdb import processing

        return np.asarray(processing.xqrs_detect(np.asarray(x, float), fs, verbose=False),
                          dtype=np.int64)  # fmt: skip
    if method == "neurokit":
        import neurokit2 as nk

        _, info = nk.ecg_peaks(np.asarray(x, float), sampling_rate=int(fs), method="neurokit")
        return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
    raise ValueError(f"QRS detector is one of {', '.join(QRS_DETECTORS)}, not {method!r}")


def window_rate(beats: np.ndarray, fs: float) -> float:
    """Beats per minute from the beats inside one window (NaN with fewer than three).

    >>> window_rate(np.array([0, 250, 500, 750]), 250.0)
    60.0"""
    if len(beats) < 3:
        return float("nan")
    return 60.0 * (len(beats) - 1) / ((beats[-1] - beats[0]) / fs)


@dataclass(frozen=True)
class ReadOptions:
    """How a WFDB folder becomes examples."""

    task: str = "rhythm"  # "rhythm" or "beats"
    lead: str | None = None  # signal name or index; default MLII, II or ECG, else the first
    window_s: float = 4.0
    stride_s: float = 2.0
    rhythm_fs_hz: float = 250.0
    beat_fs_hz: float = 125.0
    beat_samples: int = 187
    annotator: str = "atr"
    split: str = "auto"  # "auto" (DS1/DS2 for mitdb beats), "ds1ds2" or "records"
    # label uncertainty: leave out rhythm windows that start or end within this many seconds of a
    # rhythm change (an annotated edge can be off: cudb's episode edges by up to 5 s); 0: keep all
    edge_guard_s: float = 0.0

    def __post_init__(self) -> None:
        if self.task not in ("rhythm", "beats"):
            raise ValueError(f"task must be 'rhythm' or 'beats', not {self.task!r}")
        if self.window_s <= 0 or self.stride_s <= 0:
            raise ValueError("window and stride must be positive")
        if not self.edge_guard_s >= 0:
            raise ValueError(f"edge_guard_s must be 0 or more seconds, not {self.edge_guard_s!r}")
        if self.split not in ("auto", "ds1ds2", "records"):
            raise ValueError(f"split must be auto, ds1ds2 or records, not {self.split!r}")


@dataclass
class ReadLog:
    """What reading skipped or could not interpret, reported to the user (never silently)."""

    unknown_symbols: Counter = field(default_factory=Counter)
    unknown_rhythms: Counter = field(default_factory=Counter)
    skipped_windows: Counter = field(default_factory=Counter)
    short_records: list[str] = field(default_factory=list)
    resampled: dict[str, float] = field(default_factory=dict)
    nan_samples: dict[str, int] = field(default_factory=dict)
    label_decisions: Counter = field(default_factory=Counter)
    left_out: dict[str, str] = field(default_factory=dict)  # record -> why (unusable signal)
    other_lead: dict[str, str] = field(default_factory=dict)  # record -> why not the default

    def as_dict(self) -> dict:
        return {
            "label_decisions": dict(self.label_decisions),
            "unknown_symbols": dict(self.unknown_symbols),
            "unknown_rhythms": dict(self.unknown_rhythms),
            "skipped_windows": dict(self.skipped_windows),
            "short_records": list(self.short_records),
            "resampled_from_hz": dict(self.resampled),
            "nan_samples_interpolated": dict(self.nan_samples),
            "records_left_out": dict(self.left_out),
            "other_lead_read": dict(self.other_lead),
        }

    def warnings(self) -> list[str]:
        out = []
        if self.unknown_symbols:
            items = ", ".join(f"{k!r}×{v}" for k, v in sorted(self.unknown_symbols.items()))
            out.append(f"unknown annotation symbols skipped: {items}")
        if self.unknown_rhythms:
            items = ", ".join(f"{k!r}×{v}" for k, v in sorted(self.unknown_rhythms.items()))
            out.append(f"unknown rhythm notes (their windows skipped): {items}")
        if self.short_records:
            out.append(f"records shorter than one window, skipped: {', '.join(self.short_records)}")
        if self.nan_samples:
            items = ", ".join(f"{k} ({v})" for k, v in self.nan_samples.items())
            out.append(f"missing samples interpolated: {items}")
        if self.other_lead:
            items = ", ".join(f"{k} ({v})" for k, v in self.other_lead.items())
            out.append(f"read the next ECG lead: {items}")
        if self.left_out:
            items = "; ".join(self.left_out.values())
            out.append(f"{len(self.left_out)} records left out: {items}")
        return out


def rhythm_segments(rec: RawRecord, log: ReadLog) -> list[tuple[int, int, str | None]]:
    """(start, end, rhythm token or None) covering the record, in its own samples.

    '+' annotations with an aux note start a rhythm; '[' starts a VF episode and ']' returns to the
    rhythm before it. A record with episode markers and no rhythm notes (cudb) is "not VF" outside
    its episodes. None marks stretches with no rhythm information.
    """
    has_rhythm_notes = any(
        s == "+" and a.strip("\x00 ") for s, a in zip(rec.ann_symbol, rec.ann_aux)
    )
    has_episodes = "[" in rec.ann_symbol
    current: str | None = None
    if has_episodes and not has_rhythm_notes:
        current = OUTSIDE_VF_EPISODE[0]
    before_episode = current
    cuts: list[tuple[int, str | None]] = [(0, current)]
    for sample, symbol, aux in zip(rec.ann_sample, rec.ann_symbol, rec.ann_aux):
        if symbol == "+" and aux.strip("\x00 "):
            current = rhythm_token(aux)
            before_episode = current
        elif symbol == "[":
            before_episode, current = current, "VF"
        elif symbol == "]":
            current = before_episode
        else:
            continue
        cuts.append((int(sample), current))
    n = len(rec.signal_mv)
    segs = []
    for (start, tok), (end, _) in zip(cuts, cuts[1:] + [(n, None)]):
        if end > start:
            segs.append((start, min(end, n), tok))
    return segs


def rhythm_changes(segs: list[tuple[int, int, str | None]]) -> np.ndarray:
    """The samples where one known rhythm gives way to another (a repeated annotation of the same
    rhythm is no change, nor is the start of the annotations). E.g. [(0, 5, None), (5, 9, "N"),
    (9, 12, "N"), (12, 20, "VT")] -> [12]."""
    return np.array([b[0] for a, b in zip(segs, segs[1:])
                     if a[2] is not None and b[2] is not None and a[2] != b[2]],
                    dtype=np.int64)  # fmt: skip


def near_change(changes: np.ndarray, start: int, end: int, guard: int) -> bool:
    """Whether the window [start, end) lies within ``guard`` samples of a rhythm change (a change
    inside it included). E.g. changes [100], guard 20: [0, 80) -> False, [0, 81) -> True,
    [120, 200) -> False, [119, 200) -> True."""
    k = int(np.searchsorted(changes, start - guard, side="right"))
    return k < len(changes) and changes[k] < end + guard


def _beats(rec: RawRecord, log: ReadLog) -> tuple[np.ndarray, list[str]]:
    """Samples and symbols of annotated beats; unknown symbols are counted and left out."""
    samples, symbols = [], []
    for s, sym in zip(rec.ann_sample, rec.ann_symbol):
        if sym in AAMI_MAP:
            samples.append(int(s))
            symbols.append(sym)
        elif sym not in NON_BEAT_SYMBOLS:
            log.unknown_symbols[sym] += 1
    return np.asarray(samples, dtype=np.int64), symbols


def _resampled(rec: RawRecord, fs: float, log: ReadLog) -> np.ndarray:
    """The record's signal at ``fs`` (a resampled record is noted in the log)."""
    if rec.fs_hz != fs:
        log.resampled[rec.name] = rec.fs_hz
    return resample(rec.signal_mv, rec.fs_hz, fs)


def rhythm_windows(
    rec: RawRecord, opts: ReadOptions, log: ReadLog, source: str = ""
) -> Dataset | None:
    """Labelled rhythm windows of one record (None when the record gives none)."""
    fs = opts.rhythm_fs_hz
    x = _resampled(rec, fs, log)
    scale = fs / rec.fs_hz
    win, stride = int(round(opts.window_s * fs)), int(round(opts.stride_s * fs))
    if len(x) < win:
        log.short_records.append(rec.name)
        return None
    beat_at, _ = _beats(rec, log)
    beat_at = np.round(beat_at * scale).astype(np.int64)
    # without beat labels, a QRS detector gives the ventricular rate (run once, when needed)
    detected: list[np.ndarray] = []
    segs = [
        (int(round(a * scale)), int(round(b * scale)), t) for a, b, t in rhythm_segments(rec, log)
    ]
    seg_start = np.array([s[0] for s in segs])
    changes = rhythm_changes(segs)
    guard = int(round(opts.edge_guard_s * fs))
    band = bandpass(x, fs)
    rows: list[tuple] = []
    for start in range(0, len(x) - win + 1, stride):
        end = start + win
        k = int(np.searchsorted(seg_start, start, side="right") - 1)
        _, seg_b, tok = segs[k]
        if tok is None:
            log.skipped_windows["no rhythm annotation"] += 1
            continue
        if end > seg_b:
            log.skipped_windows["rhythm change inside window"] += 1
            continue
        if tok in EXCLUDED_RHYTHMS:
            log.skipped_windows[f"{tok.lower()} segment"] += 1
            continue
        mapped = OUTSIDE_VF_EPISODE if tok == OUTSIDE_VF_EPISODE[0] else rhythm_class(tok)
        if mapped is None:
            log.unknown_rhythms[tok] += 1
            log.skipped_windows["unknown rhythm"] += 1
            continue
        # a window that would be labelled, but near a change
        if guard and near_change(changes, start, end, guard):
            log.skipped_windows[f"within {opts.edge_guard_s:g} s of a rhythm change"] += 1
            continue
        if len(beat_at):
            rate = window_rate(beat_at[(beat_at >= start) & (beat_at < end)], fs)
            how = "beat labels"
        elif mapped[1] == "VT":
            if not detected:
                detected.append(detect_qrs(x, fs))
            peaks = detected[0]
            rate = window_rate(peaks[(peaks >= start) & (peaks < end)], fs)
            how = f"{DEFAULT_QRS} QRS detector"
        else:
            rate, how = np.nan, ""
        rhythm, klass = apply_vt_rate(*mapped, rate)
        if mapped[1] == "VT":  # how each VT window's label was decided
            if rate != rate:
                log.label_decisions["VT kept as rapid VT: no rate (fewer than 3 beats found)"] += 1
            elif klass == "VT":
                log.label_decisions[f"VT kept as rapid VT: {how} rate >= {RAPID_VT_BPM:g} bpm"] += 1
            else:
                log.label_decisions[
                    f"VT demoted to slow VT (ONS): {how} rate < {RAPID_VT_BPM:g} bpm"
                ] += 1
        lo, hi = np.percentile(band[start:end], [0.5, 99.5])
        rows.append((start, rhythm, klass, rate, (hi - lo) * 1000.0))
    if not rows:
        return None
    n = len(rows)
    starts = np.array([r[0] for r in rows])
    X = np.stack([x[s : s + win] for s in starts]).astype(np.float32)[:, :, None]
    klass = [r[2] for r in rows]
    return Dataset(
        X=X,
        y=np.array([RHYTHM_CLASSES.index(k) for k in klass], dtype=np.int64),
        groups=np.array([rec.name] * n),
        class_names=RHYTHM_CLASSES,
        fs_hz=fs,
        task="rhythm",
        rhythm=np.array([r[1] for r in rows]),
        shockable=np.array([k in SHOCKABLE_CLASSES for k in klass]),
        amplitude_uv=np.array([r[4] for r in rows], dtype=np.float32),
        rate_bpm=np.array([r[3] for r in rows], dtype=np.float32),
        start_s=(starts / fs).astype(np.float64),
        fixed_split=np.array([""] * n),
        provenance={"source": source},
    )


def beat_segments(
    rec: RawRecord, opts: ReadOptions, log: ReadLog, source: str = ""
) -> Dataset | None:
    """Kaggle-style beat segments of one record (None when it has no annotated beats)."""
    fs = opts.beat_fs_hz
    x = _resampled(rec, fs, log)
    beat_at, symbols = _beats(rec, log)
    if len(beat_at) == 0:
        return None
    beat_at = np.clip(np.round(beat_at * fs / rec.fs_hz).astype(np.int64), 0, len(x) - 1)
    # 10 s frames, each scaled to [0, 1] (Kachuee 2018, steps 1–2)
    frame = int(round(10 * fs))
    norm = np.empty_like(x)
    for a in range(0, len(x), frame):
        seg = x[a : a + frame]
        span = seg.max() - seg.min()
        norm[a : a + frame] = (seg - seg.min()) / span if span > 0 else 0.0
    global_rr = float(np.median(np.diff(beat_at))) if len(beat_at) > 1 else fs
    L = opts.beat_samples
    X = np.zeros((len(beat_at), L), dtype=np.float32)
    for i, r in enumerate(beat_at):
        f = r // frame
        in_frame = beat_at[(beat_at >= f * frame) & (beat_at < (f + 1) * frame)]
        rr = float(np.median(np.diff(in_frame))) if len(in_frame) > 1 else global_rr
        length = min(L, int(round(1.2 * rr)), len(x) - r)
        X[i, :length] = norm[r : r + length]
    labels = [AAMI_MAP[s] for s in symbols]
    n = len(labels)
    return Dataset(
        X=X[:, :, None],
        y=np.array([AAMI_CLASSES.index(c) for c in labels], dtype=np.int64),
        groups=np.array([rec.name] * n),
        class_names=AAMI_CLASSES,
        fs_hz=fs,
        task="beats",
        rhythm=np.array(symbols),
        shockable=np.zeros(n, dtype=bool),
        amplitude_uv=np.full(n, np.nan, dtype=np.float32),
        rate_bpm=np.full(n, np.nan, dtype=np.float32),
        start_s=beat_at / fs,
        fixed_split=np.array([""] * n),
        provenance={"source": source},
    )
