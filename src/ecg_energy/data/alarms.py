"""Read alarm-labelled records (the PhysioNet/CinC Challenge 2015 layout) into analysis windows.

A folder of WFDB records and an ``ALARMS`` file of lines ``record,alarm type,1|0`` (1: a true
alarm, 0: a false one; types Asystole, Bradycardia, Tachycardia, Ventricular_Tachycardia,
Ventricular_Flutter_Fib). Each alarm is judged on the ECG just before it: the ``span_s`` (16 s,
as the Challenge) ending at the alarm, cut into the detector's windows (4 s every 2 s: 7 windows).

The alarm time: ``alarm_at_s`` when given, else the record header's "the alarm is at N s" comment
(the shared excerpts), else 300 s (the Challenge's own records: the alarm 5 min in). The lead:
the first ECG lead (II first) whose span holds valid samples in at least half of it; a record
without one is left out and counted, never the end of the evaluation.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError
from .dsp import resample
from .wfdb_read import lead_order, read_header

ALARM_TYPES: tuple[str, ...] = (
    "Asystole",
    "Bradycardia",
    "Tachycardia",
    "Ventricular_Tachycardia",
    "Ventricular_Flutter_Fib",
)
CHALLENGE_ALARM_AT_S = 300.0  # the Challenge 2015 records: the alarm at 5 min
SPAN_S = 16.0  # the Challenge judged each alarm on the 16 s before it
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_ALARM_AT = re.compile(r"alarm is at ([0-9]+(?:\.[0-9]+)?) s")
LINE_FORM = "record,alarm type,1|0 (e.g. v100s,Ventricular_Tachycardia,0)"


@dataclass(frozen=True)
class Alarm:
    record: str
    kind: str  # one of ALARM_TYPES
    true: bool


def read_alarms(folder: str) -> list[Alarm]:
    """The alarms of a folder's ``ALARMS`` file; every problem one DataError naming the line."""
    path = os.path.join(folder, "ALARMS")
    if not os.path.isdir(folder):
        raise DataError(f"{folder}: folder not found; give --alarms a folder of alarm records")
    if not os.path.isfile(path):
        raise DataError(f"{path}: alarm list missing; an alarm folder needs an ALARMS file of "
                        f"lines {LINE_FORM}")  # fmt: skip
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().splitlines()
    alarms, seen = [], set()
    for no, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 3 or parts[2] not in ("0", "1") or not _NAME.match(parts[0]):
            raise DataError(f"{path}:{no}: garbled line {line[:80]!r}; each line is {LINE_FORM}")
        name, kind, flag = parts
        if kind not in ALARM_TYPES:
            raise DataError(f"{path}:{no}: unknown alarm type {kind!r}; known: "
                            f"{', '.join(ALARM_TYPES)} (fix the line or remove it)")  # fmt: skip
        if not os.path.isfile(os.path.join(folder, name + ".hea")):
            raise DataError(f"{path}:{no}: record {name!r} is not in {folder} (no {name}.hea); "
                            "restore the record or remove the line")  # fmt: skip
        if name in seen:
            raise DataError(f"{path}:{no}: record {name!r} listed twice; keep one line")
        seen.add(name)
        alarms.append(Alarm(name, kind, flag == "1"))
    if not alarms:
        raise DataError(f"{path}: lists no alarms; each line is {LINE_FORM}")
    return alarms


def alarm_time(comments: list[str], given: float | None) -> tuple[float, str]:
    """(the alarm's time in seconds, where it came from).

    >>> alarm_time(["the alarm is at 60 s here (300 s there)"], None)
    (60.0, 'record header')
    >>> alarm_time([], None)
    (300.0, 'Challenge 2015 default')"""
    if given is not None:
        return float(given), "given"
    for c in comments:
        m = _ALARM_AT.search(c)
        if m:
            return float(m.group(1)), "record header"
    return CHALLENGE_ALARM_AT_S, "Challenge 2015 default"


def pick_span_lead(span: np.ndarray, names: list[str]) -> int | None:
    """The lead to judge an alarm on: the first in ``lead_order`` with at least half of the span
    valid (finite), or None. E.g. II all NaN, V valid -> V."""
    for i in lead_order(names):
        if np.isfinite(span[:, i]).mean() >= 0.5:
            return i
    return None


@dataclass
class AlarmWindows:
    """The windows before every scorable alarm, and what could not be scored."""

    X: np.ndarray  # (windows, samples, 1), mV at fs_hz
    alarm_index: np.ndarray  # the alarm (index into ``alarms``) of each window
    alarms: list[Alarm]
    fs_hz: float
    span_s: float
    window_s: float
    stride_s: float
    alarm_at: dict[str, str] = field(default_factory=dict)  # how the alarm time was found: count
    leads: dict[str, int] = field(default_factory=dict)  # lead read: alarms
    left_out: dict[str, str] = field(default_factory=dict)  # record -> why

    @property
    def scored(self) -> list[int]:
        return sorted(set(self.alarm_index.tolist()))


def load_alarm_windows(folder: str, *, window_s: float = 4.0, stride_s: float = 2.0,
                       fs_hz: float = 250.0, span_s: float = SPAN_S,
                       alarm_at_s: float | None = None) -> AlarmWindows:  # fmt: skip
    """Every alarm of ``folder`` as the windows of the ``span_s`` before it."""
    import wfdb

    if window_s > span_s:
        raise DataError(f"{folder}: a {window_s:g} s window does not fit the {span_s:g} s before "
                        "an alarm; use a shorter --window-s")  # fmt: skip
    alarms = read_alarms(folder)
    win, stride = int(round(window_s * fs_hz)), int(round(stride_s * fs_hz))
    out = AlarmWindows(np.zeros((0, win, 1), np.float32), np.zeros(0, int), alarms, fs_hz,
                       span_s, window_s, stride_s)  # fmt: skip
    xs, idx = [], []
    for k, alarm in enumerate(alarms):
        header = read_header(folder, alarm.record)
        names = list(header.sig_name)
        at, how = alarm_time(list(header.comments or []), alarm_at_s)
        out.alarm_at[how] = out.alarm_at.get(how, 0) + 1
        fs = float(header.fs)
        a, b = int(round((at - span_s) * fs)), int(round(at * fs))
        if a < 0 or b > header.sig_len:
            out.left_out[alarm.record] = (f"the {span_s:g} s before the alarm at {at:g} s are "
                                          f"not all in the record ({header.sig_len / fs:g} s)")  # fmt: skip
            continue
        if not lead_order(names):
            out.left_out[alarm.record] = (f"{os.path.join(folder, alarm.record)}.hea: no ECG lead "
                                          f"(signals: {', '.join(names)})")  # fmt: skip
            continue
        try:
            rec = wfdb.rdrecord(os.path.join(folder, alarm.record), sampfrom=a, sampto=b)
        except Exception as exc:
            raise DataError(f"{os.path.join(folder, alarm.record)}.dat: unreadable signal "
                            f"({exc}); re-download it") from exc  # fmt: skip
        units = [(u or "mV").strip().lower() for u in rec.units]
        scale = np.array([1e-3 if u in ("uv", "µv") else 1e3 if u == "v" else 1.0 for u in units])
        span = rec.p_signal * scale
        lead = pick_span_lead(span, names)
        if lead is None:
            out.left_out[alarm.record] = (f"{os.path.join(folder, alarm.record)}.dat: no ECG "
                                          f"lead holds valid samples in half of the {span_s:g} s "
                                          "before the alarm")  # fmt: skip
            continue
        x = span[:, lead].astype(np.float64)
        bad = ~np.isfinite(x)
        if bad.any():
            good = np.flatnonzero(~bad)
            x[bad] = np.interp(np.flatnonzero(bad), good, x[good])
        x = resample(x, fs, fs_hz)
        out.leads[names[lead]] = out.leads.get(names[lead], 0) + 1
        for s in range(0, len(x) - win + 1, stride):
            xs.append(x[s : s + win])
            idx.append(k)
    if not xs:
        raise DataError(f"{folder}: no alarm could be scored ({'; '.join(out.left_out.values())})")
    out.X = np.stack(xs).astype(np.float32)[:, :, None]
    out.alarm_index = np.array(idx)
    return out


SHOCK_ALARM_TYPES = ("Ventricular_Tachycardia", "Ventricular_Flutter_Fib")


@dataclass(frozen=True)
class HardNegatives:
    """The windows before false VT and VF/VFL alarms: rhythms that fooled a bedside detector into
    a shock-type alarm, as training windows of other non-shockable rhythm."""

    X: np.ndarray  # (windows, samples, 1), mV at the windows' rate
    alarms: int  # false VT and VF/VFL alarms that gave windows
    records: tuple[str, ...]


def false_alarm_windows(folder: str, *, window_s: float = 4.0, stride_s: float = 2.0,
                        fs_hz: float = 250.0) -> HardNegatives:  # fmt: skip
    """Every window of the 16 s before each *false* VT or VF/VFL alarm of ``folder`` (7 windows of
    4 s every 2 s per alarm). True alarms and the other alarm types give none."""
    aw = load_alarm_windows(folder, window_s=window_s, stride_s=stride_s, fs_hz=fs_hz)
    chosen = [k for k, a in enumerate(aw.alarms) if a.kind in SHOCK_ALARM_TYPES and not a.true]
    sel = np.isin(aw.alarm_index, chosen)
    if not sel.any():
        raise DataError(f"{folder}/ALARMS: no false VT or VF/VFL alarm to train on; give a folder "
                        "whose ALARMS lists some (…,Ventricular_Tachycardia,0)")  # fmt: skip
    used = sorted(set(aw.alarm_index[sel].tolist()))
    return HardNegatives(aw.X[sel], len(used), tuple(aw.alarms[k].record for k in used))
