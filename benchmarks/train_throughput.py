"""Benchmark: where the original CNN's training time goes, against the machine's fp32 roofline.

Measures on this machine: the fp32 matmul rate (2048 x 2048, TensorFlow, best of 5) as the
roofline; one training epoch of the original (10,460,224 MACs per window) on N windows through
Keras ``fit`` with the run's settings (batch 64), and the same epoch's parts apart: the forward
and backward passes alone (a ``tf.function`` train step over the batches in memory), the
validation pass, the class-balanced draw, and the run's own input pipeline (a fresh balanced draw
per epoch, augmented per batch) for the original and the student. Effective training rate = windows x MACs x
2 FLOP x 3 (forward, and a backward pass costing about twice the forward) / seconds.

    .venv/bin/python benchmarks/train_throughput.py [--windows 4096] [--out FILE]
        [--data ../shared/data/physionet/vfdb --data …/mitdb --data …/cudb]

Every part is timed twice: wall-clock seconds and this process's CPU seconds (``process_time``,
all threads), since a shared machine's wall clock counts other people's work. With ``--data``
(WFDB folders), the windows are drawn from those records instead of noise, and the epoch of a run
on them (its 60% training records) is projected from the CPU seconds per window.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from ecg_energy.fsio import atomic_write_json
from ecg_energy.models import architectures
from ecg_energy.models.train import balanced_batches, balanced_draw
from ecg_energy.ops.keras_ops import total_macs


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    f = tf.function(lambda: tf.matmul(a, b))
    f().numpy()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        f().numpy()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def main(argv=None) -> int:
    import keras
    import tensorflow as tf

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=4096)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out", default=os.path.join("benchmarks", "results", "train_throughput.json"))
    ap.add_argument("--data", action="append", default=[], help="WFDB folder (repeatable).")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.3, (args.windows, 1000, 1)).astype(np.float32)
    y = rng.integers(0, 5, args.windows)
    real = None
    if args.data:
        from ecg_energy.data.dataset import split_by_record
        from ecg_energy.data.sources import load_sources
        from ecg_energy.data.wfdb_source import ReadOptions

        ds, _ = load_sources([f"wfdb:{d}" for d in args.data], ReadOptions(), "runs/cache")
        pick = rng.choice(len(ds), size=min(args.windows, len(ds)), replace=False)
        x, y = ds.X[pick], ds.y[pick]
        args.windows = len(y)
        sp = split_by_record(ds, seed=0)
        real = {"folders": args.data, "windows": len(ds), "train_windows": int(len(sp.train)),
                "records": len(set(ds.groups.tolist()))}  # fmt: skip
    cpu: dict[str, float] = {}
    c0 = [0.0]

    def cpu_start() -> float:
        c0[0] = time.process_time()
        return time.perf_counter()

    def cpu_stop(name: str) -> None:
        cpu[name] = time.process_time() - c0[0]

    roof = matmul_gflops()
    model = architectures.build("original", 1000, 5, seed=0)
    macs = total_macs(model)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    # every timed fit below follows a warm-up fit of the same kind (tracing)
    model.fit(x[:256], y[:256], batch_size=args.batch, epochs=1, verbose=0)
    t = cpu_start()
    model.fit(x, y, batch_size=args.batch, epochs=1, verbose=0, shuffle=True)
    fit_s = time.perf_counter() - t
    cpu_stop("keras_fit")
    opt = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=False)
    def step(xb, yb):
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                model.trainable_variables))  # fmt: skip
        return loss

    batches = [(tf.constant(x[i:i + args.batch]), tf.constant(y[i:i + args.batch]))
               for i in range(0, args.windows - args.batch + 1, args.batch)]  # fmt: skip
    step(*batches[0]).numpy()
    t = cpu_start()
    for xb, yb in batches:
        step(xb, yb)
    step(*batches[-1]).numpy()
    step_s = time.perf_counter() - t
    cpu_stop("train_step_only")
    infer = tf.function(lambda xb: model(xb, training=False))
    infer(tf.constant(x[:512])).numpy()
    t = cpu_start()
    for i in range(0, args.windows, 512):
        infer(tf.constant(x[i : i + 512])).numpy()
    val_s = time.perf_counter() - t
    cpu_stop("forward_pass_for_validation")
    # the run's own input pipeline: a fresh class-balanced draw per epoch, augmented per batch
    from ecg_energy.models import preprocess

    def aug(xb, r, _labels):
        return preprocess.augment("bandpass-mulaw", xb, r)

    model.fit(balanced_batches(x[:256], y[:256], args.batch, 0, aug), epochs=1, verbose=0)
    t = cpu_start()
    model.fit(balanced_batches(x, y, args.batch, 0, aug), epochs=1, verbose=0)
    pipeline_s = time.perf_counter() - t
    cpu_stop("keras_fit_balanced_augmented")
    student = architectures.build("student", 1000, 5, seed=0)
    student.compile(optimizer=keras.optimizers.Adam(1e-3),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    student.fit(x[:256], y[:256], batch_size=args.batch, epochs=1, verbose=0)
    t = cpu_start()
    student.fit(x, y, batch_size=args.batch, epochs=1, verbose=0, shuffle=True)
    student_arrays_s = time.perf_counter() - t
    cpu_stop("student_fit_arrays")
    student.fit(balanced_batches(x[:256], y[:256], args.batch, 0, aug), epochs=1, verbose=0)
    t = cpu_start()
    student.fit(balanced_batches(x, y, args.batch, 0, aug), epochs=1, verbose=0)
    student_pipeline_s = time.perf_counter() - t
    cpu_stop("student_fit_balanced_augmented")
    t = time.perf_counter()
    balanced_draw(
        np.repeat(np.arange(5), [8000, 2000, 300, 800, 600]), 11700, np.random.default_rng(0)
    )
    balance_s = time.perf_counter() - t
    flop = args.windows * macs * 2 * 3

    def rate(s):
        return flop / s / 1e9

    doc = {"windows": args.windows, "batch": args.batch, "macs_per_window": macs,
           "cpus": os.cpu_count(), "matmul_gflops": roof,
           "keras_fit": {"seconds": fit_s, "gflops": rate(fit_s), "of_roofline": rate(fit_s) / roof},
           "train_step_only": {"seconds": step_s, "gflops": rate(step_s),
                               "of_roofline": rate(step_s) / roof},
           "keras_fit_balanced_augmented": {"seconds": pipeline_s, "gflops": rate(pipeline_s),
                                            "of_roofline": rate(pipeline_s) / roof},
           "student_fit_arrays": {"seconds": student_arrays_s},
           "student_fit_balanced_augmented": {"seconds": student_pipeline_s},
           "forward_pass_for_validation": {"seconds": val_s,
                                           "gflops": args.windows * macs * 2 / val_s / 1e9},
           "oversampling_index_11700": {"seconds": balance_s}}  # fmt: skip
    doc["cpu_seconds"] = cpu  # this process, all threads: the same parts as the wall seconds
    # the rate per CPU second does not count other people's work on a shared machine; times the
    # cores, it is what the machine would give this training alone
    doc["gflop_per_cpu_second"] = {k: flop / cpu[k] / 1e9 for k in
                                   ("keras_fit", "train_step_only", "keras_fit_balanced_augmented")}  # fmt: skip
    doc["loadavg_at_end"] = os.getloadavg()
    if real is not None:
        per_window = cpu["keras_fit_balanced_augmented"] / args.windows
        real["original_epoch_cpu_seconds_projected"] = per_window * real["train_windows"]
        real["student_epoch_cpu_seconds_projected"] = (
            cpu["student_fit_balanced_augmented"] / args.windows * real["train_windows"]
        )
        doc["data"] = real
    atomic_write_json(args.out, doc)
    print(
        f"roofline {roof:.0f} GFLOP/s; fit {fit_s:.1f} s ({rate(fit_s):.0f} GFLOP/s, "
        f"{100 * rate(fit_s) / roof:.0f}%); train steps alone {step_s:.1f} s "
        f"({rate(step_s):.0f} GFLOP/s); the run's balanced, augmented input {pipeline_s:.1f} s; "
        f"forward for validation {val_s:.1f} s; student epoch {student_arrays_s:.1f} s from arrays, "
        f"{student_pipeline_s:.1f} s balanced and augmented"
    )
    print("CPU seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
    if real is not None:
        print(f"{real['records']} records, {real['train_windows']} training windows: an epoch of "
              f"the original ~{real['original_epoch_cpu_seconds_projected']:.0f} CPU s, of a "
              f"student ~{real['student_epoch_cpu_seconds_projected']:.0f} CPU s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
