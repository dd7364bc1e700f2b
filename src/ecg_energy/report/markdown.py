"""``report.md`` from ``results.json``: the recommendation, the report's table (as published and
reproduced), our tables, and what was modelled rather than measured — in plain words.

Every figure here is formatted from ``results.json`` by the helpers in ``report.fmt``, so the two
always agree (a test checks it).
"""

from __future__ import annotations

from .fmt import (
    aha_cell,
    aha_result,
    bytes_text,
    ci_text,
    fmt_j,
    kwh,
    macs_text,
    pct,
    sci,
    seconds_text,
)
from .modelled import modelled_notes


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def recommendation_section(res: dict) -> list[str]:
    rec = res["recommendation"]
    lines = ["## Recommendation", ""]
    if rec["variant"]:
        lines.append(f"**Deploy `{rec['variant']}`.** {rec['reason']}")
    else:
        lines.append(f"**No variant is recommended.** {rec['reason']}")
    lines.append("")
    for c in rec.get("caveats", []):
        lines.append(f"- Caveat: {c}")
    lines.append(f"- Constraint: {rec['constraint']}; ranked by {rec['settings']['energy']}"
                 + (f" at batch {rec['settings']['batch']}."
                    if rec["settings"]["energy"] != "estimate"
                    else f" ({rec['settings']['table']})."))  # fmt: skip
    lines.append("- Pareto set (no other variant has both lower energy and higher balanced "
                 f"accuracy): {', '.join(f'`{p}`' for p in rec['pareto']) or 'none'}.")  # fmt: skip
    if rec["candidates"]:
        ranked = ", ".join(f"`{c['variant']}` {fmt_j(c['energy_j'])}" for c in rec["candidates"])
        lines.append(f"- Meeting the constraint, by energy: {ranked}.")
    for name, why in rec["excluded"].items():
        lines.append(f"- Excluded `{name}`: {'; '.join(why)}.")
    return lines + [""]


def published_section(res: dict) -> list[str]:
    pub = res["published"]
    lines = ["## The report's table", "", f"As published ({pub['source']}):", ""]
    rows = [[r["model"], f"{r['flops']:,}" + (f" ({r['flops_note']})" if r["flops_note"] else ""),
             sci(r["j_per_inference"]), kwh(r["kwh_per_1000"]), sci(r["co2e_kg_per_1000"]),
             f"{r['seconds_per_1000']:.2f} s"] for r in pub["rows"]]  # fmt: skip
    header = ["model", "FLOPs / inference", "est. J / inference (x0.45 pJ)",
              "kWh / 1000 inf. (CodeCarbon)", "kg CO2e", "time for 1000 inf."]  # fmt: skip
    lines += _table(header, rows)
    lines += ["", "The same method on this run's models and machine (FLOPs from the TF1 profiler "
              "for Keras files, 2 x MACs for LiteRT files; CodeCarbon around 1000 batch-1 "
              "inferences, one window, no baseline):", ""]  # fmt: skip
    rows = []
    for name, v in res["variants"].items():
        if v["source"] != "built-in":
            continue
        flat = v["estimates"].get("seed-flat")
        seed = v.get("seed_window") or {}
        rows.append(
            [
                f"`{name}`",
                f"{flat['flops_priced']:,} ({flat['flops_source']})" if flat else "n/a",
                sci(flat["low_j"]) if flat else "n/a",
                kwh(seed.get("kwh_per_1000")),
                sci(seed.get("co2e_kg")),
                seconds_text(seed.get("seconds")),
            ]
        )
    lines += _table(header, rows)
    lines += ["", "The flat 0.45 pJ per FLOP is half of Horowitz's 45 nm 32-bit float add: it "
              "undercharges a float32 multiply-accumulate (4.6 pJ) about 5x and charges INT8 the "
              "same as float32. CodeCarbon's kWh divided by its window is a constant power when "
              "the machine has no power counter, so that column ranks latency, not energy.", ""]  # fmt: skip
    return lines


def energy_section(res: dict) -> list[str]:
    tables = [t for t in res["config"]["tables"] if t != "seed-flat"]
    batches = [str(b) for b in res["config"]["batches"]]
    header = ["variant", "precision", "MACs", "size", *[f"est. J/inf ({t})" for t in tables]]
    for b in batches:
        header += [f"net J/inf b{b} [95% CI]", f"gross J/inf b{b} [95% CI]", f"latency b{b}"]
    header += ["energy method"]
    rows = []
    for name, v in res["variants"].items():
        row = [
            f"`{name}`",
            v["precision"] or "?",
            macs_text(v["counts"]),
            bytes_text(v["size_bytes"]),
        ]
        for t in tables:
            e = v["estimates"].get(t)
            row.append(f"{fmt_j(e['low_j'])} - {fmt_j(e['high_j'])}" if e else "n/a")
        methods = set()
        for b in batches:
            m = v["measurements"].get(b)
            if not m or m.get("error"):
                row += ["failed: " + m["error"] if m and m.get("error") else "not measured", "", ""]
                continue
            row += [ci_text(m["energy_j_per_inference_net"]),
                    ci_text(m["energy_j_per_inference_gross"]),
                    seconds_text(m["latency_s_per_inference"]["median"])]  # fmt: skip
            methods |= {t["method"] + (" (measured)" if t["measured"] else " (modelled)")
                        for t in m.get("trials", [])}  # fmt: skip
        row.append(", ".join(sorted(methods)) or "n/a")
        rows.append(row)
    meas = res["measurement"]
    lines = ["## Energy, by variant", ""]
    lines += _table(header, rows)
    lines += ["", f"Estimates are datapath energy from operation counts priced with the named "
              f"table (a range: memory traffic from perfect reuse to none); not device energy. "
              f"Net = gross minus idle power ({_w(meas.get('idle_power_w'))}) x time. Intervals "
              f"are 95% bootstrap intervals of the median over "
              f"{(meas.get('protocol') or {}).get('trials', '?')} interleaved trials.", ""]  # fmt: skip
    return lines


def _w(x) -> str:
    return "n/a" if x is None else f"{x:.1f} W"


def accuracy_section(res: dict) -> list[str]:
    ev = res["evaluation"]
    header = ["variant", "accuracy", "balanced accuracy", "macro F1", "agreement with parent",
              "AHA goals"]  # fmt: skip
    rows = []
    for name, v in res["variants"].items():
        a = v.get("accuracy")
        if not a:
            rows.append([f"`{name}`", "not evaluated", "", "", "", ""])
            continue
        agree = a.get("agreement_with_parent")
        rows.append([f"`{name}`", pct(a["accuracy"]), pct(a["balanced_accuracy"]),
                     f"{a['macro_f1']:.4f}", pct(agree) if agree is not None else "",
                     aha_cell(a)])  # fmt: skip
    lines = ["## Detection accuracy, by variant", "",
             f"On the held-out {ev['split']} records ({', '.join(ev['records'])}); "
             "AHA goals per Kerber et al., Circulation 1997 (estimate, lower 90% bound).", ""]  # fmt: skip
    lines += _table(header, rows)
    groups: list[str] = []
    for v in res["variants"].values():
        for g in (v.get("accuracy") or {}).get("aha") or {}:
            if g not in groups:
                groups.append(g)
    if groups:
        names = [n for n, v in res["variants"].items() if (v.get("accuracy") or {}).get("aha")]
        header = ["AHA group (goal)", *[f"`{n}`" for n in names]]
        rows = []
        for g in groups:
            first = next(res["variants"][n]["accuracy"]["aha"][g] for n in names
                         if g in res["variants"][n]["accuracy"]["aha"])  # fmt: skip
            goal = (f"> {pct(first['goal'], 0)} (bound {pct(first['lower_goal'], 0)})"
                    if first.get("goal") is not None else "(reported; no AHA goal)")  # fmt: skip
            row = [f"{g}: {first['measure']} {goal}"]
            for n in names:
                row.append(aha_result(res["variants"][n]["accuracy"]["aha"].get(g)))
            rows.append(row)
        lines += [""] + _table(header, rows)
    return lines + [""]


def run_section(res: dict) -> list[str]:
    m, ds = res["machine"], res.get("dataset", {})
    libs = ", ".join(f"{k} {v}" for k, v in res["libraries"].items())
    return ["## This run", "",
            f"- Data: {', '.join(res['config']['data'])} ({ds.get('task', '?')} task, "
            f"{ds.get('examples', '?')} examples; classes {', '.join(ds.get('classes', []))}).",
            f"- Machine: {m.get('processor')}, {m.get('cpus')} CPUs, {m.get('platform')}, "
            f"Python {m.get('python')}.",
            f"- Libraries: {libs}.",
            f"- ecg-energy {res['tool']['version']}, results schema {res['schema_version']}, "
            f"created {res['created']}.", ""]  # fmt: skip


def render_markdown(res: dict) -> str:
    lines = ["# Which ECG model to deploy: energy and CO2 per inference against accuracy", ""]
    lines += recommendation_section(res)
    lines += energy_section(res)
    lines += accuracy_section(res)
    lines += published_section(res)
    lines += ["## What was modelled rather than measured", ""]
    lines += [f"- {n}" for n in modelled_notes(res)] + [""]
    lines += run_section(res)
    return "\n".join(lines)
