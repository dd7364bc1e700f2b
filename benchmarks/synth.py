"""Benchmark: generating and reading the default synthetic database.

Writes JSON (default benchmarks/results/synth.json): generation seconds with all cores and with one,
reading seconds, windows per class and per split. Target: generation < 30 s on 2 cores.

    .venv/bin/python benchmarks/synth.py [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from ecg_energy.data.dataset import split_by_record
from ecg_energy.data.summary import summarize
from ecg_energy.data.synth import SynthConfig, generate
from ecg_energy.data.wfdb_source import ReadOptions, load_wfdb
from ecg_energy.energy.load import machine_facts
from ecg_energy.fsio import atomic_write_json


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--out", default=os.path.join(os.path.dirname(__file__), "results", "synth.json")
    )
    args = ap.parse_args()
    cfg = SynthConfig()
    result: dict = {"config": cfg.__dict__, "machine": machine_facts(), "target_generation_s": 30}
    with tempfile.TemporaryDirectory() as tmp:
        for label, workers in (("all_cores", None), ("one_core", 1)):
            folder = os.path.join(tmp, label)
            os.makedirs(folder)
            t0 = time.perf_counter()
            generate(cfg, folder, workers=workers)
            result[f"generation_s_{label}"] = round(time.perf_counter() - t0, 2)
        for task in ("rhythm", "beats"):
            t0 = time.perf_counter()
            ds, _ = load_wfdb(os.path.join(tmp, "all_cores"), ReadOptions(task=task))
            seconds = time.perf_counter() - t0
            summary = summarize(ds, split_by_record(ds))
            summary.pop("provenance")
            result[task] = {"read_s": round(seconds, 2), **summary}
    atomic_write_json(args.out, result)
    print(f"generation {result['generation_s_all_cores']} s (all cores), "
          f"{result['generation_s_one_core']} s (one core); wrote {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
