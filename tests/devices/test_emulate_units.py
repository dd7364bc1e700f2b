"""The emulated method's arithmetic and its one-line errors, without the toolchain: the runner's
records, the plugin's marks, the leave-one-out fit and the priced row, by hand."""

from __future__ import annotations

import pytest

from ecg_energy.devices.battery import DutyCycle, parse_battery
from ecg_energy.devices.calibrate import Row
from ecg_energy.devices.emulate import build, fit, source
from ecg_energy.devices.emulate.price import operator_table, price_emulated
from ecg_energy.devices.emulate.run import parse_output, split_marks
from ecg_energy.devices.emulate.targets import core_has_fpu, target_for_core
from ecg_energy.devices.profile import load_profile
from ecg_energy.errors import ConfigError, ModelError


def test_marks_split_into_setup_operators_and_interpreter():
    # set-up 0..100; window 1: invoke 200..300 with ops 210-250 (40) and 260-290 (30);
    # window 2: invoke 400..510 with ops 410-460 (50) and 470-490 (20)
    marks = [0, 100, 200, 210, 250, 260, 290, 300, 400, 410, 460, 470, 490, 510]
    r = split_marks(marks, n_ops=2, windows=2)
    assert r["setup"] == 100
    assert r["invoke"] == 105.0  # (100 + 110) / 2
    assert r["per_op"] == [45.0, 25.0]  # (40 + 50) / 2, (30 + 20) / 2
    assert r["interpreter"] == 35.0  # 105 - 70
    assert (r["invoke_min"], r["invoke_max"]) == (100, 110)
    with pytest.raises(ModelError, match="13 marks, not the 14 expected"):
        split_marks(marks[:-1], n_ops=2, windows=2)


def test_runner_records_parse():
    text = ("LOG hello\nOPS 3 QUANTIZE FULLY_CONNECTED DEQUANTIZE\nARENA 2048\n"
            "OUT 0 ff00\nOUT 1 7f80\nDONE 2\n")  # fmt: skip
    r = parse_output(text)
    assert r["ops"] == ["QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE"]
    assert r["arena_bytes"] == 2048
    assert r["outputs"] == [b"\xff\x00", b"\x7f\x80"]
    assert r["windows"] == 2 and r["error"] is None and r["log"] == ["hello"]
    assert parse_output("ERROR AllocateTensors failed\n")["error"] == "AllocateTensors failed"


def _row(bench, energy_uj, latency_ms, clock_mhz=100.0, macs=1000):
    return Row("v1", "board", bench, macs, energy_uj * 1e-6, latency_ms * 1e-3, None,
               clock_mhz * 1e6, "TFLM", "", "")  # fmt: skip


def test_leave_one_out_by_hand():
    # cycles per instruction: ad 1e6 cycles / 5e5 = 2, ic 4e6 / 1e6 = 4, kws 8e6 / 1e6 = 8
    rows = [_row("ad", 10, 10), _row("ic", 40, 40), _row("kws", 80, 80)]
    insns = {"ad": 5e5, "ic": 1e6, "kws": 1e6}
    out = {r.benchmark: (p, m) for r, p, m in fit.loo(rows, insns, "latency")}
    # ad from ic and kws: sqrt(4 x 8) = 5.657 cycles/insn x 5e5 / 100 MHz = 28.28 ms
    assert out["ad"][0] == pytest.approx(0.0282843, rel=1e-5)
    assert out["ad"][1] == pytest.approx(0.010)
    # energy per instruction: 20, 40, 80 pJ; kws from sqrt(20 x 40) = 28.28 pJ x 1e6 = 28.28 uJ
    e = {r.benchmark: p for r, p, _ in fit.loo(rows, insns, "energy")}
    assert e["kws"] == pytest.approx(28.2843e-6, rel=1e-5)
    board = fit.fit_board(rows, insns, {"energy": (0.8, 1.25), "latency": (0.9, 1.1)})
    assert board["cycles_per_instruction"] == pytest.approx(4.0)  # (2 x 4 x 8) ** (1/3)
    assert board["energy_pj_per_instruction"] == pytest.approx(40.0)  # (20 x 40 x 80) ** (1/3)
    assert board["energy_pj_per_cycle"] == pytest.approx(10.0)
    assert fit.abs_errors([(None, 28.0, 20.0)]) == [pytest.approx(0.4)]


def test_targets_and_fpu():
    assert target_for_core("Arm Cortex-M4 with FPU and DSP").machine == "mps2-an386"
    assert target_for_core("Arm Cortex-M33 with FPU and DSP").machine == "mps2-an505"
    assert target_for_core("Arm Cortex-M7 with FPU").linker_script == "mps2_an500.ld"
    assert target_for_core("Arm Cortex-M0+") is None
    assert core_has_fpu("Arm Cortex-M33 with FPU and DSP") and not core_has_fpu("Arm Cortex-M0+")


def _emu():
    return {"target": "cortex-m33", "machine": "mps2-an505", "ops": ["CONV_2D", "SOFTMAX"],
            "instructions": {"invoke": 1_000_000.0, "per_op": [900_000.0, 60_000.0],
                             "interpreter": 40_000.0, "setup": 12_345},
            "arena_bytes": 10_000}  # fmt: skip


def test_price_emulated_by_hand():
    prof = load_profile("stm32u575")  # 160 MHz, 768 KiB SRAM, 4 KiB runtime RAM overhead
    base = {"device": "stm32u575", "model": "m", "notes": [], "flash_bytes": 50_000,
            "energy_j": 1e-5, "method": "per-mac"}  # fmt: skip
    f = {"cycles_per_instruction": 1.6, "energy_pj_per_instruction": 150.0, "round": "v1.2",
         "system": "NUCLEO_U575ZI_Q", "latency_band": [0.9, 1.2], "energy_band": [0.8, 1.3]}  # fmt: skip
    row = price_emulated(prof, base, _emu(), f, DutyCycle(2.0, 0.0), parse_battery("cr2032"))
    assert row["latency_s"] == pytest.approx(0.010)  # 1e6 x 1.6 / 160 MHz
    assert row["latency_s_high"] == pytest.approx(0.012)
    assert row["energy_j"] == pytest.approx(150e-6)  # 1e6 x 150 pJ
    assert row["energy_j_low"] == pytest.approx(120e-6)
    assert row["fixed"]["instructions"] == 40_000 and row["fixed"]["share"] == pytest.approx(0.04)
    assert row["fixed"]["energy_j"] == pytest.approx(6e-6)  # 40,000 x 150 pJ
    assert row["fixed"]["latency_s"] == pytest.approx(0.0004)  # 40,000 x 1.6 / 160 MHz
    assert row["sram_bytes"] == 10_000 + 4096 and row["fits"] is True
    assert row["method"].startswith("emulated:cortex-m33 (TFLM+CMSIS-NN on QEMU mps2-an505: "
                                    "1,000,000 instructions x 1.6 cycles/instruction")  # fmt: skip
    assert row["per_mac_row"]["energy_j"] == 1e-5
    ops = operator_table(_emu(), 1e-8, 1.5e-10)
    assert [(o["op"], o["share"]) for o in ops] == [("CONV_2D", 0.9), ("SOFTMAX", 0.06)]
    assert ops[0]["latency_s"] == pytest.approx(0.009)
    assert row["realtime"] is True and row["battery_days"] > 0


def test_missing_toolchain_is_one_line(monkeypatch):
    monkeypatch.setattr(build.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError) as exc:
        build.require_tools()
    text = str(exc.value)
    assert "\n" not in text
    assert "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi" in text
    assert "apt-get install qemu-system-arm" in text


def test_missing_source_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="no such TFLM source folder; set ECG_ENERGY_TFLM_SOURCE"):
        source.find_archives(str(tmp_path / "nowhere"))
    (tmp_path / "tflite-micro-abc.tar.gz").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"lacks CMSIS-NN-\*.tar.gz, CMSIS_6-\*.tar.gz"):
        source.find_archives(str(tmp_path))


def test_source_setting_beats_environment(monkeypatch):
    monkeypatch.setenv("ECG_ENERGY_TFLM_SOURCE", "/from/env")
    assert source.source_spec("/from/setting") == "/from/setting"
    assert source.source_spec(None) == "/from/env"
    monkeypatch.delenv("ECG_ENERGY_TFLM_SOURCE")
    assert source.source_spec(None) == "upstream"


def test_float_model_on_a_core_without_fpu_is_one_line():
    import dataclasses

    from ecg_energy.devices.assess import DeviceConfig
    from ecg_energy.devices.emulate.assess import emulate_rows

    prof = dataclasses.replace(load_profile("stm32u575"), name="m33-nofpu", core="Arm Cortex-M33")
    rows = {"m33-nofpu": {"m": {"device": "m33-nofpu", "model": "m", "notes": [],
                                "precision": "float"}}}  # fmt: skip
    models = {"m": {"name": "m", "file": "m.tflite", "format": "tflite"}}
    emulate_rows(rows, models, [prof], DeviceConfig(method="emulated"), DutyCycle(2.0, 0.0),
                 parse_battery("cr2032"))  # fmt: skip
    assert rows["m33-nofpu"]["m"]["skipped"] == (
        "a float model on m33-nofpu, whose core (Arm Cortex-M33) has no FPU: quantize it to "
        "INT8 (--quantize)")  # fmt: skip


def test_method_setting_is_checked():
    from ecg_energy.devices.assess import DeviceConfig

    with pytest.raises(ValueError, match="device.method is one of per-mac, emulated, not 'cycle'"):
        DeviceConfig(method="cycle")


def test_method_is_a_run_setting():
    from ecg_energy.config import from_dict, to_toml

    cfg = from_dict({"device": {"names": ["stm32u575"], "method": "emulated",
                                "tflm_source": "/srv/tflm"}})  # fmt: skip
    assert (cfg.device.method, cfg.device.tflm_source) == ("emulated", "/srv/tflm")
    assert 'method = "emulated"' in to_toml(cfg)
    assert from_dict({}).device.method == "per-mac"
    with pytest.raises(ConfigError, match="device.method is one of per-mac, emulated"):
        from_dict({"device": {"method": "cycles"}})


def _serve(folder):
    """A loopback HTTP server of ``folder`` (stopped by the caller)."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_source_url_is_checked_against_its_sha256sums(tmp_path):
    import hashlib

    folder = tmp_path / "srv"
    folder.mkdir()
    names = ["tflite-micro-x.tar.gz", "CMSIS-NN-x.tar.gz", "CMSIS_6-x.tar.gz",
             "flatbuffers-x.tar.gz", "gemmlowp-x.tar.gz", "ruy-x.tar.gz", "kissfft-x.tar.gz"]  # fmt: skip
    lines = []
    for n in names:
        (folder / n).write_bytes(n.encode())
        digest = hashlib.sha256(n.encode()).hexdigest()
        if n.startswith("ruy-"):
            digest = "0" * 64  # the served file is not the one listed
        lines.append(f"{digest}  {n}")
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    server = _serve(folder)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        with pytest.raises(
            ConfigError, match=r"ruy-x.tar.gz: its SHA-256 is not the one SHA256SUMS"
        ):
            source.prepare_tree(url, str(tmp_path / "cache"))
        (folder / "SHA256SUMS").write_text("00  ../../etc/passwd.tar.gz\n")
        with pytest.raises(ConfigError, match=r"names '../../etc/passwd.tar.gz', not an archive"):
            source.prepare_tree(url, str(tmp_path / "cache"))
    finally:
        server.shutdown()
        server.server_close()
