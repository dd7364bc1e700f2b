"""Read the Kaggle "ECG Heartbeat Categorization" CSV format (Kachuee et al., ICHI 2018).

No header; 188 columns: 187 samples at 125 Hz scaled to [0, 1] and zero-padded, then the label
(0 N, 1 S, 2 V, 3 F, 4 Q). The published train/test files were split by beat, not by patient, so
patients leak between them and results on them are optimistic (ANCHORS §5). The files carry no
record identity: every row is its own group, and the split made here is by row — said in the
provenance so reports can warn.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import DataError
from .dataset import Dataset
from .labels import AAMI_CLASSES

KAGGLE_COLUMNS = 188
KAGGLE_FS_HZ = 125.0


def load_kaggle_csv(path: str, source: str | None = None, split: str = "") -> Dataset:
    """A Kaggle heartbeat CSV as a beats Dataset; every fault named with its file and line.

    ``split`` ("train", "test" or "") marks the rows as that part of a split the files come with.
    """
    if not os.path.isfile(path):
        raise DataError(f"{path}: file not found; give kaggle:FILE.csv an existing CSV file")
    rows: list[np.ndarray] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.strip()
            if not line:
                continue
            parts = line.split(",")
            if len(parts) != KAGGLE_COLUMNS:
                raise DataError(f"{path}:{lineno}: {len(parts)} columns, expected {KAGGLE_COLUMNS} "
                                "(187 samples and a label)")  # fmt: skip
            try:
                values = np.array(parts, dtype=np.float64)
            except ValueError as exc:
                raise DataError(f"{path}:{lineno}: not a number ({exc})") from exc
            if not np.isfinite(values).all():
                bad = int(np.flatnonzero(~np.isfinite(values))[0]) + 1
                raise DataError(f"{path}:{lineno}: NaN or infinite value in column {bad}; "
                                "clean or drop that row")  # fmt: skip
            label = values[-1]
            if label != int(label) or not 0 <= label < len(AAMI_CLASSES):
                raise DataError(f"{path}:{lineno}: label {label:g} is not one of 0-4 "
                                "(N, S, V, F, Q)")  # fmt: skip
            rows.append(values)
    if not rows:
        raise DataError(f"{path}: no rows; the file is empty")
    table = np.stack(rows)
    n = len(table)
    stem = os.path.splitext(os.path.basename(path))[0]
    return Dataset(
        X=table[:, :-1].astype(np.float32)[:, :, None],
        y=table[:, -1].astype(np.int64),
        groups=np.array([f"{stem}:{i}" for i in range(n)]),
        class_names=AAMI_CLASSES,
        fs_hz=KAGGLE_FS_HZ,
        task="beats",
        rhythm=np.array([AAMI_CLASSES[int(v)] for v in table[:, -1]]),
        shockable=np.zeros(n, dtype=bool),
        amplitude_uv=np.full(n, np.nan, dtype=np.float32),
        rate_bpm=np.full(n, np.nan, dtype=np.float32),
        start_s=np.zeros(n),
        fixed_split=np.array([split] * n),
        provenance={
            "source": source or f"kaggle:{path}",
            "file": os.path.abspath(path),
            "task": "beats",
            "rows": n,
            "split": "by row: the file has no patient identity, so patients may leak across splits",
        },
    )
