"""A run with --alarms: the deployed models' alarm scores and the per-database breakdown in
results.json and report.md (on a copy of the tiny run: only the evaluate and report stages rerun)."""

from __future__ import annotations

import json

import numpy as np

from ecg_energy.cli import main
from tests.data.test_alarms import _alarm_folder


def test_run_scores_alarms_and_breaks_down_by_database(copy_run, tmp_path, make_record, capsys):
    out, argv = copy_run
    alarms = tmp_path / "alarms"
    alarms.mkdir()
    _alarm_folder(alarms, make_record, ["v1,Ventricular_Tachycardia,1", "a2,Asystole,0",
                                        "t3,Tachycardia,1"])  # fmt: skip
    assert main([*argv, "--alarms", str(alarms)]) == 0
    printed = capsys.readouterr().out
    assert "stages run: evaluate" in printed  # the models, counts and measurements are kept
    res = json.loads((out / "results.json").read_text())
    assert res["config"]["alarms"] == str(alarms)
    info = res["alarms"]["alarm_records"]
    # three alarms, 7 windows each (4 s every 2 s in the 16 s before the alarm at 60 s)
    assert (info["alarms"], info["scored_alarms"], info["windows"]) == (3, 3, 21)
    for r in res["alarms"]["variants"].values():
        vt = r["per_type"]["Ventricular_Tachycardia"]
        assert vt["alarms"] == 1 and vt["tp"] + vt["fn"] == 1
        assert r["per_type"]["Tachycardia"]["scored"] is False
        assert r["overall"]["alarms"] == 2  # VT and asystole; tachycardia not scored
    acc = res["variants"]["original"]["accuracy"]
    assert list(acc["by_database"]) == ["synth"]
    assert acc["by_database"]["synth"]["shockable"] == acc["shock_decision"]["shockable"]
    report = (out / "report.md").read_text()
    assert "## ICU alarms" in report and "## Shock decision by database" in report
    assert "| original | VT | 1 (1/0) |" in report
    html = (out / "report.html").read_text()
    assert 'id="alarms"' in html and 'id="by-database"' in html
    assert np.isfinite(res["alarms"]["variants"]["original"]["overall"]["challenge_score"])
