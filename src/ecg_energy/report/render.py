"""Write a run's reports from ``results.json`` alone: results.csv, report.md and report.html."""

from __future__ import annotations

import csv
import io
import os

from ..fsio import atomic_write_text
from .fmt import aha_cell, pct
from .recommend import RecommendConfig, trial_methods


def csv_rows(res: dict) -> list[dict]:
    """One row per variant: what it is, its counts, estimates, measurements and accuracy."""
    rec = res["recommendation"]
    rows = []
    for name, v in res["variants"].items():
        c = v["counts"]
        row = {
            "variant": name, "source": v["source"], "format": v["format"],
            "precision": v["precision"], "parent": v["parent"] or "", "file": v["file"],
            "size_bytes": v["size_bytes"], "macs": c.get("macs"),
            "macs_by_precision": ";".join(f"{p}={n}" for p, n in
                                          (c.get("macs_by_precision") or {}).items()),
            "profiler_flops": c.get("profiler_flops") or "",
            "weight_bytes": c.get("weight_bytes"),
        }  # fmt: skip
        for table, e in v["estimates"].items():
            row[f"est_{table}_low_j"] = e["low_j"]
            row[f"est_{table}_high_j"] = e["high_j"]
        for b, m in sorted(v["measurements"].items(), key=lambda kv: int(kv[0])):
            if m.get("error"):
                row[f"b{b}_error"] = m["error"]
                continue
            for kind in ("net", "gross"):
                e = m[f"energy_j_per_inference_{kind}"]
                row[f"b{b}_{kind}_j"] = e["median"]
                row[f"b{b}_{kind}_j_ci_low"], row[f"b{b}_{kind}_j_ci_high"] = e["ci95"]
                row[f"b{b}_{kind}_j_spread"] = e.get("spread")
                co2 = m.get(f"co2e_kg_per_inference_{kind}")
                row[f"b{b}_{kind}_co2e_kg"] = co2["median"] if co2 else ""
            row[f"b{b}_latency_s"] = m["latency_s_per_inference"]["median"]
            row[f"b{b}_meter_overhead"] = m.get("meter_overhead_fraction", "")
            row[f"b{b}_meter_overhead_ci_low"], row[f"b{b}_meter_overhead_ci_high"] = (
                m.get("meter_overhead_ci95") or ["", ""])  # fmt: skip
            methods, row[f"b{b}_measured"] = trial_methods(m)
            row[f"b{b}_method"] = ";".join(methods)
        seed = v.get("seed_window") or {}
        row["seed_kwh_per_1000"] = seed.get("kwh_per_1000", "")
        a = v.get("accuracy") or {}
        row.update(accuracy=a.get("accuracy", ""), balanced_accuracy=a.get("balanced_accuracy", ""),
                   macro_f1=a.get("macro_f1", ""), aha_all_pass=a.get("aha_all_pass", ""),
                   pareto=name in rec["pareto"], recommended=name == rec["variant"])  # fmt: skip
        rows.append(row)
    return rows


def render_csv(res: dict) -> str:
    rows = csv_rows(res)
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def render_all(res: dict, out: str) -> list[str]:
    """Write results.csv, report.md and report.html into ``out``, each atomically."""
    from .html import render_html
    from .markdown import render_markdown

    files = {"results.csv": render_csv(res), "report.md": render_markdown(res),
             "report.html": render_html(res)}  # fmt: skip
    for name, text in files.items():
        atomic_write_text(os.path.join(out, name), text)
    return list(files)


def summary_lines(res: dict) -> list[str]:
    """A few lines for the terminal: the recommendation and each variant's headline figures."""
    from .recommend import energy_of, fmt_j

    rec = res["recommendation"]
    lines, methods = [], set()
    for name, v in res["variants"].items():
        e = energy_of(v, _settings(rec))
        if e:
            methods.add(
                f"{e['method']}, {'measured' if e['measured'] else 'MODELLED, not measured'}"
            )
        a = v.get("accuracy") or {}
        lines.append(f"  {name:<22} {fmt_j(e['j']) if e else 'n/a':>10}  balanced accuracy "
                     f"{pct(a.get('balanced_accuracy'))}  AHA {aha_cell(a) if a else 'n/a'}")  # fmt: skip
    head = f"recommendation: {rec['variant']}" if rec["variant"] else "recommendation: none"
    return [
        head,
        f"  {rec['reason']}",
        *[f"  caveat: {c}" for c in rec["caveats"]],
        f"energy ranked: {rec['settings']['energy']} ({'; '.join(sorted(methods)) or 'none'})",
        *lines,
    ]


def _settings(rec: dict):
    return RecommendConfig(**rec["settings"])
