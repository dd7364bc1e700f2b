"""The emulated method inside ``devices.assess``: emulate each INT8 model once per core, compare
its outputs with TFLM's on the host bit for bit, and replace each board's per-MAC row by the
emulated one where the board has an emulated calibration (else the per-MAC row stays, saying so).
"""

from __future__ import annotations

import numpy as np

from ...errors import ModelError
from .price import load_calibration, price_emulated
from .targets import core_has_fpu, target_for_core

EMULATED_WINDOWS = 4  # windows emulated per model (and compared with TFLM on the host)


def default_inputs(model_path: str, n: int = 4, seed: int = 0) -> np.ndarray:
    """``n`` windows of seeded random values in the model's input dtype, for a model given
    without data (the counts of an INT8 network barely depend on the values)."""
    from ai_edge_litert.interpreter import Interpreter

    d = Interpreter(model_path=model_path).get_input_details()[0]
    shape, dtype = tuple(int(v) for v in d["shape"]), np.dtype(d["dtype"])
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max + 1, size=(n, *shape[1:]), dtype=dtype)
    return rng.standard_normal((n, *shape[1:])).astype(dtype)


def compare(emulated: np.ndarray, host: np.ndarray) -> dict:
    """Bit-for-bit comparison of the emulated and host TFLM outputs ([windows, outputs]).

    >>> compare(np.array([[1, 2], [3, 4]]), np.array([[1, 2], [3, 5]]))
    {'windows': 2, 'identical': 0.5, 'max_abs_diff': 1.0}"""
    a = np.asarray(emulated).reshape(len(emulated), -1).astype(np.float64)
    b = np.asarray(host).reshape(len(host), -1).astype(np.float64)
    if a.shape != b.shape:
        return {"windows": int(len(a)), "identical": 0.0, "max_abs_diff": None}
    d = np.abs(a - b)
    return {"windows": int(len(a)), "identical": float(np.mean(np.all(d == 0, axis=1))),
            "max_abs_diff": float(d.max()) if d.size else 0.0}  # fmt: skip


def emulate_model(path: str, inputs: np.ndarray, target: str, source: str | None,
                  echo=lambda m: None) -> dict:  # fmt: skip
    """One emulation with its bit-for-bit comparison against TFLM on the host."""
    from .. import tflm
    from .run import emulate, outputs_array

    rec = emulate(path, inputs, target, source or None)
    echo(f"  device: emulated {target}: {rec['instructions']['invoke']:,.0f} instructions per "
         f"inference ({rec['windows']} windows, {rec['emulation_s']:.1f} s"
         f"{', cached' if rec.get('cached') else ''})")  # fmt: skip
    host = tflm.check(path, inputs)
    if host.get("outputs") is not None:
        emu_out = outputs_array(rec, str(np.asarray(host["outputs"]).dtype))
        rec["agreement_host_tflm"] = compare(emu_out, host["outputs"])
    else:
        rec["agreement_host_tflm"] = {"windows": 0, "identical": None, "max_abs_diff": None,
                                      "error": host.get("error")}  # fmt: skip
    return rec


def emulate_rows(by_device: dict, models: dict, profiles: list, cfg, cycle, battery,
                 echo=lambda m: None) -> None:  # fmt: skip
    """Replace rows of ``by_device`` in place by the emulated method."""
    cal = load_calibration().get("boards", {})
    done: dict[tuple[str, str], dict | Exception] = {}
    for p in profiles:
        target = target_for_core(p.core)
        for name, m in models.items():
            base = by_device[p.name][name]
            if m.get("format") != "tflite":
                continue
            if base.get("precision") == "float" and not core_has_fpu(p.core):
                base["skipped"] = (f"a float model on {p.name}, whose core ({p.core}) has no "
                                   "FPU: quantize it to INT8 (--quantize)")  # fmt: skip
                continue
            if base.get("skipped"):
                continue
            fit = cal.get(p.name)
            if target is None or fit is None:
                why = (f"no emulated build for {p.core}" if target is None
                       else f"{p.name} has no emulated calibration")  # fmt: skip
                base["notes"].append(f"{why}: priced per MAC")
                continue
            key = (m["file"], target.name)
            if key not in done:
                inputs = m.get("_inputs")
                x = (
                    inputs[:EMULATED_WINDOWS]
                    if inputs is not None
                    else default_inputs(m["file"], n=2)
                )
                try:
                    done[key] = emulate_model(m["file"], x, target.name, cfg.tflm_source, echo)
                except ModelError as exc:
                    done[key] = exc
            rec = done[key]
            if isinstance(rec, Exception):
                base["skipped"] = str(rec)
                continue
            row = price_emulated(p, base, rec, fit, cycle, battery)
            row["emulation"] = {k: rec[k] for k in ("target", "machine", "build", "windows",
                                                    "emulation_s", "cached", "arena_bytes",
                                                    "total_instructions")}  # fmt: skip
            row["emulation"]["agreement_host_tflm"] = rec.get("agreement_host_tflm")
            agree = rec.get("agreement_host_tflm") or {}
            if agree.get("identical") is not None and agree["identical"] < 1.0:
                row["notes"].append(
                    f"emulated outputs differ from TFLM on the host on "
                    f"{100 * (1 - agree['identical']):.0f}% of {agree['windows']} windows (largest "
                    f"difference {agree['max_abs_diff']:g} steps)")  # fmt: skip
            by_device[p.name][name] = row
