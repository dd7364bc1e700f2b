"""The TFLM runtime on small hand-built models, and imported on-device measurements."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecg_energy.devices import tflm
from ecg_energy.devices.imports import parse_energyrunner, parse_trace_csv, read_measurement
from ecg_energy.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures"


def _int8_tflite(path: Path, build) -> Path:
    import keras
    import tensorflow as tf

    from ecg_energy.quiet import silenced

    inp = keras.Input((100, 1))
    model = keras.Model(inp, build(inp))
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    conv.representative_dataset = lambda: (
        [rng.normal(size=(1, 100, 1)).astype(np.float32)] for _ in range(20))  # fmt: skip
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    with silenced():
        path.write_bytes(conv.convert())
    return path


@pytest.fixture(scope="module")
def conv_model(tmp_path_factory) -> Path:
    import keras

    def build(x):
        x = keras.layers.Conv1D(8, 5, padding="same", activation="relu")(x)  # 100 x 8 int8
        return keras.layers.Dense(3)(keras.layers.GlobalAveragePooling1D()(x))

    return _int8_tflite(tmp_path_factory.mktemp("tflm") / "tiny.tflite", build)


def test_tflm_arena_of_a_small_model(conv_model):
    r = tflm.check(str(conv_model))
    assert r["error"] is None and r["missing_ops"] == []
    # The graph is EXPAND_DIMS (100 B) -> CONV_2D (100 x 8 = 800 B) -> RESHAPE -> MEAN -> FC. TFLM's
    # RESHAPE copies, so its 800-byte input and 800-byte output are live at once: the planned
    # (head) part of the arena is 1,600 bytes; the rest (tail) is the runtime's own structs.
    assert r["arena_head_bytes"] == 1600
    assert r["arena_bytes"] == r["arena_head_bytes"] + r["arena_tail_bytes"]


def test_tflm_outputs_and_agreement_with_litert(conv_model):
    from ecg_energy.models.runners import LiteRTRunner

    runner = LiteRTRunner(conv_model.read_bytes())
    x = runner.quantize_input(np.random.default_rng(1).normal(size=(5, 100, 1)).astype(np.float32))
    r = tflm.check(str(conv_model), x)
    assert r["outputs"].shape == (5, 3) and r["outputs"].dtype == np.int8
    assert tflm.agreement(r["outputs"], r["outputs"]) == {
        "windows": 5, "identical": 1.0, "same_class": 1.0, "max_abs_diff": 0.0}  # fmt: skip
    shifted = r["outputs"].astype(np.int16) + np.array([0, 0, 2])
    ag = tflm.agreement(shifted, r["outputs"])
    assert ag["identical"] == 0.0 and ag["max_abs_diff"] == 2.0


def test_operators_tflm_lacks_are_listed(tmp_path):
    import tensorflow as tf

    from ecg_energy.quiet import silenced

    @tf.function(input_signature=[tf.TensorSpec([1, 8], tf.float32)])
    def f(x):  # TOPK_V2 has no TFLM kernel; MUL has one
        return tf.math.top_k(x * 2.0, k=3).values

    with silenced():
        content = tf.lite.TFLiteConverter.from_concrete_functions(
            [f.get_concrete_function()], f).convert()  # fmt: skip
    path = tmp_path / "topk.tflite"
    path.write_bytes(content)
    r = tflm.check(str(path))
    assert r["missing_ops"] == ["TOPK_V2"]
    assert r["arena_bytes"] is None and "TOPK_V2" in r["error"]


def test_energyrunner_log_as_published():
    r = read_measurement(str(FIXTURES / "energyrunner_v0.5_L4R5ZI_ad.txt"))
    # "Median energy cost is 416.312 uJ/inf.": the v0.5 reference ad row of results.csv
    assert r["energy_j"] == pytest.approx(416.312e-6)
    assert (r["energy_j_low"], r["energy_j_high"]) == pytest.approx((412.983e-6, 417.384e-6))
    assert r["windows"] == 5 and r["method"] == "external:energyrunner" and r["measured"]
    assert r["power_w"] == pytest.approx(40.095437e-3)  # median of the five windows' power
    assert r["latency_s"] == pytest.approx(1 / 96.154)  # "Median throughput is 96.154 inf./sec."


def test_truncated_and_wrong_energyrunner_logs_are_refused():
    text = (FIXTURES / "energyrunner_v0.5_L4R5ZI_ad.txt").read_text()
    cut = text[: text.index("Median energy cost")]
    with pytest.raises(DataError, match="truncated EnergyRunner log .no 'Median energy cost' line"):
        parse_energyrunner(cut, "results.txt")
    head = text[: text.index("Energy/Inf.")]  # the first window lacks a value line
    with pytest.raises(DataError, match="truncated"):
        parse_energyrunner(head + "\n00514.974 ulp-ml: Median energy cost is 1.0 uJ/inf.\n", "r")
    perf = (FIXTURES / "energyrunner_v1.1_L4R5ZI_vww_performance.txt").read_text()
    with pytest.raises(DataError, match="performance-mode log"):
        parse_energyrunner(perf, "perf.txt")


def test_csv_trace_with_marks_by_hand():
    # 2 W between the first start/stop (0.0-0.5 s: 1 J), 4 W in the second (1.0-1.5 s: 2 J)
    text = (
        "time_s,power_w,mark\n0.0,2,start\n0.25,2,\n0.5,2,stop\n0.75,0.1,\n"
        "1.0,4,start\n1.5,4,stop\n"
    )
    r = parse_trace_csv(text, "t.csv", inferences=10)
    assert r["energy_j"] == pytest.approx(0.15)  # median of 0.1 J and 0.2 J per inference
    assert (r["energy_j_low"], r["energy_j_high"]) == pytest.approx((0.1, 0.2))
    assert r["latency_s"] == pytest.approx(0.05) and r["method"] == "external:csv"
    cur = parse_trace_csv("time_s,current_a,mark\n0,0.5,start\n1,0.5,stop\n", "c.csv",
                          voltage_v=3.0)  # fmt: skip
    assert cur["energy_j"] == pytest.approx(1.5)


@pytest.mark.parametrize("text, words", [
    ("time_s,power_w\n0,1\n", "needs the columns time_s, mark and power_w"),
    ("time_s,current_a,mark\n0,1,start\n1,1,stop\n", "without a voltage"),
    ("time_s,power_w,mark\n0,1,start\n1,1,\n", "ends inside an inference"),
    ("time_s,power_w,mark\n0,1,stop\n", "without a 'start'"),
    ("time_s,power_w,mark\n0,nan,start\n1,1,stop\n", "power_w 'nan' is not a number"),
    ("time_s,power_w,mark\n1,1,start\n0,1,stop\n", "does not increase"),
])  # fmt: skip
def test_bad_csv_traces_name_the_problem(text, words):
    with pytest.raises(DataError, match=words):
        parse_trace_csv(text, "t.csv")


def test_a_stopped_tflm_child_says_its_own_cause():
    assert tflm.stopped_why(-11, "") == "killed by SIGSEGV"
    assert tflm.stopped_why(-9, "\n") == "killed by SIGKILL"
    assert tflm.stopped_why(1, "a warning\nImportError: libfoo.so: cannot open\n") == (
        "ImportError: libfoo.so: cannot open")  # fmt: skip
    assert tflm.stopped_why(3, "") == "exit code 3, nothing on stderr"


def test_not_installed_only_when_the_package_is_not_installed(monkeypatch):
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert tflm.available() is None
    assert (
        tflm.check("never-read.tflite")["error"]
        == "tflite-micro is not installed (pip install -e .)"
    )
