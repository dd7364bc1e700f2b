"""A local sweep stays on the machine: every socket of Ray's processes (this process and all it
starts) is on loopback, and shutting Ray down ends every process it started."""

from __future__ import annotations

import ipaddress
import threading

import pytest

pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")


def _sockets(root: psutil.Process) -> dict[int, list]:
    """Every inet socket of ``root`` and its descendants, by pid."""
    found = {}
    for proc in [root, *root.children(recursive=True)]:
        try:
            found[proc.pid] = proc.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _loopback(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(addr, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1
    return (mapped or addr).is_loopback


def _off_loopback(conns: dict[int, list]) -> list[str]:
    bad = []
    for pid, cs in conns.items():
        for c in cs:
            for end in (c.laddr, c.raddr):
                if end and not _loopback(end.ip):
                    bad.append(f"pid {pid}: {end.ip}:{end.port} ({c.status})")
    return bad


def test_a_local_sweep_opens_no_socket_outside_loopback_and_leaves_no_process(tmp_path):
    import ray
    import ray.cloudpickle

    from ecg_energy.sweep.run import start_ray, tune_run
    from ecg_energy.sweep.space import parse_sweep

    from . import fakes

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    seen: dict[str, int] = {"samples": 0, "sockets": 0}
    bad: list[str] = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            conns = _sockets(me)
            seen["samples"] += 1
            seen["sockets"] += sum(len(c) for c in conns.values())
            bad.extend(_off_loopback(conns))
            stop.wait(0.2)

    assert start_ray(None, cpus=1)
    sampler = threading.Thread(target=sample, daemon=True)
    try:
        ray_pids = {p.pid for p in me.children(recursive=True)} - before
        sampler.start()
        ray.cloudpickle.register_pickle_by_value(fakes)
        grid = parse_sweep({"devices": ["stm32u575"], "rank": "device:stm32u575",
                            "space": {"width": [0.5, 1.0], "depth": [2]}})  # fmt: skip
        rows, _ = tune_run(grid, None, str(tmp_path), "grid", lambda m: None,
                           fakes.fake_trainable)  # fmt: skip
        assert sorted((r["width"], r["status"]) for r in rows) == [(0.5, "ok"), (1.0, "ok")]
        ray_pids |= {p.pid for p in me.children(recursive=True)} - before
    finally:
        stop.set()
        sampler.join(timeout=10)
        ray.shutdown()
    assert seen["samples"] >= 1 and seen["sockets"] > 0  # Ray's own sockets were seen
    assert sorted(set(bad))[:5] == []
    # everything Ray started has ended (zombies reaped or gone), within a bound
    gone, alive = psutil.wait_procs([psutil.Process(p) for p in ray_pids if psutil.pid_exists(p)],
                                    timeout=30)  # fmt: skip
    assert alive == []
