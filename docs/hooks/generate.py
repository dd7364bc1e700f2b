"""mkdocs hooks: the pages that are generated from the code and from the benchmarks at build time.

- ``reference/cli.md``: every ``ecg-energy`` command and option, from the Typer app;
- ``reference/configuration.md``: every configuration key, from the ``RunConfig`` dataclass tree;
- ``reference/results-schema.md``: the keys of ``results.json``, from a real document
  (``tests/report/fixtures/results.json``) and the schema notes in ``ecg_energy.results``;
- ``results/*.md``: one page per ``benchmarks/results/*.json`` (and one for ``real_cv/``), the tables
  rendered from the JSON, never pasted;
- in any page, ``<!-- results-table FILE ROWS COLUMNS -->`` becomes a table from
  ``benchmarks/results/FILE``: ROWS a dotted path to a list or a map of rows (or several paths,
  comma-separated, one row each), COLUMNS the comma-separated dotted keys of each row.

Nothing here writes outside the site: the pages are handed to mkdocs as generated files.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_reference  # noqa: E402
import gen_results  # noqa: E402


def on_files(files, config):
    pages = {
        "reference/cli.md": gen_reference.cli_page(),
        "reference/configuration.md": gen_reference.config_page(),
        "reference/results-schema.md": gen_reference.results_schema_page(ROOT),
    }
    pages.update(gen_results.pages(ROOT))
    for uri, text in pages.items():
        files.append(File.generated(config, uri, content=text))
    return files


MARKER = re.compile(r"<!-- results-table (\S+) (\S+) (\S+) -->")


def _at(node, path: str):
    for key in filter(None, path.split(".")):
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def results_table(match: re.Match) -> str:
    name, rows_spec, columns_spec = match.groups()
    data = json.loads((ROOT / "benchmarks" / "results" / name).read_text())
    if "," in rows_spec:
        rows = {path: _at(data, path) for path in rows_spec.split(",")}
    else:
        node = _at(data, rows_spec)
        rows = node if isinstance(node, dict) else {r.get("name", i): r for i, r in enumerate(node)}
    columns = columns_spec.split(",")
    out = ["| " + " | ".join(["", *columns]) + " |", "|---" * (len(columns) + 1) + "|"]
    for label, row in rows.items():
        cells = [gen_results.fmt(_at(row, c)) for c in columns]
        out.append("| " + " | ".join([f"`{label}`", *cells]) + " |")
    out.append(f"\n*Rendered from `benchmarks/results/{name}` when this site was built.*")
    return "\n".join(out)


def on_page_markdown(markdown, page, config, files):
    return MARKER.sub(results_table, markdown)
