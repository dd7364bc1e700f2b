"""Metrics and the AHA table on hand-made examples."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_energy.models.evaluate import (
    aha_groups,
    aha_table,
    clopper_pearson_lower,
    confusion_matrix,
    evaluate_predictions,
    per_class,
    summary,
)

CLASSES = ("NSR", "ONS", "ASYS", "VT", "VF")


def test_confusion_and_per_class_by_hand():
    y = np.array([0, 0, 1, 1, 2])
    p = np.array([0, 1, 1, 1, 0])
    cm = confusion_matrix(y, p, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    pc = per_class(cm, ("a", "b", "c"))
    assert pc["a"]["sensitivity"] == 0.5 and pc["a"]["ppv"] == 0.5
    assert pc["b"]["sensitivity"] == 1.0 and pc["b"]["ppv"] == 2 / 3
    assert pc["c"]["sensitivity"] == 0.0 and np.isnan(pc["c"]["ppv"])
    s = summary(cm)
    assert s["accuracy"] == 3 / 5
    assert s["balanced_accuracy"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    # F1: a = 0.5, b = 2·1·(2/3)/(1 + 2/3) = 0.8, c = 0
    assert s["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_exact_lower_bound_for_all_correct():
    # with every trial a success, the one-sided 90% Clopper-Pearson limit is 0.1 ** (1 / n)
    assert clopper_pearson_lower(150, 150) == pytest.approx(0.1 ** (1 / 150))
    assert clopper_pearson_lower(0, 10) == 0.0
    assert np.isnan(clopper_pearson_lower(0, 0))


def test_aha_table_on_a_hand_made_example():
    groups = np.array(["coarse VF"] * 100 + ["rapid VT"] * 4 + ["NSR"] * 150 + ["asystole"] * 20)
    shock = np.zeros(len(groups), bool)
    shock[:95] = True  # 95 of 100 coarse VF shocked
    shock[100:103] = True  # 3 of 4 rapid VT shocked
    rows = {r.group: r for r in aha_table(groups, shock)}
    vf, vt, nsr, asys = rows["coarse VF"], rows["rapid VT"], rows["NSR"], rows["asystole"]
    assert (vf.correct, vf.n, vf.estimate) == (95, 100, 0.95)
    assert vf.passed is True  # 0.95 > 0.90 and its lower limit (0.912) >= 0.87
    assert (vt.correct, vt.n, vt.estimate) == (3, 4, 0.75) and vt.passed is False  # not > 75 %
    # 150/150 NSR not shocked: specificity 1, lower limit 0.1**(1/150) = 0.9848 >= 0.97
    assert nsr.estimate == 1.0 and nsr.lower90 == pytest.approx(0.98477, abs=1e-5) and nsr.passed
    # 20/20 asystole: point estimate 1, but 0.1**(1/20) = 0.891 < 0.92: too few to show the goal
    assert asys.estimate == 1.0 and asys.lower90 == pytest.approx(0.8913, abs=1e-4)
    assert asys.passed is False
    assert rows["other non-shockable"].passed is None  # no windows: not judged
    assert rows["fine VF"].goal is None


def test_aha_groups_split_vf_by_amplitude():
    y = np.array([4, 4, 4, 3, 0, 1, 2, 1])
    rhythm = np.array(["VF", "VF", "VFINE", "VT", "NSR", "AFIB", "ASYS", "VTSLOW"])
    amp = np.array([800.0, 150.0, 900.0, 1200.0, 1000.0, 900.0, 40.0, 900.0])
    groups = aha_groups(CLASSES, y, rhythm, amp)
    assert groups.tolist() == ["coarse VF", "fine VF", "fine VF", "rapid VT", "NSR",
                               "other non-shockable", "asystole", "slow VT"]  # fmt: skip


def test_evaluate_predictions_shock_decision():
    y = np.array([4, 3, 0, 1, 2])
    pred = np.array(
        [3, 3, 0, 4, 2]
    )  # VF called VT is still a shock; ONS called VF is a wrong shock
    r = evaluate_predictions(pred, y, CLASSES, np.array(["VF", "VT", "NSR", "AFIB", "ASYS"]),
                             np.array([500.0, 900, 900, 900, 30]))  # fmt: skip
    assert r["aha"]["coarse VF"]["correct"] == 1
    assert r["aha"]["other non-shockable"]["correct"] == 0
    # shockable: the coarse VF and the VT, both shocked; non-shockable: NSR, AFIB, ASYS, with the
    # AFIB shocked
    sd = r["shock_decision"]
    assert (sd["sensitivity"], sd["specificity"]) == (1.0, 2 / 3)
    assert (sd["shockable"], sd["non_shockable"], sd["intermediate"]) == (2, 3, 0)
    assert r["accuracy"] == 3 / 5
    assert r["aha_all_pass"] is False


def test_intermediate_rhythms_count_in_neither_side_of_the_shock_decision():
    y = np.array([4, 4, 1, 1, 0])  # coarse VF, fine VF, slow VT, AFIB, NSR
    rhythm = np.array(["VF", "VF", "VTSLOW", "AFIB", "NSR"])
    amp = np.array([800.0, 120.0, 900.0, 900.0, 900.0])
    pred = np.array([4, 0, 3, 1, 0])  # fine VF missed, slow VT shocked: neither is counted
    sd = evaluate_predictions(pred, y, CLASSES, rhythm, amp)["shock_decision"]
    assert (sd["sensitivity"], sd["specificity"]) == (1.0, 1.0)
    assert (sd["shockable"], sd["non_shockable"]) == (1, 2)
    assert (sd["intermediate"], sd["intermediate_shocked"]) == (2, 1)


def test_records_without_shockable_windows_say_what_cannot_be_computed():
    y = np.array([0, 0, 1])  # NSR, NSR, ONS: nothing shockable
    r = evaluate_predictions(np.array([0, 0, 1]), y, CLASSES, np.array(["NSR", "NSR", "AFIB"]),
                             np.array([900.0, 900, 900]))  # fmt: skip
    assert r["shock_decision"]["sensitivity"] is None
    assert r["shock_decision"]["specificity"] == 1.0
    assert r["not_computable"] == ["shock sensitivity (no shockable coarse VF or rapid VT windows)",
                                   "coarse VF sensitivity (no coarse VF windows)",
                                   "rapid VT sensitivity (no rapid VT windows)",
                                   "asystole specificity (no asystole windows)"]  # fmt: skip


def test_decision_over_consecutive_windows_by_hand():
    from ecg_energy.models.evaluate import causal_mean, previous_window

    # record a: windows at 0, 2, 6 s (4 s missing: the third has no predecessor); record b at 2 s
    groups = np.array(["a", "a", "a", "b"])
    prev = previous_window(groups, np.array([0.0, 2.0, 6.0, 2.0]), 2.0)
    assert prev.tolist() == [-1, 0, -1, -1]
    p = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    chain = np.array([-1, 0, 1])
    assert causal_mean(p, chain, 1).tolist() == p.tolist()
    assert causal_mean(p, chain, 2).tolist() == [[1, 0], [0.5, 0.5], [0, 1]]
    # three windows: the last averages all three, (1 + 0 + 0) / 3 of class 0
    assert causal_mean(p, chain, 3)[2] == pytest.approx([1 / 3, 2 / 3])


def test_window_stride_is_the_commonest_step_within_records():
    from ecg_energy.models.evaluate import window_stride

    # record a steps 2, 2, 4 (a window left out); record b has one window: the stride is 2 s
    groups = np.array(["a", "a", "a", "a", "b"])
    assert window_stride(groups, np.array([0.0, 2.0, 4.0, 8.0, 0.0])) == 2.0
    # beats of a CSV: every start 0, no step at all
    assert window_stride(np.array(["r1", "r1", "r2"]), np.zeros(3)) is None


def test_decide_over_two_windows_by_hand():
    from ecg_energy.models.evaluate import decide_over

    # logits = log(p), so the class probabilities are p itself. Record a at 0, 2, 4 s:
    # alone the argmaxes are 0, 1, 1; over 2 windows the means are
    # [.9, .1], [(.9+.3)/2, (.1+.7)/2] = [.6, .4] -> 0, [(.3+.45)/2, (.7+.55)/2] = [.375, .625] -> 1.
    # Record b's only window (at 2 s, as a's second) has no predecessor: it stays class 1.
    p = np.array([[0.9, 0.1], [0.3, 0.7], [0.45, 0.55], [0.2, 0.8]])
    groups = np.array(["a", "a", "a", "b"])
    pred, how = decide_over(np.log(p), groups, np.array([0.0, 2.0, 4.0, 2.0]), 2)
    assert pred.tolist() == [0, 0, 1, 1]
    assert how == {"windows": 2, "stride_s": 2.0, "with_predecessor": 0.5}
    alone, _ = decide_over(np.log(p), groups, np.array([0.0, 2.0, 4.0, 2.0]), 1)
    assert alone.tolist() == [0, 1, 1, 1]
    with pytest.raises(ValueError, match="at least 1"):
        decide_over(np.log(p), groups, np.zeros(4), 0)


def test_scores_over_windows_keep_the_per_window_figures_beside():
    from ecg_energy.data.dataset import Dataset
    from ecg_energy.models.assess import scores

    # one record, six 4-s windows 2 s apart: NSR, NSR, VF, VF, VF, NSR (truth). The model says
    # P(VF) = .1, .6, .9, .9, .2, .55 (rest NSR): alone it shocks windows 1, 2, 3, 5, i.e. one
    # missed VF (4) and two false shocks (1, 5). Over 2 windows P(VF) = .1, .35, .75, .9, .55,
    # .375: shocks 2, 3, 4 -> every VF shocked, no NSR shocked.
    n = 6
    y = np.array([0, 0, 4, 4, 4, 0])
    pvf = np.array([0.1, 0.6, 0.9, 0.9, 0.2, 0.55])
    p = np.full((n, 5), 1e-9)
    p[:, 4], p[:, 0] = pvf, 1 - pvf
    ds = Dataset(X=np.zeros((n, 1000, 1), np.float32), y=y, groups=np.array(["r"] * n),
                 class_names=CLASSES, fs_hz=250.0, task="rhythm",
                 rhythm=np.array(["N" if c == 0 else "VF" for c in y]),
                 shockable=y == 4, amplitude_uv=np.full(n, 800.0), rate_bpm=np.full(n, np.nan),
                 start_s=np.arange(n) * 2.0, fixed_split=np.array([""] * n))  # fmt: skip
    pred, m = scores(np.log(p), ds, windows=2)
    assert pred.tolist() == [0, 0, 4, 4, 4, 0]
    assert m["shock_decision"]["sensitivity"] == 1.0 and m["shock_decision"]["specificity"] == 1.0
    assert m["decision"] == {"windows": 2, "stride_s": 2.0, "with_predecessor": 5 / 6,
                             "seconds_of_ecg": 6.0}  # fmt: skip
    alone = m["per_window"]["shock_decision"]
    assert (alone["sensitivity"], alone["specificity"]) == (2 / 3, 1 / 3)
    assert m["per_window"]["aha"]["coarse VF"]["n"] == 3
    own, m1 = scores(np.log(p), ds, windows=1)
    assert own.tolist() == [0, 4, 4, 4, 0, 4] and "decision" not in m1
