"""Shared report tables: figures a person can check against hand-made results."""

from ecg_energy.report.fmt import aha_cell, sci_ci
from ecg_energy.report.tables import overhead_text, reproduced_table, rounds_text, seed_cost_text


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
    single = _res((0.002, None), (0.004, [-0.004, 0.008]))
    assert overhead_text(single).endswith(
        "was +0.2% to +0.4% across variants: from a single paired round, so without an interval."
    )


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


def test_rounds_stopped_early_say_how_many_ran_and_why():
    meas = {"protocol": {"trials": 5}}
    assert rounds_text(meas) == "5 interleaved rounds"
    meas.update(rounds_done=3, stopped_early="every gross figure resolved and their order "
                "unchanged from round 2 to 3")  # fmt: skip
    assert rounds_text(meas) == (
        "the 3 interleaved rounds that ran (of at most 5: stopped when every gross figure "
        "resolved and their order unchanged from round 2 to 3)"
    )


def test_the_reports_method_on_fewer_calls_is_scaled_to_1000_and_said():
    # 200 calls in 8 s with 2e-7 kg CO2e: per 1000 calls 40 s and 1e-6 kg
    seed = {"inferences": 200, "seconds": 8.0, "co2e_kg": 2e-7, "kwh_per_1000": 1e-5,
            "too_short": False}  # fmt: skip
    flat = {"flops_priced": 1000, "flops_source": "2 x MACs", "low_j": 4.5e-10}
    res = {"variants": {"a": {"source": "built-in", "estimates": {"seed-flat": flat},
                              "seed_window": seed},
                        "b": {"source": "built-in", "estimates": {"seed-flat": flat},
                              "seed_window": {**seed, "seconds": 2.0}}}}  # fmt: skip
    _, rows = reproduced_table(res)
    assert rows[0][4:] == ["1.00e-06", "40 s"]
    assert seed_cost_text(res) == (
        " The report's method ran 200 calls per model here; the report ran 1000, and the CO2e "
        "and time columns are per 1000 inferences, scaled from the 200 (kWh per 1000 is per "
        "inference already): 10 s of this run's measurement, the Keras models' predict calls "
        "most of it."
    )
