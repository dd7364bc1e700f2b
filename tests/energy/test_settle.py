"""When the interleaved rounds may stop early: hand-made summaries, worked out on paper."""

import pytest

from ecg_energy.energy.settle import Settle, reordered


def summary(gross=None, **figures):
    """{workload: (median, lo, hi)} as the protocol's summary; None: not resolved. ``gross``:
    {workload: (median, lo, hi)} of the gross figures, where given."""
    out = {}
    for key, f in figures.items():
        net = ({"median": None, "ci95": [-1e-6, 2e-6], "resolved": False} if f is None
               else {"median": f[0], "ci95": [f[1], f[2]], "resolved": True})  # fmt: skip
        out[key] = {"energy_j_per_inference_net": net}
        if gross:
            g = gross[key]
            out[key]["energy_j_per_inference_gross"] = {"median": g[0], "ci95": [g[1], g[2]]}
    return {"variants": out}


def test_stops_after_round_three_when_resolved_and_in_the_same_order():
    stop = Settle(min_rounds=3)
    a, b = (5e-6, 4e-6, 6e-6), (10e-6, 9e-6, 11e-6)
    assert stop(summary(a=a, b=b), 1) is None  # too few rounds
    assert stop(summary(a=a, b=b), 2) is None
    assert stop(summary(a=a, b=b), 3) == (
        "every net figure resolved and their order unchanged from round 2 to 3"
    )


def test_an_unresolved_figure_keeps_the_rounds_going():
    stop = Settle(min_rounds=2)
    assert stop(summary(a=(5e-6, 4e-6, 6e-6), b=None), 2) is None
    assert stop(summary(a=(5e-6, 4e-6, 6e-6), b=None), 3) is None
    # resolved at round 4, but round 3 was not: one more round to compare with
    assert stop(summary(a=(5e-6, 4e-6, 6e-6), b=(9e-6, 8e-6, 10e-6)), 4) is None
    assert stop(summary(a=(5e-6, 4e-6, 6e-6), b=(9e-6, 8e-6, 10e-6)), 5) is not None


def test_two_figures_apart_that_swapped_keep_the_rounds_going():
    before = {"a": {"median": 5e-6}, "b": {"median": 4e-6}}  # b below a one round before
    now = {"a": {"median": 5e-6, "ci95": [4.5e-6, 5.5e-6]},
           "b": {"median": 8e-6, "ci95": [7e-6, 9e-6]}}  # fmt: skip
    assert reordered(before, now) == [("a", "b")]
    # overlapping intervals are not told apart: their order may change
    now["b"] = {"median": 5.2e-6, "ci95": [5e-6, 6e-6]}
    assert reordered(before, now) == []


def test_a_failed_workload_never_counts_as_resolved():
    s = summary(a=(5e-6, 4e-6, 6e-6))
    s["variants"]["b"] = {"error": "RuntimeError: boom"}
    stop = Settle(min_rounds=2)
    assert stop(s, 2) is None and stop(s, 3) is None


def test_too_few_rounds_is_refused():
    with pytest.raises(ValueError):
        Settle(min_rounds=1)


def test_on_a_busy_machine_the_gross_figures_settle_instead():
    # no clean idle window: no net figure is resolved; the gross ones are, in the same order
    gross = {"a": (20e-6, 19e-6, 21e-6), "b": (40e-6, 38e-6, 42e-6)}
    stop = Settle(min_rounds=3)
    assert stop(summary(gross=gross, a=None, b=None), 2) is None
    assert stop(summary(gross=gross, a=None, b=None), 3) == (
        "every gross figure resolved and their order unchanged from round 2 to 3"
    )
    # a round whose net figures resolve changes the kind: compared again one round later
    assert stop(summary(gross=gross, a=(5e-6, 4e-6, 6e-6), b=(9e-6, 8e-6, 10e-6)), 4) is None
