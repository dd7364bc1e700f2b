"""Benchmark: the run's record-wise cross-validation repeated over training seeds.

The folds stay the same (the run's ``split_seed``); only the training seed changes, so the spread
between seeds is what the seed alone moves. Every seed's models are built exactly as
``ecg-energy run --folds K`` builds them (``models.crossval.cross_validate`` with the run's
configuration), into ``<runs>/seed<k>/folds/`` — a finished fold is reused, so an interrupted
benchmark resumes, and a run folder's own ``folds/`` can stand in for its seed
(``--reuse SEED=RUN``). Per variant and seed: the pooled shock decision (sensitivity,
specificity, balanced), the five-class balanced accuracy, the AHA verdicts, the per-database
breakdown and the seconds spent; over the seeds: median and range.

    .venv/bin/python benchmarks/cv_seeds.py --config run.toml --seeds 0,1,2 \\
        --runs runs/cv_seeds --reuse 0=runs/real --out benchmarks/results/real_cv64_seeds.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace

import numpy as np

from ecg_energy.config import load_config
from ecg_energy.data.sources import load_sources
from ecg_energy.fsio import atomic_write_json
from ecg_energy.models.crossval import cross_validate

FIGURES = ("shock_sensitivity", "shock_specificity", "shock_balanced", "balanced_accuracy")


def figures(m: dict) -> dict:
    """One variant's pooled figures from ``cross_validate``'s ``variants`` entry."""
    sd = m.get("shock_decision") or {}
    se, sp = sd.get("sensitivity"), sd.get("specificity")
    return {
        "shock_sensitivity": se,
        "shock_specificity": sp,
        "shock_balanced": (se + sp) / 2 if se is not None and sp is not None else None,
        "balanced_accuracy": m.get("balanced_accuracy"),
        "aha_all_pass": m.get("aha_all_pass"),
        "aha": {k: {"n": r.get("n"), "estimate": r.get("estimate"), "lower90": r.get("lower90"),
                    "passed": r.get("passed")} for k, r in (m.get("aha") or {}).items()},
        "by_database": m.get("by_database"),
        "costly_records": m.get("costly_records"),
        "agreement_with_parent": m.get("agreement_with_parent"),
        "per_window": {k: (m.get("per_window") or {}).get(k) for k in
                       ("balanced_accuracy", "shock_decision", "aha_all_pass")}
        if m.get("per_window") else None,
    }  # fmt: skip


def over_seeds(per_seed: dict[str, dict]) -> dict:
    """Per variant and figure: {median, min, max, seeds} over the seeds that have it."""
    out: dict = {}
    names = sorted({v for s in per_seed.values() for v in s["variants"]})
    for name in names:
        entry = {}
        for key in FIGURES:
            vals = [s["variants"][name][key] for s in per_seed.values()
                    if name in s["variants"] and s["variants"][name][key] is not None]  # fmt: skip
            if vals:
                entry[key] = {"median": float(np.median(vals)), "min": min(vals),
                              "max": max(vals), "seeds": len(vals)}  # fmt: skip
        passes = [s["variants"][name]["aha_all_pass"] for s in per_seed.values()
                  if name in s["variants"]]  # fmt: skip
        entry["aha_all_pass_seeds"] = f"{sum(bool(p) for p in passes)} of {len(passes)}"
        out[name] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="The run's configuration (TOML, with data).")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--runs", required=True, help="Folder for every seed's fold models.")
    ap.add_argument("--reuse", action="append", default=[], metavar="SEED=RUN",
                    help="a finished run folder whose folds/ are that seed's")  # fmt: skip
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    if not cfg.folds:
        print(f"{args.config}: folds is 0; set folds = 5", file=sys.stderr)
        return 2
    reuse = dict(r.split("=", 1) for r in args.reuse)
    t0 = time.perf_counter()
    ds, _ = load_sources(list(cfg.data), cfg.read, os.path.join(args.runs, "data"), cfg.synth)
    read_s = time.perf_counter() - t0
    per_seed: dict[str, dict] = {}
    if os.path.isfile(args.out):  # resume: seeds already done stay
        with open(args.out) as fh:
            per_seed = json.load(fh).get("per_seed", {})
    for seed in (int(s) for s in args.seeds.split(",")):
        if str(seed) in per_seed:
            continue
        models = replace(cfg.models, train=replace(cfg.models.train, seed=seed))
        folder = (os.path.join(reuse[str(seed)], "folds") if str(seed) in reuse
                  else os.path.join(args.runs, f"seed{seed}", "folds"))  # fmt: skip
        t1, c1 = time.perf_counter(), time.process_time()
        cv = cross_validate(ds, cfg.folds, cfg.split_seed, models, folder, print,
                            decide_over=cfg.decision_windows)  # fmt: skip
        seconds = time.perf_counter() - t1
        atomic_write_json(os.path.join(args.runs, f"seed{seed}", "crossval.json"), cv)
        per_seed[str(seed)] = {
            "seconds": seconds, "cpu_seconds": time.process_time() - c1,
            "train_seconds": {n: sum(f["variants"].get(n, {}).get("train_seconds") or 0.0
                                     for f in cv["folds"]) for n in cv["variants"]},
            "variants": {n: figures(m) for n, m in cv["variants"].items()},
            "spread_over_folds": cv["spread"],
        }  # fmt: skip
        atomic_write_json(args.out, {
            "data": list(cfg.data), "windows": len(ds), "records": len(set(ds.groups.tolist())),
            "folds": cfg.folds, "split_seed": cfg.split_seed, "decide_over": cfg.decision_windows,
            "train": json.loads(json.dumps(cfg.models.train.__dict__)),
            "read_seconds": read_s, "cpus": os.cpu_count(),
            "per_seed": per_seed, "over_seeds": over_seeds(per_seed),
        })  # fmt: skip
        for name, v in per_seed[str(seed)]["variants"].items():
            print(f"seed {seed} {name:<16} Se {v['shock_sensitivity']:.4f} "
                  f"Sp {v['shock_specificity']:.4f} bal {v['balanced_accuracy']:.4f} "
                  f"AHA {v['aha_all_pass']}")  # fmt: skip
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
