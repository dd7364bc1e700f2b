"""The shared number formats, against strings worked out by hand."""

from __future__ import annotations

from ecg_energy.report.fmt import energy_text, pct, sci, sci_ci, seconds_text


def test_pct():
    assert pct(0.96418) == "96.42%"
    assert pct(0.5) == "50.00%"
    assert pct(2 / 3) == "66.67%"
    assert pct(0.96418, digits=1) == "96.4%"
    assert pct(None) == "n/a"


def test_sci():
    assert sci(1.0436e-5) == "1.04e-05"
    assert sci(0.000238) == "2.38e-04"
    assert sci(6.8e-5) == "6.80e-05"
    assert sci(None) == "n/a"
    assert sci_ci({"median": 2.77e-10, "ci95": [2.5e-10, 3.1e-10]}) == (
        "2.77e-10 [2.50e-10, 3.10e-10]")  # fmt: skip
    assert (
        sci_ci({"resolved": False, "median": None, "upper": 4.1e-10}) == "unresolved (≤ 4.10e-10)"
    )


def test_seconds_text():
    assert seconds_text(8.56e-5) == "85.6 µs"
    assert seconds_text(0.0014089) == "1.41 ms"
    assert seconds_text(10.48) == "10.5 s"
    assert seconds_text(6.0e-6) == "6 µs"
    assert seconds_text(4.2e-8) == "42 ns"
    assert seconds_text(None) == "n/a"


def test_energy_text():
    assert energy_text({"median": 1.45e-5, "ci95": [1.14e-5, 1.86e-5]}) == (
        "14.5 µJ [11.4 µJ, 18.6 µJ]")  # fmt: skip
    # 5.6 mJ has three significant digits, 5.60, written as 5.6
    assert energy_text({"median": 0.005626, "ci95": [0.0055994, 0.0056526]}) == (
        "5.63 mJ [5.6 mJ, 5.65 mJ]")  # fmt: skip
    # a net figure not resolved above idle: its upper bound only, never a negative energy
    assert energy_text({"resolved": False, "median": None, "upper_j": 1.2e-6}) == (
        "unresolved (≤ 1.2 µJ)")  # fmt: skip
    assert energy_text({"resolved": False, "median": None, "upper_j": None}) == (
        "unresolved (not above idle)")  # fmt: skip
    assert energy_text(None) == "n/a"
