"""A run whose net energies the machine could not resolve, and one whose windows stayed
contaminated: every view says "unresolved" or "invalid", none prints a negative energy, the
recommendation ranks the fallback figure and says why, and the first plot still shows it."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from pathlib import Path

import pytest

from ecg_energy.energy.measure import scale_figure
from ecg_energy.report import plots
from ecg_energy.report.html import render_html
from ecg_energy.report.markdown import render_markdown
from ecg_energy.report.recommend import RecommendConfig
from ecg_energy.report.render import render_csv, summary_lines
from ecg_energy.results import rerecommend

FIXTURE = Path(__file__).parent / "fixtures" / "results.json"
# "-6.6 mJ" (a minus sign against the digits; "123 µJ - 14.2 mJ" is a range)
NEGATIVE_ENERGY = re.compile(r"(?<![\w.])[-−]\d[\d.,]*(e[-+]?\d+)?\s?(fJ|pJ|nJ|µJ|mJ|kJ|J)\b")


def unresolved(upper_j):
    """A net figure as the protocol writes it when its 95% interval reaches zero."""
    return {"resolved": False, "median": None, "ci95": None, "upper_j": upper_j, "trials": 2,
            "why": "its 95% interval reaches zero or below: not resolved above the idle baseline"}  # fmt: skip


@pytest.fixture(scope="module")
def res() -> dict:
    res = json.loads(FIXTURE.read_text())
    res = copy.deepcopy(res)
    for name, v in res["variants"].items():
        for m in v["measurements"].values():
            net = unresolved(3.0e-6 if name == "original" else None)
            m["energy_j_per_inference_net"] = net
            m["co2e_kg_per_inference_net"] = scale_figure(net, 1e-7)
            # every variant passes the AHA goals here, so the ranking decides
        v["accuracy"]["aha"] = {g: {**r, "passed": True, "n": r.get("n") or 5}
                                for g, r in (v["accuracy"].get("aha") or {}).items()}  # fmt: skip
    return rerecommend(res, RecommendConfig())


@pytest.fixture(scope="module")
def res_invalid(res) -> dict:
    """The same, and student-plain's windows stayed contaminated at batch 1."""
    out = copy.deepcopy(res)
    inv = out["variants"]["student-plain"]["measurements"]["1"]
    inv["invalid"] = "3 of 5 trials stayed contaminated after 2 repeats"
    for k in ("energy_j_per_inference_gross", "energy_j_per_inference_net",
              "co2e_kg_per_inference_gross", "co2e_kg_per_inference_net"):  # fmt: skip
        inv.pop(k, None)
    return rerecommend(out, RecommendConfig())


def test_the_recommendation_ranks_gross_and_says_why(res):
    rec = res["recommendation"]
    assert (
        rec["ranked"]["basis"] == "measured-gross" and rec["ranked"]["requested"] == "measured-net"
    )
    assert rec["ranked"]["text"].startswith("Ranked by gross J per inference at batch 1, not net")
    assert "original (its net figure is unresolved (≤ 3 µJ))" in rec["ranked"]["text"]
    assert "distilled (its net figure is unresolved (not above idle))" in rec["ranked"]["text"]
    gross = {n: v["measurements"]["1"]["energy_j_per_inference_gross"]["median"]
             for n, v in res["variants"].items()}  # fmt: skip
    assert [c["variant"] for c in rec["candidates"]] == sorted(gross, key=gross.get)


def test_an_invalid_measurement_sends_every_variant_to_the_next_kind(res_invalid):
    # student-plain has no usable gross either: by the declared order, everyone goes to the
    # estimate, so no variant is dropped for the machine's bad luck
    rec = res_invalid["recommendation"]
    assert rec["ranked"]["basis"] == "estimate"
    assert (
        "student-plain (its measurement is invalid: 3 of 5 trials stayed" in rec["ranked"]["text"]
    )
    row = next(r for r in render_markdown(res_invalid).splitlines()
               if r.startswith("| `student-plain` |"))  # fmt: skip
    assert "| invalid (contaminated) | invalid (contaminated) |" in row
    plot = plots.energy_accuracy(res_invalid)
    assert all(f"{n} " in plot.alt for n in res_invalid["variants"])  # every variant, by estimate


def test_no_view_prints_a_negative_energy(res, res_invalid):
    for r in (res, res_invalid):
        md, page, table = render_markdown(r), render_html(r), render_csv(r)
        terminal = "\n".join(summary_lines(r))
        for text in (md, page, terminal, json.dumps(r, ensure_ascii=False)):
            assert not NEGATIVE_ENERGY.search(text), NEGATIVE_ENERGY.search(text)
        rows = list(csv.DictReader(io.StringIO(table)))
        for row in rows:
            for col, val in row.items():
                if ("_j" in col or "co2e" in col) and val not in ("", None):
                    assert float(val) >= 0, (row["variant"], col, val)
    md, page = render_markdown(res), render_html(res)
    row = next(r for r in md.splitlines() if r.startswith("| `original` |"))
    assert "| unresolved (≤ 3 µJ) |" in row
    row = next(r for r in md.splitlines() if r.startswith("| `distilled` |"))
    assert "| unresolved (not above idle) |" in row
    assert "unresolved (≤ 3 µJ)" in page
    assert "energy ranked: measured-gross" in "\n".join(summary_lines(res))
    first = next(csv.DictReader(io.StringIO(render_csv(res))))
    assert first["b1_net_status"] == "unresolved" and first["b1_net_j_upper"] == "3e-06"
    assert not first.get("b1_net_j") and first["ranked_by"] == "measured-gross"


def test_the_first_plot_shows_the_figure_ranked_for_every_variant(res):
    plot = plots.energy_accuracy(res)
    for name in res["variants"]:
        assert f"{name} " in plot.alt
    assert "Not shown" not in plot.caption
