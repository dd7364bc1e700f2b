"""Calibration from MLPerf Tiny rows and the device profiles: figures a person can recompute."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from ecg_energy.devices import calibrate as cal
from ecg_energy.devices.profile import builtin_names, load_profile, parse_profile
from ecg_energy.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SHARED_MODELS = ROOT.parent / "shared" / "data" / "mlperf-tiny" / "models"
MACS = {"ad": 264_192, "ic": 12_501_632, "kws": 2_656_768, "vww": 7_489_664}


def _row(bench, uj, ms, key="v1|B"):
    r, s = key.split("|")
    return cal.Row(r, s, bench, MACS[bench], uj * 1e-6, ms * 1e-3, 0.02, 100e6, "", "", "")


def test_geometric_mean_per_mac_and_leave_one_out_by_hand():
    # 100 pJ/MAC for ad and 400 pJ/MAC for kws: the geometric mean is sqrt(100 * 400) = 200 pJ/MAC
    rows = [_row("ad", 100e-6 * MACS["ad"], 1.0), _row("kws", 400e-6 * MACS["kws"], 1.0),
            _row("vww", 200e-6 * MACS["vww"], 1.0)]  # fmt: skip
    figures = cal.calibrate(rows, {"round": "v1", "system": "B"}, all_rows=rows)
    # (100 * 400 * 200) ** (1/3) = 200 pJ/MAC
    assert figures["energy_pj_per_mac"] == pytest.approx(200.0)
    assert figures["energy_pj_per_mac_by_benchmark"] == {"ad": 100.0, "kws": 400.0, "vww": 200.0}
    # leaving kws out: sqrt(100 * 200) = 141.42 pJ/MAC x 2,656,768 MACs, measured 400 pJ/MAC
    loo = {r.benchmark: (p, m) for r, p, m in cal.leave_one_out(rows, "energy")}
    p, m = loo["kws"]
    assert p == pytest.approx(math.sqrt(100 * 200) * 1e-12 * MACS["kws"])
    assert m == pytest.approx(400e-12 * MACS["kws"])
    # cycles per MAC: 1 ms at 100 MHz is 100,000 cycles
    assert cal.per_mac(rows[0], "latency") == pytest.approx(1e5 / MACS["ad"])


def test_quantile_and_band():
    assert cal.quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert cal.quantile([1.0, 2.0], 0.25) == 1.25
    # 90% band of 0, 1, ..., 100: the 5th and 95th percentiles
    lo, hi = cal.band([float(i) for i in range(101)])
    assert (lo, hi) == pytest.approx((5.0, 95.0))


def test_read_results_keeps_a_resubmitted_result_once(tmp_path):
    csv = tmp_path / "r.csv"
    head = "round,system,benchmark,variant,median_uj_per_inf,perf_median_latency_ms," \
           "energy_median_power_mw,clock_mhz,framework,source_path,energy_source_path\n"  # fmt: skip
    csv.write_text(
        head + "v1.0,S,kws,,31.5,4.3,7.1,30,F,p,e\n"
        "v1.1,S,kws,,31.5,4.3,7.1,30,F,p,e\n"  # byte-identical resubmission
        "v1.1,S,ic,,101.8,16.0,6.3,30,F,p,e\n"
        "v1.1,S,ic,X,1.0,1.0,1.0,30,F,p,e\n"
    )  # a variant: not the reference model
    rows = cal.read_results(str(csv), MACS)
    assert [(r.round, r.benchmark) for r in rows] == [("v1.0", "kws"), ("v1.1", "ic")]
    assert rows[0].energy_j == pytest.approx(31.5e-6)
    assert rows[0].clock_hz == 30e6


def test_committed_profiles_are_what_the_script_generates():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "calibrate_devices.py"), "--check"],
                         capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr


def test_reference_macs_match_the_model_files():
    if not (SHARED_MODELS / "kws_ref_model.tflite").is_file():
        pytest.skip(
            "the MLPerf Tiny reference models (../shared/data/mlperf-tiny/models) are absent"
        )
    from ecg_energy.ops.tflite_ops import count_tflite

    sys.path.insert(0, str(ROOT / "scripts"))
    from calibrate_devices import MODEL_FILES, reference_macs

    committed = reference_macs()
    for bench, name in MODEL_FILES.items():
        assert (
            count_tflite((SHARED_MODELS / name).read_bytes()).macs
            == committed[bench]
            == MACS[bench]
        )


def test_the_stm32u575_profile_reproduces_its_mlperf_rows():
    p = load_profile("stm32u575")
    rows = {r["benchmark"]: r for r in p.calibration["rows"]}
    # v1.2 NUCLEO_U575ZI_Q kws: 656.163 uJ for 2,656,768 MACs = 246.98 pJ/MAC
    assert rows["kws"]["energy_uj"] == pytest.approx(656.16, rel=1e-4)
    assert p.calibration["energy_pj_per_mac_by_benchmark"]["kws"] == pytest.approx(246.98, rel=1e-4)
    geo = math.prod(p.calibration["energy_pj_per_mac_by_benchmark"].values()) ** 0.25
    assert p.calibration["energy_pj_per_mac"] == pytest.approx(geo, rel=1e-4)
    assert p.confidence == "board-energy" and p.energy_basis.startswith("modelled: MLPerf Tiny")
    assert load_profile("nrf5340").confidence == "datasheet"


def test_builtin_profiles_include_the_boards_users_ask_for():
    assert {"stm32l4r5", "stm32u575", "stm32h7a3", "efr32mg24", "nrf5340"} <= set(builtin_names())
    for name in builtin_names():
        p = load_profile(name)
        assert p.has_latency, name
        assert p.select["round"] == p.calibration["round"]


GOOD = {"name": "b", "title": "B", "mcu": "M", "core": "C", "clock_mhz": 100, "sram_bytes": 1024,
        "flash_bytes": 4096, "source": "s",
        "runtime": {"name": "TFLM", "flash_overhead_bytes": 100, "ram_overhead_bytes": 10},
        "calibration": {"cycles_per_mac": 2.0, "latency_band": [0.5, 2.0]}}  # fmt: skip


@pytest.mark.parametrize("change, words", [
    ({"sram_bytes": None}, "missing sram_bytes"),
    ({"clock_mhz": -5}, "clock_mhz must be a positive number"),
    ({"runtime": {"name": "TFLM"}}, "runtime.flash_overhead_bytes"),
    ({"calibration": {}}, "generate it with scripts/calibrate_devices.py"),
    ({"calibration": {"cycles_per_mac": 2.0, "latency_band": [1.2, 2.0]}}, "low <= 1 <= high"),
    ({"power": {"sleep_w": 1e-5}}, "power.sleep_w needs power.sleep_source"),
])  # fmt: skip
def test_a_malformed_profile_names_the_key_and_the_fix(change, words):
    data = {**GOOD, **change}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(".", r"\.")):
        parse_profile(data, "my.toml")


def test_an_unknown_device_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown device 'stm32x'; known: .*stm32u575"):
        load_profile("stm32x")
