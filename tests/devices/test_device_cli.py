"""The device commands and the run's device section, as a user meets them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ecg_energy.cli import main
from ecg_energy.devices.profile import builtin_names, builtin_text, load_profile

FIXTURES = Path(__file__).parent / "fixtures"


def _one_line_error(capsys, argv, *fragments):
    rc = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("error: "), err
    for f in fragments:
        assert f in err[0]


def test_devices_lists_every_profile_with_its_calibration(capsys):
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    for name in ("stm32l4r5", "stm32u575", "stm32h7a3", "efr32mg24", "nrf5340"):
        assert f"\n{name} " in out
    assert "MLPerf Tiny v1.2 NUCLEO_U575ZI_Q (ad, ic, kws, vww)" in out
    assert main(["devices", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in listed] == builtin_names()


def test_device_json_on_the_tiny_runs_int8_models(tiny_run, capsys):
    out = tiny_run[0]
    models = sorted(str(p) for p in (out / "models").glob("*.tflite"))
    assert main(["device", *models, "--device", "stm32u575", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    cal = load_profile("stm32u575").calibration
    for name, row in res["by_device"]["stm32u575"].items():
        macs = res["models"][name]["macs"]
        assert row["energy_j"] == pytest.approx(cal["energy_pj_per_mac"] * 1e-12 * macs)
        assert row["latency_s"] == pytest.approx(cal["cycles_per_mac"] * macs / 160e6)
        assert row["sram_bytes"] == row["arena_bytes"] + 4096
        for key in ("energy_j_low", "energy_j_high", "latency_s_low", "latency_s_high",
                    "flash_bytes", "fits", "realtime", "battery_days", "method"):  # fmt: skip
            assert row[key] is not None, key


@pytest.mark.parametrize("argv, words", [
    (["device", "{model}", "--device", "nosuch"], ["unknown device 'nosuch'", "stm32u575"]),
    (["device", "{model}", "--device", "{bad_profile}"], ["missing sram_bytes"]),
    (["device", "nosuch.tflite"], ["nosuch.tflite: model file not found"]),
    (["device", "{model}", "--battery", "aa"], ["battery 'aa'"]),
    (["device", "{keras}", "--device", "stm32u575"], ["nothing to price", "keras model"]),
    (["device", "{corrupt}", "--device", "stm32u575"], ["not a .tflite model"]),
    (["import-energy", "{truncated}", "--device", "stm32u575", "--model", "x"],
     ["truncated EnergyRunner log"]),
    (["import-energy", "{truncated}", "--device", "nosuch", "--model", "x"], ["unknown device"]),
])  # fmt: skip
def test_bad_device_inputs_get_one_line(tiny_run, tmp_path, capsys, argv, words):
    model = next((tiny_run[0] / "models").glob("*.tflite"))
    bad = tmp_path / "bad.toml"
    bad.write_text(builtin_text("stm32u575").replace("sram_bytes = 786432", ""))
    trunc = tmp_path / "results.txt"
    text = (FIXTURES / "energyrunner_v0.5_L4R5ZI_ad.txt").read_text()
    trunc.write_text(text[: text.index("Median energy")])
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"\x00" * 64)
    subs = {"{model}": str(model), "{bad_profile}": str(bad), "{truncated}": str(trunc),
            "{keras}": str(next((tiny_run[0] / "models").glob("*.keras"))),
            "{corrupt}": str(corrupt)}  # fmt: skip
    _one_line_error(capsys, [subs.get(a, a) for a in argv], *words)


def test_run_with_a_device_reports_it_and_ranks_by_it(copy_run, capsys):
    out, argv = copy_run
    assert main([*argv, "--device", "stm32u575", "--rank-by", "device:stm32u575",
                 "--constraint", "none"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "stages run: device, report" in printed
    res = json.loads((out / "results.json").read_text())
    rows = res["device"]["by_device"]["stm32u575"]
    priced = {n: r for n, r in rows.items() if not r.get("skipped")}
    assert set(priced) == {"original-int8", "distilled-int8"}
    assert all("keras model" in r["skipped"] for n, r in rows.items() if n not in priced)
    lowest = min(priced, key=lambda n: priced[n]["energy_j"])
    rec = res["recommendation"]
    assert rec["variant"] == lowest and "on stm32u575" in rec["reason"]
    assert rec["ranked"]["basis"] == "device:stm32u575"
    md = (out / "report.md").read_text()
    assert "## On the device" in md
    from ecg_energy.report.fmt import fmt_j

    r = priced[lowest]
    assert f"| stm32u575 | {lowest} |" in md and fmt_j(r["energy_j"]) in md
    html = (out / "report.html").read_text()
    assert 'id="device-section"' in html and "Days of battery against balanced accuracy" in html
    # a real on-device measurement joins the row and the recommendation ranks it
    assert main(["import-energy", str(FIXTURES / "energyrunner_v0.5_L4R5ZI_ad.txt"), "--device",
                 "stm32u575", "--model", lowest, "--run", str(out)]) == 0  # fmt: skip
    res = json.loads((out / "results.json").read_text())
    row = res["variants"][lowest]["device"]["stm32u575"]
    assert row["imported"]["energy_j"] == pytest.approx(416.312e-6)
    assert "416 µJ" in (out / "report.md").read_text()


def test_rank_by_a_board_not_assessed_is_refused(copy_run, capsys):
    out, argv = copy_run
    _one_line_error(capsys, [*argv, "--rank-by", "device:stm32u575"], "add --device stm32u575")
    shutil.rmtree(out, ignore_errors=True)
