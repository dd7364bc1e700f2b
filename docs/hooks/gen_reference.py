"""Reference pages made from the code: the CLI (Typer), the configuration keys (dataclasses) and the
``results.json`` schema (a real document's keys)."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import typing
from pathlib import Path


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _type_name(p) -> str:
    if getattr(p, "is_flag", False):
        return "flag"
    kind = getattr(getattr(p, "type_descriptor", None), "annotation", None)
    return str(getattr(kind, "__name__", kind) or "").replace("typing.", "").strip()


def cli_page() -> str:
    import typer
    from typer.core import TyperArgument

    from ecg_energy.cli import app

    group = typer.main.get_command(app)
    commands = dict(group.commands)
    out = [
        "# Command line",
        "",
        "Generated from the `ecg-energy` Typer application when the site is built: every command "
        "and every option, with its default. `ecg-energy COMMAND --help` prints the same.",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    for name, cmd in commands.items():
        short = inspect.cleandoc(cmd.help or "").split("\n\n")[0]
        out.append(f"| [`{name}`](#{name}) | {_cell(short)} |")
    for name, cmd in commands.items():
        out += ["", f"## `{name}` {{#{name}}}", "", inspect.cleandoc(cmd.help or ""), ""]
        args = [p for p in cmd.params if isinstance(p, TyperArgument)]
        usage = " ".join(p.name.upper() + ("..." if p.nargs == -1 else "") for p in args)
        out += ["```", f"ecg-energy {name} [OPTIONS] {usage}".rstrip(), "```", ""]
        rows = []
        for p in cmd.params:
            if isinstance(p, TyperArgument):
                rows.append((f"`{p.name.upper()}`", "argument", "",
                             (p.help or "") + ("" if p.required else " (optional)")))  # fmt: skip
                continue
            if p.hidden or p.name == "help":
                continue
            opts = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
            default = p.default
            if callable(default) or default in (None, (), []) or p.show_default is False:
                default = ""
            rows.append(
                (opts, _type_name(p), f"`{default}`" if default != "" else "", p.help or "")
            )
        if rows:
            out += ["| option | type | default | meaning |", "|---|---|---|---|"]
            out += [f"| {a} | {_cell(b)} | {_cell(c)} | {_cell(d)} |" for a, b, c, d in rows]
    return "\n".join(out) + "\n"


def _field_comments(cls) -> dict[str, str]:
    """The trailing ``# comment`` of each field line in a dataclass's source, if any."""
    try:
        src = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    found = {}
    for line in src.splitlines():
        m = re.match(r"\s+([a-z_][a-z0-9_]*)\s*:[^#]*?(?:#\s*(.*))?$", line)
        if m and m.group(2):
            found[m.group(1)] = m.group(2).replace("# fmt: skip", "").strip()
    return found


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "(unset)"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def _walk(cls, instance, prefix: str, rows: list, tables: list) -> None:
    hints = typing.get_type_hints(cls)
    comments = _field_comments(cls)
    doc = inspect.getdoc(cls) or ""
    tables.append((prefix, cls.__module__ + "." + cls.__qualname__, doc.split("\n\n")[0]))
    for f in dataclasses.fields(cls):
        value = getattr(instance, f.name)
        if dataclasses.is_dataclass(value):
            _walk(type(value), value, f"{prefix}.{f.name}" if prefix else f.name, rows, tables)
            continue
        kind = getattr(hints.get(f.name), "__name__", None) or str(hints.get(f.name, f.type))
        kind = kind.replace("typing.", "")
        rows.append((prefix, f.name, kind, _toml(value), comments.get(f.name, "")))


def config_page() -> str:
    from ecg_energy.config import RunConfig

    rows: list = []
    tables: list = []
    _walk(RunConfig, RunConfig(), "", rows, tables)
    out = [
        "# Configuration keys",
        "",
        "Generated from the configuration dataclasses (`ecg_energy.config.RunConfig` and the "
        "classes it nests) when the site is built. Every key can be set in a TOML file given "
        "with `--config FILE`; command-line options override the file, and "
        "`ecg-energy run --print-config` prints the resolved configuration in the same format. "
        "A key of a nested class lives in the TOML table named in its heading.",
    ]
    for prefix, qualname, doc in tables:
        mine = [r for r in rows if r[0] == prefix]
        if not mine:
            continue
        title = f"[{prefix}]" if prefix else "top level"
        out += ["", f"## `{title}`", "", f"`{qualname}`" + (f": {doc}" if doc else ""), ""]
        out += ["| key | type | default | meaning |", "|---|---|---|---|"]
        out += [f"| `{k}` | {_cell(t)} | `{_cell(d)}` | {_cell(c)} |" for _, k, t, d, c in mine]
    return "\n".join(out) + "\n"


def _describe(value, path: str, rows: list, depth: int, max_depth: int = 4) -> None:
    kind = type(value).__name__
    example = ""
    if isinstance(value, (str, int, float, bool)) or value is None:
        example = json.dumps(value)[:60]
    elif isinstance(value, list):
        kind = f"list ({len(value)})"
    elif isinstance(value, dict):
        kind = "object"
    rows.append((path, kind, example))
    if depth >= max_depth:
        return
    if isinstance(value, dict):
        keys = list(value)
        # a map keyed by names (variants, batch sizes): one entry stands for all
        named = len(keys) > 3 and all(isinstance(value[k], dict) for k in keys)
        for k in keys[:1] if named else keys:
            child = f"{path}.<{'name'}>" if named else f"{path}.{k}"
            _describe(value[k], child, rows, depth + 1, max_depth)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        _describe(value[0], f"{path}[]", rows, depth + 1, max_depth)


def results_schema_page(root: Path) -> str:
    from ecg_energy import results

    doc = json.loads((root / "tests/report/fixtures/results.json").read_text())
    rows: list = []
    for key, value in doc.items():
        _describe(value, key, rows, 1)
    notes = inspect.getdoc(results) or ""
    out = [
        "# results.json",
        "",
        f"`results.json` is schema version {results.SCHEMA_VERSION}. What the module that writes "
        "it says of it (`ecg_energy.results`):",
        "",
        notes,
        "",
        "## Every key",
        "",
        "Generated when the site is built from a real document, the small run the tests use "
        "(`tests/report/fixtures/results.json`); `<name>` stands for each key of a map keyed by "
        "name (the variants, the batch sizes), `[]` for each item of a list. Values are that "
        "document's, as examples.",
        "",
        "| key | type | example |",
        "|---|---|---|",
    ]
    out += [f"| `{_cell(p)}` | {k} | {('`' + _cell(e) + '`') if e else ''} |" for p, k, e in rows]
    return "\n".join(out) + "\n"
