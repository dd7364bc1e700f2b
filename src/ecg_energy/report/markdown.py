"""``report.md`` from ``results.json``: the recommendation, our tables, the report's table (as
published and reproduced), and what was modelled rather than measured — in plain words.

The tables and notes come from ``report.tables``, shared with report.html, so the two always show
the same figures (tests check both against results.json).
"""

from __future__ import annotations

from . import tables as t
from .modelled import modelled_notes


def md_table(table: t.Table) -> list[str]:
    header, rows = table
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


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
    aha = t.aha_table(res)
    if aha:
        lines += ["", *md_table(aha)]
    lines += ["", "## The report's table", "",
              t.PUBLISHED_INTRO.format(source=res["published"]["source"]), "",
              *md_table(t.published_table(res)), "", t.REPRODUCED_INTRO, "",
              *md_table(t.reproduced_table(res)), "", t.reproduced_note(res), ""]  # fmt: skip
    lines += ["## What was modelled rather than measured", ""]
    lines += [f"- {n}" for n in modelled_notes(res)] + [""]
    lines += ["## This run", "", *[f"- {f}" for f in t.run_facts(res)], ""]
    return "\n".join(lines)
