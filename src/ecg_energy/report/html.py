"""``report.html``: the content of ``report.md`` as one self-contained page, with figures.

Everything is inline: the style sheet, and the figures as PNG ``data:`` URLs; a Content Security
Policy forbids any other load, so the page reads the same offline or from an archive. Every figure
in the tables is formatted by the helpers in ``report.fmt`` exactly as in ``report.md`` (a test
checks it), and every string taken from ``results.json`` is escaped.
"""

from __future__ import annotations

import base64
from html import escape

from . import plots
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

TITLE = "Which ECG model to deploy: energy and CO2 per inference against accuracy"
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
       max-width: 1240px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
nav a { margin-right: 1rem; } code { background: #f2f2f2; padding: 0 .25em; border-radius: 3px; }
.rec { font-size: 1.1rem; padding: .8rem 1rem; border-left: 5px solid #2c7a2c; background: #f3faf3; }
.rec.none { border-color: #b5532a; background: #fdf5f0; }
.scroll { overflow-x: auto; margin: .8rem 0; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d6d6d6; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } tbody tr:nth-child(even) { background: #fafafa; }
td { white-space: nowrap; } td.wrap { white-space: normal; min-width: 12rem; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 13px; color: #444; max-width: 75em; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 1rem; }
.grid figure { margin: 0; } .note { color: #444; }
@media print { nav { display: none; } h2 { break-after: avoid; } figure { break-inside: avoid; } }
"""


class _Html(str):
    """Markup that is already escaped (anything else is escaped on output)."""


def _e(x) -> str:
    return x if isinstance(x, _Html) else escape(str(x))


def _code(x) -> _Html:
    return _Html(f"<code>{escape(str(x))}</code>")


def _table(header: list, rows: list[list], table_id: str, wrap: tuple[int, ...] = ()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=wrap" if i in wrap else ""}>{_e(c)}</td>'
                         for i, c in enumerate(row)) + "</tr>" for row in rows)  # fmt: skip
    return (f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")  # fmt: skip


def _ul(items: list) -> str:
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def _p(text, cls: str = "") -> str:
    attr = f" class={cls!r}" if cls else ""
    return f"<p{attr}>{_e(text)}</p>"


def _figure(plot: plots.Plot) -> str:
    data = base64.b64encode(plot.png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{escape(plot.alt)}">'
            f"<figcaption>{escape(plot.caption)}</figcaption></figure>")  # fmt: skip


def _names(names: list[str]) -> _Html:
    return _Html(", ".join(_code(n) for n in names))


def recommendation(res: dict) -> str:
    rec, settings = res["recommendation"], res["recommendation"]["settings"]
    if rec["variant"]:
        head = _p(_Html(f"<strong>Deploy {_code(rec['variant'])}.</strong> {escape(rec['reason'])}"),
                  "rec")  # fmt: skip
    else:
        head = _p(_Html(f"<strong>No variant is recommended.</strong> {escape(rec['reason'])}"),
                  "rec none")  # fmt: skip
    items: list = [f"Caveat: {c}" for c in rec.get("caveats", [])]
    items.append(f"Constraint: {rec['constraint']}; ranked by {settings['energy']}"
                 + (f" at batch {settings['batch']}." if settings["energy"] != "estimate"
                    else f" ({settings['table']})."))  # fmt: skip
    items.append(_Html("Pareto set (no other variant has both lower energy and higher balanced "
                       f"accuracy): {_names(rec['pareto']) if rec['pareto'] else 'none'}."))  # fmt: skip
    if rec["candidates"]:
        ranked = ", ".join(f"{_code(c['variant'])} {escape(fmt_j(c['energy_j']))}"
                           for c in rec["candidates"])  # fmt: skip
        items.append(_Html(f"Meeting the constraint, by energy: {ranked}."))
    for name, why in rec["excluded"].items():
        items.append(_Html(f"Excluded {_code(name)}: {escape('; '.join(why))}."))
    return head + _ul(items) + _figure(plots.energy_accuracy(res))


def _energy_rows(res: dict, tables: list[str], batches: list[str]) -> list[list]:
    rows = []
    for name, v in res["variants"].items():
        row = [_code(name), v["precision"] or "?", macs_text(v["counts"]),
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
            methods |= {t["method"] + (" (measured)" if t["measured"] else " (modelled)")
                        for t in m.get("trials", [])}  # fmt: skip
        row.append(", ".join(sorted(methods)) or "n/a")
        rows.append(row)
    return rows


def energy(res: dict) -> str:
    tables = [t for t in res["config"]["tables"] if t != "seed-flat"]
    batches = [str(b) for b in res["config"]["batches"]]
    header = ["variant", "precision", "MACs", "size", *[f"est. J/inf ({t})" for t in tables]]
    for b in batches:
        header += [f"net J/inf b{b} [95% CI]", f"gross J/inf b{b} [95% CI]", f"latency b{b}"]
    header.append("energy method")
    meas = res["measurement"]
    idle = meas.get("idle_power_w")
    note = (f"Estimates are datapath energy from operation counts priced with the named table (a "
            f"range: memory traffic from perfect reuse to none); not device energy. Net = gross "
            f"minus idle power ({'n/a' if idle is None else f'{idle:.1f} W'}) x time. Intervals "
            f"are 95% bootstrap intervals of the median over "
            f"{(meas.get('protocol') or {}).get('trials', '?')} interleaved trials.")  # fmt: skip
    return (_table(header, _energy_rows(res, tables, batches), "energy",
                   wrap=(len(header) - 1,)) + _p(note, "note")
            + _figure(plots.estimates_measured(res)) + _figure(plots.layers(res)))  # fmt: skip


def _aha_table(res: dict) -> str:
    groups: list[str] = []
    for v in res["variants"].values():
        groups += [g for g in ((v.get("accuracy") or {}).get("aha") or {}) if g not in groups]
    names = [n for n, v in res["variants"].items() if (v.get("accuracy") or {}).get("aha")]
    if not groups:
        return ""
    rows = []
    for g in groups:
        first = next(res["variants"][n]["accuracy"]["aha"][g] for n in names
                     if g in res["variants"][n]["accuracy"]["aha"])  # fmt: skip
        goal = (f"> {pct(first['goal'], 0)} (bound {pct(first['lower_goal'], 0)})"
                if first.get("goal") is not None else "(reported; no AHA goal)")  # fmt: skip
        row = [f"{g}: {first['measure']} {goal}"]
        row += [aha_result(res["variants"][n]["accuracy"]["aha"].get(g)) for n in names]
        rows.append(row)
    return _table(["AHA group (goal)", *[_code(n) for n in names]], rows, "aha")


def accuracy(res: dict) -> str:
    ev = res["evaluation"]
    header = ["variant", "accuracy", "balanced accuracy", "macro F1", "agreement with parent",
              "AHA goals"]  # fmt: skip
    rows = []
    for name, v in res["variants"].items():
        a = v.get("accuracy")
        if not a:
            rows.append([_code(name), "not evaluated", "", "", "", ""])
            continue
        agree = a.get("agreement_with_parent")
        rows.append([_code(name), pct(a["accuracy"]), pct(a["balanced_accuracy"]),
                     f"{a['macro_f1']:.4f}", pct(agree) if agree is not None else "",
                     aha_cell(a)])  # fmt: skip
    intro = (f"On the held-out {ev['split']} records ({', '.join(ev['records'])}); AHA goals per "
             "Kerber et al., Circulation 1997 (estimate, lower 90% bound).")  # fmt: skip
    shown = plots.evaluated(res)
    missing = [n for n in res["variants"] if n not in shown]
    figures = "".join(_figure(plots.confusion(res, n)) for n in shown)
    out = _p(intro) + _table(header, rows, "accuracy") + _aha_table(res)
    out += "<h3>Confusion matrices</h3>" + f'<div class="grid">{figures}</div>'
    if missing:
        out += _p(_Html(f"No confusion matrix (not evaluated): {_names(missing)}."), "note")
    return out


def published(res: dict) -> str:
    pub = res["published"]
    header = ["model", "FLOPs / inference", "est. J / inference (x0.45 pJ)",
              "kWh / 1000 inf. (CodeCarbon)", "kg CO2e", "time for 1000 inf."]  # fmt: skip
    rows = [[r["model"], f"{r['flops']:,}" + (f" ({r['flops_note']})" if r["flops_note"] else ""),
             sci(r["j_per_inference"]), kwh(r["kwh_per_1000"]), sci(r["co2e_kg_per_1000"]),
             f"{r['seconds_per_1000']:.2f} s"] for r in pub["rows"]]  # fmt: skip
    ours = []
    for name, v in res["variants"].items():
        if v["source"] != "built-in":
            continue
        flat, seed = v["estimates"].get("seed-flat"), v.get("seed_window") or {}
        ours.append([_code(name),
                     f"{flat['flops_priced']:,} ({flat['flops_source']})" if flat else "n/a",
                     sci(flat["low_j"]) if flat else "n/a", kwh(seed.get("kwh_per_1000")),
                     sci(seed.get("co2e_kg")), seconds_text(seed.get("seconds"))])  # fmt: skip
    return (_p(f"As published ({pub['source']}):") + _table(header, rows, "published")
            + _p("The same method on this run's models and machine (FLOPs from the TF1 profiler "
                 "for Keras files, 2 x MACs for LiteRT files; CodeCarbon around 1000 batch-1 "
                 "inferences, one window, no baseline):")
            + _table(header, ours, "reproduced")
            + _p("The flat 0.45 pJ per FLOP is half of Horowitz's 45 nm 32-bit float add: it "
                 "undercharges a float32 multiply-accumulate (4.6 pJ) about 5x and charges INT8 "
                 "the same as float32. CodeCarbon's kWh divided by its window is a constant power "
                 "when the machine has no power counter, so that column ranks latency, not "
                 "energy.", "note"))  # fmt: skip


def run_facts(res: dict) -> str:
    m, ds = res["machine"], res.get("dataset", {})
    libs = ", ".join(f"{k} {v}" for k, v in res["libraries"].items())
    return _ul([f"Data: {', '.join(res['config']['data'])} ({ds.get('task', '?')} task, "
                f"{ds.get('examples', '?')} examples; classes {', '.join(ds.get('classes', []))}).",
                f"Machine: {m.get('processor')}, {m.get('cpus')} CPUs, {m.get('platform')}, "
                f"Python {m.get('python')}.",
                f"Libraries: {libs}.",
                f"ecg-energy {res['tool']['version']}, results schema {res['schema_version']}, "
                f"created {res['created']}."])  # fmt: skip


SECTIONS = (
    ("recommendation", "Recommendation", recommendation),
    ("energy", "Energy, by variant", energy),
    ("accuracy", "Detection accuracy, by variant", accuracy),
    ("published", "The report's table", published),
    ("modelled", "What was modelled rather than measured", lambda r: _ul(modelled_notes(r))),
    ("run", "This run", run_facts),
)


def render_html(res: dict) -> str:
    """The whole page: one string, no external resources."""
    nav = "".join(f'<a href="#{key}-section">{escape(title)}</a>' for key, title, _ in SECTIONS)
    body = "".join(f'<section id="{key}-section"><h2>{escape(title)}</h2>{build(res)}</section>'
                   for key, title, build in SECTIONS)  # fmt: skip
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(TITLE)}</title><style>{CSS}</style></head>\n<body><h1>"
            f"{escape(TITLE)}</h1><p class=\"note\">ecg-energy {escape(str(res['tool']['version']))}"
            f", created {escape(str(res['created']))}.</p><nav>{nav}</nav>\n{body}\n</body></html>\n")  # fmt: skip
