"""Each fuzzed reader: its seed (a valid input), how an input is installed in the sandbox, and the
call that reads it. ``READERS[name] = (seed, install, run, text)``."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).parent.parent / "devices" / "fixtures"

SWEEP_SEED = b"""\
search = "grid"
budget = 4
workers = 1
devices = ["stm32u575"]
rank = "device:stm32u575"

[data]
records = 6
minutes = 0.5

[train]
teacher_epochs = 2
epochs = 2

[space]
width = [0.5, 1.0]
depth = { low = 2, high = 3, step = 1 }
"""

TRACE_SEED = b"""time_s,power_w,mark
0.000,0.010,
0.001,0.050,start
0.002,0.052,
0.003,0.051,stop
0.004,0.010,
0.005,0.049,start
0.006,0.050,stop
"""


@functools.cache
def wfdb_seed() -> dict[str, bytes]:
    """A 24-s record (250 Hz, one lead) with rhythm labels: its .hea, .dat, .atr and RECORDS."""
    import tempfile

    from tests.conftest import write_record

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        sig = np.sin(np.arange(250 * 24) / 250 * 2 * np.pi * 1.2) + rng.normal(0, 0.05, 250 * 24)
        write_record(Path(tmp), "r1", sig, 250, [(0, "+", "(N"), (2500, "+", "(VF"),
                                                 (4000, "+", "(N")], ["MLII"])  # fmt: skip
        files = {f: (Path(tmp) / f).read_bytes() for f in ("r1.hea", "r1.dat", "r1.atr")}
    files["RECORDS"] = b"r1\n"
    return files


def _wfdb(part: str):
    def install(sandbox: Path, data: bytes):
        db = sandbox / "db"
        db.mkdir()
        for name, content in wfdb_seed().items():
            (db / name).write_bytes(data if name == part else content)
        return (str(db),)

    return install


def _read_wfdb(folder: str):
    from ecg_energy.data.wfdb_source import load_wfdb

    load_wfdb(folder)


def _file(name: str):
    def install(sandbox: Path, data: bytes):
        path = sandbox / name
        path.write_bytes(data)
        return (str(path),)

    return install


def _kaggle(path: str):
    from ecg_energy.data.kaggle_csv import load_kaggle_csv

    load_kaggle_csv(path)


def _config(path: str):
    from ecg_energy.config import load_config

    load_config(path)


def _profile(path: str):
    from ecg_energy.devices.profile import load_profile

    load_profile(path)


def _sweep(path: str):
    from ecg_energy.sweep.space import check_sweep, load_sweep, planned_points

    cfg = load_sweep(path)
    check_sweep(cfg)
    planned_points(cfg)


def _measurement(path: str):
    from ecg_energy.devices.imports import read_measurement

    read_measurement(path)


def _model(path: str):
    from ecg_energy.models.io import load_model_file
    from ecg_energy.ops.files import count_file

    load_model_file(path)
    count_file(path)


def _kaggle_seed() -> bytes:
    rows = [",".join([f"{0.1 * (i % 7):g}"] * 187 + [f"{i % 5:.1f}"]) for i in range(4)]
    return ("\n".join(rows) + "\n").encode()


def _config_seed() -> bytes:
    from ecg_energy.config import RunConfig, to_toml

    return to_toml(RunConfig()).encode()


def _profile_seed() -> bytes:
    from ecg_energy.devices.profile import builtin_text

    return builtin_text("stm32u575").encode()


READERS = {
    "wfdb-header": (lambda: wfdb_seed()["r1.hea"], _wfdb("r1.hea"), _read_wfdb, True),
    "wfdb-annotations": (lambda: wfdb_seed()["r1.atr"], _wfdb("r1.atr"), _read_wfdb, False),
    "wfdb-records": (lambda: wfdb_seed()["RECORDS"], _wfdb("RECORDS"), _read_wfdb, True),
    "kaggle-csv": (_kaggle_seed, _file("mitbih_train.csv"), _kaggle, True),
    "run-config": (_config_seed, _file("run.toml"), _config, True),
    "device-profile": (_profile_seed, _file("board.toml"), _profile, True),
    "sweep-space": (lambda: SWEEP_SEED, _file("sweep.toml"), _sweep, True),
    "energyrunner-log": (
        lambda: (FIXTURES / "energyrunner_v0.5_L4R5ZI_ad.txt").read_bytes(),
        _file("results.txt"),
        _measurement,
        True,
    ),  # fmt: skip
    "power-trace": (lambda: TRACE_SEED, _file("trace.csv"), _measurement, True),
}


def model_reader(ext: str, seed_bytes) -> tuple:
    return (seed_bytes, _file(f"model.{ext}"), _model, False)


def reader_of(name: str) -> tuple:
    if name in READERS:
        return READERS[name]
    from .models import MODEL_READERS

    return MODEL_READERS[name]


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
