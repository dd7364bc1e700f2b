"""Benchmark: the whole default run (`ecg-energy run` on the embedded database) in a fresh folder.

Writes JSON (default benchmarks/results/pipeline.json): seconds per stage, peak memory of the
process (max RSS), per-variant training seconds and epochs, and the held-out accuracy figures.
Targets: training everything <= 4 min on 2 cores; the whole run <= 10 min and <= 4 GiB.
Includes the measurement stage (default meter, 5 trials of >= 2 s per variant and batch size).

    .venv/bin/python benchmarks/pipeline.py [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

from ecg_energy.fsio import atomic_write_json
from ecg_energy.pipeline import RunConfig, machine_facts, run


def main() -> None:
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "results", "pipeline.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        outcome = run(RunConfig(), os.path.join(tmp, "run"), echo=lambda _m: None)
        total = time.perf_counter() - t0
        import json

        with open(os.path.join(tmp, "run", "models", "variants.json")) as fh:
            variants = json.load(fh)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    training = sum(outcome.seconds.get(s, 0.0) for s in ("train", "distil", "quantize"))
    result = {
        "machine": machine_facts(),
        "total_s": round(total, 1),
        "stage_s": outcome.seconds,
        "train_distil_quantize_s": round(training, 1),
        "target_training_s": 240,
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "variants": [
            {k: v[k] for k in ("name", "precision", "train_seconds", "epochs")} for v in variants
        ],  # fmt: skip
        "measurement": {
            "method": outcome.measurements.get("method"),
            "measured": outcome.measurements.get("measured"),
            "idle_power_w": outcome.measurements.get("idle_power_w"),
            "variants": {
                key: {
                    k: v.get(k)
                    for k in (
                        "energy_j_per_inference_gross",
                        "energy_j_per_inference_net",
                        "latency_s_per_inference",
                        "meter_overhead_fraction",
                    )
                }
                for key, v in outcome.measurements.get("variants", {}).items()
            },  # fmt: skip
        },
        "evaluation": {
            name: {
                "balanced_accuracy": r["balanced_accuracy"],
                "accuracy": r["accuracy"],
                "macro_f1": r["macro_f1"],
                "aha_all_pass": r.get("aha_all_pass"),
                "aha": {
                    g: {k: row[k] for k in ("n", "estimate", "lower90", "passed")}
                    for g, row in r.get("aha", {}).items()
                },  # fmt: skip
                "agreement_with_parent": r.get("agreement_with_parent"),
            }
            for name, r in outcome.evaluation.items()
        },
    }
    atomic_write_json(args.out, result)
    print(f"run {total:.0f} s (training {training:.0f} s), peak {result['peak_rss_mib']} MiB; "
          f"wrote {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
