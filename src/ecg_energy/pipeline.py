"""`ecg-energy run`: the evaluation's stages over one run folder.

Stages, in order: synth -> data -> train -> distil -> quantize -> count -> estimate -> measure ->
evaluate -> report. This version has every stage but the report; the run says which stages ran and
which are not available yet, and never writes a figure for a stage that did not run.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from . import __version__
from .data.dataset import Dataset, concatenate, split_by_record
from .data.sources import ensure_synth, load_source, parse_source, synth_folder
from .data.summary import summarize
from .data.synth import SynthConfig
from .data.wfdb_source import ReadOptions
from .energy.protocol import ProtocolConfig
from .errors import OutputError
from .fsio import atomic_write_json
from .models.variants import ModelsConfig

STAGES: tuple[str, ...] = ("synth", "data", "train", "distil", "quantize", "count", "estimate",
                           "measure", "evaluate", "report")  # fmt: skip
AVAILABLE_STAGES: tuple[str, ...] = STAGES[:-1]  # all but the report
RUN_MARKER = "run.json"


@dataclass(frozen=True)
class RunConfig:
    """Everything a run depends on (resolved; saved in ``run.json``)."""

    data: tuple[str, ...] = ("synth",)
    read: ReadOptions = field(default_factory=ReadOptions)
    synth: SynthConfig = field(default_factory=SynthConfig)
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    split_seed: int = 0
    models: ModelsConfig = field(default_factory=ModelsConfig)
    tables: tuple[str, ...] = ("seed-flat", "horowitz-45nm", "jouppi-7nm")
    buffer_bytes: int = 256 * 1024
    user_models: tuple[str, ...] = ()
    unsafe_load: bool = False
    meter: str = "auto"
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    batches: tuple[int, ...] = (1, 256)
    country: str = "USA"
    carbon_intensity: float | None = None
    threads: int | None = None


@dataclass(frozen=True)
class RunOutcome:
    out_dir: str
    stages_run: tuple[str, ...]
    stages_missing: tuple[str, ...]
    summary: dict
    evaluation: dict
    energy: dict
    measurements: dict
    warnings: tuple[str, ...]
    seconds: dict[str, float]


def check_run_dir(out: str) -> None:
    """Refuse a non-empty folder that is not one of our run folders (never clobber user files)."""
    if not os.path.exists(out):
        return
    if not os.path.isdir(out):
        raise OutputError(f"{out}: exists and is not a folder; choose another --out")
    if not os.listdir(out):
        return
    marker = os.path.join(out, RUN_MARKER)
    try:
        with open(marker) as fh:
            if json.load(fh).get("tool") == "ecg-energy":
                return
    except (OSError, ValueError):
        pass
    raise OutputError(f"{out}: folder is not empty and is not an ecg-energy run folder; "
                      "choose a new --out")  # fmt: skip


def mark_run_dir(out: str, extra: dict) -> None:
    """Make ``out`` recognisably one of our run folders (keeping an existing marker)."""
    path = os.path.join(out, RUN_MARKER)
    if not os.path.isfile(path):
        atomic_write_json(path, {"tool": "ecg-energy", "version": __version__, **extra})


def load_data(cfg: RunConfig, cache_dir: str, progress=None) -> tuple[Dataset, list[str]]:
    """All configured sources as one Dataset (records prefixed by source when there are several)."""
    parts, warnings = [], []
    for text in cfg.data:
        src = parse_source(text)
        ds, log = load_source(src, cfg.read, cache_dir, cfg.synth, progress)
        if log is not None:
            warnings += [f"{text}: {w}" for w in log.warnings()]
        if len(cfg.data) > 1:
            ds = replace(ds, groups=np.array([f"{text}/{g}" for g in ds.groups]))
        parts.append(ds)
    ds = concatenate(parts)
    if len(parts) > 1:
        ds = replace(ds, provenance={"sources": [p.provenance for p in parts]})
    return ds, warnings


def data_key(ds: Dataset, split) -> str:
    """What a trained model depends on in the data: source, options, classes, split records."""
    return json.dumps([ds.provenance, ds.class_counts(), split.records, split.method],
                      sort_keys=True, default=str)  # fmt: skip


def count_variants(paths: list[str], unsafe: bool = False) -> dict:
    """{variant name: FileCounts} (names from the models' sidecars, else file stems)."""
    from .models.io import read_sidecar
    from .ops.files import count_file

    out = {}
    for path in paths:
        name = read_sidecar(path).get("variant") or os.path.splitext(os.path.basename(path))[0]
        out[name if name not in out else path] = count_file(path, unsafe)
    return out


def estimate_variants(counted: dict, tables: tuple[str, ...], buffer_bytes: int) -> dict:
    """{variant: {"counts": totals, "estimates": {table: estimate}}}; the flat table prices the
    profiler's FLOPs where there are some (the report's convention), else 2 × MACs."""
    from .energy.estimate import estimate
    from .energy.tables import load_table

    loaded = [load_table(t) for t in tables]
    out = {}
    for name, fc in counted.items():
        est = {}
        for table in loaded:
            flops = fc.profiler_flops if table.flat and fc.profiler_flops else None
            e = estimate(fc.counts, table, buffer_bytes, flops)
            est[table.name] = {**e.as_dict(), "flops_priced": flops or 2 * fc.counts.macs,
                               "flops_source": "tf-profiler" if flops else "2 x MACs"}  # fmt: skip
        out[name] = {"counts": fc.as_dict(layers=False), "estimates": est}
    return out


def measure_stage(cfg: RunConfig, paths: list[str], test: Dataset, out: str, echo) -> dict:
    """Energy and latency of every variant on held-out windows; CodeCarbon's rows go to the run
    folder's emissions.csv as CodeCarbon wrote them. Ctrl-C keeps the trials already finished."""
    from .energy.measure import choose_meter, measure_files
    from .models.io import read_sidecar

    # what the figures depend on: the model files (by their build keys, else size and mtime),
    # the windows, and every measurement setting
    files = [[p, read_sidecar(p).get("build_key") or [os.path.getsize(p), os.path.getmtime(p)]]
             for p in paths]  # fmt: skip
    key = json.dumps([files, len(test), asdict(cfg.protocol), cfg.meter, list(cfg.batches),
                      cfg.country, cfg.carbon_intensity, cfg.threads], default=str)  # fmt: skip
    target = os.path.join(out, "measurements.json")
    if os.path.isfile(target):
        with open(target) as fh:
            previous = json.load(fh)
        if previous.get("inputs_key") == key and not previous.get("interrupted"):
            echo(f"  measure: reusing {target}")
            return previous
    meter = choose_meter(cfg.meter, cfg.country, out, None, echo)
    result = measure_files(paths, test, meter, cfg.protocol, cfg.batches, cfg.threads, cfg.country,
                           cfg.carbon_intensity, cfg.unsafe_load, echo)  # fmt: skip
    result["inputs_key"] = key
    atomic_write_json(target, result)
    if result.get("interrupted"):
        raise KeyboardInterrupt
    return result


def machine_facts() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def run(cfg: RunConfig, out: str, echo: Callable[[str], None] = print) -> RunOutcome:
    """Run the available stages into ``out``; say which ran and which do not exist yet.

    ``run.json`` is rewritten (atomically) after each finished stage. A new run folder that fails
    before any stage finished is removed, so no half-written folder is left behind.
    """
    check_run_dir(out)
    created = not os.path.exists(out)
    marker = {
        "tool": "ecg-energy",
        "version": __version__,
        "config": asdict(cfg),
        "machine": machine_facts(),
    }
    seconds: dict[str, float] = {}
    stages_run: list[str] = []
    missing = tuple(s for s in STAGES if s not in AVAILABLE_STAGES)

    def finished(stage: str, elapsed_s: float) -> None:
        stages_run.append(stage)
        seconds[stage] = round(elapsed_s, 3)
        atomic_write_json(
            os.path.join(out, RUN_MARKER),
            {**marker, "stages": {s: "done" for s in stages_run}, "seconds": seconds,
             "not_available": list(missing)},
        )  # fmt: skip

    cache = os.path.join(out, "data")
    try:
        os.makedirs(out, exist_ok=True)
        synth_sources = [parse_source(s) for s in cfg.data if parse_source(s).kind == "synth"]
        if synth_sources:
            t0 = time.perf_counter()
            for src in synth_sources:
                syn = replace(cfg.synth, seed=src.seed)
                _, made = ensure_synth(syn, synth_folder(cache, syn),
                                       lambda d, t: echo(f"  synth: record {d}/{t}"))  # fmt: skip
                if not made:
                    echo(f"  synth: reusing {synth_folder(cache, syn)}")
            finished("synth", time.perf_counter() - t0)
        t0 = time.perf_counter()
        ds, warnings = load_data(cfg, cache)
        split = split_by_record(ds, cfg.split_fractions, cfg.split_seed)
        summary = {**summarize(ds, split), "warnings": warnings}
        atomic_write_json(os.path.join(out, "dataset.json"), summary)
        finished("data", time.perf_counter() - t0)

        from .models.assess import evaluate_files
        from .models.variants import build_variants

        t0 = time.perf_counter()
        train, val = ds.subset(split.train), ds.subset(split.val)
        variants = build_variants(train.X, train.y, val.X, val.y, ds.class_names, ds.task,
                                  data_key(ds, split), cfg.models, os.path.join(out, "models"), echo)  # fmt: skip
        total = time.perf_counter() - t0
        spent = {v.name: 0.0 if v.reused else v.train_seconds for v in variants}
        trained = spent["original"] + spent["student-plain"]
        finished("train", trained)
        finished("distil", spent["distilled"])
        finished("quantize", max(0.0, total - trained - spent["distilled"]))
        atomic_write_json(os.path.join(out, "models", "variants.json"),
                          [v.as_dict() for v in variants])  # fmt: skip

        t0 = time.perf_counter()
        paths = [v.path for v in variants] + list(cfg.user_models)
        counted = count_variants(paths, cfg.unsafe_load)
        atomic_write_json(os.path.join(out, "counts.json"),
                          {name: c.as_dict() for name, c in counted.items()})  # fmt: skip
        finished("count", time.perf_counter() - t0)

        t0 = time.perf_counter()
        energy = estimate_variants(counted, cfg.tables, cfg.buffer_bytes)
        atomic_write_json(os.path.join(out, "estimates.json"), energy)
        finished("estimate", time.perf_counter() - t0)

        t0 = time.perf_counter()
        test = ds.subset(split.test)
        measurements = measure_stage(cfg, paths, test, out, echo)
        finished("measure", time.perf_counter() - t0)

        t0 = time.perf_counter()
        evaluation = evaluate_files(paths, test, unsafe=cfg.unsafe_load, echo=echo)
        atomic_write_json(os.path.join(out, "evaluation.json"),
                          {"split": "test", "records": list(split.records["test"]),
                           "variants": evaluation})  # fmt: skip
        finished("evaluate", time.perf_counter() - t0)
    except BaseException:
        if created and not stages_run:
            shutil.rmtree(out, ignore_errors=True)
        raise
    return RunOutcome(out, tuple(stages_run), missing, summary, evaluation, energy, measurements,
                      tuple(warnings), seconds)  # fmt: skip
