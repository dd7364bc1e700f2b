"""Read one WFDB record: one lead in mV and its annotations, every failure a DataError.

Lists a folder's records, picks the lead (MLII, II or ECG unless told), checks that the header,
signal and annotation files exist and are complete, converts the signal to mV and bridges
invalid (NaN) samples, and returns the annotations sorted by sample.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import DataError

PREFERRED_LEADS = ("MLII", "II", "ECG")

# Signals a WFDB record may hold beside its ECG (bedside monitors: pressures, pleth, respiration);
# a record whose every signal is one of these has no ECG lead.
NON_ECG_SIGNALS = frozenset({"ABP", "ART", "AOBP", "PAP", "CVP", "ICP", "PLETH", "PPG", "SPO2",
                             "RESP", "CO2", "ETCO2", "EEG", "EMG", "EOG", "TEMP", "BP", "NBP",
                             "PA", "UAP", "LAP", "RAP"})  # fmt: skip


class RecordUnusable(DataError):
    """The record's files are sound but its signal gives nothing to read (no ECG lead, no valid
    sample in any ECG lead): a folder's reader leaves such a record out and counts it."""


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
    lead_note: str = ""  # why another lead than the default was read, e.g. "II invalid throughout"


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
    for name in names:  # a record is a file in this folder (or a sub-folder), never elsewhere
        parts = name.split("/")
        if os.path.isabs(name) or "\\" in name or any(p in ("", ".", "..") for p in parts):
            raise DataError(f"{listing}: record {name!r} is not a name inside {folder} (no "
                            "'..', no absolute path); fix the RECORDS file")  # fmt: skip
    return names


def is_ecg(name: str) -> bool:
    """Whether a signal name is an ECG lead (anything not a known non-ECG signal).

    >>> is_ecg("II"), is_ecg("MCL1"), is_ecg("PLETH"), is_ecg("ABP")
    (True, True, False, False)"""
    return name.strip().upper() not in NON_ECG_SIGNALS


def lead_order(names: list[str]) -> list[int]:
    """The ECG leads of a record in the order they are tried: MLII, II or ECG first, then the
    others as the header lists them. E.g. ["V", "II", "PLETH", "aVF"] -> [1, 0, 3]."""
    upper = [n.upper() for n in names]
    first = [upper.index(w) for w in PREFERRED_LEADS if w in upper][:1]
    return first + [i for i, n in enumerate(names) if is_ecg(n) and i not in first]


def _pick_lead(names: list[str], lead: str | None, where: str) -> int:
    if lead is None:
        order = lead_order(names)
        if not order:
            raise RecordUnusable(f"{where}: no ECG lead (signals: {', '.join(names)}); give a "
                                 "record with an ECG lead, or name one with --lead")  # fmt: skip
        return order[0]
    if lead.isdigit() and int(lead) < len(names):
        return int(lead)
    for i, n in enumerate(names):
        if n.upper() == lead.upper():
            return i
    raise DataError(f"{where}: no lead {lead!r}; this record has {', '.join(names)} (use --lead)")


# bytes per sample of the WFDB storage formats (format 212 packs two 12-bit samples in 3 bytes)
_BYTES_PER_SAMPLE = {"8": 1, "16": 2, "61": 2, "80": 1, "160": 2, "212": 1.5, "310": 4 / 3,
                     "311": 4 / 3, "24": 3, "32": 4}  # fmt: skip


def _header_problem(header) -> str | None:
    """What a header wfdb parsed without complaint still lacks: a record name, a sampling
    frequency, a length, and a name and file for each signal."""
    n = header.n_sig
    if not isinstance(header.record_name, str) or not header.record_name:
        return "no record name on its first line"
    if not isinstance(header.fs, int | float) or not header.fs > 0:
        return "no sampling frequency on its first line"
    if not isinstance(header.sig_len, int) or header.sig_len < 1:
        return "no signal length on its first line"
    for field in ("file_name", "sig_name", "fmt"):
        values = getattr(header, field, None) or []
        if len(values) != n or not all(isinstance(v, str) and v for v in values):
            return f"a signal line without its {field.replace('_', ' ')}"
    return None


def _signal_problem(folder: str, header, exc: Exception) -> str:
    """One line for a signal file wfdb could not read: truncated (with counts) or unreadable."""
    try:
        return _truncation(folder, header, exc)
    except Exception:  # a header odd enough to defeat the size arithmetic
        return f"{os.path.join(folder, header.file_name[0])}: unreadable signal file ({exc})"


def _truncation(folder: str, header, exc: Exception) -> str:
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


def read_header(folder: str, name: str):
    """A record's WFDB header, its signal files checked to exist; every failure a DataError."""
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
    problem = _header_problem(header)
    if problem:
        raise DataError(f"{hea}: not a valid WFDB header ({problem})")
    for dat in dict.fromkeys(header.file_name):
        if not os.path.isfile(os.path.join(folder, dat)):
            raise DataError(f"{os.path.join(folder, dat)}: signal file missing (named in {hea})")
    return header


def read_record(
    folder: str, name: str, lead: str | None = None, annotator: str | None = "atr"
) -> RawRecord:
    """Read one lead and the annotations of a record, turning every failure into a DataError.

    Without ``lead``, a default lead with no valid sample gives way to the record's next ECG lead
    (``lead_order``; the reason kept in ``lead_note``); a record with no usable ECG lead raises
    :class:`RecordUnusable`. ``annotator`` None reads no annotations (alarm records)."""
    import wfdb

    base = os.path.join(folder, name)
    hea = base + ".hea"
    header = read_header(folder, name)
    names = list(header.sig_name)
    idx = _pick_lead(names, lead, hea)
    candidates = [idx] if lead is not None else lead_order(names)
    empty: list[str] = []
    for idx in candidates:
        rec, sig = _read_lead(wfdb, base, folder, header, idx)
        nan = ~np.isfinite(sig)
        if not nan.all():
            break
        empty.append(names[idx])
    else:
        fix = ("use another lead (--lead)" if lead is not None
               else "the record has no other ECG lead; leave it out of RECORDS")  # fmt: skip
        raise RecordUnusable(f"{base}.dat: lead {', '.join(empty)} holds no valid samples; {fix}")
    note = f"{', '.join(empty)} invalid throughout" if empty else ""
    if nan.any():  # WFDB marks invalid samples; bridge short gaps linearly
        good = np.flatnonzero(~nan)
        sig[nan] = np.interp(np.flatnonzero(nan), good, sig[good])
    if annotator is None:
        return RawRecord(name, float(header.fs), sig, str(rec.sig_name[0]),
                         np.zeros(0, dtype=np.int64), (), (), int(nan.sum()), note)  # fmt: skip
    ann_path = f"{base}.{annotator}"
    if not os.path.isfile(ann_path):
        if os.path.isfile(os.path.join(folder, "ALARMS")):
            raise DataError(f"{ann_path}: annotation file missing; {folder} holds alarm records "
                            "(an ALARMS file): score them with evaluate MODEL --alarms "
                            f"{folder}")  # fmt: skip
        raise DataError(f"{ann_path}: annotation file missing; labels come from it "
                        "(another annotator: --annotator)")  # fmt: skip
    try:
        ann = wfdb.rdann(base, annotator)
    except Exception as exc:
        raise DataError(f"{ann_path}: unreadable annotation file ({exc})") from exc
    aux = ann.aux_note if ann.aux_note is not None else [""] * len(ann.sample)
    if (ann.sample is None or len(ann.symbol or []) != len(ann.sample) or len(aux) != len(ann.sample)
            or not all(isinstance(s, str) for s in ann.symbol)
            or not all(isinstance(a, str) or a is None for a in aux)):  # fmt: skip
        raise DataError(f"{ann_path}: unreadable annotation file (labels without a symbol); "
                        "re-download it")  # fmt: skip
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
        lead_note=note,
    )


def _read_lead(wfdb, base: str, folder: str, header, idx: int):
    """(the wfdb record of one lead, its samples in mV; NaN where invalid)."""
    try:
        rec = wfdb.rdrecord(base, channels=[idx])
    except Exception as exc:
        raise DataError(_signal_problem(folder, header, exc)) from exc
    sig = rec.p_signal[:, 0].astype(np.float64) if rec.p_signal is not None else None
    if sig is None or len(sig) < header.sig_len:
        got = 0 if sig is None else len(sig)
        raise DataError(f"{base}.dat: truncated, {got} of {header.sig_len} samples; re-download it")
    unit = (rec.units[0] or "mV").strip().lower()
    return rec, sig * _TO_MV.get(unit, 1.0)
