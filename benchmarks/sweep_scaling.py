"""Benchmark: the same small sweep on 1 and 2 workers of a local Ray, and on a two-node Ray
cluster started on this machine; trials per hour and scaling efficiency.

The data and the shared teacher are prepared once; each configuration then runs the same trials
(a 2 x 2 x 2 grid of width, depth and distillation, fixed epochs, one CPU per trial) into its own
folder, so no trial is reused between them. Timed: Tune's run of the trials alone (Ray's start
is reported apart). The cluster is two ``ray start`` processes, each in its own process group: a
head (``--head --port P --node-ip-address 127.0.0.1``, one CPU) and a second node
(``--address 127.0.0.1:P``, one CPU and its own ``--resources``); both are stopped in a
``finally`` by killing those process groups, not with ``ray stop``, which would end every Ray
process of the machine, other people's included.

Scaling efficiency = (trials per hour with N workers) / (N x trials per hour with 1 worker).

    .venv/bin/python benchmarks/sweep_scaling.py [--out benchmarks/results/sweep_scaling.json]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from ecg_energy.fsio import atomic_write_json
from ecg_energy.sweep.run import start_ray, tune_run
from ecg_energy.sweep.shared import prepare
from ecg_energy.sweep.space import parse_sweep

SWEEP = {
    "search": "grid", "budget": 8, "devices": ["stm32u575"], "rank": "device:stm32u575",
    "cpus_per_trial": 1,
    "data": {"records": 12, "minutes": 1.0},
    "train": {"teacher_epochs": 6, "epochs": 4, "patience": 10},  # every trial runs 4 epochs
    "space": {"width": [0.5, 1.0], "depth": [2, 3], "distill": [True, False]},
}  # fmt: skip
RAY = os.path.join(os.path.dirname(sys.executable), "ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_node(args: list[str], temp_dir: str) -> subprocess.Popen:
    """One ``ray start --block`` in its own process group (stopped by killing that group). Ray
    2.60 turns ``--node-ip-address 127.0.0.1`` into the machine's address when multi-node
    clusters are on, and a second node needs them on: these nodes bind to every interface."""
    cmd = [RAY, "start", "--block", "--disable-usage-stats", *args]
    if "--head" in args:
        cmd += ["--temp-dir", temp_dir]
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1", "RAY_USAGE_STATS_ENABLED": "0"}
    return subprocess.Popen(cmd, start_new_session=True, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip


def stop_nodes(procs: list[subprocess.Popen]) -> None:
    """SIGTERM to every node's process group, then SIGKILL to what is left after 15 s."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
        deadline = time.monotonic() + wait
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        if all(p.poll() is not None for p in procs):
            break
    for proc in procs:  # every process of the group, not only its leader
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def wait_for_cpus(address: str, cpus: int, timeout_s: float = 90) -> None:
    import ray

    from ecg_energy.sweep.run import loopback_only

    loopback_only(False)
    ray.init(address=address, log_to_driver=False)
    try:
        deadline = time.monotonic() + timeout_s
        while ray.cluster_resources().get("CPU", 0) < cpus:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cluster at {address} did not reach {cpus} CPUs")
            time.sleep(1)
    finally:
        ray.shutdown()


def timed(cfg, ctx, root: str, name: str, address: str | None, cpus: int | None) -> dict:
    """One configuration: Ray started (or joined), the trials run, Ray shut down."""
    import ray

    trials = os.path.join(root, name, "trials")
    c = dataclasses.replace(ctx, trials_dir=trials)
    t0 = time.perf_counter()
    start_ray(address, cpus)
    try:
        nodes = len([n for n in ray.nodes() if n.get("Alive")])
        t1 = time.perf_counter()
        rows, _ = tune_run(cfg, c, os.path.join(root, name, "ray"), name, print)
        t2 = time.perf_counter()
    finally:
        ray.shutdown()
    ok = [r for r in rows if r.get("status") == "ok"]
    per_trial = sorted(r["seconds"] for r in ok)
    return {"name": name, "address": address or "local", "nodes": nodes,
            "workers": cfg.workers, "trials": len(rows), "finished": len(ok),
            "ray_start_seconds": round(t1 - t0, 2), "sweep_seconds": round(t2 - t1, 2),
            "trials_per_hour": round(len(ok) / (t2 - t1) * 3600, 1),
            "trial_seconds_median": per_trial[len(per_trial) // 2] if per_trial else None,
            "nodes_used": sorted({r.get("node") for r in ok})}  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join("benchmarks", "results", "sweep_scaling.json"))
    args = ap.parse_args(argv)
    root = tempfile.mkdtemp(prefix="sweep-scaling-")
    cfg = parse_sweep(SWEEP, "benchmarks/sweep_scaling.py")
    ctx, facts = prepare(cfg, root, 1, print)
    runs = []
    procs: list[subprocess.Popen] = []
    try:
        for workers in (1, 2):
            c = dataclasses.replace(cfg, workers=workers)
            runs.append(timed(c, ctx, root, f"local-{workers}-worker", None, 2))
            print(runs[-1])
        port = free_port()
        address = f"127.0.0.1:{port}"
        temp_dir = os.path.join(root, "ray-cluster")
        procs.append(start_node(["--head", "--port", str(port), "--node-ip-address",
                                 "127.0.0.1", "--num-cpus", "1", "--include-dashboard=false",
                                 "--resources", '{"head": 1}'], temp_dir))  # fmt: skip
        time.sleep(5)
        procs.append(start_node(["--address", address, "--node-ip-address", "127.0.0.1",
                                 "--num-cpus", "1", "--resources", '{"second": 1}'], temp_dir))  # fmt: skip
        wait_for_cpus(address, 2)
        c = dataclasses.replace(cfg, workers=2)
        runs.append(timed(c, ctx, root, "cluster-2-nodes", address, None))
        print(runs[-1])
    finally:
        stop_nodes(procs)
        shutil.rmtree(root, ignore_errors=True)
    base = runs[0]["trials_per_hour"]
    for r in runs:
        r["speedup"] = round(r["trials_per_hour"] / base, 3)
        r["efficiency"] = round(r["trials_per_hour"] / (r["workers"] * base), 3)
    atomic_write_json(args.out, {
        "benchmark": "sweep_scaling", "sweep": SWEEP, "data": facts["windows"],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "runs": runs,
    })  # fmt: skip
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
