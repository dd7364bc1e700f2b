"""Benchmark: inference latency and throughput of every variant of a run, against the report.

Writes JSON (default benchmarks/results/inference.json): per variant, median latency per inference
at batch 1 and batched (and the interquartile spread over repeats), throughput, the ratio to the
report's T4 times (original 10.48 ms, distilled 1.76 ms, INT8 1.11 ms per inference: 1000 Keras
``predict`` calls), and the original's effective FLOP/s batched as a fraction of this machine's own
float32 matmul throughput (2048², TensorFlow) measured in the same run: a roofline ratio.

Every LiteRT variant is also timed under ``threads``: with ``num_threads=1`` and with one thread
per core (``os.cpu_count()``), each with its own speed-ups against the report. Its top-level
figures keep the runner's default, ``num_threads=None``, which LiteRT runs on one thread. Each
timing records ``other_cpu_share``: the CPU time other processes took meanwhile, as a share of
all cores (Linux; a figure above a few hundredths means the timing was disturbed).

    .venv/bin/python benchmarks/inference.py [--run runs/default] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace

import numpy as np

from ecg_energy.data.wfdb_source import load_wfdb
from ecg_energy.energy.load import LoadProbe, machine_facts
from ecg_energy.fsio import atomic_write_json
from ecg_energy.models import preprocess
from ecg_energy.models.io import load_model_file
from ecg_energy.models.quantize import convert
from ecg_energy.models.runners import LiteRTRunner
from ecg_energy.ops.files import count_file

# Tesla T4, per inference; a float model on LiteRT is compared with the same float model
REPORT_MS = {"original": 10.48, "distilled": 1.76, "original-int8": 1.11,
             "original (LiteRT fp32)": 10.48, "distilled (LiteRT fp32)": 1.76}  # fmt: skip


def time_call(fn, min_seconds: float = 1.0, repeats: int = 5) -> list[float]:
    """Seconds per call for ``repeats`` windows of at least ``min_seconds`` each."""
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.1:
        fn()
        n += 1
    per = (time.perf_counter() - t0) / n
    calls = max(1, int(min_seconds / per))
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        out.append((time.perf_counter() - t0) / calls)
    return out


def timed(runner, x: np.ndarray, b: int) -> dict:
    """Latency per inference at batch ``b`` (median and quartiles), throughput, other CPU use."""
    runner.prepare(b)
    xb = np.ascontiguousarray(x[np.arange(b) % len(x)])
    probe = LoadProbe()  # other processes' share of the machine meanwhile
    probe.start()
    per_call = time_call(lambda r=runner, xb=xb: r(xb))
    other = probe.stop()
    per_inf = np.array(per_call) / b
    out = {
        "latency_s_median": float(np.median(per_inf)),
        "latency_s_iqr": [float(q) for q in np.percentile(per_inf, [25, 75])],
        "throughput_per_s": float(1 / np.median(per_inf)),
    }
    if other is not None:
        out["other_cpu_share"] = round(other, 4)
    return out


def add_speedups(entry: dict, ref_ms: float, batch: int) -> None:
    entry["report_ms"] = ref_ms
    entry["speedup_vs_report_batch1"] = ref_ms / 1e3 / entry["batch1"]["latency_s_median"]
    entry["speedup_vs_report_batched"] = ref_ms / 1e3 / entry[f"batch{batch}"]["latency_s_median"]


def matmul_flops_per_s() -> float:
    import tensorflow as tf

    a = tf.random.normal([2048, 2048])
    f = tf.function(lambda: tf.linalg.matmul(a, a))
    per = np.median(time_call(lambda: f().numpy(), 1.0, 3))
    return 2 * 2048**3 / per


def main() -> None:
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--run", default="runs/default")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--out", default=os.path.join(here, "results", "inference.json"))
    args = ap.parse_args()
    with open(os.path.join(args.run, "models", "variants.json")) as fh:
        variants = json.load(fh)
    data = [d for d in os.listdir(os.path.join(args.run, "data")) if d.startswith("synth")][0]
    ds, _ = load_wfdb(os.path.join(args.run, "data", data))
    threads = sorted({1, os.cpu_count() or 1})
    result: dict = {"machine": machine_facts(), "batch": args.batch, "variants": {},
                    "litert_threads": threads,
                    "litert_num_threads_none": "one thread (LiteRT passes num_threads or 1)"}  # fmt: skip
    peak = matmul_flops_per_s()
    result["matmul_fp32_flops_per_s"] = peak
    rows = list(variants)
    for v in variants:  # the float Keras models also on LiteRT's runtime (same weights)
        if v["format"] == "keras" and v["name"] in ("original", "distilled"):
            rows.append({**v, "name": f"{v['name']} (LiteRT fp32)", "format": "tflite-fp32"})
    for v in rows:
        v = {**v, "path": os.path.join(args.run, v["path"])}  # paths are relative to the run
        mf = load_model_file(v["path"])
        content = None  # the flatbuffer of a LiteRT variant
        if v["format"] == "tflite-fp32":
            content = convert(mf.runner.model, "fp32")
            mf = replace(mf, runner=LiteRTRunner(content))
        elif v["format"] == "tflite":
            with open(v["path"], "rb") as fh:
                content = fh.read()
        x = preprocess.apply(mf.preprocessing, ds.X)
        entry = {"precision": v["precision"], "format": v["format"]}
        for b in (1, args.batch):
            runner = mf.runner
            if isinstance(runner, LiteRTRunner) and v["format"] == "tflite":
                runner = LiteRTRunner(content)  # one interpreter per batch size
            entry[f"batch{b}"] = timed(runner, x, b)
        ref = REPORT_MS.get(v["name"])
        if ref is not None:
            add_speedups(entry, ref, args.batch)
        if v["name"] == "original":
            flops = 2 * count_file(v["path"]).counts.macs
            eff = flops / entry[f"batch{args.batch}"]["latency_s_median"]
            result["original_effective_flops_per_s_batched"] = eff
            result["roofline_fraction"] = eff / peak
        result["variants"][v["name"]] = entry
        print(f"{v['name']}: batch 1 {entry['batch1']['latency_s_median'] * 1e6:.1f} µs, batch "
              f"{args.batch} {entry[f'batch{args.batch}']['latency_s_median'] * 1e6:.2f} µs/inference")  # fmt: skip
        if content is not None:
            entry["threads"] = {}
            for t in threads:
                te: dict = {"num_threads": t}
                for b in (1, args.batch):
                    te[f"batch{b}"] = timed(LiteRTRunner(content, num_threads=t), x, b)
                if ref is not None:
                    add_speedups(te, ref, args.batch)
                entry["threads"][str(t)] = te
                print(f"  {v['name']}, {t} thread(s): batch 1 {te['batch1']['latency_s_median'] * 1e6:.1f} µs, "
                      f"batch {args.batch} {te[f'batch{args.batch}']['latency_s_median'] * 1e6:.2f} µs/inference")  # fmt: skip
    atomic_write_json(args.out, result)
    print(f"matmul {peak / 1e9:.0f} GFLOP/s; original batched reaches "
          f"{result.get('roofline_fraction', float('nan')):.2f} of it; wrote {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
