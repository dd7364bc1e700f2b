"""Benchmark: which CodeCarbon attribution holds on a shared machine, ``process`` or ``machine``?

Measures two LiteRT models whose work differs ~200x (the default run's original-int8 and
distilled-int8, 10,460,224 and 52,720 MACs) with the standard protocol, with CodeCarbon in each
tracking mode, on a quiet machine and under a bursty background load on one core (busy 1.5 s,
asleep 2.5 s, started outside this process's tree), several times each. Windows are neither
repeated nor left out here (``max_repeats`` 0, ``max_other_share`` 1), so the raw effect of other
processes on each mode is what is measured; every window's share of other processes is recorded.

For each mode and condition it writes: the net and gross figures per model with their intervals,
whether the net figures were resolved, whether the lighter model ranked first, the ratio of the
two, the idle power with its interval, and the windows other processes disturbed; and per mode how
far the loaded medians moved from the quiet ones.

    .venv/bin/python benchmarks/attribution.py [--run runs/default] [--repeats 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from ecg_energy.data.dataset import split_by_record
from ecg_energy.data.wfdb_source import load_wfdb
from ecg_energy.energy.load import machine_facts
from ecg_energy.energy.loadgen import bursty_load
from ecg_energy.energy.measure import build_workloads
from ecg_energy.energy.meters import make_meter
from ecg_energy.energy.protocol import ProtocolConfig, run_protocol
from ecg_energy.fsio import atomic_write_json

MODELS = ("original-int8", "distilled-int8")  # heavy, light


def measure_once(paths, ds, mode: str, cfg: ProtocolConfig) -> dict:
    workloads, _ = build_workloads(paths, ds, (1,), threads=None)
    meter = make_meter("codecarbon", country="USA", tracking_mode=mode)
    res = run_protocol(workloads, meter, cfg)
    out = {"idle_power": res["idle_power"], "contamination": res["contamination"],
           "windows_over_10pct": sum((t.get("other_share") or 0) > 0.10
                                     for v in res["variants"].values() for t in v["trials"])
           + sum((t.get("other_share") or 0) > 0.10 for t in res["idle_windows"]),
           "variants": {}}  # fmt: skip
    for v in res["variants"].values():
        out["variants"][v["name"]] = {
            k: v.get(k) for k in ("energy_j_per_inference_net", "energy_j_per_inference_gross",
                                  "latency_s_per_inference")
        }  # fmt: skip
    heavy, light = (out["variants"][m] for m in MODELS)
    nets = [x["energy_j_per_inference_net"] for x in (heavy, light)]
    out["net_resolved"] = all(n["resolved"] for n in nets)
    kind = "net" if out["net_resolved"] else "gross"
    e = [x[f"energy_j_per_inference_{kind}"]["median"] for x in (heavy, light)]
    out["ranked_on"] = kind
    out["lighter_first"] = e[1] < e[0]
    out["ratio_heavy_to_light"] = e[0] / e[1] if e[1] else None
    out["negative_figures"] = sum(
        1 for x in (heavy, light) for k in ("net", "gross")
        if (x[f"energy_j_per_inference_{k}"] or {}).get("median") is not None
        and x[f"energy_j_per_inference_{k}"]["median"] < 0
    )  # fmt: skip
    return out


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default="runs/default", help="A finished run folder (its models).")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(here, "results", "attribution.json"))
    args = ap.parse_args()
    paths = [os.path.join(args.run, "models", f"{m}.tflite") for m in MODELS]
    db = next(os.path.join(args.run, "data", d) for d in sorted(os.listdir(
        os.path.join(args.run, "data"))) if d.startswith("synth"))  # fmt: skip
    ds, _ = load_wfdb(db)
    ds = ds.subset(split_by_record(ds).test)
    # no window repeated or left out: every window counts, so the raw effect shows
    cfg = ProtocolConfig(trials=args.trials, min_seconds=2.0, max_repeats=0, max_other_share=1.0)
    runs: dict = {}
    t0 = time.perf_counter()
    for r in range(args.repeats):
        for load in (False, True):
            for mode in ("process", "machine"):
                cond = "bursty load" if load else "quiet"
                if load:
                    with bursty_load(1.5, 2.5, max_s=600):
                        one = measure_once(paths, ds, mode, cfg)
                else:
                    one = measure_once(paths, ds, mode, cfg)
                runs.setdefault(mode, {}).setdefault(cond, []).append(one)
                light = one["variants"][MODELS[1]]["energy_j_per_inference_net"]
                print(f"repeat {r + 1} {mode:<8} {cond:<12} resolved {one['net_resolved']!s:<5} "
                      f"lighter first {one['lighter_first']!s:<5} ratio "
                      f"{one['ratio_heavy_to_light']:.1f} light net {light.get('median')}")  # fmt: skip
    summary = {}
    for mode, conds in runs.items():
        s = {}
        for cond, ones in conds.items():
            s[cond] = {
                "runs": len(ones),
                "net_resolved": sum(o["net_resolved"] for o in ones),
                "lighter_first": sum(o["lighter_first"] for o in ones),
                "negative_figures": sum(o["negative_figures"] for o in ones),
                "windows_over_10pct": sum(o["windows_over_10pct"] for o in ones),
                "ratio_heavy_to_light": [o["ratio_heavy_to_light"] for o in ones],
                "net_median_j": {m: [o["variants"][m]["energy_j_per_inference_net"].get("median")
                                     for o in ones] for m in MODELS},
            }  # fmt: skip
        shift = {}
        for m in MODELS:
            q = [x for x in s["quiet"]["net_median_j"][m] if x is not None]
            b = [x for x in s["bursty load"]["net_median_j"][m] if x is not None]
            shift[m] = (abs(statistics.median(b) - statistics.median(q)) / statistics.median(q)
                        if q and b else None)  # fmt: skip
        s["loaded_vs_quiet_net_shift"] = shift
        summary[mode] = s
    result = {"machine": machine_facts(), "models": list(MODELS), "protocol": cfg.__dict__,
              "load": "one core busy 1.5 s, asleep 2.5 s", "seconds": time.perf_counter() - t0,
              "summary": summary, "runs": runs}  # fmt: skip
    atomic_write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
