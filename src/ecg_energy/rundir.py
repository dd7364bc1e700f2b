"""The run folder: the stages a run is made of, what marks a folder as one of ours, and the refusal
to write into any other (never clobber a user's files). The order of the stages and what is
skipped live in ``pipeline``; the record of each stage in ``ledger``.
"""

from __future__ import annotations

import json
import os

from ._version import __version__
from .errors import ConfigError, OutputError
from .fsio import atomic_write_json
from .ledger import RUN_MARKER
from .runlock import LOCK_FILE

STAGES: tuple[str, ...] = (
    "synth",
    "data",
    "crossval",
    "train",
    "distil",
    "quantize",
    "count",
    "estimate",
    "measure",
    "evaluate",
    "device",
    "report",
)


def check_run_dir(out: str) -> None:
    """Refuse a non-empty folder that is not one of our run folders (never clobber user files)."""
    if not os.path.exists(out):
        return
    if not os.path.isdir(out):
        raise OutputError(f"{out}: exists and is not a folder; choose another --out")
    if not [n for n in os.listdir(out) if n != LOCK_FILE]:
        return
    try:
        with open(os.path.join(out, RUN_MARKER)) as fh:
            if json.load(fh).get("tool") == "ecg-energy":
                return
    except (OSError, ValueError):
        pass
    raise OutputError(
        f"{out}: folder is not empty and is not an ecg-energy run folder; choose a new --out"
    )


def check_force(force) -> frozenset[str]:
    unknown = sorted(set(force) - set(STAGES))
    if unknown:
        raise ConfigError(f"--force {unknown[0]}: no such stage; stages are {', '.join(STAGES)}")
    return frozenset(force)


def mark_run_dir(out: str, extra: dict) -> None:
    """Make ``out`` recognisably one of our run folders (keeping an existing marker)."""
    path = os.path.join(out, RUN_MARKER)
    if not os.path.isfile(path):
        atomic_write_json(path, {"tool": "ecg-energy", "version": __version__, **extra})
