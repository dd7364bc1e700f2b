"""Results pages rendered from ``benchmarks/results/*.json`` when the site is built: the figures are
the JSON's, so a re-run benchmark changes its page with no hand edit."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

MAX_COLUMNS = 12
MAX_ROWS = 60


def fmt(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value == 0:
            return "0"
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if value is None:
        return "—"
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        text = ", ".join(fmt(v) for v in value[:8]) + (", …" if len(value) > 8 else "")
        return text
    return str(value)


def _cell(value) -> str:
    return fmt(value).replace("|", "\\|").replace("\n", " ")


def _scalar(value) -> bool:
    return not isinstance(value, (dict, list)) or (
        isinstance(value, list) and len(value) <= 8 and all(not isinstance(v, (dict, list))
                                                            for v in value))  # fmt: skip


def _flat(entry: dict, prefix: str = "", depth: int = 0) -> dict:
    """An entry's scalar fields, one level of nested objects flattened as ``a.b``."""
    row = {}
    for k, v in entry.items():
        if _scalar(v):
            row[prefix + str(k)] = v
        elif isinstance(v, dict) and depth == 0:
            row.update(_flat(v, f"{prefix}{k}.", 1))
    return row


def table(rows: dict[str, dict], first: str = "") -> list[str]:
    flat = {name: _flat(entry) for name, entry in list(rows.items())[:MAX_ROWS]}
    columns: list[str] = []
    for row in flat.values():
        for c in row:
            if c not in columns:
                columns.append(c)
    if not columns:
        return []
    left_out = columns[MAX_COLUMNS:]
    columns = columns[:MAX_COLUMNS]
    out = ["| " + " | ".join([first or " "] + columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, row in flat.items():
        out.append(
            "| " + " | ".join([f"`{name}`"] + [_cell(row.get(c, "")) for c in columns]) + " |"
        )
    if len(rows) > MAX_ROWS:
        out.append(f"\n{len(rows) - MAX_ROWS} more rows in the JSON.")
    if left_out:
        out.append(f"\nAlso in the JSON for each row: {', '.join(f'`{c}`' for c in left_out)}.")
    return out


def render(node, title: str, level: int) -> list[str]:
    """Markdown for one JSON value: a key/value table for its scalars, a table for a map or a
    list of objects, and a section for each deeper object."""
    out: list[str] = []
    heading = "#" * min(level, 6)
    if isinstance(node, list):
        if node and all(isinstance(v, dict) for v in node):
            out += [f"{heading} {title}", ""] + table({str(i): v for i, v in enumerate(node)}, "#")
            out.append("")
        return out
    if not isinstance(node, dict):
        return out
    scalars = {k: v for k, v in node.items() if _scalar(v)}
    nested = {k: v for k, v in node.items() if not _scalar(v)}
    if scalars:
        if title:
            out += [f"{heading} {title}", ""]
        out += ["| key | value |", "|---|---|"]
        out += [f"| `{k}` | {_cell(v)} |" for k, v in scalars.items()]
        out.append("")
    for key, value in nested.items():
        name = f"{title} / {key}" if title else str(key)
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            entries = list(value.values())
            if all(all(_scalar(x) or isinstance(x, dict) for x in e.values()) for e in entries):
                out += [f"{heading} {name}", ""] + table(value) + [""]
                continue
        if level >= 4:
            continue
        out += render(value, name, level + 1)
    return out


def _script(root: Path, stem: str) -> Path | None:
    scripts = sorted((root / "benchmarks").glob("*.py"), key=lambda p: -len(p.stem))
    return next((p for p in scripts if stem.startswith(p.stem)), None)


def _docstring(path: Path | None) -> tuple[str, str]:
    if path is None:
        return "", ""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    parts = doc.split("\n\n")
    title = parts[0].replace("\n", " ").removeprefix("Benchmark:").strip()
    title = title[:1].upper() + title[1:]
    body = "\n\n".join(p for p in parts[1:3] if not p.startswith("    "))
    return title, body


def page(root: Path, json_path: Path) -> str:
    stem = json_path.stem
    script = _script(root, stem)
    title, body = _docstring(script)
    rel = json_path.relative_to(root)
    out = [f"# {stem}", ""]
    if title:
        out += [f"**{title}**", ""]
    if body:
        out += [body, ""]
    made = f"`python {script.relative_to(root)}`" if script else "a benchmark"
    out += [f"Rendered from `{rel}` (written by {made}) when this site was built.", ""]
    out += render(json.loads(json_path.read_text()), "", 2)
    return "\n".join(out) + "\n"


def real_cv_page(root: Path) -> str:
    folder = root / "benchmarks/results/real_cv"
    rows = {}
    for path in sorted(folder.glob("*.json")):
        d = json.loads(path.read_text())
        s = d.get("settings", {})
        pooled = d.get("pooled", {})
        rows[path.stem] = {
            "architecture": s.get("arch"),
            "shock sensitivity": d.get("shock_sensitivity"),
            "shock specificity": d.get("shock_specificity"),
            "5-class balanced accuracy": pooled.get("balanced_accuracy"),
            "windows": d.get("windows"),
            "records": d.get("records"),
            "seconds": d.get("total_seconds"),
        }
    title, body = _docstring(root / "benchmarks/real_cv.py")
    out = ["# real_cv", "", f"**{title}**", "", body, ""]
    out += ["Rendered from `benchmarks/results/real_cv/*.json` (written by "
            "`python benchmarks/real_cv.py` and `python benchmarks/distil_cv.py`) when this "
            "site was built: one row per file, the pooled figures over the folds. Each file "
            "also holds its settings, every fold and every record's counts.", ""]  # fmt: skip
    out += table(rows, "file")
    return "\n".join(out) + "\n"


def pages(root: Path) -> dict[str, str]:
    results = root / "benchmarks/results"
    found = sorted(results.glob("*.json"))
    out = {f"results/{p.stem}.md": page(root, p) for p in found}
    index = ["# Benchmark results", "",
             "Every figure on these pages is rendered from the JSON a benchmark wrote "
             "(`benchmarks/results/`), when the site is built. Re-run a benchmark and rebuild to "
             "update its page. The figures were taken on a 2-vCPU VM with no power counter unless "
             "the page says otherwise.", "",
             "| results | what the benchmark answers |", "|---|---|"]  # fmt: skip
    for p in found:
        title, _ = _docstring(_script(root, p.stem))
        index.append(f"| [{p.stem}]({p.stem}.md) | {title.replace('|', '/')} |")
    if (results / "real_cv").is_dir():
        out["results/real_cv.md"] = real_cv_page(root)
        title, _ = _docstring(root / "benchmarks/real_cv.py")
        index.append(f"| [real_cv](real_cv.md) | {title} |")
    out["results/index.md"] = "\n".join(index) + "\n"
    return out
