"""Shared report tables: figures a person can check against hand-made results."""

from ecg_energy.report.fmt import aha_cell, sci_ci
from ecg_energy.report.tables import overhead_text


def _res(*overheads):
    return {"variants": {f"v{i}": {"measurements": {"1": {"meter_overhead_fraction": med,
                                                          "meter_overhead_ci95": ci}}}
                         for i, (med, ci) in enumerate(overheads)}}  # fmt: skip


def test_meter_overhead_below_one_percent_only_when_every_interval_is_inside():
    inside = _res((0.002, [-0.004, 0.008]), (-0.003, [-0.009, 0.005]))
    assert overhead_text(inside).endswith(
        "was -0.3% to +0.2% across variants: every 95% interval lies within ±1%."
    )
    wide = _res((0.002, [-0.004, 0.008]), (0.004, [-0.02, 0.03]))
    assert overhead_text(wide).endswith(
        "was +0.2% to +0.4% across variants: not shown to be below 1% on this machine (its "
        "intervals reach past ±1%)."
    )
    assert overhead_text({"variants": {"a": {"measurements": {}}}}) == ""


def test_aha_verdicts_and_intervals():
    goal = {"measure": "sensitivity", "goal": 0.9, "lower_goal": 0.87}
    ok = {"aha": {"coarse VF": {**goal, "n": 10, "passed": True},
                  "fine VF": {"measure": "sensitivity", "goal": None, "n": 0, "passed": None}},
          "aha_all_pass": True}  # fmt: skip
    assert aha_cell(ok) == "pass (1/1)"  # fine VF has no goal: not counted
    missing = {"aha": {**ok["aha"], "rapid VT": {**goal, "n": 0, "passed": None}}}
    assert aha_cell(missing) == "not shown: no windows of rapid VT"
    failed = {"aha": {**ok["aha"], "NSR": {**goal, "n": 5, "passed": False}}}
    assert aha_cell(failed) == "FAIL: NSR"
    assert aha_cell({}) == "n/a (not a rhythm task)"
    assert sci_ci({"median": 2.77e-10, "ci95": [2.5e-10, 3.1e-10]}) == \
        "2.77e-10 [2.50e-10, 3.10e-10]"  # fmt: skip
