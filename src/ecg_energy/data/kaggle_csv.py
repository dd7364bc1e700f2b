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


def _read_table(path: str) -> tuple[np.ndarray, np.ndarray]:
    """The CSV as a float64 table and each row's line number.

    pandas' C parser reads a well-formed file fast; anything odd (ragged rows, text, blank lines,
    missing values) goes through a line-by-line pass that names the line where the file breaks.
    """
    import pandas as pd

    try:
        table = pd.read_csv(path, header=None, dtype=np.float64, skip_blank_lines=False).to_numpy()
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: no rows; the file is empty") from None
    except (ValueError, pd.errors.ParserError):
        table = None
    if table is not None and table.shape[1] == KAGGLE_COLUMNS and not np.isnan(table).any():
        return table, np.arange(1, len(table) + 1)
    rows, lines = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            parts = line.strip().split(",")
            if parts == [""]:
                continue
            if len(parts) != KAGGLE_COLUMNS:
                raise DataError(f"{path}:{lineno}: {len(parts)} columns, expected {KAGGLE_COLUMNS} "
                                "(187 samples and a label)")  # fmt: skip
            try:
                rows.append(np.array(parts, dtype=np.float64))
            except ValueError as exc:
                raise DataError(f"{path}:{lineno}: not a number ({exc})") from exc
            lines.append(lineno)
    if not rows:
        raise DataError(f"{path}: no rows; the file is empty")
    return np.stack(rows), np.array(lines)


def _check_table(path: str, table: np.ndarray, lines: np.ndarray) -> None:
    """NaN/inf anywhere, or a label outside 0-4, is named by line (1-based) and column."""
    bad = ~np.isfinite(table)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(f"{path}:{lines[row]}: NaN or infinite value in column {col + 1}; "
                        "clean or drop that row")  # fmt: skip
    labels = table[:, -1]
    wrong = (labels != np.round(labels)) | (labels < 0) | (labels >= len(AAMI_CLASSES))
    if wrong.any():
        row = int(np.flatnonzero(wrong)[0])
        raise DataError(f"{path}:{lines[row]}: label {labels[row]:g} is not one of 0-4 "
                        "(N, S, V, F, Q)")  # fmt: skip


def load_kaggle_csv(path: str, source: str | None = None, split: str = "") -> Dataset:
    """A Kaggle heartbeat CSV as a beats Dataset; every fault named with its file and line.

    ``split`` ("train", "test" or "") marks the rows as that part of a split the files come with.
    """
    if not os.path.isfile(path):
        raise DataError(f"{path}: file not found; give kaggle:FILE.csv an existing CSV file")
    table, lines = _read_table(path)
    _check_table(path, table, lines)
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
