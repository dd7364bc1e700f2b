"""Alarm records (the Challenge 2015 layout) and their scores, on hand-made records and alarms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ecg_energy.data.alarms import (
    alarm_time,
    false_alarm_windows,
    load_alarm_windows,
    pick_span_lead,
    read_alarms,
)
from ecg_energy.errors import DataError
from ecg_energy.models.alarm_score import (
    alarm_calls,
    challenge_score,
    confusion,
    rates,
    score_calls,
)

FS = 250
CLASSES = ("NSR", "ONS", "ASYS", "VT", "VF")


def _alarm_folder(tmp_path: Path, make_record, lines: list[str], records=None) -> Path:
    """70 s records at 250 Hz, the alarm at 60 s (said in the header as the shared excerpts say)."""
    names = [ln.split(",")[0] for ln in lines if not ln.startswith("#")]
    for name in records if records is not None else names:
        sig = np.stack([np.zeros(70 * FS), np.ones(70 * FS)], axis=1)
        make_record(tmp_path, name, sig, FS, [], sig_names=["II", "V"])
        with open(tmp_path / f"{name}.hea", "a") as fh:
            fh.write("# ECG leads only; the alarm is at 60 s here (300 s there)\n")
    (tmp_path / "ALARMS").write_text("\n".join(lines) + "\n")
    return tmp_path


# --- the score ---------------------------------------------------------------------------------


def test_challenge_score_of_a_hand_made_confusion():
    # (TP + TN) / (TP + TN + FP + 5·FN): TP 3, TN 5, FP 2, FN 2 -> 8 / (8 + 2 + 10) = 0.4;
    # FN 1 -> 8 / (8 + 2 + 5) = 8/15
    assert challenge_score(3, 5, 2, 2) == pytest.approx(0.4)
    assert challenge_score(3, 5, 2, 1) == pytest.approx(8 / 15)
    assert challenge_score(0, 0, 0, 0) is None
    assert challenge_score(10, 0, 0, 0) == 1.0
    assert challenge_score(0, 0, 0, 2) == 0.0


def test_rates_tpr_tnr_and_counts():
    r = rates({"tp": 3, "tn": 5, "fp": 2, "fn": 1})
    assert (r["alarms"], r["true_alarms"], r["false_alarms"]) == (11, 4, 7)
    assert r["tpr"] == pytest.approx(3 / 4) and r["tnr"] == pytest.approx(5 / 7)


def test_confusion_of_calls():
    truth = np.array([1, 1, 1, 0, 0], bool)
    called = np.array([1, 1, 0, 1, 0], bool)
    assert confusion(truth, called) == {"tp": 2, "tn": 1, "fp": 1, "fn": 1}


def test_alarm_calls_need_min_windows():
    # alarm 0: windows VF, NSR, VT (2 shockable); alarm 1: NSR, ASYS, NSR (0 shockable)
    pred = np.array([4, 0, 3, 0, 2, 0])
    idx = np.array([0, 0, 0, 1, 1, 1])
    assert alarm_calls(pred, idx, 2, CLASSES, ("VT", "VF"), 1).tolist() == [True, False]
    assert alarm_calls(pred, idx, 2, CLASSES, ("VT", "VF"), 3).tolist() == [False, False]
    assert alarm_calls(pred, idx, 2, CLASSES, ("ASYS",), 1).tolist() == [False, True]


def test_score_calls_per_alarm_type():
    # five alarms, one window each: VT true called VF (TP), VT false called NSR (TN), VF/VFL
    # false called VT (FP), asystole true called NSR (FN), tachycardia true (not scored) called VT
    kinds = ["Ventricular_Tachycardia", "Ventricular_Tachycardia", "Ventricular_Flutter_Fib",
             "Asystole", "Tachycardia"]  # fmt: skip
    truth = np.array([1, 0, 0, 1, 1], bool)
    pred = np.array([4, 0, 3, 0, 3])
    out = score_calls(kinds, truth, pred, np.arange(5), CLASSES, np.ones(5, bool))
    vt = out["per_type"]["Ventricular_Tachycardia"]
    assert (vt["tp"], vt["tn"], vt["fp"], vt["fn"], vt["challenge_score"]) == (1, 1, 0, 0, 1.0)
    assert out["per_type"]["Ventricular_Flutter_Fib"]["tnr"] == 0.0
    asys = out["per_type"]["Asystole"]
    assert (asys["fn"], asys["tpr"], asys["challenge_score"]) == (1, 0.0, 0.0)
    tachy = out["per_type"]["Tachycardia"]
    assert tachy["scored"] is False and tachy["shock_advised"] == 1
    # over the scored types: TP 1, TN 1, FP 1, FN 1 -> 2 / (2 + 1 + 5) = 0.25
    assert out["overall"]["challenge_score"] == pytest.approx(0.25)
    # over the VT and VF/VFL alarms: TP 1, TN 1, FP 1 -> 2 / 3
    assert out["shock_alarms"]["challenge_score"] == pytest.approx(2 / 3)


# --- reading -----------------------------------------------------------------------------------


def test_alarm_time_from_the_header_or_given():
    assert alarm_time(["the alarm is at 60 s here (300 s there)"], None) == (60.0, "record header")
    assert alarm_time(["the alarm is at 60 s here"], 120) == (120.0, "given")
    assert alarm_time(["Asystole", "False alarm"], None) == (300.0, "Challenge 2015 default")


def test_read_alarms(tmp_path, make_record):
    folder = _alarm_folder(tmp_path, make_record, ["v100s,Ventricular_Tachycardia,0",
                                                   "# a comment", "a104s,Asystole,1"])  # fmt: skip
    alarms = read_alarms(str(folder))
    assert [(a.record, a.kind, a.true) for a in alarms] == [
        ("v100s", "Ventricular_Tachycardia", False), ("a104s", "Asystole", True)]  # fmt: skip


def test_missing_alarms_file(tmp_path):
    with pytest.raises(DataError, match=r"ALARMS: alarm list missing; an alarm folder needs"):
        read_alarms(str(tmp_path))


@pytest.mark.parametrize(
    "line, message",
    [
        ("v100s;Ventricular_Tachycardia;0", r"ALARMS:2: garbled line 'v100s;Ventr"),
        ("v100s,Ventricular_Tachycardia,yes", r"ALARMS:2: garbled line"),
        ("../etc/x,Asystole,1", r"ALARMS:2: garbled line '\.\./etc/x"),
        ("v100s,Pause,1", r"ALARMS:2: unknown alarm type 'Pause'; known: Asystole, Brady"),
        ("zz9,Asystole,1", r"ALARMS:2: record 'zz9' is not in .* \(no zz9\.hea\); restore"),
    ],
)
def test_bad_alarm_lines_name_the_line_and_the_fix(tmp_path, make_record, line, message):
    folder = _alarm_folder(tmp_path, make_record, ["a1,Asystole,1", line], records=["a1", "v100s"])
    with pytest.raises(DataError, match=message):
        read_alarms(str(folder))


def test_windows_of_the_16_s_before_the_alarm(tmp_path, make_record):
    # the alarm at 60 s: 44-60 s, 4 s windows every 2 s start at 44, 46, …, 56 s: 7 windows, read
    # from lead II (zeros), the first ECG lead
    folder = _alarm_folder(tmp_path, make_record, ["a1,Asystole,1", "v2,Ventricular_Tachycardia,0"])
    aw = load_alarm_windows(str(folder))
    assert aw.X.shape == (14, 1000, 1)
    assert aw.alarm_index.tolist() == [0] * 7 + [1] * 7
    assert aw.leads == {"II": 2} and aw.alarm_at == {"record header": 2}
    assert float(np.abs(aw.X).max()) == 0.0
    # given a time of 30 s the span is 14-30 s; 100 s is past the 70 s record: left out
    assert load_alarm_windows(str(folder), alarm_at_s=30).X.shape == (14, 1000, 1)
    with pytest.raises(DataError, match="no alarm could be scored.*not all in the record"):
        load_alarm_windows(str(folder), alarm_at_s=100)


def test_hard_negatives_are_the_windows_before_false_shock_type_alarms(tmp_path, make_record):
    # four alarms: a false VT (7 windows), a true VF/VFL (none: true), a false VF/VFL (7) and a
    # false asystole (none: not a shock-type alarm) -> 14 windows from v1 and f3
    folder = _alarm_folder(tmp_path, make_record, [
        "v1,Ventricular_Tachycardia,0", "f2,Ventricular_Flutter_Fib,1",
        "f3,Ventricular_Flutter_Fib,0", "a4,Asystole,0"])  # fmt: skip
    hn = false_alarm_windows(str(folder))
    assert hn.X.shape == (14, 1000, 1) and hn.alarms == 2 and hn.records == ("v1", "f3")
    (folder / "ALARMS").write_text("f2,Ventricular_Flutter_Fib,1\na4,Asystole,0\n")
    with pytest.raises(DataError, match="no false VT or VF/VFL alarm to train on"):
        false_alarm_windows(str(folder))


def test_lead_ii_invalid_before_the_alarm_reads_the_next_lead(tmp_path, make_record):
    folder = _alarm_folder(tmp_path, make_record, ["a1,Asystole,1", "a2,Asystole,0"])
    for name, leads in (("a1", [0]), ("a2", [0, 1])):  # a1: II invalid; a2: both invalid
        raw = np.fromfile(folder / f"{name}.dat", dtype="<i2").reshape(-1, 2)
        raw[:, leads] = -32768  # WFDB's "no sample" value for format 16
        raw.tofile(folder / f"{name}.dat")
    aw = load_alarm_windows(str(folder))
    assert aw.leads == {"V": 1} and float(aw.X.mean()) == pytest.approx(1.0)
    assert aw.scored == [0]
    assert (
        list(aw.left_out) == ["a2"]
        and "a2.dat: no ECG lead holds valid samples" in (aw.left_out["a2"])
    )


def test_pick_span_lead_skips_non_ecg_and_mostly_invalid_leads():
    span = np.ones((10, 3))
    span[:6, 1] = np.nan  # II 60% invalid
    assert pick_span_lead(span, ["PLETH", "II", "V"]) == 2
    span[:5, 1] = 1.0  # II now 10% invalid
    assert pick_span_lead(span, ["PLETH", "II", "V"]) == 1
    assert pick_span_lead(span, ["PLETH", "ABP", "RESP"]) is None


# --- the evaluation end to end -----------------------------------------------------------------


def _offset_model(path: Path) -> None:
    """A model that calls VF where a window's mean is above 0.5 mV, else NSR."""
    import keras

    inp = keras.Input((1000, 1))
    x = keras.layers.GlobalAveragePooling1D()(inp)
    dense = keras.layers.Dense(5)
    out = dense(x)
    dense.set_weights([np.array([[-1.0, 0, 0, 0, 1.0]], "float32"),
                       np.array([0.5, -9, -9, -9, 0], "float32")])  # fmt: skip
    keras.Model(inp, out).save(path)


def test_evaluate_alarms_scores_a_known_model(tmp_path, make_record):
    import ecg_energy as ee

    db = tmp_path / "db"
    db.mkdir()
    folder = _alarm_folder(db, make_record, ["v1,Ventricular_Tachycardia,1",
                                             "v2,Ventricular_Tachycardia,0",
                                             "v3,Ventricular_Flutter_Fib,1",
                                             "b4,Bradycardia,1"])  # fmt: skip
    # v1 and v3: lead II holds 1 mV (the model calls VF); v2, b4: zeros (NSR)
    for name in ("v1", "v3"):
        raw = np.fromfile(folder / f"{name}.dat", dtype="<i2").reshape(-1, 2)
        raw[:, 0] = 1000
        raw.tofile(folder / f"{name}.dat")
    _offset_model(tmp_path / "offset.keras")
    out = ee.evaluate_alarms(str(tmp_path / "offset.keras"), str(folder))
    r = out["variants"]["offset"]
    assert r["per_type"]["Ventricular_Tachycardia"]["tp"] == 1
    assert r["per_type"]["Ventricular_Tachycardia"]["tn"] == 1
    assert r["per_type"]["Ventricular_Flutter_Fib"]["tpr"] == 1.0
    assert r["per_type"]["Bradycardia"]["scored"] is False
    assert r["overall"]["challenge_score"] == 1.0
    assert out["alarm_records"]["scored_alarms"] == 4 and out["alarm_records"]["windows"] == 28
    json.dumps(out)  # JSON-ready


# --- the command -------------------------------------------------------------------------------


def _one_line_failure(capsys, argv, fragment):
    from ecg_energy.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and fragment in err and "Traceback" not in err


def test_evaluate_alarms_bad_input_is_one_line(tmp_path, make_record, capsys):
    _one_line_failure(capsys, ["evaluate", "m.keras", "--alarms", str(tmp_path)],
                      "ALARMS: alarm list missing")  # fmt: skip
    _alarm_folder(tmp_path, make_record, ["a1,Pause,1"], records=["a1"])
    _one_line_failure(capsys, ["evaluate", "m.keras", "--alarms", str(tmp_path)],
                      "ALARMS:1: unknown alarm type 'Pause'")  # fmt: skip


def test_rhythm_evaluation_of_alarm_records_points_to_alarms(tmp_path, make_record):
    from ecg_energy.data.wfdb_source import load_wfdb

    _alarm_folder(tmp_path, make_record, ["a1,Asystole,1"])
    with pytest.raises(DataError, match=r"a1\.atr: annotation file missing; .* score them with "
                       r"evaluate MODEL --alarms"):  # fmt: skip
        load_wfdb(str(tmp_path))


def test_data_options_without_data_are_refused_not_ignored(tmp_path, capsys):
    _one_line_failure(capsys, ["evaluate", "m.keras", "--alarms", str(tmp_path), "--folds", "3",
                               "--edge-guard", "5"],
                      "--edge-guard, --folds apply to --data records")  # fmt: skip


def test_a_run_trains_on_hard_negatives_and_never_scores_at_them(tmp_path, make_record, capsys):
    import json

    from ecg_energy.api import run_config
    from ecg_energy.cli import main
    from ecg_energy.errors import ConfigError

    alarms = tmp_path / "alarms"
    alarms.mkdir()
    _alarm_folder(alarms, make_record, ["v1,Ventricular_Tachycardia,0", "v2,Ventricular_Tachycardia,1",
                                        "f3,Ventricular_Flutter_Fib,0"])  # fmt: skip
    with pytest.raises(ConfigError, match="same folder"):
        run_config(alarms=str(alarms), hard_negatives=str(alarms))
    out = tmp_path / "run"
    argv = ["run", "--out", str(out), "--records", "4", "--minutes", "0.5", "--epochs", "1",
            "--meter", "cputime", "--trials", "1", "--min-seconds", "0.05", "--idle-seconds",
            "0.05", "--batch", "1", "--seed-inferences", "2", "--max-other-share", "1",
            "--hard-negatives", str(alarms)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    # two false shock-type alarms x 7 windows, trained on as other non-shockable
    assert (
        "hard negatives: 14 windows before 2 false VT and VF/VFL alarms" in capsys.readouterr().err
    )
    for name in ("original", "distilled", "student-plain"):
        extra = json.loads((out / "models" / f"{name}.json").read_text())["trained_on"]["extra"]
        assert extra["windows"] == 14 and extra["what"].startswith("false VT/VF alarms of ")
