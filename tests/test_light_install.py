"""The light install: a .tflite file counted and priced on a board with TensorFlow and Keras not
importable (as after `pip install ecg-energy` without the tensorflow extra), and a Keras feature
refused in one line with the install hint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "tests" / "devices" / "fixtures" / "conv4_dense5_int8.tflite"

# TensorFlow and Keras made unimportable (None in sys.modules: import raises ModuleNotFoundError,
# importlib.util.find_spec returns None), then the command line as installed; afterwards, any
# TensorFlow module that was loaded all the same is listed on stderr
RUNNER = """
import sys
for name in ("tensorflow", "keras"):
    sys.modules[name] = None
from ecg_energy.cli import main
rc = main(sys.argv[1:])
loaded = sorted(m for m, v in sys.modules.items()
                if v is not None and m.split(".")[0] in ("tensorflow", "keras"))
print("loaded:" + ",".join(loaded), file=sys.stderr)
sys.exit(rc)
"""


def light(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-c", RUNNER, *argv], capture_output=True, text=True,
                          env=env, timeout=300)  # fmt: skip


def loaded(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.strip().splitlines()[-1]


def test_counts_a_tflite_without_tensorflow():
    proc = light("count", str(MODEL), "--json")
    assert proc.returncode == 0, proc.stderr
    assert loaded(proc) == "loaded:"
    counts = json.loads(proc.stdout)
    # Conv1D(4 filters, kernel 5) on 1000 samples, valid: 996 x 4 x 5 = 19,920 MACs;
    # Dense(5) on the 4 pooled channels: 4 x 5 = 20; all INT8
    assert counts["macs"] == 19_940
    assert counts["macs_by_precision"] == {"int8": 19_940}


def test_prices_a_tflite_on_a_board_without_tensorflow():
    proc = light("device", str(MODEL), "--device", "stm32u575", "--json")
    assert proc.returncode == 0, proc.stderr
    assert loaded(proc) == "loaded:"
    row = json.loads(proc.stdout)["by_device"]["stm32u575"]["conv4_dense5_int8"]
    # the STM32U575 profile's calibration: 231.17 pJ and 1.5993 cycles per MAC at 160 MHz
    assert row["energy_j"] == pytest.approx(231.17e-12 * 19_940)  # 4.61 µJ
    assert row["latency_s"] == pytest.approx(1.5993 * 19_940 / 160e6)  # 199 µs
    assert row["fits"] is True


def test_a_keras_feature_says_which_extra_to_install(tmp_path):
    model = tmp_path / "mine.keras"
    model.write_bytes(b"not read: Keras is missing first")
    for argv in (["count", str(model)], ["train", "--out", str(tmp_path / "run")]):
        proc = light(*argv)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2, proc.stderr
        assert lines[0].startswith("error: this needs TensorFlow and Keras")
        assert "pip install 'ecg-energy[tensorflow]'" in lines[0]
        assert len(lines) == 2  # the error, then the runner's list of loaded modules
    assert not (tmp_path / "run").exists()  # refused before any data was made
