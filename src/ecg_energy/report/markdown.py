"""``report.md`` from ``results.json``: the recommendation, our tables, the report's table (as
published and reproduced), and what was modelled rather than measured — in plain words.

The tables and notes come from ``report.tables``, shared with report.html, so the two always show
the same figures (tests check both against results.json).
"""

from __future__ import annotations

from . import tables as t
from .device import device_notes, device_table
from .modelled import modelled_notes


def md_table(table: t.Table) -> list[str]:
    header, rows = table
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


DEVICE_INTRO = (
    "Each variant on each board: energy and latency per 4-s window with the range "
    "of the calibration, the SRAM and flash it needs (TFLM's arena plus the runtime) "
    "against what the board has, whether it keeps up with one window every stride, "
    "and days of battery."
)


def _accuracy(res: dict) -> dict:
    return {n: v.get("accuracy") or {} for n, v in res["variants"].items()}


def _where_it_fails(res: dict) -> list[str]:
    """The shock decision per database and the costliest records; the alarm scores."""
    from .alarms import markdown_alarms, markdown_breakdown

    acc = _accuracy(res)
    dbs = {n: a["by_database"] for n, a in acc.items() if a.get("by_database")}
    costly = {n: a["costly_records"] for n, a in acc.items() if a.get("costly_records")}
    out = ["", *markdown_breakdown(dbs, costly)] if dbs else []
    if res.get("alarms"):
        out += ["", *markdown_alarms(res["alarms"])]
    return out


def render_markdown(res: dict) -> str:
    head, reason = t.recommendation_lead(res)
    lines = ["# Which ECG model to deploy: energy and CO2 per inference against accuracy", "",
             "## Recommendation", "", f"**{head}** {reason}", ""]  # fmt: skip
    lines += [f"- {item}" for item in t.recommendation_items(res)]
    lines += ["", "## Energy, by variant", "", *md_table(t.energy_table(res)), "",
              t.energy_note(res), ""]  # fmt: skip
    savings = t.savings_table(res)
    if savings:
        lines += [t.SAVINGS_INTRO, "", *md_table(savings), ""]
    lines += [*md_table(t.carbon_table(res)), "", t.carbon_note(res), ""]
    lines += ["## Detection accuracy, by variant", "", t.accuracy_intro(res), "",
              *md_table(t.accuracy_table(res))]  # fmt: skip
    shock = t.shock_table(res)
    if shock:
        lines += ["", *md_table(shock)]
    aha = t.aha_table(res)
    if aha:
        lines += ["", *md_table(aha)]
    lines += _where_it_fails(res)
    if res.get("device"):
        lines += ["", "## On the device", "", DEVICE_INTRO, "",
                  *md_table(device_table(res["device"], _accuracy(res)))]  # fmt: skip
        lines += [""] + [f"- {n}" for n in device_notes(res["device"])]
    lines += ["", "## The report's table", "",
              t.PUBLISHED_INTRO.format(source=res["published"]["source"]), "",
              *md_table(t.published_table(res)), "", t.REPRODUCED_INTRO, "",
              *md_table(t.reproduced_table(res)), "", t.reproduced_note(res), ""]  # fmt: skip
    lines += ["## What was modelled rather than measured", ""]
    lines += [f"- {n}" for n in modelled_notes(res)] + [""]
    lines += ["## This run", "", *[f"- {f}" for f in t.run_facts(res)], ""]
    return "\n".join(lines)
