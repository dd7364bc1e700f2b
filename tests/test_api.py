"""The Python API: the same figures as the commands, as result objects."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import ecg_energy as ee
from ecg_energy.energy.meters import EnergyReading, Meter
from ecg_energy.errors import ConfigError


def _conv_model(path):
    import keras

    inp = keras.Input((100, 1))
    x = keras.layers.Conv1D(4, 3, padding="valid", name="conv")(inp)
    x = keras.layers.GlobalAveragePooling1D(name="gap")(x)
    out = keras.layers.Dense(2, name="dense")(x)
    keras.Model(inp, out).save(path)
    return path


def test_the_api_is_importable_from_the_package():
    assert {"count", "estimate", "evaluate", "measure", "measuring", "run"} <= set(dir(ee))
    with pytest.raises(AttributeError):
        ee.no_such_function  # noqa: B018


def test_count_gives_hand_counted_macs_and_tables(tmp_path):
    c = ee.count(_conv_model(tmp_path / "m.keras"))
    # conv: 98 output positions × kernel 3 × 1 input channel × 4 filters = 1,176; dense 4 × 2 = 8
    assert c.macs == 1_176 + 8
    assert c.flops == 2 * 1_184
    df = c.to_pandas()
    assert df.set_index("op").loc["conv", "macs"] == 1_176
    assert df.set_index("op").loc["dense", "macs"] == 8
    html = c._repr_html_()
    assert html.startswith("<table>") and "1,184 MACs" in html
    assert "1,184 MACs" in repr(c)


def test_count_takes_a_keras_model_in_memory(tmp_path):
    import keras

    model = keras.saving.load_model(_conv_model(tmp_path / "m.keras"))
    c = ee.count(model)
    assert c.macs == 1_176 + 8 and "(Keras, in memory)" in c.data["file"]


def test_estimate_prices_the_flat_figure_beside_the_tables(tmp_path):
    import keras

    from ecg_energy.models.quantize import convert

    model = keras.saving.load_model(_conv_model(tmp_path / "m.keras"))
    path = tmp_path / "m.tflite"
    path.write_bytes(convert(model, "fp32"))
    est = ee.estimate(str(path), tables=["seed-flat", "horowitz-45nm"])
    df = est.to_pandas()
    flat = df.set_index("table").loc["seed-flat"]
    # the report's figure: 2 × 1,184 MACs × 0.45 pJ = 1.0656 nJ, a point (low = high), modelled
    assert flat["low_j"] == pytest.approx(2 * 1_184 * 0.45e-12) and flat["high_j"] == flat["low_j"]
    # Horowitz at 45 nm: a float32 MAC is 3.7 pJ (multiply) + 0.9 pJ (add) = 4.6 pJ; 1,184 MACs
    assert est.data["m"]["estimates"]["horowitz-45nm"]["mac_j"] == pytest.approx(1_184 * 4.6e-12)
    assert (df.set_index("table").loc["horowitz-45nm", "high_j"]
            >= df.set_index("table").loc["horowitz-45nm", "low_j"] > 0)  # fmt: skip


def test_evaluate_a_constant_model_gives_its_known_confusion_matrix(tmp_path, synth_db):
    import keras

    ds = ee.load_data(f"wfdb:{synth_db}", cache=str(tmp_path / "cache"))
    k, n = 2, len(ds.class_names)
    inp = keras.Input(ds.input_shape)
    x = keras.layers.Flatten()(inp)
    bias = np.zeros(n, dtype="float32")
    bias[k] = 5.0  # every window is called class k
    out = keras.layers.Dense(n, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(bias))(x)  # fmt: skip
    keras.Model(inp, out).save(tmp_path / "const.keras")
    ev = ee.evaluate(str(tmp_path / "const.keras"), ds, on="all")
    support = np.bincount(ds.y, minlength=n)
    cm = ev.confusion("const").to_numpy()
    expected = np.zeros((n, n), dtype=int)
    expected[:, k] = support  # every true class lands in column k
    assert (cm == expected).all()
    row = ev.to_pandas().set_index("variant").loc["const"]
    assert row["accuracy"] == pytest.approx(support[k] / support.sum())
    assert row["balanced_accuracy"] == pytest.approx(1 / np.count_nonzero(support))
    assert ev.data["examples"] == len(ds) and ev.data["on"] == "all"
    # the same probabilities in every window: a mean over 3 windows decides exactly the same
    ev3 = ee.evaluate(str(tmp_path / "const.keras"), ds, on="all", decide_over=3)
    assert (ev3.confusion("const").to_numpy() == expected).all()
    row3 = ev3.to_pandas().set_index("variant").loc["const"]
    assert row3["decide_over"] == 3
    assert row3["per_window_shock_specificity"] == row3["shock_specificity"]


class ScriptedMeter(Meter):
    """Readings from a list, in order (idle windows and trials alike)."""

    name = "scripted"
    attribution = "machine"

    def __init__(self, readings):
        self.readings = list(readings)

    def start(self) -> None:
        pass

    def stop(self) -> EnergyReading:
        joules, seconds = self.readings.pop(0)
        return EnergyReading(joules, seconds, "scripted", False)


def test_measuring_a_block_nets_out_the_idle_power_before_it():
    meter = ScriptedMeter([(2.0, 1.0), (10.0, 2.0)])  # idle 2 W; the block 10 J over 2 s
    with ee.measuring("four inferences", inferences=4, meter=meter, idle_seconds=0.01) as m:
        pass
    r = m.result
    assert r.idle_power_w == pytest.approx(2.0)
    assert r.gross_j_per_inference == pytest.approx(10.0 / 4)
    assert r.net_j_per_inference == pytest.approx((10.0 - 2.0 * 2.0) / 4)  # 1.5 J
    assert (r.method, r.measured) == ("scripted", False)


def test_measuring_as_a_decorator_keeps_one_reading_per_call():
    meter = ScriptedMeter([(1.0, 1.0), (3.0, 1.0), (1.0, 1.0), (1.0, 1.0)])
    block = ee.measuring("call", inferences=2, meter=meter, idle_seconds=0.01)

    @block
    def work(x):
        return x + 1

    assert work(1) == 2 and work(2) == 3
    # first call: (3 - 1 W × 1 s) / 2 = 1.0 J net; second: not above idle, so unresolved
    assert [r.net_j_per_inference for r in block.results] == [pytest.approx(1.0), None]


def test_measure_function_runs_the_protocol_on_any_callable():
    trials = 3
    readings = [(1.0, 0.5), (6.0, 1.0)] * trials  # per round: idle 2 W, then the trial
    res = ee.measure_function(lambda: sum(range(50)), name="mine", inferences_per_call=5,
                              meter=ScriptedMeter(readings), trials=trials, min_seconds=0.05,
                              idle_seconds=0.01, max_other_share=1.0)  # fmt: skip
    v = res.data["variants"]["mine"]
    n = v["calls_per_trial"] * 5  # inferences per trial
    assert len(v["trials"]) == trials and all(t["inferences"] == n for t in v["trials"])
    assert v["energy_j_per_inference_gross"]["median"] == pytest.approx(6.0 / n)
    # net: 6 J - 2 W × 1 s = 4 J per trial
    assert v["energy_j_per_inference_net"]["median"] == pytest.approx(4.0 / n)
    assert res.method == "scripted" and not res.measured
    assert res.to_pandas().loc[0, "net_j"] == pytest.approx(4.0 / n)


def test_bad_api_input_is_one_clear_error():
    with pytest.raises(ConfigError, match="callable"):
        ee.measure_function(42)
    with pytest.raises(ConfigError, match="inferences must be at least 1"):
        ee.measuring("x", inferences=0)
    with pytest.raises(ConfigError, match="must be auto, test or all"):
        ee.evaluate("m.keras", on="everything")


def test_run_options_take_the_configuration_keys():
    from ecg_energy.api import run_config

    cfg = run_config(data=["synth:1"], folds=3, models__train__patience=2,
                     protocol={"trials": 4}, country=None)  # fmt: skip
    assert cfg.data == ("synth:1",) and cfg.folds == 3
    assert cfg.models.train.patience == 2 and cfg.protocol.trials == 4
    assert cfg.country == "USA"  # None: not given, the default stays
    # the run command's option names, as the command takes them
    cfg = run_config(data="synth:2", original="mine.keras", epochs=3, seed=7, batch="1,8",
                     quantize="int8,fp16", device="stm32u575", rest_mw=2.5)  # fmt: skip
    assert cfg.data == ("synth:2",) and cfg.models.original == "mine.keras"
    assert (cfg.models.train.epochs, cfg.models.train.student_epochs) == (3, 6)
    assert cfg.split_seed == 7 and cfg.models.train.seed == 7
    assert cfg.batches == (1, 8) and cfg.models.quantize == ("int8", "fp16")
    assert cfg.device.names == ("stm32u575",) and cfg.device.rest_w == pytest.approx(0.0025)
    with pytest.raises(ConfigError, match="unknown setting models.orignal"):
        run_config(models__orignal="x")


def test_open_run_gives_the_table_recommendation_and_figures(tiny_run):
    from matplotlib.figure import Figure

    folder = tiny_run[0]
    res = json.loads((folder / "results.json").read_text())
    run = ee.open_run(str(folder))
    assert run.recommendation == res["recommendation"]
    df = run.to_pandas()
    assert sorted(df["variant"]) == sorted(res["variants"])
    plots = run.plots()
    assert isinstance(run.plot("energy_accuracy"), Figure)
    assert plots["energy_accuracy"]._repr_png_().startswith(b"\x89PNG")
    assert {f"confusion:{n}" for n in res["variants"] if res["variants"][n].get("accuracy")} <= set(plots)  # fmt: skip


def test_open_run_of_a_folder_without_results(tmp_path):
    from ecg_energy.errors import DataError

    with pytest.raises(DataError, match="results.json: not found"):
        ee.open_run(str(tmp_path))


def _five_class_model(path):
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((1000, 1))
    x = keras.layers.Conv1D(8, 10, strides=10, activation="relu")(inp)
    x = keras.layers.GlobalAveragePooling1D()(x)
    keras.Model(inp, keras.layers.Dense(5)(x)).save(path)
    return path


def test_quantize_a_keras_model_calibrated_on_training_records(tmp_path, synth_db):
    data = ee.load_data(f"wfdb:{synth_db}", cache=str(tmp_path / "cache"))
    src = _five_class_model(tmp_path / "mine.keras")
    paths = ee.quantize(str(src), data, modes="int8,fp16", out=str(tmp_path / "q"), windows=50)
    assert [os.path.basename(p) for p in paths] == ["mine-int8.tflite", "mine-fp16.tflite"]
    meta = json.loads((tmp_path / "q" / "mine-int8.json").read_text())
    assert meta["parent"] == "mine" and meta["precision"] == "int8"
    from ecg_energy.data.dataset import split_by_record

    train_y = data.y[split_by_record(data, seed=0).train]
    # 50 windows, 10 of each of the 5 classes, or all of a class that has fewer
    want = sum(min(10, int((train_y == k).sum())) for k in np.unique(train_y))
    assert meta["representative_windows"] == want <= 50 and meta["preprocessing"] == "none"
    # conv 100 positions × 10 taps × 1 × 8 = 8,000; dense 8 × 5 = 40: all of it INT8
    assert ee.count(paths[0]).macs_by_precision == {"int8": 8_040}
    ev = ee.evaluate([str(src), *paths], data, on="all")
    # the share of windows both give the same class, counted here with Keras and LiteRT's own
    # interpreter (int8 input quantized by its scale and zero point), window by window
    import keras
    from ai_edge_litert.interpreter import Interpreter

    parent = keras.saving.load_model(src).predict(data.X, verbose=0).argmax(1)
    interp = Interpreter(model_path=paths[0])
    interp.allocate_tensors()
    inp, outp = interp.get_input_details()[0], interp.get_output_details()[0]
    scale, zero = inp["quantization"]
    child = []
    for x in data.X.astype(np.float32):
        q = np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
        interp.set_tensor(inp["index"], q[None])
        interp.invoke()
        child.append(int(interp.get_tensor(outp["index"])[0].argmax()))
    same = int((np.asarray(child) == parent).sum())
    assert ev.variants["mine-int8"]["agreement_with_parent"] == pytest.approx(same / len(data.X))


def test_quantize_refuses_what_it_cannot_make(tmp_path):
    src = _five_class_model(tmp_path / "mine.keras")
    with pytest.raises(ConfigError, match="for a keras model: int8, fp16, dynamic, fp32; not int4"):
        ee.quantize(str(src), modes="int4")
    lite = tmp_path / "m.tflite"
    lite.write_bytes(b"\0\0\0\0TFL3" + b"\0" * 64)
    with pytest.raises(ConfigError, match="already a LiteRT model"):
        ee.quantize(str(lite))
