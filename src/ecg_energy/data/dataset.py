"""The Dataset every source becomes, and record-wise splits.

Windows (rhythm task) and beats (beat task) of one record are never split across train, validation
and test: adjacent windows of one patient are near-copies, so a window-wise split measures memory,
not generalisation (ANCHORS §5–6: split by record or patient, never by window).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DataError

SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class Dataset:
    """ECG examples with labels and the record each came from.

    ``X`` is float32 ``(n, length, 1)`` in the source's units (mV for WFDB, [0, 1] for Kaggle);
    ``y`` indexes ``class_names``. Per-example detail: ``rhythm`` (the canonical rhythm name, or the
    beat symbol for beats), ``shockable``, ``amplitude_uv`` (band-passed peak-to-peak, NaN for
    beats), ``rate_bpm`` (from beat annotations, NaN where there are none) and ``start_s`` (time of
    the window start or of the beat in its record). ``fixed_split`` holds a split that comes with the
    data (mitdb DS1/DS2, Kaggle train/test files) or "" where there is none.
    """

    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    class_names: tuple[str, ...]
    fs_hz: float
    task: str
    rhythm: np.ndarray
    shockable: np.ndarray
    amplitude_uv: np.ndarray
    rate_bpm: np.ndarray
    start_s: np.ndarray
    fixed_split: np.ndarray
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.X)
        for name in ("y", "groups", "rhythm", "shockable", "amplitude_uv", "rate_bpm", "start_s",
                     "fixed_split"):  # fmt: skip
            if len(getattr(self, name)) != n:
                raise ValueError(f"Dataset.{name} has {len(getattr(self, name))} rows, X has {n}")

    def __len__(self) -> int:
        return len(self.X)

    @property
    def input_shape(self) -> tuple[int, int]:
        return (int(self.X.shape[1]), int(self.X.shape[2]))

    def subset(self, index: np.ndarray) -> Dataset:
        """The examples at ``index`` (an integer or boolean array), same classes and provenance."""
        pick = np.asarray(index)
        return Dataset(
            X=self.X[pick],
            y=self.y[pick],
            groups=self.groups[pick],
            class_names=self.class_names,
            fs_hz=self.fs_hz,
            task=self.task,
            rhythm=self.rhythm[pick],
            shockable=self.shockable[pick],
            amplitude_uv=self.amplitude_uv[pick],
            rate_bpm=self.rate_bpm[pick],
            start_s=self.start_s[pick],
            fixed_split=self.fixed_split[pick],
            provenance=self.provenance,
        )

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.y, minlength=len(self.class_names))
        return {name: int(c) for name, c in zip(self.class_names, counts)}

    def rhythm_counts(self) -> dict[str, int]:
        names, counts = np.unique(self.rhythm, return_counts=True)
        return {str(k): int(c) for k, c in zip(names, counts)}


def concatenate(parts: list[Dataset]) -> Dataset:
    """Several datasets of the same task and shape as one (provenance of the first)."""
    if not parts:
        raise DataError("no examples: every record was skipped; check the source and filters")
    first = parts[0]
    for p in parts[1:]:
        if p.task != first.task or p.X.shape[1:] != first.X.shape[1:] or p.fs_hz != first.fs_hz:
            raise DataError("cannot combine datasets of different tasks, shapes or sampling rates")
    cat = np.concatenate
    return Dataset(
        X=cat([p.X for p in parts]),
        y=cat([p.y for p in parts]),
        groups=cat([p.groups for p in parts]),
        class_names=first.class_names,
        fs_hz=first.fs_hz,
        task=first.task,
        rhythm=cat([p.rhythm for p in parts]),
        shockable=cat([p.shockable for p in parts]),
        amplitude_uv=cat([p.amplitude_uv for p in parts]),
        rate_bpm=cat([p.rate_bpm for p in parts]),
        start_s=cat([p.start_s for p in parts]),
        fixed_split=cat([p.fixed_split for p in parts]),
        provenance=first.provenance,
    )


@dataclass(frozen=True)
class Split:
    """Indices of the train, validation and test examples, and the records in each."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    records: Mapping[str, tuple[str, ...]]
    method: str

    def indices(self, name: str) -> np.ndarray:
        return {"train": self.train, "val": self.val, "test": self.test}[name]


def record_class_counts(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(record names, counts[record, class]) — the table the stratified split balances."""
    records, inverse = np.unique(ds.groups, return_inverse=True)
    counts = np.zeros((len(records), len(ds.class_names)), dtype=np.int64)
    np.add.at(counts, (inverse, ds.y), 1)
    return records, counts


def stratified_record_assignment(
    counts: np.ndarray, fractions: tuple[float, ...], seed: int
) -> np.ndarray:
    """Assign each record (a row of ``counts[record, class]``) to split 0, 1, … (one per fraction;
    three for train/validation/test, K equal ones for cross-validation folds).

    Greedy iterative stratification (after Sechidis et al., ECML 2011): records holding the rarest
    classes are placed first, each into the split with the largest unmet share of that record's
    rarest class (ties: the largest unmet share overall). Every split with a non-zero fraction gets
    at least one record. Deterministic for a seed (ties broken by a seeded
    shuffle). Pure function: returns the split index per record.
    """
    n_records, _ = counts.shape
    n_splits = len(fractions)
    if n_splits == 3 and n_records < 3:
        raise DataError(
            f"need at least 3 records for a train/validation/test split by record, got {n_records}; "
            "add records, use a longer synthetic database, or evaluate with --on all"
        )
    frac = np.asarray(fractions, dtype=float)
    frac = frac / frac.sum()
    totals = counts.sum(axis=0).astype(float)
    target = frac[:, None] * totals[None, :]  # wanted examples per (split, class)
    assigned = np.zeros_like(target)
    # each record's rarest class decides where it goes; records holding rare classes go first
    rarest = np.array([np.flatnonzero(row > 0)[np.argmin(totals[row > 0])] if row.any() else -1
                       for row in counts])  # fmt: skip
    rarity = np.where(rarest >= 0, totals[np.maximum(rarest, 0)], np.inf)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_records)
    order = order[np.lexsort((-counts.sum(axis=1)[order], rarity[order]))]
    out = np.full(n_records, -1)
    for pos, r in enumerate(order):
        empty = [s for s in range(n_splits) if frac[s] > 0 and not (out == s).any()]
        if len(empty) >= n_records - pos:  # keep a record for every split still empty
            choice = empty[0]
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                unmet = np.where(target > 0, (target - assigned) / target, -np.inf)
            k = rarest[r]
            first = unmet[:, k] if k >= 0 else np.zeros(n_splits)
            overall = (frac * totals.sum() - assigned.sum(axis=1)) / np.maximum(
                frac * totals.sum(), 1
            )
            # largest unmet share of the record's rarest class; ties -> largest unmet overall
            choice = int(np.lexsort((-overall, -first))[0])
        out[r] = choice
        assigned[choice] += counts[r]
    return out


def record_folds(ds: Dataset, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(record names, fold of each record) for K-fold cross-validation by record: every record
    in exactly one fold, folds stratified by the classes the records hold (the same greedy
    assignment as the split, with K equal shares)."""
    records, counts = record_class_counts(ds)
    if k < 2:
        raise DataError(f"--folds {k}: cross-validation needs at least 2 folds")
    if len(records) < 2:
        raise DataError(f"--folds {k}: only {len(records)} record, and cross-validation by record "
                        "needs at least 2; leave out --folds")  # fmt: skip
    if k > len(records):
        raise DataError(f"--folds {k}: only {len(records)} records, and a fold needs at least one; "
                        f"use --folds {len(records)} or fewer")  # fmt: skip
    return records, stratified_record_assignment(counts, (1.0 / k,) * k, seed)


def split_by_record(
    ds: Dataset, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2), seed: int = 0
) -> Split:
    """Record-wise stratified train/validation/test split; no record is in two splits.

    Where the data carries a fixed split (mitdb DS1/DS2, Kaggle train/test files), its test part is
    kept as the test split and validation records are drawn from its train part.
    """
    fixed = set(np.unique(ds.fixed_split)) - {""}
    if fixed == {"train", "test"}:
        train_mask = ds.fixed_split == "train"
        sub = ds.subset(np.flatnonzero(train_mask))
        records, counts = record_class_counts(sub)
        val_frac = fractions[1] / (fractions[0] + fractions[1])
        part = _two_way(counts, val_frac, seed)
        val_records = set(records[part == 1])
        val = np.flatnonzero(train_mask & np.isin(ds.groups, list(val_records)))
        train = np.flatnonzero(train_mask & ~np.isin(ds.groups, list(val_records)))
        test = np.flatnonzero(ds.fixed_split == "test")
        method = "fixed train/test from the source; validation records drawn from its train part"
    else:
        records, counts = record_class_counts(ds)
        part = stratified_record_assignment(counts, fractions, seed)
        idx = [np.flatnonzero(np.isin(ds.groups, records[part == s])) for s in range(3)]
        train, val, test = idx
        method = f"record-wise stratified {fractions[0]:g}/{fractions[1]:g}/{fractions[2]:g}"
    recs = {name: tuple(sorted(set(ds.groups[i].tolist()))) for name, i in
            zip(SPLITS, (train, val, test))}  # fmt: skip
    return Split(train=train, val=val, test=test, records=recs, method=method)


def _two_way(counts: np.ndarray, second_fraction: float, seed: int) -> np.ndarray:
    """Split records in two (0 = first, 1 = second) with the three-way assignment's logic."""
    if len(counts) < 2:
        raise DataError(
            f"need at least 2 training records to draw validation records from, got {len(counts)}"
        )
    if len(counts) == 2:
        return np.array([0, 1])
    three = stratified_record_assignment(counts, (1 - second_fraction, second_fraction, 0.0), seed)
    return np.where(three == 1, 1, 0)
