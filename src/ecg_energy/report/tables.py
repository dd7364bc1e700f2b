"""The report's tables and notes as data — (header, rows) of plain strings — shared by report.md
and report.html, so both show the same figures formatted the same way (``report.fmt``).

A cell or note may mark a name as code with backticks (`` `original` ``): Markdown shows it as is,
the HTML page turns it into ``<code>``.
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
    sci_ci,
    seconds_text,
)
from .recommend import trial_methods

Table = tuple[list[str], list[list[str]]]
REPORT_HEADER = ["model", "FLOPs / inference", "est. J / inference (x0.45 pJ)",
                 "kWh / 1000 inf. (CodeCarbon)", "kg CO2e", "time for 1000 inf."]  # fmt: skip


def recommendation_lead(res: dict) -> tuple[str, str]:
    """(headline, reason): '**Deploy `x`.**'-style headline without markup, and the reason."""
    rec = res["recommendation"]
    head = f"Deploy `{rec['variant']}`." if rec["variant"] else "No variant is recommended."
    return head, rec["reason"]


def recommendation_items(res: dict) -> list[str]:
    rec, settings = res["recommendation"], res["recommendation"]["settings"]
    items = [f"Caveat: {c}" for c in rec.get("caveats", [])]
    items.append(f"Constraint: {rec['constraint']}; ranked by {settings['energy']}"
                 + (f" at batch {settings['batch']}." if settings["energy"] != "estimate"
                    else f" ({settings['table']})."))  # fmt: skip
    items.append("Pareto set (no other variant has both lower energy and higher balanced "
                 f"accuracy): {', '.join(f'`{p}`' for p in rec['pareto']) or 'none'}.")  # fmt: skip
    if rec["candidates"]:
        ranked = ", ".join(f"`{c['variant']}` {fmt_j(c['energy_j'])}" for c in rec["candidates"])
        items.append(f"Meeting the constraint, by energy: {ranked}.")
    items += [f"Excluded `{name}`: {'; '.join(why)}." for name, why in rec["excluded"].items()]
    return items


def energy_table(res: dict) -> Table:
    tables = [t for t in res["config"]["tables"] if t != "seed-flat"]
    batches = [str(b) for b in res["config"]["batches"]]
    header = ["variant", "precision", "MACs", "size", *[f"est. J/inf ({t})" for t in tables]]
    for b in batches:
        header += [f"net J/inf b{b} [95% CI]", f"gross J/inf b{b} [95% CI]", f"latency b{b}"]
    header.append("energy method")
    rows = []
    for name, v in res["variants"].items():
        row = [f"`{name}`", v["precision"] or "?", macs_text(v["counts"]),
               bytes_text(v["size_bytes"])]  # fmt: skip
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
            names, measured = trial_methods(m)
            methods |= {f"{n} ({'measured' if measured else 'modelled'})" for n in names}
        row.append(", ".join(sorted(methods)) or "n/a")
        rows.append(row)
    return header, rows


def carbon_table(res: dict) -> Table:
    """CO2e per inference (net and gross, with the energy's interval) at each batch size, and per
    1000 inferences gross (the report's column)."""
    batches = [str(b) for b in res["config"]["batches"]]
    header = ["variant"]
    for b in batches:
        header += [f"kg CO2e/inf b{b} net [95% CI]", f"kg CO2e/inf b{b} gross [95% CI]"]
    header.append(f"kg CO2e / 1000 inf. b{batches[0]} gross")
    rows = []
    for name, v in res["variants"].items():
        row = [f"`{name}`"]
        for b in batches:
            m = v["measurements"].get(b) or {}
            row += [sci_ci(m.get("co2e_kg_per_inference_net")),
                    sci_ci(m.get("co2e_kg_per_inference_gross"))]  # fmt: skip
        gross = (v["measurements"].get(batches[0]) or {}).get("co2e_kg_per_inference_gross")
        row.append(sci(gross["median"] * 1000) if gross else "n/a")
        rows.append(row)
    return header, rows


def carbon_note(res: dict) -> str:
    meas = res["measurement"]
    return (f"CO2e = the energy above x {meas.get('carbon_intensity_g_per_kwh') or 0:.2f} g per "
            f"kWh ({meas.get('carbon_intensity_source') or 'no source'}); the interval is the "
            "energy's.")  # fmt: skip


def overhead_text(res: dict) -> str:
    """The meter's own overhead over every measured variant: its range, and whether < 1% is shown
    (every 95% interval inside ±1%)."""
    cis = [(m["meter_overhead_fraction"], m.get("meter_overhead_ci95"))
           for v in res["variants"].values() for m in v["measurements"].values()
           if m.get("meter_overhead_fraction") is not None]  # fmt: skip
    if not cis:
        return ""
    meds = [c[0] for c in cis]
    shown = all(ci and ci[0] >= -0.01 and ci[1] <= 0.01 for _, ci in cis)
    return (f" The meter's own overhead (each trial against the same work run right after without "
            f"the meter) was {100 * min(meds):+.1f}% to {100 * max(meds):+.1f}% across variants: "
            + ("every 95% interval lies within ±1%." if shown else
               "not shown to be below 1% on this machine (its intervals reach past ±1%)."))  # fmt: skip


def energy_note(res: dict) -> str:
    meas = res["measurement"]
    idle = meas.get("idle_power_w")
    return (f"Estimates are datapath energy from operation counts priced with the named table (a "
            f"range: memory traffic from perfect reuse to none); not device energy. Net = gross "
            f"minus idle power ({'n/a' if idle is None else f'{idle:.1f} W'}) x time. Intervals "
            f"are 95% bootstrap intervals of the median over "
            f"{(meas.get('protocol') or {}).get('trials', '?')} interleaved trials."
            + overhead_text(res))  # fmt: skip


def accuracy_intro(res: dict) -> str:
    ev = res["evaluation"]
    return (f"On the held-out {ev['split']} records ({', '.join(ev['records'])}); AHA goals per "
            "Kerber et al., Circulation 1997 (estimate, lower 90% bound).")  # fmt: skip


def accuracy_table(res: dict) -> Table:
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
    return header, rows


def aha_table(res: dict) -> Table | None:
    """One row per AHA group, one column per variant assessed; None when no variant has one."""
    names = [n for n, v in res["variants"].items() if (v.get("accuracy") or {}).get("aha")]
    groups: list[str] = []
    for n in names:
        groups += [g for g in res["variants"][n]["accuracy"]["aha"] if g not in groups]
    if not groups:
        return None
    rows = []
    for g in groups:
        first = next(res["variants"][n]["accuracy"]["aha"][g] for n in names
                     if g in res["variants"][n]["accuracy"]["aha"])  # fmt: skip
        goal = (f"> {pct(first['goal'], 0)} (bound {pct(first['lower_goal'], 0)})"
                if first.get("goal") is not None else "(reported; no AHA goal)")  # fmt: skip
        row = [f"{g}: {first['measure']} {goal}"]
        row += [aha_result(res["variants"][n]["accuracy"]["aha"].get(g)) for n in names]
        rows.append(row)
    return ["AHA group (goal)", *[f"`{n}`" for n in names]], rows


def published_table(res: dict) -> Table:
    rows = [[r["model"], f"{r['flops']:,}" + (f" ({r['flops_note']})" if r["flops_note"] else ""),
             sci(r["j_per_inference"]), kwh(r["kwh_per_1000"]), sci(r["co2e_kg_per_1000"]),
             f"{r['seconds_per_1000']:.2f} s"] for r in res["published"]["rows"]]  # fmt: skip
    return REPORT_HEADER, rows


def reproduced_table(res: dict) -> Table:
    """The report's method on this run's built-in variants."""
    rows = []
    for name, v in res["variants"].items():
        if v["source"] != "built-in":
            continue
        flat, seed = v["estimates"].get("seed-flat"), v.get("seed_window") or {}
        rows.append([f"`{name}`",
                     f"{flat['flops_priced']:,} ({flat['flops_source']})" if flat else "n/a",
                     sci(flat["low_j"]) if flat else "n/a", kwh(seed.get("kwh_per_1000")),
                     sci(seed.get("co2e_kg")), seconds_text(seed.get("seconds"))])  # fmt: skip
    return REPORT_HEADER, rows


PUBLISHED_INTRO = "As published ({source}):"
REPRODUCED_INTRO = ("The same method on this run's models and machine (FLOPs from the TF1 profiler "
                    "for Keras files, 2 x MACs for LiteRT files; CodeCarbon around 1000 batch-1 "
                    "inferences, one window, no baseline):")  # fmt: skip
PUBLISHED_NOTE = ("The flat 0.45 pJ per FLOP is half of Horowitz's 45 nm 32-bit float add: it "
                  "undercharges a float32 multiply-accumulate (4.6 pJ) about 5x and charges INT8 "
                  "the same as float32. CodeCarbon's kWh divided by its window is a constant power "
                  "when the machine has no power counter, so that column ranks latency, not "
                  "energy.")  # fmt: skip


def run_facts(res: dict) -> list[str]:
    m, ds = res["machine"], res.get("dataset", {})
    libs = ", ".join(f"{k} {v}" for k, v in res["libraries"].items())
    return [f"Data: {', '.join(res['config']['data'])} ({ds.get('task', '?')} task, "
            f"{ds.get('examples', '?')} examples; classes {', '.join(ds.get('classes', []))}).",
            f"Machine: {m.get('processor')}, {m.get('cpus')} CPUs, {m.get('platform')}, "
            f"Python {m.get('python')}.",
            f"Libraries: {libs}.",
            f"ecg-energy {res['tool']['version']}, results schema {res['schema_version']}, "
            f"created {res['created']}."]  # fmt: skip


def reproduced_note(res: dict) -> str:
    """What to make of the reproduced table, with the windows too short for CodeCarbon named."""
    short = [f"`{n}` ({seconds_text(v['seed_window']['seconds'])})"
             for n, v in res["variants"].items()
             if v.get("seed_window") and v["seed_window"]["seconds"] < SHORT_WINDOW_S]  # fmt: skip
    note = PUBLISHED_NOTE
    if short:
        note += (f" Windows shorter than {SHORT_WINDOW_S:g} s ({', '.join(short)}) are too short "
                 "for CodeCarbon's power sampling: their figures are not reliable (CodeCarbon "
                 "issue #851).")  # fmt: skip
    return note


SHORT_WINDOW_S = 1.0
