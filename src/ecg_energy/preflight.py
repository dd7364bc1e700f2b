"""The run's checks before any work: sources, model files, energy tables, boards and the meter's
name, so a typo fails in a second with one line instead of after minutes of training."""

from __future__ import annotations

import os

from .config import RunConfig
from .data.sources import parse_source
from .errors import ConfigError, DataError, ModelError


def preflight(cfg: RunConfig) -> None:
    """Check what can be checked at once; the first problem is one line (``EcgEnergyError``)."""
    from .data.wfdb_read import list_records
    from .energy.meters import AUTO_ORDER
    from .energy.tables import load_table
    from .models.io import model_format

    for text in cfg.data:
        src = parse_source(text)
        if src.kind == "wfdb":
            list_records(src.paths[0])
        for path in src.paths if src.kind == "kaggle" else ():
            if not os.path.isfile(path):
                raise DataError(f"{path}: file not found; give kaggle:FILE.csv an existing CSV")
    for folder in (cfg.alarms, cfg.hard_negatives):
        if folder:
            from .data.alarms import read_alarms

            read_alarms(folder)
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
            raise ModelError(
                f"{path}: {flag} takes a Keras model (.keras or .h5): the students "
                "learn from its outputs while training and its LiteRT versions are "
                "converted from it; evaluate other formats with --model"
            )
    for table in cfg.tables:
        load_table(table)
    if cfg.device.names:
        from .devices.profile import load_profiles

        load_profiles(cfg.device.names)
    if cfg.meter not in ("auto", *AUTO_ORDER):
        raise ConfigError(f"unknown meter {cfg.meter!r}; choose auto, {', '.join(AUTO_ORDER)}")
