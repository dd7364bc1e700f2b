"""Measuring model files on real windows: workloads from runners, the protocol, CO2e.

Every figure keeps its provenance: the meter's method, whether a hardware counter measured it, its
attribution (machine-wide or this process), the runtime that ran the model, the idle power
subtracted for the net figure, and the carbon intensity used.

Like with like: a Keras model is measured on LiteRT's float32 runtime by default (converted from
the same weights, its logits checked against the Keras model's), so every variant runs on the same
runtime and a saving is the model's, not TensorFlow's ~0.6 ms of per-call overhead. The TensorFlow
path (``float_runtime="tensorflow"``) stays available and is labelled; ``compare_runtimes`` also
measures the first Keras model on the other runtime, so the report can say what the runtime alone
costs. An ``.onnx`` model is measured on onnxruntime, its own runtime (nothing converts it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data.dataset import Dataset
from ..errors import ConfigError
from ..models import preprocess
from ..models.io import ModelFile, check_fits, load_model_file
from ..models.runners import KerasRunner, LiteRTRunner
from .carbon import KWH_TO_J, carbon_intensity_g_per_kwh, co2e_kg
from .meters import Meter, auto_meter, make_meter
from .protocol import ProtocolConfig, Workload, run_protocol

SEED_INFERENCES = 1000
SEED_SAMPLING_S = 1.0
FLOAT_RUNTIMES = ("litert", "tensorflow")
RUNTIME_CHECK_WINDOWS = 64
# LiteRT's float32 kernels against TensorFlow's: the same network gives logits equal to rounding
# (seen: ~1e-5 on the built-in models); a larger gap means the conversion changed the model
RUNTIME_TOLERANCE = 1e-3


# the standard protocol's options (None: not given) and their defaults; the seed protocol (the
# report's method) takes none of them, and refuses them rather than ignore them
STANDARD_DEFAULTS = {"meter": "auto", "trials": 5, "min_seconds": 2.0, "idle_seconds": None,
                     "max_other_share": None, "float_runtime": "litert", "batches": (1, 256),
                     "watts_per_core": None}  # fmt: skip
FLAGS = {"batches": "--batch"}


def _flag(name: str) -> str:
    return FLAGS.get(name, "--" + name.replace("_", "-"))


def check_measure_options(protocol: str, given: dict) -> None:
    """Refuse, in one line, an option the chosen protocol or meter would not use: the seed
    protocol takes none of the standard protocol's (``--meter codecarbon`` is its own meter);
    ``--watts-per-core`` sets the cputime model only; ``--tracking-mode`` is CodeCarbon's."""
    given = {k: v for k, v in given.items() if v is not None}
    if protocol == "seed":
        extra = [k for k in STANDARD_DEFAULTS if k in given]
        if given.get("meter") == "codecarbon":
            extra.remove("meter")
        if extra:
            raise ConfigError(f"--protocol seed is the report's method (one CodeCarbon window "
                              f"around single-window inferences): it does not use "
                              f"{', '.join(_flag(k) for k in extra)}; drop "
                              f"{'it' if len(extra) == 1 else 'them'} or use --protocol "
                              "standard")  # fmt: skip
        return
    meter = given.get("meter", "auto")
    if "watts_per_core" in given and meter != "cputime":
        raise ConfigError(f"--watts-per-core sets the cputime model's power, and the meter is "
                          f"{meter}: add --meter cputime, or drop --watts-per-core")  # fmt: skip
    if "tracking_mode" in given and meter not in ("codecarbon", "auto"):
        raise ConfigError(f"--tracking-mode is CodeCarbon's, and the meter is {meter}: use "
                          "--meter codecarbon, or drop --tracking-mode")  # fmt: skip


def input_batch(x: np.ndarray, batch: int) -> np.ndarray:
    """``batch`` real windows (repeated if the data has fewer), float32."""
    idx = np.arange(batch) % len(x)
    return np.ascontiguousarray(x[idx], dtype=np.float32)


def runtime_name(runner) -> str:
    """What runs a model: 'litert', 'onnxruntime', or 'tensorflow' / 'jax' for a Keras model."""
    return "litert" if isinstance(runner, LiteRTRunner) else getattr(runner, "backend", "keras")


def litert_fp32(mf: ModelFile, x: np.ndarray, threads: int | None) -> tuple[bytes | None, dict]:
    """The Keras model of ``mf`` converted to a LiteRT float32 flatbuffer, and a record of the
    check against the Keras model's logits on ``x`` (or of why it could not be used)."""
    from ..models.quantize import convert

    try:
        content = convert(mf.runner.model, "fp32")
        lite = LiteRTRunner(content, num_threads=threads)
        probe = x[:RUNTIME_CHECK_WINDOWS]
        ref, got = mf.runner.predict(probe), lite.predict(probe)
    except Exception as exc:  # any failure leaves the model on TensorFlow, said in results
        return None, {"runtime": runtime_name(mf.runner), "converted": False,
                      "why": f"LiteRT conversion failed ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:160] if str(exc) else ''})"}  # fmt: skip
    diff = float(np.max(np.abs(ref - got)))
    check = {"windows": len(probe), "max_abs_logit_diff": diff,
             "argmax_agreement": float(np.mean(ref.argmax(1) == got.argmax(1)))}  # fmt: skip
    if not diff <= RUNTIME_TOLERANCE * max(1.0, float(np.max(np.abs(ref)))):
        return None, {"runtime": runtime_name(mf.runner), "converted": False, "check": check,
                      "why": f"LiteRT float32 logits differ from Keras' by up to {diff:.3g}"}  # fmt: skip
    return content, {"runtime": "litert", "converted": True, "from": "keras",
                     "precision": "fp32", "check": check}  # fmt: skip


def build_workloads(paths: list[str], ds: Dataset, batches: tuple[int, ...], threads: int | None,
                    unsafe: bool = False, float_runtime: str = "litert",
                    compare_runtimes: bool = False) -> tuple[list[Workload], dict[str, dict]]:  # fmt: skip
    """One workload per (model, batch size); the inputs are the model's preprocessed windows.

    Returns the workloads and, per model name, the runtime it was measured on (``runtimes``). With
    ``compare_runtimes`` the first Keras model is also measured at the smallest batch size on the
    other float runtime (key ``name@batch:runtime``).
    """
    if float_runtime not in FLOAT_RUNTIMES:
        raise ConfigError(f"float_runtime must be {' or '.join(FLOAT_RUNTIMES)}, "
                          f"not {float_runtime!r}")  # fmt: skip
    workloads, runtimes = [], {}
    compared = False
    for path in paths:
        mf = load_model_file(path, unsafe=unsafe, num_threads=threads)
        check_fits(mf, ds.input_shape, ds.class_names)
        x_all = preprocess.apply(mf.preprocessing, ds.X)
        runners: dict[str, Callable[[], object]] = {}  # runtime -> a fresh runner
        if isinstance(mf.runner, LiteRTRunner):
            with open(path, "rb") as fh:
                content = fh.read()
            runners["litert"] = lambda c=content: LiteRTRunner(c, num_threads=threads)
            main, record = "litert", {"runtime": "litert"}
        elif mf.format == "onnx":
            from ..models.io import load_onnx

            runners["onnxruntime"] = lambda p=path: load_onnx(p, threads)
            main, record = "onnxruntime", {"runtime": "onnxruntime"}
        else:
            own = runtime_name(mf.runner)
            runners[own] = lambda r=mf.runner: r
            content, info = (litert_fp32(mf, x_all, threads)
                             if float_runtime == "litert" or compare_runtimes and not compared
                             else (None, {}))  # fmt: skip
            if content is not None:
                runners["litert"] = lambda c=content: LiteRTRunner(c, num_threads=threads)
            main = "litert" if float_runtime == "litert" and content is not None else own
            record = {**info, "runtime": main} if main == "litert" else {"runtime": own}
            if float_runtime == "litert" and content is None:
                record["note"] = f"measured on {own}: {info.get('why', '')}"
        extra = None
        if compare_runtimes and not compared and mf.format == "keras":
            extra = next((r for r in runners if r != main), None)
            compared = extra is not None
            if extra:
                record["compared_with"] = extra
        runtimes[mf.name] = record
        for b in batches:
            x = input_batch(x_all, b)
            for rt in [main] + ([extra] if extra and b == min(batches) else []):
                runner = runners[rt]()  # one interpreter or session per batch size: no resizing
                runner.prepare(b)
                key = f"{mf.name}@{b}" if rt == main else f"{mf.name}@{b}:{rt}"
                workloads.append(Workload(mf.name, b, measured_call(runner, x), rt, key,
                                          getattr(runner, "logits", None),
                                          getattr(runner, "device", "cpu")))  # fmt: skip
    return workloads, runtimes


def measured_call(runner, x: np.ndarray) -> Callable[[], object]:
    """The call a trial repeats: a LiteRT model on input already in its own dtype (an INT8
    model's windows quantized once, here, as every model's windows were preprocessed once), so
    the trial holds the model and its runtime; an ONNX model likewise on input already in its own
    layout (a channels-first model's windows transposed once, here); a Keras model through its
    compiled function."""
    if isinstance(runner, LiteRTRunner):
        xn = np.ascontiguousarray(runner.quantize_input(x))
        return lambda: runner.native(xn)
    if hasattr(runner, "native_input") and getattr(runner, "fixed_batch", None) in (None, len(x)):
        xn = runner.native_input(x)  # an ONNX model's windows in its own layout, once
        return lambda: runner.native(xn)
    return lambda: runner(x)


def choose_meter(name: str, country: str, output_dir: str | None, watts_per_core: float | None,
                 echo: Callable[[str], None], tracking_mode: str = "process",
                 device: str = "cpu") -> Meter:  # fmt: skip
    """The requested meter; ``auto`` picks the most direct available that covers ``device`` (the
    device the models run on: every runtime here declares ``cpu``) and says which and why. The
    choice and its reasons are kept on the meter (``choice``) for the results."""
    options = {"codecarbon": {"country": country, "output_dir": output_dir,
                              "tracking_mode": tracking_mode}}  # fmt: skip
    if watts_per_core is not None:
        options["cputime"] = {"watts_per_core": watts_per_core}
    if name == "auto":
        meter, skipped = auto_meter(device, **options)
        for line in skipped:
            echo(f"  meter {line}")
        why = f"the first meter available here that reads the {device.upper()}"
        echo(f"  meter: using {meter.name}, {why} (attribution: {meter.attribution})")
    else:
        meter, skipped, why = make_meter(name, device, **options.get(name, {})), [], "requested"
    meter.choice = {"requested": name, "device": device, "chosen": meter.name, "why": why,
                    "skipped": skipped}  # fmt: skip
    return meter


def scale_figure(stat: dict | None, factor: float) -> dict | None:
    """An energy figure converted by ``factor`` (to CO2e): median and interval, or for an
    unresolved net figure its upper bound only, as the energy was."""
    if not stat:
        return None
    if stat.get("median") is None:
        up = stat.get("upper_j")
        return {"resolved": False, "median": None, "ci95": None,
                "upper": None if up is None else up * factor}  # fmt: skip
    out = {"median": stat["median"] * factor, "ci95": [b * factor for b in stat["ci95"]]}
    if "resolved" in stat:
        out["resolved"] = stat["resolved"]
    return out


def add_carbon(result: dict, g_per_kwh: float, source: str) -> dict:
    """CO2e per inference (kg), with the energy interval carried through."""
    result["carbon_intensity_g_per_kwh"] = g_per_kwh
    result["carbon_intensity_source"] = source
    factor = co2e_kg(1.0, g_per_kwh)
    for v in result["variants"].values():
        for kind in ("gross", "net"):
            e = scale_figure(v.get(f"energy_j_per_inference_{kind}"), factor)
            if e:
                v[f"co2e_kg_per_inference_{kind}"] = e
    return result


def measure_files(paths: list[str], ds: Dataset, meter: Meter, cfg: ProtocolConfig,
                  batches: tuple[int, ...] = (1,), threads: int | None = None,
                  country: str = "USA", intensity: float | None = None, unsafe: bool = False,
                  echo: Callable[[str], None] | None = None, checkpoint=None,
                  resume: dict | None = None, float_runtime: str = "litert",
                  compare_runtimes: bool = False, stop=None) -> dict:  # fmt: skip
    """The standard protocol over every (model, batch); see ``protocol.run_protocol`` (also for
    ``checkpoint``, ``resume`` and ``stop``)."""
    g, source = carbon_intensity_g_per_kwh(country, intensity)
    workloads, runtimes = build_workloads(paths, ds, batches, threads, unsafe, float_runtime,
                                          compare_runtimes)  # fmt: skip
    result = run_protocol(workloads, meter, cfg, echo, checkpoint=checkpoint, resume=resume,
                          stop=stop)  # fmt: skip
    result["devices"] = sorted({w.device for w in workloads})
    own = {"requested": "a Meter instance", "chosen": getattr(meter, "name", "meter")}
    result["meter_choice"] = getattr(meter, "choice", own)
    result["runtimes"] = runtimes
    result["float_runtime"] = float_runtime
    return add_carbon(result, g, source)


def seed_call(mf: ModelFile, x1: np.ndarray) -> tuple[Callable[[], object], str]:
    """One inference the way the evaluated report ran it: Keras ``predict`` on one sample (its
    ~36-70 ms of framework overhead a call included), a LiteRT Interpreter's set_tensor /
    invoke / get_tensor per sample, or an onnxruntime session's ``run`` per sample."""
    if isinstance(mf.runner, KerasRunner):
        model = mf.runner.model
        return (lambda: model.predict(x1, verbose=0)), "keras-predict"
    how = "onnxruntime-run" if mf.format == "onnx" else "litert-invoke"
    return (lambda: mf.runner.reference_call(x1)), how


def measure_seed(paths: list[str], ds: Dataset, country: str = "USA", output_dir: str | None = None,
                 threads: int | None = None, unsafe: bool = False,
                 echo: Callable[[str], None] | None = None, inferences: int = SEED_INFERENCES,
                 tracking_mode: str = "process", intensity: float | None = None) -> dict:  # fmt: skip
    """The evaluated report's method: one CodeCarbon window around 1000 single-window inferences
    per model, each run as the report ran it (Keras ``predict`` per sample) — no warm-up, no idle
    baseline, no repeats, no interval. A window shorter than CodeCarbon's sampling period is
    marked ``too_short``: its figure is not a reading (CodeCarbon issue #851). ``intensity``
    (g CO2e per kWh) overrides the country's figure, as in the standard protocol."""
    say = echo or (lambda _m: None)
    # CodeCarbon sampling every second, as a tracker left at its defaults samples regularly
    # (the report's @track_emissions used its 15-s default): what the report's figures rest on
    meter = make_meter("codecarbon", country=country, output_dir=output_dir,
                       tracking_mode=tracking_mode, measure_power_secs=SEED_SAMPLING_S)  # fmt: skip
    period = meter.sampling_period_s
    out = {"protocol": f"seed: one CodeCarbon window around {inferences} inferences per model",
           "sampling_period_s": period, "tracking_mode": tracking_mode, "variants": {}}  # fmt: skip
    g, source = carbon_intensity_g_per_kwh(country, intensity)
    for path in paths:
        mf = load_model_file(path, unsafe=unsafe, num_threads=threads)
        check_fits(mf, ds.input_shape, ds.class_names)
        x1 = input_batch(preprocess.apply(mf.preprocessing, ds.X[:1]), 1)
        call, how = seed_call(mf, x1)
        meter.start()
        for _ in range(inferences):
            call()
        r = meter.stop()
        short = r.seconds < period
        out["variants"][mf.name] = {
            "inferences": inferences, "runtime": how, "joules": r.joules, "seconds": r.seconds,
            "latency_s_per_inference": r.seconds / inferences,
            "kwh_per_1000": r.joules / KWH_TO_J * 1000 / inferences,
            "implied_watts": r.watts, "method": r.method, "measured": r.measured,
            "components_j": r.components, "sources": r.sources, "apart_j": r.apart,
            "too_short": short, "co2e_kg": co2e_kg(r.joules, g),
        }  # fmt: skip
        figure = (f"too short to read ({r.seconds:.2f} s < the {period:g} s sampling period)"
                  if short else f"{r.joules:.3g} J, {r.watts:.1f} W")  # fmt: skip
        say(f"  seed {mf.name} ({how}): {inferences} inferences in {r.seconds:.2f} s; {figure} "
            f"({r.method})")  # fmt: skip
    out["carbon_intensity_g_per_kwh"] = g
    out["carbon_intensity_source"] = source
    return out
