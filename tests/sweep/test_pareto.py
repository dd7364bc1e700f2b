"""The Pareto front and the recommendation, on made-up trials checked by hand (pure)."""

from __future__ import annotations

from ecg_energy.sweep.pareto import excluded, front, objectives, recommend

KEY = "energy_j[board]"


def _row(name, e, bal, aha=True, status="ok"):
    return {"trial": name, "status": status, KEY: e, "balanced_accuracy": bal, "aha_pass": aha,
            "aha_failed": "" if aha else "NSR", "device_note[board]": None}  # fmt: skip


# energy (µJ) and balanced accuracy:
#   a 1.0 0.90 | b 2.0 0.95 | c 3.0 0.94 (b beats it on both) | h 2.0 0.93 (b: same energy, more
#   accurate) | e 4.0 0.99 | d 0.5 0.97 misses an AHA goal (else it would beat a, b, c and h)
#   | f no energy on the board | g failed
ROWS = [_row("a", 1e-6, 0.90), _row("b", 2e-6, 0.95), _row("c", 3e-6, 0.94),
        _row("h", 2e-6, 0.93), _row("e", 4e-6, 0.99), _row("d", 0.5e-6, 0.97, aha=False),
        _row("f", None, 0.99), {**_row("g", None, None, status="error"), "error": "boom"}]  # fmt: skip


def test_front_by_hand():
    assert front(ROWS, KEY) == ["a", "b", "e"]


def test_why_each_other_trial_is_off_the_front():
    why = excluded(ROWS, KEY)
    assert set(why) == {"c", "h", "d", "f", "g"}
    assert why["c"].startswith("dominated") and why["h"].startswith("dominated")
    assert why["d"] == "misses AHA goals (NSR)"
    assert why["f"] == "no energy_j[board] figure"
    assert why["g"] == "boom"


def test_recommendation_is_the_least_energy_meeting_the_goals():
    rec = recommend(ROWS, KEY)
    assert rec["trial"] == "a" and rec["front"] == ["a", "b", "e"]
    assert rec["next"]["trial"] == "b"
    assert round(rec["next"]["gain_pts"], 6) == 5.0 and rec["next"]["energy_ratio"] == 2.0
    assert "of the 6 trials that meet every AHA goal" in rec["reason"]  # a, b, c, h, e, f
    assert "1 µJ, with balanced accuracy 90.0%" in rec["reason"]


def test_recommendation_with_a_minimum_balanced_accuracy():
    assert recommend(ROWS, KEY, 0.95)["trial"] == "b"
    none = recommend(ROWS, KEY, 0.995)
    assert none["trial"] is None and "reaches balanced accuracy 99.5%" in none["reason"]
    nothing = recommend([_row("d", 1e-6, 0.9, aha=False)], KEY)
    assert nothing["trial"] is None and nothing["front"] == []


def test_objectives_steer_the_searcher_to_deployable_points():
    assert objectives(_row("a", 1e-6, 0.90), KEY) == {"objective_energy_j": 1e-6,
                                                     "objective_accuracy": 0.90}  # fmt: skip
    assert (
        round(objectives(_row("d", 5e-7, 0.97, aha=False), KEY)["objective_accuracy"], 9) == -0.03
    )
    assert objectives(_row("f", None, 0.99), KEY)["objective_energy_j"] == 1.0
