"""The Python API: everything the commands do, from a notebook or a script.

    import ecg_energy as ee
    ee.count("model.onnx").macs                       # exact counts of a .keras/.h5/.tflite/.onnx
    ee.estimate("model.tflite").to_pandas()           # energy ranges per table, beside seed-flat
    data = ee.load_data("wfdb:mitdb", task="beats")   # one Dataset from one or more sources
    ee.evaluate(["a.keras", "a-int8.tflite"], data)   # per-class metrics and the AHA goals
    ee.measure(["a-int8.tflite"], data)               # the measurement protocol, labelled
    run = ee.run("runs/nb", data=["synth"], folds=0)  # the whole evaluation into a run folder
    run.recommendation, run.plot("energy_accuracy")

    with ee.measuring("my loop", inferences=1000) as m:   # any code of yours, metered
        my_inference_loop()
    m.result.net_j_per_inference

Every function takes the options of its command under the same names (``--min-seconds`` is
``min_seconds``) and returns a result object from :mod:`ecg_energy.views`; the commands are thin
layers over these functions. Errors are ``ecg_energy.errors.EcgEnergyError`` with the same one
line the commands print.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .energy.function import pick_meter, protocol_config
from .errors import ConfigError, DataError
from .views import Counts, Estimate, Evaluation, Measurement, Run

DEFAULT_TABLES = ("seed-flat", "horowitz-45nm", "jouppi-7nm")
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5", ".tflite", ".onnx")

__all__ = ["count", "estimate", "load_data", "evaluate", "evaluate_alarms", "measure", "measure_function",
           "measuring", "run", "open_run", "model_files", "from_torch", "quantize", "sweep"]  # fmt: skip


def _quiet(echo: Callable[[str], None] | None) -> Callable[[str], None]:
    return echo if echo is not None else (lambda _m: None)


# --- counting and estimating -------------------------------------------------------------------


def count(model, *, unsafe_load: bool = False, example_input=None) -> Counts:
    """Exact per-operation counts of a model file (.keras, .h5, .tflite, .onnx), of a Keras
    model in memory, or of a ``torch.nn.Module`` with its ``example_input`` (exported to ONNX
    first): MACs and other
    arithmetic by precision, weight bytes, activation traffic, peak activation memory, and
    anything not counted."""
    from .ops.files import FileCounts, count_file

    if _is_keras_model(model):  # a model in memory, as a notebook has it
        import warnings

        from .ops.keras_ops import count_keras
        from .ops.profiler import profiler_flops

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # uncounted layers are listed in the counts
            counts = count_keras(model)
        return Counts(FileCounts(f"{model.name} (Keras, in memory)", counts,
                                 profiler_flops(model)))  # fmt: skip
    if example_input is not None or not isinstance(model, str | os.PathLike):
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = from_torch(model, example_input, os.path.join(tmp, "model.onnx"))
            counts = count_file(path, unsafe_load)
        return Counts(replace(counts, path=f"{type(model).__name__} (PyTorch, via ONNX)"))
    return Counts(count_file(os.fspath(model), unsafe_load))


def _is_keras_model(obj) -> bool:
    import sys

    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.Model)


def from_torch(module, example_input, path: str = "model.onnx") -> str:
    """A ``torch.nn.Module`` as an ONNX file (``torch.onnx.export``, evaluation mode, dynamic
    batch), to count, evaluate, quantize and measure like any ``.onnx``; returns its path."""
    from .models.torch_export import torch_to_onnx

    return torch_to_onnx(module, example_input, os.fspath(path))


def estimate(model: str, *, tables: Sequence[str] = DEFAULT_TABLES, buffer_kib: int = 256,
             unsafe_load: bool = False) -> Estimate:  # fmt: skip
    """Estimated datapath energy per inference (low-high per table), from the model's counts."""
    from .energy.estimate import estimate_variants
    from .ops.files import count_file

    path = os.fspath(model)
    name = os.path.splitext(os.path.basename(path))[0]
    fc = count_file(path, unsafe_load)
    return Estimate(estimate_variants({name: fc}, tuple(tables), buffer_kib * 1024))


# --- data --------------------------------------------------------------------------------------


def load_data(*sources: str, task: str = "rhythm", lead: str | None = None,
              window_s: float = 4.0, stride_s: float = 2.0, annotator: str = "atr",
              split: str = "auto", cache: str = "runs/cache", records: int | None = None,
              minutes: float | None = None, edge_guard_s: float = 0.0):  # fmt: skip
    """One Dataset from one or more sources (``synth``, ``synth:SEED``, ``wfdb:FOLDER``,
    ``kaggle:FILE.csv``); with several, records are named ``<source>/<record>``.
    ``records`` and ``minutes`` size the synthetic database (as ``run --records --minutes``);
    ``edge_guard_s`` leaves out rhythm windows within that many seconds of a rhythm change."""
    from .data.sources import load_sources
    from .data.synth import SynthConfig
    from .data.wfdb_source import ReadOptions

    try:
        opts = ReadOptions(task=task, lead=lead, window_s=window_s, stride_s=stride_s,
                           annotator=annotator, split=split,
                           edge_guard_s=edge_guard_s)  # fmt: skip
        sizes = {k: v for k, v in (("records", records), ("minutes", minutes)) if v is not None}
        synth = replace(SynthConfig(), **sizes)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    ds, _warnings = load_sources(list(sources or ("synth",)), opts, cache, synth)
    return ds


def _dataset(data, task: str, cache: str):
    """A Dataset as given, or loaded from a source text / a list of them."""
    if hasattr(data, "X") and hasattr(data, "class_names"):
        return data
    texts = [data] if isinstance(data, str) else list(data)
    return load_data(*texts, task=task, cache=cache)


def _data_text(ds) -> str:
    prov = ds.provenance or {}
    parts = prov.get("sources", [prov])
    names = [p.get("source") or p.get("folder") or "?" for p in parts]
    return " + ".join(str(n) for n in names)


def model_files(paths: Iterable[str]) -> list[str]:
    """The paths, with every folder replaced by the model files in it (sorted by name)."""
    out = []
    for p in map(os.fspath, paths):
        if not os.path.isdir(p):
            out.append(p)
            continue
        found = sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(MODEL_SUFFIXES))
        if not found:
            raise ConfigError(f"{p}: no model files ({', '.join(MODEL_SUFFIXES)}) in this "
                              "folder; give model files or a run's models/ folder")  # fmt: skip
        out += found
    return out


# --- quantization ------------------------------------------------------------------------------


def quantize(model: str, data: Any = "synth", *, modes: Sequence[str] = ("int8",),
             out: str | None = None, preprocess: str | None = None, windows: int = 1000,
             seed: int = 0, unsafe_load: bool = False, task: str = "rhythm",
             cache: str = "runs/cache",
             echo: Callable[[str], None] | None = None) -> list[str]:  # fmt: skip
    """Quantized versions of a model file, calibrated on ``windows`` class-balanced windows of
    the training records of ``data`` (the record-wise split a run uses; never its validation or
    test records): a Keras model becomes LiteRT files (``modes``: int8, fp16, dynamic, fp32), an
    ONNX model an INT8 ONNX file (onnxruntime's static QDQ quantization, per-channel weights).
    Each file is written atomically into ``out`` (default: beside the model) as
    ``<stem>-<mode>.tflite`` / ``<stem>-int8.onnx``, with a ``.json`` naming its parent and
    preprocessing, so ``evaluate`` reports its agreement with the parent. Returns the paths."""
    from .data.dataset import split_by_record
    from .fsio import atomic_write_bytes, atomic_write_json
    from .models import preprocess as prep_mod
    from .models.io import check_fits, load_keras, load_model_file, model_format, read_sidecar
    from .models.quantize import MODES, convert, representative_sample

    say = _quiet(echo)
    path = os.fspath(model)
    fmt = model_format(path)
    modes = tuple(_as_list(modes))
    if fmt == "tflite":
        raise ConfigError(f"{path}: already a LiteRT model; quantize its Keras or ONNX source")
    allowed = ("int8",) if fmt == "onnx" else tuple(MODES)
    bad = [m for m in modes if m not in allowed]
    if not modes or bad:
        raise ConfigError(f"modes (--mode) for a {fmt} model: {', '.join(allowed)}; not "
                          f"{', '.join(bad) or 'none'}")  # fmt: skip
    if preprocess is not None and preprocess not in prep_mod.PREPROCESSORS:
        raise ConfigError(f"preprocess (--preprocess) must be one of "
                          f"{', '.join(prep_mod.PREPROCESSORS)}")  # fmt: skip
    mf = load_model_file(path, unsafe=unsafe_load)
    ds = _dataset(data, task, cache)
    check_fits(mf, ds.input_shape, ds.class_names)
    prep = preprocess or mf.preprocessing
    train = ds.subset(split_by_record(ds, seed=seed).train)
    rep = representative_sample(prep_mod.apply(prep, train.X), train.y, windows, seed)
    say(f"calibrating on {len(rep)} windows of {len(set(train.groups.tolist()))} training records")
    meta = {**read_sidecar(path), "parent": mf.name, "preprocessing": prep,
            "class_names": list(ds.class_names), "representative_windows": len(rep)}  # fmt: skip
    meta.pop("build_key", None)
    folder = out or os.path.dirname(os.path.abspath(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    written = []
    keras_model = load_keras(path, unsafe_load) if fmt == "keras" else None
    for mode in modes:
        if fmt == "onnx":
            from .models.onnx_quantize import quantize_onnx

            target = os.path.join(folder, f"{stem}-int8.onnx")
            os.makedirs(folder, exist_ok=True)
            record: dict = {}
            quantize_onnx(path, rep, target, record)
            meta["pre_process"] = record["pre_process"]
            if not record["pre_process"]["applied"]:
                say(f"  note: {record['pre_process']['why']}; quantized the graph as it is")
        else:
            target = os.path.join(folder, f"{stem}-{mode}.tflite")
            atomic_write_bytes(target, convert(keras_model, mode, rep if mode == "int8" else None))
        atomic_write_json(os.path.splitext(target)[0] + ".json",
                          {**meta, "variant": f"{mf.name}-{mode}", "precision": mode})  # fmt: skip
        say(f"  wrote {target}")
        written.append(target)
    return written


# --- accuracy ----------------------------------------------------------------------------------


def held_out_choice(paths: list[str], ds) -> tuple[str, str]:
    """("test" | "all", why): a model's held-out records when some model was trained on records
    of this very data, else every record (data the models never saw)."""
    from .models.io import read_sidecar

    prov = ds.provenance or {}
    several = "sources" in prov
    records = set(ds.groups.tolist())
    for part in prov.get("sources", [prov]):
        source, folder = part.get("source"), part.get("folder")
        # this data's records of that source, bare and as "<source>/<record>" (the names a
        # model trained on several sources gives them)
        if several:
            bare = {r.split("/")[-1] for r in records if r.startswith(f"{source}/")}
        else:
            bare = records
        mine = bare | {f"{source}/{r}" for r in bare}
        for p in paths:
            seen = read_sidecar(p).get("trained_on") or {}
            same = source in (seen.get("sources") or []) or folder in (seen.get("folders") or [])
            if same and mine & set(seen.get("records") or []):
                return "test", (f"{os.path.basename(p)} was trained on records of {source}; "
                                "scoring its held-out test records (on='all' / --on all to "
                                "score every record)")  # fmt: skip
    return "all", "the models were not trained on this data (on='test' for a held-out split)"


def fold_scores(pred, ds, fold, k: int) -> list[dict]:
    """A fixed model's figures on each of K record folds of ``ds`` (their spread)."""
    from .models.evaluate import evaluate_predictions

    out = []
    for f in range(k):
        m = fold == f
        e = evaluate_predictions(pred[m], ds.y[m], ds.class_names, ds.rhythm[m],
                                 ds.amplitude_uv[m], ds.task)  # fmt: skip
        out.append({"fold": f + 1, "records": sorted(set(ds.groups[m].tolist())),
                    "balanced_accuracy": e["balanced_accuracy"],
                    "shock_decision": e.get("shock_decision")})  # fmt: skip
    return out


def check_evaluate_options(on: str, preprocess: str | None, decide_over: int = 1) -> None:
    """``on``, ``preprocess`` and ``decide_over`` as :func:`evaluate` takes them (checked before
    any loading)."""
    from .models.preprocess import PREPROCESSORS

    if on not in ("auto", "test", "all"):
        raise ConfigError(f"on (--on) must be auto, test or all, not {on!r}")
    if preprocess is not None and preprocess not in PREPROCESSORS:
        raise ConfigError(f"preprocess (--preprocess) must be one of {', '.join(PREPROCESSORS)}")
    if decide_over < 1:
        raise ConfigError("decide_over (--decide-over) must be at least 1 window (1: each "
                          "window alone)")  # fmt: skip


def evaluate(models: str | Sequence[str], data: Any = "synth", *, on: str = "auto",
             seed: int = 0, preprocess: str | None = None, folds: int = 0,
             unsafe_load: bool = False, task: str = "rhythm", cache: str = "runs/cache",
             echo: Callable[[str], None] | None = None,
             decide_over: int = 1) -> Evaluation:  # fmt: skip
    """Evaluate model files (or folders of them) on ``data`` (a Dataset, a source, or a list of
    sources): five-class metrics, the shock decision and the AHA goals per variant.

    ``on``: ``auto`` (every record, unless a model was trained on this data: then its held-out
    test records), ``test`` or ``all``. ``folds``: also score K record folds, for the spread.
    ``decide_over``: decide each window on the mean of it and the ``decide_over - 1`` windows
    before it in its record (the per-window figures stay beside, under ``per_window``).
    """
    from .data.dataset import split_by_record
    from .models.assess import evaluate_files

    say = _quiet(echo)
    check_evaluate_options(on, preprocess, decide_over)
    paths = model_files([models] if isinstance(models, str | os.PathLike) else models)
    ds = _dataset(data, task, cache)
    if on == "auto":
        on, why = held_out_choice(paths, ds)
        say(f"evaluating on {on} records: {why}")
    if on == "test":
        ds = ds.subset(split_by_record(ds, seed=seed).test)
    preds: dict = {}
    results = evaluate_files(paths, ds, unsafe=unsafe_load, preprocessing=preprocess,
                             predictions=preds, decide_over=decide_over)  # fmt: skip
    if folds:
        from .models.crossval import fold_of_windows

        fold, _ = fold_of_windows(ds, folds, seed)
        for name in results:
            results[name]["folds"] = fold_scores(preds[name], ds, fold, folds)
    return Evaluation({"data": _data_text(ds), "on": on, "examples": len(ds),
                       "variants": results})  # fmt: skip


def evaluate_alarms(models: str | Sequence[str], folder: str, *, window_s: float = 4.0,
                    stride_s: float = 2.0, alarm_at_s: float | None = None,
                    min_windows: int = 1, preprocess: str | None = None,
                    unsafe_load: bool = False,
                    echo: Callable[[str], None] | None = None) -> dict:  # fmt: skip
    """Score model files (or folders of them) at the ICU alarms of ``folder`` (WFDB records and an
    ``ALARMS`` file of ``record,alarm type,1|0`` lines, the PhysioNet/CinC Challenge 2015 layout),
    as the Challenge did: each alarm judged on the 16 s before it (at ``alarm_at_s``, else the
    header's "alarm is at N s", else 300 s); VT and VF/VFL alarms called true when a shock is
    advised in at least ``min_windows`` windows, asystole alarms when asystole is called;
    bradycardia and tachycardia alarms are counted, not scored (``models.alarm_score``).
    ``preprocess`` overrides the models' own input preprocessing.
    Returns {"alarm_records": how they were read, "variants": per model file the per-type TP,
    TN, FP, FN, TPR, TNR and Challenge score, over all scored types and over the VT and VF
    alarms}."""
    from .models.alarm_score import evaluate_alarm_folder

    check_evaluate_options("auto", preprocess)
    if min_windows < 1:
        raise ConfigError("min_windows (--alarm-windows) must be at least 1 window")
    if alarm_at_s is not None and alarm_at_s <= 0:
        raise ConfigError("alarm_at_s (--alarm-at) must be a positive time in seconds")
    paths = model_files([models] if isinstance(models, str | os.PathLike) else models)
    return evaluate_alarm_folder(paths, folder, window_s=window_s, stride_s=stride_s,
                                 alarm_at_s=alarm_at_s, min_windows=min_windows,
                                 preprocessing=preprocess, unsafe=unsafe_load,
                                 echo=_quiet(echo))  # fmt: skip


# --- measurement -------------------------------------------------------------------------------


def check_country(country_given: bool, carbon_intensity: float | None, meter_name: str) -> None:
    """A country beside a carbon intensity is read only by CodeCarbon (its tracker's country);
    under any other meter it would be ignored, so it is refused."""
    if country_given and carbon_intensity is not None and meter_name != "codecarbon":
        raise ConfigError(f"--country has no effect beside --carbon-intensity with the "
                          f"{meter_name or 'chosen'} meter (the intensity replaces the "
                          "country's): drop one of them")  # fmt: skip


def measure(models: str | Sequence[str], data: Any = "synth", *, meter: str | None = None,
            protocol: str = "standard", trials: int | None = None,
            min_seconds: float | None = None, idle_seconds: float | None = None,
            max_other_share: float | None = None, tracking_mode: str | None = None,
            float_runtime: str | None = None, batches: Sequence[int] | None = None,
            threads: int | None = None, country: str | None = None,
            carbon_intensity: float | None = None, watts_per_core: float | None = None,
            out: str | None = None, unsafe_load: bool = False, task: str = "rhythm",
            cache: str = "runs/cache",
            echo: Callable[[str], None] | None = None) -> Measurement:  # fmt: skip
    """Measure energy and latency per inference of model files on the held-out windows of
    ``data``: interleaved trials, idle baselines, 95% intervals, every figure labelled with its
    meter and whether it was measured (``protocol="seed"``: the report's one-window method).

    An option left at None takes its default (``energy.measure.STANDARD_DEFAULTS``;
    ``tracking_mode`` "process", ``country`` "USA"); an option the protocol or meter would not
    use is refused (``energy.measure.check_measure_options``), so is ``country`` beside
    ``carbon_intensity`` when the meter is not CodeCarbon (the intensity then replaces the
    country's, and nothing else reads the country)."""
    from .data.dataset import split_by_record
    from .energy.measure import (
        FLOAT_RUNTIMES,
        STANDARD_DEFAULTS,
        check_measure_options,
        measure_files,
        measure_seed,
    )
    from .energy.meters.codecarbon import TRACKING_MODES
    from .fsio import atomic_write_json

    say = _quiet(echo)
    given = {"meter": meter, "trials": trials, "min_seconds": min_seconds,
             "idle_seconds": idle_seconds, "max_other_share": max_other_share,
             "float_runtime": float_runtime, "batches": batches,
             "watts_per_core": watts_per_core, "tracking_mode": tracking_mode}  # fmt: skip
    if protocol not in ("standard", "seed"):
        raise ConfigError(f"protocol (--protocol) must be standard or seed, not {protocol!r}")
    check_measure_options(protocol, given)
    opts = {**STANDARD_DEFAULTS, "tracking_mode": "process",
            **{k: v for k, v in given.items() if v is not None}}  # fmt: skip
    meter, float_runtime = opts["meter"], opts["float_runtime"]
    tracking_mode = opts["tracking_mode"]
    cfg = protocol_config(opts["trials"], opts["min_seconds"], idle_seconds, max_other_share)
    batches = tuple(int(b) for b in opts["batches"])
    if not batches or min(batches) < 1:
        raise ConfigError(f"batches (--batch) must be positive batch sizes such as 1,256, "
                          f"not {batches}")  # fmt: skip
    for flag, value, allowed in (("tracking_mode", tracking_mode, TRACKING_MODES),
                                 ("float_runtime", float_runtime, FLOAT_RUNTIMES)):  # fmt: skip
        if value not in allowed:
            raise ConfigError(f"{flag} must be {' or '.join(allowed)}, not {value!r}")
    paths = model_files([models] if isinstance(models, str | os.PathLike) else models)
    country_given, country = country is not None, country or "USA"
    m = None
    if protocol == "standard":  # the meter first: a meter refused is refused before any loading
        m = pick_meter(meter, country, out, watts_per_core, say, tracking_mode)
        if given["tracking_mode"] and getattr(m, "name", "") != "codecarbon":
            raise ConfigError(f"--tracking-mode is CodeCarbon's, and auto chose "
                              f"{getattr(m, 'name', 'another meter')} here: use --meter "
                              "codecarbon, or drop --tracking-mode")  # fmt: skip
        check_country(country_given, carbon_intensity, getattr(m, "name", ""))
    ds = _dataset(data, task, cache)
    ds = ds.subset(split_by_record(ds).test)
    if out:
        os.makedirs(out, exist_ok=True)
    if m is None:
        result = measure_seed(paths, ds, country, out, threads, unsafe_load, say,
                              tracking_mode=tracking_mode, intensity=carbon_intensity)  # fmt: skip
    else:
        result = measure_files(paths, ds, m, cfg, batches, threads, country, carbon_intensity,
                               unsafe_load, say, float_runtime=float_runtime)  # fmt: skip
    if out:
        atomic_write_json(os.path.join(out, "measurements.json"), result)
    return Measurement(result)


def measure_function(fn: Callable[[], object], *, name: str = "function",
                     inferences_per_call: int = 1, meter: Any = "auto", trials: int = 5,
                     min_seconds: float = 2.0, idle_seconds: float | None = None,
                     max_other_share: float | None = None, country: str = "USA",
                     carbon_intensity: float | None = None,
                     echo: Callable[[str], None] | None = None) -> Measurement:  # fmt: skip
    """Measure any callable of yours with the standard protocol: ``fn()`` runs
    ``inferences_per_call`` inferences (your own loop, runtime or model); it is warmed up,
    repeated for trials of at least ``min_seconds`` interleaved with idle windows, and reported
    per inference, gross and net of idle, with 95% intervals and the meter's label."""
    from .energy.function import measure_callable

    return Measurement(
        measure_callable(
            fn,
            name=name,
            inferences_per_call=inferences_per_call,
            meter=meter,
            trials=trials,
            min_seconds=min_seconds,
            idle_seconds=idle_seconds,
            max_other_share=max_other_share,
            country=country,
            carbon_intensity=carbon_intensity,
            say=_quiet(echo),
        )
    )


@dataclass(frozen=True)
class BlockReading:
    """One metered block (``measuring``): gross joules over its seconds, the idle power measured
    just before it, and the net figure per inference; ``method`` and ``measured`` say where the
    joules came from (a counter, or a model of one)."""

    name: str
    joules: float
    seconds: float
    inferences: int
    idle_power_w: float | None
    method: str
    measured: bool
    other_share: float | None = None
    sources: dict = field(default_factory=dict)  # each part: measured or modelled (see meters)

    @property
    def gross_j_per_inference(self) -> float:
        return self.joules / self.inferences

    @property
    def net_j_per_inference(self) -> float | None:
        """Gross minus the idle power over the block's seconds; None when not above idle (a
        block shorter than the meter resolves is reported unresolved, never negative)."""
        from .energy.stats import net_joules

        if self.idle_power_w is None:
            return None
        net = net_joules(self.joules, self.idle_power_w, self.seconds)
        return net / self.inferences if net > 0 else None

    def as_dict(self) -> dict:
        return {**self.__dict__, "gross_j_per_inference": self.gross_j_per_inference,
                "net_j_per_inference": self.net_j_per_inference}  # fmt: skip


class measuring:  # noqa: N801 (used as ``with ee.measuring(...)`` and ``@ee.measuring(...)``)
    """Meter a block of code of yours: an idle window of ``idle_seconds`` first (the baseline),
    then the block under the meter. One window, so no interval: for figures with intervals use
    :func:`measure_function`. After the block, ``.result`` is a :class:`BlockReading`.

        with ee.measuring("batch of 1000", inferences=1000) as m:
            run_my_model(windows)
        print(m.result.net_j_per_inference, m.result.method, m.result.measured)

    As a decorator, every call of the function is one metered block; ``.results`` keeps them.
    """

    def __init__(self, name: str = "block", *, inferences: int = 1, meter: Any = "auto",
                 idle_seconds: float = 2.0, country: str = "USA",
                 echo: Callable[[str], None] | None = None):  # fmt: skip
        if int(inferences) < 1:
            raise ConfigError("inferences must be at least 1")
        if idle_seconds < 0:
            raise ConfigError("idle_seconds must be >= 0")
        self.name, self.inferences, self.idle_seconds = name, int(inferences), float(idle_seconds)
        self.meter_name, self.country, self.echo = meter, country, _quiet(echo)
        self.result: BlockReading | None = None
        self.results: list[BlockReading] = []
        self._meter = None

    def _get_meter(self):
        if self._meter is None:
            self._meter = pick_meter(self.meter_name, self.country, None, None, self.echo)
        return self._meter

    def __enter__(self) -> measuring:
        from .energy.load import LoadProbe

        m = self._get_meter()
        self._idle_w = None
        if self.idle_seconds > 0:
            m.start()
            time.sleep(self.idle_seconds)
            r = m.stop()
            self._idle_w = r.joules / r.seconds if r.seconds > 0 else None
        self._probe = LoadProbe()
        self._probe.start()
        m.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        r = self._meter.stop()
        share = self._probe.stop()
        if exc_type is None:
            self.result = BlockReading(self.name, r.joules, r.seconds, self.inferences,
                                       self._idle_w, r.method, r.measured, share,
                                       dict(r.sources))  # fmt: skip
            self.results.append(self.result)
        return False

    def __call__(self, fn: Callable) -> Callable:
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        wrapped.measuring = self  # type: ignore[attr-defined]
        return wrapped


# --- the whole evaluation ----------------------------------------------------------------------


# the run command's options, by their Python names, and the configuration keys they set
RUN_OPTIONS = {
    "data": "data", "model": "user_models", "original": "models.original",
    "student": "models.student", "preprocess": "models.preprocessing", "task": "read.task",
    "lead": "read.lead", "window_s": "read.window_s", "stride_s": "read.stride_s",
    "annotator": "read.annotator", "split": "read.split", "edge_guard": "read.edge_guard_s",
    "folds": "folds",
    "decide_over": "decide_over", "alarms": "alarms", "hard_negatives": "hard_negatives",
    "records": "synth.records", "minutes": "synth.minutes", "quantize": "models.quantize",
    "unsafe_load": "unsafe_load", "meter": "meter", "trials": "protocol.trials",
    "min_seconds": "protocol.min_seconds", "idle_seconds": "protocol.idle_seconds",
    "max_other_share": "protocol.max_other_share", "tracking_mode": "tracking_mode",
    "float_runtime": "float_runtime", "batch": "batches", "seed_inferences": "seed_inferences",
    "settle_rounds": "settle_rounds",
    "threads": "threads", "country": "country", "carbon_intensity": "carbon_intensity",
    "constraint": "recommend.constraint", "rank_by": "recommend.energy",
    "device": "device.names", "battery": "device.battery", "device_stride_s": "device.stride_s",
}  # fmt: skip
LISTS = ("data", "model", "device")  # one value or several


def _as_list(text_or_list, sep: str = ",") -> list:
    if isinstance(text_or_list, str):
        return [t.strip() for t in text_or_list.split(sep) if t.strip()]
    return list(text_or_list)


def run_options(options: dict) -> dict:
    """Keyword options as the TOML-shaped table ``config.from_dict`` reads. The run command's
    option names (``RUN_OPTIONS``, e.g. ``original``, ``records``, ``batch="1,256"``,
    ``seed``: the split's and training's, ``epochs``: the original's and twice that for the
    students, ``rest_mw``) and the configuration's own keys (nested dicts, ``a__b`` or
    ``"a.b"``); None means not given."""
    flat: dict = {}
    for key, value in options.items():
        if value is None:
            continue
        if key == "seed":
            flat["split_seed"] = flat["models.train.seed"] = value
        elif key == "epochs":
            flat["models.train.epochs"], flat["models.train.student_epochs"] = value, 2 * value
        elif key == "rest_mw":
            flat["device.rest_w"] = value * 1e-3
        elif key == "batch":
            try:
                flat["batches"] = [int(b) for b in _as_list(value if not isinstance(value, int)
                                                            else [value])]  # fmt: skip
            except ValueError as exc:
                raise ConfigError(f"batch (--batch) needs batch sizes such as 1,256, not "
                                  f"{value!r}") from exc  # fmt: skip
        elif key == "quantize":
            flat["models.quantize"] = _as_list(value)
        elif key in RUN_OPTIONS:
            flat[RUN_OPTIONS[key]] = [value] if key in LISTS and isinstance(value, str) else value
        else:
            flat[key.replace("__", ".")] = value
    table: dict = {}
    for key, value in flat.items():
        *parents, last = key.split(".")
        node = table
        for p in parents:
            node = node.setdefault(p, {})
        if isinstance(value, dict) and isinstance(node.get(last), dict):
            node[last].update(value)
        else:
            node[last] = list(value) if isinstance(value, tuple) else value
    return table


def run(out: str = "runs/default", *, config: str | None = None,
        force: Iterable[str] = (), echo: Callable[[str], None] | None = None,
        **options: Any) -> Run:  # fmt: skip
    """Run (or resume) the whole evaluation into the folder ``out`` and return its results.

    ``config``: a TOML file (``ecg-energy run --print-config`` shows every key); ``options``
    override it, by the run command's option names (``data="wfdb:mitdb", folds=5,
    original="mine.keras", records=4, epochs=2, meter="cputime", device="stm32u575"``) or by
    the configuration's keys (``models={"train": {"patience": 5}}``,
    ``protocol__min_seconds=1``); ``model`` takes your own model files to evaluate beside
    the variants. Finished stages are kept and skipped when unchanged; ``force`` redoes the
    named stages.
    """
    from .pipeline import run as run_pipeline

    cfg = run_config(config, **options)
    outcome = run_pipeline(cfg, os.fspath(out), echo=_quiet(echo), force=frozenset(force))
    return Run(outcome.results, os.fspath(out), outcome)


def run_config(config: str | None = None, **options: Any):
    """The resolved RunConfig of :func:`run` (a TOML file, then ``options`` over it)."""
    from .config import RunConfig, from_dict, load_config

    base = load_config(config) if config else RunConfig()
    cfg = from_dict(run_options(options), base)
    # the report's method (seed_protocol) runs CodeCarbon with the country; otherwise an explicit
    # meter other than CodeCarbon leaves a country beside an intensity unread
    if cfg.meter != "auto" and not cfg.seed_protocol:
        check_country(options.get("country") is not None, cfg.carbon_intensity, cfg.meter)
    return cfg


def open_run(folder: str) -> Run:
    """A finished run folder's results (its ``results.json``), to table and plot again."""
    import json

    from .results import check_results

    path = os.path.join(os.fspath(folder), "results.json")
    if not os.path.isfile(path):
        raise DataError(f"{path}: not found; pass a run folder that `ecg-energy run` finished")
    try:
        with open(path, encoding="utf-8") as fh:
            res = json.load(fh)
    except ValueError as exc:
        raise DataError(f"{path}: not valid JSON ({exc}); re-run `ecg-energy run`") from exc
    check_results(res, path)
    return Run(res, os.fspath(folder))


def with_recommendation(run_result: Run, **changes: Any) -> Run:
    """The same run recommended under other settings (``constraint``, ``energy``, ``batch``,
    ``min_balanced_accuracy``), as ``ecg-energy report --constraint ...`` does."""
    from .report.recommend import RecommendConfig
    from .results import rerecommend

    try:
        rc = replace(RecommendConfig(**run_result.data["config"].get("recommend", {})), **changes)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from exc
    return Run(rerecommend(run_result.data, rc), run_result.folder)


def sweep(config: str | dict, out: str = "runs/sweep", *, address: str | None = None,
          budget: int | None = None, workers: int | None = None,
          echo: Callable[[str], None] | None = None) -> dict:  # fmt: skip
    """Run (or resume) a sweep on Ray Tune into ``out`` and return its results (sweep.json).

    ``config``: a sweep file (TOML, as ``examples/sweep.toml``) or the same as a dict;
    ``address``: an existing Ray cluster (HOST:PORT), else a local Ray on this machine's cores;
    ``budget`` and ``workers`` override the file's. Needs the extra: ``pip install
    'ecg-energy[sweep]'``."""
    from .sweep import require_ray
    from .sweep.space import check_sweep, load_sweep, parse_sweep

    require_ray()
    cfg = load_sweep(config) if isinstance(config, str | os.PathLike) else parse_sweep(config)
    changes = {k: v for k, v in (("budget", budget), ("workers", workers)) if v is not None}
    if changes:
        cfg = replace(cfg, **changes)
        check_sweep(cfg)
    from .sweep.run import run_sweep

    return run_sweep(cfg, os.fspath(out), address=address, echo=_quiet(echo))
