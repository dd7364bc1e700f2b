"""Record-wise stratified splits: no record in two splits, classes spread as a person would."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_energy.data.dataset import (
    Dataset,
    concatenate,
    record_folds,
    split_by_record,
    stratified_record_assignment,
)
from ecg_energy.data.wfdb_source import load_wfdb
from ecg_energy.errors import DataError


def _toy(records: dict[str, list[int]], classes=("a", "b")) -> Dataset:
    """A dataset with the given labels per record (one example per label)."""
    groups = np.array([r for r, labels in records.items() for _ in labels])
    y = np.array([lab for labels in records.values() for lab in labels])
    n = len(y)
    return Dataset(
        X=np.zeros((n, 4, 1), np.float32), y=y, groups=groups, class_names=classes, fs_hz=1.0,
        task="rhythm", rhythm=np.array(["x"] * n), shockable=np.zeros(n, bool),
        amplitude_uv=np.zeros(n), rate_bpm=np.zeros(n), start_s=np.zeros(n),
        fixed_split=np.array([""] * n),
    )  # fmt: skip


def test_rare_class_records_go_to_different_splits():
    # three records of 10 × class a, three of 5 × class b, equal thirds: each split must get one of
    # each kind -> 10 a + 5 b in every split.
    counts = np.array([[10, 0], [10, 0], [10, 0], [0, 5], [0, 5], [0, 5]])
    for seed in range(5):
        part = stratified_record_assignment(counts, (1, 1, 1), seed)
        per_split = np.array([counts[part == s].sum(axis=0) for s in range(3)])
        assert per_split.tolist() == [[10, 5]] * 3


def test_sixty_twenty_twenty_on_ten_equal_records():
    counts = np.array([[4, 1]] * 10)
    part = stratified_record_assignment(counts, (0.6, 0.2, 0.2), seed=0)
    assert np.bincount(part).tolist() == [6, 2, 2]


def test_folds_test_every_record_once_and_spread_the_rare_class():
    # ten records of class a, five holding class b: five folds get two a-records and one b-record
    ds = _toy({**{f"a{i}": [0] * 4 for i in range(10)}, **{f"b{i}": [1] * 2 for i in range(5)}})
    records, fold = record_folds(ds, 5, seed=0)
    assert sorted(records.tolist()) == sorted(set(ds.groups.tolist()))  # each record once
    for k in range(5):
        mine = records[fold == k].tolist()
        assert sorted(r[0] for r in mine) == ["a", "a", "b"], mine
    with pytest.raises(DataError, match="--folds 16: only 15 records.*--folds 15 or fewer"):
        record_folds(ds, 16)
    with pytest.raises(DataError, match="at least 2 folds"):
        record_folds(ds, 1)
    with pytest.raises(DataError, match="--folds 3: only 1 record, .*leave out --folds"):
        record_folds(_toy({"a0": [0, 0]}), 3)


def test_too_few_records():
    with pytest.raises(DataError, match="need at least 3 records.*got 2"):
        stratified_record_assignment(np.array([[1, 1], [1, 1]]), (0.6, 0.2, 0.2), 0)


def test_no_record_in_two_splits_on_the_synthetic_database(synth_db):
    ds, _ = load_wfdb(str(synth_db))
    split = split_by_record(ds, seed=1)
    train, val, test = (set(ds.groups[split.indices(s)]) for s in ("train", "val", "test"))
    assert not (train & val) and not (train & test) and not (val & test)
    assert train | val | test == set(ds.groups)
    assert len(split.train) + len(split.val) + len(split.test) == len(ds)
    # every class that has at least three records is in every split
    for k in range(len(ds.class_names)):
        if len(set(ds.groups[ds.y == k])) >= 3:
            for idx in (split.train, split.val, split.test):
                assert (ds.y[idx] == k).any(), ds.class_names[k]


def test_same_seed_same_split(synth_db):
    ds, _ = load_wfdb(str(synth_db))
    a, b = split_by_record(ds, seed=4), split_by_record(ds, seed=4)
    assert a.records == b.records


def test_subset_and_concatenate_keep_rows_aligned():
    ds = _toy({"r1": [0, 0, 1], "r2": [1]})
    sub = ds.subset(np.array([2, 3]))
    assert sub.y.tolist() == [1, 1] and sub.groups.tolist() == ["r1", "r2"]
    both = concatenate([sub, ds])
    assert len(both) == 6 and both.class_counts() == {"a": 2, "b": 4}
