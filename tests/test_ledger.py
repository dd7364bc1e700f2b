"""Content digests: a .keras file saved again by another process keeps its digest."""

from __future__ import annotations

import json
import zipfile

from ecg_energy.ledger import file_digest


def _keras(path, config: dict, weights: bytes, saved: str) -> str:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"date_saved": saved}))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", weights)
    return str(path)


def _config(a: int, b: int) -> dict:
    policy = {"class_name": "DTypePolicy", "config": {"name": "float32"}}
    return {"layers": [{"name": "conv1d", "dtype": {**policy, "shared_object_id": a}},
                       {"name": "dense", "dtype": {**policy, "shared_object_id": a}},
                       {"name": "ecg", "dtype": {**policy, "shared_object_id": b}}]}  # fmt: skip


def test_object_addresses_and_save_times_do_not_change_a_digest(tmp_path):
    # the same model saved by two processes: Python object ids 140246433437840 / 140445052772240
    one = _keras(tmp_path / "a.keras", _config(140246433437840, 7), b"w", "2026-12-03@12:58:07")
    two = _keras(tmp_path / "b.keras", _config(140445052772240, 9), b"w", "2026-12-03@13:02:27")
    assert file_digest(one) == file_digest(two)
    # which layers share an object is part of the model: a different sharing is another digest
    three = _keras(tmp_path / "c.keras", _config(5, 5), b"w", "2026-12-03@13:02:27")
    assert file_digest(three) != file_digest(one)
    # and so are the weights
    four = _keras(tmp_path / "d.keras", _config(1, 2), b"v", "2026-12-03@13:02:27")
    assert file_digest(four) != file_digest(one)
