"""Read WFDB databases (PhysioNet mitdb, vfdb, cudb, the synthetic database) into Datasets.

Two tasks, one path:
- ``rhythm``: windows (default 4 s, resampled to 250 Hz = 1000 samples) labelled from the rhythm
  annotations — MIT-BIH '+' aux notes, or cudb's '[' ... ']' VF episode markers — as NSR, ONS, ASYS,
  VT or VF, with a shockable flag (rapid VT, VF, VFL). A window is labelled only when one rhythm
  covers all of it; windows across a change or in noise are skipped and counted.
- ``beats``: one segment per annotated beat, 187 samples at 125 Hz positioned like the Kaggle
  heartbeat data (Kachuee et al., ICHI 2018: 10 s frames scaled to [0, 1], each segment starts at
  its R peak and spans 1.2 × the frame's median RR, zero-padded), labelled with the AAMI map.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import DataError
from .dataset import Dataset, concatenate
from .dsp import bandpass, resample
from .labels import (
    AAMI_CLASSES,
    AAMI_MAP,
    EXCLUDED_RHYTHMS,
    NON_BEAT_SYMBOLS,
    RHYTHM_CLASSES,
    SHOCKABLE_CLASSES,
    apply_vt_rate,
    rhythm_class,
    rhythm_token,
)

# de Chazal et al., IEEE TBME 2004: inter-patient split of mitdb; paced records excluded (AAMI).
MITDB_DS1 = frozenset(
    "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230".split()
)
MITDB_DS2 = frozenset(
    "100 103 105 111 113 117 121 123 200 202 210 212 213 214 219 221 222 228 231 232 233 234".split()
)
MITDB_PACED = frozenset({"102", "104", "107", "217"})
PREFERRED_LEADS = ("MLII", "II", "ECG")
# cudb has no rhythm aux notes: outside its '[' ']' VF episodes the rhythm is "not VF".
OUTSIDE_VF_EPISODE = ("NONVF", "ONS")


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

    def __post_init__(self) -> None:
        if self.task not in ("rhythm", "beats"):
            raise ValueError(f"task must be 'rhythm' or 'beats', not {self.task!r}")
        if self.window_s <= 0 or self.stride_s <= 0:
            raise ValueError("window and stride must be positive")
        if self.split not in ("auto", "ds1ds2", "records"):
            raise ValueError(f"split must be auto, ds1ds2 or records, not {self.split!r}")


@dataclass(frozen=True)
class RawRecord:
    """One lead of one WFDB record in mV, with its annotations."""

    name: str
    fs_hz: float
    signal_mv: np.ndarray
    lead: str
    ann_sample: np.ndarray
    ann_symbol: tuple[str, ...]
    ann_aux: tuple[str, ...]
    nan_samples: int = 0


@dataclass
class ReadLog:
    """What reading skipped or could not interpret, reported to the user (never silently)."""

    unknown_symbols: Counter = field(default_factory=Counter)
    unknown_rhythms: Counter = field(default_factory=Counter)
    skipped_windows: Counter = field(default_factory=Counter)
    short_records: list[str] = field(default_factory=list)
    resampled: dict[str, float] = field(default_factory=dict)
    nan_samples: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "unknown_symbols": dict(self.unknown_symbols),
            "unknown_rhythms": dict(self.unknown_rhythms),
            "skipped_windows": dict(self.skipped_windows),
            "short_records": list(self.short_records),
            "resampled_from_hz": dict(self.resampled),
            "nan_samples_interpolated": dict(self.nan_samples),
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
        return out


def list_records(folder: str) -> list[str]:
    """Record names in a WFDB folder: its RECORDS file, else every ``*.hea``."""
    if not os.path.isdir(folder):
        raise DataError(f"{folder}: folder not found; give wfdb:DIR a folder of WFDB records")
    listing = os.path.join(folder, "RECORDS")
    if os.path.isfile(listing):
        with open(listing, encoding="utf-8", errors="replace") as fh:
            names = [ln.strip() for ln in fh if ln.strip() and not ln.startswith("#")]
    else:
        names = sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".hea"))
    if not names:
        raise DataError(f"{folder}: no WFDB records (no RECORDS file and no .hea files)")
    return names


def _pick_lead(names: list[str], lead: str | None, where: str) -> int:
    if lead is None:
        upper = [n.upper() for n in names]
        for want in PREFERRED_LEADS:
            if want in upper:
                return upper.index(want)
        return 0
    if lead.isdigit() and int(lead) < len(names):
        return int(lead)
    for i, n in enumerate(names):
        if n.upper() == lead.upper():
            return i
    raise DataError(f"{where}: no lead {lead!r}; this record has {', '.join(names)} (use --lead)")


# bytes per sample of the WFDB storage formats (format 212 packs two 12-bit samples in 3 bytes)
_BYTES_PER_SAMPLE = {"8": 1, "16": 2, "61": 2, "80": 1, "160": 2, "212": 1.5, "310": 4 / 3,
                     "311": 4 / 3, "24": 3, "32": 4}  # fmt: skip


def _signal_problem(folder: str, header, exc: Exception) -> str:
    """One line for a signal file wfdb could not read: truncated (with counts) or unreadable."""
    dat = header.file_name[0]
    path = os.path.join(folder, dat)
    in_file = [f for f, name in zip(header.fmt, header.file_name) if name == dat]
    per_frame = sum(_BYTES_PER_SAMPLE.get(str(f), 0) for f in in_file)
    if per_frame:
        offset = (header.byte_offset or [0])[0] or 0
        have = int((os.path.getsize(path) - offset) // per_frame)
        if have < header.sig_len:
            return f"{path}: truncated, {have} of {header.sig_len} samples; re-download it"
    return f"{path}: unreadable signal file ({exc})"


_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "v": 1e3}


def read_record(
    folder: str, name: str, lead: str | None = None, annotator: str = "atr"
) -> RawRecord:
    """Read one lead and the annotations of a record, turning every failure into a DataError."""
    import wfdb

    base = os.path.join(folder, name)
    hea = base + ".hea"
    if not os.path.isfile(hea):
        raise DataError(f"{hea}: header file missing; restore it or remove {name!r} from RECORDS")
    try:
        header = wfdb.rdheader(base)
    except Exception as exc:  # wfdb raises many types for a malformed header
        raise DataError(f"{hea}: not a valid WFDB header ({exc})") from exc
    if not header.n_sig or not header.file_name:
        raise DataError(f"{hea}: the header lists no signals")
    for dat in dict.fromkeys(header.file_name):
        if not os.path.isfile(os.path.join(folder, dat)):
            raise DataError(f"{os.path.join(folder, dat)}: signal file missing (named in {hea})")
    idx = _pick_lead(list(header.sig_name), lead, hea)
    try:
        rec = wfdb.rdrecord(base, channels=[idx])
    except Exception as exc:
        raise DataError(_signal_problem(folder, header, exc)) from exc
    sig = rec.p_signal[:, 0].astype(np.float64) if rec.p_signal is not None else None
    if sig is None or len(sig) < header.sig_len:
        got = 0 if sig is None else len(sig)
        raise DataError(f"{base}.dat: truncated, {got} of {header.sig_len} samples; re-download it")
    unit = (rec.units[0] or "mV").strip().lower()
    sig = sig * _TO_MV.get(unit, 1.0)
    nan = ~np.isfinite(sig)
    if nan.all():
        raise DataError(f"{base}.dat: lead {rec.sig_name[0]} holds no valid samples")
    if nan.any():  # WFDB marks invalid samples; bridge short gaps linearly
        good = np.flatnonzero(~nan)
        sig[nan] = np.interp(np.flatnonzero(nan), good, sig[good])
    ann_path = f"{base}.{annotator}"
    if not os.path.isfile(ann_path):
        raise DataError(f"{ann_path}: annotation file missing; labels come from it "
                        "(another annotator: --annotator)")  # fmt: skip
    try:
        ann = wfdb.rdann(base, annotator)
    except Exception as exc:
        raise DataError(f"{ann_path}: unreadable annotation file ({exc})") from exc
    aux = ann.aux_note if ann.aux_note is not None else [""] * len(ann.sample)
    order = np.argsort(ann.sample, kind="stable")
    return RawRecord(
        name=name,
        fs_hz=float(header.fs),
        signal_mv=sig,
        lead=str(rec.sig_name[0]),
        ann_sample=np.asarray(ann.sample, dtype=np.int64)[order],
        ann_symbol=tuple(ann.symbol[i] for i in order),
        ann_aux=tuple((aux[i] or "") for i in order),
        nan_samples=int(nan.sum()),
    )


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


def rhythm_windows(
    rec: RawRecord, opts: ReadOptions, log: ReadLog, source: str = ""
) -> Dataset | None:
    """Labelled rhythm windows of one record (None when the record gives none)."""
    fs = opts.rhythm_fs_hz
    x = resample(rec.signal_mv, rec.fs_hz, fs)
    if rec.fs_hz != fs:
        log.resampled[rec.name] = rec.fs_hz
    scale = fs / rec.fs_hz
    win, stride = int(round(opts.window_s * fs)), int(round(opts.stride_s * fs))
    if len(x) < win:
        log.short_records.append(rec.name)
        return None
    beat_at, _ = _beats(rec, log)
    beat_at = np.round(beat_at * scale).astype(np.int64)
    segs = [
        (int(round(a * scale)), int(round(b * scale)), t) for a, b, t in rhythm_segments(rec, log)
    ]
    seg_start = np.array([s[0] for s in segs])
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
        inside = beat_at[(beat_at >= start) & (beat_at < end)]
        rate = (
            60.0 * (len(inside) - 1) / ((inside[-1] - inside[0]) / fs)
            if len(inside) >= 3
            else np.nan
        )
        rhythm, klass = apply_vt_rate(*mapped, rate)
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
    x = resample(rec.signal_mv, rec.fs_hz, fs)
    if rec.fs_hz != fs:
        log.resampled[rec.name] = rec.fs_hz
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


def load_wfdb(
    folder: str, opts: ReadOptions | None = None, source: str | None = None
) -> tuple[Dataset, ReadLog]:
    """Every record of a WFDB folder as one Dataset, and the log of what was skipped."""
    opts = opts or ReadOptions()
    source = source or f"wfdb:{folder}"
    names = list_records(folder)
    use_ds = opts.split == "ds1ds2" or (
        opts.split == "auto" and opts.task == "beats"
        and bool(set(names) & MITDB_DS1) and bool(set(names) & MITDB_DS2)
    )  # fmt: skip
    if use_ds:
        names = [n for n in names if n in MITDB_DS1 or n in MITDB_DS2]
    log = ReadLog()
    parts, leads = [], set()
    for name in names:
        rec = read_record(folder, name, opts.lead, opts.annotator)
        leads.add(rec.lead)
        if rec.nan_samples:
            log.nan_samples[name] = rec.nan_samples
        make = rhythm_windows if opts.task == "rhythm" else beat_segments
        part = make(rec, opts, log, source)
        if part is None:
            continue
        if use_ds:
            part = _with_fixed_split(part, "train" if name in MITDB_DS1 else "test")
        parts.append(part)
    if not parts:
        why = "; ".join(log.warnings()) or "no labelled windows or beats"
        raise DataError(f"{folder}: no examples for the {opts.task} task ({why})")
    ds = concatenate(parts)
    provenance = {
        "source": source,
        "folder": os.path.abspath(folder),
        "task": opts.task,
        "records": len(names),
        "leads": sorted(leads),
        "options": {k: getattr(opts, k) for k in opts.__dataclass_fields__},
        "split": "mitdb DS1 (train) / DS2 (test), de Chazal 2004" if use_ds else "by record",
        "log": log.as_dict(),
    }
    return _with_provenance(ds, provenance), log


def _with_fixed_split(ds: Dataset, name: str) -> Dataset:
    return replace(ds, fixed_split=np.array([name] * len(ds)))


def _with_provenance(ds: Dataset, provenance: dict) -> Dataset:
    return replace(ds, provenance=provenance)
