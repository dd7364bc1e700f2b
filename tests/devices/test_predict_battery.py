"""Pricing a model on a board and its battery life: arithmetic a person can redo."""

from __future__ import annotations

import pytest

from ecg_energy.devices.battery import PRESETS, DutyCycle, battery_days, parse_battery
from ecg_energy.devices.predict import price
from ecg_energy.devices.profile import parse_profile
from ecg_energy.errors import ConfigError

BOARD = {"name": "b", "title": "B", "mcu": "M", "core": "C", "clock_mhz": 100,
         "sram_bytes": 64 * 1024, "flash_bytes": 256 * 1024, "source": "s",
         "runtime": {"name": "TFLM", "flash_overhead_bytes": 20_000, "ram_overhead_bytes": 4_000},
         "power": {"sleep_w": 10e-6, "sleep_source": "datasheet"},
         "calibration": {"round": "v1", "system": "B", "macs_range": [100_000, 10_000_000],
                         "energy_pj_per_mac": 200.0, "energy_band": [0.5, 2.0],
                         "cycles_per_mac": 2.0, "latency_band": [0.5, 2.0]}}  # fmt: skip
MODEL = {"name": "m", "format": "tflite", "macs": 1_000_000, "macs_by_precision": {"int8": 1_000_000},
         "file_bytes": 30_000, "tflm": {"arena_bytes": 10_000, "missing_ops": [], "error": None}}  # fmt: skip


def test_energy_latency_memory_and_battery_by_hand():
    row = price(parse_profile(BOARD, "b.toml"), MODEL, DutyCycle(2.0, 0.0), PRESETS["cr2032"])
    # 200 pJ/MAC x 1,000,000 MACs = 200 µJ; band x0.5 .. x2
    assert row["energy_j"] == pytest.approx(200e-6)
    assert (row["energy_j_low"], row["energy_j_high"]) == pytest.approx((100e-6, 400e-6))
    # 2 cycles/MAC x 1e6 MACs / 100 MHz = 20 ms
    assert row["latency_s"] == pytest.approx(0.020)
    assert row["sram_bytes"] == 14_000 and row["flash_bytes"] == 50_000
    assert row["fits"] is True and row["realtime"] is True
    # average power = (200 µJ + 10 µW x 1.98 s) / 2 s = 109.9 µW; CR2032 235 mAh x 3 V = 2538 J
    avg = (200e-6 + 10e-6 * 1.98) / 2.0
    assert row["average_power_w"] == pytest.approx(avg)
    assert row["battery_days"] == pytest.approx(2538.0 / avg / 86400)
    assert row["inference_share"] == pytest.approx(100e-6 / avg)
    assert row["method"].startswith("mlperf-tiny:v1:B") and row["measured"] is False


def test_too_big_too_slow_float_and_keras_are_said():
    board = parse_profile(BOARD, "b.toml")
    big = {**MODEL, "tflm": {"arena_bytes": 70_000}, "macs": 200_000_000}
    row = price(board, big, DutyCycle(2.0), PRESETS["cr2032"])
    assert row["fits"] is False and row["realtime"] is False  # 74,000 B > 65,536; 4 s > 2 s
    assert row["battery_days"] is None
    assert any("outside the calibrated" in n for n in row["notes"])
    fl = price(board, {**MODEL, "macs_by_precision": {"fp32": 10}}, DutyCycle(), PRESETS["cr2032"])
    assert "float model" in fl["skipped"] and fl["energy_j"] is None
    ke = price(board, {**MODEL, "format": "keras"}, DutyCycle(), PRESETS["cr2032"])
    assert "keras model" in ke["skipped"]


def test_a_latency_only_board_uses_datasheet_power_and_says_so():
    data = {**BOARD, "power": {"active_w": 0.01, "active_source": "datasheet"},
            "calibration": {k: v for k, v in BOARD["calibration"].items()
                            if not k.startswith("energy")}}  # fmt: skip
    row = price(parse_profile(data, "b.toml"), MODEL, DutyCycle(), PRESETS["cr2032"])
    assert row["confidence"] == "datasheet"
    assert row["energy_j"] == pytest.approx(0.01 * 0.020)  # 10 mW x 20 ms = 200 µJ
    assert "lower confidence" in row["method"]
    assert row["battery_days"] is None and any("no cited sleep power" in n for n in row["notes"])


def test_battery_presets_and_user_batteries():
    assert PRESETS["cr2032"].energy_j == pytest.approx(0.235 * 3600 * 3.0)
    b = parse_battery("300@3.7")
    assert b.energy_j == pytest.approx(0.3 * 3600 * 3.7)
    # 1 mW from 2538 J: 2,538,000 s = 29.375 days
    assert battery_days(PRESETS["cr2032"], 1e-3) == pytest.approx(29.375)
    for bad in ("aa", "0@3", "300"):
        with pytest.raises(ConfigError, match="battery"):
            parse_battery(bad)
    with pytest.raises(ConfigError, match="stride"):
        DutyCycle(0.0)


def test_a_float_model_is_priced_only_with_float_figures():
    cal = {
        **BOARD["calibration"],
        "float32": {
            "energy_pj_per_mac": 1000.0,
            "energy_band": [0.5, 2.0],
            "cycles_per_mac": 8.0,
            "latency_band": [0.5, 2.0],
        },
    }
    board = parse_profile({**BOARD, "calibration": cal}, "b.toml")
    fl = {**MODEL, "macs_by_precision": {"fp32": 1_000_000}}
    row = price(board, fl, DutyCycle(), PRESETS["cr2032"])
    assert row["precision"] == "float"
    assert row["energy_j"] == pytest.approx(1e-3)  # 1000 pJ/MAC x 1e6 MACs
    assert row["latency_s"] == pytest.approx(0.08)  # 8 cycles/MAC x 1e6 / 100 MHz
    int8 = price(board, MODEL, DutyCycle(), PRESETS["cr2032"])
    assert int8["energy_j"] == pytest.approx(200e-6)  # the INT8 figures for an INT8 model
