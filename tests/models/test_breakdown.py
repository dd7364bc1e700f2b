"""The shock decision per database and the costliest records, on a hand-made confusion."""

from __future__ import annotations

import numpy as np

from ecg_energy.data.dataset import Dataset
from ecg_energy.models.assess import scores
from ecg_energy.models.breakdown import by_database, costly_records, database_of

CLASSES = ("NSR", "ONS", "ASYS", "VT", "VF")


def _ds(groups, y, sources=True) -> Dataset:
    n = len(y)
    prov = {"sources": [{"source": "wfdb:x/vfdb"}, {"source": "wfdb:x/cudb"}]} if sources else {
        "source": "wfdb:/data/mitdb"}  # fmt: skip
    names = np.asarray(CLASSES)[y]
    return Dataset(X=np.zeros((n, 10, 1), np.float32), y=np.asarray(y), groups=np.asarray(groups),
                   class_names=CLASSES, fs_hz=250.0, task="rhythm", rhythm=names.copy(),
                   shockable=np.isin(names, ["VT", "VF"]),
                   amplitude_uv=np.full(n, 500.0, np.float32),
                   rate_bpm=np.full(n, np.nan, np.float32), start_s=np.arange(n, dtype=float),
                   fixed_split=np.array([""] * n), provenance=prov)  # fmt: skip


def test_database_of():
    got = database_of(np.array(["wfdb:../shared/vfdb/418", "wfdb:/d/cudb/cu02", "synth/r1", "r"]),
                      "one")  # fmt: skip
    assert got.tolist() == ["vfdb", "cudb", "synth", "one"]


def test_breakdown_and_costly_records_of_a_known_confusion():
    # vfdb/418: 2 NSR (1 shocked), 2 VF (both shocked); vfdb/419: 1 ONS (shocked);
    # cudb/cu02: 3 VF (1 shocked), 1 ONS (not shocked)
    groups = ["wfdb:x/vfdb/418"] * 4 + ["wfdb:x/vfdb/419"] + ["wfdb:x/cudb/cu02"] * 4
    y = [0, 0, 4, 4, 1, 4, 4, 4, 1]
    pred = np.array([0, 4, 4, 3, 3, 4, 0, 0, 1])
    logits = np.eye(5)[pred] * 5.0
    _, m = scores(logits, _ds(groups, y))
    vf, cu = m["by_database"]["vfdb"], m["by_database"]["cudb"]
    assert (vf["shockable"], vf["sensitivity"]) == (2, 1.0)
    assert (vf["non_shockable"], vf["specificity"]) == (3, 1 / 3)
    assert (cu["shockable"], cu["sensitivity"], cu["specificity"]) == (3, 1 / 3, 1.0)
    c = m["costly_records"]
    assert c["false_shocks"] == [{"record": "vfdb/418", "count": 1, "of": 2},
                                 {"record": "vfdb/419", "count": 1, "of": 1}]  # fmt: skip
    assert c["missed"] == [{"record": "cudb/cu02", "count": 2, "of": 3}]
    assert (c["false_shocks_total"], c["missed_total"]) == (2, 2)


def test_one_source_is_one_database():
    _, m = scores(np.eye(5)[[0, 4]] * 5.0, _ds(["100", "207"], [0, 4], sources=False))
    assert list(m["by_database"]) == ["mitdb"]
    assert m["by_database"]["mitdb"]["sensitivity"] == 1.0


def test_costly_records_keeps_the_top():
    groups = np.array(["NSR"] * 6)
    shock = np.array([1, 1, 1, 1, 0, 1], bool)
    records = np.array(["a", "a", "b", "c", "c", "d"])
    out = costly_records(groups, shock, records, top=2)
    assert out["false_shocks"] == [{"record": "a", "count": 2, "of": 2},
                                   {"record": "b", "count": 1, "of": 1}]  # fmt: skip
    assert by_database(groups, shock, np.array(["x"] * 6))["x"]["specificity"] == 1 / 6


def test_cross_validation_pools_the_breakdown(tmp_path, monkeypatch):
    """The pooled figures of --folds carry the per-database breakdown: with a model that calls
    every window its true class except the VF windows of cudb/cu02 (called NSR), vfdb is
    100% / 100% and cudb 50% sensitivity (cudb holds 4 VF windows, cu02's 2 of them missed)."""
    from types import SimpleNamespace

    from ecg_energy.models import crossval, variants

    recs = ["wfdb:x/vfdb/418", "wfdb:x/vfdb/419", "wfdb:x/cudb/cu02", "wfdb:x/cudb/cu04"]
    groups = [r for r in recs for _ in range(4)]
    y = [0, 0, 4, 4] * 4
    ds = _ds(groups, y)
    monkeypatch.setattr(variants, "build_variants", lambda *a, **k: [SimpleNamespace(
        name="oracle", path="oracle", parent=None, train_seconds=0.0, epochs=1)])  # fmt: skip
    monkeypatch.setattr(crossval, "load_model_file", lambda path, unsafe=False: path)

    # the windows of each test fold arrive in dataset order: fill them from a lookup by content
    ds.X[:, 0, 0] = np.arange(len(ds))
    truth = np.eye(5)[ds.y] * 5.0
    truth[(ds.groups == "wfdb:x/cudb/cu02") & (ds.y == 4)] = np.eye(5)[0] * 5.0
    monkeypatch.setattr(crossval, "logits_of", lambda mf, x: truth[x[:, 0, 0].astype(int)])
    cv = crossval.cross_validate(ds, 2, 0, None, str(tmp_path))
    m = cv["variants"]["oracle"]
    assert m["by_database"]["vfdb"]["sensitivity"] == 1.0
    assert m["by_database"]["vfdb"]["specificity"] == 1.0
    assert m["by_database"]["cudb"]["sensitivity"] == 0.5
    assert m["costly_records"]["missed"] == [{"record": "cudb/cu02", "count": 2, "of": 2}]
    assert m["costly_records"]["false_shocks"] == []
