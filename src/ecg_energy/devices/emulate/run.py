"""Run a .tflite model on the emulated core and count what it executes.

QEMU's MPS2 board runs the runner (see ``c/runner.cc``) with the instruction-counting plugin
(``c/insn_count.c``): the plugin records the retired-instruction count at each of the runner's
marks (set-up begin/end; per window: invoke begin, each operator's begin and end, invoke end), so
each operator's instructions, the interpreter's own share of an inference (the invoke less its
operators) and the one-off set-up (AllocateTensors) follow by subtraction. Results are cached by
the model's and the inputs' digests and the build.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time

import numpy as np

from ...errors import ConfigError, ModelError
from .build import build_plugin, build_runner
from .source import cache_root
from .targets import TARGETS, operator_names

MISSING_RE_TEXT = "Didn't find op for builtin opcode '"


def parse_output(text: str) -> dict:
    """The runner's records: {"ops": [...], "arena_bytes", "outputs": [bytes], "windows",
    "error", "log": [...]}.

    >>> r = parse_output("OPS 2 CONV_2D SOFTMAX\\nARENA 1024\\nOUT 0 0a80\\nDONE 1\\n")
    >>> r["ops"], r["arena_bytes"], r["outputs"], r["windows"]
    (['CONV_2D', 'SOFTMAX'], 1024, [b'\\n\\x80'], 1)"""
    out: dict = {"ops": None, "arena_bytes": None, "outputs": [], "windows": None, "error": None,
                 "log": []}  # fmt: skip
    for line in text.splitlines():
        key, _, rest = line.partition(" ")
        if key == "OPS":
            parts = rest.split()
            out["ops"] = parts[1:]
        elif key == "ARENA":
            out["arena_bytes"] = int(rest)
        elif key == "OUT":
            _, _, hexbytes = rest.partition(" ")
            out["outputs"].append(bytes.fromhex(hexbytes.strip()))
        elif key == "DONE":
            out["windows"] = int(rest)
        elif key == "ERROR":
            out["error"] = rest.strip()
        elif key == "LOG":
            out["log"].append(rest.strip())
    return out


def split_marks(marks: list[int], n_ops: int, windows: int) -> dict:
    """Instruction counts from the plugin's marks: set-up, and per window the invoke and each
    operator (mean over windows), and the interpreter's own share.

    >>> r = split_marks([0, 100, 110, 120, 150, 155, 175, 180], 2, 1)
    >>> r["setup"], r["invoke"], r["per_op"], r["interpreter"]
    (100, 70.0, [30.0, 20.0], 20.0)"""
    expected = 2 + windows * (2 + 2 * n_ops)
    if len(marks) != expected:
        raise ModelError(f"the emulator recorded {len(marks)} marks, not the {expected} expected "
                         f"for {windows} windows of {n_ops} operators")  # fmt: skip
    per = np.asarray(marks[2:], dtype=np.int64).reshape(windows, 2 + 2 * n_ops)
    invoke = per[:, -1] - per[:, 0]
    ops = per[:, 2:-1:2] - per[:, 1:-1:2]
    return {"setup": int(marks[1] - marks[0]), "invoke": float(invoke.mean()),
            "invoke_min": int(invoke.min()), "invoke_max": int(invoke.max()),
            "per_op": [float(v) for v in ops.mean(axis=0)],
            "interpreter": float(invoke.mean() - ops.sum(axis=1).mean())}  # fmt: skip


def _digest(*blobs: bytes) -> str:
    h = hashlib.sha256()
    for b in blobs:
        h.update(hashlib.sha256(b).digest())
    return h.hexdigest()[:20]


def emulate(
    model_path: str,
    inputs: np.ndarray,
    target_name: str,
    source: str | None = None,
    cache: str | None = None,
    timeout_s: float = 600,
    jobs: int | None = None,
) -> dict:
    """Emulate ``model_path`` on ``target_name`` for each window of ``inputs`` (the model's own
    input dtype, shape [n, ...]). Returns the counts, the arena, the native outputs and timings;
    a cached result when the same model, inputs and build were emulated before."""
    with open(model_path, "rb") as fh:
        content = fh.read()
    x = np.ascontiguousarray(inputs)
    build = build_runner(target_name, source, cache, jobs=jobs)
    key = _digest(content, x.tobytes(), str(x.dtype).encode(), build["recipe"].encode())
    store = os.path.join(cache_root(cache), "results", f"{key}.json")
    if os.path.isfile(store):
        with open(store) as fh:
            rec = json.load(fh)
        rec["cached"] = True
        return rec
    plugin = build_plugin(cache)
    target = TARGETS[target_name]
    with tempfile.TemporaryDirectory(prefix="ecg-energy-emulate-") as tmp:
        with open(os.path.join(tmp, "model.tflite"), "wb") as fh:
            fh.write(content)
        with open(os.path.join(tmp, "inputs.bin"), "wb") as fh:
            fh.write(x.tobytes())
        marks_path = os.path.join(tmp, "marks.txt")
        cmd = ["qemu-system-arm", "-M", target.machine, "-cpu", target.cpu, "-nographic",
               "-monitor", "none", "-serial", "none",
               "-semihosting-config", "enable=on,target=native", "-kernel", build["elf"],
               "-plugin", f"{plugin},mark={build['mark_addr']:#x},out={marks_path}"]  # fmt: skip
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise ModelError(
                f"{model_path}: the emulation did not finish in {timeout_s:g} s"
            ) from exc
        wall = time.perf_counter() - t0
        parsed = parse_output(proc.stdout + "\n" + proc.stderr)  # semihosting writes to stderr
        if parsed["error"] or proc.returncode:
            raise _failure(model_path, parsed, proc)
        with open(marks_path) as fh:
            lines = fh.read().split()
    total = int(lines[-1]) if lines and lines[-2:-1] == ["total"] else None
    marks = [int(v) for v in lines if v.isdigit()]
    if total is not None:
        marks = marks[:-1]
    counts = split_marks(marks, len(parsed["ops"]), parsed["windows"])
    rec = {"model_sha256": hashlib.sha256(content).hexdigest(), "target": target_name,
           "machine": target.machine, "build": build["recipe"], "ops": parsed["ops"],
           "instructions": counts, "arena_bytes": parsed["arena_bytes"],
           "windows": parsed["windows"], "outputs": [o.hex() for o in parsed["outputs"]],
           "total_instructions": total, "emulation_s": round(wall, 3), "cached": False}  # fmt: skip
    os.makedirs(os.path.dirname(store), exist_ok=True)
    tmp_store = store + ".tmp"
    with open(tmp_store, "w") as fh:
        json.dump(rec, fh)
    os.replace(tmp_store, store)
    return rec


def _failure(model_path: str, parsed: dict, proc: subprocess.CompletedProcess) -> Exception:
    log = " ".join(parsed["log"])
    if MISSING_RE_TEXT in log:
        ops = sorted({chunk.split("'")[0] for chunk in log.split(MISSING_RE_TEXT)[1:]})
        return ModelError(f"{model_path}: the emulated TFLM build has no kernel for "
                          f"{', '.join(ops)} (it has {', '.join(operator_names())})")  # fmt: skip
    if "larger than the runner's model buffer" in (parsed["error"] or ""):
        return ModelError(f"{model_path}: the model is larger than the emulator's 4 MiB model "
                          "buffer")  # fmt: skip
    if "Failed to resize buffer" in log or "arena" in log.lower():
        return ModelError(f"{model_path}: the model's tensors do not fit the emulator's 8 MiB "
                          f"arena ({log[:200]})")  # fmt: skip
    detail = (
        parsed["error"] or (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    )
    if "qemu" in (proc.stderr or "").lower() and not parsed["error"]:
        return ConfigError(f"QEMU could not run the emulation: {detail}")
    return ModelError(f"{model_path}: the emulated TFLM stopped: {detail}"
                      + (f" ({log[:200]})" if log else ""))  # fmt: skip


def outputs_array(rec: dict, dtype: str) -> np.ndarray:
    """The emulated native outputs as an array [windows, outputs] of ``dtype``."""
    return np.stack([np.frombuffer(bytes.fromhex(h), dtype=dtype) for h in rec["outputs"]])
