"""``results.json``: one document with everything a run found, from its stage outputs.

The reports (``report.md``, ``report.html``, ``results.csv``) are rendered from this document alone,
so ``ecg-energy report RUN_DIR`` can redo them without the models or the data. Schema (version 1):

- ``schema_version``, ``tool``, ``created``, ``machine``, ``libraries``, ``config`` (resolved);
- ``dataset`` (classes, records and split), ``evaluation`` (the held-out split it was scored on);
- ``measurement``: meter, method(s), whether measured or modelled, idle power, protocol, carbon
  intensity, and the report's own method (one CodeCarbon window around 1000 inferences) if run;
- ``variants``: per variant its file, format, precision, size, counts, per-layer counts and
  energies, estimates per table, measurements per batch size, the seed window, accuracy and AHA;
- ``published``: the evaluated report's own table, as printed there (a Tesla T4);
- ``recommendation``: the chosen variant, its reason, the Pareto set, and what was excluded.
"""

from __future__ import annotations

import datetime as _dt
import os
from importlib import metadata

from ._version import __version__
from .fsio import read_json
from .report.figures import trial_methods
from .report.recommend import RecommendConfig, recommend

SCHEMA_VERSION = 1
LIBRARIES = ("tensorflow-cpu", "tensorflow", "keras", "ai-edge-litert", "codecarbon", "wfdb",
             "neurokit2", "numpy", "jax")  # fmt: skip

# The evaluated report's table (IIIT Guwahati internship report, 2025; ANCHORS §1): FLOPs from the
# TF1 profiler, J = FLOPs x 0.45 pJ, CodeCarbon kWh and kg CO2e for 1000 inferences on a Tesla T4.
PUBLISHED = {
    "source": "IIIT Guwahati internship report (2025), Tesla T4, CodeCarbon around 1000 "
              "inferences, FLOPs x 0.45 pJ",
    "rows": [
        {"model": "Original CNN (.h5)", "variant": "original", "flops": 23038511,
         "flops_note": "", "j_per_inference": 1.04e-5, "kwh_per_1000": 0.000238,
         "co2e_kg_per_1000": 0.000068, "seconds_per_1000": 10.48},
        {"model": "Distilled CNN (.h5)", "variant": "distilled", "flops": 91902, "flops_note": "",
         "j_per_inference": 4.14e-8, "kwh_per_1000": 0.000039, "co2e_kg_per_1000": 0.000011,
         "seconds_per_1000": 1.76},
        {"model": "Quantized INT8 (.tflite)", "variant": "original-int8", "flops": 4200000,
         "flops_note": "guessed in the report", "j_per_inference": 1.89e-6,
         "kwh_per_1000": 0.000025, "co2e_kg_per_1000": 0.000007, "seconds_per_1000": 1.11},
    ],
}  # fmt: skip


def library_versions() -> dict[str, str | None]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _read(folder: str, name: str, default=None):
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        return default
    fix = ("remove it and import the measurements again with `ecg-energy import-energy`"
           if name == "device_imports.json" else "run `ecg-energy run` again with --force "
           "and the stage that wrote it")  # fmt: skip
    return read_json(path, fix)


def _measurement_summary(meas: dict) -> dict:
    per_variant = [trial_methods(v) for v in meas.get("variants", {}).values() if v.get("trials")]
    return {
        "meter": meas.get("meter"),
        "methods": sorted({m for methods, _ in per_variant for m in methods}),
        "measured": bool(per_variant) and all(measured for _, measured in per_variant),
        "parts": meas.get("parts"),
        "measured_note": meas.get("measured_note"),
        "meter_choice": meas.get("meter_choice"),
        "devices": meas.get("devices"),
        "attribution": meas.get("attribution"),
        "float_runtime": meas.get("float_runtime"),
        "idle_power_w": meas.get("idle_power_w"),
        "idle_power": meas.get("idle_power"),
        "idle_windows": meas.get("idle_windows", []),
        "contamination": meas.get("contamination"),
        "protocol": meas.get("protocol"),
        "interrupted": bool(meas.get("interrupted")),
        "rounds_done": meas.get("rounds_done"),
        "stopped_early": meas.get("stopped_early"),
        "carbon_intensity_g_per_kwh": meas.get("carbon_intensity_g_per_kwh"),
        "carbon_intensity_source": meas.get("carbon_intensity_source"),
        "seed_protocol": {k: v for k, v in (meas.get("seed") or {}).items() if k != "variants"}
        or None,
    }


def _layers(counts: dict, estimates: dict) -> list[dict]:
    """Per layer: counts and the estimated energy by table (compute, memory low/high)."""
    by_table = {t: {ly["name"]: ly for ly in e.get("layers", [])} for t, e in estimates.items()}
    out = []
    for ly in counts.get("layers", []):
        row = {k: ly[k] for k in ("name", "op", "precision", "macs", "requant", "weight_bytes",
                                  "output_shape", "counted") if k in ly}  # fmt: skip
        row["energy_j"] = {}
        for table, layers in by_table.items():
            e = layers.get(ly["name"])
            if e:
                row["energy_j"][table] = {"compute": e["compute_j"], "memory_low": e["memory_low_j"],
                                          "memory_high": e["memory_high_j"]}  # fmt: skip
        out.append(row)
    return out


def _measurements_of(name: str, meas: dict, comparison: bool = False) -> dict:
    """{batch: measurement} of variant ``name`` on its own runtime, or (``comparison``) on the
    other runtime it was also measured on (keys ``name@batch:runtime``)."""
    out = {}
    for key, v in meas.get("variants", {}).items():
        other_runtime = key != f"{v.get('name')}@{v.get('batch')}"
        if v.get("name") == name and other_runtime == comparison:
            out[str(v.get("batch"))] = {k: val for k, val in v.items() if k != "name"}
    return out


def _runtime_comparison(name: str, meas: dict) -> dict | None:
    other = _measurements_of(name, meas, comparison=True)
    if not other:
        return None
    return {"runtime": next(iter(other.values())).get("runtime"), "measurements": other}


def build_results(out: str, cfg, machine: dict, variants: list[dict]) -> dict:
    """Assemble ``results.json`` from the stage outputs in the run folder ``out`` (``cfg``: the
    run's RunConfig)."""
    from .config import to_dict

    counts = _read(out, "counts.json", {})
    estimates = _read(out, "estimates.json", {})
    meas = _read(out, "measurements.json", {})
    evaluation = _read(out, "evaluation.json", {"variants": {}})
    device = _read(out, "device.json", None)
    imports = _read(out, "device_imports.json", [])
    built = {v["name"]: v for v in variants}
    seed = (meas.get("seed") or {}).get("variants", {})
    rows = {}
    for name, c in counts.items():
        v = built.get(name, {})
        acc = dict(evaluation["variants"].get(name) or {})
        # a built-in model lives in the run folder (named relative to it); a user's where it was
        path = os.path.join(out, v["path"]) if v else c.get("file", "")
        est = {t: {k: val for k, val in e.items() if k != "layers"}
               for t, e in estimates.get(name, {}).get("estimates", {}).items()}  # fmt: skip
        rows[name] = {
            "name": name,
            # built-in, user-original / from-user-original (--original, --student), or user
            # (a model of yours evaluated beside them, --model)
            "source": v.get("source", "built-in") if name in built else "user",
            "description": v.get("description") or f"your model {os.path.basename(path)}",
            "file": v["path"] if v else path,
            "format": acc.get("format") or v.get("format") or c.get("source"),
            "precision": acc.get("precision") or v.get("precision"),
            "parent": v.get("parent", acc.get("parent")),
            "size_bytes": os.path.getsize(path) if os.path.isfile(path) else None,
            "train": {"seconds": v.get("train_seconds"), "epochs": v.get("epochs")} if v else None,
            "counts": {k: val for k, val in c.items() if k not in ("layers", "file")},
            "layers": _layers(c, estimates.get(name, {}).get("estimates", {})),
            "estimates": est,
            "runtime": (meas.get("runtimes") or {}).get(name),
            "measurements": _measurements_of(name, meas),
            "runtime_comparison": _runtime_comparison(name, meas),
            "seed_window": seed.get(name),
            "accuracy": {k: val for k, val in acc.items() if k not in ("file",)} or None,
            "device": _device_rows(name, device, imports),
        }
    results = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ecg-energy", "version": __version__},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine,
        "libraries": library_versions(),
        "config": to_dict(cfg),
        "dataset": _read(out, "dataset.json", {}),
        "evaluation": {
            "split": evaluation.get("split"),
            "records": evaluation.get("records", []),
            **{
                k: evaluation[k]
                for k in ("folds", "records_by_fold", "spread", "per_fold")
                if k in evaluation
            },
        },
        "measurement": _measurement_summary(meas),
        "variants": rows,
        "published": PUBLISHED,
    }
    if device:
        results["device"] = {**{k: device[k] for k in ("settings", "profiles", "models")},
                             "by_device": {d: {n: rows[n]["device"][d] for n in rows
                                               if d in (rows[n]["device"] or {})}
                                           for d in device["by_device"]},
                             "imports": imports}  # fmt: skip
    if evaluation.get("alarms"):  # the models scored at ICU alarms (api.evaluate_alarms)
        results["alarms"] = evaluation["alarms"]
    results["recommendation"] = _recommend(rows, cfg.recommend, device)
    return results


def _device_rows(name: str, device: dict | None, imports: list[dict]) -> dict | None:
    """{board: the variant's device row, with an imported on-device measurement if any}."""
    if not device:
        return None
    out = {}
    for dev, models in device["by_device"].items():
        if name in models:
            row = dict(models[name])
            imp = _import_for(imports, dev, name)
            if imp:
                row["imported"] = imp
            out[dev] = row
    return out


def _recommend(rows: dict, rc: RecommendConfig, device: dict | None) -> dict:
    """The recommendation, with a sentence per assessed board for the chosen variant."""
    from .report.recommend import device_lines

    boards = list(device["by_device"]) if device else []
    rec = recommend(rows, rc, boards)
    if device and rec.get("variant"):
        lines = device_lines(rows, rec["variant"], boards)
        rec["device"] = lines
        # ranked on a board, the reason already speaks of it: one sentence; the lines stand apart
        if lines and not rec["ranked"]["basis"].startswith("device:"):
            rec["reason"] += " " + " ".join(lines)
    return rec


def with_imports(results: dict, records: list[dict]) -> dict:
    """``results`` with imported on-device measurements joined to the device rows (beside the
    prediction) and the recommendation redone (it ranks a measured device figure first)."""
    import copy

    from .report.recommend import settings_config

    out = copy.deepcopy(results)
    dev = out.get("device")
    if not dev:
        return out
    dev["imports"] = records
    for name, v in out["variants"].items():
        for board, row in (v.get("device") or {}).items():
            row.pop("imported", None)
            imp = _import_for(records, board, name)
            if imp:
                row["imported"] = imp
            dev["by_device"].setdefault(board, {})[name] = row
    return rerecommend(out, settings_config(out["recommendation"]))


def _import_for(records: list[dict], board: str, name: str) -> dict | None:
    """The imported on-device measurement of variant ``name`` on ``board``, if any."""
    return next((i for i in records if i["device"] == board and i["model"] == name), None)


def rerecommend(results: dict, rc: RecommendConfig) -> dict:
    """``results`` with its recommendation recomputed under ``rc`` (and the config updated)."""
    from dataclasses import asdict

    out = {**results, "config": {**results.get("config", {}), "recommend": asdict(rc)}}
    out["recommendation"] = _recommend(results["variants"], rc, results.get("device"))
    return out


def check_results(results: dict, path: str) -> None:
    """Refuse a results document this version cannot render, with one line saying why."""
    from .errors import DataError

    if not isinstance(results, dict) or "variants" not in results:
        raise DataError(f"{path}: not an ecg-energy results.json (no variants); pass a run folder")
    if results.get("schema_version") != SCHEMA_VERSION:
        raise DataError(f"{path}: results schema version {results.get('schema_version')!r}, this "
                        f"ecg-energy reads version {SCHEMA_VERSION}; re-run `ecg-energy run`")  # fmt: skip
