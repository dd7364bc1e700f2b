"""Data sources named the same way everywhere: ``synth[:SEED]``, ``wfdb:DIR``, ``kaggle:FILE.csv``.

``kaggle:TRAIN.csv,TEST.csv`` keeps the published train/test files as the split.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace

from ..errors import ConfigError, DataError
from ..fsio import atomic_dir
from .dataset import Dataset, concatenate
from .kaggle_csv import load_kaggle_csv
from .synth import SynthConfig, generate
from .wfdb_source import ReadLog, ReadOptions, load_wfdb

SOURCE_HELP = "synth[:SEED] (the embedded synthetic database), wfdb:DIR, kaggle:FILE.csv[,TEST.csv]"


@dataclass(frozen=True)
class Source:
    kind: str  # "synth", "wfdb" or "kaggle"
    text: str
    seed: int = 0
    paths: tuple[str, ...] = ()


def parse_source(text: str) -> Source:
    """Parse a source name; a bad one is a ConfigError that lists the accepted forms."""
    kind, _, arg = text.strip().partition(":")
    kind = kind.lower()
    if kind == "synth":
        if arg and not arg.lstrip("-").isdigit():
            raise ConfigError(f"source {text!r}: the synth seed must be an integer (e.g. synth:7)")
        return Source("synth", text, seed=int(arg) if arg else 0)
    if kind in ("wfdb", "kaggle"):
        if not arg:
            raise ConfigError(f"source {text!r}: name a {'folder' if kind == 'wfdb' else 'file'} "
                              f"after '{kind}:'")  # fmt: skip
        paths = tuple(os.path.expanduser(p) for p in arg.split(",")) if kind == "kaggle" else (
            os.path.expanduser(arg),)  # fmt: skip
        if kind == "kaggle" and len(paths) > 2:
            raise ConfigError(f"source {text!r}: kaggle takes one CSV, or a train and a test CSV")
        return Source(kind, text, paths=paths)
    raise ConfigError(f"unknown data source {text!r}; use {SOURCE_HELP}")


def synth_folder(cache_dir: str, cfg: SynthConfig) -> str:
    return os.path.join(
        cache_dir, f"synth-seed{cfg.seed}-{cfg.records}x{cfg.minutes:g}min-{cfg.fs_hz}hz"
    )


def ensure_synth(cfg: SynthConfig, folder: str, progress=None) -> tuple[str, bool]:
    """The synthetic database in ``folder``: reused when its ``synth.json`` matches ``cfg``, else
    generated atomically. Returns (folder, generated)."""
    marker = os.path.join(folder, "synth.json")
    if os.path.isfile(marker):
        try:
            with open(marker) as fh:
                if json.load(fh).get("config") == asdict(cfg):
                    return folder, False
        except (OSError, ValueError):
            pass
        raise DataError(f"{folder}: holds a different or damaged synthetic database; remove it")
    if os.path.exists(folder) and os.listdir(folder):
        raise DataError(f"{folder}: folder is not empty and is not a synthetic database")
    with atomic_dir(folder) as tmp:
        generate(cfg, tmp, progress=progress)
    return folder, True


def load_source(
    src: Source,
    opts: ReadOptions,
    cache_dir: str,
    synth: SynthConfig | None = None,
    progress=None,
) -> tuple[Dataset, ReadLog | None]:
    """Load a parsed source as a Dataset (generating the synthetic database when needed)."""
    if src.kind == "synth":
        cfg = replace(synth or SynthConfig(), seed=src.seed)
        folder, _ = ensure_synth(cfg, synth_folder(cache_dir, cfg), progress)
        ds, log = load_wfdb(folder, opts, source=src.text)
        return replace(ds, provenance={**ds.provenance, "synth": asdict(cfg)}), log
    if src.kind == "wfdb":
        return load_wfdb(src.paths[0], opts, source=src.text)
    if opts.task != "beats":
        raise ConfigError(f"{src.text}: Kaggle CSVs hold heartbeats; use --task beats")
    if len(src.paths) == 1:
        return load_kaggle_csv(src.paths[0], source=src.text), None
    train = load_kaggle_csv(src.paths[0], source=src.text, split="train")
    test = load_kaggle_csv(src.paths[1], source=src.text, split="test")
    both = concatenate([train, test])
    prov = {**train.provenance, "files": [train.provenance["file"], test.provenance["file"]],
            "split": "the files' own train/test split (by beat: patients leak between them)"}  # fmt: skip
    return replace(both, provenance=prov), None


def load_sources(
    texts: list[str],
    opts: ReadOptions,
    cache_dir: str,
    synth: SynthConfig | None = None,
    progress=None,
) -> tuple[Dataset, list[str]]:
    """Several sources as one Dataset, and the readers' warnings. With more than one source every
    record is named ``<source>/<record>`` (two databases' record 100 stay apart) and the
    provenance lists each source's."""
    import numpy as np

    parts, warnings = [], []
    for text in texts:
        ds, log = load_source(parse_source(text), opts, cache_dir, synth, progress)
        if log is not None:
            warnings += [f"{text}: {w}" for w in log.warnings()]
        if len(texts) > 1:
            ds = replace(ds, groups=np.array([f"{text}/{g}" for g in ds.groups]))
        parts.append(ds)
    ds = concatenate(parts)
    if len(parts) > 1:
        ds = replace(ds, provenance={"sources": [p.provenance for p in parts]})
    return ds, warnings
