"""What a sweep writes: ``sweep.json`` (everything, schema-versioned), ``sweep.csv`` (one row per
trial), the report pages, and every Pareto model in ``pareto/`` (``<student>.keras`` and
``<trial>.tflite``, each with its sidecar) for ``ecg-energy run --model`` to take further.
Every file is written atomically; ``pareto/`` is replaced as a whole.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from dataclasses import asdict

from .._version import __version__
from ..fsio import atomic_write_json, atomic_write_text
from .pareto import energy_key, energy_words, excluded, front, recommend
from .space import PARAMS, Range, SweepConfig

SCHEMA = 1
LEADING = ("trial", "status", *PARAMS, "macs", "weight_bytes", "file_bytes")
TRAILING = (
    "balanced_accuracy",
    "keras_balanced_accuracy",
    "accuracy",
    "macro_f1",
    "shock_sensitivity",
    "shock_specificity",
    "aha_pass",
    "aha_failed",
    "on_front",
    "train_seconds",
    "epochs",
    "best_epoch",
    "seconds",
    "session",
    "node",
    "error",
)
LEFT_OUT = (
    "aha",
    "macs_by_precision",
    "objective_energy_j",
    "objective_accuracy",
    "reused",
    "student_reused",
    "keras_file",
    "tflite_file",
)


def columns(rows: list[dict]) -> list[str]:
    """sweep.csv's columns: the configuration and size, then the energies (estimates, devices,
    host) in the order they first appear, then accuracy, the AHA result and the seconds."""
    middle: list[str] = []
    for r in rows:
        for k in r:
            if k not in LEADING and k not in TRAILING and k not in LEFT_OUT and k not in middle:
                middle.append(k)
    return [*LEADING, *middle, *TRAILING]


def csv_text(rows: list[dict]) -> str:
    cols = columns(rows)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: "" if r.get(k) is None else r.get(k) for k in cols})
    return buf.getvalue()


def space_dict(space: dict) -> dict:
    return {k: asdict(v) if isinstance(v, Range) else list(v) for k, v in space.items()}


def config_dict(cfg: SweepConfig) -> dict:
    d = asdict(cfg)
    d["space"] = space_dict(cfg.space)
    return d


def keep_pareto(out: str, rows: list[dict], names: list[str]) -> list[dict]:
    """Copy every Pareto trial's models into ``out/pareto`` (replacing what was there); the
    files kept, per trial."""
    from ..models.io import sidecar_path

    by_name = {r["trial"]: r for r in rows}
    final, old = os.path.join(out, "pareto"), os.path.join(out, ".pareto.old")
    tmp = tempfile.mkdtemp(prefix=".pareto.tmp-", dir=out)
    kept = []
    try:
        for name in names:
            r = by_name[name]
            files = {}
            for key in ("keras_file", "tflite_file"):
                src = os.path.join(out, r[key])
                ext = os.path.splitext(src)[1]
                stem = name.rsplit("-", 1)[0] if ext == ".keras" else name  # distinct sidecars
                shutil.copyfile(src, os.path.join(tmp, stem + ext))
                if os.path.isfile(sidecar_path(src)):
                    shutil.copyfile(sidecar_path(src), os.path.join(tmp, stem + ".json"))
                files[ext[1:]] = os.path.join("pareto", stem + ext)
            kept.append({"trial": name, **files})
        shutil.rmtree(old, ignore_errors=True)
        if os.path.isdir(final):
            os.replace(final, old)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return kept


def write_results(
    out: str, cfg: SweepConfig, rows: list[dict], facts: dict, run: dict, state: dict
) -> dict:
    """sweep.json, sweep.csv, front.png, report.md, report.html and pareto/; returns sweep.json's
    dict."""
    from ..fsio import atomic_write_bytes
    from .report import front_png, render_html, render_markdown

    key = energy_key(cfg)
    rows = sorted(rows, key=lambda r: r["trial"])
    on = front(rows, key)
    for r in rows:
        r["on_front"] = r["trial"] in on
    rec = recommend(rows, key, cfg.min_balanced_accuracy)
    pareto_files = keep_pareto(out, rows, on)
    done = sum(1 for r in rows if r.get("status") == "ok")
    failed = sum(1 for r in rows if r.get("status") == "error")
    res = {
        "schema_version": SCHEMA,
        "tool": "ecg-energy sweep",
        "version": __version__,
        "config": config_dict(cfg),
        "data": facts,
        "ray": run,
        "sessions": state.get("sessions", []),
        "summary": {
            "planned": run.get("planned"),
            "finished": done,
            "failed": failed,
            "not_finished": len(rows) - done - failed,
            "aha_passing": sum(1 for r in rows if r.get("status") == "ok" and r.get("aha_pass")),
        },
        "energy_ranked": {"key": key, "words": energy_words(key)},
        "trials": rows,
        "pareto": {"front": on, "excluded": excluded(rows, key), "files": pareto_files},
        "recommendation": rec,
    }
    atomic_write_json(os.path.join(out, "sweep.json"), res)
    atomic_write_text(os.path.join(out, "sweep.csv"), csv_text(rows))
    png = front_png(res)
    if png is not None:
        atomic_write_bytes(os.path.join(out, "front.png"), png)
    atomic_write_text(os.path.join(out, "report.md"), render_markdown(res))
    atomic_write_text(os.path.join(out, "report.html"), render_html(res))
    return res
