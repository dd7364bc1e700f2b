"""report.html: self-contained, the same figures as report.md, plots that survive missing data,
and a page that loads cleanly in a real headless Chromium (skipped where there is none)."""

from __future__ import annotations

import copy
import json
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ecg_energy.report import fmt, plots
from ecg_energy.report.html import render_html
from ecg_energy.report.markdown import render_markdown
from ecg_energy.report.tables import runtime_text

FIXTURE = Path(__file__).parent / "fixtures" / "results.json"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def res() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def page_html(res) -> str:
    return render_html(res)


def expected_images(res: dict) -> int:
    """Three figures (energy vs accuracy, estimates vs measured, per layer) + one confusion
    matrix per evaluated variant."""
    evaluated = [v for v in res["variants"].values()
                 if (v.get("accuracy") or {}).get("confusion", {}).get("matrix")]  # fmt: skip
    return 3 + len(evaluated)


class Tables(HTMLParser):
    """Every <table id=...> as rows of cell texts; every tag's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.attrs: list[tuple[str, str, str]] = []
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        if tag == "table":
            self._table = dict(attrs)["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> Tables:
    p = Tables()
    p.feed(text)
    return p


def md_rows(md: str, name: str) -> list[list[str]]:
    """Each markdown table row of variant ``name``, cells without the code backticks."""
    return [[c.strip().strip("`") for c in line.strip().strip("|").split(" | ")]
            for line in md.splitlines() if line.startswith(f"| `{name}` |")]  # fmt: skip


def row_of(tables: Tables, table: str, name: str) -> list[str]:
    return next(r for r in tables.tables[table] if r and r[0] == name)


def test_no_remote_resources(page_html):
    tables = parse(page_html)
    srcs = [v for tag, k, v in tables.attrs if k == "src"]
    hrefs = [v for tag, k, v in tables.attrs if k == "href"]
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert hrefs and all(h.startswith("#") for h in hrefs)
    assert not re.search(r"""(src|href|action|poster)\s*=\s*["']?\s*(https?:)?//""", page_html)
    assert "<script" not in page_html and "url(" not in page_html and "@import" not in page_html
    assert "Content-Security-Policy" in page_html


def test_every_image_has_alt_and_caption(res, page_html):
    figures = re.findall(r"<figure>(.*?)</figure>", page_html, flags=re.S)
    assert len(figures) == expected_images(res)
    for fig in figures:
        assert re.search(r'<img src="data:image/png;base64,[^"]+" alt="[^"]+">', fig)
        assert re.search(r"<figcaption>[^<]+</figcaption>", fig)


# the fixture's figures, written out by hand from results.json: per batch size (1, 4) the net
# and gross energy per inference with their intervals and the median latency; then accuracy and
# balanced accuracy (e.g. original at batch 1: net 0.0056260 J [0.0055994, 0.0056526] ->
# "5.63 mJ [5.6 mJ, 5.65 mJ]"; latency 0.00140888 s -> "1.41 ms"; accuracy 2/3 -> "66.67%")
BY_HAND = {
    "original": {
        1: ("5.63 mJ [5.6 mJ, 5.65 mJ]", "5.63 mJ [5.6 mJ, 5.66 mJ]", "1.41 ms"),
        4: ("2.72 mJ [2.48 mJ, 2.97 mJ]", "2.72 mJ [2.48 mJ, 2.97 mJ]", "681 µs"),
    },
    "original-int8": {
        1: ("331 µJ [326 µJ, 336 µJ]", "331 µJ [327 µJ, 336 µJ]", "82.9 µs"),
        4: ("308 µJ [306 µJ, 310 µJ]", "308 µJ [306 µJ, 310 µJ]", "77.1 µs"),
    },
    "distilled-int8": {
        1: ("47 µJ [47 µJ, 47.1 µJ]", "47.1 µJ [47 µJ, 47.1 µJ]", "11.8 µs"),
        4: ("24 µJ [23.6 µJ, 24.3 µJ]", "24 µJ [23.6 µJ, 24.4 µJ]", "6 µs"),
    },
}


@pytest.mark.parametrize("name", ["original", "original-int8", "distilled-int8"])
def test_table_figures_are_the_formatted_results(res, page_html, name):
    v = res["variants"][name]
    tables = parse(page_html)
    energy = row_of(tables, "energy", name)
    assert energy[2] == runtime_text(v)
    assert energy[3] == fmt.macs_text(v["counts"])
    assert energy[4] == fmt.bytes_text(v["size_bytes"])
    h = v["estimates"]["horowitz-45nm"]
    assert f"{fmt.fmt_j(h['low_j'])} - {fmt.fmt_j(h['high_j'])}" in energy
    assert res["config"]["batches"] == [1, 4]
    for b in (1, 4):
        for cell in BY_HAND[name][b]:
            assert cell in energy, (b, cell)
    acc = row_of(tables, "accuracy", name)
    assert acc[1:4] == ["66.67%", "50.00%", "0.4000"]  # 2/3, 1/2 and macro F1 0.4
    assert acc[5] == fmt.aha_cell(v["accuracy"])
    # Row for row, cell for cell, the same as report.md (energy, CO2e, accuracy, reproduced).
    html_rows = [row_of(tables, t, name) for t in ("energy", "carbon", "accuracy", "reproduced")]
    assert html_rows == md_rows(render_markdown(res), name)


def test_same_content_as_markdown(res, page_html):
    """Every table row and every line of report.md is in the page (markup aside)."""
    import html as _html

    md = render_markdown(res)
    rows = [r for t in parse(page_html).tables.values() for r in t]
    text = " ".join(_html.unescape(re.sub(r"<[^>]+>", "", page_html)).split())
    for line in md.splitlines():
        if line.startswith("|---") or not line.strip():
            continue
        if line.startswith("| "):
            cells = [c.strip().strip("`") for c in line.strip().strip("|").split(" | ")]
            assert cells in rows, line
        else:
            plain = re.sub(r"^(- |#+ )", "", line).replace("**", "").replace("`", "")
            words = " ".join(plain.split())
            assert words in text, line


def test_strings_from_results_are_escaped(res):
    evil = copy.deepcopy(res)
    evil["recommendation"]["reason"] = "<script>alert(1)</script> & more"
    evil["recommendation"]["excluded"]["<img src=x>"] = ["<b>bold</b>"]
    text = render_html(evil)
    assert "<script>alert" not in text and "<img src=x>" not in text and "<b>bold" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text


def with_gaps(res: dict) -> dict:
    """The fixture with one variant never measured or evaluated and one measurement failed."""
    out = copy.deepcopy(res)
    out["variants"]["distilled"]["measurements"] = {}
    out["variants"]["distilled"]["accuracy"] = None
    out["variants"]["original"]["measurements"]["1"] = {"batch": 1, "error": "meter failed"}
    out["variants"]["student-plain"]["layers"] = []
    return out


def test_plots_survive_missing_data(res):
    gappy = with_gaps(res)
    figures = [plots.energy_accuracy(gappy), plots.estimates_measured(gappy), plots.layers(gappy)]
    figures += [plots.confusion(gappy, n) for n in plots.evaluated(gappy)]
    assert len(figures) == expected_images(gappy) == expected_images(res) - 1
    for f in figures:
        assert f.png.startswith(b"\x89PNG\r\n\x1a\n") and f.alt and f.caption
    assert "distilled (not measured at batch 1)" in figures[0].caption
    assert "original (its measurement failed (meter failed))" in figures[0].caption
    assert "distilled (not measured at batch 1)" in figures[1].caption
    assert "student-plain (no per-layer counts)" in figures[2].caption
    text = render_html(gappy)
    assert text.count("<img ") == expected_images(gappy)
    assert "failed: meter failed" in text
    assert "No confusion matrix (not evaluated): <code>distilled</code>" in text


def test_recommended_variant_and_estimate_basis(res):
    chosen = copy.deepcopy(res)
    rec = chosen["recommendation"]
    rec.update(variant="distilled-int8", reason="distilled-int8 is the cheapest.",
               pareto=["distilled-int8", "original-int8"])  # fmt: skip
    rec["settings"]["energy"] = "estimate"
    f = plots.energy_accuracy(chosen)
    assert f.png.startswith(b"\x89PNG") and "the star marks the recommended variant" in f.caption
    text = render_html(chosen)
    assert "<strong>Deploy <code>distilled-int8</code>.</strong>" in text


def chromium_path() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").is_file()
                                        else None)  # fmt: skip
    if not path:
        pytest.skip("no chromium binary (install the Debian package `chromium`; `make browser`)")
    return path


def test_page_in_headless_chromium(res, page_html, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    executable = chromium_path()
    report = tmp_path / "report.html"
    report.write_text(page_html, encoding="utf-8")
    url = report.as_uri()
    errors, requests, refused = [], [], []

    def route(r):
        if r.request.url == url or r.request.url.startswith("data:"):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    start = time.monotonic()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(offline=True)
            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url, wait_until="load")
            images = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.alt])"
            )
            body = page.inner_text("body")
        finally:
            browser.close()
    assert not errors, errors
    assert not refused, f"the page asked the network for {refused}"
    assert all(u == url or u.startswith("data:") for u in requests), requests
    assert len(images) == expected_images(res)
    assert all(complete and width > 0 and alt for complete, width, alt in images), images
    assert res["recommendation"]["reason"] in body
    assert time.monotonic() - start < 60
