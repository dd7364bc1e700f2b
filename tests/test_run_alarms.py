"""A run with --alarms: the deployed models' alarm scores and the per-database breakdown in
results.json and report.md."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np

from tests.data.test_alarms import _alarm_folder


def test_run_scores_alarms_and_breaks_down_by_database(tmp_path, make_record):
    from ecg_energy.cli import main

    alarms = tmp_path / "alarms"
    alarms.mkdir()
    _alarm_folder(alarms, make_record, ["v1,Ventricular_Tachycardia,1", "a2,Asystole,0",
                                        "t3,Tachycardia,1"])  # fmt: skip
    out = tmp_path / "run"
    argv = ["run", "--out", str(out), "--records", "4", "--minutes", "0.5", "--epochs", "1",
            "--meter", "cputime", "--trials", "1", "--min-seconds", "0.1", "--idle-seconds", "0.1",
            "--batch", "1", "--seed-inferences", "10", "--max-other-share", "1",
            "--alarms", str(alarms), "--edge-guard", "1"]  # fmt: skip
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        assert main(argv) == 0, err.getvalue()
    res = json.loads((out / "results.json").read_text())
    assert res["config"]["alarms"] == str(alarms) and res["config"]["read"]["edge_guard_s"] == 1.0
    info = res["alarms"]["alarm_records"]
    assert (info["alarms"], info["scored_alarms"], info["windows"]) == (3, 3, 21)
    for r in res["alarms"]["variants"].values():
        vt = r["per_type"]["Ventricular_Tachycardia"]
        assert vt["alarms"] == 1 and vt["tp"] + vt["fn"] == 1
        assert r["per_type"]["Tachycardia"]["scored"] is False
        assert r["overall"]["alarms"] == 2
    acc = res["variants"]["original"]["accuracy"]
    assert list(acc["by_database"]) == ["synth"]
    sd = acc["by_database"]["synth"]
    assert sd["shockable"] == acc["shock_decision"]["shockable"]
    report = (out / "report.md").read_text()
    assert "## ICU alarms" in report and "## Shock decision by database" in report
    assert "| original | VT | 1 (1/0) |" in report
    assert np.isfinite(res["alarms"]["variants"]["original"]["overall"]["challenge_score"])
