"""``report.html``: the content of ``report.md`` as one self-contained page, with figures.

Everything is inline: the style sheet, and the figures as PNG ``data:`` URLs; a Content Security
Policy forbids any other load, so the page reads the same offline or from an archive. Every figure
in the tables is formatted by the helpers in ``report.fmt`` exactly as in ``report.md`` (a test
checks it), and every string taken from ``results.json`` is escaped.
"""

from __future__ import annotations

import base64
import re
from html import escape

from . import plots
from . import tables as t
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
    """Escape text; a name in backticks (as the shared tables mark them) becomes <code>."""
    if isinstance(x, _Html):
        return x
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", escape(str(x)))


def _code(x) -> _Html:
    return _Html(f"<code>{escape(str(x))}</code>")


def _table(table: t.Table, table_id: str, wrap: tuple[int, ...] = ()) -> str:
    header, rows = table
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
    head, reason = t.recommendation_lead(res)
    cls = "rec" if res["recommendation"]["variant"] else "rec none"
    lead = _p(_Html(f"<strong>{_e(head)}</strong> {_e(reason)}"), cls)
    return lead + _ul(t.recommendation_items(res)) + _figure(plots.energy_accuracy(res))


def energy(res: dict) -> str:
    table = t.energy_table(res)
    savings = t.savings_table(res)
    return (_table(table, "energy", wrap=(len(table[0]) - 1,)) + _p(t.energy_note(res), "note")
            + (_p(t.SAVINGS_INTRO) + _table(savings, "savings") if savings else "")
            + _table(t.carbon_table(res), "carbon") + _p(t.carbon_note(res), "note")
            + _figure(plots.estimates_measured(res)) + _figure(plots.layers(res)))  # fmt: skip


def accuracy(res: dict) -> str:
    shown = plots.evaluated(res)
    missing = [n for n in res["variants"] if n not in shown]
    figures = "".join(_figure(plots.confusion(res, n)) for n in shown)
    aha = t.aha_table(res)
    shock = t.shock_table(res)
    out = _p(t.accuracy_intro(res)) + _table(t.accuracy_table(res), "accuracy")
    out += _table(shock, "shock") if shock else ""
    out += _table(aha, "aha") if aha else ""
    out += _where_it_fails(res)
    out += "<h3>Confusion matrices</h3>" + f'<div class="grid">{figures}</div>'
    if missing:
        out += _p(_Html(f"No confusion matrix (not evaluated): {_names(missing)}."), "note")
    return out


def _where_it_fails(res: dict) -> str:
    """The shock decision per database, the costliest records and the alarm scores."""
    from . import alarms as a

    acc = {n: v.get("accuracy") or {} for n, v in res["variants"].items()}
    dbs = {n: m["by_database"] for n, m in acc.items() if m.get("by_database")}
    costly = {n: m["costly_records"] for n, m in acc.items() if m.get("costly_records")}
    out = ""
    if dbs:
        out += "<h3>Shock decision by database</h3>"
        out += _table((a.BREAKDOWN_HEAD, a.breakdown_rows(dbs)), "by-database")
        out += _p(a.BREAKDOWN_INTRO) + _ul(a.costly_items(costly))
    if res.get("alarms"):
        out += "<h3>ICU alarms</h3>" + _p(a.alarm_intro(res["alarms"]))
        out += _table((a.ALARM_HEAD, a.alarm_rows(res["alarms"])), "alarms")
    return out


def published(res: dict) -> str:
    return (_p(t.PUBLISHED_INTRO.format(source=res["published"]["source"]))
            + _table(t.published_table(res), "published") + _p(t.REPRODUCED_INTRO)
            + _table(t.reproduced_table(res), "reproduced") + _p(t.reproduced_note(res), "note"))  # fmt: skip


def device(res: dict) -> str:
    from .device import device_notes, device_table
    from .markdown import DEVICE_INTRO, _accuracy

    dev = res["device"]
    return (_p(DEVICE_INTRO) + _table(device_table(dev, _accuracy(res)), "device",
                                      wrap=(len(device_table(dev)[0]),))
            + _ul(device_notes(dev)) + _figure(plots.battery_accuracy(res)))  # fmt: skip


SECTIONS = (
    ("recommendation", "Recommendation", recommendation),
    ("energy", "Energy, by variant", energy),
    ("accuracy", "Detection accuracy, by variant", accuracy),
    ("device", "On the device", device),
    ("published", "The report's table", published),
    ("modelled", "What was modelled rather than measured", lambda r: _ul(modelled_notes(r))),
    ("run", "This run", lambda r: _ul(t.run_facts(r))),
)


def render_html(res: dict) -> str:
    """The whole page: one string, no external resources."""
    sections = [s for s in SECTIONS if s[0] != "device" or res.get("device")]
    nav = "".join(f'<a href="#{key}-section">{escape(title)}</a>' for key, title, _ in sections)
    body = "".join(f'<section id="{key}-section"><h2>{escape(title)}</h2>{build(res)}</section>'
                   for key, title, build in sections)  # fmt: skip
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(TITLE)}</title><style>{CSS}</style></head>\n<body><h1>"
            f"{escape(TITLE)}</h1><p class=\"note\">ecg-energy {escape(str(res['tool']['version']))}"
            f", created {escape(str(res['created']))}.</p><nav>{nav}</nav>\n{body}\n</body></html>\n")  # fmt: skip
