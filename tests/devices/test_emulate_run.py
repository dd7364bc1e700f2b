"""The emulated core itself: TFLM + CMSIS-NN built for the Cortex-M4 and run on QEMU's MPS2-AN386.

Skips without the Arm GNU toolchain and QEMU, or without ``../shared/vendor`` (the TFLM archives)
and ``../shared/data/mlperf-tiny/models`` beside the checkout. One build per machine (cached under
the emulator's cache folder); each emulation here is of the smallest MLPerf Tiny model (ad, a
fully connected autoencoder of 264,192 MACs) and takes seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared"
VENDOR = SHARED / "vendor"
AD = SHARED / "data" / "mlperf-tiny" / "models" / "ad01_int8.tflite"


@pytest.fixture(scope="session")
def m4_build():
    from ecg_energy.devices.emulate.build import build_runner, missing_tools

    if missing_tools():
        pytest.skip("no Arm GNU toolchain / QEMU: " + "; ".join(missing_tools()))
    if not (VENDOR / "SHA256SUMS").is_file() or not AD.is_file():
        pytest.skip(
            "../shared/vendor or ../shared/data/mlperf-tiny/models is not beside this checkout"
        )
    return build_runner("cortex-m4", str(VENDOR))


def _ops_in_file(path: Path) -> list[str]:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    names = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(path.read_bytes(), 0))
    codes = model.operatorCodes
    return [names[max(codes[op.opcodeIndex].builtinCode, codes[op.opcodeIndex].deprecatedBuiltinCode)]
            for op in model.subgraphs[0].operators]  # fmt: skip


def test_ad_on_the_emulated_m4_matches_host_tflm(m4_build):
    from ecg_energy.devices import tflm
    from ecg_energy.devices.emulate.assess import default_inputs
    from ecg_energy.devices.emulate.run import emulate, outputs_array

    x = default_inputs(str(AD), n=3)
    rec = emulate(str(AD), x, "cortex-m4", str(VENDOR))
    # the operators run are the file's own, in order (ad01: 10 fully connected layers)
    assert rec["ops"] == _ops_in_file(AD)
    assert rec["ops"].count("FULLY_CONNECTED") == 10
    counts = rec["instructions"]
    # CMSIS-NN's s8 fully connected kernel multiplies two int8 pairs per SMLAD: at least
    # 264,192 / 2 instructions, and each operator's count is within the invoke
    assert counts["invoke"] >= 264_192 / 2
    assert sum(counts["per_op"]) + counts["interpreter"] == pytest.approx(counts["invoke"])
    assert 0 < counts["interpreter"] < counts["invoke"]
    # the emulated outputs equal TFLM's on the host, bit for bit, window by window
    host = tflm.check(str(AD), x)
    emu = outputs_array(rec, str(host["outputs"].dtype))
    np.testing.assert_array_equal(emu, host["outputs"].reshape(emu.shape))
    # a second call is the cached record
    assert emulate(str(AD), x, "cortex-m4", str(VENDOR))["cached"] is True


def test_an_operator_the_build_lacks_is_one_line(m4_build, tmp_path):
    """ad01 with its fully connected opcode changed to LSTM, which the build does not register."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    from ecg_energy.devices.emulate.assess import default_inputs
    from ecg_energy.devices.emulate.run import emulate
    from ecg_energy.errors import ModelError

    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(AD.read_bytes(), 0))
    for code in model.operatorCodes:
        if max(code.builtinCode, code.deprecatedBuiltinCode) == fb.BuiltinOperator.FULLY_CONNECTED:
            code.builtinCode = code.deprecatedBuiltinCode = fb.BuiltinOperator.LSTM
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    bad = tmp_path / "ad_lstm.tflite"
    bad.write_bytes(bytes(builder.Output()))
    with pytest.raises(ModelError) as exc:
        emulate(str(bad), default_inputs(str(AD), n=1), "cortex-m4", str(VENDOR))
    assert "the emulated TFLM build has no kernel for LSTM" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_device_command_prices_ad_by_its_emulated_instructions(m4_build, capsys, monkeypatch):
    """`ecg-energy device ad01_int8.tflite --device stm32l4r5-tflm --method emulated`: the
    instructions x the board's fitted cycles per instruction / 120 MHz, the per-operator table."""
    import json

    from ecg_energy.cli import main
    from ecg_energy.devices.emulate.price import load_calibration

    fit = load_calibration()["boards"]["stm32l4r5-tflm"]
    monkeypatch.setenv("ECG_ENERGY_TFLM_SOURCE", str(VENDOR))
    argv = ["device", str(AD), "--device", "stm32l4r5-tflm", "--method", "emulated"]
    assert main([*argv, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    row = res["by_device"]["stm32l4r5-tflm"]["ad01_int8"]
    assert row["method"].startswith("emulated:cortex-m4 (TFLM+CMSIS-NN on QEMU mps2-an386: ")
    assert row["latency_s"] == pytest.approx(
        fit["cycles_per_instruction"] * row["instructions"] / 120e6
    )
    assert row["energy_j"] == pytest.approx(
        fit["energy_pj_per_instruction"] * 1e-12 * row["instructions"]
    )
    assert [o["op"] for o in row["operators"]] == ["FULLY_CONNECTED"] * 10
    assert row["emulation"]["agreement_host_tflm"]["identical"] == 1.0
    assert row["per_mac_row"]["method"].startswith("mlperf-tiny:v0.5:Nucleo-L4R5ZI")
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "fixed cost per inference (the interpreter's own work, outside every operator)" in out
    assert "outputs vs TFLM on the host: 100% of 2 windows identical bit for bit" in out
    assert out.count("FULLY_CONNECTED") == 10
