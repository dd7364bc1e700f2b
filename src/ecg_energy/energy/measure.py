"""Measuring model files on real windows: workloads from runners, the protocol, CO2e.

Every figure keeps its provenance: the meter's method, whether a hardware counter measured it, the
idle power subtracted for the net figure, and the carbon intensity used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data.dataset import Dataset
from ..models import preprocess
from ..models.io import check_fits, load_model_file
from ..models.runners import LiteRTRunner
from .carbon import carbon_intensity_g_per_kwh, co2e_kg
from .meters import Meter, auto_meter, make_meter
from .protocol import ProtocolConfig, Workload, run_protocol

SEED_INFERENCES = 1000


def input_batch(x: np.ndarray, batch: int) -> np.ndarray:
    """``batch`` real windows (repeated if the data has fewer), float32."""
    idx = np.arange(batch) % len(x)
    return np.ascontiguousarray(x[idx], dtype=np.float32)


def build_workloads(paths: list[str], ds: Dataset, batches: tuple[int, ...], threads: int | None,
                    unsafe: bool = False) -> tuple[list[Workload], dict[str, np.ndarray]]:  # fmt: skip
    """One workload per (model, batch size); the inputs are the model's preprocessed windows."""
    workloads, inputs = [], {}
    for path in paths:
        mf = load_model_file(path, unsafe=unsafe, num_threads=threads)
        check_fits(mf, ds.input_shape, ds.class_names)
        x_all = preprocess.apply(mf.preprocessing, ds.X)
        for b in batches:
            runner = mf.runner
            if isinstance(runner, LiteRTRunner):  # one interpreter per batch size: no resizing
                with open(path, "rb") as fh:
                    runner = LiteRTRunner(fh.read(), num_threads=threads)
            runner.prepare(b)
            x = input_batch(x_all, b)
            inputs[f"{mf.name}@{b}"] = x
            workloads.append(Workload(mf.name, b, lambda r=runner, x=x: r(x)))
    return workloads, inputs


def choose_meter(name: str, country: str, output_dir: str | None, watts_per_core: float | None,
                 echo: Callable[[str], None]) -> Meter:  # fmt: skip
    """The requested meter; ``auto`` picks the most direct available and says which and why."""
    options = {"codecarbon": {"country": country, "output_dir": output_dir}}
    if watts_per_core is not None:
        options["cputime"] = {"watts_per_core": watts_per_core}
    if name == "auto":
        meter, skipped = auto_meter(**options)
        for line in skipped:
            echo(f"  meter {line}")
        echo(f"  meter: using {meter.name}")
        return meter
    return make_meter(name, **options.get(name, {}))


def add_carbon(result: dict, g_per_kwh: float, source: str) -> dict:
    """CO2e per inference (kg), with the energy interval carried through."""
    result["carbon_intensity_g_per_kwh"] = g_per_kwh
    result["carbon_intensity_source"] = source
    for v in result["variants"].values():
        for kind in ("gross", "net"):
            e = v.get(f"energy_j_per_inference_{kind}")
            if e:
                v[f"co2e_kg_per_inference_{kind}"] = {
                    "median": co2e_kg(e["median"], g_per_kwh),
                    "ci95": [co2e_kg(b, g_per_kwh) for b in e["ci95"]],
                }
    return result


def measure_files(paths: list[str], ds: Dataset, meter: Meter, cfg: ProtocolConfig,
                  batches: tuple[int, ...] = (1,), threads: int | None = None,
                  country: str = "USA", intensity: float | None = None, unsafe: bool = False,
                  echo: Callable[[str], None] | None = None, checkpoint=None,
                  resume: dict | None = None) -> dict:  # fmt: skip
    """The standard protocol over every (model, batch); see ``protocol.run_protocol`` (also for
    ``checkpoint`` and ``resume``)."""
    g, source = carbon_intensity_g_per_kwh(country, intensity)
    workloads, _ = build_workloads(paths, ds, batches, threads, unsafe)
    result = run_protocol(workloads, meter, cfg, echo, checkpoint=checkpoint, resume=resume)
    return add_carbon(result, g, source)


def measure_seed(paths: list[str], ds: Dataset, country: str = "USA", output_dir: str | None = None,
                 threads: int | None = None, unsafe: bool = False,
                 echo: Callable[[str], None] | None = None) -> dict:  # fmt: skip
    """The evaluated report's method: one CodeCarbon window around 1000 single-window inferences
    per model — no warm-up, no idle baseline, no repeats, no interval. (The report called Keras
    ``predict`` once per sample, ~36 ms of framework overhead a call; here the batch-1 runner is
    used, so the window holds the model's work rather than that overhead.)"""
    say = echo or (lambda _m: None)
    meter = make_meter("codecarbon", country=country, output_dir=output_dir)
    workloads, _ = build_workloads(paths, ds, (1,), threads, unsafe)
    out = {"protocol": "seed: one CodeCarbon window around 1000 inferences per model",
           "variants": {}}  # fmt: skip
    for w in workloads:
        meter.start()
        for _ in range(SEED_INFERENCES):
            w.call()
        r = meter.stop()
        out["variants"][w.name] = {
            "inferences": SEED_INFERENCES, "joules": r.joules, "seconds": r.seconds,
            "kwh_per_1000": r.joules / 3.6e6 * 1000 / SEED_INFERENCES,
            "implied_watts": r.watts, "method": r.method, "measured": r.measured,
            "components_j": r.components,
        }  # fmt: skip
        say(f"  seed {w.name}: {r.joules:.3g} J in {r.seconds:.2f} s ({r.watts:.1f} W, {r.method})")
    g, source = carbon_intensity_g_per_kwh(country)
    for v in out["variants"].values():
        v["co2e_kg"] = co2e_kg(v["joules"], g)
    out["carbon_intensity_g_per_kwh"] = g
    out["carbon_intensity_source"] = source
    return out
