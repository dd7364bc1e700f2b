"""The Kaggle heartbeat CSV reader: shape, labels, and one line per kind of bad file."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_energy.data.kaggle_csv import load_kaggle_csv
from ecg_energy.errors import DataError


def _row(label: int, value: float = 0.5) -> str:
    return ",".join([f"{value:g}"] * 187 + [f"{label:.1f}"])


def test_reads_rows_and_labels(tmp_path):
    f = tmp_path / "mitbih_train.csv"
    f.write_text("\n".join([_row(0), _row(0), _row(2), _row(4, 0.25)]) + "\n")
    ds = load_kaggle_csv(str(f))
    assert ds.X.shape == (4, 187, 1) and ds.X.dtype == np.float32
    assert ds.class_counts() == {"N": 2, "S": 0, "V": 1, "F": 0, "Q": 1}
    assert ds.fs_hz == 125.0 and float(ds.X[3].mean()) == 0.25
    assert len(set(ds.groups)) == 4  # no patient identity: every row is its own group
    assert "leak" in ds.provenance["split"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_row(0) + "\n" + ",".join(["0"] * 187) + "\n", r"bad\.csv:2: 187 columns, expected 188"),
        (_row(0).replace("0.5", "nan", 1) + "\n", r"bad\.csv:1: NaN or infinite value in column 1"),
        (_row(0).replace("0.5", "inf", 1) + "\n", r"bad\.csv:1: NaN or infinite value"),
        (_row(7) + "\n", r"bad\.csv:1: label 7 is not one of 0-4"),
        (_row(0).replace("0.5", "abc", 1) + "\n", r"bad\.csv:1: not a number"),
        ("", r"bad\.csv: no rows"),
        (_row(0) + "\n\n" + _row(9) + "\n", r"bad\.csv:3: label 9"),  # blank lines keep numbering
    ],
)
def test_bad_files_name_file_line_and_problem(tmp_path, content, message):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(DataError, match=message):
        load_kaggle_csv(str(f))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_kaggle_csv(str(tmp_path / "none.csv"))
