"""Read WFDB databases (PhysioNet mitdb, vfdb, cudb, the synthetic database) into Datasets.

Two tasks, one path:
- ``rhythm``: windows (default 4 s, resampled to 250 Hz = 1000 samples) labelled from the rhythm
  annotations — MIT-BIH '+' aux notes, or cudb's '[' ... ']' VF episode markers — as NSR, ONS, ASYS,
  VT or VF, with a shockable flag (rapid VT, VF, VFL). A window is labelled only when one rhythm
  covers all of it; windows across a change or in noise are skipped and counted.
- ``beats``: one segment per annotated beat, 187 samples at 125 Hz positioned like the Kaggle
  heartbeat data (Kachuee et al., ICHI 2018: 10 s frames scaled to [0, 1], each segment starts at
  its R peak and spans 1.2 × the frame's median RR, zero-padded), labelled with the AAMI map.

Reading one record lives in ``wfdb_read``, turning it into windows or beats in ``wfdb_examples``;
this module walks a folder's records and chooses the split.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from ..errors import DataError
from .dataset import Dataset, concatenate
from .wfdb_examples import (
    OUTSIDE_VF_EPISODE,
    ReadLog,
    ReadOptions,
    beat_segments,
    rhythm_segments,
    rhythm_windows,
)
from .wfdb_read import PREFERRED_LEADS, RawRecord, RecordUnusable, list_records, read_record

__all__ = [
    "MITDB_DS1",
    "MITDB_DS2",
    "MITDB_PACED",
    "OUTSIDE_VF_EPISODE",
    "PREFERRED_LEADS",
    "RawRecord",
    "ReadLog",
    "ReadOptions",
    "beat_segments",
    "list_records",
    "load_wfdb",
    "read_record",
    "rhythm_segments",
    "rhythm_windows",
]

# de Chazal et al., IEEE TBME 2004: inter-patient split of mitdb; paced records excluded (AAMI).
MITDB_DS1 = frozenset(
    "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230".split()
)
MITDB_DS2 = frozenset(
    "100 103 105 111 113 117 121 123 200 202 210 212 213 214 219 221 222 228 231 232 233 234".split()
)
MITDB_PACED = frozenset({"102", "104", "107", "217"})


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
        try:
            rec = read_record(folder, name, opts.lead, opts.annotator)
        except RecordUnusable as exc:  # one bad record never stops the whole folder
            log.left_out[name] = str(exc)
            continue
        leads.add(rec.lead)
        if rec.lead_note:
            log.other_lead[name] = f"{rec.lead}: {rec.lead_note}"
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
