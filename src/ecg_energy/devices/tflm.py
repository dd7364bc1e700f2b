"""The real TFLM runtime on a model: its arena, the operators it lacks, its outputs.

TensorFlow Lite for Microcontrollers (the ``tflite-micro`` package: the runtime itself, built for
the host) allocates a model's tensors in one arena; its recording allocator reports how many bytes
the model needed ("Arena allocation total"). That is the SRAM a microcontroller must give the
model, plus the runtime's own overhead stated in the device profile. The host build is 64-bit:
TFLM's per-tensor and per-node structs hold pointers, so a 32-bit MCU needs the same or a little
less (the tensor data, most of the arena, is the same).

Each check runs in a child process (``python -m ecg_energy.devices.tflm``): the runtime prints
to the C stderr, and a model it cannot run must not take the command down with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ARENA_RE = re.compile(r"Arena allocation total (\d+) bytes")
HEAD_RE = re.compile(r"Arena allocation head (\d+) bytes")
TAIL_RE = re.compile(r"Arena allocation tail (\d+) bytes")
MISSING_RE = re.compile(r"Didn't find op for builtin opcode '([A-Z0-9_]+)'")
PROBE_ARENA = 16 << 20  # bytes the host gives the interpreter; the recording reports the need


def available() -> str | None:
    """The installed tflite-micro version, or None when it is not installed (only then: any
    other failure of TFLM is reported with its own cause by ``check``)."""
    from importlib import metadata

    try:
        return metadata.version("tflite-micro")
    except metadata.PackageNotFoundError:
        return None


def stopped_why(returncode: int, stderr: str) -> str:
    """Why the child stopped without a report, in one line: its last stderr line, else its exit
    code or the signal that killed it (-11 -> 'killed by SIGSEGV')."""
    import signal

    lines = [ln for ln in (stderr or "").strip().splitlines() if ln.strip()]
    if lines:
        return lines[-1].strip()
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}, nothing on stderr"


def check(model_path: str, inputs: np.ndarray | None = None, timeout_s: float = 600) -> dict:
    """Run TFLM on ``model_path`` in a child process: {"arena_bytes", "arena_head_bytes",
    "arena_tail_bytes", "missing_ops", "outputs" (native outputs for ``inputs``, which must be
    in the model's own dtype and shape [n, ...]), "error", "version"}."""
    version = available()
    if version is None:
        return {"error": "tflite-micro is not installed (pip install -e .)", "missing_ops": [],
                "arena_bytes": None, "outputs": None, "version": None}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="ecg-energy-tflm-") as tmp:
        args = [sys.executable, "-m", "ecg_energy.devices.tflm", model_path,
                os.path.join(tmp, "report.json")]  # fmt: skip
        if inputs is not None:
            np.save(os.path.join(tmp, "inputs.npy"), inputs)
            args.append(os.path.join(tmp, "inputs.npy"))
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return {"error": f"TFLM did not finish in {timeout_s:g} s", "missing_ops": [],
                    "arena_bytes": None, "outputs": None, "version": version}  # fmt: skip
        report_path = os.path.join(tmp, "report.json")
        if not os.path.isfile(report_path):
            why = stopped_why(proc.returncode, proc.stderr)
            return {"error": f"TFLM stopped: {why}", "missing_ops": [], "arena_bytes": None,
                    "outputs": None, "version": version}  # fmt: skip
        with open(report_path) as fh:
            report = json.load(fh)
        out_path = os.path.join(tmp, "outputs.npy")
        report["outputs"] = np.load(out_path) if os.path.isfile(out_path) else None
        report["version"] = version
        return report


def agreement(tflm_out: np.ndarray, litert_out: np.ndarray) -> dict:
    """How TFLM's outputs compare with LiteRT's on the same inputs (native outputs, [n, classes]):
    the share of windows with identical outputs, with the same top class, and the largest
    difference (in the output's own units: quantization steps for an INT8 model)."""
    a = np.asarray(tflm_out).reshape(len(tflm_out), -1)
    b = np.asarray(litert_out).reshape(len(litert_out), -1)
    if a.shape != b.shape or not len(a):
        return {"windows": int(len(a)), "identical": None, "same_class": None, "max_abs_diff": None}
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return {"windows": int(len(a)),
            "identical": float(np.mean(np.all(diff == 0, axis=1))),
            "same_class": float(np.mean(np.argmax(a, axis=1) == np.argmax(b, axis=1))),
            "max_abs_diff": float(diff.max())}  # fmt: skip


# ---- the child process ------------------------------------------------------------------------


class _Stderr:
    """Capture the C-level stderr (file descriptor 2) of this process."""

    def __enter__(self):
        sys.stderr.flush()
        self._saved = os.dup(2)
        self._file = tempfile.TemporaryFile()
        os.dup2(self._file.fileno(), 2)
        return self

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._file.seek(0)
        self.text = self._file.read().decode(errors="replace")
        self._file.close()
        return False


def _interpreter(content: bytes):
    from tflite_micro import runtime

    return runtime.Interpreter.from_bytes(content, arena_size=PROBE_ARENA)


def _single_op_models(content: bytes):
    """(builtin name, a model holding only the first operator of each kind) for every kind of
    operator in ``content``: TFLM reports one missing kernel at a time, so each kind is tried
    alone."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    names = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(content, 0))
    sub = model.subgraphs[0]
    ops = list(sub.operators or [])
    seen = {}
    for op in ops:
        seen.setdefault(op.opcodeIndex, op)
    for index, op in seen.items():
        code = model.operatorCodes[index]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        name = names.get(builtin, f"BUILTIN_{builtin}")
        if builtin == fb.BuiltinOperator.CUSTOM:
            name = f"CUSTOM:{(code.customCode or b'').decode(errors='replace')}"
        constant = {i for i, t in enumerate(sub.tensors)
                    if model.buffers[t.buffer].data is not None and len(model.buffers[t.buffer].data)}  # fmt: skip
        sub.operators = [op]
        sub.inputs = [i for i in op.inputs if i >= 0 and i not in constant]
        sub.outputs = list(op.outputs)
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        yield name, bytes(builder.Output())
    sub.operators = ops


def _missing_ops(content: bytes) -> list[str]:
    missing = []
    for name, single in _single_op_models(content):
        with _Stderr() as err, contextlib.suppress(Exception):
            _interpreter(single)
        if MISSING_RE.search(err.text) or "Failed to get registration" in err.text:
            missing.append(name)
    return missing


def _child(model_path: str, report_path: str, inputs_path: str | None) -> int:
    with open(model_path, "rb") as fh:
        content = fh.read()
    report: dict = {"arena_bytes": None, "missing_ops": [], "error": None}
    try:
        from tflite_micro import runtime  # noqa: F401
    except Exception as exc:  # installed (``check`` saw its version) but broken
        report["error"] = (f"tflite-micro is installed but does not load ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); reinstall "
                           "it: pip install --force-reinstall tflite-micro")  # fmt: skip
        _write_json(report_path, report)
        return 0
    with _Stderr() as err:
        try:
            interp = _interpreter(content)
        except Exception as exc:  # the runtime's own words are on its stderr
            interp, failure = None, exc
    if interp is None:
        first = MISSING_RE.findall(err.text)
        if first:
            report["missing_ops"] = _missing_ops(content) or first
            report["error"] = "TFLM has no kernel for " + ", ".join(report["missing_ops"])
        else:
            lines = [ln for ln in err.text.strip().splitlines() if ln.strip()]
            report["error"] = f"TFLM could not load the model: {lines[-1] if lines else failure}"
        _write_json(report_path, report)
        return 0
    outputs = []
    if inputs_path:
        x = np.load(inputs_path)
        for i in range(len(x)):
            interp.set_input(x[i : i + 1], 0)
            interp.invoke()
            outputs.append(np.array(interp.get_output(0)).reshape(-1))
    else:  # one inference on zeros, so every scratch buffer is allocated
        d = interp.get_input_details(0)
        interp.set_input(np.zeros(d["shape"], dtype=d["dtype"]), 0)
        interp.invoke()
    with _Stderr() as err:
        interp.print_allocations()
    for key, rx in (("arena_bytes", ARENA_RE), ("arena_head_bytes", HEAD_RE),
                    ("arena_tail_bytes", TAIL_RE)):  # fmt: skip
        m = rx.search(err.text)
        report[key] = int(m.group(1)) if m else None
    if report["arena_bytes"] is None:
        report["error"] = "TFLM did not report its arena allocation"
    if outputs:
        out_path = os.path.join(os.path.dirname(report_path), "outputs.npy")
        np.save(out_path, np.stack(outputs))
    _write_json(report_path, report)
    return 0


def _write_json(path: str, obj: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(obj, fh)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
