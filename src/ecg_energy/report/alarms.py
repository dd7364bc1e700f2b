"""Tables of the alarm evaluation (``api.evaluate_alarms``) and of the per-database breakdown."""

from __future__ import annotations

SHORT = {"Ventricular_Tachycardia": "VT", "Ventricular_Flutter_Fib": "VF/VFL",
         "Asystole": "asystole", "Bradycardia": "brady", "Tachycardia": "tachy"}  # fmt: skip


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def alarm_rows(result: dict) -> list[list[str]]:
    """[variant, alarm type, alarms (true/false), TP, TN, FP, FN, TPR, TNR, score] rows."""
    rows = []
    for name, r in result["variants"].items():
        parts = [(SHORT.get(k, k), v) for k, v in r["per_type"].items()]
        parts += [("VT + VF/VFL", r["shock_alarms"]), ("all scored", r["overall"])]
        for kind, v in parts:
            if not v.get("scored", True):
                rows.append([name, kind, f"{v['alarms']} ({v['true_alarms']}/"
                             f"{v['alarms'] - v['true_alarms']})", "", "", "", "",
                             "not scored", f"shock in {v['shock_advised']}", ""])  # fmt: skip
                continue
            if not v["alarms"]:
                continue
            score = v["challenge_score"]
            rows.append([name, kind, f"{v['alarms']} ({v['true_alarms']}/{v['false_alarms']})",
                         str(v["tp"]), str(v["tn"]), str(v["fp"]), str(v["fn"]), _pct(v["tpr"]),
                         _pct(v["tnr"]), "n/a" if score is None else f"{score:.3f}"])  # fmt: skip
    return rows


ALARM_HEAD = ["variant", "alarm", "alarms (true/false)", "TP", "TN", "FP", "FN", "TPR", "TNR",
              "score"]  # fmt: skip


def format_alarms(result: dict) -> str:
    """The alarm scores as a text table, with how the alarms were judged."""
    info = result["alarm_records"]
    rows = [ALARM_HEAD, *alarm_rows(result)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(ALARM_HEAD))]
    lines = [f"{info['scored_alarms']} of {info['alarms']} alarms scored from {info['folder']} "
             f"({info['rule']}; score = (TP + TN) / (TP + TN + FP + 5·FN))"]  # fmt: skip
    lines += ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in
                        enumerate(zip(r, widths))) for r in rows]  # fmt: skip
    if info["left_out"]:
        lines.append(
            f"left out ({len(info['left_out'])}): "
            + "; ".join(f"{k}: {v}" for k, v in info["left_out"].items())
        )
    return "\n".join(lines)


def alarm_intro(result: dict) -> str:
    info = result["alarm_records"]
    return (f"{info['scored_alarms']} of {info['alarms']} alarms of {info['folder']}: "
            f"{info['rule']}. Score = (TP + TN) / (TP + TN + FP + 5·FN) (PhysioNet/CinC Challenge "
            "2015). Bradycardia and tachycardia alarms are counted, not scored.")  # fmt: skip


BREAKDOWN_HEAD = ["variant", "database", "shockable", "sensitivity", "non-shockable",
                  "specificity"]  # fmt: skip
BREAKDOWN_INTRO = "Records that cost the most (false shocks; missed shockable windows):"


def breakdown_rows(breakdown: dict) -> list[list[str]]:
    """[variant, database, shockable, sensitivity, non-shockable, specificity] rows."""
    rows = []
    for name, dbs in breakdown.items():
        for db, m in dbs.items():
            rows.append([name, db, str(m["shockable"]), _pct(m["sensitivity"]),
                         str(m["non_shockable"]), _pct(m["specificity"])])  # fmt: skip
    return rows


def costly_items(costly: dict) -> list[str]:
    """One line per variant: its costliest records, as count of the record's windows."""
    out = []
    for name, c in costly.items():
        fs = ", ".join(f"{r['record']} {r['count']}/{r['of']}" for r in c["false_shocks"]) or "none"
        ms = ", ".join(f"{r['record']} {r['count']}/{r['of']}" for r in c["missed"]) or "none"
        out.append(f"{name}: false shocks {fs}; missed {ms}")
    return out


def _md(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *("| " + " | ".join(r) + " |" for r in rows)]  # fmt: skip


def markdown_alarms(result: dict) -> list[str]:
    """The alarm scores as a markdown table (for report.md)."""
    return ["## ICU alarms", "", alarm_intro(result), "", *_md(ALARM_HEAD, alarm_rows(result)), ""]


def markdown_breakdown(breakdown: dict, costly: dict) -> list[str]:
    """The shock decision per database and the records that cost the most, as markdown."""
    out = ["## Shock decision by database", "", *_md(BREAKDOWN_HEAD, breakdown_rows(breakdown))]
    return out + ["", BREAKDOWN_INTRO, "", *(f"- {i}" for i in costly_items(costly)), ""]


def format_breakdown(variants: dict[str, dict]) -> list[str]:
    """Text lines: per variant the shock decision of each database and the costliest records
    (only where the data holds more than one database or a record cost something)."""
    lines = []
    for name, m in variants.items():
        dbs, costly = m.get("by_database") or {}, m.get("costly_records") or {}
        if len(dbs) > 1:
            parts = [f"{db} {_pct(d['sensitivity'])} / {_pct(d['specificity'])}"
                     for db, d in dbs.items()]  # fmt: skip
            lines.append(f"{name}: shock sensitivity / specificity by database: "
                         + ", ".join(parts))  # fmt: skip
        for key, words in (("false_shocks", "most false shocks"), ("missed", "most missed")):
            rows = costly.get(key) or []
            if rows:
                lines.append(
                    f"{name}: {words}: "
                    + ", ".join(f"{r['record']} {r['count']}/{r['of']}" for r in rows)
                )
    return lines
