"""Benchmark: the default run's measure stage on a quiet machine and on a shared one.

Copies a finished default run folder, then runs ``ecg-energy run --config <its configuration>
--force measure`` on the copy as a user would, three times quiet and three times while another process loads one core in bursts
(busy 1.5 s, asleep 2.5 s; bounded, started outside the measuring process's tree). Writes per run:
the recommended variant, the kind of figure ranked and why, the ranked figures with their
intervals, the windows repeated and left out, whether any energy printed or stored was negative,
whether the first plot shows every variant, and the original's batch-1 latency against the
report's method (Keras predict per sample) timed on the same model in the same run.

    .venv/bin/python benchmarks/shared_machine.py [--run runs/default] [--repeats 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from ecg_energy.config import from_dict, to_toml
from ecg_energy.energy.load import machine_facts
from ecg_energy.energy.loadgen import bursty_load
from ecg_energy.fsio import atomic_write_json
from ecg_energy.report import plots
from ecg_energy.report.fmt import energy_text
from ecg_energy.report.recommend import figure_of, ranked_config

NEGATIVE = re.compile(r"(?<![\w.])[-−]\d[\d.,]*(e[-+]?\d+)?\s?(fJ|pJ|nJ|µJ|mJ|kJ|J)\b")
CLI = "import sys; from ecg_energy.cli import main; sys.exit(main(sys.argv[1:]))"


def negative_numbers(node, path="") -> list:
    """Numbers below zero under energy keys of results.json."""
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in negative_numbers(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in negative_numbers(v, f"{path}[{i}]")]
    energy = any(t in path for t in ("_j", "joules", "co2e", "energy"))
    if isinstance(node, int | float) and not isinstance(node, bool) and energy and node < 0:
        return [(path, node)]
    return []


def one_run(folder: str, loaded: bool, config: str) -> dict:
    cmd = [sys.executable, "-c", CLI, "run", "--out", folder, "--config", config, "--force",
           "measure"]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    t0 = time.perf_counter()
    if loaded:
        with bursty_load(1.5, 2.5, max_s=1200):
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1500)
    else:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1500)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        return {"error": done.stderr[-2000:], "seconds": seconds}
    with open(os.path.join(folder, "results.json")) as fh:
        res = json.load(fh)
    rec = res["recommendation"]
    rc = ranked_config(rec)
    ranked = {}
    for name, v in res["variants"].items():
        e, why = figure_of(v, rc)
        m = v["measurements"].get(str(rc.batch)) or {}
        ranked[name] = {"j": e["j"] if e else None, "ci95": e["ci95"] if e else None,
                        "text": energy_text({"median": e["j"], "ci95": e["ci95"]}) if e else why,
                        "net": energy_text(m.get("energy_j_per_inference_net")),
                        "repeated_windows": m.get("repeated_windows")}  # fmt: skip
    host_net = {}  # every variant's host net figure at batch 1: what between-run drift moves
    for name, v in res["variants"].items():
        n = (v["measurements"].get("1") or {}).get("energy_j_per_inference_net") or {}
        if n.get("median") is not None and n.get("resolved", True):
            host_net[name] = {"j": n["median"], "ci95": n["ci95"]}
    texts = [done.stdout]
    for name in ("report.md", "results.csv"):
        with open(os.path.join(folder, name), encoding="utf-8") as fh:
            texts.append(fh.read())
    plot = plots.energy_accuracy(res)
    orig = res["variants"]["original"]
    seed = orig.get("seed_window") or {}
    lat = orig["measurements"]["1"]["latency_s_per_inference"]["median"]
    return {
        "seconds": round(seconds, 1),
        "recommended": rec["variant"],
        "reason": rec["reason"],
        "ranked_basis": rec["ranked"]["basis"],
        "ranked_text": rec["ranked"]["text"],
        "tie": rec.get("tie"),
        "ranked": ranked,
        "host_net_b1": host_net,
        "idle_power": res["measurement"].get("idle_power"),
        "contamination": res["measurement"].get("contamination"),
        "negative_printed": sum(len(NEGATIVE.findall(t)) for t in texts),
        "negative_stored": negative_numbers(res),
        "plot_shows_every_variant": all(f"{n} " in plot.alt for n in res["variants"]),
        "original_b1_latency_s": lat,
        "original_b1_runtime": (orig.get("runtime") or {}).get("runtime"),
        "report_method_latency_s": seed.get("latency_s_per_inference"),
        "report_method_over_ours": (
            seed["latency_s_per_inference"] / lat if seed.get("latency_s_per_inference") else None
        ),  # fmt: skip
        "stdout_head": done.stdout.splitlines()[:12],
    }


def between_runs(runs: list[dict]) -> dict:
    """Per variant, over every run (quiet and loaded): its host net figures' lowest and highest
    median, their spread as a share of the lowest, and how many pairs of runs had overlapping 95%
    intervals (an interval that holds between runs overlaps the others)."""
    out = {}
    names = sorted({n for r in runs for n in r.get("host_net_b1", {})})
    for name in names:
        figs = [r["host_net_b1"][name] for r in runs if name in r.get("host_net_b1", {})]
        pairs = [(a, b) for i, a in enumerate(figs) for b in figs[i + 1 :]]
        overlap = sum(a["ci95"][0] <= b["ci95"][1] and b["ci95"][0] <= a["ci95"][1]
                      for a, b in pairs)  # fmt: skip
        meds = [f["j"] for f in figs]
        out[name] = {"runs": len(figs), "median_min_j": min(meds), "median_max_j": max(meds),
                     "spread_of_min": max(meds) / min(meds) - 1,
                     "pairs_overlapping": f"{overlap} of {len(pairs)}"}  # fmt: skip
    return out


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default="runs/default", help="A finished default run folder.")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(here, "results", "shared_machine.json"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    runs = {"quiet": [], "bursty load": []}
    try:
        folder = os.path.join(tmp, "run")
        shutil.copytree(args.run, folder)
        # the run's own configuration (its boards included), so only the measurement is redone
        config = os.path.join(tmp, "run.toml")
        with open(os.path.join(args.run, "run.json")) as fh:
            resolved = from_dict(json.load(fh)["config"])
        with open(config, "w") as fh:
            fh.write(to_toml(resolved))
        for r in range(args.repeats):
            for cond in ("quiet", "bursty load"):
                one = one_run(folder, cond != "quiet", config)
                runs[cond].append(one)
                print(f"run {r + 1} {cond:<12} {one.get('seconds')} s: recommended "
                      f"{one.get('recommended')} (ranked {one.get('ranked_basis')}), repeated "
                      f"{(one.get('contamination') or {}).get('repeated')}, negative "
                      f"{one.get('negative_printed')}/{len(one.get('negative_stored', []))}",
                      flush=True)  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {cond: {"recommended": [o.get("recommended") for o in ones],
                      "ranked_basis": [o.get("ranked_basis") for o in ones],
                      "repeated_windows": [(o.get("contamination") or {}).get("repeated")
                                           for o in ones],
                      "left_out_windows": [(o.get("contamination") or {}).get("contaminated")
                                           for o in ones],
                      "negative": sum(o.get("negative_printed", 0) + len(o.get("negative_stored", []))
                                      for o in ones),
                      "plot_shows_every_variant": all(o.get("plot_shows_every_variant")
                                                      for o in ones),
                      "report_method_over_ours": [o.get("report_method_over_ours") for o in ones]}
               for cond, ones in runs.items()}  # fmt: skip
    summary["between_runs_host_net_b1"] = between_runs([o for ones in runs.values() for o in ones])
    atomic_write_json(args.out, {"machine": machine_facts(), "load": "one core busy 1.5 s, "
                                 "asleep 2.5 s", "summary": summary, "runs": runs})  # fmt: skip
    print(json.dumps(summary, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
