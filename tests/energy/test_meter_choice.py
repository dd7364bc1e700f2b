"""Which meter reads which device, what part of a reading was measured, and options that are
refused rather than ignored: meters on fakes (a fake pynvml module, a missing powercap tree,
CodeCarbon's emissions data by hand), the command on a real model."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from ecg_energy.energy.meters import (
    MEASURED,
    MODELLED,
    EnergyReading,
    Meter,
    auto_meter,
    covering,
    make_meter,
)
from ecg_energy.energy.meters import rapl as rapl_mod
from ecg_energy.energy.meters.codecarbon import (
    COUNTER_CPU_MODES,
    MODELLED_CPU_MODES,
    reading_from,
)
from ecg_energy.energy.protocol import ProtocolConfig, Workload, run_protocol
from ecg_energy.errors import ConfigError
from tests.energy.test_meters_protocol import ReplayMeter

# a pynvml with one GPU and an energy counter: what nvidia-ml-py gives on a machine with an
# NVIDIA GPU (a Colab T4, a cloud GPU VM), where RAPL is usually not readable
FAKE_PYNVML = """
calls = []


class NVMLError(Exception):
    pass


def nvmlInit():
    calls.append("init")


def nvmlDeviceGetCount():
    return 1


def nvmlDeviceGetHandleByIndex(i):
    return i


def nvmlDeviceGetTotalEnergyConsumption(handle):
    calls.append("energy")
    return 1000 * len(calls)


def nvmlDeviceGetPowerUsage(handle):
    return 70000
"""


@pytest.fixture()
def fake_gpu_no_rapl(tmp_path, monkeypatch):
    """A fake ``pynvml`` first on sys.path and no powercap tree; returns the fake module."""
    folder = tmp_path / "fake-nvml"
    folder.mkdir()
    (folder / "pynvml.py").write_text(FAKE_PYNVML)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    monkeypatch.setattr(rapl_mod, "POWERCAP", str(tmp_path / "no-powercap"))
    import pynvml

    assert pynvml.__file__ == str(folder / "pynvml.py")
    return pynvml


def test_the_fake_gpu_is_a_working_nvml_meter(fake_gpu_no_rapl):
    # so NVML is really available here: before meters knew their device, auto took it (rapl,
    # nvml, codecarbon, cputime) and called the GPU's energy the CPU inference's, measured
    meter = make_meter("nvml")
    meter.start()
    r = meter.stop()
    # the counter: probe 2,000 mJ, start 3,000, stop 4,000 -> 1 J
    assert (r.joules, r.method, r.measured, r.sources) == (1.0, "nvml", True, {"gpu": MEASURED})


def test_auto_never_meters_cpu_work_with_nvml(fake_gpu_no_rapl, tmp_path):
    meter, skipped = auto_meter("cpu", codecarbon={"output_dir": str(tmp_path)})
    assert meter.name == "codecarbon"
    assert skipped == [
        f"rapl: no {tmp_path / 'no-powercap'} (RAPL is not exposed on this machine)",
        "nvml: reads the GPU only; the models run on the CPU",
    ]
    assert "energy" not in fake_gpu_no_rapl.calls  # the GPU's counter was never read


def test_auto_for_gpu_work_takes_nvml_and_says_why_not_rapl(fake_gpu_no_rapl):
    meter, skipped = auto_meter("gpu")
    assert meter.name == "nvml"
    assert skipped == ["rapl: reads the CPU only; the models run on the GPU"]


def test_the_meters_by_device():
    assert covering("cpu") == ["rapl", "codecarbon", "cputime"]
    assert covering("gpu") == ["nvml"]


def test_nvml_asked_for_cpu_work_is_refused_in_one_line():
    with pytest.raises(ConfigError) as exc:
        make_meter("nvml", "cpu")
    assert str(exc.value) == ("meter nvml reads the GPU only, and the models run on the CPU: "
                              "choose rapl, codecarbon, cputime or auto")  # fmt: skip


def test_the_protocol_refuses_a_meter_that_does_not_read_the_device_of_the_work():
    class GpuMeter(Meter):
        name, covers = "gpu-meter", ("gpu",)

    work = Workload("m", 1, lambda: None, device="cpu")
    with pytest.raises(ConfigError, match=r"^m@1 runs on the CPU, and the meter gpu-meter reads "
                                          r"the GPU only: choose a meter that covers the CPU"):  # fmt: skip
        run_protocol([work], GpuMeter(), ProtocolConfig(trials=1))


# --- what CodeCarbon measured, part by part ------------------------------------------------------


def _emissions(cpu_kwh: float, ram_kwh: float, gpu_kwh: float = 0.0, duration: float = 2.0):
    return SimpleNamespace(cpu_energy=cpu_kwh, ram_energy=ram_kwh, gpu_energy=gpu_kwh,
                           energy_consumed=cpu_kwh + ram_kwh + gpu_kwh, duration=duration)  # fmt: skip


def test_codecarbon_with_rapl_is_partly_measured_and_a_gpu_is_kept_apart():
    # 1e-6 kWh = 3.6 J of CPU package (a RAPL counter), 5e-7 kWh = 1.8 J of RAM (CodeCarbon's
    # model), 2e-6 kWh = 7.2 J on a GPU that did not run the models
    r = reading_from(_emissions(1e-6, 5e-7, 2e-6), "intel_rapl")
    assert r.method == "codecarbon:intel_rapl" and r.measured is False
    assert r.joules == pytest.approx(5.4) and r.seconds == 2.0
    assert r.components == {"cpu": pytest.approx(3.6), "ram": pytest.approx(1.8)}
    assert r.sources == {"cpu": MEASURED, "ram": MODELLED}
    assert r.apart == {"gpu": pytest.approx(7.2)}
    assert (r.parts(MEASURED), r.parts(MODELLED)) == (["cpu"], ["ram"])


def test_codecarbon_without_a_counter_is_modelled_throughout():
    r = reading_from(_emissions(2e-6, 1e-6), "cpu_load")
    assert r.sources == {"cpu": MODELLED, "ram": MODELLED} and r.measured is False
    assert r.joules == pytest.approx(10.8) and r.apart == {}


def test_a_reading_cannot_call_itself_measured_with_a_modelled_part():
    with pytest.raises(ValueError, match="measured=True"):
        EnergyReading(1.0, 1.0, "x", True, {"cpu": 0.5, "ram": 0.5},
                      {"cpu": MEASURED, "ram": MODELLED})  # fmt: skip


def test_our_mode_names_are_the_ones_codecarbon_sets():
    """The CPU modes of CodeCarbon 3.3.2, read from its own source: where it builds its CPU."""
    import codecarbon.core.resource_tracker as rt
    from codecarbon.external.hardware import MODE_CPU_LOAD

    text = Path(rt.__file__).read_text()
    found = set(re.findall(r'CPU\.from_utils\(\s*(?:output_dir=)?self\.tracker\._output_dir,'
                           r'\s*(?:mode=)?("\w+"|MODE_CPU_LOAD)', text))  # fmt: skip
    modes = {MODE_CPU_LOAD if m == "MODE_CPU_LOAD" else m.strip('"') for m in found}
    assert modes == {"intel_power_gadget", "windows_emi", "intel_rapl", "cpu_load", "constant"}
    assert modes == set(COUNTER_CPU_MODES) | set(MODELLED_CPU_MODES)


def test_the_report_describes_every_method_codecarbon_can_report():
    from ecg_energy.report.modelled import method_words

    for mode in COUNTER_CPU_MODES + MODELLED_CPU_MODES:
        assert method_words(f"codecarbon:{mode}") != "a method this report does not describe"
    assert method_words("codecarbon:intel_rapl").startswith(
        "CodeCarbon reading the CPU package's RAPL counter: the CPU part measured; its RAM "
        "figure is a model"
    )
    assert method_words("codecarbon:rapl") == "a method this report does not describe"


class _Quiet:
    def start(self):
        pass

    def stop(self):
        return 0.0


def test_the_protocol_keeps_the_measured_and_modelled_parts_apart():
    # one round: idle 2 s (cpu 4 J measured, ram 2 J modelled), then a trial of n calls
    # (cpu 10 J, ram 2 J, and 3 J on a GPU that did not run them)
    def r(cpu, ram, gpu=0.0):
        return EnergyReading(cpu + ram, 2.0, "codecarbon:intel_rapl", False,
                             {"cpu": cpu, "ram": ram}, {"cpu": MEASURED, "ram": MODELLED},
                             {"gpu": gpu} if gpu else {})  # fmt: skip

    ticks = iter(range(10**6))
    cfg = ProtocolConfig(trials=1, min_seconds=1.0, warmup_seconds=0.0, idle_seconds=2.0)
    res = run_protocol([Workload("A", 1, lambda: None)], ReplayMeter([r(4, 2), r(10, 2, 3.0)]), cfg,
                       sleep=lambda s: None, clock=lambda: next(ticks) * 0.01,
                       probe=_Quiet())  # fmt: skip
    v = res["variants"]["A@1"]
    n = v["calls_per_trial"]
    assert res["measured"] is False
    assert res["parts"] == {"measured": ["cpu"], "modelled": ["ram"]}
    assert res["measured_note"] == ("partly measured: cpu read from a counter, ram modelled; "
                                    "the total is not a measurement")  # fmt: skip
    assert v["energy_parts_j_per_inference"] == {
        "cpu": {"median": pytest.approx(10 / n), "source": "measured"},
        "ram": {"median": pytest.approx(2 / n), "source": "modelled"},
    }
    assert v["apart_j_per_inference"]["gpu"]["median"] == pytest.approx(3 / n)
    # the GPU's 3 J are in no figure: gross 12 J, net 12 - 3 W x 2 s = 6 J
    assert v["energy_j_per_inference_gross"]["median"] == pytest.approx(12 / n)
    assert v["energy_j_per_inference_net"]["median"] == pytest.approx(6 / n)


def test_the_measurement_text_says_partly_measured():
    from ecg_energy.report.text import format_measurements

    text = format_measurements({
        "variants": {}, "method": "codecarbon:intel_rapl", "measured": False,
        "parts": {"measured": ["cpu"], "modelled": ["ram"]},
        "meter_choice": {"chosen": "codecarbon", "why": "the first meter available here that "
                         "reads the CPU", "skipped": ["nvml: reads the GPU only; the models "
                                                     "run on the CPU"]},
    })  # fmt: skip
    assert text.splitlines()[-2:] == [
        "method codecarbon:intel_rapl: PARTLY measured: cpu read from a counter, ram modelled",
        "meter codecarbon: the first meter available here that reads the CPU; skipped nvml: "
        "reads the GPU only; the models run on the CPU",
    ]


# --- net energy in one place -----------------------------------------------------------------------


def test_a_metered_block_nets_its_idle_power_by_hand():
    from ecg_energy.api import BlockReading

    # 50 J in 5 s over 10 inferences, idle 8 W: (50 - 40) / 10 = 1 J each; 30 J: below idle
    assert BlockReading("b", 50.0, 5.0, 10, 8.0, "x", False).net_j_per_inference == 1.0
    assert BlockReading("b", 30.0, 5.0, 10, 8.0, "x", False).net_j_per_inference is None


# --- options refused, not ignored ----------------------------------------------------------------


@pytest.mark.parametrize(("options", "said"), [
    ({"trials": 3}, "it does not use --trials; drop it"),
    ({"meter": "cputime", "batches": (1,)}, "it does not use --meter, --batch; drop them"),
    ({"watts_per_core": 10.0}, "it does not use --watts-per-core; drop it"),
])  # fmt: skip
def test_the_seed_protocol_refuses_the_standard_protocols_options(options, said):
    from ecg_energy.api import measure

    with pytest.raises(ConfigError) as exc:
        measure(["never-read.tflite"], "synth", protocol="seed", **options)
    assert str(exc.value) == ("--protocol seed is the report's method (one CodeCarbon window "
                              f"around single-window inferences): {said} or use --protocol "
                              "standard")  # fmt: skip


def test_watts_per_core_without_the_cputime_model_is_refused():
    from ecg_energy.api import measure

    with pytest.raises(ConfigError) as exc:
        measure(["never-read.tflite"], "synth", watts_per_core=10.0)
    assert str(exc.value) == ("--watts-per-core sets the cputime model's power, and the meter is "
                              "auto: add --meter cputime, or drop --watts-per-core")  # fmt: skip
    with pytest.raises(
        ConfigError, match="^--tracking-mode is CodeCarbon's, and the meter is rapl"
    ):
        measure(["never-read.tflite"], "synth", meter="rapl", tracking_mode="machine")


# --- the command, on a model like the default run's ---------------------------------------------


@pytest.fixture(scope="module")
def student_keras(tmp_path_factory) -> Path:
    """The run's student architecture (untrained) as a .keras file: measured, as the run's Keras
    models are, on LiteRT float32."""
    from ecg_energy.models.architectures import build

    path = tmp_path_factory.mktemp("model") / "student.keras"
    build("student", 1000, 5, seed=0).save(path)
    return path


def test_measure_with_a_fake_gpu_and_no_rapl_picks_a_cpu_meter_and_says_why(
    fake_gpu_no_rapl, student_keras, synth_db, tmp_path, capsys
):
    from ecg_energy.cli import main

    out = tmp_path / "m"
    argv = ["measure", str(student_keras), "--data", f"wfdb:{synth_db}", "--trials", "1",
            "--min-seconds", "0.3", "--idle-seconds", "0.3", "--batch", "1",
            "--max-other-share", "1", "--json", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert "  meter nvml: reads the GPU only; the models run on the CPU" in err
    assert ("  meter: using codecarbon, the first meter available here that reads the CPU "
            "(attribution: process)") in err  # fmt: skip
    res = json.loads(captured.out)
    assert res["meter"] == "codecarbon" and res["devices"] == ["cpu"]
    assert res["meter_choice"] == {
        "requested": "auto", "device": "cpu", "chosen": "codecarbon",
        "why": "the first meter available here that reads the CPU",
        "skipped": [f"rapl: no {rapl_mod.POWERCAP} (RAPL is not exposed on this machine)",
                    "nvml: reads the GPU only; the models run on the CPU"],
    }  # fmt: skip
    # no counter on this machine's CPU (CodeCarbon's cpu_load model) and RAM always modelled
    assert res["measured"] is False and "nvml" not in res["method"]
    assert "energy" not in fake_gpu_no_rapl.calls
    assert json.loads((out / "measurements.json").read_text())["meter"] == "codecarbon"


def test_the_seed_protocol_applies_the_carbon_intensity_given(student_keras, synth_db, tmp_path):
    from ecg_energy.api import _dataset
    from ecg_energy.energy.measure import measure_seed

    ds = _dataset(f"wfdb:{synth_db}", "rhythm", str(tmp_path))
    res = measure_seed([str(student_keras)], ds, "USA", str(tmp_path), inferences=3,
                       intensity=100.0)  # fmt: skip
    v = res["variants"]["student"]
    assert (res["carbon_intensity_g_per_kwh"], res["carbon_intensity_source"]) == (
        100.0, "user override")  # fmt: skip
    # kg = J / 3.6e6 J per kWh x 100 g per kWh / 1000 g per kg
    assert v["co2e_kg"] == pytest.approx(v["joules"] / 3.6e6 * 100.0 / 1000.0)


def test_the_command_refuses_nvml_for_cpu_models_before_loading_anything(tmp_path, capsys):
    from ecg_energy.cli import main

    rc = main(["measure", str(tmp_path / "never-read.tflite"), "--meter", "nvml",
               "--cache", str(tmp_path / "cache")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err == ["error: meter nvml reads the GPU only, and the models run on the "
                               "CPU: choose rapl, codecarbon, cputime or auto"]  # fmt: skip
    assert not (tmp_path / "cache").exists()  # no data was loaded


def test_the_energy_table_says_partly_measured():
    import copy

    from ecg_energy.report.tables import energy_table

    fixture = Path(__file__).parents[1] / "report" / "fixtures" / "results.json"
    res = copy.deepcopy(json.loads(fixture.read_text()))
    for m in res["variants"]["original"]["measurements"].values():
        for t in m["trials"]:
            t.update(method="codecarbon:intel_rapl", measured=False,
                     sources={"cpu": "measured", "ram": "modelled"})  # fmt: skip
    header, rows = energy_table(res)
    cells = dict(zip([r[0] for r in rows], [r[-1] for r in rows]))
    assert header[-1] == "energy method"
    assert cells["`original`"] == "codecarbon:intel_rapl (partly measured)"
    assert cells["`original-int8`"] == "cputime-model (modelled)"


def test_a_run_refuses_a_meter_that_cannot_read_its_models_before_any_stage():
    from ecg_energy.api import run_config

    with pytest.raises(ConfigError, match="meter nvml does not read the CPU the models run on: "
                                          "choose rapl, codecarbon, cputime or auto"):  # fmt: skip
        run_config(meter="nvml")
    with pytest.raises(ConfigError, match="tracking_mode machine is CodeCarbon's, and meter is "
                                          "cputime"):  # fmt: skip
        run_config(meter="cputime", tracking_mode="machine")


def test_a_country_nothing_reads_is_refused_beside_a_carbon_intensity(student_keras, tmp_path,
                                                                        capsys):  # fmt: skip
    from ecg_energy.api import run_config
    from ecg_energy.cli import main

    rc = main(["measure", str(student_keras), "--meter", "cputime", "--country", "FRA",
               "--carbon-intensity", "50", "--cache", str(tmp_path / "cache")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err == ["error: --country has no effect beside --carbon-intensity with the "
                               "cputime meter (the intensity replaces the country's): drop one "
                               "of them"]  # fmt: skip
    with pytest.raises(ConfigError, match="--country has no effect"):
        run_config(meter="cputime", country="FRA", carbon_intensity=50.0, seed_protocol=False)
    # the report's method runs CodeCarbon with the country: then the country is read
    assert run_config(meter="cputime", country="FRA", carbon_intensity=50.0).country == "FRA"
