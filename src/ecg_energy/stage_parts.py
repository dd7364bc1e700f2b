"""The pieces the run's stages are made of: checking the run folder and the inputs, loading the
data, content digests, counting and estimating every variant, and the machine's facts. The order of
the stages and what is skipped live in ``pipeline``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform

import numpy as np

from . import __version__
from .config import RunConfig
from .data.dataset import Dataset, Split
from .data.sources import load_sources, parse_source
from .errors import ConfigError, OutputError
from .fsio import atomic_write_json
from .ledger import RUN_MARKER

STAGES: tuple[str, ...] = ("synth", "data", "crossval", "train", "distil", "quantize", "count", "estimate",
                           "measure", "evaluate", "device", "report")  # fmt: skip


def check_run_dir(out: str) -> None:
    """Refuse a non-empty folder that is not one of our run folders (never clobber user files)."""
    if not os.path.exists(out):
        return
    if not os.path.isdir(out):
        raise OutputError(f"{out}: exists and is not a folder; choose another --out")
    if not os.listdir(out):
        return
    try:
        with open(os.path.join(out, RUN_MARKER)) as fh:
            if json.load(fh).get("tool") == "ecg-energy":
                return
    except (OSError, ValueError):
        pass
    raise OutputError(f"{out}: folder is not empty and is not an ecg-energy run folder; "
                      "choose a new --out")  # fmt: skip


def check_force(force) -> frozenset[str]:
    unknown = sorted(set(force) - set(STAGES))
    if unknown:
        raise ConfigError(f"--force {unknown[0]}: no such stage; stages are {', '.join(STAGES)}")
    return frozenset(force)


def preflight(cfg: RunConfig) -> None:
    """Check what can be checked at once (sources, model files, tables, meter name), so a typo
    fails in a second with one line instead of after minutes of training."""
    from .data.wfdb_read import list_records
    from .energy.meters import AUTO_ORDER
    from .energy.tables import load_table
    from .errors import DataError, ModelError
    from .models.io import model_format

    for text in cfg.data:
        src = parse_source(text)
        if src.kind == "wfdb":
            list_records(src.paths[0])
        for path in src.paths if src.kind == "kaggle" else ():
            if not os.path.isfile(path):
                raise DataError(f"{path}: file not found; give kaggle:FILE.csv an existing CSV")
    if cfg.alarms:
        from .data.alarms import read_alarms

        read_alarms(cfg.alarms)
    for path in cfg.user_models:
        if not os.path.isfile(path):
            raise ModelError(f"{path}: model file not found; check the path given to --model")
        model_format(path)
    for flag, path in (("--original", cfg.models.original), ("--student", cfg.models.student)):
        if path is None:
            continue
        if not os.path.isfile(path):
            raise ModelError(f"{path}: file not found; check the path given to {flag}")
        if model_format(path) != "keras":
            raise ModelError(f"{path}: {flag} takes a Keras model (.keras or .h5): the students "
                             "learn from its outputs while training and its LiteRT versions are "
                             "converted from it; evaluate other formats with --model")  # fmt: skip
    for table in cfg.tables:
        load_table(table)
    if cfg.device.names:
        from .devices.profile import load_profiles

        load_profiles(cfg.device.names)
    if cfg.meter not in ("auto", *AUTO_ORDER):
        raise ConfigError(f"unknown meter {cfg.meter!r}; choose auto, {', '.join(AUTO_ORDER)}")


def load_data(cfg: RunConfig, cache_dir: str, progress=None) -> tuple[Dataset, list[str]]:
    """All configured sources as one Dataset (records prefixed by source when there are several)."""
    return load_sources(list(cfg.data), cfg.read, cache_dir, cfg.synth, progress)


def data_key(ds: Dataset, split) -> str:
    """What a trained model depends on in the data: source, options, classes, split records."""
    return json.dumps([ds.provenance, ds.class_counts(), split.records, split.method],
                      sort_keys=True, default=str)  # fmt: skip


def dataset_digest(ds: Dataset, split: Split) -> str:
    """Content digest of the examples, labels, records and split."""
    h = hashlib.sha256()
    for arr in (ds.X, ds.y, ds.groups.astype(str), ds.rhythm.astype(str)):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(data_key(ds, split).encode())
    return h.hexdigest()[:20]


def source_fingerprint(text: str) -> list:
    """What a user's data source is made of (file names, sizes and times): a changed file is new
    data. The synthetic database is fingerprinted by its configuration instead."""
    src = parse_source(text)
    if src.kind == "synth":
        return [text]
    out: list = [text]
    for path in src.paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                st = os.stat(os.path.join(path, name))
                out.append([name, st.st_size, st.st_mtime_ns])
        elif os.path.exists(path):
            st = os.stat(path)
            out.append([path, st.st_size, st.st_mtime_ns])
    return out


def count_variants(paths: list[str], unsafe: bool = False) -> dict:
    """{variant name: FileCounts} (names from the models' sidecars, else file stems)."""
    from .ops.files import count_file

    return {name: count_file(path, unsafe) for name, path in variant_names(paths).items()}


def variant_names(paths: list[str]) -> dict[str, str]:
    """{variant name: path}: a model's name is its sidecar's ``variant``, else the file's stem."""
    from .models.io import read_sidecar

    out: dict[str, str] = {}
    for path in paths:
        name = read_sidecar(path).get("variant") or os.path.splitext(os.path.basename(path))[0]
        out[name if name not in out else path] = path
    return out


def estimate_variants(counted: dict, tables: tuple[str, ...], buffer_bytes: int) -> dict:
    """{variant: {"counts": totals, "estimates": {table: estimate with its per-layer energies}}};
    the flat table prices the profiler's FLOPs where there are some (the report's convention),
    else 2 × MACs."""
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


def machine_facts() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def mark_run_dir(out: str, extra: dict) -> None:
    """Make ``out`` recognisably one of our run folders (keeping an existing marker)."""
    path = os.path.join(out, RUN_MARKER)
    if not os.path.isfile(path):
        atomic_write_json(path, {"tool": "ecg-energy", "version": __version__, **extra})
