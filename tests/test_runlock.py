"""One writer per run folder: a second run is refused naming the holder; a killed holder's lock and
half-written temporary files never block or linger."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ecg_energy.cli import main
from ecg_energy.runlock import LOCK_FILE, holder, run_lock

HOLD = """
import sys, time
from ecg_energy.runlock import run_lock
with run_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(folder, seconds):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), str(seconds)], env=env,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_run_in_the_same_folder_is_refused_naming_the_process(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    proc = _holder(out, 60)
    try:
        rc = main(["run", "--out", str(out), "--records", "4", "--minutes", "0.5"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and err == [f"error: {out}: process {proc.pid} is running in this folder; "
                                   "wait for it to finish (or stop it), or choose another --out"]  # fmt: skip
        assert sorted(os.listdir(out)) == [LOCK_FILE]  # nothing of the second run's
        assert holder(str(out)) == proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_a_killed_runs_lock_does_not_block_and_its_leftovers_go(tmp_path):
    out = tmp_path / "run"
    (out / "models").mkdir(parents=True)
    proc = _holder(out, 60)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert holder(str(out)) == proc.pid  # the dead run's pid is still in the file
    # what a killed writer leaves: fsio's temporary file, a model's, a half-made folder
    (out / ".tmp-abc123").write_text('{"half": ')
    (out / "models" / ".tmp-original.keras").write_bytes(b"PK\x03")
    (out / ".synth-seed0.tmp-x1y2").mkdir()
    (out / "counts.json").write_text("{}")
    with run_lock(str(out)) as removed:
        assert holder(str(out)) == os.getpid()
        assert removed == [".synth-seed0.tmp-x1y2", ".tmp-abc123", "models/.tmp-original.keras"]
    assert sorted(os.listdir(out)) == ["counts.json", "models"]  # the lock file goes with the lock
    assert os.listdir(out / "models") == []


def test_the_lock_is_one_holder_at_a_time_in_one_process(tmp_path):
    from ecg_energy.errors import OutputError

    held = run_lock(str(tmp_path))
    held.__enter__()
    with pytest.raises(OutputError, match=f"process {os.getpid()} is running"):
        run_lock(str(tmp_path)).__enter__()
    held.__exit__(None, None, None)
    with run_lock(str(tmp_path)):  # released: taken again
        pass
