"""mkdocs hooks: the pages that are generated from the code and from the benchmarks at build time.

- ``reference/cli.md``: every ``ecg-energy`` command and option, from the Typer app;
- ``reference/configuration.md``: every configuration key, from the ``RunConfig`` dataclass tree;
- ``reference/results-schema.md``: the keys of ``results.json``, from a real document
  (``tests/report/fixtures/results.json``) and the schema notes in ``ecg_energy.results``;
- ``results/*.md``: one page per ``benchmarks/results/*.json`` (and one for ``real_cv/``), the tables
  rendered from the JSON, never pasted.

Nothing here writes outside the site: the pages are handed to mkdocs as generated files.
"""

from __future__ import annotations

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
