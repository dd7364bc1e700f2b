"""Sweeps on a local Ray: the orchestration with a stand-in trial (fast), a real four-trial
sweep killed midway and resumed, and the errors that must stop a sweep before it starts.

Ray binds to loopback only, and every test stops what it started (``ray.shutdown``; the killed
sweep's process group is killed whole)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")
pytest.importorskip("optuna")

from ecg_energy.sweep.space import parse_sweep  # noqa: E402

TINY = """\
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
patience = 2

[space]
width = [0.5, 1.0]
depth = [2, 3]
"""
# hand counts for a 1000-sample window, 5 classes, first conv 7 taps stride 5, depthwise 7 taps
# stride 2 (positions 200, 100, 50, 25), filters round(width x (8 | 12, 16, 24)):
HAND_MACS = {
    # conv 200·7·4; dw 100·7·4, 50·7·6; pw 100·4·6, 50·6·8; dense 8·5
    (0.5, 2): 5_600 + 2_800 + 2_100 + 2_400 + 2_400 + 40,  # 15,340
    # + dw 25·7·8, pw 25·8·12; dense 12·5 instead of 8·5
    (0.5, 3): 5_600 + 2_800 + 2_100 + 1_400 + 2_400 + 2_400 + 2_400 + 60,  # 19,160
    # conv 200·7·8; dw 100·7·8, 50·7·12; pw 100·8·12, 50·12·16; dense 16·5
    (1.0, 2): 11_200 + 5_600 + 4_200 + 9_600 + 9_600 + 80,  # 40,280
    (1.0, 3): 52_720,  # the default student
}


def _cli(argv: list[str]) -> tuple[int, str, str]:
    from ecg_energy.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture()
def local_ray():
    from ecg_energy.sweep.run import start_ray

    started = start_ray(None, cpus=2)
    try:
        yield
    finally:
        if started:
            import ray

            ray.shutdown()


def test_grid_and_optuna_with_a_failing_trial(tmp_path, local_ray):
    """A grid gives exactly its points; Optuna samples inside the space; a failing trial is
    recorded with its error and the others go on."""
    import ray
    import ray.cloudpickle

    from ecg_energy.sweep.run import tune_run

    from . import fakes

    ray.cloudpickle.register_pickle_by_value(fakes)
    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}  # loopback only
    grid = parse_sweep({"devices": ["stm32u575"], "rank": "device:stm32u575",
                        "space": {"width": [0.5, 2.0], "depth": [2, 3]}})  # fmt: skip
    rows, facts = tune_run(grid, None, str(tmp_path), "grid", lambda m: None, fakes.fake_trainable)
    got = sorted((r["width"], r["depth"], r["status"]) for r in rows)
    assert got == [(0.5, 2, "ok"), (0.5, 3, "ok"), (2.0, 2, "error"), (2.0, 3, "error")]
    assert all("too wide" in r["error"] for r in rows if r["status"] == "error")
    assert {r["macs"] for r in rows if r["status"] == "ok"} == {1000, 1500}
    assert facts["planned"] == 4 and not facts["restored"]
    # the front, point by point: (0.5, 2) costs 0.5 x 2 = 1 µJ at 0.92 balanced accuracy, (0.5, 3)
    # 1.5 µJ at 0.93; neither dominates the other, so both are on it, cheaper first; the two
    # trials of width 2.0 failed and are off it with their error
    from ecg_energy.sweep.pareto import excluded, front

    key = "energy_j[stm32u575]"
    by = {(r["width"], r["depth"]): r for r in rows}
    on = front(rows, key)
    assert on == [by[(0.5, 2)]["trial"], by[(0.5, 3)]["trial"]]
    assert [(by[(0.5, d)][key], by[(0.5, d)]["balanced_accuracy"]) for d in (2, 3)] == [
        pytest.approx((1.0e-6, 0.92)), pytest.approx((1.5e-6, 0.93))]  # fmt: skip
    off = excluded(rows, key)
    assert set(off) == {by[(2.0, 2)]["trial"], by[(2.0, 3)]["trial"]}
    assert all("too wide" in why for why in off.values())

    search = parse_sweep({"search": "optuna", "budget": 6, "devices": ["stm32u575"],
                          "rank": "device:stm32u575",
                          "space": {"width": {"low": 0.25, "high": 2.0}, "depth": [1, 2, 3]}})  # fmt: skip
    rows, _ = tune_run(search, None, str(tmp_path), "optuna", lambda m: None, fakes.fake_trainable)
    assert len(rows) == 6
    assert all(0.25 <= r["width"] <= 2.0 and r["depth"] in (1, 2, 3) for r in rows)
    for r in rows:
        if r["status"] == "ok":
            assert r["energy_j[stm32u575]"] == pytest.approx(r["width"] * r["depth"] * 1e-6)
        else:
            assert r["width"] > 1.9 and "too wide" in r["error"]


def test_unreachable_address_is_one_line_and_starts_nothing(tmp_path):
    import ray

    cfg = tmp_path / "s.toml"
    cfg.write_text(TINY)
    out = tmp_path / "out"
    rc, _, err = _cli(["sweep", "--config", str(cfg), "--out", str(out),
                       "--address", "127.0.0.1:1"])  # fmt: skip
    assert rc == 2
    assert err.strip().count("\n") == 0
    assert err.startswith("error: --address 127.0.0.1:1: no Ray cluster answers there")
    assert not out.exists() and not ray.is_initialized()


def test_bad_sweep_file_is_one_line(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text(TINY.replace('devices = ["stm32u575"]', 'devices = ["stm99"]'))
    rc, _, err = _cli(["sweep", "--config", str(cfg), "--out", str(tmp_path / "out")])
    assert rc == 2 and err.strip().count("\n") == 0
    assert "unknown device 'stm99'" in err and not (tmp_path / "out").exists()


def _results(out: Path) -> dict[str, Path]:
    return {p.parent.name: p for p in out.glob("trials/*/result-int8.json")}


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory):
    """The tiny four-trial sweep started in its own process group, killed (SIGKILL, every
    process of it) once two trials have finished, then run again to the end."""
    root = tmp_path_factory.mktemp("sweep")
    cfg, out = root / "tiny.toml", root / "out"
    cfg.write_text(TINY)
    argv = ["sweep", "--config", str(cfg), "--out", str(out)]
    code = "import sys; from ecg_energy.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, *argv], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 150
        while len(_results(out)) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    first = {name: (p.stat().st_mtime_ns, json.loads(p.read_text())) for name, p in
             _results(out).items()}  # fmt: skip
    assert 2 <= len(first) < 4, "the first run was not stopped midway"
    rc, stdout, stderr = _cli(argv)
    assert rc == 0, stderr
    assert "resuming the sweep in" in stderr  # Tune's restore, not a new experiment
    res = json.loads((out / "sweep.json").read_text())
    return out, first, res, stdout


def test_trial_table_is_the_grid_asked_for(killed_and_resumed):
    _, _, res, _ = killed_and_resumed
    rows = res["trials"]
    assert sorted((r["width"], r["depth"]) for r in rows) == sorted(HAND_MACS)
    assert all(r["status"] == "ok" for r in rows)
    for r in rows:
        assert r["macs"] == HAND_MACS[(r["width"], r["depth"])]
        assert (r["stride"], r["kernel"], r["quantize"], r["distill"]) == (5, 7, "int8", True)


def test_device_energy_is_the_boards_price_per_mac(killed_and_resumed):
    from ecg_energy.devices.profile import load_profile

    pj = load_profile("stm32u575").calibration["energy_pj_per_mac"]
    for r in killed_and_resumed[2]["trials"]:
        assert r["energy_j[stm32u575]"] == pytest.approx(pj * 1e-12 * r["macs"])


def test_resumed_sweep_ran_only_the_unfinished_trials(killed_and_resumed):
    out, first, res, _ = killed_and_resumed
    by_folder = {p.parent.name: p for p in out.glob("trials/*/result-int8.json")}
    assert len(by_folder) == 4
    for name, (mtime, row) in first.items():  # kept as they were: not trained again
        assert by_folder[name].stat().st_mtime_ns == mtime
        assert row["session"] == 1
    rows = {r["trial"]: r for r in res["trials"]}
    assert {rows[row["trial"]]["session"] for _, row in first.values()} == {1}
    later = [r for r in rows.values() if r["trial"] not in {row["trial"] for _, row in
                                                            first.values()}]  # fmt: skip
    assert len(later) == 4 - len(first) and {r["session"] for r in later} == {2}
    sessions = json.loads((out / "sweep-run.json").read_text())["sessions"]
    assert len(sessions) == 2 and sessions[1]["trials_run"] == 4 - len(first)


def test_outputs_and_pareto_models(killed_and_resumed):
    out, _, res, stdout = killed_and_resumed
    lines = (out / "sweep.csv").read_text().splitlines()
    assert len(lines) == 5 and lines[0].startswith("trial,status,width,depth,stride,kernel")
    # the front worked out here from the trial rows: finished, every AHA goal met, an energy
    # figure that fits the board, and no other such trial at most as costly and at least as
    # accurate (one strictly); every other trial is listed with why it is off
    key = "energy_j[stm32u575]"
    ok = [r for r in res["trials"] if r["status"] == "ok" and r["aha_pass"]
          and r.get(key) is not None and r.get("fits[stm32u575]") is not False]  # fmt: skip

    def dominated(r):
        return any(o is not r and o[key] <= r[key] and o["balanced_accuracy"] >= r["balanced_accuracy"]
                   and (o[key] < r[key] or o["balanced_accuracy"] > r["balanced_accuracy"])
                   for o in ok)  # fmt: skip

    by_hand = [r["trial"] for r in sorted(ok, key=lambda r: r[key]) if not dominated(r)]
    front = res["pareto"]["front"]
    assert front == by_hand
    assert set(res["pareto"]["excluded"]) == {r["trial"] for r in res["trials"]} - set(front)
    for f in res["pareto"]["files"]:
        assert (out / f["keras"]).is_file() and (out / f["tflite"]).is_file()
    assert "recommendation:" in stdout
    assert (out / "report.md").read_text().startswith("# Sweep:")
    html = (out / "report.html").read_text()
    assert "Content-Security-Policy" in html and "<table>" in html
