"""Shared fixtures: a small synthetic database, hand-made WFDB records, the real mitdb excerpt."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHARED_MITDB = Path(__file__).resolve().parents[2] / "shared" / "data" / "mitdb"


@pytest.fixture(scope="session")
def synth_db(tmp_path_factory) -> Path:
    """12 records × 1.5 min: every rhythm is featured at least once (11 featured rhythms)."""
    from ecg_energy.data.synth import SynthConfig, generate

    out = tmp_path_factory.mktemp("synth")
    generate(SynthConfig(records=12, minutes=1.5, seed=3), str(out))
    return out


@pytest.fixture()
def mitdb_dir() -> Path:
    if not (SHARED_MITDB / "100s.hea").is_file():
        pytest.skip("the shared mitdb excerpt (../shared/data/mitdb) is not beside this checkout")
    return SHARED_MITDB


def write_record(
    folder: Path,
    name: str,
    signal_mv: np.ndarray,
    fs: float,
    ann: list[tuple[int, str, str]],
    sig_names: list[str] | None = None,
) -> None:
    """A WFDB record by hand: ``signal_mv`` (n,) or (n, leads), annotations (sample, symbol, aux)."""
    import wfdb

    sig = np.asarray(signal_mv, dtype=np.float64)
    if sig.ndim == 1:
        sig = sig[:, None]
    names = sig_names or [f"L{i}" for i in range(sig.shape[1])]
    d = np.round(sig * 1000).astype(np.int64)
    wfdb.wrsamp(name, fs=fs, units=["mV"] * sig.shape[1], sig_name=names, d_signal=d,
                fmt=["16"] * sig.shape[1], adc_gain=[1000.0] * sig.shape[1],
                baseline=[0] * sig.shape[1], write_dir=str(folder))  # fmt: skip
    if ann:
        ann = sorted(ann, key=lambda a: a[0])
        wfdb.wrann(name, "atr", sample=np.array([a[0] for a in ann]), symbol=[a[1] for a in ann],
                   aux_note=[a[2] for a in ann], write_dir=str(folder))  # fmt: skip


@pytest.fixture()
def make_record():
    return write_record


@pytest.fixture(autouse=True)
def _quiet_tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    yield


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One whole run on a tiny configuration (4 records × 0.5 min, 2 epochs). Tests that change a
    run work on a copy (``copy_run``). Its 0.1 s windows never count as too busy
    (``--max-other-share 1``): the tests that use it check the report against results.json, and a
    short burst of other work on the machine (seen in a full test session: 52% for a second)
    would leave a figure out; repeating busy windows is tested in ``energy/``."""
    import contextlib
    import io

    from ecg_energy.cli import main

    out = tmp_path_factory.mktemp("run") / "run"
    argv = ["run", "--out", str(out), "--records", "4", "--minutes", "0.5", "--epochs", "2",
            "--meter", "cputime", "--trials", "2", "--min-seconds", "0.1", "--idle-seconds", "0.1",
            "--batch", "1,4", "--seed-inferences", "20", "--max-other-share", "1"]  # fmt: skip
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        rc = main(argv)
    assert rc == 0, stderr.getvalue()
    return out, argv, stdout.getvalue(), stderr.getvalue()


@pytest.fixture()
def copy_run(tiny_run, tmp_path):
    """A private copy of the tiny run folder (its keys are relative, so it resumes as itself)."""
    import shutil

    out = tmp_path / "run"
    shutil.copytree(tiny_run[0], out)
    argv = list(tiny_run[1])
    argv[argv.index("--out") + 1] = str(out)
    return out, argv
