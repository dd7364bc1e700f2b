"""Benchmark: the same network on LiteRT and on onnxruntime, float32 and INT8.

Synthetic mode (the default): the built-in ``student`` architecture (1000-sample windows, 5
classes), trained for a few epochs on synthetic windows (sines of five frequencies with noise: the
classes are only there so that the logits mean something), becomes four files: LiteRT float32 and
full-integer INT8 (the project's ``quantize.convert``, calibrated on 200 training windows), ONNX
float32 (translated from the Keras layers below, its logits checked against Keras') and ONNX INT8
(``quantize_onnx``: QDQ, per-channel, calibrated on the same 200 windows).

For each it writes JSON (default benchmarks/results/onnx_vs_litert.json): µs per window at batch
1 and batch 256 (median of rounds interleaved across the models, one thread, through the runner's
float32 ``__call__``; for LiteRT also ``native``, the int8-in call a measurement times), the
counted MACs by precision, the INT8 model's argmax agreement with its float model on 1000
held-out windows, and the CPU share other processes took while timing (above a few hundredths,
the timing was disturbed).

Real-data mode (``--model``, ``--data``): a trained float Keras model (its sidecar ``.json``
beside it names its ``preprocessing`` and ``class_names``) on real records. The windows of every
``--data`` source form one dataset, split by record as a run splits it (``split_by_record``,
seed 0); the model's preprocessing comes first. LiteRT INT8 and ONNX INT8 are calibrated on the
same 1000 class-balanced windows of the training split (``representative_sample``, seed 0), and
every variant (Keras float32, LiteRT float32 and INT8, ONNX float32 and INT8) is evaluated on the
test split: accuracy, balanced accuracy, the shock decision's sensitivity and specificity
(``evaluate_predictions``), argmax agreement with Keras and between the two INT8 models, counted
MACs by precision and the timing above (Keras, too, on one thread); also how far the two INT8
models' logits differ, and, where a run's ``<model>-int8.tflite`` lies beside the model, whether
the LiteRT INT8 built here gives its logits. The ONNX float32 logits must match Keras' within
1e-3 on the test windows, or nothing is written. JSON goes to
benchmarks/results/onnx_vs_litert_real.json by default, with the records and windows of each
split; ``--model`` may be repeated (one split, every model on it).

    .venv/bin/python benchmarks/onnx_vs_litert.py [--out FILE] [--seconds 0.2] [--repeats 7]
    .venv/bin/python benchmarks/onnx_vs_litert.py --model M.keras [--model M2.keras]
        --data wfdb:FOLDER [--data wfdb:FOLDER2] [--out FILE] [--seconds 0.2] [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from ecg_energy.energy.load import LoadProbe
from ecg_energy.fsio import atomic_write_json
from ecg_energy.models.architectures import build
from ecg_energy.models.io import load_model_file
from ecg_energy.models.onnx_quantize import quantize_onnx
from ecg_energy.models.quantize import convert
from ecg_energy.ops.files import count_file

L, CLASSES = 1000, 5


def windows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Five classes: sines of 1, 3, 6, 10 and 16 Hz over 4 s at 250 Hz, random phase and
    amplitude, noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % CLASSES
    t = np.arange(L) / 250.0
    f = np.array([1.0, 3.0, 6.0, 10.0, 16.0])[y][:, None]
    x = rng.uniform(0.5, 1.5, (n, 1)) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3, (n, 1)))
    return (x + 0.1 * rng.standard_normal((n, L))).astype(np.float32)[:, :, None], y


# --- Keras -> ONNX for the layers of the built-in architectures (a chain of layers) ------------


def _same_pads(length: int, kernel: int, stride: int) -> tuple[list[int], int]:
    """TensorFlow's 'same': ceil(length / stride) outputs, the odd padding at the end."""
    out = -(-length // stride)
    total = max((out - 1) * stride + kernel - length, 0)
    return [total // 2, total - total // 2], out


def keras_to_onnx(model):
    """The Keras chain ``model`` as an ONNX graph (NCW inside, input (batch, length, channels)
    like Keras'): Conv1D, DepthwiseConv1D, BatchNormalization, ReLU, MaxPooling1D,
    GlobalAveragePooling1D, Dropout, Dense; relu or linear activations. Anything else raises."""
    import onnx
    from keras import layers
    from onnx import TensorProto
    from onnx import helper as oh
    from onnx import numpy_helper as nh

    nodes, inits = [], []
    length, channels = int(model.input_shape[1]), int(model.input_shape[2])
    cur, k = "x", 0

    def name(kind: str) -> str:
        nonlocal k
        k += 1
        return f"{kind}{k}"

    def const(arr, kind: str) -> str:
        n = name(kind)
        inits.append(nh.from_array(np.ascontiguousarray(arr, np.float32), n))
        return n

    def node(op, inputs, **attrs) -> str:
        out = name(op.lower())
        nodes.append(oh.make_node(op, inputs, [out], **attrs))
        return out

    def activation(layer, x):
        act = getattr(layer.activation, "__name__", "linear")
        if act not in ("relu", "linear"):
            raise ValueError(f"{layer.name}: activation {act} is not translated")
        return node("Relu", [x]) if act == "relu" else x

    cur = node("Transpose", [cur], perm=[0, 2, 1])
    prev = None
    flat = False
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            prev = layer
            continue
        if prev is not None and layer.input is not prev.output:
            raise ValueError(f"{layer.name}: not a chain of layers")
        prev = layer
        if isinstance(layer, layers.Conv1D | layers.DepthwiseConv1D):
            (kernel_size,), (stride,) = layer.kernel_size, layer.strides
            if tuple(layer.dilation_rate) != (1,):
                raise ValueError(f"{layer.name}: dilation is not translated")
            kernel = layer.get_weights()[0]
            if isinstance(layer, layers.DepthwiseConv1D):
                # (taps, in, multiplier) -> (in · multiplier, 1, taps), one group per input
                w = kernel.transpose(1, 2, 0).reshape(-1, 1, kernel_size)
                group, out_ch = channels, channels * kernel.shape[2]
            else:  # (taps, in, out) -> (out, in, taps)
                w, group, out_ch = kernel.transpose(2, 1, 0), 1, kernel.shape[2]
            if layer.padding == "same":
                pads, out_len = _same_pads(length, kernel_size, stride)
            else:
                pads, out_len = [0, 0], (length - kernel_size) // stride + 1
            inputs = [cur, const(w, "w")]
            if layer.use_bias:
                inputs.append(const(layer.get_weights()[1], "b"))
            cur = node("Conv", inputs, kernel_shape=[kernel_size], strides=[stride], pads=pads,
                       group=group)  # fmt: skip
            cur = activation(layer, cur)
            length, channels = out_len, out_ch
        elif isinstance(layer, layers.BatchNormalization):
            weights = dict(zip([v.name for v in layer.weights], layer.get_weights()))
            gamma = weights.get("gamma", np.ones(channels, np.float32))
            beta = weights.get("beta", np.zeros(channels, np.float32))
            cur = node("BatchNormalization", [cur, const(gamma, "g"), const(beta, "be"),
                                              const(weights["moving_mean"], "mu"),
                                              const(weights["moving_variance"], "var")],
                       epsilon=float(layer.epsilon))  # fmt: skip
        elif isinstance(layer, layers.ReLU):
            if layer.max_value is not None or float(layer.negative_slope) or float(layer.threshold):
                raise ValueError(f"{layer.name}: only a plain ReLU is translated")
            cur = node("Relu", [cur])
        elif isinstance(layer, layers.MaxPooling1D):
            (size,), (stride,) = layer.pool_size, layer.strides
            if layer.padding != "valid":
                raise ValueError(f"{layer.name}: only valid pooling is translated")
            cur = node("MaxPool", [cur], kernel_shape=[size], strides=[stride])
            length = (length - size) // stride + 1
        elif isinstance(layer, layers.GlobalAveragePooling1D):
            cur = node("Flatten", [node("GlobalAveragePool", [cur])])
            flat = True
        elif isinstance(layer, layers.Dropout):
            continue
        elif isinstance(layer, layers.Dense) and flat:
            kernel, *bias = layer.get_weights()
            inputs = [cur, const(kernel, "w")] + ([const(bias[0], "b")] if bias else [])
            cur = activation(layer, node("Gemm", inputs))
            channels = kernel.shape[1]
        else:
            raise ValueError(f"{layer.name}: {type(layer).__name__} is not translated")
    nodes[-1].output[0] = "logits"
    graph = oh.make_graph(
        nodes, model.name, [oh.make_tensor_value_info("x", TensorProto.FLOAT,
                                                      ["batch", *model.input_shape[1:]])],
        [oh.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", channels])], inits,
    )  # fmt: skip
    m = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


# --- timing ------------------------------------------------------------------------------------


def four_files(model, calib: np.ndarray, folder: str, stem: str) -> dict[str, str]:
    """LiteRT float32 and INT8, ONNX float32 and INT8 (QDQ) of ``model`` in ``folder``, the INT8
    ones calibrated on ``calib``: {key: path}."""
    import onnx

    paths = {"litert-fp32": os.path.join(folder, f"{stem}.tflite"),
             "litert-int8": os.path.join(folder, f"{stem}-int8.tflite"),
             "onnx-fp32": os.path.join(folder, f"{stem}.onnx"),
             "onnx-int8": os.path.join(folder, f"{stem}-int8.onnx")}  # fmt: skip
    with open(paths["litert-fp32"], "wb") as fh:
        fh.write(convert(model, "fp32"))
    with open(paths["litert-int8"], "wb") as fh:
        fh.write(convert(model, "int8", calib))
    onnx.save(keras_to_onnx(model), paths["onnx-fp32"])
    quantize_onnx(paths["onnx-fp32"], calib, paths["onnx-int8"])
    return paths


def calls_for(fn, seconds: float) -> int:
    """How many calls of ``fn`` take about ``seconds`` (after three warm-up calls)."""
    for _ in range(3):
        fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.05:
        fn()
        n += 1
    return max(1, int(seconds / ((time.perf_counter() - t0) / n)))


def interleaved(calls: dict[str, tuple], repeats: int) -> dict[str, dict]:
    """Rounds of every (key: fn, batch, calls) in turn, ``repeats`` times, so that a load that
    comes and goes falls on every model alike: median µs per window per key, the interquartile
    range, and the CPU share other processes took over all rounds."""
    rounds: dict[str, list[float]] = {k: [] for k in calls}
    probe = LoadProbe()  # other processes' share of the machine meanwhile
    probe.start()
    for _ in range(repeats):
        for key, (fn, batch, n) in calls.items():
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            rounds[key].append((time.perf_counter() - t0) / n / batch * 1e6)
    other = probe.stop()
    share = None if other is None else round(other, 4)
    return {k: {"us_per_window": float(np.median(r)),
                "us_iqr": [float(q) for q in np.percentile(r, [25, 75])],
                "calls_per_round": calls[k][2], "other_cpu_share": share}
            for k, r in rounds.items()}  # fmt: skip


def add_calls(calls: dict, key: str, make_runner, x: np.ndarray, seconds: float) -> None:
    """Timed calls of a fresh runner (``make_runner()``, one per batch size: no resizing) at
    batch 1 and 256 into ``calls``, keyed (key, "batch<b>"); for LiteRT also its int8-in
    ``native`` call ("batch<b>_native")."""
    for b in (1, 256):
        xb = np.ascontiguousarray(x[:b])
        runner = make_runner()
        runner.prepare(b)
        fns = {f"batch{b}": lambda r=runner, xb=xb: r(xb)}
        if hasattr(runner, "native"):
            xn = np.ascontiguousarray(runner.quantize_input(xb))
            fns[f"batch{b}_native"] = lambda r=runner, xn=xn: r.native(xn)
        for name, fn in fns.items():
            calls[(key, name)] = (fn, b, calls_for(fn, seconds))


def synthetic(args) -> None:
    import keras

    from ecg_energy.models.runners import KerasRunner

    x_train, y_train = windows(2000, 0)
    x_eval, _ = windows(1000, 1)
    calib = x_train[np.random.default_rng(2).choice(len(x_train), 200, replace=False)]
    model = build("student", L, CLASSES, seed=0)
    model.compile(keras.optimizers.Adam(3e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    t0 = time.perf_counter()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, verbose=0)
    train_s = time.perf_counter() - t0
    ref = KerasRunner(model).predict(x_eval)
    result: dict = {"architecture": "student", "input": [L, 1], "classes": CLASSES,
                    "epochs": args.epochs, "train_seconds": round(train_s, 1),
                    "calibration_windows": len(calib), "eval_windows": len(x_eval),
                    "threads": 1, "cpu_count": os.cpu_count(), "models": {}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        paths = four_files(model, calib, tmp, "s")
        preds, calls = {}, {}
        for key, path in paths.items():
            mf = load_model_file(path)
            counts = count_file(path).counts
            logits = mf.runner.predict(x_eval)
            preds[key] = logits.argmax(1)
            result["models"][key] = {
                "file_bytes": os.path.getsize(path), "precision": mf.precision,
                "macs": counts.macs, "macs_by_precision": counts.macs_by_precision(),
                "max_abs_logit_diff_vs_keras": float(np.max(np.abs(logits - ref)))}  # fmt: skip
            add_calls(calls, key, lambda p=path: load_model_file(p).runner, x_eval, args.seconds)
        timed = interleaved(calls, args.repeats)
        for (key, name), figures in timed.items():
            result["models"][key][name] = figures
        for key, entry in result["models"].items():
            print(f"{key:<12} batch 1 {entry['batch1']['us_per_window']:8.1f} µs/window   "
                  f"batch 256 {entry['batch256']['us_per_window']:7.2f} µs/window   "
                  f"MACs {entry['macs_by_precision']}")  # fmt: skip
    if result["models"]["onnx-fp32"]["max_abs_logit_diff_vs_keras"] > 1e-3:
        raise SystemExit("the ONNX translation's logits differ from Keras'; figures not written")
    result["int8_argmax_agreement_with_float"] = {
        "litert": float(np.mean(preds["litert-int8"] == preds["litert-fp32"])),
        "onnx": float(np.mean(preds["onnx-int8"] == preds["onnx-fp32"])),
    }
    result["argmax_agreement_onnx_int8_vs_litert_int8"] = float(
        np.mean(preds["onnx-int8"] == preds["litert-int8"]))  # fmt: skip
    m = result["models"]
    result["onnx_int8_over_litert_int8_latency"] = {
        f"batch{b}": m["onnx-int8"][f"batch{b}"]["us_per_window"]
        / m["litert-int8"][f"batch{b}"]["us_per_window"] for b in (1, 256)
    }  # fmt: skip
    print("INT8 agreement with float:", result["int8_argmax_agreement_with_float"])
    atomic_write_json(args.out or DEFAULT_OUT, result)
    print(f"wrote {args.out or DEFAULT_OUT}")


# --- real-data mode ----------------------------------------------------------------------------

DEFAULT_OUT = "benchmarks/results/onnx_vs_litert.json"
DEFAULT_REAL_OUT = "benchmarks/results/onnx_vs_litert_real.json"
SPLIT_SEED, CALIBRATION_WINDOWS, CALIBRATION_SEED = 0, 1000, 0
ONNX_TOLERANCE = 1e-3  # the largest |ONNX float32 - Keras| logit difference accepted
RUNTIMES = ("keras-fp32", "litert-fp32", "litert-int8", "onnx-fp32", "onnx-int8")


def class_counts(y: np.ndarray, class_names: tuple[str, ...]) -> dict[str, int]:
    return {c: int(n) for c, n in zip(class_names, np.bincount(y, minlength=len(class_names)))}


def shock_advised(pred: np.ndarray, class_names: tuple[str, ...]) -> np.ndarray:
    """A predicted VT or VF advises a shock (as ``evaluate_predictions`` decides)."""
    return np.isin(np.asarray(class_names)[pred], ["VT", "VF"])


def load_real(sources: list[str]):
    """The dataset of ``sources`` (one, however many sources) and its record-wise split."""
    from ecg_energy.data.dataset import split_by_record
    from ecg_energy.data.sources import load_sources
    from ecg_energy.data.wfdb_examples import ReadOptions

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="onnx-vs-litert-") as cache:
        ds, warnings = load_sources(list(sources), ReadOptions(), cache)
    for w in warnings:
        print(f"warning: {w}")
    split = split_by_record(ds, seed=SPLIT_SEED)
    info = {"sources": list(sources), "windows": len(ds), "records": len(set(ds.groups.tolist())),
            "class_names": list(ds.class_names), "class_counts": class_counts(ds.y, ds.class_names),
            "load_seconds": round(time.perf_counter() - t0, 1), "read_warnings": warnings}  # fmt: skip
    parts = {"method": split.method, "seed": SPLIT_SEED}
    for name in ("train", "val", "test"):
        idx = getattr(split, name)
        parts[name] = {"records": list(split.records[name]), "windows": len(idx),
                       "class_counts": class_counts(ds.y[idx], ds.class_names)}  # fmt: skip
    return ds, split, info, parts


def real_model(path: str, ds, split, args) -> dict:
    """Every variant of the Keras model at ``path`` on the test split (see the module's doc)."""

    from ecg_energy.models import preprocess
    from ecg_energy.models.evaluate import agreement, evaluate_predictions
    from ecg_energy.models.io import check_fits
    from ecg_energy.models.quantize import representative_sample
    from ecg_energy.models.runners import KerasRunner
    from ecg_energy.ops.keras_ops import count_keras

    mf = load_model_file(path)
    missing = [k for k in ("preprocessing", "class_names") if k not in mf.meta]
    if mf.format != "keras" or missing:
        raise SystemExit(f"{path}: give a float .keras model whose sidecar names its "
                         f"preprocessing and class_names (missing: {', '.join(missing)})")  # fmt: skip
    check_fits(mf, ds.input_shape, ds.class_names)
    model, names, prep = mf.runner.model, ds.class_names, mf.preprocessing
    train, test = ds.subset(split.train), ds.subset(split.test)
    trained_on = set((mf.meta.get("trained_on") or {}).get("records") or ())
    t0 = time.perf_counter()
    x_train = preprocess.apply(prep, train.X)
    x_test = np.ascontiguousarray(preprocess.apply(prep, test.X))
    prep_s = time.perf_counter() - t0
    rep = representative_sample(x_train, train.y, CALIBRATION_WINDOWS, CALIBRATION_SEED)
    rep_y = representative_sample(train.y[:, None], train.y, CALIBRATION_WINDOWS,
                                  CALIBRATION_SEED)[:, 0]  # fmt: skip
    del x_train
    out: dict = {
        "file": path, "variant": mf.name, "architecture": mf.meta.get("architecture"),
        "preprocessing": prep, "class_names": list(names), "preprocess_seconds": round(prep_s, 1),
        "test_records_in_training": sorted(set(split.records["test"]) & trained_on),
        "trained_on_records_known": bool(trained_on),
        "calibration": {"from": "train split", "windows": len(rep), "seed": CALIBRATION_SEED,
                        "class_counts": class_counts(rep_y, names)},
        "models": {},
    }  # fmt: skip
    if out["test_records_in_training"]:
        print(f"warning: {path} was trained on test records {out['test_records_in_training']}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths = {"keras-fp32": path, **four_files(model, rep, tmp, "m")}
        out["convert_seconds"] = round(time.perf_counter() - t0, 1)
        logits, runners, calls = {}, {}, {}
        for key in RUNTIMES:
            if key == "keras-fp32":
                counts = count_keras(model)
                runners[key] = mf.runner
                make = lambda: KerasRunner(model)  # noqa: E731
            else:
                counts = count_file(paths[key]).counts
                runners[key] = load_model_file(paths[key]).runner
                make = lambda p=paths[key]: load_model_file(p).runner  # noqa: E731
            t0 = time.perf_counter()
            logits[key] = runners[key].predict(x_test)
            predict_s = time.perf_counter() - t0
            if not np.isfinite(logits[key]).all():
                raise SystemExit(f"{path}: {key} produced NaN or infinite logits")
            out["models"][key] = {
                "file_bytes": os.path.getsize(paths[key]), "precision": runners[key].precision,
                "macs": counts.macs, "macs_by_precision": counts.macs_by_precision(),
                "predict_seconds": round(predict_s, 2)}  # fmt: skip
            add_calls(calls, key, make, x_test, args.seconds)
        timed = interleaved(calls, args.repeats)
        for (key, name), figures in timed.items():
            out["models"][key][name] = figures
        out["other_cpu_share_while_timing"] = next(iter(timed.values()))["other_cpu_share"]
    diff = float(np.max(np.abs(logits["onnx-fp32"] - logits["keras-fp32"])))
    if diff > ONNX_TOLERANCE:
        raise SystemExit(f"{path}: the ONNX translation's logits differ from Keras' by {diff:.3g} "
                         f"(> {ONNX_TOLERANCE:g}); figures not written")  # fmt: skip
    preds = {k: v.argmax(1) for k, v in logits.items()}
    shocks = {k: shock_advised(p, names) for k, p in preds.items()}
    for key, entry in out["models"].items():
        metrics = evaluate_predictions(preds[key], test.y, names, test.rhythm, test.amplitude_uv,
                                       test.task)  # fmt: skip
        decision = metrics.get("shock_decision", {})
        entry.update({
            "accuracy": metrics["accuracy"], "balanced_accuracy": metrics["balanced_accuracy"],
            "macro_f1": metrics["macro_f1"],
            "shock_sensitivity": decision.get("sensitivity"),
            "shock_specificity": decision.get("specificity"),
            "aha_all_pass": metrics.get("aha_all_pass"),
            "argmax_agreement_with_keras": agreement(preds[key], preds["keras-fp32"]),
            "shock_decision_agreement_with_keras": agreement(shocks[key], shocks["keras-fp32"]),
            "max_abs_logit_diff_vs_keras": float(np.max(np.abs(logits[key]
                                                               - logits["keras-fp32"]))),
            "metrics": metrics,
        })  # fmt: skip
    out["onnx_fp32_max_abs_logit_diff_vs_keras"] = diff
    out["argmax_agreement_onnx_int8_vs_litert_int8"] = agreement(preds["onnx-int8"],
                                                                 preds["litert-int8"])  # fmt: skip
    out["shock_decision_agreement_onnx_int8_vs_litert_int8"] = agreement(
        shocks["onnx-int8"], shocks["litert-int8"])  # fmt: skip
    gap = np.abs(logits["onnx-int8"] - logits["litert-int8"])
    out["logits_onnx_int8_vs_litert_int8"] = {"max_abs_diff": float(gap.max()),
                                              "share_within_1e-5": float(np.mean(gap <= 1e-5))}  # fmt: skip
    saved = os.path.splitext(path)[0] + "-int8.tflite"  # a run's own LiteRT INT8 of this model
    if os.path.isfile(saved):
        theirs = load_model_file(saved).runner.predict(x_test)
        out["litert_int8_vs_saved_int8_file"] = {
            "file": saved, "argmax_agreement": agreement(theirs.argmax(1), preds["litert-int8"]),
            "max_abs_logit_diff": float(np.max(np.abs(theirs - logits["litert-int8"])))}  # fmt: skip
    m = out["models"]
    out["onnx_int8_over_litert_int8_latency"] = {
        f"batch{b}": m["onnx-int8"][f"batch{b}"]["us_per_window"]
        / m["litert-int8"][f"batch{b}"]["us_per_window"] for b in (1, 256)
    }  # fmt: skip
    return out


def real(args) -> None:
    # one thread for Keras as for LiteRT and onnxruntime; set before TensorFlow starts its runtime
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    ds, split, info, parts = load_real(args.data)
    print(f"{info['windows']} windows from {info['records']} records; train "
          f"{parts['train']['windows']} ({len(parts['train']['records'])} records), test "
          f"{parts['test']['windows']} ({len(parts['test']['records'])} records)")  # fmt: skip
    result: dict = {"mode": "real", "data": info, "split": parts, "threads": 1,
                    "cpu_count": os.cpu_count(), "timing": {"seconds": args.seconds,
                                                            "repeats": args.repeats},
                    "models": {}}  # fmt: skip
    for path in args.model:
        entry = real_model(path, ds, split, args)
        name = entry["variant"] if entry["variant"] not in result["models"] else path
        result["models"][name] = entry
        print(f"{name}: test split, {parts['test']['windows']} windows (other processes' CPU "
              f"share while timing {entry['other_cpu_share_while_timing']})")  # fmt: skip
        print(f"  {'':<12} {'acc':>6} {'bal.acc':>7} {'shockSe':>7} {'shockSp':>7} "
              f"{'agree':>6} {'µs b1':>8} {'µs b256':>8}  MACs")  # fmt: skip
        for key, r in entry["models"].items():
            se, sp = r["shock_sensitivity"], r["shock_specificity"]
            print(f"  {key:<12} {r['accuracy']:6.4f} {r['balanced_accuracy']:7.4f} "
                  f"{se if se is not None else float('nan'):7.4f} "
                  f"{sp if sp is not None else float('nan'):7.4f} "
                  f"{r['argmax_agreement_with_keras']:6.4f} "
                  f"{r['batch1']['us_per_window']:8.1f} {r['batch256']['us_per_window']:8.2f}  "
                  f"{r['macs_by_precision']}")  # fmt: skip
        gap = entry["logits_onnx_int8_vs_litert_int8"]
        print(f"  ONNX INT8 vs LiteRT INT8: argmax agreement "
              f"{entry['argmax_agreement_onnx_int8_vs_litert_int8']:.4f}, logits equal within "
              f"1e-5 {gap['share_within_1e-5']:.5f}, largest difference {gap['max_abs_diff']:.4g}")  # fmt: skip
    out = args.out or DEFAULT_REAL_OUT
    atomic_write_json(out, result)
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None,
                    help=f"JSON to write (default {DEFAULT_OUT}, with --model {DEFAULT_REAL_OUT})")  # fmt: skip
    ap.add_argument("--seconds", type=float, default=0.2, help="length of one timing round, s")
    ap.add_argument("--repeats", type=int, default=7, help="rounds of every model, interleaved")
    ap.add_argument("--epochs", type=int, default=3, help="training epochs (synthetic mode)")
    ap.add_argument("--model", action="append", default=[], metavar="PATH.keras",
                    help="a trained float Keras model with its sidecar PATH.json (repeatable)")  # fmt: skip
    ap.add_argument("--data", action="append", default=[], metavar="wfdb:FOLDER",
                    help="a data source of the real-data mode (repeatable: one dataset)")  # fmt: skip
    args = ap.parse_args()
    if bool(args.model) != bool(args.data):
        ap.error("--model and --data go together")
    if args.model:
        real(args)
    else:
        synthetic(args)


if __name__ == "__main__":
    main()
