"""The search space: parsing, the one-line errors, grid and random expansion (pure, no Ray)."""

from __future__ import annotations

import pytest

from ecg_energy.errors import ConfigError
from ecg_energy.sweep.space import (
    Range,
    grid_points,
    normalise,
    parse_sweep,
    planned_points,
    random_points,
)


def test_grid_of_two_by_two_is_exactly_those_four():
    cfg = parse_sweep({"space": {"width": [0.5, 1.0], "depth": [2, 3]}})
    points, note = planned_points(cfg)
    assert [(p["width"], p["depth"]) for p in points] == [(0.5, 2), (0.5, 3), (1.0, 2), (1.0, 3)]
    assert note == "a grid of 4 points"
    # the rest are the defaults: the current student, distilled at T = 4, label weight 0.5, int8
    assert {(p["stride"], p["kernel"], p["temperature"], p["hard_weight"], p["quantize"])
            for p in points} == {(5, 7, 4.0, 0.5, "int8")}  # fmt: skip


def test_grid_larger_than_the_budget_runs_its_first_points():
    cfg = parse_sweep({"budget": 3, "space": {"width": [0.5, 1.0], "depth": [2, 3]}})
    points, note = planned_points(cfg)
    assert [(p["width"], p["depth"]) for p in points] == [(0.5, 2), (0.5, 3), (1.0, 2)]
    assert "has 4 points; the budget runs the first 3" in note


def test_without_distillation_temperature_and_weight_do_not_apply():
    pts = grid_points({"distill": (True, False), "temperature": (2.0, 4.0)})
    # (True, 2), (True, 4), (False, -) : the two undistilled points are one trial
    assert [(p["distill"], p["temperature"], p["hard_weight"]) for p in pts] == [
        (True, 2.0, 0.5), (True, 4.0, 0.5), (False, None, None)]  # fmt: skip
    assert normalise({"distill": False})["temperature"] is None


def test_stepped_range_is_a_grid_list():
    assert Range(0.5, 2.0, step=0.5).values() == [0.5, 1.0, 1.5, 2.0]
    assert Range(1, 4, step=1, integer=True).values() == [1, 2, 3, 4]
    cfg = parse_sweep({"space": {"width": {"low": 0.25, "high": 0.75, "step": 0.25}}})
    assert [p["width"] for p in planned_points(cfg)[0]] == [0.25, 0.5, 0.75]


def test_random_points_are_seeded_and_in_their_ranges():
    space = parse_sweep({"search": "random", "space": {
        "width": {"low": 0.25, "high": 2.0}, "depth": {"low": 1, "high": 4},
        "quantize": ["int8", "fp16"]}}).space  # fmt: skip
    a, b = random_points(space, 20, seed=7), random_points(space, 20, seed=7)
    assert a == b and a != random_points(space, 20, seed=8)
    assert all(0.25 <= p["width"] <= 2.0 for p in a)
    assert {p["depth"] for p in a} <= {1, 2, 3, 4} and all(isinstance(p["depth"], int) for p in a)
    assert {p["quantize"] for p in a} <= {"int8", "fp16"}


@pytest.mark.parametrize(("table", "message"), [
    ({"space": {"widht": [1.0]}}, "unknown key 'widht' in [space]; did you mean 'width'?"),
    ({"budgt": 3}, "unknown key 'budgt' in the sweep file; did you mean 'budget'?"),
    ({"train": {"epoch": 3}}, "unknown key 'epoch' in [train]; did you mean 'epochs'?"),
    ({"space": {"width": {"low": 0.5, "hihg": 1.0}}}, "unknown key 'hihg' in [space] width"),
    ({"space": {"width": []}}, "[space] width is empty; give at least one value"),
    ({"search": "random", "space": {"width": {"low": 2.0, "high": 0.5}}},
     "[space] width: empty range (low 2.0 > high 0.5)"),
    ({"devices": ["stm99"]}, "unknown device 'stm99'; known:"),
    ({"budget": 0}, "budget 0: a sweep needs at least one trial"),
    ({"rank": "device:nrf5340"}, "nrf5340 is not in devices"),
    ({"space": {"width": {"low": 0.5, "high": 2.0}}}, "a grid needs a list, or a range with a step"),
    ({"space": {"quantize": ["int4"]}}, "unknown LiteRT version 'int4'"),
    ({"space": {"quantize": ["int16x8"]}}, "int16x8 converts and runs with LiteRT here, but"),
    ({"space": {"depth": [2.5]}}, "[space] depth: 2.5 is not a valid depth (1 to 6"),
    ({"search": "bayes"}, "search 'bayes': choose grid, random, optuna"),
])  # fmt: skip
def test_bad_input_is_one_line_naming_the_fix(table, message):
    with pytest.raises(ConfigError) as err:
        parse_sweep(table, "my.toml")
    text = str(err.value)
    assert text.startswith("my.toml: ") and message in text
    assert "\n" not in text


def test_load_sweep_missing_file(tmp_path):
    from ecg_energy.sweep.space import load_sweep

    with pytest.raises(ConfigError, match="no such sweep file; check --config"):
        load_sweep(str(tmp_path / "nope.toml"))


def test_example_sweep_file_is_twelve_trials():
    from pathlib import Path

    from ecg_energy.sweep.space import load_sweep

    cfg = load_sweep(str(Path(__file__).resolve().parents[2] / "examples" / "sweep.toml"))
    points, _ = planned_points(cfg)
    assert len(points) == 12 == cfg.budget
