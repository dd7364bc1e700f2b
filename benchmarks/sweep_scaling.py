"""Benchmark: the same small sweep on 1 and 2 workers of a local Ray; trials per hour and scaling
efficiency.

The data and the shared teacher are prepared once; each configuration then runs the same trials
(a 2 x 2 x 2 grid of width, depth and distillation, fixed epochs, one CPU per trial) into its own
folder, so no trial is reused between them. Timed: Tune's run of the trials alone (Ray's start
is reported apart). The local Ray binds to loopback only (``sweep.run.start_ray``), and is shut
down after each configuration.

There is no multi-node part: Ray 2.60 binds every interface of the machine as soon as a second
node joins (it turns ``--node-ip-address 127.0.0.1`` into the machine's own address), and nothing
this project runs listens outside loopback. A cluster is measured on real nodes with
``ecg-energy sweep --address``.

Scaling efficiency = (trials per hour with N workers) / (N x trials per hour with 1 worker).

    .venv/bin/python benchmarks/sweep_scaling.py [--out benchmarks/results/sweep_scaling.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
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
    try:
        for workers in (1, 2):
            c = dataclasses.replace(cfg, workers=workers)
            runs.append(timed(c, ctx, root, f"local-{workers}-worker", None, 2))
            print(runs[-1])
    finally:
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
