"""The report's tables and notes as data — (header, rows) of plain strings — shared by report.md
and report.html, so both show the same figures formatted the same way (``report.fmt``).

A cell or note may mark a name as code with backticks (`` `original` ``): Markdown shows it as is,
the HTML page turns it into ``<code>``.
"""

from __future__ import annotations

import os

from .figures import figure_of, trial_methods
from .fmt import (
    aha_cell,
    aha_result,
    bytes_text,
    energy_text,
    fmt_j,
    kwh,
    macs_text,
    pct,
    sci,
    sci_ci,
    seconds_text,
)
from .recommend import ranked_config

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
    ranked = rec.get("ranked") or {"basis": settings["energy"], "order": [settings["energy"]]}
    items = [f"Caveat: {c}" for c in rec.get("caveats", [])]
    items.append(f"Constraint: {rec['constraint']}; ranked by {ranked['basis']}"
                 + (f" at batch {settings['batch']}" if ranked["basis"] != "estimate"
                    else f" ({settings['table']})")
                 + f" (order tried: {', '.join(ranked['order'])}).")  # fmt: skip
    if ranked.get("text") and ranked["text"] not in rec.get("caveats", []):
        items.append(ranked["text"])
    items.append("Pareto set (no other variant has both lower energy and higher balanced "
                 f"accuracy): {', '.join(f'`{p}`' for p in rec['pareto']) or 'none'}.")  # fmt: skip
    if rec["candidates"]:
        ranked_list = ", ".join(f"`{c['variant']}` {fmt_j(c['energy_j'])}" + (
            f" (host {fmt_j(c['host']['j'])})" if c.get("host") else "")
            for c in rec["candidates"])  # fmt: skip
        items.append(f"Meeting the constraint, by energy: {ranked_list}.")
    if ranked["basis"].startswith("device:"):
        items += [line for line in rec.get("device") or [] if line not in rec["reason"]]
    items += [f"Excluded `{name}`: {'; '.join(why)}." for name, why in rec["excluded"].items()]
    return items


RUNTIME_WORDS = {"litert": "LiteRT", "tensorflow": "TensorFlow (tf.function)", "jax": "JAX (jit)"}


def runtime_text(v: dict) -> str:
    """How a variant ran while measured: 'LiteRT', 'LiteRT fp32 (from Keras)', 'TensorFlow'."""
    rt = v.get("runtime") or {}
    name = rt.get("runtime")
    if not name:
        return "n/a"
    words = RUNTIME_WORDS.get(name, name)
    return words + (" fp32 (from Keras)" if rt.get("converted") else "")


def _energy_cells(m: dict | None) -> list[str]:
    if not m or m.get("error"):
        return ["failed: " + m["error"] if m and m.get("error") else "not measured", ""]
    if m.get("invalid"):
        return ["invalid (contaminated)", "invalid (contaminated)"]
    return [energy_text(m.get("energy_j_per_inference_net")),
            energy_text(m.get("energy_j_per_inference_gross"))]  # fmt: skip


def energy_table(res: dict) -> Table:
    tables = [t for t in res["config"]["tables"] if t != "seed-flat"]
    batches = [str(b) for b in res["config"]["batches"]]
    header = ["variant", "precision", "runtime", "MACs", "size",
              *[f"est. J/inf ({t})" for t in tables]]  # fmt: skip
    for b in batches:
        header += [f"net J/inf b{b} [95% CI]", f"gross J/inf b{b} [95% CI]", f"latency b{b}"]
    header.append("energy method")
    rows = []
    for name, v in res["variants"].items():
        row = [f"`{name}`", v["precision"] or "?", runtime_text(v), macs_text(v["counts"]),
               bytes_text(v["size_bytes"])]  # fmt: skip
        for t in tables:
            e = v["estimates"].get(t)
            row.append(f"{fmt_j(e['low_j'])} - {fmt_j(e['high_j'])}" if e else "n/a")
        methods = set()
        for b in batches:
            m = v["measurements"].get(b)
            row += _energy_cells(m)
            if not m or m.get("error"):
                row.append("")
                continue
            row.append(seconds_text(m["latency_s_per_inference"]["median"]))
            names, measured = trial_methods(m)
            partly = not measured and any("measured" in (t.get("sources") or {}).values()
                                          for t in m.get("trials", []))  # fmt: skip
            kind = "measured" if measured else "partly measured" if partly else "modelled"
            methods |= {f"{n} ({kind})" for n in names}
        row.append(", ".join(sorted(methods)) or "n/a")
        rows.append(row)
    return header, rows


SAVINGS_INTRO = ("What each step saves, by its cause (every variant measured on the same runtime "
                 "unless the step is the runtime):")  # fmt: skip


def savings_table(res: dict) -> Table | None:
    """What each step from the original saves, by its cause: the runtime (TensorFlow -> LiteRT,
    same weights), quantization (float32 -> INT8, same network), distillation (the original ->
    the student, same precision). Ratios of the energy the recommendation ranked (gross where it
    ranked an estimate) and of latency, at its batch size."""
    rc = ranked_config(res["recommendation"])
    basis = rc.energy if rc.energy != "estimate" else "measured-gross"
    b = str(rc.batch)
    var = res["variants"]
    steps = []
    for name, v in var.items():
        cmp = v.get("runtime_comparison") or {}
        if cmp.get("measurements", {}).get(b):
            other = {"measurements": cmp["measurements"]}
            pair = ((other, cmp["runtime"]), (v, (v.get("runtime") or {}).get("runtime")))
            if pair[0][1] != "tensorflow":  # always from TensorFlow to LiteRT
                pair = pair[::-1]
            steps.append(("runtime", f"`{name}` on {RUNTIME_WORDS.get(pair[0][1], pair[0][1])}",
                          pair[0][0], f"`{name}` on {RUNTIME_WORDS.get(pair[1][1], pair[1][1])}",
                          pair[1][0]))  # fmt: skip
    for cause, a, z in (("quantization", "original", "original-int8"),
                        ("quantization", "distilled", "distilled-int8"),
                        ("distillation", "original", "distilled"),
                        ("distillation", "original-int8", "distilled-int8")):  # fmt: skip
        if a in var and z in var:
            steps.append((cause, f"`{a}`", var[a], f"`{z}`", var[z]))
    if not steps:
        return None
    rows = []
    for cause, a_name, a, z_name, z in steps:
        ea, why_a = figure_of(a, rc, basis)
        ez, why_z = figure_of(z, rc, basis)
        energy = (f"{ea['j'] / ez['j']:.3g}x ({fmt_j(ea['j'])} -> {fmt_j(ez['j'])})"
                  if ea and ez and ez["j"] > 0 else f"n/a ({why_a or why_z})")  # fmt: skip
        la = ((a.get("measurements") or {}).get(b) or {}).get("latency_s_per_inference")
        lz = ((z.get("measurements") or {}).get(b) or {}).get("latency_s_per_inference")
        lat = (f"{la['median'] / lz['median']:.3g}x ({seconds_text(la['median'])} -> "
               f"{seconds_text(lz['median'])})" if la and lz and lz["median"] else "n/a")  # fmt: skip
        rows.append([cause, a_name, z_name, energy, lat])
    kind = basis.replace("measured-", "")
    return (["cause", "from", "to", f"{kind} energy per inference, b{b} (from / to)",
             f"latency b{b} (from / to)"], rows)  # fmt: skip


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
    if not all(ci for _, ci in cis):
        verdict = "from a single paired round, so without an interval."
    elif shown:
        verdict = "every 95% interval lies within ±1%."
    else:
        verdict = "not shown to be below 1% on this machine (its intervals reach past ±1%)."
    return (
        f" The meter's own overhead (each trial of the first rounds against the same work run "
        f"right after without the meter) was {100 * min(meds):+.1f}% to "
        f"{100 * max(meds):+.1f}% across variants: {verdict}"
    )


def energy_note(res: dict) -> str:
    meas = res["measurement"]
    proto = meas.get("protocol") or {}
    idle = meas.get("idle_power") or {}
    if idle.get("median") is not None:
        lo, hi = idle["ci95"]
        idle_text = (f"{idle['median']:.2f} W [{lo:.2f}, {hi:.2f}], spread {idle['spread']:.2f}, "
                     f"over {idle['trials']} idle windows of {proto.get('idle_seconds', '?')} s")  # fmt: skip
    else:
        idle_text = "no clean idle window"
    return (f"Estimates are datapath energy from operation counts priced with the named table (a "
            f"range: memory traffic from perfect reuse to none); not device energy. Net = gross "
            f"minus the idle power of the trial's own round x the trial's time, paired per round "
            f"(idle power {idle_text}); a net figure whose 95% interval reaches zero is shown as "
            f"unresolved, with its upper bound. Intervals are 95% bootstrap intervals of the "
            f"median over {rounds_text(meas)}: they say how this run's rounds agree, not where "
            f"another run would land (a machine's drift between runs, minutes apart, is not in "
            f"them: `run --force measure` repeats the measurement)."
            + attribution_text(res) + contamination_text(res) + overhead_text(res))  # fmt: skip


def rounds_text(meas: dict) -> str:
    """'5 interleaved rounds', or for rounds stopped early 'the 3 interleaved rounds that ran (of
    at most 5: stopped when every net figure was resolved and ...)'."""
    trials = (meas.get("protocol") or {}).get("trials", "?")
    if not meas.get("stopped_early"):
        return f"{trials} interleaved rounds"
    return (
        f"the {meas['rounds_done']} interleaved rounds that ran (of at most {trials}: stopped "
        f"when {meas['stopped_early']})"
    )


def attribution_text(res: dict) -> str:
    meas = res["measurement"]
    att = meas.get("attribution")
    if not att:
        return ""
    return (" Attribution: " + ("this process only (CodeCarbon's process mode: its share of the "
            "CPUs; other processes' work is not in the figures)" if att == "process" else
            "the whole machine (every process's work is in the figures)") + ".")  # fmt: skip


def contamination_text(res: dict) -> str:
    """How many windows other processes disturbed: repeated, left out, and invalid measurements."""
    c = res["measurement"].get("contamination")
    if not c:
        return ""
    invalid = [f"`{n}` b{b}" for n, v in res["variants"].items()
               for b, m in v["measurements"].items() if m.get("invalid")]  # fmt: skip
    seen = c.get("max_seen")
    text = (f" Other processes: {c['repeated']} of {c['windows']} windows were repeated because "
            f"other processes used more than {100 * c['max_other_share']:.0f}% of the machine "
            f"(at most {c['max_repeats']} repeats each); {c['contaminated']} stayed above it and "
            f"were left out" + (f"; the busiest window saw {100 * seen:.0f}%" if seen is not None
                                else "") + ".")  # fmt: skip
    if invalid:
        text += (f" Invalid (windows stayed contaminated in most rounds, no energy figure): "
                 f"{', '.join(invalid)}.")  # fmt: skip
    return text


def decision_words(res: dict) -> str:
    """How the windows' rhythms were decided, when over more than one window."""
    how = next(((v.get("accuracy") or {}).get("decision") for v in res["variants"].values()
                if (v.get("accuracy") or {}).get("decision")), None)  # fmt: skip
    if not how:
        return ""
    span = (f" ({how['seconds_of_ecg']:g} s of ECG, one inference every {how['stride_s']:g} s)"
            if how.get("seconds_of_ecg") is not None else "")  # fmt: skip
    return (f" Each window's rhythm is decided on the mean class probabilities of it and the "
            f"{how['windows'] - 1} window{'s' if how['windows'] != 2 else ''} before it in its "
            f"record{span}; "
            f"{pct(how['with_predecessor'])} of the windows have the one before. Every figure "
            f"is that decision's; the shock table also gives each window on its own.")  # fmt: skip


def accuracy_intro(res: dict) -> str:
    return _accuracy_intro(res) + decision_words(res)


def _accuracy_intro(res: dict) -> str:
    ev = res["evaluation"]
    if ev.get("folds"):
        folds = "; ".join(
            f"{k}: {', '.join(r)}" for k, r in (ev.get("records_by_fold") or {}).items()
        )
        return (f"Cross-validated by record: {ev['folds']} folds, every one of the "
                f"{len(ev['records'])} records tested once by models trained without it (folds "
                f"{folds}); figures pooled over the folds. The deployed models (the ones counted, "
                f"measured and priced) were then trained on all records. {SHOCK_WORDS}")  # fmt: skip
    return (f"On the held-out {ev['split']} records ({', '.join(ev['records'])}). "
            f"{SHOCK_WORDS}")  # fmt: skip


SHOCK_WORDS = ("AHA goals per Kerber et al., Circulation 1997 (estimate, lower 90% bound). A "
               "predicted VT or VF advises a shock; the shock sensitivity is over coarse VF and "
               "rapid VT, the specificity over NSR, asystole and the other non-shockable rhythms, "
               "and the intermediate rhythms (fine VF, slow VT) are counted apart, as AHA "
               "does.")  # fmt: skip


def shock_table(res: dict) -> Table | None:
    """The shock decision per variant: sensitivity and specificity, and with folds the range
    over the folds."""
    ev = res["evaluation"]
    rows = []
    for name, v in res["variants"].items():
        sd = (v.get("accuracy") or {}).get("shock_decision")
        if not sd:
            continue
        spread = (ev.get("spread") or {}).get(name) or {}

        def rng(key, spread=spread):
            r = spread.get(key)
            return f" ({pct(r[0])}-{pct(r[1])})" if r else ""

        mid = sd.get("intermediate")
        row = [f"`{name}`", f"{pct(sd['sensitivity'])}{rng('shock_sensitivity')}",
               f"{pct(sd['specificity'])}{rng('shock_specificity')}",
               f"{sd['shockable']:,} / {sd['non_shockable']:,}",
               "" if mid is None else f"{sd['intermediate_shocked']:,} of {mid:,}"]  # fmt: skip
        alone = ((v.get("accuracy") or {}).get("per_window") or {}).get("shock_decision")
        if alone:
            row.append(f"{pct(alone['sensitivity'])} / {pct(alone['specificity'])}")
        rows.append(row)
    if not rows:
        return None
    fold_words = " (range over the folds)" if ev.get("folds") else ""
    header = [
        "variant",
        f"shock sensitivity{fold_words}",
        f"shock specificity{fold_words}",
        "windows shockable / not",
        "intermediate (fine VF, slow VT) shocked",
    ]
    if any(len(r) > len(header) for r in rows):
        header.append("each window alone: sensitivity / specificity")
        rows = [r + [""] * (len(header) - len(r)) for r in rows]
    return header, rows


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


def seed_kwh_text(seed: dict) -> str:
    """The report-method kWh, or why it cannot be read: a window shorter than the meter samples."""
    if seed.get("too_short"):
        return f"too short to read ({seconds_text(seed['seconds'])} window)"
    return kwh(seed.get("kwh_per_1000"))


def reproduced_table(res: dict) -> Table:
    """The report's method on the variants this run built (not the models only evaluated)."""
    rows = []
    for name, v in res["variants"].items():
        if v["source"] == "user":
            continue
        flat, seed = v["estimates"].get("seed-flat"), v.get("seed_window") or {}
        per_1000 = 1000 / seed["inferences"] if seed.get("inferences") else None
        co2e = seed.get("co2e_kg")
        rows.append([f"`{name}`",
                     f"{flat['flops_priced']:,} ({flat['flops_source']})" if flat else "n/a",
                     sci(flat["low_j"]) if flat else "n/a",
                     seed_kwh_text(seed) if seed else "n/a",
                     "too short to read" if seed.get("too_short")
                     else sci(co2e * per_1000 if co2e is not None and per_1000 else None),
                     seconds_text(seed["seconds"] * per_1000 if per_1000 else None)])  # fmt: skip
    return REPORT_HEADER, rows


def latency_against_report(res: dict) -> str:
    """The original's batch-1 latency here against the report's method on the same model."""
    v = res["variants"].get("original") or {}
    seed = v.get("seed_window") or {}
    m = (v.get("measurements") or {}).get("1") or {}
    lat = (m.get("latency_s_per_inference") or {}).get("median")
    per_call = seed.get("latency_s_per_inference")
    if not lat or not per_call:
        return ""
    return (f" At batch 1 the original takes {seconds_text(lat)} per inference on "
            f"{runtime_text(v)} against {seconds_text(per_call)} a call run as the report ran it "
            f"({seed.get('runtime', 'keras-predict')}) in this run: {per_call / lat:.0f}x less.")  # fmt: skip


PUBLISHED_INTRO = "As published ({source}):"
REPRODUCED_INTRO = ("The same method on this run's models and machine (FLOPs from the TF1 profiler "
                    "for Keras files, 2 x MACs for LiteRT files; CodeCarbon around inferences "
                    "(the report: 1000) run one sample at a time as the report did — Keras predict, or a "
                    "LiteRT invoke — one window, no baseline):")  # fmt: skip
PUBLISHED_NOTE = ("The flat 0.45 pJ per FLOP is half of Horowitz's 45 nm 32-bit float add: it "
                  "undercharges a float32 multiply-accumulate (4.6 pJ) about 5x and charges INT8 "
                  "the same as float32. CodeCarbon's kWh divided by its window is a constant power "
                  "when the machine has no power counter, so that column ranks latency, not "
                  "energy.")  # fmt: skip


def yours_facts(res: dict) -> list[str]:
    """Which models are the user's: the original given with --original (used as it is), what
    was built from it or with the user's student, and the models only evaluated (--model)."""
    by = {}
    for name, v in res["variants"].items():
        by.setdefault(v.get("source", "built-in"), []).append(f"`{name}`")
    cfg = res.get("config", {}).get("models", {})
    out = []
    if by.get("user-original"):
        out.append(f"Your models: {', '.join(by['user-original'])} is your model "
                   f"({os.path.basename(cfg.get('original') or '')}), used as it is and never "
                   "retrained.")  # fmt: skip
    if by.get("from-user-original"):
        made = "your original" if cfg.get("original") else "the built-in original"
        arch = " with your student architecture" if cfg.get("student") else ""
        out.append(f"Built from {made}{arch}: {', '.join(by['from-user-original'])}.")
    if by.get("user"):
        out.append(f"Your models evaluated beside them: {', '.join(by['user'])}.")
    return out


def run_facts(res: dict) -> list[str]:
    m, ds = res["machine"], res.get("dataset", {})
    libs = ", ".join(f"{k} {v}" for k, v in res["libraries"].items())
    return [*yours_facts(res), f"Data: {', '.join(res['config']['data'])} ({ds.get('task', '?')} task, "
            f"{ds.get('examples', '?')} examples; classes {', '.join(ds.get('classes', []))}).",
            f"Machine: {m.get('processor')}, {m.get('cpus')} CPUs, {m.get('platform')}, "
            f"Python {m.get('python')}.",
            f"Libraries: {libs}.",
            f"ecg-energy {res['tool']['version']}, results schema {res['schema_version']}, "
            f"created {res['created']}."]  # fmt: skip


def reproduced_note(res: dict) -> str:
    """What to make of the reproduced table, with the windows too short for CodeCarbon named."""
    seed_meta = res["measurement"].get("seed_protocol") or {}
    period = seed_meta.get("sampling_period_s", SHORT_WINDOW_S)
    short = [f"`{n}` ({seconds_text(v['seed_window']['seconds'])})"
             for n, v in res["variants"].items() if v.get("seed_window")
             and v["seed_window"].get("too_short", v["seed_window"]["seconds"] < period)]  # fmt: skip
    note = PUBLISHED_NOTE
    if short:
        note += (f" Windows shorter than CodeCarbon's {period:g} s sampling period "
                 f"({', '.join(short)}) are too short to read: no figure is given for them "
                 "(CodeCarbon issue #851).")  # fmt: skip
    return note + seed_cost_text(res) + latency_against_report(res)


def seed_cost_text(res: dict) -> str:
    """How many calls the report's method ran here and what it cost this run."""
    windows = [v["seed_window"] for v in res["variants"].values() if v.get("seed_window")]
    counts = sorted({w["inferences"] for w in windows if w.get("inferences")})
    if not counts:
        return ""
    n = counts[0] if len(counts) == 1 else "/".join(map(str, counts))
    seconds = sum(w.get("seconds") or 0.0 for w in windows)
    scaled = "" if counts == [1000] else (
        "; the report ran 1000, and the CO2e and time columns are per 1000 inferences, scaled "
        f"from the {n} (kWh per 1000 is per inference already)")  # fmt: skip
    return (f" The report's method ran {n} calls per model here{scaled}: {seconds:.0f} s of this "
            "run's measurement, the Keras models' predict calls most of it.")  # fmt: skip


SHORT_WINDOW_S = 1.0
