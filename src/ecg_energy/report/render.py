"""Write a run's reports from ``results.json`` alone: results.csv, report.md and report.html."""

from __future__ import annotations

import csv
import io
import os

from ..fsio import atomic_write_text
from .figures import trial_methods
from .fmt import aha_cell, pct


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
        row["runtime"] = (v.get("runtime") or {}).get("runtime", "")
        for b, m in sorted(v["measurements"].items(), key=lambda kv: int(kv[0])):
            if m.get("error"):
                row[f"b{b}_error"] = m["error"]
                continue
            row[f"b{b}_invalid"] = m.get("invalid", "")
            for kind in ("net", "gross"):
                e = m.get(f"energy_j_per_inference_{kind}")
                if not e:
                    continue
                co2 = m.get(f"co2e_kg_per_inference_{kind}") or {}
                if e.get("median") is None:  # unresolved: its upper bound, never a negative figure
                    row[f"b{b}_{kind}_status"] = "unresolved"
                    row[f"b{b}_{kind}_j_upper"] = e.get("upper_j") or ""
                    continue
                row[f"b{b}_{kind}_status"] = "resolved"
                row[f"b{b}_{kind}_j"] = e["median"]
                row[f"b{b}_{kind}_j_ci_low"], row[f"b{b}_{kind}_j_ci_high"] = e["ci95"]
                row[f"b{b}_{kind}_j_spread"] = e.get("spread")
                row[f"b{b}_{kind}_co2e_kg"] = co2.get("median", "")
            row[f"b{b}_latency_s"] = m["latency_s_per_inference"]["median"]
            row[f"b{b}_meter_overhead"] = m.get("meter_overhead_fraction", "")
            row[f"b{b}_meter_overhead_ci_low"], row[f"b{b}_meter_overhead_ci_high"] = (
                m.get("meter_overhead_ci95") or ["", ""])  # fmt: skip
            row[f"b{b}_repeated_windows"] = m.get("repeated_windows", "")
            methods, row[f"b{b}_measured"] = trial_methods(m)
            row[f"b{b}_method"] = ";".join(methods)
        seed = v.get("seed_window") or {}
        row["seed_kwh_per_1000"] = "" if seed.get("too_short") else seed.get("kwh_per_1000", "")
        row["seed_too_short"] = seed.get("too_short", "")
        for board, d in (v.get("device") or {}).items():
            if d.get("skipped"):
                row[f"dev_{board}_skipped"] = d["skipped"]
                continue
            for key in ("energy_j", "energy_j_low", "energy_j_high", "latency_s", "sram_bytes",
                        "flash_bytes", "fits", "realtime", "battery_days"):  # fmt: skip
                row[f"dev_{board}_{key}"] = "" if d.get(key) is None else d[key]
            row[f"dev_{board}_method"] = d.get("method") or ""
            imp = d.get("imported") or {}
            row[f"dev_{board}_measured_j"] = imp.get("energy_j", "")
        a = v.get("accuracy") or {}
        row.update(accuracy=a.get("accuracy", ""), balanced_accuracy=a.get("balanced_accuracy", ""),
                   macro_f1=a.get("macro_f1", ""), aha_all_pass=a.get("aha_all_pass", ""),
                   pareto=name in rec["pareto"], recommended=name == rec["variant"],
                   ranked_by=(rec.get("ranked") or {}).get("basis", ""))  # fmt: skip
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
    from .figures import figure_of
    from .fmt import energy_text, fmt_j
    from .recommend import ranked_config

    rec = res["recommendation"]
    rc = ranked_config(rec)
    lines, methods = [], set()
    for name, v in res["variants"].items():
        e, _why = figure_of(v, rc)
        if e:
            methods.add(
                f"{e['method']}, {'measured' if e['measured'] else 'MODELLED, not measured'}"
            )
        m = v["measurements"].get(str(rc.batch)) or {}
        net = ("" if rc.energy == "measured-net" or not m.get("energy_j_per_inference_net")
               else f"  (net {energy_text(m['energy_j_per_inference_net'])})")  # fmt: skip
        if m.get("invalid"):
            net = "  (measurement invalid: contaminated windows)"
        a = v.get("accuracy") or {}
        lines.append(f"  {name:<22} {fmt_j(e['j']) if e else 'n/a':>10}  balanced accuracy "
                     f"{pct(a.get('balanced_accuracy'))}  AHA {aha_cell(a) if a else 'n/a'}{net}")  # fmt: skip
    head = f"recommendation: {rec['variant']}" if rec["variant"] else "recommendation: none"
    return [
        head,
        f"  {rec['reason']}",
        *[f"  caveat: {c}" for c in rec["caveats"]],
        f"energy ranked: {rc.energy} ({'; '.join(sorted(methods)) or 'none'})",
        *lines,
    ]
