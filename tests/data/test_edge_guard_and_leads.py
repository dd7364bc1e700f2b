"""The edge guard (windows near a rhythm change left out) and unusable leads, on hand-made records."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_energy.config import from_dict
from ecg_energy.data.wfdb_examples import near_change, rhythm_changes
from ecg_energy.data.wfdb_read import RecordUnusable, lead_order, read_record
from ecg_energy.data.wfdb_source import ReadOptions, load_wfdb
from ecg_energy.errors import ConfigError


def _cudb_style(tmp_path, make_record):
    # 20 s at 250 Hz, '[' at 8 s (sample 2000), ']' at 14 s (3500), no rhythm notes
    make_record(tmp_path, "cu01", np.zeros(5000), 250, [(2000, "[", ""), (3500, "]", "")])


def test_without_the_guard_every_window_inside_one_rhythm_is_kept(tmp_path, make_record):
    _cudb_style(tmp_path, make_record)
    ds, log = load_wfdb(str(tmp_path))
    assert ds.start_s.tolist() == [0, 2, 4, 8, 10, 14, 16]
    assert log.skipped_windows == {"rhythm change inside window": 2}


def test_edge_guard_leaves_out_windows_near_a_change(tmp_path, make_record):
    # window starts 0, 2, 4, …, 16 s (4 s long); changes at 8 s and 14 s. With 1 s of guard:
    # [4, 8) ends at the change, [8, 12) starts at it, [10, 14) ends at the second, [14, 18)
    # starts at it: 4 windows left out; [0, 4), [2, 6) and [16, 20) are 2 s or more away: kept
    _cudb_style(tmp_path, make_record)
    ds, log = load_wfdb(str(tmp_path), ReadOptions(edge_guard_s=1.0))
    assert ds.start_s.tolist() == [0, 2, 16]
    assert ds.rhythm.tolist() == ["NONVF"] * 3
    assert log.skipped_windows == {"rhythm change inside window": 2,
                                   "within 1 s of a rhythm change": 4}  # fmt: skip
    # 2 s: [2, 6) ends 2 s before the change at 8 s (not within 2 s), [16, 20) starts 2 s after
    # the change at 14 s: both kept; the guard is strict
    ds2, _ = load_wfdb(str(tmp_path), ReadOptions(edge_guard_s=2.0))
    assert ds2.start_s.tolist() == [0, 2, 16]
    ds3, log3 = load_wfdb(str(tmp_path), ReadOptions(edge_guard_s=2.5))
    assert (
        ds3.start_s.tolist() == [0] and log3.skipped_windows["within 2.5 s of a rhythm change"] == 6
    )


def test_rhythm_changes_and_near_change():
    assert rhythm_changes([(0, 5, "N"), (5, 9, "N"), (9, 12, "VT")]).tolist() == [9]
    assert rhythm_changes([(0, 5, None), (5, 9, "N"), (9, 12, "N"), (12, 20, "VT")]).tolist() == [
        12
    ]
    changes = np.array([100])
    assert [near_change(changes, a, b, 20) for a, b in ((0, 80), (0, 81), (120, 200), (119, 200))
            ] == [False, True, False, True]  # fmt: skip
    assert near_change(np.array([], dtype=np.int64), 0, 10, 5) is False


def test_edge_guard_is_a_configuration_key_and_checked():
    assert from_dict({"read": {"edge_guard_s": 5}}).read.edge_guard_s == 5.0
    with pytest.raises(ConfigError, match="edge_guard_s must be 0 or more seconds, not -1"):
        from_dict({"read": {"edge_guard_s": -1.0}})
    from ecg_energy.api import run_options

    assert run_options({"edge_guard": 5.0}) == {"read": {"edge_guard_s": 5.0}}


def test_cli_edge_guard_option(tmp_path, make_record):
    from typer.testing import CliRunner

    from ecg_energy.cli import app

    _cudb_style(tmp_path, make_record)
    res = CliRunner().invoke(app, ["run", "--data", f"wfdb:{tmp_path}", "--edge-guard", "1",
                                   "--print-config"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "edge_guard_s = 1.0" in res.output


# --- leads -------------------------------------------------------------------------------------


def _invalidate(path, lead: int, n_leads: int) -> None:
    raw = np.fromfile(path, dtype="<i2").reshape(-1, n_leads)
    raw[:, lead] = -32768  # WFDB's "no sample" value for format 16
    raw.tofile(path)


def test_lead_order():
    assert lead_order(["V", "II", "PLETH", "aVF"]) == [1, 0, 3]
    assert lead_order(["ABP", "PLETH"]) == []


def test_a_default_lead_without_valid_samples_gives_way_to_the_next(tmp_path, make_record):
    sig = np.stack([np.zeros(10 * 250), np.ones(10 * 250)], axis=1)
    make_record(tmp_path, "r1", sig, 250, [(0, "+", "(N")], sig_names=["II", "V"])
    _invalidate(tmp_path / "r1.dat", 0, 2)
    ds, log = load_wfdb(str(tmp_path))
    assert ds.provenance["leads"] == ["V"] and float(ds.X.mean()) == pytest.approx(1.0)
    assert log.other_lead == {"r1": "V: II invalid throughout"}
    assert any("read the next ECG lead: r1 (V: II invalid throughout)" in w for w in log.warnings())
    # a lead asked for by name is never swapped
    with pytest.raises(
        RecordUnusable, match=r"r1\.dat: lead II holds no valid samples; use another"
    ):
        read_record(str(tmp_path), "r1", lead="II")


def test_unusable_records_are_left_out_and_counted(tmp_path, make_record):
    make_record(tmp_path, "ok", np.zeros(10 * 250), 250, [(0, "+", "(N")], sig_names=["II"])
    make_record(tmp_path, "flat", np.zeros(10 * 250), 250, [(0, "+", "(N")], sig_names=["II"])
    _invalidate(tmp_path / "flat.dat", 0, 1)
    sig = np.zeros((10 * 250, 2))
    make_record(tmp_path, "pleth", sig, 250, [(0, "+", "(N")], sig_names=["ABP", "PLETH"])
    ds, log = load_wfdb(str(tmp_path))
    assert sorted(set(ds.groups.tolist())) == ["ok"] and len(ds) == 4
    assert sorted(log.left_out) == ["flat", "pleth"]
    assert (
        "flat.dat: lead II holds no valid samples; the record has no other ECG lead"
        in (log.left_out["flat"])
    )
    assert "pleth.hea: no ECG lead (signals: ABP, PLETH)" in log.left_out["pleth"]
    assert any(w.startswith("2 records left out: ") for w in log.warnings())
    assert log.as_dict()["records_left_out"] == log.left_out
