"""Benchmark: the whole default run (`ecg-energy run` on the embedded database) in a fresh folder,
then the same command again (the resume path, which should skip every stage).

Writes JSON (default benchmarks/results/pipeline.json): seconds per stage, the total, peak memory of
the process (max RSS), per-variant training seconds and epochs, the recommendation, and per
variant the headline figures. Targets (issue): the whole run <= 10 min and <= 4 GiB on 2 cores.

    .venv/bin/python benchmarks/pipeline.py [--out FILE] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time

from ecg_energy.energy.load import machine_facts
from ecg_energy.fsio import atomic_write_json
from ecg_energy.pipeline import RunConfig, run


def headline(v: dict) -> dict:
    acc = v.get("accuracy") or {}
    out = {"macs": v["counts"]["macs"], "size_bytes": v["size_bytes"],
           "balanced_accuracy": acc.get("balanced_accuracy"),
           "aha_all_pass": acc.get("aha_all_pass")}  # fmt: skip
    for b, m in v["measurements"].items():
        if not m.get("error"):
            out[f"b{b}"] = {k: m[k]["median"] for k in ("energy_j_per_inference_net",
                            "energy_j_per_inference_gross", "latency_s_per_inference")}  # fmt: skip
            out[f"b{b}"]["meter_overhead_fraction"] = m.get("meter_overhead_fraction")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "results", "pipeline.json"))
    ap.add_argument("--keep", help="Keep the run folder here (must not exist).")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    folder = os.path.join(tmp, "run")
    try:
        t0 = time.perf_counter()
        fresh = run(RunConfig(), folder, echo=lambda _m: None)
        total = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = run(RunConfig(), folder, echo=lambda _m: None)
        resumed = time.perf_counter() - t0
        if args.keep:
            shutil.move(folder, args.keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res = fresh.results
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "machine": machine_facts(),
        "total_s": round(total, 1),
        "target_total_s": 600,
        "stage_s": fresh.seconds,
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "target_peak_rss_mib": 4096,
        "resume_s": round(resumed, 1),
        "resume_stages_run": list(again.stages_run),
        "resume_stages_skipped": list(again.stages_skipped),
        "measurement": {
            k: res["measurement"][k] for k in ("meter", "methods", "measured", "idle_power_w")
        },  # fmt: skip
        "recommendation": {
            k: res["recommendation"][k] for k in ("variant", "reason", "pareto", "caveats")
        },  # fmt: skip
        "variants": {name: headline(v) for name, v in res["variants"].items()},
        "training": {name: v["train"] for name, v in res["variants"].items() if v.get("train")},
    }
    atomic_write_json(args.out, result)
    print(f"run {total:.0f} s, resume {resumed:.1f} s, peak {result['peak_rss_mib']} MiB; "
          f"recommendation {res['recommendation']['variant']}; wrote {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
