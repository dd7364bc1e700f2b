"""The example notebook runs top to bottom on a small configuration, as a user would run it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "bring_your_model.ipynb"


def _text(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        out.append(o.get("text", ""))
        out.append(str(o.get("data", {}).get("text/plain", "")))
    return "\n".join(out)


def test_the_example_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    monkeypatch.setenv("ECG_ENERGY_NOTEBOOK", "small")  # the kernel inherits it
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=1800, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})  # fmt: skip
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    # the model of section 1, counted by hand in its markdown: 8,000 + 12,800 + 80 MACs
    assert "20,880 MACs" in _text(code[2])
    res = json.loads((tmp_path / "runs" / "notebook-small" / "results.json").read_text())
    sources = {n: v["source"] for n, v in res["variants"].items()}
    assert sources["original"] == "user-original"
    assert sources["distilled"] == sources["original-int8"] == sources["distilled-int8"] == \
        "from-user-original"  # fmt: skip
    assert res["variants"]["original"]["counts"]["macs"] == 20_880
    # the figures were drawn in the notebook, as images
    images = [o for c in code for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 2
    if os.environ.get("ECG_ENERGY_KEEP_NOTEBOOK"):
        nbformat.write(nb, os.environ["ECG_ENERGY_KEEP_NOTEBOOK"])
