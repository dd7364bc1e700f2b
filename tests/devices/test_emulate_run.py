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
        if code.builtinCode == fb.BuiltinOperator.FULLY_CONNECTED:
            code.builtinCode = code.deprecatedBuiltinCode = fb.BuiltinOperator.LSTM
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    bad = tmp_path / "ad_lstm.tflite"
    bad.write_bytes(bytes(builder.Output()))
    with pytest.raises(ModelError) as exc:
        emulate(str(bad), default_inputs(str(AD), n=1), "cortex-m4", str(VENDOR))
    assert "the emulated TFLM build has no kernel for LSTM" in str(exc.value)
    assert "\n" not in str(exc.value)
