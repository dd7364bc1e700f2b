"""A sweep folder is resumed with Ray Tune's restore (which unpickles ``<out>/ray``) only if this
user created it: anything else is one line, before Ray starts and before any pickle is read."""

from __future__ import annotations

import json
import os
import pickle

import pytest

pytest.importorskip("ray")

from ecg_energy.sweep import owner  # noqa: E402
from tests.sweep.test_sweep_ray import TINY, _cli  # noqa: E402


class _Planted:
    """A pickle that, if ever loaded, leaves a file behind (what a hostile folder would do)."""

    def __init__(self, sentinel: str):
        self.sentinel = sentinel

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


@pytest.fixture()
def hostile(tmp_path, monkeypatch):
    """A sweep folder from somewhere else: a sweep-run.json, a Tune experiment whose pickle
    would write ``ran.txt`` if loaded; this user's key in a private config folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    cfg = tmp_path / "s.toml"
    cfg.write_text(TINY)
    out = tmp_path / "out"
    exp = out / "ray" / "sweep-x"
    exp.mkdir(parents=True)
    sentinel = tmp_path / "ran.txt"
    (exp / "tuner.pkl").write_bytes(pickle.dumps(_Planted(str(sentinel))))
    (out / "sweep-run.json").write_text(json.dumps({"tool": "ecg-energy", "kind": "sweep",
                                                    "sessions": []}))  # fmt: skip
    return cfg, out, sentinel


def _refused(cfg, out, sentinel, words):
    import ray

    rc, _, err = _cli(["sweep", "--config", str(cfg), "--out", str(out)])
    assert rc == 2 and err.count("\n") == 1, err
    assert err.startswith("error: ") and words in err
    assert not sentinel.exists() and not ray.is_initialized()
    return err.strip()


def test_a_folder_without_our_marker_is_refused(hostile):
    cfg, out, sentinel = hostile
    err = _refused(cfg, out, sentinel, "not a sweep folder this user created here")
    assert err == (f"error: {out}: not a sweep folder this user created here (no valid "
                   "sweep-owner.json); resuming it would run code from its Ray Tune files "
                   f"(pickles), so it is refused; choose a new --out; if you made {out} yourself "
                   f"with an earlier version, delete {out}/ray (its trials run again; finished "
                   "trials' results are kept)")  # fmt: skip


def test_a_marker_signed_by_another_key_is_refused(hostile, tmp_path, monkeypatch):
    cfg, out, sentinel = hostile
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "someone-else"))
    owner.mark(str(out))  # made by another user (another key)
    assert owner.is_marked(str(out))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert not owner.is_marked(str(out))
    _refused(cfg, out, sentinel, "(no valid sweep-owner.json)")


def test_our_own_folder_with_a_file_others_may_write_is_refused(hostile):
    cfg, out, sentinel = hostile
    owner.mark(str(out))
    key = owner.key_path()
    assert oct(os.stat(key).st_mode & 0o777) == "0o600" and os.path.getsize(key) == 32
    assert owner.check_owned(str(out)) is None  # ours, and only we may write it
    pkl = out / "ray" / "sweep-x" / "tuner.pkl"
    os.chmod(pkl, 0o666)
    err = _refused(cfg, out, sentinel, f"{pkl}: writable by every user;")
    assert "so it is refused" in err
    os.chmod(pkl, 0o644)
    os.symlink("/etc/hostname", out / "ray" / "sweep-x" / "link")
    _refused(cfg, out, sentinel, "link: a symbolic link;")


def test_a_folder_tune_wrote_for_us_passes_and_restores(tmp_path, monkeypatch):
    """What Ray Tune writes under <out>/ray (modes, owners) passes the check, and the same
    experiment is then restored rather than run anew."""
    import ray
    import ray.cloudpickle

    from ecg_energy.sweep.run import start_ray, tune_run
    from ecg_energy.sweep.space import parse_sweep

    from . import fakes

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    out = tmp_path / "out"
    out.mkdir()
    owner.mark(str(out))
    grid = parse_sweep({"devices": ["stm32u575"], "rank": "device:stm32u575",
                        "space": {"width": [0.5], "depth": [2]}})  # fmt: skip
    assert start_ray(None, cpus=1)
    try:
        ray.cloudpickle.register_pickle_by_value(fakes)
        storage = str(out / "ray")
        rows, facts = tune_run(grid, None, storage, "grid", lambda m: None, fakes.fake_trainable)
        assert [r["status"] for r in rows] == ["ok"] and not facts["restored"]
        assert owner.check_owned(str(out)) is None
        rows, facts = tune_run(grid, None, storage, "grid", lambda m: None, fakes.fake_trainable)
        assert [r["status"] for r in rows] == ["ok"] and facts["restored"]
    finally:
        ray.shutdown()
